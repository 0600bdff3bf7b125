import test from 'ava';
import { MAC_BROADCAST } from '../../../protocol/eth.js';
import { Headroom, buildIcmp6, buildUdp4, buildUdp6 } from '../../../protocol/frame.js';
import { DHCLIENT6_SOLICIT, KERNEL_RS, UDHCPC_DISCOVER, dropReasonOf, testConfig, unhex } from './testdata.js';

const cfg = testConfig();
const GUEST = unhex('c61f45044e3d');
const LL = unhex('fe80000000000000c41f45fffe044e3d');

function udp4(dstPort: number): Uint8Array {
  const b = new Uint8Array(Headroom.Udp4 + 4);
  buildUdp4(b, 0, { dst: MAC_BROADCAST, src: GUEST }, { src: 0x0a000002, dst: 0x0a000001 }, 68, dstPort, 4);
  return b;
}

test('each service gets its own frames', (t) => {
  t.is(dropReasonOf(cfg, UDHCPC_DISCOVER), 'reply');
  t.is(dropReasonOf(cfg, KERNEL_RS), 'reply');
  t.is(dropReasonOf(cfg, DHCLIENT6_SOLICIT), 'reply');
});

test('anything else is not a guest service', (t) => {
  t.is(dropReasonOf(cfg, udp4(53)), 'not a guest service');
  const v6 = new Uint8Array(Headroom.Udp6 + 4);
  buildUdp6(v6, 0, { dst: MAC_BROADCAST, src: GUEST }, { src: LL, dst: LL }, 546, 548, 4);
  t.is(dropReasonOf(cfg, v6), 'not a guest service');
  const echo = new Uint8Array(Headroom.Icmp6 + 4);
  buildIcmp6(echo, 0, { dst: MAC_BROADCAST, src: GUEST }, { src: LL, dst: LL, hopLimit: 255 }, 128, 0, 0x10001, 4);
  t.is(dropReasonOf(cfg, echo), 'not a guest service');
});
