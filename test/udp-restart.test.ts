/**
 * The UDP actor SIGKILLed mid-stream (pasta --actors): it comes back, the guest's datagrams flow again
 * on the same guest socket and on new ones, the other actors keep their pids.
 */
import test from 'ava';
import { actorPids, waitFor } from './helpers.js';
import { countersOf, peer, somePort, startWorld } from './udp-lib.js';

const replies = (out: string): number[] => [...out.matchAll(/^reply (\d+)$/gm)].map((m) => Number(m[1]));

test('SIGKILL of the UDP actor: it restarts, datagrams flow again, tap and icmp keep their pids', async (t) => {
  const w = await startWorld(t, [], { actors: true });
  const port = somePort();
  await peer(t, w.topo.inUpstream, ['echo', '4', w.topo.remote4, String(port), '60']);
  await peer(t, w.topo.inUpstream, ['echo', '6', w.topo.remote6, String(port), '60']);
  const ping4 = await peer(t, w.guestArgv, ['ping', '4', w.topo.remote4, String(port), '40', '100']);
  const ping6 = await peer(t, w.guestArgv, ['ping', '6', w.topo.remote6, String(port), '40', '100']);
  await waitFor('replies before the kill', () => replies(ping4.out()).length >= 5 && replies(ping6.out()).length >= 5, 10_000);

  const pastaPid = w.pasta.child.pid!;
  const before = actorPids(pastaPid);
  t.is(before.size, 5, JSON.stringify([...before]));
  process.kill(before.get('udp')!, 'SIGKILL');
  const killedAt = [replies(ping4.out()).length, replies(ping6.out()).length];
  await waitFor('a new udp actor', () => {
    const now = actorPids(pastaPid).get('udp');
    return now !== undefined && now !== before.get('udp');
  }, 15_000);

  // the same connected guest sockets: their next datagrams open new flows in the new incarnation
  await waitFor('replies after the restart', () =>
    replies(ping4.out()).length >= killedAt[0]! + 10 && replies(ping6.out()).length >= killedAt[1]! + 10, 15_000);
  // and a new guest socket
  const fresh = w.inGuest(`printf again | socat -t 1 -T 3 - UDP:${w.topo.remote4}:${port}`);
  t.is(fresh.stdout, 'again', fresh.stderr);

  const after = actorPids(pastaPid);
  for (const name of ['tap', 'icmp']) t.is(after.get(name), before.get(name), `${name} kept its pid`);
  t.is(w.pasta.child.exitCode, null, 'pasta still running');
  const log = await w.stop();
  t.regex(log, /actor udp \(pid \d+\) ended \(signal SIGKILL\); restart/);
  t.true((countersOf(log).udp?.['flows-opened'] ?? 0) >= 3, 'the new incarnation opened flows');
});
