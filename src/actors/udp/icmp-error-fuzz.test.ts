/**
 * Seeded fuzzing of the ICMP errors built for the guest from host socket errors (icmp-error.ts): random
 * `sock_extended_err` facts, and quotes of random datagrams (payload bytes from mutated golden frames,
 * random kept and full lengths, addresses and ports). Invariants: no throw; a message is null or has byte
 * type/code of its family and a u32 rest; the built frame stays within the size RFC 1812 / RFC 4443 allow
 * and within its buffer, classifies as an ICMP error with good checksums, and quotes the guest's datagram
 * (inner addresses, ports, UDP length, the first payload bytes) as the guest sent it.
 */
import test from 'ava';
import { FrameClass, FrameClassifier, L4Kind, Verdict } from '../../protocol/classify.js';
import { verifyIpv4HeaderChecksum, verifyIpv4L4Checksum, verifyIpv6L4Checksum } from '../../protocol/checksum.js';
import { ETH_HEADER_LEN } from '../../protocol/eth.js';
import { FRAMES } from '../../protocol/fuzz-corpus.js';
import { BOUNDARY_32, ensure, fuzz, toHexString } from '../../protocol/fuzz.js';
import type { Prng } from '../../protocol/fuzz.js';
import {
  ErrOrigin, ICMP4_ERROR_MAX, ICMP6_ERROR_MAX, buildUdpIcmpError, icmpForSockErr,
} from './icmp-error.js';
import type { IcmpMessage, QuotedDatagram } from './icmp-error.js';

const SEED = 0x5eed0400;
const eth = { dst: Uint8Array.of(2, 0, 0, 0, 0, 1), src: Uint8Array.of(0x9a, 0x55, 0x9a, 0x55, 0x9a, 0x55) };
const classifier = new FrameClassifier();
const fc = new FrameClass();

const anyU32 = (rng: Prng): number => (rng.chance(0.5) ? rng.pick(BOUNDARY_32) : rng.next());

function checkMessage(family: 4 | 6, m: IcmpMessage | null): void {
  if (m === null) return;
  const types = family === 4 ? [3, 11] : [1, 2, 3];
  ensure(types.includes(m.type) && m.code >= 0 && m.code <= 15, `ICMPv${family} ${m.type}/${m.code}`);
  ensure(Number.isInteger(m.rest) && m.rest >= 0 && m.rest <= 0xffffffff, `rest ${m.rest}`);
  if (family === 4) ensure(m.rest <= 0xffff, 'a next-hop MTU is 16 bits');
}

/** A datagram of the guest to quote: its payload is (part of) the input, kept up to a random length. */
function quoted(input: Uint8Array, rng: Prng, family: 4 | 6): QuotedDatagram {
  const off = rng.below(input.length + 1);
  const len = rng.below(input.length - off + 1);
  const alen = family === 4 ? 4 : 16;
  return {
    family, guest: rng.bytes(alen), guestPort: rng.below(0x10000), remote: rng.bytes(alen), remotePort: rng.below(0x10000),
    src: input, off, len, fullLen: len + rng.below(family === 4 ? 65_507 - len : 65_527 - len),
  };
}

/** The quote inside the error (the body of the classified frame): inner header fields, first payload bytes. */
function checkQuote(out: Uint8Array, q: QuotedDatagram): void {
  const ip = fc.payloadOff, v4 = q.family === 4;
  const at = (off: number, n: number): string => toHexString(out.subarray(ip + off, ip + off + n));
  ensure(at(v4 ? 12 : 8, q.guest.length) === toHexString(q.guest), 'inner source');
  ensure(at(v4 ? 16 : 24, q.remote.length) === toHexString(q.remote), 'inner destination');
  const udp = ip + (v4 ? 20 : 40);
  const dv = new DataView(out.buffer);
  ensure(udp + 8 <= fc.payloadOff + fc.payloadLen, 'the inner UDP header is cut');
  ensure(dv.getUint16(udp) === q.guestPort && dv.getUint16(udp + 2) === q.remotePort, 'inner ports');
  ensure(dv.getUint16(udp + 4) === 8 + q.fullLen, 'inner UDP length');
  const kept = out.subarray(udp + 8, fc.payloadOff + fc.payloadLen);
  const room = v4 ? ICMP4_ERROR_MAX - 20 - 8 - 20 - 8 : ICMP6_ERROR_MAX - 40 - 8 - 40 - 8;
  ensure(kept.length === Math.min(q.len, room), `quoted ${kept.length} of ${q.len} bytes kept`);
  ensure(toHexString(kept) === toHexString(q.src.subarray(q.off, q.off + kept.length)), 'quoted payload');
}

function checkError(input: Uint8Array, rng: Prng): void {
  const family = rng.chance(0.5) ? 4 : 6;
  const origin = rng.pick([ErrOrigin.Local, ErrOrigin.Icmp, ErrOrigin.Icmp6, 0, 9]);
  const facts = { origin, type: rng.below(256), code: rng.below(256), info: anyU32(rng), errno: rng.pick([90, 111, 113, 0]) };
  const m = icmpForSockErr(family, facts);
  checkMessage(family, m);
  const msg = m ?? { type: family === 4 ? 3 : 1, code: 3, rest: 0 };
  const q = quoted(input, rng, family);
  const max = family === 4 ? ICMP4_ERROR_MAX : ICMP6_ERROR_MAX;
  const off = rng.below(8);
  const out = new Uint8Array(off + ETH_HEADER_LEN + ICMP6_ERROR_MAX + 8).fill(0xa5);
  const n = buildUdpIcmpError(out, off, eth, msg, q);
  ensure(n > ETH_HEADER_LEN && n <= ETH_HEADER_LEN + max, `frame of ${n} bytes`);
  ensure(out.subarray(off + n).every((x) => x === 0xa5) && out.subarray(0, off).every((x) => x === 0xa5), 'wrote outside the frame');
  ensure(classifier.classify(out, off, n, fc) === Verdict.Ok && fc.l3Off + fc.l3Len === off + n, 'error frame does not classify');
  ensure(fc.l4 === (family === 4 ? L4Kind.Icmp : L4Kind.Icmpv6) && fc.icmpType === msg.type && fc.icmpCode === msg.code, 'ICMP type');
  const sums = family === 4
    ? verifyIpv4HeaderChecksum(out, fc.l3Off, 20) && verifyIpv4L4Checksum(out, fc.l3Off)
    : verifyIpv6L4Checksum(out, fc.l3Off, fc.l4Off, fc.ipProto);
  ensure(sums, 'checksums');
  checkQuote(out, q);
}

test('fuzz: ICMP errors for socket errors, quoting random datagrams', (t) => {
  const r = fuzz('udp icmp-error', FRAMES, 8_000, SEED, checkError);
  t.log(`${r.cases} cases in ${r.ms.toFixed(0)} ms`);
  t.pass();
});
