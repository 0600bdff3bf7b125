/**
 * A small blocking rtnetlink client: one request at a time, each answered before the next is sent.
 *
 * A NETLINK_ROUTE socket acts on the network namespace it was created in, whatever namespace the
 * thread is in later: open it inside the target namespace (setns in, open, setns back, or receive it
 * from a helper living there) and this client configures that namespace.
 *
 * Each request carries a new sequence number; replies with any other number (left over from an earlier
 * request that timed out) are skipped. A request with NLM_F_ACK ends at its NLMSG_ERROR (error 0 is the
 * ACK); a dump ends at NLMSG_DONE and is run again, up to 3 times, if the kernel marks it interrupted
 * (NLM_F_DUMP_INTR: the tables changed under it). Kernel errors are thrown as `NetlinkError`
 * {errno, code, syscall: 'netlink'} with the extended-ACK text when the kernel gives one.
 *
 * The socket is non-blocking: when nothing is waiting, the client blocks the calling thread in
 * epoll_wait, bounded by `timeoutMs` (default 5 s) per request. Meant for start-up configuration, not
 * for a hot path. Syscalls (through the addon): socket, setsockopt, send, recv, epoll_create1,
 * epoll_ctl, epoll_wait, close.
 */
import { constants as osConstants } from 'node:os';
import { ErrnoError, native } from '../native/index.js';
import {
  Af, HOST_LE, emitGetAddrDump, emitGetLinkDump, emitGetRouteDump, emitNewAddr, emitNewRoute, emitSetLink,
  NlmF, nlMessages, NlType, parseAddr, parseError, parseLink, parseRoute,
} from '../protocol/netlink.js';
import type {
  AddrMsg, AddrRequest, ErrorMsg, LinkChange, LinkMsg, NlMessage, RouteMsg, RouteRequest,
} from '../protocol/netlink.js';

const AF_NETLINK = 16;
const SOCK_RAW = 3;
const NETLINK_ROUTE = 0;
const SOL_NETLINK = 270;
const NETLINK_EXT_ACK = 11;
const EPOLLIN = 0x1;
const EPOLL_CTL_ADD = 1;
const RECV_BUF_LEN = 64 * 1024;
const DUMP_TRIES = 3;

/** Reads the host's network state (links, addresses, routes). */
export interface RtnlReader {
  links(): LinkMsg[];
  addrs(family?: number): AddrMsg[];
  routes(family: number): RouteMsg[];
}

/** Changes it. */
export interface RtnlWriter {
  setLink(c: LinkChange): void;
  addAddr(r: AddrRequest): void;
  addRoute(r: RouteRequest): void;
}

/** The socket operations the client needs (a scripted fake kernel in tests). */
export interface NetlinkIo {
  /** Sends one datagram: bytes sent, -1 if the socket would block. */
  send(buf: Uint8Array, len: number): number;
  /** Receives one datagram into buf: its length, -1 when none is waiting. */
  recv(buf: Uint8Array): number;
  /** Waits up to `ms` for a datagram; false on timeout. */
  wait(ms: number): boolean;
  close(): void;
}

const ERRNO_NAMES = new Map<number, string>(
  Object.entries(osConstants.errno).map(([name, n]) => [n, name]),
);

/**
 * A request the kernel refused (errno from NLMSG_ERROR), or that got no answer in time (ETIMEDOUT):
 * an ErrnoError with syscall 'netlink', so `isErrno(e, 'EEXIST')` works on it.
 */
export class NetlinkError extends ErrnoError {
  /** what was asked, e.g. "RTM_NEWROUTE" */
  readonly request: string;
  /** the kernel's extended-ACK text, if any */
  readonly detail: string | null;

  constructor(errno: number, request: string, detail: string | null = null) {
    const code = ERRNO_NAMES.get(errno) ?? `E${errno}`;
    super(`${request}: ${code}${detail ? ` (${detail})` : ''}`, errno, code, 'netlink');
    this.name = 'NetlinkError';
    this.request = request;
    this.detail = detail;
  }
}

/** How a datagram left the request numbered `seq`. */
export type ReplyState =
  | { t: 'more'; interrupted: boolean }
  | { t: 'done'; interrupted: boolean }
  | { t: 'error'; error: ErrorMsg };

/**
 * Hands each message of b[0, len) that answers `seq` to `sink` (the buffer is reused: parse at once)
 * and says whether the request is finished. Pure: the client's loop and its tests share it.
 */
export function readReplies(
  b: Uint8Array, len: number, seq: number, sink: (b: Uint8Array, m: NlMessage) => void,
): ReplyState {
  let interrupted = false;
  for (const m of nlMessages(b, 0, len)) {
    if (m.hdr.seq !== seq) continue;
    if (m.hdr.flags & NlmF.DumpIntr) interrupted = true;
    if (m.hdr.type === NlType.Done) return doneState(b, m, interrupted);
    if (m.hdr.type === NlType.Error) {
      const e = parseError(b, m.off, m.end, m.hdr.flags);
      if (!e || e.errno === 0) return { t: 'done', interrupted };
      return { t: 'error', error: e };
    }
    if (m.hdr.type !== NlType.Noop) sink(b, m);
  }
  return { t: 'more', interrupted };
}

/** NLMSG_DONE may carry a negative errno when the dump itself failed. */
function doneState(b: Uint8Array, m: NlMessage, interrupted: boolean): ReplyState {
  if (m.end - m.off < 4) return { t: 'done', interrupted };
  const code = new DataView(b.buffer, b.byteOffset + m.off, 4).getInt32(0, HOST_LE);
  if (code >= 0) return { t: 'done', interrupted };
  return { t: 'error', error: { errno: -code, request: { ...m.hdr }, message: null } };
}

export interface NetlinkClientOptions {
  /** per request, default 5000 ms */
  timeoutMs?: number;
  /** the first sequence number, default 1 */
  firstSeq?: number;
}

type Emit = (buf: Uint8Array, off: number, seq: number) => number;

export class NetlinkClient implements RtnlReader, RtnlWriter {
  readonly #io: NetlinkIo;
  readonly #buf = new Uint8Array(RECV_BUF_LEN);
  readonly #timeoutMs: number;
  #seq: number;

  constructor(io: NetlinkIo, opts: NetlinkClientOptions = {}) {
    this.#io = io;
    this.#timeoutMs = opts.timeoutMs ?? 5000;
    this.#seq = opts.firstSeq ?? 1;
  }

  /** A client on a new NETLINK_ROUTE socket of the calling thread's current network namespace. */
  static open(opts: NetlinkClientOptions = {}): NetlinkClient {
    return new NetlinkClient(nativeNetlinkIo(native.socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE)), opts);
  }

  /** A client on an existing NETLINK_ROUTE socket (non-blocking); the client owns and closes it. */
  static fromFd(fd: number, opts: NetlinkClientOptions = {}): NetlinkClient {
    return new NetlinkClient(nativeNetlinkIo(fd), opts);
  }

  links(): LinkMsg[] {
    return this.dump('RTM_GETLINK', (b, o, s) => emitGetLinkDump(b, o, s), NlType.NewLink, parseLink);
  }

  /** Addresses of one family (default: all), every interface. */
  addrs(family: number = Af.Unspec): AddrMsg[] {
    return this.dump('RTM_GETADDR', (b, o, s) => emitGetAddrDump(b, o, s, family), NlType.NewAddr, parseAddr);
  }

  /** Routes of one family, every table (filter on `table`). */
  routes(family: number): RouteMsg[] {
    return this.dump('RTM_GETROUTE', (b, o, s) => emitGetRouteDump(b, o, s, family), NlType.NewRoute, parseRoute);
  }

  setLink(c: LinkChange): void {
    this.ack('RTM_NEWLINK', (b, o, s) => emitSetLink(b, o, s, c));
  }

  addAddr(r: AddrRequest): void {
    this.ack('RTM_NEWADDR', (b, o, s) => emitNewAddr(b, o, s, r));
  }

  addRoute(r: RouteRequest): void {
    this.ack('RTM_NEWROUTE', (b, o, s) => emitNewRoute(b, o, s, r));
  }

  /** Sends one request with NLM_F_ACK and waits for its ACK; throws NetlinkError on a refusal. */
  ack(what: string, emit: Emit): void {
    const seq = this.#send(what, emit);
    this.#await(what, seq, () => undefined);
  }

  /** Runs a dump and parses every message of type `type`; again if the kernel says it was interrupted. */
  dump<T>(what: string, emit: Emit, type: number, parse: (b: Uint8Array, off: number, end: number) => T | null): T[] {
    for (let tries = 1; ; tries++) {
      const out: T[] = [];
      const seq = this.#send(what, emit);
      const interrupted = this.#await(what, seq, (b, m) => {
        const v = m.hdr.type === type ? parse(b, m.off, m.end) : null;
        if (v !== null) out.push(v);
      });
      if (!interrupted || tries >= DUMP_TRIES) return out;
    }
  }

  close(): void {
    this.#io.close();
  }

  #send(what: string, emit: Emit): number {
    const seq = this.#seq;
    this.#seq = (this.#seq + 1) >>> 0 || 1;
    const len = emit(this.#buf, 0, seq);
    if (len <= 0) throw new TypeError(`${what}: the request could not be built (bad address text?)`);
    if (this.#io.send(this.#buf, len) !== len) throw new NetlinkError(osConstants.errno.EAGAIN, what);
    return seq;
  }

  /** Reads until request `seq` is finished; returns whether a dump was interrupted. */
  #await(what: string, seq: number, sink: (b: Uint8Array, m: NlMessage) => void): boolean {
    const deadline = Date.now() + this.#timeoutMs;
    let interrupted = false;
    for (;;) {
      const n = this.#io.recv(this.#buf);
      if (n <= 0) {
        const left = deadline - Date.now();
        if (left <= 0) throw new NetlinkError(osConstants.errno.ETIMEDOUT, what);
        this.#io.wait(left);
        continue;
      }
      const st = readReplies(this.#buf, n, seq, sink);
      if (st.t === 'error') throw new NetlinkError(st.error.errno, what, st.error.message);
      interrupted ||= st.interrupted;
      if (st.t === 'done') return interrupted;
    }
  }
}

/**
 * NetlinkIo over a non-blocking netlink fd through the addon. Asks for extended ACKs (error text);
 * an epoll set holding the fd provides the bounded wait.
 */
export function nativeNetlinkIo(fd: number): NetlinkIo {
  try {
    native.setsockoptInt(fd, SOL_NETLINK, NETLINK_EXT_ACK, 1);
  } catch {
    // kernels before 4.12: errors come without text
  }
  const ep = native.epollCreate();
  native.epollCtl(ep, EPOLL_CTL_ADD, fd, EPOLLIN, 0, 0);
  const events = new Uint32Array(3);
  return {
    send: (b, len) => native.send(fd, b, 0, len, 0),
    recv: (b) => native.recv(fd, b, 0, b.length, 0),
    wait: (ms) => native.epollWait(ep, events, 1, Math.min(ms, 60_000)) > 0,
    close: () => {
      native.close(ep, true);
      native.close(fd, true);
    },
  };
}
