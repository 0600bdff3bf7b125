import test from 'ava';
import { DEFAULT_POLICY, decideRestart, type RestartPolicy } from './policy.js';

const crash = (at: number, wasReady = true) => ({ kind: 'crash' as const, wasReady, at });
const normal = (at: number) => ({ kind: 'normal' as const, wasReady: true, at });
const policy = (p: Partial<RestartPolicy>): RestartPolicy => ({ ...DEFAULT_POLICY, ...p });

test('a permanent actor that crashes is restarted and the restart is recorded', (t) => {
  const d = decideRestart(policy({}), [], crash(1000));
  t.is(d.action, 'restart');
  t.deepEqual(d.history, [1000]);
});

test('intensity: the (N+1)th restart within the period gives up', (t) => {
  const p = policy({ intensity: 3, periodMs: 1000 });
  let history: readonly number[] = [];
  for (const at of [0, 100, 200]) {
    const d = decideRestart(p, history, crash(at));
    t.is(d.action, 'restart');
    history = d.history;
  }
  const d = decideRestart(p, history, crash(300));
  t.is(d.action, 'give-up');
});

test('restarts older than the period are forgotten', (t) => {
  const p = policy({ intensity: 2, periodMs: 1000 });
  const d = decideRestart(p, [0, 500], crash(1600));
  t.is(d.action, 'restart');
  t.deepEqual(d.history, [1600]);
});

test('boundary: a restart exactly one period ago no longer counts', (t) => {
  const p = policy({ intensity: 1, periodMs: 1000 });
  t.is(decideRestart(p, [0], crash(1000)).action, 'restart');
  t.is(decideRestart(p, [1], crash(1000)).action, 'give-up');
});

test('an actor that dies during start-up is not restarted in a loop', (t) => {
  const d = decideRestart(policy({}), [], crash(5, false));
  t.is(d.action, 'give-up');
  t.true(d.action === 'give-up' && d.reason.includes('start-up'));
});

test('transient: restarted after a crash, left down after a normal exit', (t) => {
  const p = policy({ restart: 'transient' });
  t.is(decideRestart(p, [], crash(1)).action, 'restart');
  t.is(decideRestart(p, [], normal(1)).action, 'leave-down');
});

test('temporary: never restarted', (t) => {
  const p = policy({ restart: 'temporary' });
  t.is(decideRestart(p, [], crash(1)).action, 'leave-down');
});

test('permanent: restarted even after a normal exit', (t) => {
  t.is(decideRestart(policy({}), [], normal(1)).action, 'restart');
});

test('zero intensity gives up at the first crash', (t) => {
  t.is(decideRestart(policy({ intensity: 0 }), [], crash(1)).action, 'give-up');
});
