import test from 'ava';
import { formatIpv6, parseIpv6 } from './addr.js';
import { dataViewOf } from './eth.js';
import { IPV6_HEADER_LEN, IPV6_MAX_EXT_HEADERS, IpProto, Ipv6View, writeIpv6 } from './ipv6.js';
import { fromHex as hex, inA5 } from './test-bytes.js';

// IPv6 part of a TCP SYN fd00::2.43210 > 2001:db8::1.443 (tcpdump: "flowlabel 0x12345, hlim 64, next-header
// TCP (6) payload length: 40").
const SYN6 = hex(
  '6 00 12345', // version 6, traffic class 0, flow label 0x12345
  '0028 06 40', // payload length 40, next header TCP, hop limit 64
  'fd000000000000000000000000000002', // source fd00::2
  '20010db8000000000000000000000001', // destination 2001:db8::1
  'a8ca 01bb 89abcdef 00000000 a0 02 fd20 19fc 0000 020405b4 0402 080a 01020304 00000000 01 030307',
);
// MLDv2 report behind a hop-by-hop header with a router alert (tcpdump: "HBH (rtalert: 0x0000) (padn)").
const MLD_HBH = hex(
  '60000000 0024 00 01', // payload 36, next header hop-by-hop, hop limit 1
  'fe80000000000000505400fffe123456 ff020000000000000000000000000016',
  '3a 00 05020000 0100', // hop-by-hop: next header ICMPv6, length 0 (8 bytes), router alert, PadN
  '8f 00 b8e4 0000 0001 04 00 0000 ff0200000000000000000001ff123456',
);

/** An IPv6 header (fd00::2 -> fd00::3) with next header `nh` before `rest`, payload length from `rest`. */
function ipv6With(nh: number, rest: Uint8Array): Uint8Array {
  const h = hex('60000000', rest.length.toString(16).padStart(4, '0'), nh.toString(16).padStart(2, '0'), '40',
    'fd000000000000000000000000000002 fd000000000000000000000000000003');
  const b = new Uint8Array(h.length + rest.length);
  b.set(h);
  b.set(rest, h.length);
  return b;
}
const UDP8 = hex('9c40 0035 0008 0000'); // an empty UDP datagram

test('view reads every field of the golden SYN', (t) => {
  const b = inA5(SYN6, 14);
  const v = new Ipv6View();
  t.true(v.wrap(dataViewOf(b), 14, SYN6.length));
  t.is(v.version, 6);
  t.is(v.trafficClass, 0);
  t.is(v.flowLabel, 0x12345);
  t.is(v.payloadLen, 40);
  t.is(v.totalLen, 80);
  t.is(v.nextHeader, IpProto.Tcp);
  t.is(v.hopLimit, 64);
  t.is(formatIpv6(b, v.srcOff), 'fd00::2');
  t.is(formatIpv6(b, v.dstOff), '2001:db8::1');
  t.is(v.upperProto, IpProto.Tcp);
  t.is(v.upperOff, 14 + 40);
  t.is(v.upperLen, 40);
  t.is(v.extLen, 0);
  t.false(v.hasFragmentHeader);
  t.false(v.isFragment);
  t.is(v.fragmentOffset, 0);
});

test('hop-by-hop header is walked to ICMPv6', (t) => {
  const b = inA5(MLD_HBH, 3);
  const v = new Ipv6View();
  t.true(v.wrap(dataViewOf(b), 3, MLD_HBH.length));
  t.is(v.nextHeader, IpProto.HopByHop);
  t.is(v.hopLimit, 1);
  t.is(v.upperProto, IpProto.Icmpv6);
  t.is(v.extLen, 8);
  t.is(v.upperOff, 3 + 48);
  t.is(v.upperLen, 28);
  t.is(b[v.upperOff], 143); // MLDv2 report
});

test('a chain of hop-by-hop, routing, destination options and an atomic fragment reaches UDP', (t) => {
  const chain = hex(
    '2b 00 01 04 00000000', // hop-by-hop -> routing; PadN of 4
    '3c 00 04 00 00000000', // routing (type 4, 0 segments left) -> destination options
    '2c 01 01 0c 000000000000000000000000', // destination options, 16 bytes -> fragment; PadN of 12
    '11 00 0000 deadbeef', // fragment: -> UDP, offset 0, no M flag (atomic)
  );
  const p = ipv6With(IpProto.HopByHop, new Uint8Array([...chain, ...UDP8]));
  const v = new Ipv6View();
  t.true(v.wrap(dataViewOf(p), 0, p.length));
  t.is(v.extLen, 8 + 8 + 16 + 8);
  t.is(v.upperProto, IpProto.Udp);
  t.is(v.upperOff, 40 + 40);
  t.is(v.upperLen, 8);
  t.true(v.hasFragmentHeader);
  t.is(v.fragmentId, 0xdeadbeef);
  t.false(v.isFragment, 'an atomic fragment is a whole packet');
});

test('fragments: the first is walked through, a later one stops at its data', (t) => {
  const v = new Ipv6View();
  const first = ipv6With(IpProto.Ipv6Frag, new Uint8Array([...hex('11 00 0001 00000007'), ...UDP8]));
  t.true(v.wrap(dataViewOf(first), 0, first.length));
  t.true(v.isFragment && v.moreFragments);
  t.is(v.fragmentOffset, 0);
  t.is(v.upperProto, IpProto.Udp);
  t.is(v.upperOff, 48);
  const later = ipv6With(IpProto.Ipv6Frag, hex('11 00 05a8 00000007 0102030405060708')); // offset 181*8
  t.true(v.wrap(dataViewOf(later), 0, later.length));
  t.true(v.isFragment);
  t.false(v.moreFragments);
  t.is(v.fragmentOffset, 1448);
  t.is(v.upperProto, IpProto.Udp);
  t.is(v.upperOff, 48);
  t.is(v.upperLen, 8);
});

test('no next header, and unknown upper layers, are plain results', (t) => {
  const v = new Ipv6View();
  const none = ipv6With(IpProto.Ipv6NoNext, new Uint8Array(0));
  t.true(v.wrap(dataViewOf(none), 0, none.length));
  t.is(v.upperProto, IpProto.Ipv6NoNext);
  t.is(v.upperLen, 0);
  const esp = ipv6With(IpProto.Esp, hex('00000001 00000001'));
  t.true(v.wrap(dataViewOf(esp), 0, esp.length));
  t.is(v.upperProto, IpProto.Esp);
  t.is(v.upperLen, 8);
});

test('malformed extension chains are refused', (t) => {
  const v = new Ipv6View();
  const destOpt = (next: number): Uint8Array => hex(next.toString(16).padStart(2, '0'), '00 010400000000');
  const hbhLater = ipv6With(IpProto.Ipv6DestOpts, new Uint8Array([...destOpt(0), ...destOpt(17), ...UDP8]));
  t.false(v.wrap(dataViewOf(hbhLater), 0, hbhLater.length), 'hop-by-hop not first');
  const past = ipv6With(IpProto.HopByHop, hex('11 01 010400000000')); // says 16 bytes, has 8
  t.false(v.wrap(dataViewOf(past), 0, past.length), 'header past the payload');
  const cutFrag = ipv6With(IpProto.Ipv6Frag, hex('11 00 0000'));
  t.false(v.wrap(dataViewOf(cutFrag), 0, cutFrag.length), 'cut fragment header');
  const chain = (n: number): Uint8Array => {
    const parts: number[] = [];
    for (let i = 0; i < n; i++) parts.push(...destOpt(i === n - 1 ? 17 : 60));
    return ipv6With(IpProto.Ipv6DestOpts, new Uint8Array([...parts, ...UDP8]));
  };
  const ok = chain(IPV6_MAX_EXT_HEADERS);
  t.true(v.wrap(dataViewOf(ok), 0, ok.length), 'as many headers as the bound');
  t.is(v.upperProto, IpProto.Udp);
  const tooMany = chain(IPV6_MAX_EXT_HEADERS + 1);
  t.false(v.wrap(dataViewOf(tooMany), 0, tooMany.length), 'more than the bound');
});

test('every truncation is refused without throwing', (t) => {
  const v = new Ipv6View();
  for (const golden of [SYN6, MLD_HBH]) {
    for (let len = 0; len < golden.length; len++) {
      t.false(v.wrap(dataViewOf(inA5(golden, 2)), 2, len), `len ${len}`);
      t.false(v.wrap(dataViewOf(golden.slice(0, len)), 0, len), `exact buffer, len ${len}`);
    }
  }
});

test('corrupted version or payload length is refused; padding is not payload', (t) => {
  const v = new Ipv6View();
  const bad = SYN6.slice();
  bad[0] = 0x40;
  t.false(v.wrap(dataViewOf(bad), 0, bad.length), 'version 4');
  const long = SYN6.slice();
  long[5] = 41;
  t.false(v.wrap(dataViewOf(long), 0, long.length), 'payload length beyond the bytes');
  const padded = inA5(MLD_HBH, 0, MLD_HBH.length + 20);
  t.true(v.wrap(dataViewOf(padded), 0, padded.length));
  t.is(v.upperLen, 28);
});

test('writer reproduces the golden headers and nothing else', (t) => {
  const b = new Uint8Array(50).fill(0xa5);
  const ip = { src: parseIpv6('fd00::2')!, dst: parseIpv6('2001:db8::1')!, flowLabel: 0x12345 };
  t.is(writeIpv6(b, 5, ip, IpProto.Tcp, 40), 5 + IPV6_HEADER_LEN);
  t.deepEqual(b, inA5(SYN6.subarray(0, 40), 5, 50));
  const m = new Uint8Array(48).fill(0xa5);
  const addrs = new Uint8Array(40);
  addrs.set(parseIpv6('fe80::5054:ff:fe12:3456')!, 2);
  addrs.set(parseIpv6('ff02::16')!, 20);
  writeIpv6(m, 0, { src: addrs, srcOff: 2, dst: addrs, dstOff: 20, hopLimit: 1 }, IpProto.HopByHop, 36);
  t.deepEqual(m, inA5(MLD_HBH.subarray(0, 40), 0, 48));
  writeIpv6(m, 0, { ...ip, trafficClass: 0xb8 }, IpProto.Udp, 0);
  const v = new Ipv6View();
  t.true(v.wrap(dataViewOf(m), 0, 40));
  t.deepEqual([v.trafficClass, v.flowLabel, v.hopLimit, v.payloadLen], [0xb8, 0x12345, 64, 0]);
});
