// Internet sockets: text addresses (inet_pton/inet_ntop) in and out of bind, connect, accept,
// getsockname/getpeername, sendto/recvfrom, sendmmsg/recvmmsg, and ping sockets.
//
// Addresses: "" means any. An AF_INET6 socket given IPv4 text gets the IPv4-mapped address for
// bind/connect (found with getsockopt(SO_DOMAIN)); sendto/sendmmsg pass IPv4 text as a sockaddr_in,
// which the kernel accepts on AF_INET6 UDP sockets. Addresses come back as inet_ntop text, so an
// IPv4-mapped peer on an AF_INET6 socket reads "::ffff:127.0.0.1". "fe80::1%eth0" and "fe80::1%2" set
// the scope id; scope ids are not reported back.
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "addon.h"

namespace passt {

static constexpr size_t kMaxMmsg = 1024;  // UIO_MAXIOV

struct SockAddr {
  sockaddr_storage ss;
  socklen_t len;
};

static uint32_t ScopeId(const char* scope) {
  char* end = nullptr;
  unsigned long n = strtoul(scope, &end, 10);
  if (*scope != '\0' && end != nullptr && *end == '\0') return static_cast<uint32_t>(n);
  return if_nametoindex(scope);
}

static bool ParseV6(const char* text, uint16_t port, SockAddr* sa) {
  char host[INET6_ADDRSTRLEN + IFNAMSIZ + 2];
  snprintf(host, sizeof host, "%s", text);
  char* pct = strchr(host, '%');
  if (pct != nullptr) *pct = '\0';
  auto* s6 = reinterpret_cast<sockaddr_in6*>(&sa->ss);
  if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1) return false;
  s6->sin6_family = AF_INET6;
  s6->sin6_port = htons(port);
  if (pct != nullptr) s6->sin6_scope_id = ScopeId(pct + 1);
  sa->len = sizeof *s6;
  return true;
}

// Text + port to a sockaddr; `domain` AF_INET6 maps IPv4 text, 0 follows the text. False if unparsable.
static bool ParseAddr(const char* text, uint16_t port, int domain, SockAddr* sa) {
  memset(sa, 0, sizeof *sa);
  in_addr v4;
  bool isV4 = inet_pton(AF_INET, text, &v4) == 1 || (text[0] == '\0' && domain != AF_INET6);
  if (text[0] == '\0') v4.s_addr = htonl(INADDR_ANY);
  if (isV4 && domain != AF_INET6) {
    auto* s4 = reinterpret_cast<sockaddr_in*>(&sa->ss);
    s4->sin_family = AF_INET;
    s4->sin_port = htons(port);
    s4->sin_addr = v4;
    sa->len = sizeof *s4;
    return true;
  }
  if (text[0] == '\0') return ParseV6("::", port, sa);
  if (!isV4) return ParseV6(text, port, sa);
  char mapped[INET_ADDRSTRLEN + 8];
  snprintf(mapped, sizeof mapped, "::ffff:%s", text);
  return ParseV6(mapped, port, sa);
}

static uint16_t ArgPort(const Napi::CallbackInfo& info, size_t i) {
  uint32_t port = ArgU32(info, i);
  if (port > 65535) ThrowRange(info.Env(), "port must be 0..65535");
  return static_cast<uint16_t>(port);
}

// Reads the address text at argument i and the port at i+1 into sa.
static void ArgAddr(const Napi::CallbackInfo& info, size_t i, int domain, SockAddr* sa) {
  char text[INET6_ADDRSTRLEN + IFNAMSIZ + 2];
  ArgStr(info, i, text, sizeof text);
  if (!ParseAddr(text, ArgPort(info, i + 1), domain, sa)) ThrowType(info.Env(), "not an IPv4/IPv6 address");
}

static int SockDomain(Napi::Env env, int fd) {
  int domain = 0;
  socklen_t len = sizeof domain;
  if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0) ThrowErrno(env, "getsockopt", errno);
  return domain;
}

// Sets o.addr and o.port from a sockaddr ("" and 0 for non-inet families).
static void SetAddr(Napi::Env env, Napi::Object o, const sockaddr_storage* ss) {
  char text[INET6_ADDRSTRLEN] = "";
  int port = 0;
  if (ss->ss_family == AF_INET) {
    auto* s4 = reinterpret_cast<const sockaddr_in*>(ss);
    inet_ntop(AF_INET, &s4->sin_addr, text, sizeof text);
    port = ntohs(s4->sin_port);
  } else if (ss->ss_family == AF_INET6) {
    auto* s6 = reinterpret_cast<const sockaddr_in6*>(ss);
    inet_ntop(AF_INET6, &s6->sin6_addr, text, sizeof text);
    port = ntohs(s6->sin6_port);
  }
  o.Set("addr", Napi::String::New(env, text));
  o.Set("port", Napi::Number::New(env, port));
}

static Napi::Value BindInet(const Napi::CallbackInfo& info) {
  int fd = ArgInt(info, 0);
  SockAddr sa;
  ArgAddr(info, 1, SockDomain(info.Env(), fd), &sa);
  if (bind(fd, reinterpret_cast<sockaddr*>(&sa.ss), sa.len) < 0) ThrowErrno(info.Env(), "bind", errno);
  return info.Env().Undefined();
}

// connect(2): 0 when connected, EINPROGRESS (115) when pending, throws otherwise.
static Napi::Value ConnectInet(const Napi::CallbackInfo& info) {
  int fd = ArgInt(info, 0);
  SockAddr sa;
  ArgAddr(info, 1, SockDomain(info.Env(), fd), &sa);
  if (connect(fd, reinterpret_cast<sockaddr*>(&sa.ss), sa.len) == 0) return Napi::Number::New(info.Env(), 0);
  if (errno == EINPROGRESS) return Napi::Number::New(info.Env(), EINPROGRESS);
  ThrowErrno(info.Env(), "connect", errno);
}

// accept4(SOCK_NONBLOCK|SOCK_CLOEXEC); null on EAGAIN.
static Napi::Value Accept(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int lfd = ArgInt(info, 0);
  sockaddr_storage ss{};
  socklen_t len;
  int fd;
  do {
    len = sizeof ss;
    fd = accept4(lfd, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0 && errno == EAGAIN) return env.Null();
  if (fd < 0) ThrowErrno(env, "accept4", errno);
  Napi::Object r = Napi::Object::New(env);
  r.Set("fd", Napi::Number::New(env, fd));
  SetAddr(env, r, &ss);
  return r;
}

using NameFn = int (*)(int, sockaddr*, socklen_t*);

static Napi::Value Name(const Napi::CallbackInfo& info, NameFn fn, const char* syscall) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (fn(ArgInt(info, 0), reinterpret_cast<sockaddr*>(&ss), &len) < 0) ThrowErrno(info.Env(), syscall, errno);
  Napi::Object r = Napi::Object::New(info.Env());
  SetAddr(info.Env(), r, &ss);
  return r;
}

static Napi::Value SockName(const Napi::CallbackInfo& info) { return Name(info, getsockname, "getsockname"); }
static Napi::Value PeerName(const Napi::CallbackInfo& info) { return Name(info, getpeername, "getpeername"); }

// sendTo(fd, buf, off, len, addr, port): sendto(2) with MSG_NOSIGNAL; -1 on EAGAIN.
static Napi::Value SendTo(const Napi::CallbackInfo& info) {
  int fd = ArgInt(info, 0);
  Bytes b = ArgRange(info, 1);
  SockAddr sa;
  ArgAddr(info, 4, 0, &sa);
  ssize_t n;
  do n = sendto(fd, b.data, b.len, MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&sa.ss), sa.len);
  while (n < 0 && errno == EINTR);
  if (n < 0 && errno == EAGAIN) return Napi::Number::New(info.Env(), -1);
  if (n < 0) ThrowErrno(info.Env(), "sendto", errno);
  return Napi::Number::New(info.Env(), static_cast<double>(n));
}

// recvFrom(fd, buf, off, len): recvfrom(2); null on EAGAIN.
static Napi::Value RecvFrom(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgInt(info, 0);
  Bytes b = ArgRange(info, 1);
  sockaddr_storage ss{};
  socklen_t len;
  ssize_t n;
  do {
    len = sizeof ss;
    n = recvfrom(fd, b.data, b.len, 0, reinterpret_cast<sockaddr*>(&ss), &len);
  } while (n < 0 && errno == EINTR);
  if (n < 0 && errno == EAGAIN) return env.Null();
  if (n < 0) ThrowErrno(env, "recvfrom", errno);
  Napi::Object r = Napi::Object::New(env);
  r.Set("bytes", Napi::Number::New(env, static_cast<double>(n)));
  SetAddr(env, r, &ss);
  return r;
}

// Grows the per-instance scratch arrays to n entries (no allocation once they are big enough).
static void Reserve(AddonData* d, size_t n) {
  if (d->msgs.size() >= n) return;
  d->msgs.resize(n);
  d->iovs.resize(n);
  d->addrs.resize(n);
}

// recvmmsg(fd, buf, slotSize, max) with MSG_WAITFORONE; datagram i lands at buf[i*slotSize]. [] on EAGAIN.
static Napi::Value RecvMmsg(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgInt(info, 0);
  Bytes b = ArgBytes(info, 1);
  size_t slot = ArgSize(info, 2), max = ArgSize(info, 3);
  if (slot == 0 || max == 0 || max > kMaxMmsg) ThrowRange(env, "slotSize must be > 0 and max 1..1024");
  if (slot * max > b.len) ThrowRange(env, "slotSize * max exceeds the buffer");
  AddonData* d = Data(env);
  Reserve(d, max);
  for (size_t i = 0; i < max; i++) {
    d->iovs[i] = iovec{b.data + i * slot, slot};
    d->msgs[i].msg_hdr = msghdr{&d->addrs[i], sizeof d->addrs[i], &d->iovs[i], 1, nullptr, 0, 0};
    d->msgs[i].msg_len = 0;
  }
  int n;
  do n = recvmmsg(fd, d->msgs.data(), static_cast<unsigned>(max), MSG_WAITFORONE, nullptr);
  while (n < 0 && errno == EINTR);
  if (n < 0 && errno != EAGAIN) ThrowErrno(env, "recvmmsg", errno);
  Napi::Array r = Napi::Array::New(env, n < 0 ? 0 : static_cast<size_t>(n));
  for (int i = 0; i < n; i++) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("len", Napi::Number::New(env, d->msgs[i].msg_len));
    SetAddr(env, o, &d->addrs[i]);
    r.Set(static_cast<uint32_t>(i), o);
  }
  return r;
}

// Fills message i of the scratch arrays from a {data, addr, port} object.
static void PackDatagram(Napi::Env env, AddonData* d, size_t i, Napi::Value v) {
  if (!v.IsObject()) ThrowType(env, "datagrams must be {data, addr, port} objects");
  Napi::Object o = v.As<Napi::Object>();
  Bytes data = ValueBytes(env, o.Get("data"));
  char text[INET6_ADDRSTRLEN + IFNAMSIZ + 2];
  ValueStr(env, o.Get("addr"), text, sizeof text);
  Napi::Value port = o.Get("port");
  double p = port.IsNumber() ? port.As<Napi::Number>().DoubleValue() : -1;
  if (text[0] != '\0' && !(p >= 0 && p <= 65535)) ThrowRange(env, "port must be 0..65535");
  SockAddr sa;
  if (text[0] != '\0' && !ParseAddr(text, static_cast<uint16_t>(p), 0, &sa)) ThrowType(env, "bad address");
  if (text[0] != '\0') memcpy(&d->addrs[i], &sa.ss, sa.len);
  d->iovs[i] = iovec{data.data, data.len};
  d->msgs[i].msg_hdr = msghdr{text[0] != '\0' ? &d->addrs[i] : nullptr, text[0] != '\0' ? sa.len : 0,
                              &d->iovs[i], 1, nullptr, 0, 0};
}

// sendmmsg(fd, dgrams) with MSG_NOSIGNAL: datagrams sent, -1 on EAGAIN.
static Napi::Value SendMmsg(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgInt(info, 0);
  if (!info[1].IsArray()) ThrowType(env, "dgrams must be an array");
  Napi::Array arr = info[1].As<Napi::Array>();
  size_t count = arr.Length();
  if (count == 0) return Napi::Number::New(env, 0);
  if (count > kMaxMmsg) ThrowRange(env, "at most 1024 datagrams per call");
  AddonData* d = Data(env);
  Reserve(d, count);
  for (size_t i = 0; i < count; i++) PackDatagram(env, d, i, arr.Get(static_cast<uint32_t>(i)));
  int n;
  do n = sendmmsg(fd, d->msgs.data(), static_cast<unsigned>(count), MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0 && errno == EAGAIN) return Napi::Number::New(env, -1);
  if (n < 0) ThrowErrno(env, "sendmmsg", errno);
  return Napi::Number::New(env, n);
}

// socket(AF_INET[6], SOCK_DGRAM|SOCK_NONBLOCK|SOCK_CLOEXEC, IPPROTO_ICMP[V6]).
static Napi::Value PingSocket(const Napi::CallbackInfo& info) {
  int v = ArgInt(info, 0);
  if (v != 4 && v != 6) ThrowRange(info.Env(), "family must be 4 or 6");
  int fd = v == 4 ? socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMP)
                  : socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMPV6);
  if (fd < 0) ThrowErrno(info.Env(), "socket", errno);
  return Napi::Number::New(info.Env(), fd);
}

void InitInet(Napi::Env env, Napi::Object exports) {
  SetFn(env, exports, "bindInet", BindInet);
  SetFn(env, exports, "connectInet", ConnectInet);
  SetFn(env, exports, "accept", Accept);
  SetFn(env, exports, "sockName", SockName);
  SetFn(env, exports, "peerName", PeerName);
  SetFn(env, exports, "sendTo", SendTo);
  SetFn(env, exports, "recvFrom", RecvFrom);
  SetFn(env, exports, "recvmmsg", RecvMmsg);
  SetFn(env, exports, "sendmmsg", SendMmsg);
  SetFn(env, exports, "pingSocket", PingSocket);
}

}  // namespace passt
