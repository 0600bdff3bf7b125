import test from 'ava';
import { parseIp } from '../../protocol/addr.js';
import { FlowTable, flowKey } from './flow-table.js';

interface F {
  index: number;
  gen: number;
  key: string;
}

const a = parseIp('10.0.0.2')!, b = parseIp('10.0.0.1')!;

test('flowKey: the same tuple read from a frame or from address bytes gives the same key', (t) => {
  const frame = new Uint8Array(40).fill(0xa5);
  frame.set(a, 10);
  frame.set(b, 20);
  t.is(flowKey(4, frame, 10, 40000, frame, 20, 80), flowKey(4, a, 0, 40000, b, 0, 80));
  t.not(flowKey(4, a, 0, 40000, b, 0, 80), flowKey(4, a, 0, 40001, b, 0, 80));
  t.not(flowKey(4, a, 0, 40000, b, 0, 80), flowKey(4, b, 0, 40000, a, 0, 80));
  const a6 = parseIp('fd00::2')!, b6 = parseIp('fd00::1')!;
  t.not(flowKey(6, a6, 0, 1, b6, 0, 2), flowKey(6, b6, 0, 1, a6, 0, 2));
});

test('slots are reused with a new generation; stale references miss', (t) => {
  const table = new FlowTable<F>(2);
  const s1 = table.reserve()!;
  const f1 = { ...s1, key: 'one' };
  table.insert(f1);
  const s2 = table.reserve()!;
  table.insert({ ...s2, key: 'two' });
  t.is(table.reserve(), null, 'full');
  t.is(table.size, 2);
  t.is(table.lookup('one'), f1);
  t.is(table.get(s1.index, s1.gen), f1);
  table.release(f1);
  t.is(table.lookup('one'), undefined);
  const s3 = table.reserve()!;
  t.is(s3.index, s1.index);
  t.not(s3.gen, s1.gen);
  table.insert({ ...s3, key: 'three' });
  t.is(table.get(s1.index, s1.gen), undefined, 'an event for the released flow is stale');
  t.truthy(table.get(s3.index, s3.gen));
});

test('an unused reservation goes back; forEach tolerates releases', (t) => {
  const table = new FlowTable<F>(4);
  const s = table.reserve()!;
  table.unreserve(s.index);
  const again = table.reserve()!;
  t.is(again.index, s.index);
  const flows = [again, table.reserve()!, table.reserve()!].map((x, i) => ({ ...x, key: `k${i}` }));
  flows.forEach((f) => table.insert(f));
  let seen = 0;
  table.forEach((f) => {
    seen++;
    table.release(f);
  });
  t.is(seen, 3);
  t.is(table.size, 0);
});
