/**
 * The UDP actor's host sockets: opening a flow socket or a -u listener, with the options they need.
 * I/O only (syscalls through the addon); the decisions are in mapping.ts and forward.ts.
 *
 * Syscalls: socket, setsockopt (IPV6_V6ONLY, SO_REUSEADDR, IP_RECVERR/IPV6_RECVERR, SO_BINDTODEVICE),
 * bind, connect, close.
 */
import { constants as C, native } from '../../native/index.js';
import type { ListenSpec } from './forward.js';

export interface FlowSocketSpec {
  family: 4 | 6;
  /** the guest's source port: kept on the host when it is free */
  port: number;
  /** where the socket is connected */
  addr: string;
  dstPort: number;
  /** -o address and --outbound-if* interface ('' / null: none) */
  bindAddr: string;
  bindIf: string | null;
}

function udpSocket(family: 4 | 6): number {
  const fd = native.socket(family === 4 ? C.AF_INET : C.AF_INET6, C.SOCK_DGRAM, 0);
  try {
    if (family === 6) native.setsockoptInt(fd, C.IPPROTO_IPV6, C.IPV6_V6ONLY, 1);
    // flows from one guest port to several destinations each bind that port (and -u listeners too);
    // each flow socket is connected, so the kernel hands it only its own peer's datagrams
    native.setsockoptInt(fd, C.SOL_SOCKET, C.SO_REUSEADDR, 1);
  } catch (e) {
    native.close(fd, true);
    throw e;
  }
  return fd;
}

/** A socket of a flow: bound to the guest's source port when possible, connected to the destination. */
export function openFlowSocket(s: FlowSocketSpec): number {
  const fd = udpSocket(s.family);
  try {
    if (s.family === 4) native.setsockoptInt(fd, C.IPPROTO_IP, C.IP_RECVERR, 1);
    else native.setsockoptInt(fd, C.IPPROTO_IPV6, C.IPV6_RECVERR, 1);
    if (s.bindIf !== null) native.bindToDevice(fd, s.bindIf);
    bindPreferring(fd, s.bindAddr, s.port);
    native.connectInet(fd, s.addr, s.dstPort);
    return fd;
  } catch (e) {
    native.close(fd, true);
    throw e;
  }
}

/** bind(addr, port), or, when that port is taken or privileged, any port (connect picks one). */
function bindPreferring(fd: number, addr: string, port: number): void {
  try {
    native.bindInet(fd, addr, port);
  } catch {
    if (addr !== '') native.bindInet(fd, addr, 0);
  }
}

/** A -u listener: bound (to its address and interface if the SPEC gave them), not connected. */
export function openListener(s: ListenSpec): number {
  const fd = udpSocket(s.family);
  try {
    if (s.ifname !== null) native.bindToDevice(fd, s.ifname);
    native.bindInet(fd, s.addr ?? '', s.port);
    return fd;
  } catch (e) {
    native.close(fd, true);
    throw e;
  }
}
