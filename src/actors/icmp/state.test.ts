import test from 'ava';
import { parseIpv6 } from '../../protocol/addr.js';
import { csumPartial, verifyIpv4L4Checksum, verifyIpv6L4Checksum } from '../../protocol/checksum.js';
import { FrameClass, FrameClassifier, Verdict } from '../../protocol/classify.js';
import { Headroom, buildIcmp4, buildIcmp6 } from '../../protocol/frame.js';
import { IpProto } from '../../protocol/ipv4.js';
import {
  ECHO_IDLE_MS, EchoFlowTable, ReplyScratch, completeEchoReply, echoFlowInfo, echoMessageOffset, echoRequestDrop, flowKey, hostPeerOf,
  type EchoConfig,
} from './state.js';

const GUEST_MAC = Uint8Array.of(0x52, 0xef, 0xc4, 0xb6, 0x5b, 0x02);
const OUR_MAC = Uint8Array.of(0x02, 0xfc, 0, 0, 0, 1);
const v6 = (s: string): Uint8Array => parseIpv6(s)!;
const v4 = (...o: number[]): Uint8Array => Uint8Array.from(o);
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

const CFG: EchoConfig = { gw4: 0x0a000001, gw6: v6('fd00::1'), linkLocal6: v6('fe80::1'), noMapGw: false };

function classify(frame: Uint8Array): FrameClass {
  const fc = new FrameClass();
  if (new FrameClassifier().classify(frame, 0, frame.length, fc) !== Verdict.Ok) throw new Error('frame not Ok');
  return fc;
}

function echo4(type: number, code = 0, id = 0x1234): Uint8Array {
  const b = new Uint8Array(Headroom.Icmp4 + 8);
  buildIcmp4(b, 0, { dst: OUR_MAC, src: GUEST_MAC }, { src: 0x0a000002, dst: 0x0a4d0101 }, type, code, (id << 16) | 1, 8);
  return b;
}

function echo6(type: number, id = 0x1234): Uint8Array {
  const b = new Uint8Array(Headroom.Icmp6 + 8);
  buildIcmp6(b, 0, { dst: OUR_MAC, src: GUEST_MAC }, { src: v6('fd00::2'), dst: v6('fd77:1::1') }, type, 0, (id << 16) | 1, 8);
  return b;
}

test('flow keys: exact for IPv4, distinct per identifier and family', (t) => {
  const a = v4(10, 0, 0, 1), b = v4(10, 0, 0, 2);
  t.not(flowKey(4, a, 0, 1), flowKey(4, b, 0, 1));
  t.not(flowKey(4, a, 0, 1), flowKey(4, a, 0, 2));
  const x = v6('fd00::1');
  t.not(flowKey(6, x, 0, 1), flowKey(6, x, 0, 2));
  t.true(Number.isSafeInteger(flowKey(6, x, 0, 0xffff)));
  t.true(Number.isSafeInteger(flowKey(4, v4(255, 255, 255, 255), 0, 0xffff)));
});

test('the table finds flows by (family, peer, id), reuses slots with a new generation, and has a maximum', (t) => {
  const table = new EchoFlowTable(2);
  const peer = v4(10, 77, 1, 1);
  const f = table.add(4, peer, 0, 7, 1000)!;
  t.is(table.find(4, peer, 0, 7), f);
  t.is(table.find(4, peer, 0, 8), undefined);
  t.is(table.find(6, new Uint8Array(16), 0, 7), undefined);
  t.is(table.at(f.slot, f.gen), f);
  const g = table.add(6, v6('fd77:1::1'), 0, 7, 1000)!;
  t.is(table.find(6, v6('fd77:1::1'), 0, 7), g);
  t.is(table.add(4, v4(1, 2, 3, 4), 0, 1, 1000), null, 'full');
  const gen = f.gen;
  table.close(f);
  t.is(table.at(f.slot, gen), undefined);
  t.is(table.find(4, peer, 0, 7), undefined);
  t.throws(() => table.close(f));
  const h = table.add(4, v4(1, 2, 3, 4), 0, 1, 2000)!;
  t.is(h.slot, f.slot, 'slot reused');
  t.not(h.gen, gen, 'with a new generation');
  t.is(table.at(h.slot, gen), undefined, 'a stale readiness report finds nothing');
  t.is(table.size, 2);
});

test('idle flows are those unused for the idle time', (t) => {
  const table = new EchoFlowTable();
  const a = table.add(4, v4(1, 1, 1, 1), 0, 1, 0)!;
  const b = table.add(4, v4(1, 1, 1, 2), 0, 1, 0)!;
  b.lastUse = 30_000;
  t.deepEqual(table.idle(60_000), [a]);
  t.deepEqual(table.idle(90_000), [a, b]);
});

test('only echo requests with code 0 and no fragmentation are forwarded', (t) => {
  t.is(echoRequestDrop(classify(echo4(8))), null);
  t.is(echoRequestDrop(classify(echo6(128))), null);
  t.is(echoRequestDrop(classify(echo4(0))), 'not-echo-request');
  t.is(echoRequestDrop(classify(echo4(13))), 'not-echo-request');
  t.is(echoRequestDrop(classify(echo6(129))), 'not-echo-request');
  t.is(echoRequestDrop(classify(echo4(8, 1))), 'echo-code');
  const frag = echo4(8);
  frag[14 + 6] = 0x20; // more fragments
  t.is(echoRequestDrop(classify(frag)), 'fragment');
});

test('the gateway and our link-local address are the host loopback, unless --no-map-gw', (t) => {
  t.is(hostPeerOf(4, v4(10, 0, 0, 1), 0, CFG), '127.0.0.1');
  t.is(hostPeerOf(4, v4(10, 77, 1, 1), 0, CFG), '10.77.1.1');
  t.is(hostPeerOf(6, v6('fd00::1'), 0, CFG), '::1');
  t.is(hostPeerOf(6, v6('fe80::1'), 0, CFG), '::1');
  t.is(hostPeerOf(6, v6('fd77:1::1'), 0, CFG), 'fd77:1::1');
  const noMap = { ...CFG, noMapGw: true };
  t.is(hostPeerOf(4, v4(10, 0, 0, 1), 0, noMap), '10.0.0.1');
  t.is(hostPeerOf(6, v6('fd00::1'), 0, noMap), 'fd00::1');
  t.is(hostPeerOf(6, v6('fe80::1'), 0, noMap), null, 'a link-local peer needs a scope');
});

test('peers a ping socket cannot reach for the guest are refused', (t) => {
  for (const a of [v4(0, 0, 0, 0), v4(255, 255, 255, 255), v4(224, 0, 0, 1), v4(127, 0, 0, 1)]) t.is(hostPeerOf(4, a, 0, CFG), null);
  for (const a of ['::', '::1', 'ff02::1', 'fe80::99']) t.is(hostPeerOf(6, v6(a), 0, CFG), null, a);
});

test('an IPv4 echo reply read from the ping socket becomes a frame for the guest (golden bytes)', (t) => {
  const table = new EchoFlowTable();
  const flow = table.add(4, v4(10, 0, 0, 1), 0, 0x1234, 0)!;
  flow.guest.set(v4(10, 0, 0, 2));
  const buf = new Uint8Array(80).fill(0xa5);
  const at = echoMessageOffset(4);
  t.is(at, 34);
  // as the kernel gives it: the socket's own identifier 0x703f, checksum for that one
  buf.set(Buffer.from('00004777703f0001616161616161616161616161', 'hex'), at);
  const len = completeEchoReply(buf, flow, 20, GUEST_MAC, OUR_MAC, new ReplyScratch(), csumPartial);
  t.is(len, 54);
  t.is(
    hex(buf.subarray(0, 54)),
    '52efc4b65b02' + '02fc00000001' + '0800' +
      '45000028' + '00000000' + '4001' + '66d3' + '0a000001' + '0a000002' +
      '0000' + 'a582' + '1234' + '0001' + '616161616161616161616161',
  );
  t.true(buf.subarray(54).every((x) => x === 0xa5));
  t.true(verifyIpv4L4Checksum(buf, 14));
  const fc = classify(buf.subarray(0, 54));
  t.is(fc.echoId, 0x1234);
  t.is(fc.icmpType, 0);
});

test('an IPv6 echo reply gets the guest identifier, the peer as source and a valid checksum', (t) => {
  const table = new EchoFlowTable();
  const flow = table.add(6, v6('fd77:1::1'), 0, 0xbeef, 0)!;
  flow.guest.set(v6('fd77::2'));
  const buf = new Uint8Array(100).fill(0xa5);
  const at = echoMessageOffset(6);
  buf.set(Buffer.from('8100c62570400001616161616161616161616161', 'hex'), at);
  const len = completeEchoReply(buf, flow, 20, GUEST_MAC, OUR_MAC, new ReplyScratch(), csumPartial);
  t.is(len, 74);
  const fc = classify(buf.subarray(0, 74));
  t.is(fc.echoId, 0xbeef);
  t.is(fc.ipProto, IpProto.Icmpv6);
  t.is(hex(buf.subarray(fc.srcAddrOff, fc.srcAddrOff + 16)), hex(v6('fd77:1::1')));
  t.is(hex(buf.subarray(fc.dstAddrOff, fc.dstAddrOff + 16)), hex(v6('fd77::2')));
  t.true(verifyIpv6L4Checksum(buf, 14, 54, IpProto.Icmpv6));
});

test('anything but an echo reply from the socket is dropped, short messages too', (t) => {
  const table = new EchoFlowTable();
  const flow = table.add(4, v4(10, 0, 0, 1), 0, 1, 0)!;
  const buf = new Uint8Array(80);
  buf[34] = 3;
  t.is(completeEchoReply(buf, flow, 20, GUEST_MAC, OUR_MAC, new ReplyScratch(), csumPartial), 'not-echo-reply');
  buf[34] = 0;
  t.is(completeEchoReply(buf, flow, 7, GUEST_MAC, OUR_MAC, new ReplyScratch(), csumPartial), 'short-reply');
});

test('echoFlowInfo: the peer and the guest with the echo identifier, and when the flow expires', (t) => {
  const table = new EchoFlowTable(4);
  const f = table.add(4, v4(10, 77, 1, 1), 0, 7, 1000)!;
  f.guest.set([10, 77, 0, 2]);
  t.deepEqual(echoFlowInfo(f, 1500), {
    proto: 'icmp', dir: 'out', path: 'tap', guest: '10.77.0.2:7', remote: '10.77.1.1:7', state: 'echo', idleMs: 500, expiresInMs: ECHO_IDLE_MS - 500,
  });
  const g = table.add(6, v6('fd77:1::1'), 0, 9, 1000)!;
  t.like(echoFlowInfo(g, 1000), { remote: '[fd77:1::1]:9' });
});
