import test from 'ava';
import {
  BOOTP_MIN_LEN, DHCP_INFINITE_LEASE, DhcpMsgType, decodeDnsNames, dnsLabels, emitDhcp, emptyDhcpMessage,
  encodeDnsNames, encodeDnsNamesCopy, encodeRoutes, parseDhcp,
} from './dhcp.js';
import type { DhcpMessage } from './dhcp.js';
import { toHex as hex, unhex } from './test-bytes.js';

const ip = (s: string): number => s.split('.').reduce((n, o) => n * 256 + Number(o), 0);

/** BOOTP payload of a busybox 1.35 udhcpc DISCOVER (captured on a pasta tap). */
const UDHCPC_DISCOVER = unhex(`
  010106005322132d 00*20 c61f45044e3d 00*202
  63825363 350101 39020240 370a0103060c0f1a1c2a7779 3c0c756468637020312e33352e30 3d0701c61f45044e3d ff 00*17`);
/** Offset of its END option. */
const DISCOVER_END = 240 + 3 + 4 + 12 + 14 + 9;

/** BOOTP payload of an ISC dhclient 4.4.3 REQUEST (captured). */
const DHCLIENT_REQUEST = unhex(`
  0101060084747b3f 00*20 52efc4b65b02 00*202
  63825363 350103 36040a000001 32040a000002 0c02766d 370d011c02030f06770c2c2f1a792a ff 00*25`);

test('parses every field of a udhcpc DISCOVER', (t) => {
  const r = parseDhcp(UDHCPC_DISCOVER, 0, UDHCPC_DISCOVER.length);
  if (!r.ok) return t.fail(r.reason);
  const m = r.msg;
  t.deepEqual([m.op, m.htype, m.hlen, m.hops, m.xid, m.secs, m.flags], [1, 1, 6, 0, 0x5322132d, 0, 0]);
  t.deepEqual([m.ciaddr, m.yiaddr, m.siaddr, m.giaddr], [0, 0, 0, 0]);
  t.is(hex(m.chaddr), 'c61f45044e3d' + '00'.repeat(10));
  t.is(m.msgType, DhcpMsgType.Discover);
  t.deepEqual([...m.paramList], [1, 3, 6, 12, 15, 26, 28, 42, 119, 121]);
  t.is(hex(m.clientId!), '01c61f45044e3d');
  t.is(m.requestedAddr, null);
  t.is(m.serverId, null);
  t.false(m.rapidCommit);
  t.is(m.overload, 0);
});

test('parses requested address and server id of a dhclient REQUEST', (t) => {
  const r = parseDhcp(DHCLIENT_REQUEST, 0, DHCLIENT_REQUEST.length);
  if (!r.ok) return t.fail(r.reason);
  t.is(r.msg.msgType, DhcpMsgType.Request);
  t.is(r.msg.requestedAddr, ip('10.0.0.2'));
  t.is(r.msg.serverId, ip('10.0.0.1'));
  t.deepEqual([...r.msg.paramList], [1, 28, 2, 3, 15, 6, 119, 12, 44, 47, 26, 121, 42]);
  t.is(r.msg.clientId, null);
});

test('every truncation before END is rejected without throwing; after it, padding is optional', (t) => {
  const full = parseDhcp(UDHCPC_DISCOVER, 0, UDHCPC_DISCOVER.length);
  t.is(UDHCPC_DISCOVER[DISCOVER_END], 0xff);
  for (let n = 0; n < UDHCPC_DISCOVER.length; n++) {
    const r = parseDhcp(UDHCPC_DISCOVER, 0, n);
    if (n <= DISCOVER_END) t.false(r.ok, `length ${n}`);
    else t.deepEqual(r, full, `length ${n}`);
  }
});

test('reads at an offset and never past off+len', (t) => {
  const b = new Uint8Array(UDHCPC_DISCOVER.length + 10).fill(0xa5);
  b.set(UDHCPC_DISCOVER, 7);
  const r = parseDhcp(b, 7, UDHCPC_DISCOVER.length);
  t.true(r.ok);
  t.false(parseDhcp(b, 7, b.length).ok); // runs past the end of b
  t.false(parseDhcp(b, -1, 10).ok);
});

/** The DISCOVER's fixed part and cookie followed by the given options. */
function withOptions(options: string): Uint8Array {
  const opts = unhex(options);
  const b = new Uint8Array(240 + opts.length);
  b.set(UDHCPC_DISCOVER.subarray(0, 240));
  b.set(opts, 240);
  return b;
}

function mutated(at: number, value: number): Uint8Array {
  const b = UDHCPC_DISCOVER.slice();
  b[at] = value;
  return b;
}

test('malformed messages are dropped with a reason', (t) => {
  const reason = (b: Uint8Array): string => {
    const r = parseDhcp(b, 0, b.length);
    return r.ok ? 'accepted' : r.reason;
  };
  t.is(reason(mutated(236, 0x64)), 'bad magic cookie');
  t.is(reason(mutated(2, 17)), 'bad hlen');
  t.is(reason(mutated(248, 0xff)), 'option length past end'); // parameter list length 10 -> 255
  t.is(reason(withOptions('35020101 ff')), 'bad message type option');
  t.is(reason(withOptions('350101 3d0101 ff')), 'bad client id');
  t.is(reason(withOptions('350103 32030a0000 ff')), 'bad requested address');
  t.is(reason(withOptions('350101 5001 00 ff')), 'bad rapid commit');
  t.is(reason(withOptions('350101 7702 c000 ff')), 'bad domain search option');
  t.is(reason(withOptions('350101 7903 210a01 ff')), 'bad classless routes option');
  t.is(reason(withOptions('350101 0300 ff')), 'bad router option');
  t.is(reason(withOptions('350101 ff')), 'accepted');
  t.is(reason(mutated(DISCOVER_END, 0)), 'no end option'); // END becomes padding, nothing ends the list
  t.is(reason(UDHCPC_DISCOVER.subarray(0, 239)), 'short message');
  const lastByte = UDHCPC_DISCOVER.slice(0, 242);
  lastByte[240] = 0x35;
  lastByte[241] = 0x01;
  t.is(reason(lastByte), 'option length past end');
});

/** A hand-written OFFER as a server should send it to the udhcpc DISCOVER above. */
function offer(): DhcpMessage {
  const m = emptyDhcpMessage();
  Object.assign(m, {
    op: 2, htype: 1, hlen: 6, xid: 0x5322132d, yiaddr: ip('10.0.0.2'), msgType: DhcpMsgType.Offer,
    serverId: ip('10.0.0.1'), leaseTime: DHCP_INFINITE_LEASE, subnetMask: ip('255.255.255.0'),
    routers: [ip('10.0.0.1')], dnsServers: [ip('10.0.0.53')], mtu: 1500, domainSearch: ['example.com'],
  });
  m.chaddr.set([0xc6, 0x1f, 0x45, 0x04, 0x4e, 0x3d]);
  return m;
}

const OFFER_GOLDEN = unhex(`
  02010600 5322132d 0000 0000 00000000 0a000002 00000000 00000000 c61f45044e3d 00*10 00*64 00*128
  63825363
  350102 0104ffffff00 03040a000001 06040a000035 1a0205dc 770d076578616d706c6503636f6d00 3304ffffffff
  36040a000001 ff 00*7`);

test('emits an OFFER: type first, then in the client\'s order, END, padding to 300', (t) => {
  const out = new Uint8Array(400).fill(0xa5);
  const n = emitDhcp(offer(), out, 5, 395, UDHCPC_DISCOVER.subarray(249, 259));
  t.is(n, BOOTP_MIN_LEN);
  t.is(hex(out.subarray(5, 5 + n)), hex(OFFER_GOLDEN));
  t.true(out.subarray(0, 5).every((x) => x === 0xa5));
  t.true(out.subarray(5 + n).every((x) => x === 0xa5));
});

test('without a preferred order, options follow 53 in ascending order', (t) => {
  const out = new Uint8Array(300);
  emitDhcp(offer(), out, 0, 300);
  t.is(hex(out.subarray(240, 248)), '350102' + '0104ffffff00'.slice(0, 10));
  const codes: number[] = [];
  for (let i = 240; out[i] !== 0xff; i += 2 + out[i + 1]!) codes.push(out[i]!);
  t.deepEqual(codes, [53, 1, 3, 6, 26, 51, 54, 119]);
});

test('emit then parse gives the message back', (t) => {
  const m = offer();
  m.classlessRoutes = [{ dest: ip('10.1.0.1'), prefix: 32, gateway: 0 }, { dest: 0, prefix: 0, gateway: ip('10.1.0.1') }];
  m.rapidCommit = true;
  m.domainSearch = ['example.com', 'sub.example.com', 'example.org'];
  m.clientId = Uint8Array.of(1, 2, 3);
  const out = new Uint8Array(600);
  const n = emitDhcp(m, out, 0, out.length);
  const r = parseDhcp(out, 0, n);
  if (!r.ok) return t.fail(r.reason);
  t.deepEqual(r.msg, m);
});

test('emit refuses a buffer that is too small', (t) => {
  const out = new Uint8Array(400).fill(0xa5);
  t.is(emitDhcp(offer(), out, 0, 299), -1);
  t.is(emitDhcp(offer(), out, 200, 300), -1); // cap fits, the array does not
  t.true(out.every((x) => x === 0xa5));
});

test('search list: the RFC 3397 example, compressed', (t) => {
  const b = encodeDnsNamesCopy(['eng.apple.com.', 'marketing.apple.com.'], true)!;
  t.is(hex(b), '03656e67056170706c6503636f6d00' + '096d61726b6574696e67' + 'c004');
  t.deepEqual(decodeDnsNames(b, 0, b.length, true), ['eng.apple.com', 'marketing.apple.com']);
  t.is(decodeDnsNames(b, 0, b.length, false), null); // pointers are not allowed uncompressed
});

test('search list: whole names and suffixes are pointed to, uncompressed mode writes them out', (t) => {
  const names = ['example.com', 'sub.example.com', 'example.com', 'com'];
  const c = encodeDnsNamesCopy(names, true)!;
  t.is(hex(c), '076578616d706c6503636f6d00' + '03737562c000' + 'c000' + 'c008');
  t.deepEqual(decodeDnsNames(c, 0, c.length, true), names);
  const u = encodeDnsNamesCopy(names, false)!;
  t.is(u.length, 13 + 17 + 13 + 5);
  t.deepEqual(decodeDnsNames(u, 0, u.length, false), names);
});

test('search list encoding checks names and room', (t) => {
  t.is(dnsLabels(''), null);
  t.is(dnsLabels('a..b'), null);
  t.is(dnsLabels('x'.repeat(64) + '.com'), null);
  t.is(dnsLabels('with space.com'), null);
  t.deepEqual(dnsLabels('x'.repeat(63) + '.com.'), ['x'.repeat(63), 'com']);
  t.is(dnsLabels(Array(128).fill('a').join('.')), null); // 257 bytes on the wire
  const out = new Uint8Array(20).fill(0xa5);
  t.is(encodeDnsNames(['example.com'], true, out, 0, 12), -1);
  t.is(encodeDnsNames(['example.com'], true, out, 10, 13), -1);
  t.is(encodeDnsNames(['example.com'], true, out, 0, 13), 13);
});

test('malformed compressed names are rejected', (t) => {
  const bad = (h: string): null | string[] => {
    const b = unhex(h);
    return decodeDnsNames(b, 0, b.length, true);
  };
  t.is(bad('c000'), null); // points at itself
  t.is(bad('0161c004 0162 00'), null); // points forwards
  t.is(bad('0161'), null); // no terminating zero
  t.is(bad('03616263'), null);
  t.is(bad('c0'), null); // half a pointer
  t.is(bad('40' + '61'.repeat(64) + '00'), null); // label length 64
  t.deepEqual(bad('0161 00 00 00'), ['a']); // trailing zeros read as nothing
});

test('a search list longer than 255 bytes is split into consecutive options and joined back', (t) => {
  const names = Array.from({ length: 12 }, (_, i) => `domain${i}.${'x'.repeat(20)}${i}.test`);
  const m = offer();
  m.domainSearch = names;
  const out = new Uint8Array(1000);
  const n = emitDhcp(m, out, 0, out.length);
  const instances: number[] = [];
  for (let i = 240; out[i] !== 0xff; i += 2 + out[i + 1]!) if (out[i] === 119) instances.push(out[i + 1]!);
  t.is(instances.length, 2);
  t.is(instances[0], 255);
  const r = parseDhcp(out, 0, n);
  t.true(r.ok && r.msg.domainSearch.join() === names.join());
});

test('classless static routes: width, significant octets, gateway', (t) => {
  const b = encodeRoutes([
    { dest: ip('10.1.0.1'), prefix: 32, gateway: 0 },
    { dest: 0, prefix: 0, gateway: ip('10.1.0.1') },
    { dest: ip('192.168.0.0'), prefix: 17, gateway: ip('10.0.0.1') },
  ]);
  t.is(hex(b), '200a010001' + '00000000' + '00' + '0a010001' + '11c0a800' + '0a000001');
});
