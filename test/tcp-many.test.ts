/**
 * 1000 concurrent TCP connections through our pasta, out of the guest (IPv4 and IPv6, actors as threads:
 * the pasta process's fds) and into it through -t (actors as processes: the tcp actor's own fds). Every
 * connection is echoed; afterwards the fd counts and the flow table are back where they were.
 */
import test from 'ava';
import { actorPids, waitFor } from './helpers.js';
import { countersOf, echoServer, fdCount, openFlows, somePort, startWorld, tool, type TcpWorld } from './tcp-lib.js';

const N = 1000;
const settle = (ms = 1000) => new Promise((r) => setTimeout(r, ms));

/** Runs `many` from a namespace and checks the fds of `pid` grow while they are open, and come back. */
async function manyConnections(
  t: Parameters<typeof startWorld>[0], inNs: (argv: string[]) => string[], addr: string, port: number, pid: number,
): Promise<void> {
  const before = fdCount(pid);
  const client = tool(t, inNs, ['many', addr, String(port), String(N), '3000', '90']);
  await waitFor(`${N} connections echoed`, () => client.out().includes(`connected ${N}`), 45_000).catch((e: Error) => {
    throw new Error(`${e.message}: ${client.out()} ${client.err()}`);
  });
  const during = fdCount(pid);
  t.true(during >= before + N, `fds while open: ${during} (before: ${before})`);
  // the summary line comes after "closed N", in a separate write
  await waitFor(`${N} connections closed`, () => client.out().includes(`closed ${N}`) && /^\{.*\}$/m.test(client.out()), 30_000).catch((e: Error) => {
    throw new Error(`${e.message}: ${client.out()} ${client.err()}`);
  });
  const result = JSON.parse(/^\{.*\}$/m.exec(client.out())![0]) as { ok: number; failed: number };
  t.is(result.ok, N, client.out());
  // (± 32: the splice actor's namespace socket pool shares the process in thread mode; a leak here
  // would be 1000+)
  await waitFor(`fds of pid ${pid} back to ${before} (± 32)`, () => Math.abs(fdCount(pid) - before) <= 32, 30_000).catch((e: Error) => {
    throw new Error(`${e.message} (now ${fdCount(pid)})`);
  });
  t.log(`${addr}: ${N} connections, fds ${before} -> ${during} -> ${fdCount(pid)}`);
}

async function flowsAtExit(w: TcpWorld): Promise<Record<string, number> | undefined> {
  await settle();
  return countersOf(await w.stop()).tcp;
}

for (const v of [4, 6] as const) {
  test.serial(`${N} concurrent connections out of the guest, IPv${v}: fds and flows come back`, async (t) => {
    const w = await startWorld(t, []);
    const remote = v === 4 ? w.topo.remote4 : w.topo.remote6;
    const port = somePort();
    await echoServer(t, w.topo.inUpstream, remote, port, 120);
    await settle(1500); // the automatic forwards' first scans and the splice pool settle first
    await manyConnections(t, w.guestArgv, remote, port, w.pasta.child.pid!);
    const c = await flowsAtExit(w);
    t.true((c?.['flows-outbound'] ?? 0) >= N);
    t.is(openFlows(c), 0, JSON.stringify(c));
  });
}

test.serial(`${N} concurrent connections into the guest through -t (--actors: the tcp actor's fds)`, async (t) => {
  const port = somePort();
  const w = await startWorld(t, ['-t', String(port)], { actors: true });
  await echoServer(t, w.guestArgv, '0.0.0.0', port, 120);
  const tcpPid = actorPids(w.pasta.child.pid!).get('tcp');
  t.truthy(tcpPid);
  await settle(1500); // the automatic forwards' first scans and the splice pool settle first
  await manyConnections(t, w.topo.inHost, '127.0.0.1', port, tcpPid!);
  const c = await flowsAtExit(w);
  t.true((c?.['flows-inbound'] ?? 0) >= N);
  t.is(openFlows(c), 0, JSON.stringify(c));
});
