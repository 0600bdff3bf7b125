/**
 * `-t auto` / `-u auto`: which ports are bound inside the namespace, read from its
 * /proc/net/{udp,udp6,tcp,tcp6} (shared by the tcp and udp actors).
 *
 * A line of those files is `sl local_address rem_address st ...`, addresses in hex as the kernel
 * stores them (IPv4: one 32-bit word; IPv6: four, each in host byte order, little-endian here), the port
 * in big-endian hex. A UDP socket that is bound but not connected shows state 07 (TCP_CLOSE); a
 * listening TCP socket 0A (TCP_LISTEN).
 *
 * For -t/-u auto, sockets bound to the namespace's loopback are left out: what arrives over the tap
 * cannot reach them, and forwarding them would only take host ports for nothing (passt forwards them
 * too; we don't). -U auto reads the HOST's files (`hostUdpPorts`) and keeps loopback-bound sockets.
 * Pure but for `readProcText`: the actors fetch the texts (through the namespace helper for the
 * namespace's files).
 */

import { readFileSync } from 'node:fs';

/** A /proc file of this process's namespace as text, '' if it cannot be read (no IPv6: no tcp6). */
export function readProcText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

export const ProcState = { UdpUnconnected: 0x07, TcpListen: 0x0a } as const;

/**
 * Ports of the sockets of `text` in state `state` added to `out`: not bound to loopback, unless
 * `withLoopback` (-U auto, which mirrors the host's ports, loopback services being the point).
 */
export function boundPorts(text: string, state: number, out: Set<number>, withLoopback = false): Set<number> {
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    const local = f[1], st = f[3];
    if (f.length < 4 || local === undefined || st === undefined || !/^\d+:$/.test(f[0] ?? '')) continue;
    if (parseInt(st, 16) !== state) continue;
    const [addr, port] = local.split(':');
    if (addr === undefined || port === undefined || (!withLoopback && isLoopbackHex(addr))) continue;
    const p = parseInt(port, 16);
    if (p > 0 && p < 65536) out.add(p);
  }
  return out;
}

/** A /proc/net address in hex: 127.0.0.0/8, ::1, or ::ffff:127.x.y.z. */
export function isLoopbackHex(addr: string): boolean {
  const a = addr.toUpperCase();
  if (a.length === 8) return a.endsWith('7F');
  if (a.length !== 32) return false;
  if (a === '00000000000000000000000001000000') return true;
  return a.startsWith('0000000000000000FFFF0000') && a.endsWith('7F');
}

/** What `-u auto` forwards: unconnected UDP sockets, plus TCP listeners when UDP follows TCP. */
export function autoPorts(texts: { udp: string[]; tcp: string[] }, followTcp: boolean): Set<number> {
  const out = new Set<number>();
  for (const t of texts.udp) boundPorts(t, ProcState.UdpUnconnected, out);
  if (followTcp) for (const t of texts.tcp) boundPorts(t, ProcState.TcpListen, out);
  return out;
}

/** What `-U auto` mirrors into the namespace: the host's unconnected UDP sockets, loopback-bound included. */
export function hostUdpPorts(texts: readonly string[]): Set<number> {
  const out = new Set<number>();
  for (const t of texts) boundPorts(t, ProcState.UdpUnconnected, out, true);
  return out;
}
