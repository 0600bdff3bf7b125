import test from 'ava';
import { parseIpv6 } from './addr.js';
import { csumPartial } from './checksum.js';
import type { CsumPartial } from './checksum.js';
import { FrameClass, FrameKind, L4Kind, Verdict, classifyFrame } from './classify.js';
import { MAC_BROADCAST } from './eth.js';
import {
  Headroom, buildArp, buildIcmp4, buildIcmp6, buildTcp4, buildTcp6, buildUdp4, buildUdp6, tcpPayloadOffset,
  writeTcpOptions,
} from './frame.js';
import type { EthParams } from './frame.js';
import { ArpOp } from './arp.js';
import { IcmpType, Icmpv6Type } from './icmp.js';
import { TcpFlag } from './tcp.js';
import { fromHex as hex, inA5 } from './test-bytes.js';

// Golden frames, each checked with tcpdump -vv (checksums "correct"/"sum ok").
const GUEST = hex('525400123456');
const HOST = hex('9a559a559a55');
const toHost: EthParams = { dst: HOST, src: GUEST };
const SYN_OPTIONS = hex('020405b4 0402 080a 01020304 00000000 01 030307');
const TCP_SYN4 = hex(
  '9a559a559a55 525400123456 0800',
  '4500 003c 1c46 4000 40 06 dc8c 0a00020f 5db8d822',
  'a8ca 0050 12345678 00000000 a0 02 faf0 f558 0000', Buffer.from(SYN_OPTIONS).toString('hex'),
);
const TCP_SYN6 = hex(
  '9a559a559a55 525400123456 86dd',
  '60012345 0028 06 40 fd000000000000000000000000000002 20010db8000000000000000000000001',
  'a8ca 01bb 89abcdef 00000000 a0 02 fd20 19fc 0000', Buffer.from(SYN_OPTIONS).toString('hex'),
);
const TCP_ACK4 = hex(
  '9a559a559a55 525400123456 0800',
  '4500 0028 1c47 4000 40 06 dc9f 0a00020f 5db8d822',
  'a8ca 0050 12345679 cafebabe 50 10 01f6 d46f 0000',
);
const DNS_A = 'abcd 0100 0001 0000 0000 0000 076578616d706c6503636f6d00 0001 0001';
const UDP_DNS4 = hex(
  '9a559a559a55 525400123456 0800',
  '4500 0039 0001 0000 40 11 62a2 0a00020f 0a000203',
  'cf08 0035 0025 9d19', DNS_A,
);
const DNS_AAAA = '1234 0100 0001 0000 0000 0000 076578616d706c6503636f6d00 001c 0001';
const UDP_DNS6 = hex(
  '9a559a559a55 525400123456 86dd',
  '60000000 0025 11 40 fd000000000000000000000000000002 fd000000000000000000000000000003',
  '9c40 0035 0025 6c86', DNS_AAAA,
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
const NS_BODY = 'fd000000000000000000000000000001 0101 525400123456';
const NDP_NS = hex(
  '3333ff000001 525400123456 86dd',
  '60000000 0020 3a ff fe80000000000000505400fffe123456 ff0200000000000000000001ff000001',
  '87 00 73a2 00000000', NS_BODY,
);
const ARP_REQUEST = hex(
  'ffffffffffff 525400123456 0806',
  '0001 0800 06 04 0001 525400123456 0a00020f 000000000000 0a000202',
);

const FD00_2 = parseIpv6('fd00::2')!;
const OFF = 6; // frames are built at an odd place in a 0xa5-filled buffer
const SIZE = 140;

/** A 0xa5 buffer with `payload` already where the builder expects it (at OFF + headroom). */
function withPayload(headroom: number, payload: string): Uint8Array {
  const b = new Uint8Array(SIZE).fill(0xa5);
  b.set(hex(payload), OFF + headroom);
  return b;
}

test('buildTcp4 reproduces the golden SYN (options as bytes) and ACK', (t) => {
  const b = new Uint8Array(SIZE).fill(0xa5);
  const ip = { src: 0x0a00020f, dst: 0x5db8d822, id: 0x1c46, dontFragment: true };
  const tcp = {
    srcPort: 43210, dstPort: 80, seq: 0x12345678, ack: 0, flags: TcpFlag.Syn, window: 64240, options: SYN_OPTIONS,
  };
  t.is(buildTcp4(b, OFF, toHost, ip, tcp, 0), 74);
  t.deepEqual(b, inA5(TCP_SYN4, OFF, SIZE));
  const a = new Uint8Array(SIZE).fill(0xa5);
  const ack = { srcPort: 43210, dstPort: 80, seq: 0x12345679, ack: 0xcafebabe, flags: TcpFlag.Ack, window: 502 };
  t.is(buildTcp4(a, OFF, toHost, { ...ip, id: 0x1c47 }, ack, 0), 54);
  t.deepEqual(a, inA5(TCP_ACK4, OFF, SIZE));
});

test('buildTcp6 reproduces the golden SYN with options written in place', (t) => {
  const b = new Uint8Array(SIZE).fill(0xa5);
  const spec = { mss: 1460, sackPermitted: true, tsVal: 0x01020304, wscale: 7 };
  const optEnd = writeTcpOptions(b, OFF + Headroom.Tcp6, spec);
  t.is(optEnd, tcpPayloadOffset(OFF, 6, 20));
  const ip = { src: FD00_2, dst: parseIpv6('2001:db8::1')!, flowLabel: 0x12345 };
  const tcp = {
    srcPort: 43210, dstPort: 443, seq: 0x89abcdef, ack: 0, flags: TcpFlag.Syn, window: 64800, optionsLen: 20,
  };
  t.is(buildTcp6(b, OFF, toHost, ip, tcp, 0), 94);
  t.deepEqual(b, inA5(TCP_SYN6, OFF, SIZE));
});

test('buildUdp4 and buildUdp6 wrap a payload already in place', (t) => {
  const b = withPayload(Headroom.Udp4, DNS_A);
  t.is(buildUdp4(b, OFF, toHost, { src: 0x0a00020f, dst: 0x0a000203, id: 1 }, 53000, 53, 29), 71);
  t.deepEqual(b, inA5(UDP_DNS4, OFF, SIZE));
  const c = withPayload(Headroom.Udp6, DNS_AAAA);
  t.is(buildUdp6(c, OFF, toHost, { src: FD00_2, dst: parseIpv6('fd00::3')! }, 40000, 53, 29), 91);
  t.deepEqual(c, inA5(UDP_DNS6, OFF, SIZE));
});

test('buildIcmp4 and buildIcmp6 reproduce echo requests and a neighbour solicitation', (t) => {
  const b = withPayload(Headroom.Icmp4, DATA);
  const ip4 = { src: 0x0a00020f, dst: 0x0a000202, id: 0xbeef, dontFragment: true };
  t.is(buildIcmp4(b, OFF, toHost, ip4, IcmpType.EchoRequest, 0, 0x12340001, 32), 74);
  t.deepEqual(b, inA5(ICMP_ECHO4, OFF, SIZE));
  const c = withPayload(Headroom.Icmp6, DATA);
  const ip6 = { src: FD00_2, dst: parseIpv6('fd00::1')! };
  t.is(buildIcmp6(c, OFF, toHost, ip6, Icmpv6Type.EchoRequest, 0, 0x43210007, 32), 94);
  t.deepEqual(c, inA5(ICMP_ECHO6, OFF, SIZE));
  const n = withPayload(Headroom.Icmp6, NS_BODY);
  const nsIp = { src: parseIpv6('fe80::5054:ff:fe12:3456')!, dst: parseIpv6('ff02::1:ff00:1')!, hopLimit: 255 };
  const nsEth = { dst: hex('3333ff000001'), src: GUEST };
  t.is(buildIcmp6(n, OFF, nsEth, nsIp, Icmpv6Type.NeighborSolicitation, 0, 0, 24), 86);
  t.deepEqual(n, inA5(NDP_NS, OFF, SIZE));
});

test('buildArp reproduces the golden request', (t) => {
  const b = new Uint8Array(SIZE).fill(0xa5);
  const eth = { dst: MAC_BROADCAST, src: GUEST };
  t.is(buildArp(b, OFF, eth, ArpOp.Request, GUEST, 0x0a00020f, new Uint8Array(6), 0x0a000202), 42);
  t.deepEqual(b, inA5(ARP_REQUEST, OFF, SIZE));
});

test('built frames classify back to what was built; the injected sum is used', (t) => {
  let calls = 0;
  const partial: CsumPartial = (b, off, len, init) => {
    calls++;
    return csumPartial(b, off, len, init);
  };
  const b = new Uint8Array(200).fill(0xa5);
  const payloadLen = 100;
  const tcp = { srcPort: 8080, dstPort: 55555, seq: 1, ack: 0xfffffffe, flags: TcpFlag.Ack | TcpFlag.Psh, window: 1 };
  const ip = { src: parseIpv6('2001:db8::1')!, dst: FD00_2 };
  const len = buildTcp6(b, 0, { dst: GUEST, src: HOST }, ip, tcp, payloadLen, partial);
  t.true(calls > 0);
  const fc = new FrameClass();
  t.is(classifyFrame(b, 0, len, fc), Verdict.Ok);
  t.is(fc.kind, FrameKind.Ipv6);
  t.is(fc.l4, L4Kind.Tcp);
  t.deepEqual([fc.srcPort, fc.dstPort, fc.tcpFlags, fc.payloadOff, fc.payloadLen], [8080, 55555, 0x18, 74, 100]);
  const u = new Uint8Array(200).fill(0xa5);
  const ulen = buildUdp4(u, 10, toHost, { src: 0x7f000001, dst: 0x0a000002, ttl: 1 }, 1, 65535, 0);
  t.is(ulen, 42);
  t.is(classifyFrame(u, 10, ulen, fc), Verdict.Ok);
  t.deepEqual([fc.src4, fc.dst4, fc.ttl, fc.srcPort, fc.dstPort, fc.payloadLen],
    [0x7f000001, 0x0a000002, 1, 1, 65535, 0]);
});
