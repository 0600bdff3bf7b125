// Shared declarations of the passt-actors native addon: per-instance data, argument helpers and the
// ErrnoError thrower. Each .cc file registers its exports through one Init* function declared here.
//
// Rules every export follows:
// - a failing syscall throws an ErrnoError {errno, code, syscall} (see ThrowErrno), except EAGAIN where
//   the contract (src/native/api.ts) says it is a normal return value;
// - bad arguments throw a TypeError or a RangeError before any syscall is made;
// - hot functions allocate nothing beyond the JS values N-API itself creates.
#pragma once

#include <napi.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <cstdint>
#include <unordered_map>
#include <vector>

namespace passt {

struct PollWatcher;

// Per-environment state (main thread and every worker thread get their own).
struct AddonData {
  Napi::FunctionReference errorClass;  // ErrnoError constructor from index.ts, may be empty
  std::unordered_map<uint32_t, PollWatcher*> polls;
  uint32_t nextPollId = 1;
  // Scratch arrays reused across calls so that hot paths do not allocate.
  std::vector<epoll_event> events;
  std::vector<mmsghdr> msgs;
  std::vector<iovec> iovs;
  std::vector<sockaddr_storage> addrs;
};

AddonData* Data(Napi::Env env);

// Throws an ErrnoError for `err` (a positive errno) from `syscall`.
[[noreturn]] void ThrowErrno(Napi::Env env, const char* syscall, int err);
[[noreturn]] void ThrowType(Napi::Env env, const char* message);
[[noreturn]] void ThrowRange(Napi::Env env, const char* message);

// Argument readers: each throws a TypeError/RangeError naming the argument when it does not fit.
int ArgInt(const Napi::CallbackInfo& info, size_t i);                  // int32
uint32_t ArgU32(const Napi::CallbackInfo& info, size_t i);             // 0..2^32-1
uint32_t ArgBits(const Napi::CallbackInfo& info, size_t i);            // 32 bits, int32 or uint32 form
size_t ArgSize(const Napi::CallbackInfo& info, size_t i);              // integer 0..2^53
double ArgDouble(const Napi::CallbackInfo& info, size_t i);            // any finite number
bool ArgBool(const Napi::CallbackInfo& info, size_t i, bool fallback);  // undefined -> fallback
// A UTF-8 string copied into buf (NUL-terminated); throws if it does not fit.
size_t ArgStr(const Napi::CallbackInfo& info, size_t i, char* buf, size_t size);
size_t ValueStr(Napi::Env env, Napi::Value v, char* buf, size_t size);

struct Bytes {
  uint8_t* data;
  size_t len;
};
// The bytes of a Uint8Array/Buffer argument (byteOffset already applied).
Bytes ArgBytes(const Napi::CallbackInfo& info, size_t i);
Bytes ValueBytes(Napi::Env env, Napi::Value v);
// buf[off, off+len) from arguments i, i+1, i+2, bounds-checked.
Bytes ArgRange(const Napi::CallbackInfo& info, size_t i);
// A Uint32Array argument.
struct Words {
  uint32_t* data;
  size_t len;
};
Words ArgWords(const Napi::CallbackInfo& info, size_t i);

// Registration, one per source file.
void InitFd(Napi::Env env, Napi::Object exports);
void InitSock(Napi::Env env, Napi::Object exports);
void InitInet(Napi::Env env, Napi::Object exports);
void InitEvent(Napi::Env env, Napi::Object exports);
void InitNs(Napi::Env env, Napi::Object exports);
void InitCsum(Napi::Env env, Napi::Object exports);
void InitConstants(Napi::Env env, Napi::Object exports);
void InitRecvErr(Napi::Env env, Napi::Object exports);

// Closes every live poll watcher of an environment (env teardown, e.g. a worker thread exiting).
void ClosePolls(AddonData* data);

inline void SetFn(Napi::Env env, Napi::Object exports, const char* name, Napi::Function::Callback fn) {
  exports.Set(name, Napi::Function::New(env, fn, name));
}

}  // namespace passt
