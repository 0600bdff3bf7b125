import test from 'ava';
import type { PortForward } from '../../config/portspec.js';
import { listenKey } from './forward.js';
import { DatagramQueue, listenerDiff, mirrorListeners, QUEUE_MAX, spliceKey, udpOutPlan } from './splice-flows.js';
import { FlowTable } from './state.js';

const fwd = (mode: PortForward['mode'], ranges: PortForward['ranges'] = []): PortForward => ({ mode, ranges });
const range = (first: number, last: number, target = first) => ({ first, last, target, addr: null, ifname: null });

test('flow keys: one per direction, listener incarnation and sender', (t) => {
  const keys = [
    spliceKey('in', 1, 1, '127.0.0.1', 40000),
    spliceKey('out', 1, 1, '127.0.0.1', 40000),
    spliceKey('in', 2, 1, '127.0.0.1', 40000),
    spliceKey('in', 1, 2, '127.0.0.1', 40000),
    spliceKey('in', 1, 1, '127.0.0.2', 40000),
    spliceKey('in', 1, 1, '::1', 40000),
    spliceKey('in', 1, 1, '127.0.0.1', 40001),
  ];
  t.is(new Set(keys).size, keys.length);
  t.is(spliceKey('in', 1, 1, '::1', 5), spliceKey('in', 1, 1, '::1', 5), 'stable');
});

test('spliced flows expire like tap-path flows: one way, then both ways', (t) => {
  const table = new FlowTable<{ fd: number }>({ oneWayMs: 100, bothWaysMs: 400 });
  const a = table.add(spliceKey('in', 0, 1, '127.0.0.1', 1000), { fd: -1 }, 'host', 0)!;
  const b = table.add(spliceKey('in', 0, 1, '127.0.0.1', 1001), { fd: -1 }, 'host', 0)!;
  t.is(table.add(a.key, { fd: -1 }, 'host', 0), null, 'a key opens one flow');
  table.touch(b, 'guest', 50);
  t.deepEqual(table.expired(99), []);
  t.deepEqual(table.expired(100).map((f) => f.key), [a.key]);
  t.deepEqual(table.expired(449).map((f) => f.key), [a.key]);
  t.deepEqual(table.expired(450).map((f) => f.key).sort(), [a.key, b.key].sort());
});

test('the queue of a flow waiting for its socket keeps copies, at most QUEUE_MAX, and counts the rest', (t) => {
  const q = new DatagramQueue();
  const buf = new Uint8Array([1, 2, 3]);
  t.true(q.push(buf));
  buf[0] = 9;
  for (let i = 1; i < QUEUE_MAX; i++) t.true(q.push(new Uint8Array([i])));
  t.false(q.push(new Uint8Array([0])));
  t.false(q.push(new Uint8Array([0])));
  t.is(q.dropped, 2);
  const items = q.take();
  t.is(items.length, QUEUE_MAX);
  t.deepEqual([...items[0]!], [1, 2, 3], 'a copy, not a view of the receive buffer');
  t.is(q.take().length, 0);
  t.true(new DatagramQueue(1).push(new Uint8Array(0)));
});

test('-U plan: none without splicing; SPEC ports with their targets on each family; auto', (t) => {
  t.deepEqual(udpOutPlan(fwd('auto'), false, [4, 6]), { kind: 'none' });
  t.deepEqual(udpOutPlan(fwd('spec', [range(53, 53)]), false, [4, 6]), { kind: 'none' });
  t.deepEqual(udpOutPlan(fwd('none'), true, [4, 6]), { kind: 'none' });
  t.deepEqual(udpOutPlan(fwd('auto'), true, [4, 6]), { kind: 'auto' });
  const plan = udpOutPlan(fwd('spec', [range(5000, 5001, 6000)]), true, [4, 6]);
  t.is(plan.kind, 'static');
  if (plan.kind !== 'static') return;
  t.deepEqual(plan.specs.map((s) => [s.family, s.port, s.target, s.addr]), [
    [4, 5000, 6000, null], [6, 5000, 6000, null], [4, 5001, 6001, null], [6, 5001, 6001, null],
  ]);
  t.deepEqual(udpOutPlan(fwd('spec', [range(7, 7)]), true, [6]), { kind: 'static', specs: [{ family: 6, port: 7, target: 7, addr: null, ifname: null }] });
});

test('-U auto: the host\'s ports minus our own -u listeners\' ports, per family', (t) => {
  const specs = mirrorListeners([5353, 53, 8000], new Set([8000]), [4, 6]);
  t.deepEqual(specs.map((s) => `${s.family}:${s.port}>${s.target}`), ['4:53>53', '6:53>53', '4:5353>5353', '6:5353>5353']);
  t.deepEqual(mirrorListeners([53], new Set([53]), [4, 6]), []);
  t.deepEqual(mirrorListeners([], new Set(), [4]), []);
});

test('listener diff: close what is no longer wanted, open what is new, keep the rest', (t) => {
  const open = mirrorListeners([1, 2], new Set(), [4]).map(listenKey);
  const wanted = mirrorListeners([2, 3], new Set(), [4]);
  const d = listenerDiff(open, wanted);
  t.deepEqual(d.close, [listenKey(mirrorListeners([1], new Set(), [4])[0]!)]);
  t.deepEqual(d.open.map((s) => s.port), [3]);
  t.deepEqual(listenerDiff(open, mirrorListeners([1, 2], new Set(), [4])), { close: [], open: [] });
  t.deepEqual(listenerDiff([], []), { close: [], open: [] });
});
