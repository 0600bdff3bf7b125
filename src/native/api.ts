/**
 * The contract of the native addon (src/native/addon.cc), as TypeScript types.
 *
 * The addon only makes syscalls: argument checks, errno mapping, no policy. Every failing call throws an
 * `ErrnoError` ({errno, code, syscall}); EAGAIN on a non-blocking fd is *not* thrown where a function says
 * so (it returns -1 / null / 0 instead), because it is the normal case on a hot path.
 *
 * Each function's comment names the syscalls it makes, so a seccomp allow-list can be read off this file.
 */

/** A 64-bit epoll reference, split into two 32-bit halves (JS numbers cannot hold 64 bits exactly). */
export interface EpollRef {
  hi: number;
  lo: number;
}

export interface RecvmsgResult {
  /** bytes received; 0 means EOF (peer closed) */
  bytes: number;
  /** file descriptors received with SCM_RIGHTS (already owned by this process) */
  fds: number[];
}

export interface MmsgDatagram {
  data: Uint8Array;
  /** peer address as text ("192.0.2.1" or "2001:db8::1"), and port */
  addr: string;
  port: number;
}

/** One error from a socket's error queue (IP_RECVERR / IPV6_RECVERR), as `recvErr` returns it. */
export interface SockErr {
  /** payload bytes copied into the buffer (for UDP: what the ICMP message quoted after the UDP header) */
  bytes: number;
  /** the payload did not fit the buffer */
  truncated: boolean;
  /** sock_extended_err: ee_errno (ECONNREFUSED, EMSGSIZE, EHOSTUNREACH...), ee_origin (1 local, 2 ICMP,
   * 3 ICMPv6), ee_type, ee_code, ee_info (the MTU for "fragmentation needed" / "packet too big") */
  errno: number;
  origin: number;
  type: number;
  code: number;
  info: number;
  /** the node that reported the error (SO_EE_OFFENDER); "" if none */
  offender: string;
  offenderPort: number;
  /** where the datagram the error is about was going (msg_name) */
  dest: string;
  destPort: number;
}

export interface TcpInfo {
  state: number;
  rtt: number; // µs
  rttvar: number;
  sndMss: number;
  rcvMss: number;
  sndWscale: number;
  rcvWscale: number;
  sndCwnd: number;
  bytesAcked: number; // low 53 bits are exact
  bytesReceived: number;
  notsentBytes: number;
  minRtt: number;
  rcvSpace: number;
}

export interface NativeAddon {
  // --- errors & misc ---------------------------------------------------------------------------
  /** close(2). Ignores EBADF only if `quiet` is true. */
  close(fd: number, quiet?: boolean): void;
  /** dup(2) with F_DUPFD_CLOEXEC. */
  dup(fd: number): number;
  /** fcntl(F_GETFL/F_SETFL) O_NONBLOCK. */
  setNonBlocking(fd: number, on: boolean): void;
  /** fcntl(F_GETFD/F_SETFD) FD_CLOEXEC. */
  setCloexec(fd: number, on: boolean): void;
  /** read(2) into buf[off, off+len). Returns bytes, 0 on EOF, -1 on EAGAIN. */
  read(fd: number, buf: Uint8Array, off: number, len: number): number;
  /** write(2) from buf[off, off+len). Returns bytes written, -1 on EAGAIN. */
  write(fd: number, buf: Uint8Array, off: number, len: number): number;
  /**
   * Reads up to `max` frames from a tap fd (one read(2) per frame, until EAGAIN or `max`).
   * Frames are laid out back to back in `buf`; `lens[i]` receives frame i's length.
   * A read after the first needs at least `minRoom` bytes left in `buf` (default 65549: a 65535-byte
   * MTU plus the Ethernet header), so no frame is ever truncated; the first read always happens.
   * Returns the number of frames read; -1 if the fd reported EOF before any frame (tap gone).
   * An error after at least one frame ends the batch quietly (the next call throws it).
   * Syscalls: read.
   */
  readBatch(fd: number, buf: Uint8Array, lens: Uint32Array, max: number, minRoom?: number): number;
  /**
   * Writes `count` frames laid out back to back in `buf` (lengths in `lens`), one write(2) per frame
   * (a tap write must be exactly one frame). Returns frames written (stops at EAGAIN). Syscalls: write.
   */
  writeBatch(fd: number, buf: Uint8Array, lens: Uint32Array, count: number): number;
  /** getpid(2), gettid(2). */
  getpid(): number;
  gettid(): number;
  /** prctl(PR_SET_PDEATHSIG, sig). */
  setParentDeathSignal(sig: number): void;

  // --- tap & namespaces ------------------------------------------------------------------------
  /**
   * open("/dev/net/tun", O_RDWR|O_NONBLOCK|O_CLOEXEC) + ioctl(TUNSETIFF, IFF_TAP|IFF_NO_PI) with `name`.
   * Returns {fd, name} (the kernel may fill a name pattern like "tap%d").
   */
  tapOpen(name: string): { fd: number; name: string };
  /** open(path, O_RDONLY|O_CLOEXEC) for a namespace file such as /proc/PID/ns/net. */
  openNs(path: string): number;
  /** setns(fd, nstype) on the calling thread; nstype 0 = any. */
  setns(fd: number, nstype: number): void;
  /** ioctl(NS_GET_USERNS) → fd, or fstat-based inode comparison helpers. Returns st_ino of an fd. */
  fdInode(fd: number): number;
  /** if_nametoindex(3) (ioctl SIOCGIFINDEX); 0 when absent. */
  ifIndex(name: string): number;

  // --- sockets & fd passing --------------------------------------------------------------------
  /** socketpair(AF_UNIX, type|SOCK_CLOEXEC, 0). type: "stream" | "seqpacket" | "dgram". */
  socketpair(type: 'stream' | 'seqpacket' | 'dgram'): [number, number];
  /**
   * sendmsg(2) with the bytes of buf[off, off+len) and `fds` as SCM_RIGHTS (may be empty).
   * MSG_NOSIGNAL. Returns bytes sent, -1 on EAGAIN. At most 253 fds; fds need len >= 1 (RangeError
   * otherwise: a stream socket drops ancillary data sent with no bytes).
   */
  sendFds(sock: number, buf: Uint8Array, off: number, len: number, fds: number[]): number;
  /**
   * recvmsg(2) into buf[off, off+len) with room for up to 253 fds (MSG_CMSG_CLOEXEC).
   * Returns null on EAGAIN.
   */
  recvFds(sock: number, buf: Uint8Array, off: number, len: number): RecvmsgResult | null;
  /**
   * socket(2) of the given family/type/protocol, always SOCK_NONBLOCK|SOCK_CLOEXEC.
   * family: 2 (AF_INET), 10 (AF_INET6), 1 (AF_UNIX), 16 (AF_NETLINK). type: 1 stream, 2 dgram, 3 raw, 5 seqpacket.
   */
  socket(family: number, type: number, protocol: number): number;
  /**
   * bind(2) to an IPv4/IPv6 text address and port ("" means any). On an AF_INET6 socket IPv4 text is
   * bound as its IPv4-mapped address (the socket's family comes from getsockopt(SO_DOMAIN), also for
   * connectInet). "fe80::1%eth0" / "fe80::1%2" set the scope id.
   */
  bindInet(fd: number, addr: string, port: number): void;
  /** connect(2) to an IPv4/IPv6 text address and port. Returns 0, or EINPROGRESS's errno (115) when pending. */
  connectInet(fd: number, addr: string, port: number): number;
  /** listen(2). */
  listen(fd: number, backlog: number): void;
  /** bind(2) of an AF_UNIX socket to a filesystem path (RangeError if it does not fit sun_path). */
  bindUnix(fd: number, path: string): void;
  /**
   * connect(2) of an AF_UNIX socket to a filesystem path. Returns 0 when connected, 11 (EAGAIN) when
   * the listener's backlog is full on a non-blocking socket; throws otherwise (ENOENT, ECONNREFUSED...).
   */
  connectUnix(fd: number, path: string): number;
  /** accept4(2) with SOCK_NONBLOCK|SOCK_CLOEXEC; null on EAGAIN. */
  accept(fd: number): { fd: number; addr: string; port: number } | null;
  /** getsockname(2) / getpeername(2) for inet sockets. */
  sockName(fd: number): { addr: string; port: number };
  peerName(fd: number): { addr: string; port: number };
  /** setsockopt(2) with an int value. */
  setsockoptInt(fd: number, level: number, opt: number, value: number): void;
  /** getsockopt(2) of an int value (SO_ERROR etc.). */
  getsockoptInt(fd: number, level: number, opt: number): number;
  /** setsockopt(SOL_SOCKET, SO_LINGER, {onoff, seconds}); (fd, 1, 0): the last close() sends a RST. */
  setLinger(fd: number, onoff: number, seconds: number): void;
  /** setsockopt(SOL_SOCKET, SO_BINDTODEVICE, name). */
  bindToDevice(fd: number, ifname: string): void;
  /** shutdown(2); how: 0 RD, 1 WR, 2 RDWR. */
  shutdown(fd: number, how: number): void;
  /** send(2) with flags | MSG_NOSIGNAL; -1 on EAGAIN. */
  send(fd: number, buf: Uint8Array, off: number, len: number, flags: number): number;
  /** recv(2) with flags (MSG_PEEK etc.); 0 on EOF, -1 on EAGAIN. */
  recv(fd: number, buf: Uint8Array, off: number, len: number, flags: number): number;
  /** sendto(2) to an inet address; -1 on EAGAIN. IPv4 text goes as a sockaddr_in (Linux accepts it on AF_INET6 UDP sockets). */
  sendTo(fd: number, buf: Uint8Array, off: number, len: number, addr: string, port: number): number;
  /** recvfrom(2); null on EAGAIN. */
  recvFrom(fd: number, buf: Uint8Array, off: number, len: number): { bytes: number; addr: string; port: number } | null;
  /** recvmmsg(2): up to `max` datagrams, each into its own slot of `slotSize` bytes in buf. [] on EAGAIN. */
  recvmmsg(fd: number, buf: Uint8Array, slotSize: number, max: number): { len: number; addr: string; port: number }[];
  /** sendmmsg(2): datagrams to their addresses (addr "" = connected). Returns count sent, -1 on EAGAIN. */
  sendmmsg(fd: number, dgrams: MmsgDatagram[]): number;
  /**
   * recvmsg(2) with MSG_ERRQUEUE|MSG_DONTWAIT: one queued socket error (needs IP_RECVERR/IPV6_RECVERR),
   * its payload into buf[off, off+len). null when the queue is empty.
   */
  recvErr(fd: number, buf: Uint8Array, off: number, len: number): SockErr | null;
  /** getsockopt(TCP_INFO). */
  tcpInfo(fd: number): TcpInfo;
  /** ioctl(SIOCOUTQ) / ioctl(SIOCINQ): bytes in the send / receive queue. */
  outq(fd: number): number;
  inq(fd: number): number;

  // --- event machinery -------------------------------------------------------------------------
  /** epoll_create1(EPOLL_CLOEXEC). */
  epollCreate(): number;
  /** epoll_ctl(op, fd, {events, data.u64 = hi<<32|lo}). op: 1 ADD, 2 DEL, 3 MOD. */
  epollCtl(epfd: number, op: number, fd: number, events: number, refHi: number, refLo: number): void;
  /**
   * epoll_wait(epfd, max, timeoutMs). Fills out[3*i] = ref hi, out[3*i+1] = ref lo, out[3*i+2] = events.
   * Returns the number of events (0 on timeout or EINTR).
   */
  epollWait(epfd: number, out: Uint32Array, max: number, timeoutMs: number): number;
  /**
   * Starts a libuv poll (uv_poll_t, UV_READABLE) on `fd` in the *calling thread's* event loop; `cb` runs
   * on that loop each time fd is readable. Returns a watcher id for pollStop. Works in worker threads.
   * Level-triggered. An exception thrown by `cb` is an ordinary uncaught exception of that thread. A
   * watcher keeps its loop alive until pollStop; a thread exiting with live watchers is cleaned up.
   * libuv sets O_NONBLOCK on fd. Syscalls (made by libuv): ioctl(FIONBIO), epoll_ctl.
   */
  pollStart(fd: number, cb: (events: number) => void, events?: number): number;
  /**
   * Changes the events a poll watches (uv_poll_start again): 1 = readable (UV_READABLE),
   * 2 = writable (UV_WRITABLE), 3 = both. `cb` receives the UV_* bits that fired (or a negative
   * libuv status on error). Default for pollStart is 1.
   */
  pollUpdate(id: number, events: number): void;
  pollStop(id: number): void;
  /** eventfd(0, EFD_NONBLOCK|EFD_CLOEXEC); eventfdWrite adds n; eventfdRead returns the counter or 0 on EAGAIN. */
  eventfd(): number;
  eventfdWrite(fd: number, n: number): void;
  eventfdRead(fd: number): number;
  /** timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK|TFD_CLOEXEC) and timerfd_settime (ms, interval ms). */
  timerfd(): number;
  timerfdSet(fd: number, firstMs: number, intervalMs: number): void;

  // --- splice & pipes --------------------------------------------------------------------------
  /** pipe2(O_NONBLOCK|O_CLOEXEC) → [read, write]; optional fcntl(F_SETPIPE_SZ). */
  pipe(size: number): [number, number];
  /** splice(2) with SPLICE_F_MOVE|SPLICE_F_NONBLOCK; returns bytes, 0 on EOF, -1 on EAGAIN. */
  splice(fdIn: number, fdOut: number, len: number): number;

  // --- ICMP echo -------------------------------------------------------------------------------
  /** socket(AF_INET[6], SOCK_DGRAM, IPPROTO_ICMP[V6]) non-blocking: an unprivileged ping socket. */
  pingSocket(family: 4 | 6): number;

  // --- memory ---------------------------------------------------------------------------------
  /** memfd_create(name, MFD_CLOEXEC) + ftruncate(size). */
  memfd(name: string, size: number): number;
  /** mmap(MAP_SHARED) of a memfd as an external ArrayBuffer (munmap when collected). */
  mmapShared(fd: number, size: number): ArrayBuffer;

  // --- checksum ------------------------------------------------------------------------------
  /**
   * One's-complement sum (not folded to 16 bits, not inverted) of buf[off, off+len), plus `initial`
   * (an integer below 2^53). The result is a uint32 that can be passed on as `initial` (split buffers at
   * even lengths) or folded by csumFold.
   */
  csumPartial(buf: Uint8Array, off: number, len: number, initial: number): number;
  /** Folded, inverted Internet checksum of buf[off, off+len) starting from a partial sum. */
  csumFold(partial: number): number;

  // --- process ------------------------------------------------------------------------------
  /** kill(pid, 0) → true if the process exists (EPERM counts as existing). */
  processExists(pid: number): boolean;
  /** setrlimit(RLIMIT_NOFILE): soft limit raised to the hard limit; the soft limit now in force. */
  raiseNofileLimit(): number;
}
