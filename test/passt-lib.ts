/**
 * Helpers for the passt end-to-end tests: our passt in the private topology's host namespace, a
 * qemu-like client on its UNIX socket (length-prefixed Ethernet frames, as `-netdev stream`), and the
 * frames such a guest sends (ARP, DHCP DISCOVER, a TCP SYN), built with the project's own builders.
 */
import type { ExecutionContext } from 'ava';
import { createConnection, type Socket } from 'node:net';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PASST, background, waitFor, type Background } from './helpers.js';
import { makeTopology, type Topology } from './topology.js';
import { buildArp, buildTcp4, buildUdp4, Headroom } from '../src/protocol/frame.js';
import { parseIpv4U32 } from '../src/protocol/addr.js';

export const GUEST_MAC = Uint8Array.of(0x52, 0x54, 0x00, 0x12, 0x34, 0x56);
const BROADCAST = new Uint8Array(6).fill(0xff);

export function tempDir(t: ExecutionContext, prefix = 'passt-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface PasstRun {
  topo: Topology;
  sock: string;
  log: string;
  passt: Background;
}

/** Our passt in the foreground, in a fresh topology's host namespace, on a private socket path. */
export async function startPasst(t: ExecutionContext, args: string[] = []): Promise<PasstRun> {
  const topo = makeTopology(t);
  const dir = tempDir(t);
  const sock = join(dir, 'passt.socket');
  const log = join(dir, 'passt.log');
  const passt = background(t, 'ip', ['netns', 'exec', topo.host, PASST, '-f', '-d', '-l', log, '-s', sock, ...args]);
  const logText = () => (existsSync(log) ? readFileSync(log, 'utf8') : '');
  await waitFor('the socket to be bound', () => existsSync(sock) && logText().includes('You can now start qemu'), 20_000, 50).catch((e: Error) => {
    throw new Error(`${e.message}\n${passt.err()}${logText()}`);
  });
  return { topo, sock, log, passt };
}

/** A qemu-like client: frames out with their 4-byte length, frames in parsed from the byte stream. */
export class StreamClient {
  readonly frames: Uint8Array[] = [];
  closed = false;
  #pending = Buffer.alloc(0);

  private constructor(readonly socket: Socket) {
    socket.on('data', (d: Buffer) => this.#receive(d));
    socket.on('close', () => (this.closed = true));
    socket.on('error', () => {});
  }

  static connect(t: ExecutionContext, path: string): Promise<StreamClient> {
    return new Promise((resolve, reject) => {
      const s = createConnection(path, () => resolve(new StreamClient(s)));
      s.once('error', reject);
      t.teardown(() => void s.destroy());
    });
  }

  /** Wraps an already connected socket (the test's end of a socketpair, for -F). */
  static over(socket: Socket): StreamClient {
    return new StreamClient(socket);
  }

  #receive(d: Buffer): void {
    this.#pending = Buffer.concat([this.#pending, d]);
    while (this.#pending.length >= 4) {
      const len = this.#pending.readUInt32BE(0);
      if (this.#pending.length < 4 + len) return;
      this.frames.push(new Uint8Array(this.#pending.subarray(4, 4 + len)));
      this.#pending = this.#pending.subarray(4 + len);
    }
  }

  /** Raw bytes, as they are (for the protocol-error tests). */
  writeRaw(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  send(frame: Uint8Array): void {
    const head = Buffer.alloc(4);
    head.writeUInt32BE(frame.length);
    this.socket.write(Buffer.concat([head, frame]));
  }

  /** The first received frame (after `from`) that `match` accepts. */
  async expect(what: string, match: (f: Uint8Array) => boolean, timeoutMs = 10_000, from = 0): Promise<Uint8Array> {
    let found: Uint8Array | undefined;
    await waitFor(what, () => (found = this.frames.slice(from).find(match)) !== undefined, timeoutMs, 20);
    return found!;
  }

  async waitClosed(timeoutMs = 5_000): Promise<void> {
    await waitFor('passt to close the connection', () => this.closed, timeoutMs, 20);
  }

  end(): void {
    this.socket.end();
  }
}

const ipU32 = (a: string): number => parseIpv4U32(a) ?? 0;

/** An ARP request from the guest, padded to the 60-byte minimum as qemu sends it. */
export function arpRequest(senderIp: string, targetIp: string): Uint8Array {
  const f = new Uint8Array(60);
  buildArp(f, 0, { dst: BROADCAST, src: GUEST_MAC }, 1, GUEST_MAC, ipU32(senderIp), new Uint8Array(6), ipU32(targetIp));
  return f;
}

export function isArpReply(f: Uint8Array, senderIp: string): boolean {
  const dv = new DataView(f.buffer, f.byteOffset, f.byteLength);
  return f.length >= 42 && dv.getUint16(12) === 0x0806 && dv.getUint16(20) === 2 && dv.getUint32(28) === ipU32(senderIp);
}

/** A DHCP DISCOVER (broadcast, from 0.0.0.0:68). */
export function dhcpDiscover(xid: number): Uint8Array {
  const payloadLen = 300;
  const f = new Uint8Array(Headroom.Udp4 + payloadLen);
  const p = Headroom.Udp4;
  const dv = new DataView(f.buffer);
  f.set([1, 1, 6, 0], p); // BOOTREQUEST, Ethernet, hlen 6, hops 0
  dv.setUint32(p + 4, xid);
  dv.setUint16(p + 10, 0x8000); // broadcast flag
  f.set(GUEST_MAC, p + 28);
  dv.setUint32(p + 236, 0x63825363);
  f.set([53, 1, 1, 55, 4, 1, 3, 6, 26, 255], p + 240); // DISCOVER; ask for mask, router, DNS, MTU
  buildUdp4(f, 0, { dst: BROADCAST, src: GUEST_MAC }, { src: 0, dst: 0xffffffff }, 68, 67, payloadLen);
  return f;
}

export interface DhcpReply {
  type: number;
  yiaddr: string;
  options: Map<number, Uint8Array>;
}

/** The DHCP reply in a frame (IPv4, UDP 67 → 68, matching xid), or null. */
export function parseDhcpReply(f: Uint8Array, xid: number): DhcpReply | null {
  const dv = new DataView(f.buffer, f.byteOffset, f.byteLength);
  if (f.length < Headroom.Udp4 + 240 || dv.getUint16(12) !== 0x0800 || f[23] !== 17) return null;
  const p = Headroom.Udp4;
  if (dv.getUint16(34) !== 67 || dv.getUint16(36) !== 68 || dv.getUint32(p + 4) !== xid) return null;
  const options = new Map<number, Uint8Array>();
  for (let o = p + 240; o < f.length && f[o] !== 255; ) {
    if (f[o] === 0) {
      o++;
      continue;
    }
    const len = f[o + 1]!;
    options.set(f[o]!, f.slice(o + 2, o + 2 + len));
    o += 2 + len;
  }
  return { type: options.get(53)?.[0] ?? 0, yiaddr: [...f.subarray(p + 16, p + 20)].join('.'), options };
}

/** A TCP segment without payload from the guest (at `src`) to `dst`:`port`, to our MAC. */
export function tcpSegment(ourMac: Uint8Array, src: string, dst: string, ports: [number, number], seq: number, ack: number, flags: number): Uint8Array {
  const f = new Uint8Array(Headroom.Tcp4);
  const n = buildTcp4(f, 0, { dst: ourMac, src: GUEST_MAC }, { src: ipU32(src), dst: ipU32(dst), ttl: 64 },
    { srcPort: ports[0], dstPort: ports[1], seq, ack, flags, window: 65535 }, 0);
  return f.subarray(0, n);
}

export const TcpFlag = { Syn: 0x02, Ack: 0x10 } as const;

/** The sequence number of a TCP segment in an IPv4 frame without IP options. */
export function tcpSeq(f: Uint8Array): number {
  return new DataView(f.buffer, f.byteOffset, f.byteLength).getUint32(38);
}

/** True for a TCP segment to the guest from `port` with SYN and ACK set. */
export function isSynAck(f: Uint8Array, port: number): boolean {
  const dv = new DataView(f.buffer, f.byteOffset, f.byteLength);
  return f.length >= Headroom.Tcp4 && dv.getUint16(12) === 0x0800 && f[23] === 6 && dv.getUint16(34) === port && (f[47]! & 0x12) === 0x12;
}
