import test from 'ava';
import {
  NA_FLAG_OVERRIDE, NA_FLAG_ROUTER, NA_FLAG_SOLICITED, NDP_FIXED_LEN, NDP_INFINITE, NdpType, RA_FLAG_MANAGED,
  emitNdp, emptyNdpMessage, parseNdp,
} from './ndp.js';
import type { NdpMessage } from './ndp.js';
import { toHex as hex, unhex } from './test-bytes.js';

/** ICMPv6 part of a Linux router solicitation (captured): source link-layer address 52:ef:c4:b6:5b:02. */
const KERNEL_RS = unhex('850099dd00000000 010152efc4b65b02');
/** ICMPv6 part of a Linux DAD probe (captured): target fe80::50ef:c4ff:feb6:5b02, nonce option 14. */
const KERNEL_DAD_NS = unhex('8700ed3100000000 fe8000000000000050efc4fffeb65b02 0e01c55968e98748');
/** ICMPv6 part of the RA Debian's pasta (2023-03) sent (captured). */
const PASTA_RA = unhex(`
  86006dff ff802328 00000000 00000000
  030440c0 00000e10 00000e10 00000000 20010db8000100000000000000000000
  05010000 000005dc
  19030000 0000003c 20010db8000000000000000000000053
  1f050000 0000003c 076578616d706c6507636f6d20737562076578616d706c6503636f6d00000000
  010102fc00000001`);

const MAC_OURS = unhex('02fc00000001');
const PREFIX = unhex('20010db8000100000000000000000000');
const DNS6 = unhex('20010db8000000000000000000000053');

function parsed(b: Uint8Array, len = b.length): NdpMessage {
  const r = parseNdp(b, 0, len);
  if (!r.ok) throw new Error(r.reason);
  return r.msg;
}

test('parses a kernel router solicitation', (t) => {
  const m = parsed(KERNEL_RS);
  t.is(m.type, NdpType.RouterSolicit);
  t.is(hex(m.sourceLinkAddr), '52efc4b65b02');
  t.is(m.target, null);
});

test('parses a kernel DAD probe, skipping the nonce option', (t) => {
  const m = parsed(KERNEL_DAD_NS);
  t.is(m.type, NdpType.NeighborSolicit);
  t.is(hex(m.target), 'fe8000000000000050efc4fffeb65b02');
  t.is(m.sourceLinkAddr, null);
});

test("parses every field of pasta's router advertisement", (t) => {
  const m = parsed(PASTA_RA);
  t.deepEqual([m.type, m.curHopLimit, m.raFlags, m.routerLifetime, m.reachableTime, m.retransTimer],
    [134, 255, RA_FLAG_MANAGED, 9000, 0, 0]);
  t.is(m.prefixes.length, 1);
  const p = m.prefixes[0]!;
  t.deepEqual([p.prefixLen, p.flags, p.validLifetime, p.preferredLifetime, hex(p.prefix)], [64, 0xc0, 3600, 3600, hex(PREFIX)]);
  t.is(m.mtu, 1500);
  t.deepEqual([m.rdnss!.lifetime, m.rdnss!.servers.map(hex)], [60, [hex(DNS6)]]);
  t.deepEqual(m.dnssl, { lifetime: 60, domains: ['example.com sub.example.com'] }); // pasta's own search list parse
  t.is(hex(m.sourceLinkAddr), hex(MAC_OURS));
});

/** Option boundaries of a golden message: the lengths at which a cut leaves a whole, shorter message. */
function boundaries(b: Uint8Array): Set<number> {
  const s = new Set<number>();
  let i = NDP_FIXED_LEN[b[0]!]!;
  s.add(i);
  while (i < b.length) { i += b[i + 1]! * 8; s.add(i); }
  return s;
}

test('every truncation is rejected without throwing, unless it falls between options', (t) => {
  for (const golden of [KERNEL_RS, KERNEL_DAD_NS, PASTA_RA]) {
    const full = parsed(golden);
    const ok = boundaries(golden);
    for (let n = 0; n < golden.length; n++) {
      const r = parseNdp(golden, 0, n);
      t.is(r.ok, ok.has(n), `type ${golden[0]!} length ${n}`);
      if (r.ok) t.is(r.msg.type, full.type);
    }
  }
});

function reason(b: Uint8Array): string {
  const r = parseNdp(b, 0, b.length);
  return r.ok ? 'accepted' : r.reason;
}

function edit(b: Uint8Array, at: number, ...bytes: number[]): Uint8Array {
  const c = b.slice();
  c.set(bytes, at);
  return c;
}

test('malformed messages are dropped with a reason', (t) => {
  t.is(reason(edit(KERNEL_RS, 1, 1)), 'bad code');
  t.is(reason(edit(KERNEL_RS, 9, 0)), 'zero-length option');
  t.is(reason(edit(KERNEL_RS, 9, 2)), 'option past end');
  t.is(reason(edit(KERNEL_RS, 0, 137)), 'not an NDP message');
  t.is(reason(edit(KERNEL_DAD_NS, 8, 0xff, 0x02)), 'multicast target');
  t.is(reason(edit(PASTA_RA, 16 + 2, 129)), 'bad prefix option'); // prefix length 129
  t.is(reason(edit(PASTA_RA, 16 + 32 + 8 + 1, 1)), 'bad rdnss option'); // RDNSS of 8 bytes: no address
  t.is(reason(edit(PASTA_RA, 16 + 32 + 8 + 1, 15)), 'option past end');
  t.is(reason(unhex('86000000 ff802328 00000000 00000000 19010000 0000003c')), 'bad rdnss option');
  t.is(reason(unhex('86000000 ff802328 00000000 00000000 1f010000 0000003c')), 'bad dnssl option');
  t.is(reason(unhex('86000000 ff802328 00000000 00000000 1f020000 0000003c 03616263 00000000')), 'accepted');
  t.is(reason(unhex('86000000 ff802328 00000000 00000000 1f020000 0000003c 07616263 00000000')), 'bad dnssl option');
  t.is(reason(KERNEL_RS.subarray(0, 3)), 'short message');
  t.false(parseNdp(KERNEL_RS, 4, 16).ok); // past the end of the array
});

function ourRa(): NdpMessage {
  const m = emptyNdpMessage(NdpType.RouterAdvert);
  Object.assign(m, {
    curHopLimit: 255, raFlags: RA_FLAG_MANAGED, routerLifetime: 9000, mtu: 1500, sourceLinkAddr: MAC_OURS,
    prefixes: [{ prefix: PREFIX, prefixLen: 64, flags: 0xc0, validLifetime: NDP_INFINITE, preferredLifetime: NDP_INFINITE }],
    rdnss: { lifetime: NDP_INFINITE, servers: [DNS6] },
    dnssl: { lifetime: NDP_INFINITE, domains: ['example.com', 'sub.example.com'] },
  });
  return m;
}

const RA_GOLDEN = unhex(`
  86000000 ff802328 00000000 00000000
  030440c0 ffffffff ffffffff 00000000 20010db8000100000000000000000000
  05010000 000005dc
  19030000 ffffffff 20010db8000000000000000000000053
  1f050000 ffffffff 076578616d706c6503636f6d00 03737562076578616d706c6503636f6d00 0000
  010102fc00000001`);

test('emits a router advertisement (DNSSL uncompressed, zero-padded to 8 bytes), checksum left 0', (t) => {
  const out = new Uint8Array(200).fill(0xa5);
  const n = emitNdp(ourRa(), out, 3, 197);
  t.is(n, 128);
  t.is(hex(out.subarray(3, 3 + n)), hex(RA_GOLDEN));
  t.true(out.subarray(0, 3).every((x) => x === 0xa5));
  t.true(out.subarray(3 + n).every((x) => x === 0xa5));
  t.deepEqual(parsed(out.subarray(3, 3 + n)), ourRa());
});

test('emits a neighbour advertisement with flags and target link-layer address', (t) => {
  const m = emptyNdpMessage(NdpType.NeighborAdvert);
  m.naFlags = NA_FLAG_ROUTER | NA_FLAG_SOLICITED | NA_FLAG_OVERRIDE;
  m.target = PREFIX;
  m.targetLinkAddr = MAC_OURS;
  const out = new Uint8Array(40).fill(0xa5);
  const n = emitNdp(m, out, 0, 40);
  t.is(hex(out.subarray(0, n)), '88000000e0000000' + hex(PREFIX) + '020102fc00000001');
  t.is(out[n], 0xa5);
  t.deepEqual(parsed(out.subarray(0, n)), m);
});

test('DNSSL with one name pads to the next multiple of 8', (t) => {
  const m = emptyNdpMessage(NdpType.RouterAdvert);
  m.dnssl = { lifetime: 60, domains: ['example.com'] };
  const out = new Uint8Array(64);
  const n = emitNdp(m, out, 0, 64);
  t.is(hex(out.subarray(16, n)), '1f030000' + '0000003c' + '076578616d706c6503636f6d00' + '000000');
});

test('emit refuses too little room and invalid names', (t) => {
  const out = new Uint8Array(200).fill(0xa5);
  t.is(emitNdp(ourRa(), out, 0, 127), -1);
  t.is(emitNdp(ourRa(), out, 100, 128), -1);
  const bad = ourRa();
  bad.dnssl = { lifetime: 1, domains: ['a..b'] };
  t.is(emitNdp(bad, out, 0, 200), -1);
  t.is(emitNdp(emptyNdpMessage(128), out, 0, 200), -1);
  t.true(out.every((x) => x === 0xa5));
});
