import test from 'ava';
import { formatIpv6 } from './addr.js';
import {
  FrameClass, FrameClassifier, FrameKind, L4Kind, VERDICT_COUNT, Verdict, VerdictName, classifyFrame, flowHash,
  flowKey,
} from './classify.js';
import { IpProto } from './ipv4.js';
import { fromHex as hex, inA5 } from './test-bytes.js';

// Golden frames from the guest, each checked with tcpdump -vv.
const ARP_REQUEST = hex(
  'ffffffffffff 525400123456 0806',
  '0001 0800 06 04 0001 525400123456 0a00020f 000000000000 0a000202',
);
const TCP_SYN4 = hex(
  '9a559a559a55 525400123456 0800',
  '4500 003c 1c46 4000 40 06 dc8c 0a00020f 5db8d822',
  'a8ca 0050 12345678 00000000 a0 02 faf0 f558 0000 020405b4 0402 080a 01020304 00000000 01 030307',
);
const TCP_SYN6 = hex(
  '9a559a559a55 525400123456 86dd',
  '60012345 0028 06 40 fd000000000000000000000000000002 20010db8000000000000000000000001',
  'a8ca 01bb 89abcdef 00000000 a0 02 fd20 19fc 0000 020405b4 0402 080a 01020304 00000000 01 030307',
);
const TCP_ACK4 = hex(
  '9a559a559a55 525400123456 0800',
  '4500 0028 1c47 4000 40 06 dc9f 0a00020f 5db8d822',
  'a8ca 0050 12345679 cafebabe 50 10 01f6 d46f 0000',
);
const UDP_DNS4 = hex(
  '9a559a559a55 525400123456 0800',
  '4500 0039 0001 0000 40 11 62a2 0a00020f 0a000203',
  'cf08 0035 0025 9d19 abcd 0100 0001 0000 0000 0000 076578616d706c6503636f6d00 0001 0001',
);
const UDP_DNS6 = hex(
  '9a559a559a55 525400123456 86dd',
  '60000000 0025 11 40 fd000000000000000000000000000002 fd000000000000000000000000000003',
  '9c40 0035 0025 6c86 1234 0100 0001 0000 0000 0000 076578616d706c6503636f6d00 001c 0001',
);
const DATA = '101112131415161718191a1b1c1d1e1f 202122232425262728292a2b2c2d2e2f';
const ICMP_ECHO4 = hex(
  '9a559a559a55 525400123456 0800',
  '4500 003c beef 4000 40 01 63c1 0a00020f 0a000202',
  '08 00 f3c8 1234 0001', DATA,
);
const ICMP_ECHO6 = hex(
  '9a559a559a55 525400123456 86dd',
  '60000000 0028 3a 40 fd000000000000000000000000000002 fd000000000000000000000000000001',
  '80 00 506e 4321 0007', DATA,
);
const NDP_NS = hex(
  '3333ff000001 525400123456 86dd',
  '60000000 0020 3a ff fe80000000000000505400fffe123456 ff0200000000000000000001ff000001',
  '87 00 73a2 00000000 fd000000000000000000000000000001 0101 525400123456',
);
const MLD_HBH = hex(
  '333300000016 525400123456 86dd',
  '60000000 0024 00 01 fe800000000000005054 00fffe123456 ff020000000000000000000000000016',
  '3a 00 05020000 0100',
  '8f 00 b8e4 0000 0001 04 00 0000 ff0200000000000000000001ff123456',
);
const GOLDEN: Record<string, Uint8Array> = {
  ARP_REQUEST, TCP_SYN4, TCP_SYN6, TCP_ACK4, UDP_DNS4, UDP_DNS6, ICMP_ECHO4, ICMP_ECHO6, NDP_NS, MLD_HBH,
};

const OFF = 5;
/** Classifies `frame` placed at OFF in a 0xa5 buffer, with `len` (default: the whole frame). */
function classify(frame: Uint8Array, len = frame.length, size?: number): [Verdict, FrameClass] {
  const fc = new FrameClass();
  return [classifyFrame(inA5(frame, OFF, size), OFF, len, fc), fc];
}
const mutate = (frame: Uint8Array, at: number, value: number): Uint8Array => {
  const b = frame.slice();
  b[at] = value;
  return b;
};

test('ARP request', (t) => {
  const [v, fc] = classify(ARP_REQUEST);
  t.is(v, Verdict.Ok);
  t.is(fc.kind, FrameKind.Arp);
  t.is(fc.etherType, 0x0806);
  t.is(fc.arpOp, 1);
  t.deepEqual([fc.l3Off, fc.l3Len, fc.src4, fc.dst4, fc.addrLen], [OFF + 14, 28, 0x0a00020f, 0x0a000202, 4]);
  t.deepEqual([fc.srcAddrOff, fc.dstAddrOff], [OFF + 28, OFF + 38]);
  t.is(fc.l4, L4Kind.None);
  t.is(fc.ipProto, -1);
});

test('TCP SYN over IPv4', (t) => {
  const [v, fc] = classify(TCP_SYN4);
  t.is(v, Verdict.Ok);
  t.is(fc.kind, FrameKind.Ipv4);
  t.deepEqual([fc.l3Off, fc.l3Len, fc.ipProto, fc.l4], [OFF + 14, 60, IpProto.Tcp, L4Kind.Tcp]);
  t.deepEqual([fc.src4, fc.dst4, fc.srcAddrOff, fc.dstAddrOff, fc.addrLen],
    [0x0a00020f, 0x5db8d822, OFF + 26, OFF + 30, 4]);
  t.deepEqual([fc.srcPort, fc.dstPort, fc.tcpFlags, fc.ttl, fc.fragment], [43210, 80, 0x02, 64, false]);
  t.deepEqual([fc.l4Off, fc.l4Len, fc.payloadOff, fc.payloadLen], [OFF + 34, 40, OFF + 74, 0]);
  t.is(fc.echoId, -1);
});

test('TCP SYN over IPv6', (t) => {
  const fc = new FrameClass();
  const b = inA5(TCP_SYN6, OFF);
  t.is(classifyFrame(b, OFF, TCP_SYN6.length, fc), Verdict.Ok);
  t.is(fc.kind, FrameKind.Ipv6);
  t.deepEqual([fc.l3Len, fc.l4, fc.srcPort, fc.dstPort, fc.ttl, fc.addrLen], [80, L4Kind.Tcp, 43210, 443, 64, 16]);
  t.is(formatIpv6(b, fc.srcAddrOff), 'fd00::2');
  t.is(formatIpv6(b, fc.dstAddrOff), '2001:db8::1');
  t.deepEqual([fc.src4, fc.dst4], [0, 0]);
  t.deepEqual([fc.l4Off, fc.l4Len, fc.payloadOff, fc.payloadLen], [OFF + 54, 40, OFF + 94, 0]);
});

test('UDP DNS queries over IPv4 and IPv6', (t) => {
  const [v, fc] = classify(UDP_DNS4);
  t.is(v, Verdict.Ok);
  t.deepEqual([fc.l4, fc.srcPort, fc.dstPort, fc.l4Len, fc.payloadOff, fc.payloadLen],
    [L4Kind.Udp, 53000, 53, 37, OFF + 42, 29]);
  const [v6, fc6] = classify(UDP_DNS6);
  t.is(v6, Verdict.Ok);
  t.deepEqual([fc6.kind, fc6.l4, fc6.srcPort, fc6.dstPort, fc6.payloadOff, fc6.payloadLen],
    [FrameKind.Ipv6, L4Kind.Udp, 40000, 53, OFF + 62, 29]);
});

test('ICMP and ICMPv6 echo requests carry their id', (t) => {
  const [v, fc] = classify(ICMP_ECHO4);
  t.is(v, Verdict.Ok);
  t.deepEqual([fc.l4, fc.icmpType, fc.icmpCode, fc.echoId, fc.srcPort, fc.payloadOff, fc.payloadLen],
    [L4Kind.Icmp, 8, 0, 0x1234, 0, OFF + 42, 32]);
  const [v6, fc6] = classify(ICMP_ECHO6);
  t.is(v6, Verdict.Ok);
  t.deepEqual([fc6.l4, fc6.icmpType, fc6.echoId, fc6.payloadLen], [L4Kind.Icmpv6, 128, 0x4321, 32]);
});

test('neighbour solicitation, and MLD behind a hop-by-hop header', (t) => {
  const [v, fc] = classify(NDP_NS);
  t.is(v, Verdict.Ok);
  t.deepEqual([fc.l4, fc.icmpType, fc.echoId, fc.ttl, fc.l4Off, fc.l4Len, fc.payloadLen],
    [L4Kind.Icmpv6, 135, -1, 255, OFF + 54, 32, 24]);
  const [vm, fm] = classify(MLD_HBH);
  t.is(vm, Verdict.Ok);
  t.deepEqual([fm.ipProto, fm.l4, fm.icmpType, fm.l4Off, fm.l4Len, fm.l3Len],
    [58, L4Kind.Icmpv6, 143, OFF + 62, 28, 76]);
});

test('frames padded to 60 bytes: payload bounded by the IP length', (t) => {
  const arp = inA5(ARP_REQUEST, 0, 60).fill(0, 42); // a real link pads with zeros
  const fc = new FrameClass();
  t.is(classifyFrame(arp, 0, 60, fc), Verdict.Ok);
  t.deepEqual([fc.kind, fc.l3Len, fc.src4], [FrameKind.Arp, 28, 0x0a00020f]);
  const [v, ack] = classify(TCP_ACK4, 60, OFF + 60); // six bytes of 0xa5 "padding"
  t.is(v, Verdict.Ok);
  t.deepEqual([ack.l3Len, ack.l4Len, ack.payloadLen, ack.tcpFlags], [40, 20, 0, 0x10]);
});

test('every truncation of every golden frame is dropped, never thrown', (t) => {
  for (const [name, frame] of Object.entries(GOLDEN)) {
    for (let len = 0; len < frame.length; len++) {
      const [v] = classify(frame, len);
      t.not(v, Verdict.Ok, `${name} len ${len}`);
      const fc = new FrameClass();
      t.not(classifyFrame(frame.slice(0, len), 0, len, fc), Verdict.Ok, `${name} exact buffer, len ${len}`);
      if (len < 14) t.is(v, Verdict.Truncated, `${name} len ${len}`);
    }
  }
});

test('truncations name the layer that was cut', (t) => {
  t.is(classify(TCP_SYN4, 14 + 19)[0], Verdict.Truncated);
  t.is(classify(TCP_SYN4, 14 + 20)[0], Verdict.BadIpLength);
  t.is(classify(TCP_SYN6, 14 + 39)[0], Verdict.Truncated);
  t.is(classify(TCP_SYN6, 14 + 40)[0], Verdict.BadIpLength);
  t.is(classify(ARP_REQUEST, 41)[0], Verdict.Truncated);
});

test('corrupted fields are rejected with their reason', (t) => {
  const ip = 14;
  const cases: Array<[string, Uint8Array, Verdict]> = [
    ['IHL 4', mutate(TCP_SYN4, ip, 0x44), Verdict.BadIpHeader],
    ['version 6 under EtherType IPv4', mutate(TCP_SYN4, ip, 0x65), Verdict.BadIpHeader],
    ['total length > frame', mutate(TCP_SYN4, ip + 3, 61), Verdict.BadIpLength],
    ['total length < IHL', mutate(TCP_SYN4, ip + 3, 16), Verdict.BadIpLength],
    ['TCP data offset 4', mutate(TCP_SYN4, ip + 20 + 12, 0x40), Verdict.BadL4Header],
    ['TCP data offset past the segment', mutate(TCP_SYN4, ip + 20 + 12, 0xb0), Verdict.BadL4Header],
    ['UDP length > IP payload', mutate(UDP_DNS4, ip + 20 + 5, 38), Verdict.BadL4Header],
    ['UDP length < 8', mutate(UDP_DNS4, ip + 20 + 5, 7), Verdict.BadL4Header],
    ['version 4 under EtherType IPv6', mutate(TCP_SYN6, ip, 0x40), Verdict.BadIpHeader],
    ['IPv6 payload length > frame', mutate(TCP_SYN6, ip + 5, 41), Verdict.BadIpLength],
    ['hop-by-hop length past the payload', mutate(MLD_HBH, ip + 41, 9), Verdict.BadExtHeader],
    ['VLAN tag', mutate(TCP_SYN4, 12, 0x81), Verdict.UnsupportedEtherType],
    ['ARP for another hardware type', mutate(ARP_REQUEST, 15, 6), Verdict.BadArp],
  ];
  for (const [why, frame, want] of cases) t.is(classify(frame)[0], want, why);
});

test('IPv4 fragments: later ones dropped, the first passes flagged', (t) => {
  const ip = 14;
  const later = mutate(UDP_DNS4, ip + 7, 0xb9); // offset 1480
  t.is(classify(later)[0], Verdict.Fragment);
  const first = mutate(UDP_DNS4, ip + 6, 0x20); // MF
  const [v, fc] = classify(first);
  t.is(v, Verdict.Ok);
  t.true(fc.fragment);
  // A first fragment's UDP length covers the whole datagram, beyond this packet: Fragment, not BadL4Header.
  const cut = mutate(first, ip + 20 + 5, 200);
  t.is(classify(cut)[0], Verdict.Fragment);
});

test('IPv6 fragments: later ones dropped, the first passes flagged', (t) => {
  const frag = (offsetAndFlags: string, rest: string): Uint8Array => hex(
    '9a559a559a55 525400123456 86dd',
    `60000000 ${(8 + hex(rest).length).toString(16).padStart(4, '0')} 2c 40`,
    'fd000000000000000000000000000002 fd000000000000000000000000000003',
    `11 00 ${offsetAndFlags} 0000abcd`, rest,
  );
  const [v, fc] = classify(frag('0001', '9c40 0035 0010 0000 0102030405060708'));
  t.is(v, Verdict.Ok);
  t.true(fc.fragment);
  t.deepEqual([fc.l4, fc.srcPort, fc.l4Off], [L4Kind.Udp, 40000, OFF + 62]);
  t.is(classify(frag('05a8', '0102030405060708'))[0], Verdict.Fragment);
});

test('other upper layers are Ok as L4Kind.Other; ICMP types follow the IP version', (t) => {
  const gre = mutate(TCP_SYN4, 14 + 9, 47);
  const [v, fc] = classify(gre);
  t.is(v, Verdict.Ok);
  t.deepEqual([fc.l4, fc.ipProto, fc.payloadOff, fc.payloadLen], [L4Kind.Other, 47, OFF + 34, 40]);
  const icmpInV6 = mutate(ICMP_ECHO6, 14 + 6, IpProto.Icmp);
  const [v6, fc6] = classify(icmpInV6);
  t.is(v6, Verdict.Ok);
  t.is(fc6.l4, L4Kind.Other);
});

test('flow keys group frames of one flow, in one direction', (t) => {
  const key = (frame: Uint8Array): [string, number] => {
    const b = inA5(frame, OFF);
    const fc = new FrameClass();
    t.is(classifyFrame(b, OFF, frame.length, fc), Verdict.Ok);
    return [flowKey(b, fc), flowHash(b, fc)];
  };
  const [syn, synHash] = key(TCP_SYN4);
  const [ack, ackHash] = key(TCP_ACK4);
  t.is(syn, ack);
  t.is(synHash, ackHash);
  t.true(syn.length <= 11);
  const others = [UDP_DNS4, TCP_SYN6, UDP_DNS6, ICMP_ECHO4, ICMP_ECHO6, NDP_NS, ARP_REQUEST].map((f) => key(f)[0]);
  t.is(new Set([syn, ...others]).size, 8);
  t.not(key(mutate(TCP_SYN4, 14 + 20 + 1, 0xcb))[0], syn, 'another source port');
  t.not(key(mutate(TCP_SYN6, 14 + 39, 3))[0], key(TCP_SYN6)[0], 'another source address');
  t.not(key(mutate(ICMP_ECHO4, 14 + 20 + 5, 0x35))[0], key(ICMP_ECHO4)[0], 'another echo id');
  t.is(key(mutate(ICMP_ECHO4, 14 + 20 + 7, 2))[0], key(ICMP_ECHO4)[0], 'same id, next sequence');
  t.is(key(mutate(ARP_REQUEST, 14 + 7, 2))[0], key(ARP_REQUEST)[0], 'all ARP together');
  // the reverse direction of the SYN is another key
  const rev = TCP_SYN4.slice();
  rev.copyWithin(14 + 12, 14 + 16, 14 + 20);
  rev.set(TCP_SYN4.subarray(14 + 12, 14 + 16), 14 + 16);
  rev.set(TCP_SYN4.subarray(34, 36), 36);
  rev.set(TCP_SYN4.subarray(36, 38), 34);
  t.not(key(rev)[0], syn);
});

test('verdict names index by code', (t) => {
  t.is(VERDICT_COUNT, Object.keys(Verdict).length);
  for (const [name, code] of Object.entries(Verdict)) t.is(VerdictName[code], name);
});

test('a classifier follows frames across buffers, pooled Buffers and offsets', (t) => {
  const c = new FrameClassifier();
  const fc = new FrameClass();
  const pooled = Buffer.from(TCP_SYN4); // a pooled Buffer has a non-zero byteOffset into a shared ArrayBuffer
  const other = inA5(UDP_DNS6, 9);
  for (let i = 0; i < 3; i++) {
    t.is(c.classify(pooled, 0, pooled.length, fc), Verdict.Ok);
    t.is(fc.dstPort, 80);
    t.is(c.classify(other, 9, UDP_DNS6.length, fc), Verdict.Ok);
    t.is(fc.srcPort, 40000);
  }
  t.is(c.classify(other, 9, other.length, fc), Verdict.Truncated, 'runs past the buffer end');
  t.is(c.classify(other, -1, 20, fc), Verdict.Truncated, 'negative offset');
});
