/**
 * The control socket end to end (`--control PATH`): list the actors, read counters, restart an actor.
 * A restart of the splice actor in THREAD mode proves that the fds it held outside epoll (pipes, pooled
 * namespace sockets) are closed by the router when the thread is gone: the process's fd count comes back
 * to what it was, and spliced connections work again, also with connections handed to the splice
 * actor's thread while it dies (fds in flight on a peer link are marked in the receiver's bitmap).
 */
import test from 'ava';
import { connect } from 'node:net';
import { join } from 'node:path';
import { lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { background, exitWithin, tempDir, waitFor, run } from './helpers.js';
import { allowPingSockets } from './services-lib.js';
import { echoPeers, peer as udpPeer } from './udp-lib.js';
import { echoServer, fdCount, listening, somePort, startWorld, type TcpWorld } from './tcp-lib.js';

/** Sends request lines on one connection; resolves with the parsed reply lines. */
function ask(path: string, ...requests: string[]): Promise<Record<string, unknown>[]> {
  return new Promise((resolve, reject) => {
    const sock = connect(path);
    let buf = '';
    const replies: Record<string, unknown>[] = [];
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no answer from ${path} to ${requests.join(' ')}: ${buf}`));
    }, 15_000);
    sock.setEncoding('utf8');
    sock.on('error', reject);
    sock.on('data', (d: string) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        replies.push(JSON.parse(buf.slice(0, nl)) as Record<string, unknown>);
        buf = buf.slice(nl + 1);
      }
      if (replies.length === requests.length) {
        clearTimeout(timer);
        sock.end();
        resolve(replies);
      }
    });
    sock.write(requests.map((r) => `${r}\n`).join(''));
  });
}

/** "fd:target" of every open fd of a process (what leaked, when a count differs). */
function fdLinks(pid: number): string[] {
  return readdirSync(`/proc/${pid}/fd`).map((f) => {
    try {
      return `${f}:${readlinkSync(`/proc/${pid}/fd/${f}`)}`;
    } catch {
      return f;
    }
  });
}

const settle = (ms = 1000) => new Promise((r) => setTimeout(r, ms));

function spliced(w: TcpWorld, port: number): string {
  return run('ip', ['netns', 'exec', w.topo.host, 'sh', '-c', `echo hi | socat -t 3 -T 5 - TCP:127.0.0.1:${port}`], 15_000).stdout.trim();
}

test.serial('--control: actors, counters, bad requests; the socket is 0600 and removed at exit', async (t) => {
  const path = join(tempDir(t, 'control-'), 'ctl.sock');
  const w = await startWorld(t, ['--control', path]);
  t.is(lstatSync(path).mode & 0o777, 0o600);
  const [actors, counters, bad, forwards] = await ask(path, '{"cmd":"actors"}', '{"cmd":"counters"}', 'garbage', '{"cmd":"forward"}');
  t.true(actors!.ok === true, JSON.stringify(actors));
  const list = actors!.actors as { name: string; pid: number; ready: boolean }[];
  t.deepEqual(list.map((a) => a.name).sort(), ['icmp', 'splice', 'tap', 'tcp', 'udp']);
  t.true(list.every((a) => a.ready && a.pid === w.pasta.child.pid), 'threads of pasta\'s own process');
  t.true(counters!.ok === true);
  t.true(typeof (counters!.counters as Record<string, unknown>)['tap'] === 'object');
  t.like(bad, { ok: false });
  t.like(forwards, { ok: true, forward: { t: { mode: 'auto' }, u: { mode: 'auto' }, T: { mode: 'auto' }, U: { mode: 'auto' } } }, 'pasta\'s defaults');
  await w.stop();
  t.throws(() => lstatSync(path), undefined, 'the socket is removed at exit');
});

test.serial('--control flows: TCP (tap path and spliced), UDP and ICMP flows, with their addresses and states', async (t) => {
  const path = join(tempDir(t, 'control-'), 'ctl.sock');
  const [tport, rport, uport] = [somePort(), somePort(), somePort()];
  const w = await startWorld(t, ['--control', path, '-t', String(tport)], { splice: true });
  const { remote4, gw4, hostAddr4 } = w.topo;
  // a remote server that keeps its connections open; the guest connects and stays
  await listening(t, w.topo.upstream, ['socat', `TCP-LISTEN:${rport},bind=${remote4},reuseaddr,fork`, 'SYSTEM:sleep 30'], rport);
  background(t, 'ip', ['netns', 'exec', w.guest, 'sh', '-c', `sleep 30 | socat -u - TCP:${remote4}:${rport}`]);
  // a spliced connection: a host loopback client to the guest's server through -t
  await echoServer(t, w.guestArgv, '0.0.0.0', tport, 60);
  background(t, 'ip', ['netns', 'exec', w.topo.host, 'sh', '-c', `sleep 30 | socat - TCP:127.0.0.1:${tport}`]);
  const u = w.inGuest(`echo x | socat -u - UDP:${remote4}:${uport}`);
  t.is(u.status, 0, u.stderr);
  allowPingSockets(w.topo.host); // ping sockets for the icmp actor in pasta's namespace
  t.is(w.inGuest(`ping -c 1 -W 5 ${gw4}`).status, 0);
  type Listed = Record<string, Record<string, unknown>[]>;
  let flows: Listed = {};
  for (const end = Date.now() + 10_000; Date.now() < end; await settle(200)) {
    flows = (await ask(path, '{"cmd":"flows"}'))[0]!.flows as Listed;
    if (flows['tcp']?.some((f) => f.state === 'established') && flows['splice']?.some((f) => f.state === 'established')) break;
  }
  t.log(JSON.stringify(flows));
  t.deepEqual(Object.keys(flows).sort(), ['icmp', 'splice', 'tcp', 'udp']);
  const guestOf = (f: Record<string, unknown>) => String(f.guest).replace(/:\d+$/, '');
  const tcp = flows['tcp']!.find((f) => f.remote === `${remote4}:${rport}`);
  t.like(tcp, { proto: 'tcp', dir: 'out', path: 'tap', state: 'established' }, 'the guest\'s connection to the remote server');
  t.is(tcp && guestOf(tcp), hostAddr4, 'from the guest\'s address');
  t.like(flows['udp']!.find((f) => f.remote === `${remote4}:${uport}`), { proto: 'udp', dir: 'out', path: 'tap', state: 'from-guest' });
  t.like(flows['icmp']!.find((f) => String(f.remote).startsWith(`${gw4}:`)), { proto: 'icmp', dir: 'out', state: 'echo' });
  const sp = flows['splice']!.find((f) => f.guest === `127.0.0.1:${tport}`);
  t.like(sp, { proto: 'tcp', dir: 'in', path: 'splice', state: 'established' }, 'the spliced connection, to the guest\'s listener');
  t.regex(String(sp?.remote), /^127\.0\.0\.1:\d+$/, 'from the host\'s loopback client');
  const one = (await ask(path, '{"cmd":"flows","actor":"tcp","max":1}'))[0]!;
  t.is((one.flows as Listed)['tcp']!.length, 1);
  await w.stop();
});

test.serial('--control forward: -t, -u, -T and -U changed at run time open and close listeners; a restarted actor keeps the change', async (t) => {
  const path = join(tempDir(t, 'control-'), 'ctl.sock');
  const [tport, uport, hport, huport] = [somePort(), somePort(), somePort(), somePort()];
  const w = await startWorld(t, ['--control', path, '-t', 'none', '-u', 'none', '-T', 'none', '-U', 'none'], { splice: true });
  const { hostAddr4, remote4 } = w.topo;
  await echoServer(t, w.guestArgv, '0.0.0.0', tport, 60);
  const udpEcho = await udpPeer(t, w.guestArgv, ['echo', '4', '0.0.0.0', String(uport), '60']);
  await listening(t, w.topo.host, ['socat', `TCP-LISTEN:${hport},bind=127.0.0.1,reuseaddr,fork`, 'SYSTEM:echo host-side'], hport);
  const fromRemote = () => run('ip', ['netns', 'exec', w.topo.upstream, 'sh', '-c', `echo hi | socat -t 3 -T 5 - TCP:${hostAddr4}:${tport}`], 15_000).stdout.trim();
  const udpFromRemote = () => run('ip', ['netns', 'exec', w.topo.upstream, 'sh', '-c', `printf ping | socat -t 1 -T 3 - UDP:${hostAddr4}:${uport},bind=${remote4}`], 15_000).stdout;
  const toHost = () => w.inGuest(`socat -T 5 - TCP:127.0.0.1:${hport} </dev/null`).stdout.trim();
  await udpPeer(t, w.topo.inHost, ['echo', '4', '127.0.0.1', String(huport), '60']);
  const udpToHost = () => w.inGuest(`printf ping | socat -t 1 -T 3 - UDP:127.0.0.1:${huport}`).stdout;
  const until = async (what: string, f: () => boolean) => waitFor(what, f, 10_000, 200);
  t.is(fromRemote(), '', 'nothing forwarded at start');
  t.is(toHost(), '');
  t.is(udpToHost(), '');
  const set = await ask(path, JSON.stringify({ cmd: 'forward', t: String(tport), u: String(uport), T: String(hport), U: String(huport) }));
  t.like(set[0], { ok: true, forward: { t: { mode: 'spec' }, u: { mode: 'spec' }, T: { mode: 'spec' }, U: { mode: 'spec' } } });
  await until('-t forwarded', () => fromRemote() === 'hi');
  t.is(spliced(w, tport), 'hi', '-t from the host\'s loopback: spliced');
  await until('-u forwarded', () => udpFromRemote() === 'ping');
  await until('the guest\'s UDP server saw the remote peer', () => echoPeers(udpEcho).some((p) => p.addr === remote4));
  await until('-T forwarded', () => toHost() === 'host-side');
  await until('-U forwarded', () => udpToHost() === 'ping');
  // the tcp actor restarted: its new incarnation starts with the changed -t
  t.like((await ask(path, '{"cmd":"restart","actor":"tcp"}'))[0], { ok: true });
  await until('-t still forwarded after a restart of the tcp actor', () => fromRemote() === 'hi');
  t.like((await ask(path, '{"cmd":"forward","t":"none","u":"none","T":"none","U":"none"}'))[0], { ok: true, forward: { t: { mode: 'none' } } });
  await until('-t no longer forwarded', () => fromRemote() === '');
  await until('-u no longer forwarded', () => udpFromRemote() === '');
  await until('-T no longer forwarded', () => toHost() === '');
  await until('-U no longer forwarded', () => udpToHost() === '');
  const bad = (await ask(path, '{"cmd":"forward","t":"99999"}'))[0]!;
  t.like(bad, { ok: false, error: "invalid port specification '99999' for -t" });
  await w.stop();
});

test.serial('--control restart of the splice actor (threads): held fds are closed, splicing works again', async (t) => {
  const path = join(tempDir(t, 'control-'), 'ctl.sock');
  const port = somePort();
  const w = await startWorld(t, ['--control', path, '-t', String(port)], { splice: true });
  await echoServer(t, w.guestArgv, '0.0.0.0', port, 60);
  const pid = w.pasta.child.pid!;
  t.is(spliced(w, port), 'hi');
  await settle(1500); // pipes back in their pool, namespace socket pool refilled, -T auto settled
  const before = fdCount(pid);
  const l0 = fdLinks(pid);
  const [r] = await ask(path, '{"cmd":"restart","actor":"splice"}');
  t.like(r, { ok: true, actor: 'splice' });
  let ok = '';
  for (const deadline = Date.now() + 10_000; ok !== 'hi' && Date.now() < deadline; await settle(200)) ok = spliced(w, port);
  t.is(ok, 'hi', 'a spliced connection after the restart');
  // the old incarnation's pipes (4 fds) and pooled namespace sockets (31) are gone and the new one holds
  // as many again; a connection still closing may hold one or two more for a moment
  await waitFor(`pasta's fds back to ${before} (± 2)`, () => Math.abs(fdCount(pid) - before) <= 2, 10_000).catch((e: Error) => {
    const l1 = fdLinks(pid);
    throw new Error(`${e.message} (now ${fdCount(pid)}) gone: ${l0.filter((x) => !l1.includes(x)).join(' ')} new: ${l1.filter((x) => !l0.includes(x)).join(' ')}`);
  });
  const [c] = await ask(path, '{"cmd":"counters","actor":"splice"}');
  const sc = (c!.counters as Record<string, Record<string, number>>)['splice']!;
  t.is(sc['flows-closed'], 1, 'counters of the new incarnation: one spliced connection');
  // loopback connections arriving while the splice actor is restarted: each is handed by the tcp actor
  // to the splice actor's thread (`splice-accept` + the socket) and may be in flight when it dies. One
  // lost on the way would stay open in CLOSE-WAIT (its client has gone) for as long as pasta runs.
  const burst = background(t, 'ip', ['netns', 'exec', w.topo.host, 'sh', '-c',
    `for i in $(seq 80); do socat -T 2 -u OPEN:/dev/null TCP:127.0.0.1:${port} 2>/dev/null & done; wait`]);
  await settle(40);
  t.like((await ask(path, '{"cmd":"restart","actor":"splice"}'))[0], { ok: true, actor: 'splice' });
  await exitWithin(burst, 20_000);
  const closeWait = () => run('ip', ['netns', 'exec', w.topo.host, 'ss', '-Htn', 'state', 'close-wait', `( sport = :${port} )`]).stdout.trim();
  await waitFor('no accepted socket left in CLOSE-WAIT', () => closeWait() === '', 10_000).catch((e: Error) => {
    throw new Error(`${e.message}: ${closeWait().split('\n').length} left`);
  });
  t.is(spliced(w, port), 'hi', 'a spliced connection after the second restart');
  await w.stop();
});

test.serial('--control restart of every actor, three times each, the splice actor ten (threads): no thread and no fd left behind', async (t) => {
  const path = join(tempDir(t, 'control-'), 'ctl.sock');
  const w = await startWorld(t, ['--control', path, '-t', String(somePort())], { splice: true });
  const pid = w.pasta.child.pid!;
  const threads = () => readdirSync(`/proc/${pid}/task`).length;
  await settle(1500);
  const [fds0, threads0, links0] = [fdCount(pid), threads(), fdLinks(pid)];
  for (const actor of ['tap', 'tcp', 'udp', 'icmp', 'splice']) {
    // the splice actor asks the namespace helper for sockets as it starts: restarted back to back, an
    // incarnation often dies with a reply (16 sockets) in flight to it
    const times = actor === 'splice' ? 10 : 3;
    for (let i = 0; i < times; i++) t.like((await ask(path, JSON.stringify({ cmd: 'restart', actor })))[0], { ok: true, actor });
    await settle(1500);
    t.log(`${actor}: ${threads()} threads, ${fdCount(pid)} fds`);
  }
  // each restart ends a worker thread and its event loop (a second destroy of the pool used to leave
  // both behind) and the tap duplicates the dead thread held (closed by the router: holdFd)
  // (a leak would be 4+ fds per restart: 60+ here; ± 2 for a socket of the pools being refilled)
  await waitFor(`threads back to ${threads0} and fds to ${fds0} (± 2)`, () => threads() === threads0 && Math.abs(fdCount(pid) - fds0) <= 2, 10_000).catch((e: Error) => {
    const links = fdLinks(pid);
    throw new Error(`${e.message} (now ${threads()} threads, ${fdCount(pid)} fds) gone: ${links0.filter((x) => !links.includes(x)).join(' ')} new: ${links.filter((x) => !links0.includes(x)).join(' ')}`);
  });
  const [a] = await ask(path, '{"cmd":"actors"}');
  const status = a!.actors as { name: string; ready: boolean; restarts: number; resets: number }[];
  t.true(status.every((x) => x.ready));
  t.deepEqual(Object.fromEntries(status.map((x) => [x.name, [x.restarts, x.resets]])),
    { tap: [0, 3], tcp: [0, 3], udp: [0, 3], icmp: [0, 3], splice: [0, 10] }, 'on purpose: counted as resets, not as restarts');
  await w.stop();
});
