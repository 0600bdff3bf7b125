import test from 'ava';
import {
  applyPrefix, bytesEqual, formatIp, formatIpv4, formatIpv4U32, formatIpv6, ipFamily, ipv4Broadcast,
  ipv4ClassfulPrefix, ipv4InSubnet, ipv4MappedToU32, ipv4MaskToPrefix, ipv4MulticastMac, ipv4Network,
  ipv4PrefixToMask, ipv4ToU32, ipv6MulticastMac, ipv6SolicitedNode, isIpv4LimitedBroadcast, isIpv4LinkLocal,
  isIpv4Loopback, isIpv4Mapped, isIpv4Multicast, isIpv4Unspecified, isIpv6LinkLocal, isIpv6Loopback,
  isIpv6Multicast, isIpv6UniqueLocal, isIpv6Unspecified, isLinkLocal, isLoopback, isMulticast, isUnspecified,
  parseCidr, parseIp, parseIpv4, parseIpv4Into, parseIpv4U32, parseIpv6, parseIpv6Into, prefixEquals,
  u32ToIpv4, writeIpv4Mapped,
} from './addr.js';
import { fromHex as hex } from './test-bytes.js';

test('IPv4 text, bytes and u32 agree', (t) => {
  t.deepEqual(parseIpv4('10.0.2.15'), Uint8Array.of(10, 0, 2, 15));
  t.is(parseIpv4U32('10.0.2.15'), 0x0a00020f);
  t.is(parseIpv4U32('255.255.255.255'), 0xffffffff);
  t.is(parseIpv4U32('0.0.0.0'), 0);
  t.is(ipv4ToU32(Uint8Array.of(0xa5, 192, 168, 1, 254), 1), 0xc0a801fe);
  t.deepEqual(u32ToIpv4(0xc0a801fe), Uint8Array.of(192, 168, 1, 254));
  t.is(formatIpv4U32(0xc0a801fe), '192.168.1.254');
  t.is(formatIpv4(Uint8Array.of(0xa5, 93, 184, 216, 34), 1), '93.184.216.34');
});

test('IPv4 parser rejects what inet_pton rejects', (t) => {
  for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1.2.3.-4', '1..2.3', ' 1.2.3.4',
    '1.2.3.4 ', '0x1.2.3.4', '1.2.3.4/24', '1e2.1.1.1']) {
    t.is(parseIpv4U32(bad), null, bad);
    t.is(parseIpv4(bad), null, bad);
  }
  const out = new Uint8Array(4).fill(0xa5);
  t.false(parseIpv4Into('300.1.1.1', out));
  t.deepEqual(out, new Uint8Array(4).fill(0xa5));
});

test('IPv6 parse: all forms land in the right words', (t) => {
  t.deepEqual(parseIpv6('2001:db8::1'), hex('20010db8 00000000 00000000 00000001'));
  t.deepEqual(parseIpv6('::'), new Uint8Array(16));
  t.deepEqual(parseIpv6('::1'), hex('00000000 00000000 00000000 00000001'));
  t.deepEqual(parseIpv6('fe80::'), hex('fe800000 00000000 00000000 00000000'));
  t.deepEqual(parseIpv6('1:2:3:4:5:6:7:8'), hex('00010002 00030004 00050006 00070008'));
  t.deepEqual(parseIpv6('1:2:3:4:5:6:7::'), hex('00010002 00030004 00050006 00070000'));
  t.deepEqual(parseIpv6('::2:3:4:5:6:7:8'), hex('00000002 00030004 00050006 00070008'));
  t.deepEqual(parseIpv6('::ffff:10.0.2.15'), hex('00000000 00000000 0000ffff 0a00020f'));
  t.deepEqual(parseIpv6('64:ff9b::192.0.2.33'), hex('0064ff9b 00000000 00000000 c0000221'));
  t.deepEqual(parseIpv6('1:2:3:4:5:6:1.2.3.4'), hex('00010002 00030004 00050006 01020304'));
  t.deepEqual(parseIpv6('FD00::ABCD'), hex('fd000000 00000000 00000000 0000abcd'));
  const out = new Uint8Array(20).fill(0xa5);
  t.true(parseIpv6Into('fd00::1', out, 2));
  t.deepEqual(out, hex('a5a5 fd000000 00000000 00000000 00000001 a5a5'));
});

test('IPv6 parser agrees with node:net on valid and invalid text', async (t) => {
  const { isIPv6 } = await import('node:net');
  const cases = ['::', '::1', '1::', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', ':::', '1:::2',
    '1::2::3', ':1::2', '1::2:', '12345::', 'g::1', '::1.2.3.4', '::1.2.3', '1.2.3.4::', '::ffff:1.2.3.4',
    '1:2:3:4:5:6:7:1.2.3.4', '1:2:3:4:5:6:1.2.3.4', '::1.2.3.4:5', '', ':', '1:2:3:4:5:6:7::',
    '::2:3:4:5:6:7:8', '1:2:3:4::5:6:7:8', '0000:0000::00000', 'abcd::ef01'];
  for (const c of cases) t.is(parseIpv6(c) !== null, isIPv6(c), c);
  t.is(parseIpv6('fe80::1%eth0'), null); // unlike node:net, zone ids are the caller's business
});

test('IPv6 formatting follows RFC 5952', (t) => {
  const cases: Array<[string, string]> = [
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'], // §4.1 leading zeros, §4.2.1 longest
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // §4.2.3 first of equal runs
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'], // longest run wins
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // §4.2.2 a single 0 is not compressed
    ['2001:DB8::ABCD', '2001:db8::abcd'], // §4.3 lower case
    ['0:0:0:0:0:0:0:0', '::'], ['::1', '::1'], ['1::', '1::'],
    ['fe80:0:0:0:5054:ff:fe12:3456', 'fe80::5054:ff:fe12:3456'],
    ['::ffff:192.0.2.1', '::ffff:192.0.2.1'], // §5 IPv4-mapped in mixed notation
    ['::ffff:c000:0201', '::ffff:192.0.2.1'],
    ['1:0:0:0:0:0:0:0', '1::'], ['0:0:0:0:0:0:0:1', '::1'], ['1:0:1:0:1:0:1:0', '1:0:1:0:1:0:1:0'],
  ];
  for (const [input, want] of cases) t.is(formatIpv6(parseIpv6(input)!), want, input);
  const b = new Uint8Array(18).fill(0xa5);
  parseIpv6Into('fd00::2', b, 2);
  t.is(formatIpv6(b, 2), 'fd00::2');
});

test('IPv6 formatting matches the WHATWG URL serializer on random addresses', (t) => {
  let seed = 12345;
  const rnd = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16;
  for (let n = 0; n < 2000; n++) {
    const b = new Uint8Array(16);
    // words are zero half of the time, to exercise run selection
    for (let i = 0; i < 8; i++) if (rnd() & 1) { b[2 * i] = rnd() & 0xff; b[2 * i + 1] = rnd() & 0xff; }
    if (isIpv4Mapped(b)) continue; // the URL serializer prints these in hex
    const text = formatIpv6(b);
    t.is(text, new URL(`http://[${text}]/`).hostname.slice(1, -1));
    t.deepEqual(parseIpv6(text), b);
  }
});

test('either family', (t) => {
  t.is(ipFamily('10.0.0.1'), 4);
  t.is(ipFamily('fd00::1'), 6);
  t.is(ipFamily('host.example'), 0);
  t.deepEqual(parseIp('10.0.0.1'), Uint8Array.of(10, 0, 0, 1));
  t.is(parseIp('fd00::1')!.length, 16);
  t.is(parseIp('nope'), null);
  t.is(formatIp(Uint8Array.of(1, 2, 3, 4)), '1.2.3.4');
  t.is(formatIp(parseIpv6('fd00::1')!), 'fd00::1');
  t.is(formatIp(new Uint8Array(5)), '');
});

test('IPv4 prefixes and masks', (t) => {
  t.is(ipv4PrefixToMask(0), 0);
  t.is(ipv4PrefixToMask(8), 0xff000000);
  t.is(ipv4PrefixToMask(24), 0xffffff00);
  t.is(ipv4PrefixToMask(31), 0xfffffffe);
  t.is(ipv4PrefixToMask(32), 0xffffffff);
  for (let p = 0; p <= 32; p++) t.is(ipv4MaskToPrefix(ipv4PrefixToMask(p)), p);
  t.is(ipv4MaskToPrefix(0xff00ff00), -1);
  t.is(ipv4MaskToPrefix(0x00ffffff), -1);
  const a = parseIpv4U32('10.0.2.15')!;
  t.is(formatIpv4U32(ipv4Network(a, 24)), '10.0.2.0');
  t.is(formatIpv4U32(ipv4Broadcast(a, 24)), '10.0.2.255');
  t.is(formatIpv4U32(ipv4Network(a, 0)), '0.0.0.0');
  t.true(ipv4InSubnet(a, parseIpv4U32('10.0.0.0')!, 8));
  t.false(ipv4InSubnet(a, parseIpv4U32('10.0.3.0')!, 24));
  t.true(ipv4InSubnet(a, 0, 0));
  t.is(ipv4ClassfulPrefix(parseIpv4U32('10.1.2.3')!), 8);
  t.is(ipv4ClassfulPrefix(parseIpv4U32('172.16.0.1')!), 16);
  t.is(ipv4ClassfulPrefix(parseIpv4U32('192.168.1.1')!), 24);
  t.is(ipv4ClassfulPrefix(parseIpv4U32('224.0.0.1')!), 32);
});

test('byte prefixes: compare and apply', (t) => {
  const a = parseIpv6('2001:db8:abcd:12ff::1')!;
  const b = parseIpv6('2001:db8:abcd:12c0::2')!;
  t.true(prefixEquals(a, 0, b, 0, 48));
  t.true(prefixEquals(a, 0, b, 0, 58)); // 0x12ff vs 0x12c0 share 10 bits after /48
  t.false(prefixEquals(a, 0, b, 0, 59));
  t.true(prefixEquals(a, 0, b, 0, 0));
  const out = new Uint8Array(18).fill(0xa5);
  applyPrefix(a, 0, 16, 58, out, 1);
  t.is(out[0], 0xa5);
  t.is(out[17], 0xa5);
  t.is(formatIpv6(out, 1), '2001:db8:abcd:12c0::');
  t.true(bytesEqual(a, 0, a, 0, 16));
  t.false(bytesEqual(a, 0, b, 0, 16));
});

test('CIDR text', (t) => {
  const c = parseCidr('10.0.2.15/24')!;
  t.deepEqual([formatIp(c.addr), c.prefix], ['10.0.2.15', 24]);
  const d = parseCidr('fd00::/64')!;
  t.deepEqual([formatIp(d.addr), d.prefix], ['fd00::', 64]);
  t.is(parseCidr('fd00::1')!.prefix, 128);
  t.is(parseCidr('1.2.3.4')!.prefix, 32);
  for (const bad of ['1.2.3.4/33', 'fd00::/129', '1.2.3.4/', '1.2.3.4/08', '1.2.3.4/x', 'x/8', '/8']) {
    t.is(parseCidr(bad), null, bad);
  }
});

test('IPv4 classification', (t) => {
  const u = (s: string): number => parseIpv4U32(s)!;
  t.true(isIpv4Loopback(u('127.0.0.1')));
  t.true(isIpv4Loopback(u('127.255.0.9')));
  t.false(isIpv4Loopback(u('128.0.0.1')));
  t.true(isIpv4LinkLocal(u('169.254.1.2')));
  t.false(isIpv4LinkLocal(u('169.253.1.2')));
  t.true(isIpv4Unspecified(0));
  t.true(isIpv4Multicast(u('224.0.0.251')));
  t.true(isIpv4Multicast(u('239.255.255.255')));
  t.false(isIpv4Multicast(u('240.0.0.1')));
  t.true(isIpv4LimitedBroadcast(u('255.255.255.255')));
});

test('IPv6 classification and IPv4-mapped conversion', (t) => {
  const p = (s: string): Uint8Array => parseIpv6(s)!;
  t.true(isIpv6Unspecified(p('::')));
  t.false(isIpv6Unspecified(p('::1')));
  t.true(isIpv6Loopback(p('::1')));
  t.false(isIpv6Loopback(p('::2')));
  t.true(isIpv6LinkLocal(p('fe80::1')));
  t.true(isIpv6LinkLocal(p('febf::1')));
  t.false(isIpv6LinkLocal(p('fec0::1')));
  t.true(isIpv6Multicast(p('ff02::1')));
  t.true(isIpv6UniqueLocal(p('fd00::1')));
  t.true(isIpv6UniqueLocal(p('fc00::1')));
  t.false(isIpv6UniqueLocal(p('fe00::1')));
  t.true(isIpv4Mapped(p('::ffff:1.2.3.4')));
  t.false(isIpv4Mapped(p('::fffe:1.2.3.4')));
  t.is(ipv4MappedToU32(p('::ffff:10.0.2.2')), 0x0a000202);
  t.is(formatIpv6(writeIpv4Mapped(0x0a000202)), '::ffff:10.0.2.2');
  t.true(isLoopback(Uint8Array.of(127, 0, 0, 1)) && isLoopback(p('::1')));
  t.true(isLinkLocal(Uint8Array.of(169, 254, 0, 1)) && isLinkLocal(p('fe80::2')));
  t.true(isUnspecified(new Uint8Array(4)) && isUnspecified(new Uint8Array(16)));
  t.true(isMulticast(Uint8Array.of(224, 0, 0, 1)) && isMulticast(p('ff02::1')));
  t.false(isMulticast(Uint8Array.of(10, 0, 0, 1)) || isMulticast(p('fd00::1')));
});

test('derived multicast addresses and MACs', (t) => {
  const target = parseIpv6('fe80::5054:ff:fe12:3456')!;
  const sn = ipv6SolicitedNode(target, 0, new Uint8Array(16).fill(0xa5));
  t.is(formatIpv6(sn), 'ff02::1:ff12:3456');
  const mac = new Uint8Array(8).fill(0xa5);
  ipv6MulticastMac(sn, 0, mac, 1);
  t.deepEqual(mac, hex('a5 3333ff123456 a5'));
  ipv4MulticastMac(parseIpv4U32('239.129.2.3')!, mac, 1); // the high bit of the second byte is dropped
  t.deepEqual(mac, hex('a5 01005e010203 a5'));
});
