// Sockets, family-independent part: socket/socketpair, fd passing with SCM_RIGHTS, options,
// send/recv, shutdown, TCP_INFO and the queue sizes (SIOCOUTQ/SIOCINQ).
#include <linux/sockios.h>
#include <net/if.h>
#include <linux/tcp.h>  // struct tcp_info with the newer fields (not <netinet/tcp.h>: they conflict)
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

#include "addon.h"

namespace passt {

static constexpr size_t kMaxFds = 253;  // SCM_MAX_FD

// socket(family, type|SOCK_NONBLOCK|SOCK_CLOEXEC, protocol).
static Napi::Value Socket(const Napi::CallbackInfo& info) {
  int fd = socket(ArgInt(info, 0), ArgInt(info, 1) | SOCK_NONBLOCK | SOCK_CLOEXEC, ArgInt(info, 2));
  if (fd < 0) ThrowErrno(info.Env(), "socket", errno);
  return Napi::Number::New(info.Env(), fd);
}

static Napi::Array FdPair(Napi::Env env, const int fds[2]) {
  Napi::Array r = Napi::Array::New(env, 2);
  r.Set(0u, Napi::Number::New(env, fds[0]));
  r.Set(1u, Napi::Number::New(env, fds[1]));
  return r;
}

// socketpair(AF_UNIX, type|SOCK_CLOEXEC, 0); blocking, like the contract says.
static Napi::Value SocketPair(const Napi::CallbackInfo& info) {
  char name[16];
  ArgStr(info, 0, name, sizeof name);
  int type;
  if (strcmp(name, "stream") == 0) type = SOCK_STREAM;
  else if (strcmp(name, "seqpacket") == 0) type = SOCK_SEQPACKET;
  else if (strcmp(name, "dgram") == 0) type = SOCK_DGRAM;
  else ThrowType(info.Env(), "socketpair type must be stream, seqpacket or dgram");
  int fds[2];
  if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, fds) < 0) ThrowErrno(info.Env(), "socketpair", errno);
  return FdPair(info.Env(), fds);
}

union FdControl {
  char buf[CMSG_SPACE(sizeof(int) * kMaxFds)];
  cmsghdr align;
};

// Copies the fds argument (an array of int32) into the control buffer; returns the control length.
static size_t PackFds(const Napi::CallbackInfo& info, size_t i, FdControl* ctl) {
  if (!info[i].IsArray()) ThrowType(info.Env(), "fds must be an array");
  Napi::Array arr = info[i].As<Napi::Array>();
  uint32_t n = arr.Length();
  if (n == 0) return 0;
  if (n > kMaxFds) ThrowRange(info.Env(), "at most 253 fds per message");
  int* out = reinterpret_cast<int*>(CMSG_DATA(&ctl->align));
  for (uint32_t k = 0; k < n; k++) {
    Napi::Value v = arr.Get(k);
    if (!v.IsNumber()) ThrowType(info.Env(), "fds must hold numbers");
    out[k] = v.As<Napi::Number>().Int32Value();
  }
  ctl->align.cmsg_level = SOL_SOCKET;
  ctl->align.cmsg_type = SCM_RIGHTS;
  ctl->align.cmsg_len = CMSG_LEN(sizeof(int) * n);
  return CMSG_SPACE(sizeof(int) * n);
}

// sendFds(sock, buf, off, len, fds): sendmsg(2) with SCM_RIGHTS and MSG_NOSIGNAL; -1 on EAGAIN.
static Napi::Value SendFds(const Napi::CallbackInfo& info) {
  int fd = ArgInt(info, 0);
  Bytes b = ArgRange(info, 1);
  FdControl ctl;
  size_t ctlLen = PackFds(info, 4, &ctl);
  if (ctlLen > 0 && b.len == 0) ThrowRange(info.Env(), "fds need at least one byte of data to ride on");
  iovec iov{b.data, b.len};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = ctlLen > 0 ? ctl.buf : nullptr;
  msg.msg_controllen = ctlLen;
  ssize_t n;
  do n = sendmsg(fd, &msg, MSG_NOSIGNAL); while (n < 0 && errno == EINTR);
  if (n < 0 && errno == EAGAIN) return Napi::Number::New(info.Env(), -1);
  if (n < 0) ThrowErrno(info.Env(), "sendmsg", errno);
  return Napi::Number::New(info.Env(), static_cast<double>(n));
}

static Napi::Array UnpackFds(Napi::Env env, msghdr* msg) {
  Napi::Array fds = Napi::Array::New(env);
  uint32_t k = 0;
  for (cmsghdr* c = CMSG_FIRSTHDR(msg); c != nullptr; c = CMSG_NXTHDR(msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    const int* in = reinterpret_cast<const int*>(CMSG_DATA(c));
    for (size_t j = 0; j < n; j++) fds.Set(k++, Napi::Number::New(env, in[j]));
  }
  return fds;
}

// recvFds(sock, buf, off, len): recvmsg(2) with MSG_CMSG_CLOEXEC; null on EAGAIN.
static Napi::Value RecvFds(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgInt(info, 0);
  Bytes b = ArgRange(info, 1);
  FdControl ctl;
  iovec iov{b.data, b.len};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = ctl.buf;
  msg.msg_controllen = sizeof ctl.buf;
  ssize_t n;
  do n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC); while (n < 0 && errno == EINTR);
  if (n < 0 && errno == EAGAIN) return env.Null();
  if (n < 0) ThrowErrno(env, "recvmsg", errno);
  Napi::Object r = Napi::Object::New(env);
  r.Set("bytes", Napi::Number::New(env, static_cast<double>(n)));
  r.Set("fds", UnpackFds(env, &msg));
  return r;
}

// A filesystem AF_UNIX address from the path at argument i; throws a RangeError if it does not fit.
static socklen_t UnixAddr(const Napi::CallbackInfo& info, size_t i, sockaddr_un* sa) {
  memset(sa, 0, sizeof *sa);
  sa->sun_family = AF_UNIX;
  size_t len = ArgStr(info, i, sa->sun_path, sizeof sa->sun_path);
  if (len == 0) ThrowRange(info.Env(), "empty UNIX socket path");
  return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len + 1);
}

// bind(2) to a filesystem path (AF_UNIX).
static Napi::Value BindUnix(const Napi::CallbackInfo& info) {
  sockaddr_un sa;
  socklen_t len = UnixAddr(info, 1, &sa);
  if (bind(ArgInt(info, 0), reinterpret_cast<sockaddr*>(&sa), len) < 0) ThrowErrno(info.Env(), "bind", errno);
  return info.Env().Undefined();
}

// connect(2) to a filesystem path (AF_UNIX): 0 when connected, EAGAIN's errno (11) when the
// listener's backlog is full (non-blocking socket); throws otherwise (ENOENT, ECONNREFUSED...).
static Napi::Value ConnectUnix(const Napi::CallbackInfo& info) {
  sockaddr_un sa;
  socklen_t len = UnixAddr(info, 1, &sa);
  int fd = ArgInt(info, 0), r;
  do r = connect(fd, reinterpret_cast<sockaddr*>(&sa), len); while (r < 0 && errno == EINTR);
  if (r == 0) return Napi::Number::New(info.Env(), 0);
  if (errno == EAGAIN) return Napi::Number::New(info.Env(), EAGAIN);
  ThrowErrno(info.Env(), "connect", errno);
}

static Napi::Value Listen(const Napi::CallbackInfo& info) {
  if (listen(ArgInt(info, 0), ArgInt(info, 1)) < 0) ThrowErrno(info.Env(), "listen", errno);
  return info.Env().Undefined();
}

static Napi::Value SetsockoptInt(const Napi::CallbackInfo& info) {
  int v = ArgInt(info, 3);
  if (setsockopt(ArgInt(info, 0), ArgInt(info, 1), ArgInt(info, 2), &v, sizeof v) < 0)
    ThrowErrno(info.Env(), "setsockopt", errno);
  return info.Env().Undefined();
}

static Napi::Value GetsockoptInt(const Napi::CallbackInfo& info) {
  int v = 0;
  socklen_t len = sizeof v;
  if (getsockopt(ArgInt(info, 0), ArgInt(info, 1), ArgInt(info, 2), &v, &len) < 0)
    ThrowErrno(info.Env(), "getsockopt", errno);
  return Napi::Number::New(info.Env(), v);
}

// setsockopt(SOL_SOCKET, SO_LINGER, {onoff, seconds}). With (1, 0) the last close() resets the connection.
static Napi::Value SetLinger(const Napi::CallbackInfo& info) {
  linger l{ArgInt(info, 1), ArgInt(info, 2)};
  if (setsockopt(ArgInt(info, 0), SOL_SOCKET, SO_LINGER, &l, sizeof l) < 0) ThrowErrno(info.Env(), "setsockopt", errno);
  return info.Env().Undefined();
}

// setsockopt(SOL_SOCKET, SO_BINDTODEVICE, name).
static Napi::Value BindToDevice(const Napi::CallbackInfo& info) {
  char name[IFNAMSIZ];
  size_t len = ArgStr(info, 1, name, sizeof name);
  if (setsockopt(ArgInt(info, 0), SOL_SOCKET, SO_BINDTODEVICE, name, static_cast<socklen_t>(len)) < 0)
    ThrowErrno(info.Env(), "setsockopt", errno);
  return info.Env().Undefined();
}

static Napi::Value Shutdown(const Napi::CallbackInfo& info) {
  if (shutdown(ArgInt(info, 0), ArgInt(info, 1)) < 0) ThrowErrno(info.Env(), "shutdown", errno);
  return info.Env().Undefined();
}

// send(2) with flags|MSG_NOSIGNAL; -1 on EAGAIN.
static Napi::Value Send(const Napi::CallbackInfo& info) {
  int fd = ArgInt(info, 0);
  Bytes b = ArgRange(info, 1);
  int flags = ArgInt(info, 4) | MSG_NOSIGNAL;
  ssize_t n;
  do n = send(fd, b.data, b.len, flags); while (n < 0 && errno == EINTR);
  if (n < 0 && errno == EAGAIN) return Napi::Number::New(info.Env(), -1);
  if (n < 0) ThrowErrno(info.Env(), "send", errno);
  return Napi::Number::New(info.Env(), static_cast<double>(n));
}

// recv(2) with flags; 0 on EOF, -1 on EAGAIN.
static Napi::Value Recv(const Napi::CallbackInfo& info) {
  int fd = ArgInt(info, 0);
  Bytes b = ArgRange(info, 1);
  int flags = ArgInt(info, 4);
  ssize_t n;
  do n = recv(fd, b.data, b.len, flags); while (n < 0 && errno == EINTR);
  if (n < 0 && errno == EAGAIN) return Napi::Number::New(info.Env(), -1);
  if (n < 0) ThrowErrno(info.Env(), "recv", errno);
  return Napi::Number::New(info.Env(), static_cast<double>(n));
}

// getsockopt(IPPROTO_TCP, TCP_INFO).
static Napi::Value TcpInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  tcp_info ti;
  memset(&ti, 0, sizeof ti);
  socklen_t len = sizeof ti;
  if (getsockopt(ArgInt(info, 0), IPPROTO_TCP, TCP_INFO, &ti, &len) < 0) ThrowErrno(env, "getsockopt", errno);
  Napi::Object r = Napi::Object::New(env);
  r.Set("state", Napi::Number::New(env, ti.tcpi_state));
  r.Set("rtt", Napi::Number::New(env, ti.tcpi_rtt));
  r.Set("rttvar", Napi::Number::New(env, ti.tcpi_rttvar));
  r.Set("sndMss", Napi::Number::New(env, ti.tcpi_snd_mss));
  r.Set("rcvMss", Napi::Number::New(env, ti.tcpi_rcv_mss));
  r.Set("sndWscale", Napi::Number::New(env, ti.tcpi_snd_wscale));
  r.Set("rcvWscale", Napi::Number::New(env, ti.tcpi_rcv_wscale));
  r.Set("sndCwnd", Napi::Number::New(env, ti.tcpi_snd_cwnd));
  r.Set("bytesAcked", Napi::Number::New(env, static_cast<double>(ti.tcpi_bytes_acked)));
  r.Set("bytesReceived", Napi::Number::New(env, static_cast<double>(ti.tcpi_bytes_received)));
  r.Set("notsentBytes", Napi::Number::New(env, ti.tcpi_notsent_bytes));
  r.Set("minRtt", Napi::Number::New(env, ti.tcpi_min_rtt));
  r.Set("rcvSpace", Napi::Number::New(env, ti.tcpi_rcv_space));
  return r;
}

static Napi::Value QueueBytes(const Napi::CallbackInfo& info, unsigned long req) {
  int v = 0;
  if (ioctl(ArgInt(info, 0), req, &v) < 0) ThrowErrno(info.Env(), "ioctl", errno);
  return Napi::Number::New(info.Env(), v);
}

static Napi::Value Outq(const Napi::CallbackInfo& info) { return QueueBytes(info, SIOCOUTQ); }
static Napi::Value Inq(const Napi::CallbackInfo& info) { return QueueBytes(info, SIOCINQ); }

void InitSock(Napi::Env env, Napi::Object exports) {
  SetFn(env, exports, "socket", Socket);
  SetFn(env, exports, "socketpair", SocketPair);
  SetFn(env, exports, "sendFds", SendFds);
  SetFn(env, exports, "recvFds", RecvFds);
  SetFn(env, exports, "listen", Listen);
  SetFn(env, exports, "bindUnix", BindUnix);
  SetFn(env, exports, "connectUnix", ConnectUnix);
  SetFn(env, exports, "setsockoptInt", SetsockoptInt);
  SetFn(env, exports, "getsockoptInt", GetsockoptInt);
  SetFn(env, exports, "bindToDevice", BindToDevice);
  SetFn(env, exports, "setLinger", SetLinger);
  SetFn(env, exports, "shutdown", Shutdown);
  SetFn(env, exports, "send", Send);
  SetFn(env, exports, "recv", Recv);
  SetFn(env, exports, "tcpInfo", TcpInfo);
  SetFn(env, exports, "outq", Outq);
  SetFn(env, exports, "inq", Inq);
}

}  // namespace passt
