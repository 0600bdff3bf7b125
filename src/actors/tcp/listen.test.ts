import test from 'ava';
import { portForwardFromSpecs, type PortForward } from '../../config/portspec.js';
import { autoListeners, diffListeners, listenKey, listeningPorts, staticListeners } from './listen.js';

const both = { v4: true, v6: true };
const parseMode = (option: string, spec: string): PortForward =>
  portForwardFromSpecs([spec], { option, mode: 'pasta', allowBind: true }, 'none');

// Lines as Linux prints them (header, a listener on 0.0.0.0:8080, one on 127.0.0.1:631, an established one).
const TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 1 0000000000000000 100 0 0 10 0
   1: 0100007F:0277 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12346 1 0000000000000000 100 0 0 10 0
   2: 0200000A:C350 0100000A:0016 01 00000000:00000000 02:00000A5A 00000000     0        0 12347 2 0000000000000000 20 4 30 10 -1
`;
// [::]:22 listening, [::1]:25 listening, [::ffff:127.0.0.1]:26 listening
const TCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0
   1: 00000000000000000000000001000000:0019 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1 0 100 0 0 10 0
   2: 0000000000000000FFFF00000100007F:001A 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3 1 0 100 0 0 10 0
`;

test('listeningPorts: LISTEN sockets not bound to loopback, from tcp and tcp6', (t) => {
  const ports = listeningPorts(TCP6, listeningPorts(TCP));
  t.deepEqual([...ports].sort((a, b) => a - b), [22, 8080]);
});

test('listeningPorts ignores garbage', (t) => {
  t.is(listeningPorts('nonsense\n\n   x: y z 0A\n').size, 0);
});

test('staticListeners: translated range on both versions', (t) => {
  const l = staticListeners(parseMode('-t', '22-23:2022-2023'), both);
  t.deepEqual(l.map((s) => [s.family, s.port, s.target]), [[4, 22, 2022], [4, 23, 2023], [6, 22, 2022], [6, 23, 2023]]);
});

test('staticListeners: an address binds one version only; an interface is kept', (t) => {
  const l = staticListeners(parseMode('-t', '127.0.0.1/80'), both);
  t.deepEqual(l, [{ family: 4, addr: '127.0.0.1', ifname: null, port: 80, target: 80 }]);
  const l6 = staticListeners(parseMode('-t', '::1%lo/81'), both);
  t.deepEqual(l6, [{ family: 6, addr: '::1', ifname: 'lo', port: 81, target: 81 }]);
  t.deepEqual(staticListeners(parseMode('-t', '::1/81'), { v4: true, v6: false }), []);
});

test('staticListeners: none and auto open nothing statically', (t) => {
  t.deepEqual(staticListeners({ mode: 'none', ranges: [] }, both), []);
  t.deepEqual(staticListeners({ mode: 'auto', ranges: [] }, both), []);
});

test('autoListeners and diffListeners', (t) => {
  const wanted = autoListeners(new Set([8080, 22]), { v4: true, v6: false });
  t.deepEqual(wanted.map((s) => s.port), [22, 8080]);
  const open = [listenKey({ family: 4, addr: null, ifname: null, port: 22, target: 22 }), 'stale'];
  const d = diffListeners(open, wanted);
  t.deepEqual(d.add.map((s) => s.port), [8080]);
  t.deepEqual(d.remove, ['stale']);
});
