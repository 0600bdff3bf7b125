/**
 * The tcp actor SIGKILLed during a transfer (pasta --actors): the router restarts it; the connection
 * that was open is reset on both sides (the kernel closes the dead process's sockets with unread data,
 * which resets the host peer; the new incarnation answers the guest's next segment with a RST); new
 * connections and -t forwards work again at once; the other actors keep their pids.
 */
import test from 'ava';
import { actorPids, background, exitWithin, run, waitFor } from './helpers.js';
import { countersOf, echoServer, somePort, startWorld, tool } from './tcp-lib.js';

test('SIGKILL of the tcp actor mid-transfer: both ends of that connection see it end, new connections work at once', async (t) => {
  const fwd = somePort();
  const w = await startWorld(t, ['-t', String(fwd)], { actors: true });
  const port = somePort();
  const sink = background(t, 'ip', ['netns', 'exec', w.topo.upstream, 'socat', '-u', `TCP4-LISTEN:${port},bind=${w.topo.remote4},reuseaddr`, 'OPEN:/dev/null']);
  await waitFor('the sink listening', () => run('ip', ['netns', 'exec', w.topo.upstream, 'ss', '-Htln', `sport = :${port}`]).stdout.includes(String(port)), 10_000);
  await echoServer(t, w.guestArgv, '0.0.0.0', fwd, 60);
  const stream = tool(t, w.guestArgv, ['stream', w.topo.remote4, String(port), '60']);
  await waitFor('the stream connected', () => stream.out().includes('connected'), 10_000);
  await new Promise((r) => setTimeout(r, 1000));

  const pasta = w.pasta.child.pid!;
  const before = actorPids(pasta);
  t.is(before.size, 5, JSON.stringify([...before]));
  const killedAt = Date.now();
  process.kill(before.get('tcp')!, 'SIGKILL');
  await waitFor('a new tcp actor', () => {
    const now = actorPids(pasta).get('tcp');
    return now !== undefined && now !== before.get('tcp');
  }, 10_000);

  // a new connection out of the guest works at once
  const echoPort = somePort();
  await echoServer(t, w.topo.inUpstream, w.topo.remote4, echoPort, 30);
  const fresh = w.inGuest(`echo again | socat -t 3 -T 5 - TCP:${w.topo.remote4}:${echoPort}`, 15_000);
  t.is(fresh.stdout.trim(), 'again', fresh.stderr);
  const recoveredMs = Date.now() - killedAt;
  t.log(`new connection served ${recoveredMs} ms after the kill`);
  t.true(recoveredMs < 5000);
  // and so does the -t forward, re-opened by the new incarnation
  const inbound = run('ip', ['netns', 'exec', w.topo.host, 'sh', '-c', `echo in | socat -t 3 -T 5 - TCP:127.0.0.1:${fwd}`], 15_000);
  t.is(inbound.stdout.trim(), 'in', inbound.stderr);

  // the connection that was open: reset towards the guest, ended towards the host peer
  await waitFor('the guest stream ended', () => /\{"sent":\d+,"error":"\w+"\}/.test(stream.out()), 15_000);
  t.regex(stream.out(), /"error":"(ECONNRESET|EPIPE)"/, stream.out());
  await exitWithin(sink, 10_000);

  const after = actorPids(pasta);
  for (const name of ['tap', 'udp', 'icmp']) t.is(after.get(name), before.get(name), `${name} kept its pid`);
  t.is(w.pasta.child.exitCode, null, 'pasta still running');
  const log = await w.stop();
  t.regex(log, /actor tcp \(pid \d+\) ended \(signal SIGKILL\); restart/);
  const tcp = countersOf(log).tcp;
  t.true((tcp?.['rst-to-guest'] ?? 0) >= 1, `the new incarnation reset the old connection: ${JSON.stringify(tcp)}`);
});
