// File descriptors in general: close/dup/flags, read/write and their tap batches, pipes and splice,
// memfd + shared mappings, and process-level calls (getpid, gettid, prctl, kill, setrlimit).
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>

#include "addon.h"

namespace passt {

// Default room a tap read needs so that the largest frame (64 KiB MTU + Ethernet header) is never
// truncated: readBatch stops before a read with less room than this (the first read always happens).
static constexpr size_t kTapFrameRoom = 65535 + 14;

// close(2). EINTR counts as closed (Linux releases the fd anyway); EBADF is ignored when quiet.
static Napi::Value Close(const Napi::CallbackInfo& info) {
  int fd = ArgInt(info, 0);
  bool quiet = ArgBool(info, 1, false);
  if (close(fd) < 0 && errno != EINTR && !(quiet && errno == EBADF)) ThrowErrno(info.Env(), "close", errno);
  return info.Env().Undefined();
}

// fcntl(F_DUPFD_CLOEXEC).
static Napi::Value Dup(const Napi::CallbackInfo& info) {
  int fd = fcntl(ArgInt(info, 0), F_DUPFD_CLOEXEC, 0);
  if (fd < 0) ThrowErrno(info.Env(), "fcntl", errno);
  return Napi::Number::New(info.Env(), fd);
}

// Sets or clears `bit` through fcntl(get)/fcntl(set).
static void FlipFlag(Napi::Env env, int fd, int getCmd, int setCmd, int bit, bool on) {
  int flags = fcntl(fd, getCmd);
  if (flags < 0) ThrowErrno(env, "fcntl", errno);
  int next = on ? (flags | bit) : (flags & ~bit);
  if (next != flags && fcntl(fd, setCmd, next) < 0) ThrowErrno(env, "fcntl", errno);
}

static Napi::Value SetNonBlocking(const Napi::CallbackInfo& info) {
  FlipFlag(info.Env(), ArgInt(info, 0), F_GETFL, F_SETFL, O_NONBLOCK, ArgBool(info, 1, true));
  return info.Env().Undefined();
}

static Napi::Value SetCloexec(const Napi::CallbackInfo& info) {
  FlipFlag(info.Env(), ArgInt(info, 0), F_GETFD, F_SETFD, FD_CLOEXEC, ArgBool(info, 1, true));
  return info.Env().Undefined();
}

// read(2) retrying EINTR; -1 on EAGAIN, throws otherwise.
static ssize_t ReadOnce(Napi::Env env, int fd, uint8_t* p, size_t len) {
  for (;;) {
    ssize_t n = read(fd, p, len);
    if (n >= 0) return n;
    if (errno == EAGAIN) return -1;
    if (errno != EINTR) ThrowErrno(env, "read", errno);
  }
}

static ssize_t WriteOnce(Napi::Env env, int fd, const uint8_t* p, size_t len) {
  for (;;) {
    ssize_t n = write(fd, p, len);
    if (n >= 0) return n;
    if (errno == EAGAIN) return -1;
    if (errno != EINTR) ThrowErrno(env, "write", errno);
  }
}

static Napi::Value Read(const Napi::CallbackInfo& info) {
  int fd = ArgInt(info, 0);
  Bytes b = ArgRange(info, 1);
  return Napi::Number::New(info.Env(), static_cast<double>(ReadOnce(info.Env(), fd, b.data, b.len)));
}

static Napi::Value Write(const Napi::CallbackInfo& info) {
  int fd = ArgInt(info, 0);
  Bytes b = ArgRange(info, 1);
  return Napi::Number::New(info.Env(), static_cast<double>(WriteOnce(info.Env(), fd, b.data, b.len)));
}

// readBatch(fd, buf, lens, max[, minRoom]): one read(2) per frame, frames back to back in buf.
// An error after at least one frame ends the batch quietly (the next call reports it).
static Napi::Value ReadBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgInt(info, 0);
  Bytes buf = ArgBytes(info, 1);
  Words lens = ArgWords(info, 2);
  size_t max = ArgSize(info, 3);
  size_t room = info[4].IsUndefined() ? kTapFrameRoom : ArgSize(info, 4);
  if (max > lens.len) ThrowRange(env, "lens is shorter than max");
  size_t used = 0, count = 0;
  while (count < max && used < buf.len) {
    if (count > 0 && buf.len - used < room) break;
    ssize_t n = read(fd, buf.data + used, buf.len - used);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || count > 0) break;
      ThrowErrno(env, "read", errno);
    }
    if (n == 0) return Napi::Number::New(env, count == 0 ? -1 : static_cast<double>(count));
    lens.data[count++] = static_cast<uint32_t>(n);
    used += static_cast<size_t>(n);
  }
  return Napi::Number::New(env, static_cast<double>(count));
}

// writeBatch(fd, buf, lens, count): one write(2) per frame; stops at EAGAIN, or quietly at an error
// after the first frame.
static Napi::Value WriteBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgInt(info, 0);
  Bytes buf = ArgBytes(info, 1);
  Words lens = ArgWords(info, 2);
  size_t count = ArgSize(info, 3);
  if (count > lens.len) ThrowRange(env, "lens is shorter than count");
  size_t used = 0, done = 0;
  while (done < count) {
    size_t len = lens.data[done];
    if (len > buf.len - used) ThrowRange(env, "frame lengths exceed the buffer");
    ssize_t n = write(fd, buf.data + used, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || done > 0) break;
      ThrowErrno(env, "write", errno);
    }
    used += len;
    done++;
  }
  return Napi::Number::New(env, static_cast<double>(done));
}

// pipe2(O_NONBLOCK|O_CLOEXEC), then fcntl(F_SETPIPE_SZ) when size > 0.
static Napi::Value Pipe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  size_t size = ArgSize(info, 0);
  int fds[2];
  if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0) ThrowErrno(env, "pipe2", errno);
  if (size > 0 && fcntl(fds[0], F_SETPIPE_SZ, static_cast<int>(size > 0x7fffffff ? 0x7fffffff : size)) < 0) {
    int err = errno;
    close(fds[0]);
    close(fds[1]);
    ThrowErrno(env, "fcntl", err);
  }
  Napi::Array r = Napi::Array::New(env, 2);
  r.Set(0u, Napi::Number::New(env, fds[0]));
  r.Set(1u, Napi::Number::New(env, fds[1]));
  return r;
}

// splice(2) with SPLICE_F_MOVE|SPLICE_F_NONBLOCK; -1 on EAGAIN.
static Napi::Value Splice(const Napi::CallbackInfo& info) {
  int in = ArgInt(info, 0), out = ArgInt(info, 1);
  size_t len = ArgSize(info, 2);
  for (;;) {
    ssize_t n = splice(in, nullptr, out, nullptr, len, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (n >= 0) return Napi::Number::New(info.Env(), static_cast<double>(n));
    if (errno == EAGAIN) return Napi::Number::New(info.Env(), -1);
    if (errno != EINTR) ThrowErrno(info.Env(), "splice", errno);
  }
}

// memfd_create(name, MFD_CLOEXEC) + ftruncate(size).
static Napi::Value Memfd(const Napi::CallbackInfo& info) {
  char name[250];
  ArgStr(info, 0, name, sizeof name);
  size_t size = ArgSize(info, 1);
  int fd = memfd_create(name, MFD_CLOEXEC);
  if (fd < 0) ThrowErrno(info.Env(), "memfd_create", errno);
  if (ftruncate(fd, static_cast<off_t>(size)) < 0) {
    int err = errno;
    close(fd);
    ThrowErrno(info.Env(), "ftruncate", err);
  }
  return Napi::Number::New(info.Env(), fd);
}

static void Unmap(Napi::Env, void* addr, size_t* size) {
  munmap(addr, *size);
  delete size;
}

// mmap(PROT_READ|PROT_WRITE, MAP_SHARED) as an external ArrayBuffer; munmap(2) when it is collected.
static Napi::Value MmapShared(const Napi::CallbackInfo& info) {
  int fd = ArgInt(info, 0);
  size_t size = ArgSize(info, 1);
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) ThrowErrno(info.Env(), "mmap", errno);
  return Napi::ArrayBuffer::New(info.Env(), p, size, Unmap, new size_t(size));
}

static Napi::Value GetPid(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), getpid()); }
static Napi::Value GetTid(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), gettid()); }

// prctl(PR_SET_PDEATHSIG, sig).
static Napi::Value SetParentDeathSignal(const Napi::CallbackInfo& info) {
  if (prctl(PR_SET_PDEATHSIG, static_cast<unsigned long>(ArgU32(info, 0)), 0, 0, 0) < 0)
    ThrowErrno(info.Env(), "prctl", errno);
  return info.Env().Undefined();
}

// kill(pid, 0): true if the process exists (EPERM means it exists but is not ours).
static Napi::Value ProcessExists(const Napi::CallbackInfo& info) {
  int pid = ArgInt(info, 0);
  if (pid <= 0) ThrowRange(info.Env(), "pid must be positive");
  if (kill(pid, 0) == 0 || errno == EPERM) return Napi::Boolean::New(info.Env(), true);
  if (errno == ESRCH) return Napi::Boolean::New(info.Env(), false);
  ThrowErrno(info.Env(), "kill", errno);
}

// setrlimit(RLIMIT_NOFILE): the soft limit raised to the hard one; returns the soft limit now in force.
static Napi::Value RaiseNofileLimit(const Napi::CallbackInfo& info) {
  struct rlimit r;
  if (getrlimit(RLIMIT_NOFILE, &r) < 0) ThrowErrno(info.Env(), "getrlimit", errno);
  if (r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &r) < 0) ThrowErrno(info.Env(), "setrlimit", errno);
  }
  return Napi::Number::New(info.Env(), static_cast<double>(r.rlim_cur));
}

void InitFd(Napi::Env env, Napi::Object exports) {
  SetFn(env, exports, "close", Close);
  SetFn(env, exports, "dup", Dup);
  SetFn(env, exports, "setNonBlocking", SetNonBlocking);
  SetFn(env, exports, "setCloexec", SetCloexec);
  SetFn(env, exports, "read", Read);
  SetFn(env, exports, "write", Write);
  SetFn(env, exports, "readBatch", ReadBatch);
  SetFn(env, exports, "writeBatch", WriteBatch);
  SetFn(env, exports, "pipe", Pipe);
  SetFn(env, exports, "splice", Splice);
  SetFn(env, exports, "memfd", Memfd);
  SetFn(env, exports, "mmapShared", MmapShared);
  SetFn(env, exports, "getpid", GetPid);
  SetFn(env, exports, "gettid", GetTid);
  SetFn(env, exports, "setParentDeathSignal", SetParentDeathSignal);
  SetFn(env, exports, "processExists", ProcessExists);
  SetFn(env, exports, "raiseNofileLimit", RaiseNofileLimit);
}

}  // namespace passt
