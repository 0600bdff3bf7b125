// The error queue of a socket (IP_RECVERR / IPV6_RECVERR): recvErr reads one queued error with
// recvmsg(MSG_ERRQUEUE) and returns its sock_extended_err fields, the address of the node that reported
// it (SO_EE_OFFENDER), the destination of the datagram it is about (msg_name) and, in the caller's
// buffer, what the kernel kept of that datagram's payload (for UDP: the bytes after the UDP header that
// the ICMP message quoted).
#include <arpa/inet.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "addon.h"

namespace passt {

// Text form of an inet sockaddr ("" for anything else); sets *port.
static void InetText(const sockaddr* sa, char* text, size_t size, int* port) {
  text[0] = '\0';
  *port = 0;
  if (sa->sa_family == AF_INET) {
    auto* s4 = reinterpret_cast<const sockaddr_in*>(sa);
    inet_ntop(AF_INET, &s4->sin_addr, text, static_cast<socklen_t>(size));
    *port = ntohs(s4->sin_port);
  } else if (sa->sa_family == AF_INET6) {
    auto* s6 = reinterpret_cast<const sockaddr_in6*>(sa);
    inet_ntop(AF_INET6, &s6->sin6_addr, text, static_cast<socklen_t>(size));
    *port = ntohs(s6->sin6_port);
  }
}

// The sock_extended_err of an IP_RECVERR / IPV6_RECVERR control message, or null.
static const sock_extended_err* FindExtendedErr(msghdr* msg) {
  for (cmsghdr* c = CMSG_FIRSTHDR(msg); c != nullptr; c = CMSG_NXTHDR(msg, c)) {
    bool v4 = c->cmsg_level == SOL_IP && c->cmsg_type == IP_RECVERR;
    bool v6 = c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_RECVERR;
    if (v4 || v6) return reinterpret_cast<const sock_extended_err*>(CMSG_DATA(c));
  }
  return nullptr;
}

static void SetText(Napi::Env env, Napi::Object o, const char* addrKey, const char* portKey, const sockaddr* sa) {
  char text[INET6_ADDRSTRLEN];
  int port;
  InetText(sa, text, sizeof text, &port);
  o.Set(addrKey, Napi::String::New(env, text));
  o.Set(portKey, Napi::Number::New(env, port));
}

static Napi::Object ErrObject(Napi::Env env, ssize_t n, const msghdr* msg, const sock_extended_err* ee,
                              const sockaddr_storage* dest) {
  Napi::Object r = Napi::Object::New(env);
  r.Set("bytes", Napi::Number::New(env, static_cast<double>(n)));
  r.Set("truncated", Napi::Boolean::New(env, (msg->msg_flags & MSG_TRUNC) != 0));
  r.Set("errno", Napi::Number::New(env, ee != nullptr ? ee->ee_errno : 0));
  r.Set("origin", Napi::Number::New(env, ee != nullptr ? ee->ee_origin : 0));
  r.Set("type", Napi::Number::New(env, ee != nullptr ? ee->ee_type : 0));
  r.Set("code", Napi::Number::New(env, ee != nullptr ? ee->ee_code : 0));
  r.Set("info", Napi::Number::New(env, ee != nullptr ? ee->ee_info : 0));
  sockaddr_storage none{};
  const sockaddr* offender = ee != nullptr ? SO_EE_OFFENDER(ee) : reinterpret_cast<const sockaddr*>(&none);
  SetText(env, r, "offender", "offenderPort", offender);
  SetText(env, r, "dest", "destPort", reinterpret_cast<const sockaddr*>(dest));
  return r;
}

// recvErr(fd, buf, off, len): recvmsg(MSG_ERRQUEUE|MSG_DONTWAIT) of one queued error; null when the
// queue is empty (EAGAIN). Syscalls: recvmsg.
static Napi::Value RecvErr(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgInt(info, 0);
  Bytes b = ArgRange(info, 1);
  sockaddr_storage dest{};
  union {
    char buf[512];
    cmsghdr align;
  } ctl;
  iovec iov{b.data, b.len};
  msghdr msg{};
  msg.msg_name = &dest;
  msg.msg_namelen = sizeof dest;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = ctl.buf;
  msg.msg_controllen = sizeof ctl.buf;
  ssize_t n;
  do n = recvmsg(fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT); while (n < 0 && errno == EINTR);
  if (n < 0 && errno == EAGAIN) return env.Null();
  if (n < 0) ThrowErrno(env, "recvmsg", errno);
  return ErrObject(env, n, &msg, FindExtendedErr(&msg), &dest);
}

void InitRecvErr(Napi::Env env, Napi::Object exports) { SetFn(env, exports, "recvErr", RecvErr); }

}  // namespace passt
