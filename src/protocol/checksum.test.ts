import test from 'ava';
import {
  csumFold, csumPartial, csumSum16, l4ChecksumFieldOffset, pseudoSumIpv4, pseudoSumIpv4At, pseudoSumIpv6,
  pseudoSumIpv6At, setIpv4HeaderChecksum, setIpv4L4Checksum, setIpv6L4Checksum, setL4Checksum,
  verifyIpv4HeaderChecksum, verifyIpv4L4Checksum, verifyIpv6L4Checksum, verifyL4Checksum,
} from './checksum.js';
import type { CsumPartial } from './checksum.js';
import { fromHex as hex } from './test-bytes.js';

/** `bytes` at offset `at` of a buffer otherwise filled with 0xa5. */
function inA5(bytes: Uint8Array, at = 3): Uint8Array {
  const b = new Uint8Array(at + bytes.length + 5).fill(0xa5);
  b.set(bytes, at);
  return b;
}
const u16 = (b: Uint8Array, at: number): number => (b[at]! << 8) | b[at + 1]!;

/** Textbook one's-complement addition, word by word with end-around carry: the oracle's oracle. */
function slowSum16(b: Uint8Array, off: number, len: number): number {
  let s = 0;
  for (let i = 0; i < len; i += 2) {
    s += (b[off + i]! << 8) | (i + 1 < len ? b[off + i + 1]! : 0);
    s = (s & 0xffff) + (s >>> 16);
  }
  return s;
}

// Golden frames (Ethernet at 0, IP at 14), checksums confirmed by tcpdump -vv: see the *.test.ts of each protocol.
const TCP_SYN4 = hex(
  '9a559a559a55 525400123456 0800',
  '4500 003c 1c46 4000 40 06 dc8c 0a00020f 5db8d822',
  'a8ca 0050 12345678 00000000 a0 02 faf0 f558 0000',
  '020405b4 0402 080a 01020304 00000000 01 030307',
);
const TCP_SYN6 = hex(
  '9a559a559a55 525400123456 86dd',
  '60012345 0028 06 40 fd000000000000000000000000000002 20010db8000000000000000000000001',
  'a8ca 01bb 89abcdef 00000000 a0 02 fd20 19fc 0000',
  '020405b4 0402 080a 01020304 00000000 01 030307',
);
const UDP_DNS4 = hex(
  '9a559a559a55 525400123456 0800',
  '4500 0039 0001 0000 40 11 62a2 0a00020f 0a000203',
  'cf08 0035 0025 9d19',
  'abcd 0100 0001 0000 0000 0000 076578616d706c6503636f6d00 0001 0001',
);
const ICMP_ECHO4 = hex(
  '9a559a559a55 525400123456 0800',
  '4500 003c beef 4000 40 01 63c1 0a00020f 0a000202',
  '08 00 f3c8 1234 0001 101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f',
);
const MLD_HBH = hex(
  '333300000016 525400123456 86dd',
  '60000000 0024 00 01 fe800000000000005054 00fffe123456 ff020000000000000000000000000016',
  '3a 00 05020000 0100', // hop-by-hop: next 58, len 0, router alert, PadN
  '8f 00 b8e4 0000 0001 04 00 0000 ff0200000000000000000001ff123456',
);

test('RFC 1071 §3 worked example', (t) => {
  const b = inA5(hex('0001 f203 f4f5 f6f7'));
  t.is(csumSum16(csumPartial(b, 3, 8, 0)), 0xddf2);
  t.is(csumFold(csumPartial(b, 3, 8, 0)), 0x220d);
});

test('odd lengths pad the last byte as a high byte; even splits add up', (t) => {
  const b = inA5(hex('01'));
  t.is(csumPartial(b, 3, 1, 0), 0x0100);
  const c = inA5(hex('0001 f203 f4f5 f6f7 ab'));
  const whole = csumPartial(c, 3, 9, 0);
  const split = csumPartial(c, 7, 5, csumPartial(c, 3, 4, 0));
  t.is(csumSum16(whole), csumSum16(split));
  t.is(csumSum16(whole), slowSum16(c, 3, 9));
});

test('matches the word-by-word oracle across chunk boundaries and odd offsets', (t) => {
  let seed = 7;
  const b = new Uint8Array(200_001);
  for (let i = 0; i < b.length; i++) b[i] = (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 24;
  for (const [off, len] of [[0, 200_000], [1, 200_000], [3, 65_537], [5, 32_768], [9, 32_769], [0, 0], [0, 1]]) {
    const s = csumPartial(b, off!, len!, 0);
    t.true(s >= 0 && s <= 0xffffffff);
    t.is(csumSum16(s), slowSum16(b, off!, len!), `${off}+${len}`);
  }
  b.fill(0xff);
  t.is(csumSum16(csumPartial(b, 0, 200_000, 0xffffffff)), 0xffff);
});

test('sums of all-zero data fold to 0, and an initial value is carried', (t) => {
  const z = new Uint8Array(10);
  t.is(csumPartial(z, 0, 10, 0), 0);
  t.is(csumFold(0), 0xffff);
  t.is(csumSum16(csumPartial(z, 0, 10, 0x12345)), 0x2346);
  t.is(csumSum16(0xffffffff), 0xffff);
});

test('IPv4 header checksum: golden value, recomputed and verified', (t) => {
  const b = inA5(TCP_SYN4);
  const ip = 3 + 14;
  t.is(u16(b, ip + 10), 0xdc8c);
  t.true(verifyIpv4HeaderChecksum(b, ip, 20));
  b[ip + 10] = 0xa5;
  b[ip + 11] = 0xa5;
  t.false(verifyIpv4HeaderChecksum(b, ip, 20));
  t.is(setIpv4HeaderChecksum(b, ip, 20), 0xdc8c);
  t.deepEqual(b, inA5(TCP_SYN4));
  b[ip + 8] = 63; // TTL change
  t.false(verifyIpv4HeaderChecksum(b, ip, 20));
});

test('pseudo-header sums: by value and in place agree; hand-computed IPv4 value', (t) => {
  const b = inA5(TCP_SYN4);
  const ip = 3 + 14;
  // 0x0a00 + 0x020f + 0x5db8 + 0xd822 + 6 + 40 = 0x14217 -> folds to 0x4218
  t.is(csumSum16(pseudoSumIpv4(0x0a00020f, 0x5db8d822, 6, 40)), 0x4218);
  t.is(csumSum16(pseudoSumIpv4At(b, ip + 12, 6, 40)), 0x4218);
  const c = inA5(TCP_SYN6);
  const ip6 = 3 + 14;
  const byValue = pseudoSumIpv6(c, ip6 + 8, c, ip6 + 24, 6, 40);
  t.is(csumSum16(byValue), csumSum16(pseudoSumIpv6At(c, ip6 + 8, 6, 40)));
  // 0xfd00 + 2 + 0x2001 + 0x0db8 + 1 + 6 + 40 = 0x12aea -> 0x2aeb
  t.is(csumSum16(byValue), 0x2aeb);
  // a 32-bit upper-layer length adds both halves: ... + 6 + 1 + 0 = 0x12ac3 -> 0x2ac4
  t.is(csumSum16(pseudoSumIpv6At(c, ip6 + 8, 6, 0x10000)), 0x2ac4);
});

test('L4 checksums of golden frames: verified, and recomputed from poisoned fields', (t) => {
  const cases: Array<[string, Uint8Array, number, number]> = [
    ['tcp4', TCP_SYN4, 6, 0xf558], ['udp4', UDP_DNS4, 17, 0x9d19], ['icmp4', ICMP_ECHO4, 1, 0xf3c8],
  ];
  for (const [name, frame, proto, want] of cases) {
    const b = inA5(frame);
    const ip = 3 + 14;
    const field = ip + 20 + l4ChecksumFieldOffset(proto);
    t.is(u16(b, field), want, name);
    t.true(verifyIpv4L4Checksum(b, ip), name);
    b[field] = b[field + 1] = 0xa5;
    t.false(verifyIpv4L4Checksum(b, ip), name);
    t.is(setIpv4L4Checksum(b, ip), want, name);
    t.deepEqual(b, inA5(frame), name);
  }
});

test('IPv6 L4 checksums, including after a hop-by-hop header', (t) => {
  const b = inA5(TCP_SYN6);
  t.true(verifyIpv6L4Checksum(b, 17, 57, 6));
  b[57 + 16] = 0;
  t.is(setIpv6L4Checksum(b, 17, 57, 6), 0x19fc);
  t.deepEqual(b, inA5(TCP_SYN6));
  const m = inA5(MLD_HBH);
  const l4 = 17 + 40 + 8;
  t.true(verifyIpv6L4Checksum(m, 17, l4, 58));
  m[l4 + 2] = m[l4 + 3] = 0xa5;
  t.is(setIpv6L4Checksum(m, 17, l4, 58), 0xb8e4);
  t.deepEqual(m, inA5(MLD_HBH));
  m[l4 + 8] = 3; // record type changed
  t.false(verifyIpv6L4Checksum(m, 17, l4, 58));
});

test('UDP: a computed 0 is sent as 0xffff, and 0 on IPv4 means no checksum', (t) => {
  const b = inA5(UDP_DNS4);
  const ip = 17;
  const udp = ip + 20;
  b[udp + 6] = b[udp + 7] = 0;
  t.true(verifyIpv4L4Checksum(b, ip)); // "no checksum"
  // A payload word that makes the sum come out 0 is the checksum computed with zeros in its place.
  const id = udp + 8; // DNS id: an even offset in the datagram
  b[id] = b[id + 1] = 0;
  const c = setIpv4L4Checksum(b, ip);
  b[id] = c >>> 8;
  b[id + 1] = c & 0xff;
  t.is(setIpv4L4Checksum(b, ip), 0xffff);
  t.true(verifyIpv4L4Checksum(b, ip));
});

test('an unknown protocol or a cut header writes nothing', (t) => {
  const b = inA5(hex('0102030405060708'));
  const before = b.slice();
  t.is(setL4Checksum(b, 3, 8, 99, 0), -1);
  t.is(setL4Checksum(b, 3, 8, 6, 0), -1); // TCP checksum field at 16 does not fit in 8 bytes
  t.deepEqual(b, before);
  t.is(l4ChecksumFieldOffset(6), 16);
  t.is(l4ChecksumFieldOffset(17), 6);
  t.is(l4ChecksumFieldOffset(1), 2);
  t.is(l4ChecksumFieldOffset(58), 2);
  t.is(l4ChecksumFieldOffset(0), -1);
});

test('an injected partial-sum function is used, and gives the same results', (t) => {
  let calls = 0;
  const counting: CsumPartial = (b, off, len, init) => {
    calls++;
    return csumPartial(b, off, len, init);
  };
  const b = inA5(TCP_SYN6);
  b[57 + 16] = 0;
  t.is(setIpv6L4Checksum(b, 17, 57, 6, counting), 0x19fc);
  t.true(verifyL4Checksum(b, 57, 40, pseudoSumIpv6At(b, 25, 6, 40, counting), counting));
  const c = inA5(TCP_SYN4);
  t.is(setIpv4L4Checksum(c, 17, counting), 0xf558);
  t.true(calls >= 4);
});
