import test from 'ava';
import { AUX_MAX, HANDLE_MAX, PROTO_MAX, Proto, decodeRef, protoName, refHi, refLo, refToBigInt } from './epoll-ref.js';

test('round trip of ordinary values', (t) => {
  const hi = refHi(Proto.Tcp, 7);
  const lo = refLo(123456);
  t.deepEqual(decodeRef(hi, lo), { proto: Proto.Tcp, aux: 7, handle: 123456 });
});

test('round trip at the extremes of every field', (t) => {
  for (const proto of [1, PROTO_MAX]) {
    for (const aux of [0, 1, AUX_MAX]) {
      for (const handle of [0, 1, 0x7fffffff, 0x80000000, HANDLE_MAX]) {
        const d = decodeRef(refHi(proto, aux), refLo(handle));
        t.deepEqual(d, { proto, aux, handle }, `proto=${proto} aux=${aux} handle=${handle}`);
      }
    }
  }
});

test('bit layout: protocol in bits 63..56, aux in 55..32, handle in 31..0', (t) => {
  t.is(refToBigInt(refHi(0xab, 0xcdef01), refLo(0x23456789)), 0xabcdef0123456789n);
  t.is(refToBigInt(refHi(PROTO_MAX, AUX_MAX), refLo(HANDLE_MAX)), 0xffffffffffffffffn);
  t.is(refToBigInt(refHi(1, 0), refLo(0)), 0x0100000000000000n);
});

test('halves are unsigned 32-bit numbers', (t) => {
  const hi = refHi(PROTO_MAX, AUX_MAX);
  t.true(hi > 0);
  t.is(hi, 0xffffffff);
  t.is(refLo(HANDLE_MAX), 0xffffffff);
});

test('out-of-range and reserved fields are rejected', (t) => {
  t.throws(() => refHi(0, 0), { instanceOf: RangeError });
  t.throws(() => refHi(PROTO_MAX + 1, 0), { instanceOf: RangeError });
  t.throws(() => refHi(1, AUX_MAX + 1), { instanceOf: RangeError });
  t.throws(() => refHi(1, -1), { instanceOf: RangeError });
  t.throws(() => refLo(HANDLE_MAX + 1), { instanceOf: RangeError });
  t.throws(() => refLo(1.5), { instanceOf: RangeError });
});

test('decode reuses the output object', (t) => {
  const out = { proto: 0, aux: 0, handle: 0 };
  const r = decodeRef(refHi(Proto.Udp, 2), refLo(3), out);
  t.is(r, out);
  t.deepEqual(out, { proto: Proto.Udp, aux: 2, handle: 3 });
});

test('protocol names', (t) => {
  t.is(protoName(Proto.TcpListen), 'TcpListen');
  t.is(protoName(200), 'proto#200');
});
