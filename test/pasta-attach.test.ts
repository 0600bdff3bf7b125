/**
 * pasta attaching to existing namespaces (`pasta PID`, `pasta --netns NAME|PATH`), exiting when the
 * namespace goes away, and surviving SIGKILL of any actor process.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PASTA, actorPids, background, exitWithin, makeNetns, run, waitFor } from './helpers.js';

function hasLink(netnsArgs: string[], name: string): boolean {
  const r = run('ip', [...netnsArgs, '-j', 'link', 'show']);
  if (r.status !== 0) return false;
  return (JSON.parse(r.stdout) as { ifname: string }[]).some((l) => l.ifname === name);
}

test('--netns NAME: the tap appears there; pasta exits within about a second of `ip netns del`', async (t) => {
  const ns = makeNetns(t);
  const p = background(t, PASTA, ['-f', '-I', 'patap0', '--netns', ns]);
  await waitFor('tap in the namespace', () => hasLink(['-n', ns], 'patap0'), 15_000);
  t.is(p.child.exitCode, null, 'still running');
  const t0 = Date.now();
  run('ip', ['netns', 'del', ns]);
  const exit = await exitWithin(p, 3000);
  t.is(exit.code, 0, p.err());
  t.true(Date.now() - t0 < 2000, `exited after ${Date.now() - t0} ms`);
});

test('--netns PATH with --config-net configures the existing namespace', async (t) => {
  const ns = makeNetns(t);
  const p = background(t, PASTA, ['-f', '--config-net', '-I', 'patap1', '--netns', `/run/netns/${ns}`]);
  await waitFor('configured tap', () => {
    const r = run('ip', ['-n', ns, '-j', 'addr', 'show', 'patap1']);
    return r.status === 0 && r.stdout.includes('"inet"') && r.stdout.includes('"UP"');
  }, 15_000);
  const mtu = (JSON.parse(run('ip', ['-n', ns, '-j', 'link', 'show', 'patap1']).stdout) as { mtu: number }[])[0]?.mtu;
  t.is(mtu, 65520);
  p.child.kill('SIGTERM');
  const exit = await exitWithin(p, 5000);
  t.is(exit.code, 143);
});

test('--no-netns-quit: pasta stays when the namespace path goes away', async (t) => {
  const ns = makeNetns(t);
  const p = background(t, PASTA, ['-f', '--no-netns-quit', '-I', 'patap2', '--netns', ns]);
  await waitFor('tap in the namespace', () => hasLink(['-n', ns], 'patap2'), 15_000);
  run('ip', ['netns', 'del', ns]);
  await new Promise((r) => setTimeout(r, 1500));
  t.is(p.child.exitCode, null, 'still running after the path is gone');
  p.child.kill('SIGTERM');
  await exitWithin(p, 5000);
});

test('pasta PID: joins the process\'s user and network namespaces; exits when the process is gone', async (t) => {
  const holder = spawn('unshare', ['--user', '--map-root-user', '--net', '--', 'sleep', '60'], { stdio: 'ignore' });
  t.teardown(() => void holder.kill('SIGKILL'));
  const pid = holder.pid!;
  await waitFor('holder in its namespace', () => run('readlink', [`/proc/${pid}/ns/net`]).stdout.trim() !== run('readlink', ['/proc/self/ns/net']).stdout.trim());
  const p = background(t, PASTA, ['-f', '-I', 'patap3', String(pid)]);
  const inNs = ['nsenter', `--target=${pid}`, '--net', '--user', '--preserve-credentials', 'ip', '-j', 'link', 'show'];
  await waitFor('tap in the PID\'s namespace', () => {
    const r = run(inNs[0]!, inNs.slice(1));
    return r.status === 0 && r.stdout.includes('"patap3"');
  }, 15_000);
  const t0 = Date.now();
  holder.kill('SIGKILL');
  const exit = await exitWithin(p, 3000);
  t.is(exit.code, 0, p.err());
  t.true(Date.now() - t0 < 2000, `exited after ${Date.now() - t0} ms`);
});

test('--actors: SIGKILL of each actor process; it comes back, the others keep their pids, the tap keeps being served', async (t) => {
  const ns = makeNetns(t);
  const dir = mkdtempSync(join(tmpdir(), 'pa-crash-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const logFile = join(dir, 'log');
  const pidFile = join(dir, 'pid');
  const p = background(t, PASTA, ['-f', '--actors', '-d', '-l', logFile, '-P', pidFile, '--config-net', '-I', 'patap4', '--netns', ns]);
  const pastaPid = p.child.pid!;
  // the PID file is written once every actor is ready and the tap is served
  await waitFor('the PID file', () => existsSync(pidFile), 15_000);
  t.is(actorPids(pastaPid).size, 5);
  await waitFor('tap configured', () => run('ip', ['-n', ns, '-j', 'addr', 'show', 'patap4']).stdout.includes('"inet"'), 15_000);
  const gateway = (JSON.parse(run('ip', ['-n', ns, '-j', 'route', 'show', 'default']).stdout) as { gateway: string }[])[0]?.gateway;
  t.truthy(gateway);
  // traffic from the namespace: the kernel ARPs for the gateway on the tap; only pasta sees these frames
  // (the neighbour entry is flushed first, so every poke makes the kernel send an ARP request again)
  const poke = () => {
    run('ip', ['-n', ns, 'neigh', 'flush', 'all']);
    run('ip', ['netns', 'exec', ns, 'ping', '-c', '1', '-W', '0.2', gateway!], 5000);
  };

  for (const victim of ['tcp', 'udp', 'icmp', 'splice', 'tap']) {
    const before = actorPids(pastaPid);
    const victimPid = before.get(victim)!;
    process.kill(victimPid, 'SIGKILL');
    await waitFor(`${victim} restarted (actors now: ${JSON.stringify([...actorPids(pastaPid)])})`, () => {
      const now = actorPids(pastaPid);
      return now.size === 5 && now.get(victim) !== undefined && now.get(victim) !== victimPid;
    }, 15_000);
    const after = actorPids(pastaPid);
    for (const [name, pid] of before) if (name !== victim) t.is(after.get(name), pid, `${name} untouched when ${victim} was killed`);
    t.is(p.child.exitCode, null, 'pasta still running');
    poke();
  }
  const log = () => readFileSync(logFile, 'utf8');
  for (const victim of ['tcp', 'udp', 'icmp', 'splice', 'tap']) {
    t.regex(log(), new RegExp(`actor ${victim} \\(pid \\d+\\) ended \\(signal SIGKILL\\); restart`));
  }
  poke();
  p.child.kill('SIGTERM');
  await exitWithin(p, 10_000);
  // the restarted tap actor kept serving the tap: it counted the namespace's frames after its restart
  const m = /counters tap: (\{.*\})/.exec(log());
  t.truthy(m, log());
  const counters = JSON.parse(m![1]!) as Record<string, number>;
  t.true((counters['frames-in'] ?? 0) > 0, JSON.stringify(counters));
});

test('started from a terminal without -f, pasta detaches once the namespace is served', async (t) => {
  const ns = makeNetns(t);
  const dir = mkdtempSync(join(tmpdir(), 'pa-daemon-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const pidFile = join(dir, 'pid');
  // `script` gives pasta a terminal; the foreground pasta must return at once, leaving the daemon serving
  const r = run('script', ['-qec', `${PASTA} -I patap5 -P ${pidFile} --netns ${ns}`, '/dev/null'], 20_000);
  t.is(r.status, 0, r.stdout);
  const daemonPid = Number(readFileSync(pidFile, 'utf8').trim());
  t.teardown(() => {
    try {
      process.kill(daemonPid, 'SIGKILL');
    } catch {
      // already gone
    }
  });
  t.true(daemonPid > 1);
  t.true(hasLink(['-n', ns], 'patap5'), 'tap served by the detached pasta');
  t.is(run('kill', ['-0', String(daemonPid)]).status, 0, 'the daemon is alive after the parent returned');
  run('ip', ['netns', 'del', ns]);
  await waitFor('the daemon exits when the namespace is gone', () => !existsSync(`/proc/${daemonPid}/cmdline`) || run('ps', ['-o', 'stat=', '-p', String(daemonPid)]).stdout.trim().startsWith('Z'), 5000);
});

test('podman\'s way: pasta --config-net -t none -u none -T none -U none --no-map-gw --netns PATH, no terminal, returns 0 once served', async (t) => {
  const ns = makeNetns(t);
  const dir = mkdtempSync(join(tmpdir(), 'pa-podman-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const pidFile = join(dir, 'pid');
  const start = Date.now();
  // no -f and no terminal (stdin from /dev/null, output to pipes), as podman runs it: it must return
  const r = run(PASTA, ['--config-net', '-t', 'none', '-u', 'none', '-T', 'none', '-U', 'none', '--no-map-gw', '-P', pidFile, '--netns', `/run/netns/${ns}`], 20_000);
  t.is(r.status, 0, r.stderr);
  t.log(`returned after ${Date.now() - start} ms`);
  const daemonPid = Number(readFileSync(pidFile, 'utf8').trim());
  t.teardown(() => {
    try {
      process.kill(daemonPid, 'SIGKILL');
    } catch {
      // already gone
    }
  });
  const addrs = run('ip', ['-n', ns, '-j', 'addr', 'show']).stdout;
  t.true(addrs.includes('"UP"') || /"operstate":"(UNKNOWN|UP)"/.test(addrs), addrs);
  t.regex(run('ip', ['-n', ns, 'route', 'show', 'default']).stdout, /^default via /, 'configured (--config-net) before returning');
  t.is(run('kill', ['-0', String(daemonPid)]).status, 0, 'the daemon serves after the parent returned');
  run('ip', ['netns', 'del', ns]);
  await waitFor('the daemon exits when the namespace is gone', () => !existsSync(`/proc/${daemonPid}/cmdline`) || run('ps', ['-o', 'stat=', '-p', String(daemonPid)]).stdout.trim().startsWith('Z'), 5000);
});
