import test from 'ava';
import { handleLine, MAX_REQUEST, type ActorStatus, type ControlDeps } from './commands.js';
import type { ActorName } from '../runtime/actor.js';

function deps(): ControlDeps & { restarted: ActorName[] } {
  const status: ActorStatus[] = [
    { name: 'tap', pid: 10, ready: true, restarts: 0, resets: 0 },
    { name: 'tcp', pid: 11, ready: true, restarts: 2, resets: 0 },
  ];
  const restarted: ActorName[] = [];
  return {
    restarted,
    actors: () => status,
    counters: async (name) => {
      if (name === 'udp') throw new Error('actor udp is not running');
      return { [`${name}-frames`]: 1 };
    },
    allCounters: async () => ({ tap: { a: 1 }, tcp: { b: 2 } }),
    restart: async (name) => {
      restarted.push(name);
      status[1] = { name: 'tcp', pid: 99, ready: true, restarts: 2, resets: 1 };
    },
  };
}

test('actors, counters (all or one), help', async (t) => {
  const d = deps();
  t.deepEqual(await handleLine('{"cmd":"actors"}', d), { ok: true, actors: d.actors() });
  t.deepEqual(await handleLine('{"cmd":"counters"}', d), { ok: true, counters: { tap: { a: 1 }, tcp: { b: 2 } } });
  t.deepEqual(await handleLine('{"cmd":"counters","actor":"icmp"}', d), { ok: true, counters: { icmp: { 'icmp-frames': 1 } } });
  t.deepEqual(await handleLine('{"cmd":"counters","actor":"udp"}', d), { ok: false, error: 'actor udp is not running' });
  t.like(await handleLine('{"cmd":"help"}', d), { ok: true, commands: ['actors', 'counters', 'restart', 'help'] });
});

test('restart: by name, answered with the new pid once ready', async (t) => {
  const d = deps();
  t.deepEqual(await handleLine('{"cmd":"restart","actor":"tcp"}', d), { ok: true, actor: 'tcp', pid: 99 });
  t.deepEqual(d.restarted, ['tcp']);
  t.like(await handleLine('{"cmd":"restart"}', d), { ok: false });
  t.like(await handleLine('{"cmd":"restart","actor":"router"}', d), { ok: false });
  t.deepEqual(d.restarted, ['tcp'], 'nothing restarted by a bad request');
});

test('bad requests get an error reply, never a throw', async (t) => {
  const d = deps();
  for (const line of ['', 'nope', '[]', 'null', '42', '{}', '{"cmd":7}', '{"cmd":"frobnicate"}', '{"cmd":"counters","actor":"x"}', 'x'.repeat(MAX_REQUEST + 1)]) {
    const r = await handleLine(line, d);
    t.false(r.ok, line.slice(0, 40));
    t.is(typeof r.error, 'string');
  }
  t.regex(String((await handleLine('{"cmd":"frobnicate"}', d)).error), /known: actors, counters, restart, help/);
});

test('flows and forward are refused by name until built', async (t) => {
  const d = deps();
  t.deepEqual(await handleLine('{"cmd":"flows"}', d), { ok: false, error: '"flows" is not supported yet' });
  t.deepEqual(await handleLine('{"cmd":"forward","tcp":"8080"}', d), { ok: false, error: '"forward" is not supported yet' });
});
