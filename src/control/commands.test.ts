import test from 'ava';
import { applyForwardChange, handleLine, MAX_REQUEST, type ActorStatus, type ControlDeps, type ForwardChange } from './commands.js';
import { defaultConfig, type Mode } from '../config/config.js';
import type { PortForward } from '../config/portspec.js';
import type { FaultSpec } from '../runtime/faults.js';
import type { ActorName, FlowInfo } from '../runtime/actor.js';

function deps(mode: Mode = 'pasta'): ControlDeps & { restarted: ActorName[]; changes: ForwardChange[] } {
  let fwd = defaultConfig(mode).forward;
  const changes: ForwardChange[] = [];
  const faults: Partial<Record<ActorName, FaultSpec>> = {};
  const status: ActorStatus[] = [
    { name: 'tap', pid: 10, ready: true, restarts: 0, resets: 0 },
    { name: 'tcp', pid: 11, ready: true, restarts: 2, resets: 0 },
  ];
  const restarted: ActorName[] = [];
  return {
    restarted,
    changes,
    mode,
    forward: () => fwd,
    setForward: async (change) => {
      changes.push(change);
      fwd = applyForwardChange(fwd, change);
    },
    faults: () => faults,
    setFaults: (name, spec) => {
      if (spec.drop + spec.dup + spec.corrupt + spec.delay + spec.crash + spec.crashAfter === 0) delete faults[name];
      else faults[name] = spec;
    },
    actors: () => status,
    counters: async (name) => {
      if (name === 'udp') throw new Error('actor udp is not running');
      return { [`${name}-frames`]: 1 };
    },
    allCounters: async () => ({ tap: { a: 1 }, tcp: { b: 2 } }),
    flows: async (name, max) => {
      if (name === 'icmp') throw new Error('actor icmp is not running');
      const all: FlowInfo[] = [
        { proto: 'tcp', dir: 'out', path: 'tap', guest: '10.0.2.15:40000', remote: '10.0.2.2:80', state: 'established' },
        { proto: 'tcp', dir: 'in', path: 'tap', guest: '10.0.2.15:22', remote: '192.0.2.7:50000', state: 'syn-sent' },
      ];
      return name === 'tcp' ? all.slice(0, max) : [];
    },
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
  t.like(await handleLine('{"cmd":"help"}', d), { ok: true, commands: ['actors', 'counters', 'flows', 'forward', 'fault', 'restart', 'help'] });
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
  t.regex(String((await handleLine('{"cmd":"frobnicate"}', d)).error), /known: actors, counters, flows, forward, fault, restart, help/);
});

test('flows: every flow actor that answers, or one; at most max each; bad max refused', async (t) => {
  const d = deps();
  const all = await handleLine('{"cmd":"flows"}', d);
  t.true(all.ok);
  t.is(all.max, 10_000);
  const f = all.flows as Record<string, FlowInfo[]>;
  t.deepEqual(Object.keys(f).sort(), ['splice', 'tcp', 'udp'], 'icmp is not running: left out');
  t.is(f['tcp']!.length, 2);
  t.like(f['tcp']![0], { dir: 'out', guest: '10.0.2.15:40000', state: 'established' });
  t.deepEqual(await handleLine('{"cmd":"flows","actor":"tcp","max":1}', d), { ok: true, flows: { tcp: [f['tcp']![0]] }, max: 1 });
  t.deepEqual(await handleLine('{"cmd":"flows","actor":"icmp"}', d), { ok: false, error: 'actor icmp is not running' });
  for (const bad of ['0', '-1', '1.5', '"3"', '100001']) t.like(await handleLine(`{"cmd":"flows","max":${bad}}`, d), { ok: false }, bad);
  t.like(await handleLine('{"cmd":"flows","actor":"nope"}', d), { ok: false });
});

test('forward: the current forwards; SPECs parsed as on the command line; UDP stops following TCP once given', async (t) => {
  const d = deps();
  t.like(await handleLine('{"cmd":"forward"}', d), { ok: true, forward: { t: { mode: 'auto' }, u: { mode: 'auto' }, T: { mode: 'auto' }, U: { mode: 'auto' } } });
  const r = await handleLine('{"cmd":"forward","t":["8080","127.0.0.1/9000-9001:90-91"],"T":"none"}', d);
  t.like(r, { ok: true, forward: { T: { mode: 'none' }, u: { mode: 'auto' } } });
  t.deepEqual((r.forward as Record<string, PortForward>)['t'], {
    mode: 'spec',
    ranges: [
      { first: 8080, last: 8080, target: 8080, addr: null, ifname: null },
      { first: 9000, last: 9001, target: 90, addr: '127.0.0.1', ifname: null },
    ],
  });
  t.true(d.forward().udpInFollowsTcp, 'u not given: UDP still follows TCP');
  await handleLine('{"cmd":"forward","u":"53"}', d);
  t.false(d.forward().udpInFollowsTcp);
  t.true(d.forward().udpOutFollowsTcp);
  t.is(d.changes.length, 2);
});

test('forward: bad requests change nothing', async (t) => {
  const d = deps();
  for (const line of [
    '{"cmd":"forward","t":"70000"}', '{"cmd":"forward","t":"all"}', '{"cmd":"forward","T":"127.0.0.1/80"}',
    '{"cmd":"forward","t":[]}', '{"cmd":"forward","t":8080}', '{"cmd":"forward","x":"80"}', '{"cmd":"forward","t":"80","u":"80-"}',
  ]) {
    const r = await handleLine(line, d);
    t.false(r.ok, line);
    t.is(typeof r.error, 'string');
  }
  t.is(d.changes.length, 0);
  t.regex(String((await handleLine('{"cmd":"forward","t":"70000"}', d)).error), /invalid port specification '70000' for -t/);
  const passt = deps('passt');
  t.like(await handleLine('{"cmd":"forward","U":"53"}', passt), { ok: false, error: '-U exists in pasta mode only' });
  t.deepEqual(Object.keys((await handleLine('{"cmd":"forward"}', passt)).forward as object), ['t', 'u']);
  t.like(await handleLine('{"cmd":"forward","t":"all"}', passt), { ok: true, forward: { t: { mode: 'all' } } });
});

test('fault: per actor, shown as SPEC text; none ends them; bad specs change nothing', async (t) => {
  const d = deps();
  t.deepEqual(await handleLine('{"cmd":"fault"}', d), { ok: true, faults: {} });
  t.deepEqual(await handleLine('{"cmd":"fault","actor":"tcp","spec":"drop=0.1,delay=0.5@20ms,seed=7"}', d), {
    ok: true, faults: { tcp: 'drop=0.1,delay=0.5@20ms,seed=7' },
  });
  for (const line of [
    '{"cmd":"fault","actor":"tcp","spec":"drop=2"}', '{"cmd":"fault","actor":"tcp","spec":"explode=1"}',
    '{"cmd":"fault","actor":"router","spec":"drop=0.1"}', '{"cmd":"fault","actor":"tcp"}', '{"cmd":"fault","spec":"drop=0.1"}',
  ]) t.false((await handleLine(line, d)).ok, line);
  t.deepEqual(await handleLine('{"cmd":"fault"}', d), { ok: true, faults: { tcp: 'drop=0.1,delay=0.5@20ms,seed=7' } }, 'unchanged');
  t.deepEqual(await handleLine('{"cmd":"fault","actor":"tcp","spec":"none"}', d), { ok: true, faults: {} });
});
