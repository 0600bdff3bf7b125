import test from 'ava';
import { parseIpv4, parseIpv6 } from '../../protocol/addr.js';
import { FrameClass, FrameClassifier, FrameKind, L4Kind, Verdict } from '../../protocol/classify.js';
import { verifyIpv4L4Checksum, verifyIpv6L4Checksum } from '../../protocol/checksum.js';
import { IpProto } from '../../protocol/ipv4.js';
import { buildUdpIcmpError, ErrOrigin, icmpForConnectError, icmpForSockErr, ICMP4_ERROR_MAX, ICMP6_ERROR_MAX, type QuotedDatagram } from './icmp-error.js';

const eth = { dst: new Uint8Array([2, 0, 0, 0, 0, 1]), src: new Uint8Array([0x9a, 0x55, 0x9a, 0x55, 0x9a, 0x55]) };
const err = (origin: number, type: number, code: number, info = 0, errno = 111) => ({ origin, type, code, info, errno });

test('ICMP errors map one to one; fragmentation needed and packet too big carry the MTU', (t) => {
  t.deepEqual(icmpForSockErr(4, err(ErrOrigin.Icmp, 3, 3)), { type: 3, code: 3, rest: 0 });
  t.deepEqual(icmpForSockErr(4, err(ErrOrigin.Icmp, 3, 1)), { type: 3, code: 1, rest: 0 });
  t.deepEqual(icmpForSockErr(4, err(ErrOrigin.Icmp, 3, 4, 1400, 90)), { type: 3, code: 4, rest: 1400 });
  t.deepEqual(icmpForSockErr(4, err(ErrOrigin.Icmp, 11, 0)), { type: 11, code: 0, rest: 0 });
  t.deepEqual(icmpForSockErr(6, err(ErrOrigin.Icmp6, 1, 4)), { type: 1, code: 4, rest: 0 });
  t.deepEqual(icmpForSockErr(6, err(ErrOrigin.Icmp6, 2, 0, 1280, 90)), { type: 2, code: 0, rest: 1280 });
  t.deepEqual(icmpForSockErr(6, err(ErrOrigin.Icmp6, 3, 1)), { type: 3, code: 1, rest: 0 });
});

test('a local EMSGSIZE becomes fragmentation needed / packet too big; other local errors nothing', (t) => {
  t.deepEqual(icmpForSockErr(4, err(ErrOrigin.Local, 0, 0, 1500, 90)), { type: 3, code: 4, rest: 1500 });
  t.deepEqual(icmpForSockErr(6, err(ErrOrigin.Local, 0, 0, 1500, 90)), { type: 2, code: 0, rest: 1500 });
  t.is(icmpForSockErr(4, err(ErrOrigin.Local, 0, 0, 0, 113)), null);
});

test('unknown types, a version mismatch and unknown origins give nothing', (t) => {
  t.is(icmpForSockErr(4, err(ErrOrigin.Icmp, 5, 0)), null);
  t.is(icmpForSockErr(4, err(ErrOrigin.Icmp, 3, 16)), null);
  t.is(icmpForSockErr(4, err(ErrOrigin.Icmp6, 1, 4)), null);
  t.is(icmpForSockErr(6, err(ErrOrigin.Icmp, 3, 3)), null);
  t.is(icmpForSockErr(6, err(ErrOrigin.Icmp6, 4, 0)), null);
  t.is(icmpForSockErr(4, err(9, 3, 3)), null);
});

test('a failed connect(): no route, no host, or policy become destination unreachable', (t) => {
  t.deepEqual(icmpForConnectError(4, 'ENETUNREACH'), { type: 3, code: 0, rest: 0 });
  t.deepEqual(icmpForConnectError(4, 'EHOSTUNREACH'), { type: 3, code: 1, rest: 0 });
  t.deepEqual(icmpForConnectError(4, 'EACCES'), { type: 3, code: 13, rest: 0 });
  t.deepEqual(icmpForConnectError(6, 'ENETUNREACH'), { type: 1, code: 0, rest: 0 });
  t.deepEqual(icmpForConnectError(6, 'EHOSTUNREACH'), { type: 1, code: 3, rest: 0 });
  t.deepEqual(icmpForConnectError(6, 'EPERM'), { type: 1, code: 1, rest: 0 });
  t.is(icmpForConnectError(4, 'EMFILE'), null);
});

function quote(family: 4 | 6, len: number, fullLen = len): QuotedDatagram {
  const src = new Uint8Array(len + 3).map((_, i) => i & 0xff);
  const parse = family === 4 ? parseIpv4 : parseIpv6;
  return {
    family, guest: parse(family === 4 ? '10.0.2.15' : 'fd00::15')!, guestPort: 40000,
    remote: parse(family === 4 ? '10.0.2.2' : 'fd00::2')!, remotePort: 53, src, off: 3, len: len - 0, fullLen,
  };
}

for (const family of [4, 6] as const) {
  test(`IPv${family}: the error comes from the remote to the guest and quotes the datagram as the guest sent it`, (t) => {
    const buf = new Uint8Array(ICMP6_ERROR_MAX + 64).fill(0xa5);
    const q = quote(family, 20);
    const msg = family === 4 ? { type: 3, code: 3, rest: 0 } : { type: 1, code: 4, rest: 0 };
    const n = buildUdpIcmpError(buf, 0, eth, msg, q);
    const fc = new FrameClass();
    t.is(new FrameClassifier().classify(buf, 0, n, fc), Verdict.Ok);
    t.is(fc.kind, family === 4 ? FrameKind.Ipv4 : FrameKind.Ipv6);
    t.is(fc.l4, family === 4 ? L4Kind.Icmp : L4Kind.Icmpv6);
    t.deepEqual([fc.icmpType, fc.icmpCode], [msg.type, msg.code]);
    t.deepEqual(buf.subarray(fc.srcAddrOff, fc.srcAddrOff + fc.addrLen), q.remote);
    t.deepEqual(buf.subarray(fc.dstAddrOff, fc.dstAddrOff + fc.addrLen), q.guest);
    t.deepEqual(buf.subarray(0, 6), eth.dst);
    t.true(family === 4 ? verifyIpv4L4Checksum(buf, 14) : verifyIpv6L4Checksum(buf, 14, 54, IpProto.Icmpv6));
    // the quote: inner IP (guest -> remote, UDP), inner UDP (40000 -> 53, length 8 + 20), the payload
    const inner = fc.payloadOff;
    const innerFc = new FrameClass();
    const innerFrame = new Uint8Array(14 + n - inner);
    innerFrame.set(buf.subarray(0, 14));
    innerFrame.set(buf.subarray(inner, n), 14);
    t.is(new FrameClassifier().classify(innerFrame, 0, innerFrame.length, innerFc), Verdict.Ok);
    t.deepEqual([innerFc.l4, innerFc.srcPort, innerFc.dstPort, innerFc.payloadLen], [L4Kind.Udp, 40000, 53, 20]);
    t.deepEqual(innerFrame.subarray(innerFc.srcAddrOff, innerFc.srcAddrOff + innerFc.addrLen), q.guest);
    t.deepEqual(innerFrame.subarray(innerFc.payloadOff, innerFc.payloadOff + 20), q.src.subarray(3, 23));
  });

  test(`IPv${family}: a long datagram is quoted only up to the size limit, with its full length in the headers`, (t) => {
    const buf = new Uint8Array(ICMP6_ERROR_MAX + 64).fill(0xa5);
    const q = quote(family, 3000, 5000);
    const n = buildUdpIcmpError(buf, 0, eth, family === 4 ? { type: 3, code: 3, rest: 0 } : { type: 1, code: 4, rest: 0 }, q);
    t.is(n - 14, family === 4 ? ICMP4_ERROR_MAX : ICMP6_ERROR_MAX);
    const inner = 14 + (family === 4 ? 20 : 40) + 8;
    const udpLen = (buf[inner + (family === 4 ? 20 : 40) + 4]! << 8) | buf[inner + (family === 4 ? 20 : 40) + 5]!;
    t.is(udpLen, 8 + 5000);
    t.true(family === 4 ? verifyIpv4L4Checksum(buf, 14) : verifyIpv6L4Checksum(buf, 14, 54, IpProto.Icmpv6));
  });
}
