// Internet checksum (RFC 1071): one's complement sum of big-endian 16-bit words.
//
// The sum is taken over little-endian words (the byte order of the host) and swapped at the end: a
// one's complement sum commutes with byte swapping, so this equals the big-endian sum. 64-bit loads
// are split into two 32-bit halves added into 64-bit accumulators, so no carry is lost for any buffer
// under 16 GiB. A trailing odd byte is the high byte of a word whose low byte is zero.
#include <cstring>

#include "addon.h"

namespace passt {

// Folds with end-around carry: a non-zero sum never folds to zero, as in a word-by-word oracle.
static uint64_t Fold(uint64_t s, unsigned bits) {
  const uint64_t mask = (uint64_t{1} << bits) - 1;
  while (s >> bits) s = (s & mask) + (s >> bits);
  return s;
}

// Sum of the little-endian 16-bit words of p[0, n), folded to 16 bits.
static uint32_t SumLe16(const uint8_t* p, size_t n) {
  uint64_t lo = 0, hi = 0;
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t v;
    memcpy(&v, p, 8);
    lo += static_cast<uint32_t>(v);
    hi += v >> 32;
  }
  uint64_t tail = 0;
  memcpy(&tail, p, n);  // the odd byte, if any, lands as the low byte of its LE word
  lo += static_cast<uint32_t>(tail);
  hi += tail >> 32;
  return static_cast<uint32_t>(Fold(Fold(lo, 32) + Fold(hi, 32), 16));
}

static uint64_t ArgPartial(const Napi::CallbackInfo& info, size_t i) {
  return info[i].IsUndefined() ? 0 : static_cast<uint64_t>(ArgSize(info, i));
}

// csumPartial(buf, off, len, initial): 32-bit partial sum (initial may be any integer below 2^53).
static Napi::Value CsumPartial(const Napi::CallbackInfo& info) {
  Bytes b = ArgRange(info, 0);
  uint64_t initial = ArgPartial(info, 3);
  uint32_t le = SumLe16(b.data, b.len);
  uint32_t be = ((le & 0xff) << 8) | (le >> 8);
  return Napi::Number::New(info.Env(), static_cast<double>(Fold(be + initial, 32)));
}

// csumFold(partial): fold to 16 bits and invert.
static Napi::Value CsumFold(const Napi::CallbackInfo& info) {
  uint64_t s = Fold(ArgPartial(info, 0), 16);
  return Napi::Number::New(info.Env(), static_cast<double>(~s & 0xffff));
}

void InitCsum(Napi::Env env, Napi::Object exports) {
  SetFn(env, exports, "csumPartial", CsumPartial);
  SetFn(env, exports, "csumFold", CsumFold);
}

}  // namespace passt
