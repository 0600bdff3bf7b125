// Event machinery: epoll, libuv poll watchers, eventfd and timerfd.
//
// Poll watchers: pollStart() puts a uv_poll_t on the *calling* environment's loop (main thread or a
// worker), so the JS callback always runs on the thread that asked. The callback runs through
// napi_make_callback inside a handle scope; if it throws, the exception is handed to
// napi_fatal_exception, i.e. it becomes an ordinary uncaught exception of that thread. A watcher is
// freed in its uv_close callback. An env cleanup hook closes the watchers still open when an
// environment is torn down (a worker exiting with live polls), so the loop can close cleanly.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <uv.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>

#include "addon.h"

namespace passt {

static constexpr size_t kMaxEvents = 65536;

struct PollWatcher {
  uv_poll_t handle;
  napi_env env;
  napi_ref cb;
};

// epoll_create1(EPOLL_CLOEXEC).
static Napi::Value EpollCreate(const Napi::CallbackInfo& info) {
  int fd = epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) ThrowErrno(info.Env(), "epoll_create1", errno);
  return Napi::Number::New(info.Env(), fd);
}

// epollCtl(epfd, op, fd, events, refHi, refLo): data.u64 = hi << 32 | lo. The three masks may come in
// int32 form (results of JS bitwise operators) or uint32 form.
static Napi::Value EpollCtl(const Napi::CallbackInfo& info) {
  epoll_event ev{};
  ev.events = ArgBits(info, 3);
  ev.data.u64 = (static_cast<uint64_t>(ArgBits(info, 4)) << 32) | ArgBits(info, 5);
  if (epoll_ctl(ArgInt(info, 0), ArgInt(info, 1), ArgInt(info, 2), &ev) < 0)
    ThrowErrno(info.Env(), "epoll_ctl", errno);
  return info.Env().Undefined();
}

// epollWait(epfd, out, max, timeoutMs): out[3i..3i+2] = ref hi, ref lo, events. 0 on EINTR.
static Napi::Value EpollWait(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int epfd = ArgInt(info, 0);
  Words out = ArgWords(info, 1);
  size_t max = ArgSize(info, 2);
  int timeout = ArgInt(info, 3);
  if (max == 0 || max > kMaxEvents) ThrowRange(env, "max must be 1..65536");
  if (out.len < 3 * max) ThrowRange(env, "out must hold 3 * max entries");
  AddonData* d = Data(env);
  if (d->events.size() < max) d->events.resize(max);
  int n = epoll_wait(epfd, d->events.data(), static_cast<int>(max), timeout);
  if (n < 0 && errno == EINTR) return Napi::Number::New(env, 0);
  if (n < 0) ThrowErrno(env, "epoll_wait", errno);
  for (int i = 0; i < n; i++) {
    const epoll_event& ev = d->events[i];
    out.data[3 * i] = static_cast<uint32_t>(ev.data.u64 >> 32);
    out.data[3 * i + 1] = static_cast<uint32_t>(ev.data.u64);
    out.data[3 * i + 2] = ev.events;
  }
  return Napi::Number::New(env, n);
}

// Calls the watcher's JS callback as cb(events), or cb(status) with a negative libuv status on error;
// a throw becomes an uncaught exception of this thread.
static void OnPoll(uv_poll_t* handle, int status, int events) {
  auto* w = static_cast<PollWatcher*>(handle->data);
  napi_env env = w->env;
  if (w->cb == nullptr) return;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value cb, global, arg, result;
  napi_get_reference_value(env, w->cb, &cb);
  napi_get_global(env, &global);
  napi_create_int32(env, status < 0 ? status : events, &arg);
  if (napi_make_callback(env, nullptr, global, cb, 1, &arg, &result) == napi_pending_exception) {
    napi_value exc;
    napi_get_and_clear_last_exception(env, &exc);
    napi_fatal_exception(env, exc);
  }
  napi_close_handle_scope(env, scope);
}

static void OnClosed(uv_handle_t* handle) { delete static_cast<PollWatcher*>(handle->data); }

// Stops and closes one watcher; its memory is freed by the loop once the close completes.
static void CloseWatcher(PollWatcher* w) {
  uv_poll_stop(&w->handle);
  napi_delete_reference(w->env, w->cb);
  w->cb = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(&w->handle), OnClosed);
}

void ClosePolls(AddonData* data) {
  for (auto& entry : data->polls) CloseWatcher(entry.second);
  data->polls.clear();
}

static int ArgPollEvents(const Napi::CallbackInfo& info, size_t i) {
  int events = info[i].IsUndefined() ? UV_READABLE : ArgInt(info, i);
  if (events <= 0 || (events & ~(UV_READABLE | UV_WRITABLE | UV_DISCONNECT | UV_PRIORITIZED)) != 0)
    ThrowRange(info.Env(), "poll events must be a non-empty set of UV_READABLE/WRITABLE/DISCONNECT/PRIORITIZED");
  return events;
}

// pollStart(fd, cb, events = UV_READABLE): uv_poll_init (which sets O_NONBLOCK on fd) + uv_poll_start.
static Napi::Value PollStart(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgInt(info, 0);
  if (!info[1].IsFunction()) ThrowType(env, "pollStart needs a callback");
  int events = ArgPollEvents(info, 2);
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) ThrowType(env, "no event loop");
  auto* w = new PollWatcher{};
  int err = uv_poll_init(loop, &w->handle, fd);
  if (err < 0) {
    delete w;
    ThrowErrno(env, "uv_poll_init", -err);
  }
  w->handle.data = w;
  w->env = env;
  napi_create_reference(env, info[1], 1, &w->cb);
  err = uv_poll_start(&w->handle, events, OnPoll);
  if (err < 0) {
    CloseWatcher(w);
    ThrowErrno(env, "uv_poll_start", -err);
  }
  AddonData* d = Data(env);
  uint32_t id = d->nextPollId++;
  if (d->nextPollId == 0) d->nextPollId = 1;
  d->polls[id] = w;
  return Napi::Number::New(env, id);
}

// pollUpdate(id, events): uv_poll_start again with a new event set.
static Napi::Value PollUpdate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t id = ArgU32(info, 0);
  int events = ArgPollEvents(info, 1);
  auto it = Data(env)->polls.find(id);
  if (it == Data(env)->polls.end()) ThrowRange(env, "unknown poll id");
  int err = uv_poll_start(&it->second->handle, events, OnPoll);
  if (err < 0) ThrowErrno(env, "uv_poll_start", -err);
  return env.Undefined();
}

// pollStop(id): uv_poll_stop + uv_close. Unknown or already stopped ids are ignored.
static Napi::Value PollStop(const Napi::CallbackInfo& info) {
  uint32_t id = ArgU32(info, 0);
  AddonData* d = Data(info.Env());
  auto it = d->polls.find(id);
  if (it != d->polls.end()) {
    CloseWatcher(it->second);
    d->polls.erase(it);
  }
  return info.Env().Undefined();
}

// eventfd(0, EFD_NONBLOCK|EFD_CLOEXEC).
static Napi::Value EventFd(const Napi::CallbackInfo& info) {
  int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) ThrowErrno(info.Env(), "eventfd", errno);
  return Napi::Number::New(info.Env(), fd);
}

// eventfdWrite(fd, n): write(2) of a u64; EAGAIN (counter would overflow) is thrown.
static Napi::Value EventFdWrite(const Napi::CallbackInfo& info) {
  int fd = ArgInt(info, 0);
  uint64_t n = ArgSize(info, 1);
  ssize_t r;
  do r = write(fd, &n, sizeof n); while (r < 0 && errno == EINTR);
  if (r < 0) ThrowErrno(info.Env(), "write", errno);
  return info.Env().Undefined();
}

// eventfdRead(fd): read(2) of the u64 counter; 0 on EAGAIN.
static Napi::Value EventFdRead(const Napi::CallbackInfo& info) {
  int fd = ArgInt(info, 0);
  uint64_t n = 0;
  ssize_t r;
  do r = read(fd, &n, sizeof n); while (r < 0 && errno == EINTR);
  if (r < 0 && errno == EAGAIN) return Napi::Number::New(info.Env(), 0);
  if (r < 0) ThrowErrno(info.Env(), "read", errno);
  return Napi::Number::New(info.Env(), static_cast<double>(n));
}

// timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK|TFD_CLOEXEC).
static Napi::Value TimerFd(const Napi::CallbackInfo& info) {
  int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (fd < 0) ThrowErrno(info.Env(), "timerfd_create", errno);
  return Napi::Number::New(info.Env(), fd);
}

static timespec MsToTimespec(double ms) {
  double sec = std::floor(ms / 1000);
  return timespec{static_cast<time_t>(sec), static_cast<long>((ms - sec * 1000) * 1e6)};
}

// timerfdSet(fd, firstMs, intervalMs): timerfd_settime, relative; firstMs 0 disarms.
static Napi::Value TimerFdSet(const Napi::CallbackInfo& info) {
  int fd = ArgInt(info, 0);
  double first = ArgDouble(info, 1), interval = ArgDouble(info, 2);
  if (first < 0 || interval < 0) ThrowRange(info.Env(), "times must be >= 0");
  itimerspec its{MsToTimespec(interval), MsToTimespec(first)};
  if (timerfd_settime(fd, 0, &its, nullptr) < 0) ThrowErrno(info.Env(), "timerfd_settime", errno);
  return info.Env().Undefined();
}

void InitEvent(Napi::Env env, Napi::Object exports) {
  SetFn(env, exports, "epollCreate", EpollCreate);
  SetFn(env, exports, "epollCtl", EpollCtl);
  SetFn(env, exports, "epollWait", EpollWait);
  SetFn(env, exports, "pollStart", PollStart);
  SetFn(env, exports, "pollUpdate", PollUpdate);
  SetFn(env, exports, "pollStop", PollStop);
  SetFn(env, exports, "eventfd", EventFd);
  SetFn(env, exports, "eventfdWrite", EventFdWrite);
  SetFn(env, exports, "eventfdRead", EventFdRead);
  SetFn(env, exports, "timerfd", TimerFd);
  SetFn(env, exports, "timerfdSet", TimerFdSet);
}

}  // namespace passt
