// passt-actors native addon: module entry, per-instance data, ErrnoError construction and argument
// helpers. The exports themselves live in fd.cc, sock.cc, inet.cc, event.cc, ns.cc and csum.cc.
//
// The addon is context-aware: every environment (main thread, each worker thread) gets its own
// AddonData through napi_set_instance_data, and no JS handle is kept in a static.
#include "addon.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace passt {

AddonData* Data(Napi::Env env) { return env.GetInstanceData<AddonData>(); }

// "connect: ECONNREFUSED (Connection refused)"; code "E<n>" when glibc has no name for it.
static void ErrnoText(int err, char* code, size_t codeSize, char* msg, size_t msgSize, const char* syscall) {
  const char* name = strerrorname_np(err);
  const char* desc = strerrordesc_np(err);
  if (name != nullptr) snprintf(code, codeSize, "%s", name);
  else snprintf(code, codeSize, "E%d", err);
  snprintf(msg, msgSize, "%s: %s (%s)", syscall, code, desc != nullptr ? desc : "Unknown error");
}

void ThrowErrno(Napi::Env env, const char* syscall, int err) {
  char code[32], msg[256];
  ErrnoText(err, code, sizeof code, msg, sizeof msg, syscall);
  AddonData* data = Data(env);
  Napi::Object e;
  if (data != nullptr && !data->errorClass.IsEmpty()) {
    e = data->errorClass.New({Napi::String::New(env, msg), Napi::Number::New(env, err),
                              Napi::String::New(env, code), Napi::String::New(env, syscall)});
  } else {
    e = Napi::Error::New(env, msg).Value();
    e.Set("errno", Napi::Number::New(env, err));
    e.Set("code", Napi::String::New(env, code));
    e.Set("syscall", Napi::String::New(env, syscall));
  }
  throw Napi::Error(env, e);
}

void ThrowType(Napi::Env env, const char* message) { throw Napi::TypeError::New(env, message); }
void ThrowRange(Napi::Env env, const char* message) { throw Napi::RangeError::New(env, message); }

[[noreturn]] static void BadArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  char msg[96];
  snprintf(msg, sizeof msg, "argument %zu must be %s", i, what);
  ThrowType(info.Env(), msg);
}

static double NumberArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  Napi::Value v = info[i];
  if (!v.IsNumber()) BadArg(info, i, what);
  return v.As<Napi::Number>().DoubleValue();
}

int ArgInt(const Napi::CallbackInfo& info, size_t i) {
  double d = NumberArg(info, i, "an int32");
  if (!(d >= -2147483648.0 && d <= 2147483647.0) || d != std::trunc(d)) BadArg(info, i, "an int32");
  return static_cast<int>(d);
}

uint32_t ArgU32(const Napi::CallbackInfo& info, size_t i) {
  double d = NumberArg(info, i, "a uint32");
  if (!(d >= 0 && d <= 4294967295.0) || d != std::trunc(d)) BadArg(info, i, "a uint32");
  return static_cast<uint32_t>(d);
}

// A 32-bit mask as JS bitwise operators leave it: EPOLLIN | EPOLLET is -2147483647, not 2147483649.
uint32_t ArgBits(const Napi::CallbackInfo& info, size_t i) {
  double d = NumberArg(info, i, "a 32-bit mask");
  if (!(d >= -2147483648.0 && d <= 4294967295.0) || d != std::trunc(d)) BadArg(info, i, "a 32-bit mask");
  return d < 0 ? static_cast<uint32_t>(static_cast<int32_t>(d)) : static_cast<uint32_t>(d);
}

size_t ArgSize(const Napi::CallbackInfo& info, size_t i) {
  double d = NumberArg(info, i, "a non-negative integer");
  if (!(d >= 0 && d <= 9007199254740992.0) || d != std::trunc(d)) BadArg(info, i, "a non-negative integer");
  return static_cast<size_t>(d);
}

double ArgDouble(const Napi::CallbackInfo& info, size_t i) {
  double d = NumberArg(info, i, "a finite number");
  if (!std::isfinite(d)) BadArg(info, i, "a finite number");
  return d;
}

bool ArgBool(const Napi::CallbackInfo& info, size_t i, bool fallback) {
  Napi::Value v = info[i];
  if (v.IsUndefined()) return fallback;
  if (!v.IsBoolean()) BadArg(info, i, "a boolean");
  return v.As<Napi::Boolean>().Value();
}

size_t ValueStr(Napi::Env env, Napi::Value v, char* buf, size_t size) {
  if (!v.IsString()) ThrowType(env, "expected a string");
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, nullptr, 0, &len) != napi_ok) ThrowType(env, "expected a string");
  if (len >= size) ThrowRange(env, "string too long");
  napi_get_value_string_utf8(env, v, buf, size, &len);
  return len;
}

size_t ArgStr(const Napi::CallbackInfo& info, size_t i, char* buf, size_t size) {
  if (!info[i].IsString()) BadArg(info, i, "a string");
  return ValueStr(info.Env(), info[i], buf, size);
}

Bytes ValueBytes(Napi::Env env, Napi::Value v) {
  napi_typedarray_type type;
  size_t length;
  void* data;
  bool isTyped = false;
  napi_is_typedarray(env, v, &isTyped);
  if (!isTyped) ThrowType(env, "expected a Uint8Array");
  napi_get_typedarray_info(env, v, &type, &length, &data, nullptr, nullptr);
  if (type != napi_uint8_array && type != napi_uint8_clamped_array) ThrowType(env, "expected a Uint8Array");
  // napi_get_typedarray_info already adds byteOffset to data.
  return Bytes{static_cast<uint8_t*>(data), length};
}

Bytes ArgBytes(const Napi::CallbackInfo& info, size_t i) { return ValueBytes(info.Env(), info[i]); }

Bytes ArgRange(const Napi::CallbackInfo& info, size_t i) {
  Bytes b = ArgBytes(info, i);
  size_t off = ArgSize(info, i + 1), len = ArgSize(info, i + 2);
  if (off > b.len || len > b.len - off) ThrowRange(info.Env(), "off/len outside the buffer");
  return Bytes{b.data + off, len};
}

Words ArgWords(const Napi::CallbackInfo& info, size_t i) {
  napi_env env = info.Env();
  napi_typedarray_type type;
  size_t length;
  void* data;
  bool isTyped = false;
  napi_is_typedarray(env, info[i], &isTyped);
  if (!isTyped) BadArg(info, i, "a Uint32Array");
  napi_get_typedarray_info(env, info[i], &type, &length, &data, nullptr, nullptr);
  if (type != napi_uint32_array) BadArg(info, i, "a Uint32Array");
  return Words{static_cast<uint32_t*>(data), length};
}

// setErrorClass(ctor): the class every failing syscall throws; called once per environment by index.ts.
static Napi::Value SetErrorClass(const Napi::CallbackInfo& info) {
  if (!info[0].IsFunction()) ThrowType(info.Env(), "setErrorClass needs a constructor");
  Data(info.Env())->errorClass = Napi::Persistent(info[0].As<Napi::Function>());
  return info.Env().Undefined();
}

static void Cleanup(void* arg) { ClosePolls(static_cast<AddonData*>(arg)); }

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* data = new AddonData();
  env.SetInstanceData<AddonData>(data);  // deleted by N-API when the environment goes away
  napi_add_env_cleanup_hook(env, Cleanup, data);
  SetFn(env, exports, "setErrorClass", SetErrorClass);
  InitFd(env, exports);
  InitSock(env, exports);
  InitInet(env, exports);
  InitEvent(env, exports);
  InitNs(env, exports);
  InitCsum(env, exports);
  InitConstants(env, exports);
  InitRecvErr(env, exports);
  return exports;
}

}  // namespace passt

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return passt::Init(env, exports); }

NODE_API_MODULE(passt_native, InitAddon)
