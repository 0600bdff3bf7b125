// Tap devices and namespaces: /dev/net/tun + TUNSETIFF, namespace fds and setns(2), inode of an fd,
// and interface indices.
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "addon.h"

namespace passt {

// tapOpen(name): open("/dev/net/tun", O_RDWR|O_NONBLOCK|O_CLOEXEC) + ioctl(TUNSETIFF, IFF_TAP|IFF_NO_PI).
static Napi::Value TapOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ArgStr(info, 0, ifr.ifr_name, IFNAMSIZ);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) ThrowErrno(env, "open", errno);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    int err = errno;
    close(fd);
    ThrowErrno(env, "ioctl", err);
  }
  Napi::Object r = Napi::Object::New(env);
  r.Set("fd", Napi::Number::New(env, fd));
  r.Set("name", Napi::String::New(env, ifr.ifr_name, strnlen(ifr.ifr_name, IFNAMSIZ)));
  return r;
}

// openNs(path): open(path, O_RDONLY|O_CLOEXEC).
static Napi::Value OpenNs(const Napi::CallbackInfo& info) {
  char path[4096];
  ArgStr(info, 0, path, sizeof path);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) ThrowErrno(info.Env(), "open", errno);
  return Napi::Number::New(info.Env(), fd);
}

// setns(fd, nstype) for the calling thread only.
static Napi::Value SetNs(const Napi::CallbackInfo& info) {
  if (setns(ArgInt(info, 0), ArgInt(info, 1)) < 0) ThrowErrno(info.Env(), "setns", errno);
  return info.Env().Undefined();
}

// fdInode(fd): fstat(2) st_ino.
static Napi::Value FdInode(const Napi::CallbackInfo& info) {
  struct stat st;
  if (fstat(ArgInt(info, 0), &st) < 0) ThrowErrno(info.Env(), "fstat", errno);
  return Napi::Number::New(info.Env(), static_cast<double>(st.st_ino));
}

// ifIndex(name): if_nametoindex(3); 0 when there is no such interface.
static Napi::Value IfIndex(const Napi::CallbackInfo& info) {
  char name[IFNAMSIZ + 1];
  ArgStr(info, 0, name, sizeof name);
  errno = 0;
  unsigned idx = if_nametoindex(name);
  if (idx == 0 && errno != 0 && errno != ENODEV && errno != ENXIO) ThrowErrno(info.Env(), "if_nametoindex", errno);
  return Napi::Number::New(info.Env(), idx);
}

void InitNs(Napi::Env env, Napi::Object exports) {
  SetFn(env, exports, "tapOpen", TapOpen);
  SetFn(env, exports, "openNs", OpenNs);
  SetFn(env, exports, "setns", SetNs);
  SetFn(env, exports, "fdInode", FdInode);
  SetFn(env, exports, "ifIndex", IfIndex);
}

}  // namespace passt
