/**
 * `-T auto` (pasta's default): which host ports the namespace's loopback mirrors. Pure: the actor reads
 * the host's /proc/net/tcp and /proc/net/tcp6 (it runs in the host's namespace) and opens the listeners.
 *
 * Every port with a listening TCP socket on the host is mirrored, on any address, loopback included:
 * reaching the host's loopback services from the namespace is what `-T` is for. Left out: the ports
 * our own `-t` listeners hold on the host (the tcp actor tells us, `host-ports`), or the two automatic
 * directions would mirror each other's listeners forever. (Our -T listeners are on the namespace's
 * loopback, which `-t auto` skips, so the other direction needs no such rule.)
 */
import { ProcState, boundPorts } from '../common/procnet.js';

/** Ports of the listening sockets in a /proc/net/tcp or tcp6 text, any address, added to `out`. */
export function hostListeningPorts(text: string, out: Set<number> = new Set()): Set<number> {
  return boundPorts(text, ProcState.TcpListen, out, true);
}

/** The ports `-T auto` forwards: listening on the host, minus those our `-t` listeners hold. */
export function mirroredPorts(texts: readonly string[], ours: ReadonlySet<number>): Set<number> {
  const all = new Set<number>();
  for (const t of texts) hostListeningPorts(t, all);
  for (const p of ours) all.delete(p);
  return all;
}
