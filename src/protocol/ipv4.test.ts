import test from 'ava';
import { formatIpv4U32 } from './addr.js';
import { setIpv4HeaderChecksum, verifyIpv4HeaderChecksum } from './checksum.js';
import { dataViewOf } from './eth.js';
import { IPV4_HEADER_LEN, IpProto, Ipv4View, writeIpv4 } from './ipv4.js';
import { fromHex as hex, inA5 } from './test-bytes.js';

// IPv4 part of a TCP SYN 10.0.2.15:43210 -> 93.184.216.34:80 (tcpdump: "id 7238, flags [DF], proto TCP (6),
// length 60", header checksum correct).
const SYN4 = hex(
  '45', // version 4, IHL 5
  '00', // TOS
  '003c', // total length 60
  '1c46', // id
  '4000', // flags DF, fragment offset 0
  '40 06', // TTL 64, protocol TCP
  'dc8c', // header checksum
  '0a00020f 5db8d822', // 10.0.2.15 -> 93.184.216.34
  'a8ca 0050 12345678 00000000 a0 02 faf0 f558 0000', // TCP header...
  '020405b4 0402 080a 01020304 00000000 01 030307', // ...and its options
);
// IPv4 part of the UDP DNS query 10.0.2.15:53000 -> 10.0.2.3:53 (id 1, no flags, length 57).
const DNS4 = hex(
  '4500 0039 0001 0000 40 11 62a2 0a00020f 0a000203',
  'cf08 0035 0025 9d19 abcd 0100 0001 0000 0000 0000 076578616d706c6503636f6d00 0001 0001',
);

test('view reads every field of the golden SYN', (t) => {
  const b = inA5(SYN4, 14);
  const v = new Ipv4View();
  t.true(v.wrap(dataViewOf(b), 14, SYN4.length));
  t.is(v.version, 4);
  t.is(v.headerLen, 20);
  t.is(v.tos, 0);
  t.is(v.totalLen, 60);
  t.is(v.id, 0x1c46);
  t.true(v.dontFragment);
  t.false(v.moreFragments);
  t.is(v.fragmentOffset, 0);
  t.false(v.isFragment);
  t.is(v.ttl, 64);
  t.is(v.protocol, IpProto.Tcp);
  t.is(v.checksum, 0xdc8c);
  t.is(formatIpv4U32(v.src), '10.0.2.15');
  t.is(formatIpv4U32(v.dst), '93.184.216.34');
  t.is(v.srcOff, 14 + 12);
  t.is(v.dstOff, 14 + 16);
  t.is(v.optionsLen, 0);
  t.is(v.payloadOff, 14 + 20);
  t.is(v.payloadLen, 40);
});

test('view reads the golden DNS query (no DF, UDP)', (t) => {
  const v = new Ipv4View();
  t.true(v.wrap(dataViewOf(DNS4), 0, DNS4.length));
  t.false(v.dontFragment);
  t.is(v.protocol, IpProto.Udp);
  t.is(v.id, 1);
  t.is(v.payloadLen, 37);
  t.is(formatIpv4U32(v.dst), '10.0.2.3');
});

test('link padding is not payload', (t) => {
  const b = inA5(DNS4, 0, DNS4.length + 9); // 0xa5 "padding" after the datagram
  const v = new Ipv4View();
  t.true(v.wrap(dataViewOf(b), 0, b.length));
  t.is(v.totalLen, 57);
  t.is(v.payloadLen, 37);
});

test('every truncation is refused without throwing', (t) => {
  const v = new Ipv4View();
  for (let len = 0; len < SYN4.length; len++) {
    t.false(v.wrap(dataViewOf(inA5(SYN4, 2)), 2, len), `len ${len}`);
    t.false(v.wrap(dataViewOf(SYN4.slice(0, len)), 0, len), `exact buffer, len ${len}`);
  }
});

test('corrupted headers are refused', (t) => {
  const v = new Ipv4View();
  const mutate = (at: number, value: number): Uint8Array => {
    const b = SYN4.slice();
    b[at] = value;
    return b;
  };
  t.false(v.wrap(dataViewOf(mutate(0, 0x44)), 0, 60), 'IHL 4');
  t.false(v.wrap(dataViewOf(mutate(0, 0x40)), 0, 60), 'IHL 0');
  t.false(v.wrap(dataViewOf(mutate(0, 0x65)), 0, 60), 'version 6');
  t.false(v.wrap(dataViewOf(mutate(0, 0x55)), 0, 60), 'version 5');
  t.false(v.wrap(dataViewOf(mutate(3, 61)), 0, 60), 'total length beyond the bytes');
  t.false(v.wrap(dataViewOf(mutate(3, 19)), 0, 60), 'total length below the header');
  const longHeader = mutate(0, 0x4f); // IHL 60 bytes...
  longHeader[3] = 59; // ...above a total length of 59
  t.false(v.wrap(dataViewOf(longHeader), 0, 60), 'IHL above total length');
});

test('header options move the payload', (t) => {
  const b = new Uint8Array(64).fill(0xa5);
  b.set(hex('46 00 0040 1c46 4000 40 06 0000 0a00020f 5db8d822 01010100'), 0); // IHL 6: NOP NOP NOP EOL
  b.set(SYN4.subarray(20), 24);
  setIpv4HeaderChecksum(b, 0, 24);
  const v = new Ipv4View();
  t.true(v.wrap(dataViewOf(b), 0, 64));
  t.is(v.headerLen, 24);
  t.is(v.optionsOff, 20);
  t.is(v.optionsLen, 4);
  t.is(v.payloadOff, 24);
  t.is(v.payloadLen, 40);
});

test('fragment fields', (t) => {
  const v = new Ipv4View();
  const first = DNS4.slice();
  first[6] = 0x20; // MF, offset 0
  t.true(v.wrap(dataViewOf(first), 0, first.length));
  t.true(v.moreFragments && v.isFragment);
  t.is(v.fragmentOffset, 0);
  const later = DNS4.slice();
  later[6] = 0x00;
  later[7] = 0xb9; // offset 185 * 8
  t.true(v.wrap(dataViewOf(later), 0, later.length));
  t.false(v.moreFragments);
  t.true(v.isFragment);
  t.is(v.fragmentOffset, 1480);
});

test('writer reproduces the golden headers byte for byte, checksum included', (t) => {
  const b = new Uint8Array(40).fill(0xa5);
  const end = writeIpv4(b, 7, { src: 0x0a00020f, dst: 0x5db8d822, id: 0x1c46, dontFragment: true }, IpProto.Tcp, 40);
  t.is(end, 7 + IPV4_HEADER_LEN);
  t.deepEqual(b, inA5(SYN4.subarray(0, 20), 7, 40));
  t.true(verifyIpv4HeaderChecksum(b, 7, 20));
  const c = new Uint8Array(25).fill(0xa5);
  writeIpv4(c, 0, { src: 0x0a00020f, dst: 0x0a000203, id: 1, ttl: 64 }, IpProto.Udp, 37);
  t.deepEqual(c, inA5(DNS4.subarray(0, 20), 0, 25));
});

test('writer defaults and round trip through the view', (t) => {
  const b = new Uint8Array(60).fill(0xa5);
  writeIpv4(b, 0, { src: 0xc0a80001, dst: 0xc0a80002, ttl: 255, tos: 0xb8 }, 99, 40);
  const v = new Ipv4View();
  t.true(v.wrap(dataViewOf(b), 0, 60));
  t.deepEqual([v.src, v.dst, v.ttl, v.tos, v.protocol, v.id, v.dontFragment, v.totalLen], [
    0xc0a80001, 0xc0a80002, 255, 0xb8, 99, 0, false, 60,
  ]);
  t.true(verifyIpv4HeaderChecksum(b, 0, 20));
});
