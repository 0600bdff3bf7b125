/**
 * TCP bulk transfers through our pasta: 1 GiB each way, IPv4 and IPv6, sha256 compared end to end (the
 * upload also proves half-close: the guest shuts its side down and then reads the server's digest); 1 GiB
 * into the guest through a -t forward from the host's loopback; uploads at MTU 1500 (segments merged per
 * batch, coalesce.ts); iperf3 both ways. Throughput is logged.
 */
import test, { type ExecutionContext } from 'ava';
import { run } from './helpers.js';
import { bracket, bulkData, rate, countersOf, listening, openFlows, somePort, startWorld } from './tcp-lib.js';

const SIZE = 1 << 30;
const { dir, file, digest } = bulkData(test, 'tcp-bulk-', SIZE);
const settle = () => new Promise((r) => setTimeout(r, 1000));

type Counters = Record<string, number> | undefined;

/** 1 GiB from the guest to a remote server (its digest comes back after the guest's half-close). */
async function upload(t: ExecutionContext, v: 4 | 6, args: string[], label: string): Promise<Counters> {
  const w = await startWorld(t, args);
  const port = somePort();
  const remote = v === 4 ? w.topo.remote4 : w.topo.remote6;
  await listening(t, w.topo.upstream, ['socat', '-t', '30', `TCP${v}-LISTEN:${port},bind=${bracket(remote)},reuseaddr`, 'SYSTEM:sha256sum'], port);
  const start = Date.now();
  const r = w.inGuest(`socat -t 60 -T 60 - TCP:${bracket(remote)}:${port} < ${file}`, 90_000);
  const ms = Date.now() - start;
  t.is(r.stdout.slice(0, 64), digest(), r.stderr);
  t.log(`upload ${label}: 1 GiB in ${ms} ms, ${rate(SIZE, ms)}`);
  await settle();
  const c = countersOf(await w.stop()).tcp;
  t.is(c?.['data-from-guest'], SIZE);
  t.is(openFlows(c), 0);
  return c;
}

/** 1 GiB from a remote server to the guest, digest computed in the guest. */
async function download(t: ExecutionContext, v: 4 | 6, args: string[], label: string): Promise<void> {
  const w = await startWorld(t, args);
  const port = somePort();
  const remote = v === 4 ? w.topo.remote4 : w.topo.remote6;
  await listening(t, w.topo.upstream, ['socat', '-u', `OPEN:${file}`, `TCP${v}-LISTEN:${port},bind=${bracket(remote)},reuseaddr`], port);
  const start = Date.now();
  const r = w.inGuest(`socat -u -T 60 TCP:${bracket(remote)}:${port} - | sha256sum`, 90_000);
  const ms = Date.now() - start;
  t.is(r.stdout.slice(0, 64), digest(), r.stderr);
  t.log(`download ${label}: 1 GiB in ${ms} ms, ${rate(SIZE, ms)}`);
  await settle();
  const c = countersOf(await w.stop()).tcp;
  t.true((c?.['data-to-guest'] ?? 0) >= SIZE, 'bytes sent to the guest, retransmissions included');
  t.is(openFlows(c), 0);
}

for (const v of [4, 6] as const) {
  test.serial(`IPv${v}: 1 GiB from the guest to a remote server, digest returned after the guest's half-close`, async (t) => {
    await upload(t, v, [], `IPv${v}`);
  });

  test.serial(`IPv${v}: 1 GiB from a remote server to the guest`, async (t) => {
    await download(t, v, [], `IPv${v}`);
  });

  test.serial(`IPv${v}, MTU 1500: 1 GiB from the guest, the segments of each batch merged before the socket`, async (t) => {
    const c = await upload(t, v, ['-m', '1500'], `IPv${v}, MTU 1500`);
    // about 735 000 segments of at most 1460 bytes: most of them arrive in batches and are merged
    const merged = c?.['segments-merged'] ?? 0;
    t.true(merged > SIZE / 1460 / 4, `segments merged: ${merged}`);
    t.log(`segments merged: ${merged} of about ${Math.ceil(SIZE / (v === 4 ? 1460 : 1440))}`);
  });
}

test.serial('IPv4, MTU 1500: 1 GiB from a remote server to the guest', async (t) => {
  await download(t, 4, ['-m', '1500'], 'IPv4, MTU 1500');
});

test.serial('-t: 1 GiB from the host\'s loopback into the guest', async (t) => {
  const port = somePort();
  const w = await startWorld(t, ['-t', String(port)]);
  await listening(t, w.guest, ['sh', '-c', `socat -u TCP6-LISTEN:${port},ipv6only=0,reuseaddr - | sha256sum > ${dir}/inbound.sha`], port);
  const start = Date.now();
  const r = run('ip', ['netns', 'exec', w.topo.host, 'socat', '-u', `OPEN:${file}`, `TCP:127.0.0.1:${port}`], 90_000);
  t.is(r.status, 0, r.stderr);
  const check = run('sh', ['-c', `for i in $(seq 100); do [ -s ${dir}/inbound.sha ] && break; sleep 0.1; done; cat ${dir}/inbound.sha`]);
  const ms = Date.now() - start;
  t.is(check.stdout.slice(0, 64), digest());
  t.log(`-t inbound IPv4: 1 GiB in ${ms} ms, ${rate(SIZE, ms)}`);
  await settle();
  t.is(openFlows(countersOf(await w.stop()).tcp), 0);
});

interface IperfEnd { sum_received: { bits_per_second: number; bytes: number }; sum_sent: { retransmits?: number } }

for (const reverse of [false, true]) {
  test.serial(`iperf3 ${reverse ? 'remote to guest (-R)' : 'guest to remote'}, IPv4 and IPv6`, async (t) => {
    const w = await startWorld(t, []);
    for (const remote of [w.topo.remote4, w.topo.remote6]) {
      const port = somePort();
      await listening(t, w.topo.upstream, ['iperf3', '-s', '-1', '-B', remote, '-p', String(port)], port);
      const r = w.inGuest(`iperf3 -c ${remote} -p ${port} -t 4 -J ${reverse ? '-R' : ''}`, 40_000);
      t.is(r.status, 0, r.stdout.slice(0, 2000) + r.stderr);
      const end = (JSON.parse(r.stdout) as { end: IperfEnd }).end;
      const gbps = end.sum_received.bits_per_second / 1e9;
      t.log(`iperf3 ${reverse ? '-R' : ''} to ${remote}: ${gbps.toFixed(2)} Gbit/s received, ${end.sum_sent.retransmits ?? 0} retransmits`);
      t.true(end.sum_received.bytes > 0);
    }
    await w.stop();
  });
}
