import test from 'ava';
import { autoPorts, boundPorts, hostUdpPorts, isLoopbackHex, ProcState } from './procnet.js';

// Captured from a namespace: 0.0.0.0:53 (unconnected), 127.0.0.53:53 (loopback), 10.0.2.15:40000
// connected to 10.0.2.2:53 (state 01), 0.0.0.0:5000 (unconnected)
const UDP = `   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  113: 00000000:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 20001 2 0000000000000000 0
  114: 3500007F:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 20002 2 0000000000000000 0
  200: 0F02000A:9C40 0202000A:0035 01 00000000:00000000 00:00000000 00000000     0        0 20003 2 0000000000000000 0
  301: 00000000:1388 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 20004 2 0000000000000000 0
`;
// [::]:5353, [::1]:6000, [::ffff:127.0.0.1]:6001, [fd00::2]:7000
const UDP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  10: 00000000000000000000000000000000:14E9 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1 2 0000000000000000 0
  11: 00000000000000000000000001000000:1770 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 2 2 0000000000000000 0
  12: 0000000000000000FFFF00000100007F:1771 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 3 2 0000000000000000 0
  13: 000000FD000000000000000002000000:1B58 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4 2 0000000000000000 0
`;
// a listener on 0.0.0.0:8080, an established connection from port 8080
const TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0000000000000000 100 0 0 10 0
   1: 0F02000A:1F90 0202000A:C000 01 00000000:00000000 00:00000000 00000000     0        0 2 1 0000000000000000 100 0 0 10 0
`;

test('unconnected UDP sockets not bound to loopback', (t) => {
  t.deepEqual([...boundPorts(UDP, ProcState.UdpUnconnected, new Set())].sort((a, b) => a - b), [53, 5000]);
  t.deepEqual([...boundPorts(UDP6, ProcState.UdpUnconnected, new Set())].sort((a, b) => a - b), [5353, 7000]);
});

test('TCP listeners', (t) => {
  t.deepEqual([...boundPorts(TCP, ProcState.TcpListen, new Set())], [8080]);
});

test('auto ports: UDP, plus TCP listeners when UDP follows TCP', (t) => {
  t.deepEqual([...autoPorts({ udp: [UDP, UDP6], tcp: [TCP] }, false)].sort((a, b) => a - b), [53, 5000, 5353, 7000]);
  t.deepEqual([...autoPorts({ udp: [UDP, UDP6], tcp: [TCP] }, true)].sort((a, b) => a - b), [53, 5000, 5353, 7000, 8080]);
});

test('loopback in /proc/net hex', (t) => {
  t.true(isLoopbackHex('0100007F'));
  t.true(isLoopbackHex('3500007f'));
  t.false(isLoopbackHex('0F02000A'));
  t.true(isLoopbackHex('00000000000000000000000001000000'));
  t.true(isLoopbackHex('0000000000000000FFFF00000100007F'));
  t.false(isLoopbackHex('00000000000000000000000000000000'));
});

test('junk, headers, short lines and empty text give nothing, never a throw', (t) => {
  for (const text of ['', 'garbage', '  1: zz:zz 0 07', '  1: 00000000:0000 00000000:0000 07', UDP.slice(0, 200)]) {
    t.notThrows(() => boundPorts(text, ProcState.UdpUnconnected, new Set()));
  }
  t.is(boundPorts('  1: 00000000:0000 00000000:0000 07', ProcState.UdpUnconnected, new Set()).size, 0, 'port 0');
});

test('-U auto: the host\'s unconnected UDP ports, loopback-bound ones included, connected ones not', (t) => {
  t.deepEqual([...hostUdpPorts([UDP, UDP6])].sort((a, b) => a - b), [53, 5000, 5353, 6000, 6001, 7000]);
  t.deepEqual([...boundPorts(UDP, ProcState.UdpUnconnected, new Set(), true)].sort((a, b) => a - b), [53, 5000]);
  t.false(hostUdpPorts([UDP]).has(40000), 'a connected socket is no service');
  t.is(hostUdpPorts([]).size, 0);
});
