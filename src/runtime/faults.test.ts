import test from 'ava';
import { FaultInjector, NO_FAULTS, applyToBatch, formatFaultSpec, hasFaults, packFrames, parseFaultSpec } from './faults.js';

test('parseFaultSpec: every key, defaults, and none', (t) => {
  t.deepEqual(parseFaultSpec('drop=0.1,dup=0.2,corrupt=0.3,delay=0.4@25ms,crash=0.01,crash-after=100,dir=in,seed=9'), {
    drop: 0.1, dup: 0.2, corrupt: 0.3, delay: 0.4, delayMs: 25, crash: 0.01, crashAfter: 100, dir: 'in', seed: 9,
  });
  t.deepEqual(parseFaultSpec('delay=1@5'), { ...NO_FAULTS, delay: 1, delayMs: 5 });
  t.deepEqual(parseFaultSpec('none'), NO_FAULTS);
  t.false(hasFaults(parseFaultSpec('seed=3')));
});

test('parseFaultSpec: bad parts are named', (t) => {
  for (const [text, re] of [
    ['drop=1.5', /drop: a probability/], ['drop=', /drop: a probability/], ['dup=x', /dup: a probability/],
    ['delay=0.1', /delay: P@MS/], ['delay=0.1@70000ms', /up to 60000/], ['crash-after=-1', /crash-after: a whole number/],
    ['dir=sideways', /dir: in, out or both/], ['seed=1.5', /seed/], ['explode=1', /unknown fault 'explode'/], ['', /unknown fault ''/],
  ] as const) t.throws(() => parseFaultSpec(text), { message: re }, text);
});

test('formatFaultSpec round-trips', (t) => {
  const text = 'drop=0.1,corrupt=0.2,delay=0.3@7ms,crash-after=5,dir=out,seed=4';
  t.is(formatFaultSpec(parseFaultSpec(text)), text);
  t.deepEqual(parseFaultSpec(formatFaultSpec(parseFaultSpec(text))), parseFaultSpec(text));
  t.is(formatFaultSpec(NO_FAULTS), 'none');
});

test('the same seed gives the same decisions; another seed others; rates come out near P', (t) => {
  const run = (seed: number) => {
    const inj = new FaultInjector(parseFaultSpec(`drop=0.1,dup=0.05,seed=${seed}`));
    return Array.from({ length: 10_000 }, () => {
      const f = inj.decide(100);
      return `${f.drop ? 'd' : '-'}${f.copies}`;
    }).join('');
  };
  t.is(run(5), run(5));
  t.not(run(5), run(6));
  const drops = (run(5).match(/d/g) ?? []).length;
  t.true(drops > 850 && drops < 1150, `${drops} drops in 10000 at P=0.1`);
});

test('crash-after N fires at the Nth frame only; dir limits where faults apply', (t) => {
  const inj = new FaultInjector(parseFaultSpec('crash-after=3,dir=in'));
  t.deepEqual([1, 2, 3, 4].map(() => inj.decide(10).crash), [false, false, true, false]);
  t.true(inj.applies('in'));
  t.false(inj.applies('out'));
});

test('applyToBatch: drops, doubles, corrupts copies (never the batch itself), holds back delayed frames', (t) => {
  const frames = [new Uint8Array([1, 1, 1]), new Uint8Array([2, 2]), new Uint8Array([3, 3, 3, 3])];
  const { buf, lens } = packFrames(frames);
  t.deepEqual(lens, [3, 2, 4]);
  const original = buf.slice();
  t.deepEqual(applyToBatch(new FaultInjector(parseFaultSpec('drop=1')), buf, lens), { now: [], later: [], crash: false, dropped: 3, duplicated: 0, corrupted: 0 });
  const dup = applyToBatch(new FaultInjector(parseFaultSpec('dup=1')), buf, lens);
  t.deepEqual(dup.now.map((f) => [...f]), [[1, 1, 1], [1, 1, 1], [2, 2], [2, 2], [3, 3, 3, 3], [3, 3, 3, 3]]);
  const bad = applyToBatch(new FaultInjector(parseFaultSpec('corrupt=1,seed=2')), buf, lens);
  t.is(bad.corrupted, 3);
  bad.now.forEach((f, i) => t.is(f.filter((b, j) => b !== frames[i]![j]).length, 1, 'one byte flipped'));
  t.deepEqual(buf, original, 'the batch itself is untouched');
  const late = applyToBatch(new FaultInjector(parseFaultSpec('delay=1@15ms')), buf, lens);
  t.deepEqual(late.now, []);
  t.deepEqual(late.later.map((l) => [l.delayMs, [...l.frame]]), [[15, [1, 1, 1]], [15, [2, 2]], [15, [3, 3, 3, 3]]]);
});
