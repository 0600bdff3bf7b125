import test from 'ava';
import { parseIp } from '../../protocol/addr.js';
import { csumPartial, verifyIpv4L4Checksum, verifyIpv6L4Checksum } from '../../protocol/checksum.js';
import { FrameClass, FrameClassifier, L4Kind, Verdict } from '../../protocol/classify.js';
import { dataViewOf, MAC_BROADCAST } from '../../protocol/eth.js';
import { TcpFlag, TcpOptions, TcpView, parseTcpOptions } from '../../protocol/tcp.js';
import { SegmentWriter } from './segment.js';
import type { FlowAddr } from './state.js';

const OUR_MAC = Uint8Array.from([2, 0, 0, 0, 0, 1]);
const GUEST_MAC = Uint8Array.from([2, 0, 0, 0, 0, 2]);

const addr = (family: 4 | 6): FlowAddr =>
  family === 4
    ? { family, guest: parseIp('10.0.0.2')!, guestPort: 40000, remote: parseIp('10.0.0.1')!, remotePort: 80 }
    : { family, guest: parseIp('fd00::2')!, guestPort: 40000, remote: parseIp('fd00::1')!, remotePort: 80 };

function classify(buf: Uint8Array, len: number): FrameClass {
  const fc = new FrameClass();
  if (new FrameClassifier().classify(buf, 0, len, fc) !== Verdict.Ok) throw new Error('frame does not classify');
  return fc;
}

for (const family of [4, 6] as const) {
  test(`IPv${family} data segment: payload in place, headers and checksum right`, (t) => {
    const w = new SegmentWriter(OUR_MAC, csumPartial);
    w.setGuestMac(GUEST_MAC);
    const payload = Uint8Array.from({ length: 1001 }, (_, i) => i & 0xff);
    w.buf.set(payload, w.payloadOffset(family));
    const len = w.write(addr(family), TcpFlag.Ack | TcpFlag.Psh, 0xfffffff0, 1234, 512, payload.length);
    const fc = classify(w.buf, len);
    t.is(fc.l4, L4Kind.Tcp);
    t.is(fc.srcPort, 80);
    t.is(fc.dstPort, 40000);
    t.is(fc.payloadLen, 1001);
    t.is(fc.payloadOff, w.payloadOffset(family));
    t.deepEqual(w.buf.subarray(0, 6), GUEST_MAC);
    t.deepEqual(w.buf.subarray(6, 12), OUR_MAC);
    const ok = family === 4 ? verifyIpv4L4Checksum(w.buf, 14) : verifyIpv6L4Checksum(w.buf, 14, fc.l4Off, 6);
    t.true(ok);
    const v = new TcpView();
    t.true(v.wrap(dataViewOf(w.buf), fc.l4Off, fc.l4Len));
    t.is(v.seqNumber, 0xfffffff0);
    t.is(v.ackNumber, 1234);
    t.is(v.window, 512);
    t.is(v.flags, TcpFlag.Ack | TcpFlag.Psh);
  });

  test(`IPv${family} SYN-ACK carries MSS and window scale`, (t) => {
    const w = new SegmentWriter(OUR_MAC, csumPartial);
    const len = w.writeSyn(addr(family), TcpFlag.Syn | TcpFlag.Ack, 7, 8, 65535, 65460, 8);
    const fc = classify(w.buf, len);
    t.deepEqual(w.buf.subarray(0, 6), MAC_BROADCAST, 'broadcast until the guest MAC is known');
    const v = new TcpView();
    t.true(v.wrap(dataViewOf(w.buf), fc.l4Off, fc.l4Len));
    const o = new TcpOptions();
    t.true(parseTcpOptions(v, o));
    t.is(o.mss, 65460);
    t.is(o.wscale, 8);
    t.is(v.payloadLen, 0);
    t.true(family === 4 ? verifyIpv4L4Checksum(w.buf, 14) : verifyIpv6L4Checksum(w.buf, 14, fc.l4Off, 6));
    const noWs = w.writeSyn(addr(family), TcpFlag.Syn, 7, 0, 65535, 1460, -1);
    const fc2 = classify(w.buf, noWs);
    t.true(v.wrap(dataViewOf(w.buf), fc2.l4Off, fc2.l4Len));
    parseTcpOptions(v, o);
    t.is(o.wscale, -1);
    t.is(o.mss, 1460);
  });
}
