import test from 'ava';
import { DEFAULT_TIMEOUTS, FlowTable, flowKey, timeoutsFromEnv, udpFlowState, UDP_TIMEOUT_BOTH_WAYS_MS, UDP_TIMEOUT_ONE_WAY_MS } from './state.js';

const A4 = new Uint8Array([10, 0, 2, 15]);
const B4 = new Uint8Array([10, 0, 2, 2]);
const A6 = new Uint8Array(16).fill(0).map((_, i) => (i === 0 ? 0xfd : i === 15 ? 2 : 0));
const B6 = new Uint8Array(16).fill(0).map((_, i) => (i === 0 ? 0xfd : i === 15 ? 1 : 0));

test('flow keys differ in every field and agree for equal tuples read at offsets', (t) => {
  const base = flowKey(4, A4, 0, 1000, B4, 0, 53);
  t.not(base, flowKey(4, A4, 0, 1001, B4, 0, 53));
  t.not(base, flowKey(4, A4, 0, 1000, B4, 0, 54));
  t.not(base, flowKey(4, B4, 0, 1000, A4, 0, 53), 'direction matters');
  t.not(flowKey(6, A6, 0, 1, B6, 0, 2), flowKey(6, B6, 0, 1, A6, 0, 2));
  const frame = new Uint8Array(40).fill(0xa5);
  frame.set(A4, 7);
  frame.set(B4, 21);
  t.is(flowKey(4, frame, 7, 1000, frame, 21, 53), base);
  t.is(flowKey(4, A4, 0, 65535, B4, 0, 65535).length, 3 + 2 + 2);
});

test('add, find, get by handle and generation; a full table or a taken key refuses', (t) => {
  const ft = new FlowTable<string>(DEFAULT_TIMEOUTS, 2);
  const a = ft.add('a', 'A', 'guest', 0)!;
  t.is(ft.find('a'), a);
  t.is(ft.get(a.handle, a.gen), a);
  t.is(ft.get(a.handle, a.gen + 1), undefined, 'another generation is stale');
  t.is(ft.add('a', 'again', 'guest', 0), null);
  t.truthy(ft.add('b', 'B', 'host', 0));
  t.is(ft.add('c', 'C', 'guest', 0), null, 'table full');
  t.is(ft.size, 2);
});

test('a removed slot is reused with a new generation; stale handles miss', (t) => {
  const ft = new FlowTable<number>();
  const a = ft.add('a', 1, 'guest', 0)!;
  ft.remove(a);
  t.is(ft.find('a'), undefined);
  t.is(ft.get(a.handle), undefined);
  const b = ft.add('b', 2, 'guest', 0)!;
  t.is(b.handle, a.handle);
  t.not(b.gen, a.gen);
  t.is(ft.get(a.handle, a.gen), undefined);
  ft.remove(a); // removing a stale flow does nothing
  t.is(ft.find('b'), b);
});

test('one-way flows expire after 30 s of silence, two-way ones after 120 s', (t) => {
  t.is(UDP_TIMEOUT_ONE_WAY_MS, 30_000);
  t.is(UDP_TIMEOUT_BOTH_WAYS_MS, 120_000);
  const ft = new FlowTable<null>();
  const out = ft.add('out', null, 'guest', 1000)!;
  const both = ft.add('both', null, 'guest', 1000)!;
  ft.touch(both, 'host', 2000);
  const inbound = ft.add('in', null, 'host', 1000)!;
  t.deepEqual(ft.expired(30_999), []);
  t.deepEqual(ft.expired(31_000).map((f) => f.key).sort(), ['in', 'out']);
  ft.touch(out, 'guest', 20_000); // more traffic the same way restarts the 30 s
  t.deepEqual(ft.expired(49_999).map((f) => f.key), ['in']);
  t.deepEqual(ft.expired(50_000).map((f) => f.key).sort(), ['in', 'out']);
  t.is(ft.deadline(both), 122_000);
  t.false(ft.expired(121_999).includes(both));
  t.true(ft.expired(122_000).includes(both));
  t.true(inbound.fromHost && !inbound.fromGuest);
});

test('expired() reports without removing', (t) => {
  const ft = new FlowTable<null>({ oneWayMs: 10, bothWaysMs: 20 });
  ft.add('x', null, 'guest', 0);
  t.is(ft.expired(10).length, 1);
  t.is(ft.size, 1);
});

test('test-only timeouts from the environment; malformed values give the defaults', (t) => {
  t.deepEqual(timeoutsFromEnv('1500,3000'), { oneWayMs: 1500, bothWaysMs: 3000 });
  for (const bad of [undefined, '', '1500', 'a,b', '0,10', '-1,5', '1,2,3']) t.deepEqual(timeoutsFromEnv(bad), DEFAULT_TIMEOUTS, String(bad));
});

test('udpFlowState: which ways datagrams went', (t) => {
  const table = new FlowTable<null>();
  const f = table.add('a', null, 'guest', 0)!;
  t.is(udpFlowState(f), 'from-guest');
  table.touch(f, 'host', 1);
  t.is(udpFlowState(f), 'both-ways');
  t.is(udpFlowState(table.add('b', null, 'host', 0)!), 'from-host');
});
