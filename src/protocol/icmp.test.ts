import test from 'ava';
import { formatIpv6 } from './addr.js';
import { setL4Checksum, verifyL4Checksum } from './checksum.js';
import { dataViewOf } from './eth.js';
import {
  ICMP_HEADER_LEN, IcmpType, IcmpUnreachCode, IcmpView, Icmpv6Type, Icmpv6UnreachCode, Icmpv6View, writeIcmp,
  writeIcmpEcho,
} from './icmp.js';
import { fromHex as hex, inA5 } from './test-bytes.js';

const DATA = '101112131415161718191a1b1c1d1e1f 202122232425262728292a2b2c2d2e2f';
// "10.0.2.15 > 10.0.2.2: ICMP echo request, id 4660, seq 1, length 40"
const ECHO4 = hex('08', '00', 'f3c8', '1234', '0001', DATA); // type, code, checksum, id, seq, data
// "fd00::2 > fd00::1: [icmp6 sum ok] ICMP6, echo request, id 17185, seq 7"
const ECHO6 = hex('80', '00', '506e', '4321', '0007', DATA);
// "fe80::5054:ff:fe12:3456 > ff02::1:ff00:1: [icmp6 sum ok] ICMP6, neighbor solicitation, who has fd00::1,
// source link-address option (1), length 8 (1): 52:54:00:12:34:56"
const NS = hex(
  '87 00 73a2', // type 135, code 0, checksum
  '00000000', // reserved
  'fd000000000000000000000000000001', // target
  '01 01 525400123456', // option: source link-layer address
);

test('ICMPv4 view reads the golden echo request', (t) => {
  const b = inA5(ECHO4, 34);
  const v = new IcmpView();
  t.true(v.wrap(dataViewOf(b), 34, ECHO4.length));
  t.is(v.type, IcmpType.EchoRequest);
  t.is(v.code, 0);
  t.is(v.checksum, 0xf3c8);
  t.is(v.echoId, 0x1234);
  t.is(v.echoSeq, 1);
  t.is(v.rest, 0x12340001);
  t.true(v.isEcho);
  t.false(v.isError);
  t.is(v.bodyOff, 34 + 8);
  t.is(v.bodyLen, 32);
  t.true(verifyL4Checksum(b, 34, ECHO4.length, 0)); // no pseudo-header for ICMPv4
});

test('ICMPv6 view reads the golden echo request and neighbour solicitation', (t) => {
  const v = new Icmpv6View();
  t.true(v.wrap(dataViewOf(ECHO6), 0, ECHO6.length));
  t.is(v.type, Icmpv6Type.EchoRequest);
  t.deepEqual([v.echoId, v.echoSeq, v.checksum, v.bodyLen], [0x4321, 7, 0x506e, 32]);
  t.true(v.isEcho);
  t.false(v.isError);
  const b = inA5(NS, 54);
  t.true(v.wrap(dataViewOf(b), 54, NS.length));
  t.is(v.type, Icmpv6Type.NeighborSolicitation);
  t.is(v.code, 0);
  t.is(v.checksum, 0x73a2);
  t.false(v.isEcho || v.isError);
  t.is(v.bodyLen, 24);
  t.is(formatIpv6(b, v.bodyOff), 'fd00::1');
  t.is(b[v.bodyOff + 16], 1);
});

test('error messages: unreachable with next-hop MTU, packet too big, parameter problem', (t) => {
  const v4 = new IcmpView();
  const fragNeeded = hex('03 04 0000 0000 05dc', '4500003c'); // + start of the invoking header
  t.true(v4.wrap(dataViewOf(fragNeeded), 0, fragNeeded.length));
  t.true(v4.isError);
  t.is(v4.code, IcmpUnreachCode.FragNeeded);
  t.is(v4.nextHopMtu, 1500);
  t.is(v4.bodyLen, 4);
  const v6 = new Icmpv6View();
  const ptb = hex('02 00 0000 00000500', '60000000');
  t.true(v6.wrap(dataViewOf(ptb), 0, ptb.length));
  t.true(v6.isError);
  t.is(v6.type, Icmpv6Type.PacketTooBig);
  t.is(v6.mtu, 1280);
  const pp = hex('04 00 0000 00000028');
  t.true(v6.wrap(dataViewOf(pp), 0, pp.length));
  t.is(v6.pointer, 40);
  const unreach = hex('01 04 0000 00000000');
  t.true(v6.wrap(dataViewOf(unreach), 0, 8));
  t.is(v6.code, Icmpv6UnreachCode.Port);
});

test('every truncation is refused without throwing', (t) => {
  const v4 = new IcmpView();
  const v6 = new Icmpv6View();
  for (let len = 0; len < ICMP_HEADER_LEN; len++) {
    t.false(v4.wrap(dataViewOf(inA5(ECHO4, 1)), 1, len), `v4 len ${len}`);
    t.false(v6.wrap(dataViewOf(NS.slice(0, len)), 0, len), `v6 exact buffer, len ${len}`);
  }
  // Beyond the header, a short body is still an ICMP message: its length shrinks with the bytes given.
  for (let len = ICMP_HEADER_LEN; len < ECHO4.length; len++) {
    t.true(v4.wrap(dataViewOf(ECHO4.slice(0, len)), 0, len));
    t.is(v4.bodyLen, len - 8);
  }
});

test('writers reproduce the golden echo messages (checksums filled by checksum.ts)', (t) => {
  const b = new Uint8Array(50).fill(0xa5);
  b.set(hex(DATA), 11);
  t.is(writeIcmpEcho(b, 3, IcmpType.EchoRequest, 0x1234, 1), 3 + ICMP_HEADER_LEN);
  t.is(setL4Checksum(b, 3, ECHO4.length, 1, 0), 0xf3c8);
  t.deepEqual(b, inA5(ECHO4, 3, 50));
  const e = new Uint8Array(12).fill(0xa5);
  writeIcmp(e, 2, Icmpv6Type.PacketTooBig, 0, 1280);
  t.deepEqual(e, inA5(hex('02 00 0000 00000500'), 2, 12));
  writeIcmpEcho(e, 2, Icmpv6Type.EchoReply, 0x1ffff, 0xfffff); // ids and seqs are 16-bit
  t.deepEqual(e, inA5(hex('81 00 0000 ffff ffff'), 2, 12));
});
