/**
 * Seeded fuzzing of the /proc/net/{tcp,udp}[6] readers (procnet.ts): mutated real texts never make them
 * throw or report a port outside 1..65535, and texts generated from known sockets (random addresses,
 * ports, states, spacing) give exactly the ports an independent model of the rules expects.
 */
import test from 'ava';
import { PROC_NET_TEXTS } from '../../protocol/fuzz-corpus.js';
import { ensure, fuzz } from '../../protocol/fuzz.js';
import type { Prng } from '../../protocol/fuzz.js';
import { ProcState, autoPorts, boundPorts, hostUdpPorts, isLoopbackHex } from './procnet.js';

const SEED = 0x5eed0500;
const textSeeds = PROC_NET_TEXTS.map((s) => new TextEncoder().encode(s));

function ensurePorts(ports: Set<number>): void {
  for (const p of ports) ensure(Number.isInteger(p) && p >= 1 && p <= 65535, `port ${p}`);
}

test('fuzz: boundPorts and friends on mutated /proc/net texts', (t) => {
  const r = fuzz('procnet (mutated)', textSeeds, 10_000, SEED, (input) => {
    const text = Buffer.from(input).toString(input.length % 2 === 0 ? 'latin1' : 'utf8');
    for (const state of [ProcState.UdpUnconnected, ProcState.TcpListen]) {
      ensurePorts(boundPorts(text, state, new Set()));
      ensurePorts(boundPorts(text, state, new Set(), true));
    }
    ensurePorts(autoPorts({ udp: [text], tcp: [text] }, true));
    ensurePorts(hostUdpPorts([text]));
    for (const word of text.split(/[\s:]+/)) isLoopbackHex(word);
  });
  t.log(`${r.cases} cases in ${r.ms.toFixed(0)} ms`);
  t.pass();
});

// ---------------------------------------------------------------------------------------------
// Generated texts against a model

interface Socket { addr: Uint8Array; port: number; state: number }

/** An address as the kernel prints it: each 32-bit word in host (little-endian) order, upper-case hex. */
function procHex(addr: Uint8Array): string {
  let s = '';
  for (let w = 0; w < addr.length; w += 4) {
    const v = (addr[w]! | (addr[w + 1]! << 8) | (addr[w + 2]! << 16) | (addr[w + 3]! << 24)) >>> 0;
    s += v.toString(16).toUpperCase().padStart(8, '0');
  }
  return s;
}

/** The model: 127/8, ::1 and ::ffff:127.0.0.0/104 are loopback. */
function isLoopback(a: Uint8Array): boolean {
  if (a.length === 4) return a[0] === 127;
  const mapped = a.subarray(0, 10).every((x) => x === 0) && a[10] === 0xff && a[11] === 0xff;
  return (mapped && a[12] === 127) || (a.subarray(0, 15).every((x) => x === 0) && a[15] === 1);
}

function randomAddr(rng: Prng, v6: boolean): Uint8Array {
  const a = rng.bytes(v6 ? 16 : 4);
  const kind = rng.below(4);
  if (!v6 && kind === 0) a[0] = 127;
  if (v6 && kind === 0) a.set([...new Array<number>(15).fill(0), 1]);
  if (v6 && kind === 1) a.set([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127]);
  if (kind === 2) a.fill(0);
  return a;
}

function socketLine(rng: Prng, i: number, s: Socket): string {
  const sp = (): string => ' '.repeat(rng.between(1, 3));
  const hex = (n: number, w: number): string => n.toString(16).padStart(w, '0');
  const port = rng.chance(0.5) ? hex(s.port, 4).toUpperCase() : hex(s.port, 4);
  const remote = `${procHex(new Uint8Array(s.addr.length))}:0000`;
  return `${' '.repeat(rng.below(4))}${i}:${sp()}${procHex(s.addr)}:${port}${sp()}${remote}${sp()}${hex(s.state, 2).toUpperCase()}` +
    `${sp()}00000000:00000000 00:00000000 00000000     0        0 ${rng.below(99999)} 2 0000000000000000 0`;
}

test('fuzz: generated /proc/net texts give the ports of the model', (t) => {
  const r = fuzz('procnet (model)', textSeeds, 3_000, SEED + 1, (_input, rng) => {
    const v6 = rng.chance(0.5);
    const socks: Socket[] = Array.from({ length: rng.below(30) }, () => ({
      addr: randomAddr(rng, v6), port: rng.chance(0.1) ? 0 : rng.between(1, 65535), state: rng.pick([0x01, 0x07, 0x0a, 0x06]),
    }));
    const text = ['  sl  local_address rem_address   st tx_queue ...', ...socks.map((s, i) => socketLine(rng, i, s)), ''].join('\n');
    for (const withLoopback of [false, true]) {
      for (const state of [ProcState.UdpUnconnected, ProcState.TcpListen]) {
        const want = new Set(socks.filter((s) => s.state === state && s.port > 0 && (withLoopback || !isLoopback(s.addr))).map((s) => s.port));
        const got = boundPorts(text, state, new Set(), withLoopback);
        ensure([...got].sort().join() === [...want].sort().join(), `ports ${[...got].join()} instead of ${[...want].join()}\n${text}`);
      }
    }
  });
  t.log(`${r.cases} cases in ${r.ms.toFixed(0)} ms`);
  t.pass();
});
