/**
 * ICMP echo end to end: `ping` and `ping -6` from a namespace pasta creates (--config-net), through
 * the icmp actor's ping sockets in the host namespace of the private topology. To tell the host's
 * loopback from the real gateway, the upstream namespace ignores echo requests in these tests.
 */
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PASTA, run } from './helpers.js';
import { makeTopology, type Topology } from './topology.js';
import { allowPingSockets, countersOf, keyValues, tempDir } from './services-lib.js';

interface Outcome {
  kv: Record<string, string>;
  log: string;
  counters: Record<string, Record<string, number>>;
}

/** A topology whose upstream (gateway and remote addresses) does not answer echo requests. */
function quietUpstream(t: ExecutionContext, hostPingRange = '0 2147483647'): Topology {
  const topo = makeTopology(t);
  allowPingSockets(topo.host, hostPingRange);
  for (const key of ['net.ipv4.icmp_echo_ignore_all=1', 'net.ipv6.icmp.echo_ignore_all=1']) {
    const r = run('ip', ['netns', 'exec', topo.upstream, 'sysctl', '-qw', key]);
    if (r.status !== 0) throw new Error(`sysctl ${key}: ${r.stderr}`);
  }
  return topo;
}

/** Runs `script` in a namespace our pasta creates in the host namespace, with --config-net. */
function inPasta(t: ExecutionContext, topo: Topology, args: string[], script: string): Outcome {
  const log = join(tempDir(t, 'icmp-'), 'pasta.log');
  const r = run('ip', ['netns', 'exec', topo.host, PASTA, '--config-net', '-d', '-l', log, ...args, '--', 'sh', '-c', script], 60_000);
  t.log(r.stdout.trim().split('\n').join(' | '));
  const text = readFileSync(log, 'utf8');
  return { kv: keyValues(r.stdout), log: text, counters: countersOf(text) };
}

const ping = (name: string, args: string) =>
  `if ping ${args} >/dev/null 2>&1; then echo ${name}=ok; else echo ${name}=fail; fi\n`;

function hostLinkLocal(topo: Topology): string {
  const r = run('ip', ['-n', topo.host, '-6', '-o', 'addr', 'show', 'scope', 'link'], 5_000);
  return /inet6 (fe80::[0-9a-f:]+)\//.exec(r.stdout)?.[1] ?? '';
}

test('ping and ping -6 to the gateway get replies from the host, and to our link-local address', async (t) => {
  const topo = quietUpstream(t);
  const ll = hostLinkLocal(topo);
  const o = inPasta(t, topo, [], `
IF=$(ls /sys/class/net | grep -v '^lo$' | head -1)
echo "range=$(cat /proc/sys/net/ipv4/ping_group_range | tr '\\t' ' ')"
for i in $(seq 30); do ip -6 addr show | grep -q tentative || break; sleep 0.1; done
${ping('gw4', `-c 2 -i 0.3 -W 3 ${topo.gw4}`)}${ping('gw6', `-6 -c 2 -i 0.3 -W 3 ${topo.gw6}`)}${ping('ll', `-6 -c 1 -W 3 ${ll}%$IF`)}
${ping('remote4', `-c 1 -W 2 ${topo.remote4}`)}`);
  t.is(o.kv.range, '0 0', 'ping sockets allowed in the namespace pasta made');
  t.is(o.kv.gw4, 'ok');
  t.is(o.kv.gw6, 'ok');
  t.is(o.kv.ll, 'ok');
  t.is(o.kv.remote4, 'fail', 'the upstream really ignores echo requests');
  const icmp = o.counters.icmp ?? {};
  t.is(icmp['echo-in'], 2, JSON.stringify(icmp));
  t.is(icmp['echo6-in'], 3);
  t.is(icmp['flows-opened'], 4);
});

for (const actors of [false, true]) {
  test(`several pings to one peer at once keep their own identifiers; large echo requests pass${actors ? ' (--actors)' : ''}`, async (t) => {
    const topo = quietUpstream(t);
    const o = inPasta(t, topo, actors ? ['--actors'] : [], `
  ping -c 4 -i 0.2 -W 3 ${topo.gw4} >/dev/null 2>&1 & a=$!
  ping -c 4 -i 0.2 -W 3 ${topo.gw4} >/dev/null 2>&1 & b=$!
  ping -6 -c 4 -i 0.2 -W 3 ${topo.gw6} >/dev/null 2>&1 & c=$!
  wait $a && echo a=ok; wait $b && echo b=ok; wait $c && echo c=ok
  ${ping('big4', `-c 1 -W 3 -s 30000 ${topo.gw4}`)}${ping('big6', `-6 -c 1 -W 3 -s 30000 ${topo.gw6}`)}`);
    t.deepEqual([o.kv.a, o.kv.b, o.kv.c], ['ok', 'ok', 'ok']);
    t.is(o.kv.big4, 'ok');
    t.is(o.kv.big6, 'ok');
    t.is(o.counters.icmp?.['flows-opened'], 5, JSON.stringify(o.counters.icmp));
  });
}

test('ping sockets refused by the host: one clear error, counted drops, pasta goes on', async (t) => {
  const topo = quietUpstream(t, '1 0');
  const o = inPasta(t, topo, [], ping('gw4', `-c 2 -i 0.3 -W 1 ${topo.gw4}`) + ping('gw6', `-6 -c 1 -W 1 ${topo.gw6}`));
  t.is(o.kv.gw4, 'fail');
  t.is(o.kv.gw6, 'fail');
  const errors = o.log.split('\n').filter((l) => /ping_group_range/.test(l));
  t.is(errors.length, 1, o.log);
  t.regex(errors[0] ?? '', /does not allow ping sockets/);
  t.is(o.counters.icmp?.['drop:ping-socket-denied'], 3, JSON.stringify(o.counters.icmp));
});

test('--no-icmp: echo requests are dropped and counted', async (t) => {
  const topo = quietUpstream(t);
  const o = inPasta(t, topo, ['--no-icmp'], ping('gw4', `-c 2 -i 0.3 -W 1 ${topo.gw4}`));
  t.is(o.kv.gw4, 'fail');
  t.is(o.counters.icmp?.['drop:icmp-disabled'], 2, JSON.stringify(o.counters.icmp));
});
