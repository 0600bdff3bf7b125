import test from 'ava';
import { hostListeningPorts, mirroredPorts } from './auto.js';

// Lines as the kernel writes them: sl, local, remote, state (0A = LISTEN, 01 = ESTABLISHED), ...
const TCP4 = [
  '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
  '   0: 0100007F:1538 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 101 1 0 100 0 0 10 0',
  '   1: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 102 1 0 100 0 0 10 0',
  '   2: 0100007F:8AE2 0100007F:1538 01 00000000:00000000 00:00000000 00000000     0        0 103 1 0 20 4 30 10 -1',
].join('\n');
const TCP6 = [
  '  sl  local_address                         remote_address                        st tx_queue rx_queue',
  '   0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000',
  '   1: 00000000000000000000000000000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000',
].join('\n');

test('hostListeningPorts: listening sockets on any address, loopback included; not connections', (t) => {
  t.deepEqual([...hostListeningPorts(TCP4)].sort((a, b) => a - b), [22, 5432]);
  t.deepEqual([...hostListeningPorts(TCP6)].sort((a, b) => a - b), [80, 8080]);
});

test('hostListeningPorts: headers, blank and malformed lines are ignored', (t) => {
  t.deepEqual([...hostListeningPorts('')], []);
  t.deepEqual([...hostListeningPorts('garbage\n 0: zz:zz 0:0 0A\n   1: 0100007F:0000 00000000:0000 0A\n')], []);
});

test('mirroredPorts: both files, minus the ports our -t listeners hold', (t) => {
  t.deepEqual([...mirroredPorts([TCP4, TCP6], new Set([22, 80]))].sort((a, b) => a - b), [5432, 8080]);
  t.deepEqual([...mirroredPorts([TCP4], new Set())].sort((a, b) => a - b), [22, 5432]);
});
