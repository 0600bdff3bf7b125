/**
 * Fault injection end to end (`--fault ACTOR:SPEC`, the control socket's `fault`): real guests, real
 * servers behind the gateway, faults on one actor's frames only.
 * - loss on the tcp actor's frames towards the guest: downloads and uploads still arrive whole (the
 *   tcp actor retransmits), and so do downloads when the guest's acknowledgements get lost;
 * - corruption: counted, nothing crashes, traffic works again once the faults are lifted;
 * - an injected crash is injected once: the actor is restarted, its successor runs on;
 * - faults set and lifted at run time through the control socket, per actor (the tap actor's `in`: the
 *   guest's frames before any protocol actor sees them).
 */
import test from 'ava';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { run, tempDir } from './helpers.js';
import { countersOf, listening, somePort, startWorld, bulkData, type TcpWorld } from './tcp-lib.js';
import { echoPeers, peer as udpPeer } from './udp-lib.js';

const SIZE = 8 << 20;
const data = bulkData(test, 'faults-', SIZE);

/** One request line on the control socket; resolves with the parsed reply. */
function ask(path: string, request: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const sock = connect(path);
    let buf = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no answer to ${request}`));
    }, 15_000);
    sock.setEncoding('utf8');
    sock.on('error', reject);
    sock.on('data', (d: string) => {
      buf += d;
      if (!buf.includes('\n')) return;
      clearTimeout(timer);
      sock.end();
      resolve(JSON.parse(buf.slice(0, buf.indexOf('\n'))) as Record<string, unknown>);
    });
    sock.write(`${request}\n`);
  });
}

/** A server behind the gateway sending the data file to whoever connects. */
async function fileServer(t: Parameters<typeof listening>[0], w: TcpWorld): Promise<number> {
  const port = somePort();
  await listening(t, w.topo.upstream, ['socat', `TCP-LISTEN:${port},bind=${w.topo.remote4},reuseaddr,fork`, `OPEN:${data.file},rdonly`], port);
  return port;
}

/** A server behind the gateway answering each connection with the sha256 of what it received. */
async function hashServer(t: Parameters<typeof listening>[0], w: TcpWorld): Promise<number> {
  const port = somePort();
  await listening(t, w.topo.upstream, ['socat', `TCP-LISTEN:${port},bind=${w.topo.remote4},reuseaddr,fork`, 'SYSTEM:sha256sum'], port);
  return port;
}

const download = (w: TcpWorld, port: number, idleS = 20) =>
  w.inGuest(`socat -u -T ${idleS} TCP:${w.topo.remote4}:${port} - | sha256sum | cut -d' ' -f1`, 90_000).stdout.trim();
const upload = (w: TcpWorld, port: number) =>
  w.inGuest(`socat -t 30 -T 20 - TCP:${w.topo.remote4}:${port},shut-down < ${data.file}`, 90_000).stdout.split(' ')[0]!.trim();

test.serial('--fault tcp:drop=0.02,dir=out: 8 MiB down and up arrive whole through 2 % loss towards the guest; the losses are counted', async (t) => {
  const w = await startWorld(t, ['--fault', `tcp:drop=0.02,dir=out,seed=${process.env.FAULT_SEED ?? 11}`]);
  const [down, up] = [await fileServer(t, w), await hashServer(t, w)];
  const start = Date.now();
  t.is(download(w, down), data.digest(), 'download: lost data segments are sent again by the tcp actor');
  t.is(upload(w, up), data.digest(), 'upload: lost acknowledgements (a lost window update: the guest\'s zero-window probe is answered)');
  t.log(`8 MiB down and 8 MiB up in ${Date.now() - start} ms`);
  const c = countersOf(await w.stop());
  t.true((c.tcp?.['fault-dropped'] ?? 0) > 0, JSON.stringify(c.tcp));
  t.true((c.tcp?.['retransmit'] ?? 0) > 0, 'the tcp actor retransmitted');
  t.is(c.udp?.['fault-dropped'], undefined, 'other actors untouched');
});

test.serial('--fault tcp:drop=0.02,dir=in: 8 MiB down and up arrive whole when the guest\'s frames get lost', async (t) => {
  const w = await startWorld(t, ['--fault', `tcp:drop=0.02,dir=in,seed=${process.env.FAULT_SEED ?? 11}`]);
  const [down, up] = [await fileServer(t, w), await hashServer(t, w)];
  t.is(download(w, down), data.digest(), 'download: lost acknowledgements');
  const start = Date.now();
  t.is(upload(w, up), data.digest(), 'upload: lost data segments; what arrived beyond the hole is kept');
  t.log(`8 MiB up through 2 % loss of the guest's frames in ${Date.now() - start} ms`);
  const c = countersOf(await w.stop());
  t.true((c.tcp?.['fault-dropped'] ?? 0) > 0, JSON.stringify(c.tcp));
});

test.serial('--fault tcp:corrupt=0.05: corrupted frames are counted, pasta keeps serving, and works cleanly once lifted', async (t) => {
  const path = join(tempDir(t, 'faults-'), 'ctl.sock');
  const w = await startWorld(t, ['--control', path, '--fault', 'tcp:corrupt=0.05,seed=3']);
  const down = await fileServer(t, w);
  download(w, down, 3); // whatever arrives: header bytes hit make frames drop, payload bytes hit change data
  t.true(w.pasta.child.exitCode === null, 'pasta runs on');
  t.like(await ask(path, '{"cmd":"fault","actor":"tcp","spec":"none"}'), { ok: true, faults: {} });
  t.is(download(w, down), data.digest(), 'a clean download once the faults are lifted');
  const c = countersOf(await w.stop());
  t.true((c.tcp?.['fault-corrupted'] ?? 0) > 0, JSON.stringify(c.tcp));
});

for (const actors of [false, true]) test.serial(`--fault tcp:crash-after=40: the tcp actor crashes once at its 40th frame, is restarted, and the next download works${actors ? ' (--actors)' : ''}`, async (t) => {
  const path = join(tempDir(t, 'faults-'), 'ctl.sock');
  const w = await startWorld(t, ['--control', path, '--fault', 'tcp:crash-after=40,drop=0.001'], { actors });
  const down = await fileServer(t, w);
  download(w, down, 3); // cut short by the crash (its host socket is gone: the guest waits out its idle time)
  const restarts = async () => ((await ask(path, '{"cmd":"actors"}')).actors as { name: string; restarts: number; ready: boolean }[]).find((a) => a.name === 'tcp')!;
  let tcp = await restarts();
  for (const end = Date.now() + 10_000; !(tcp.restarts === 1 && tcp.ready) && Date.now() < end; tcp = await restarts()) await new Promise((r) => setTimeout(r, 100));
  t.like(tcp, { restarts: 1, ready: true });
  t.deepEqual(await ask(path, '{"cmd":"fault"}'), { ok: true, faults: { tcp: 'drop=0.001,seed=1' } }, 'the crash is injected once; the rest stays');
  t.is(download(w, down), data.digest(), 'the restarted actor runs on');
  t.is((await restarts()).restarts, 1, 'and does not crash again');
  t.regex(readFileSync(join(w.dir, 'pasta.log'), 'utf8'), /injected crash/);
  await w.stop();
});

test.serial('control fault: udp drop=1 set at run time loses every datagram; none brings them back; tcp is untouched', async (t) => {
  const path = join(tempDir(t, 'faults-'), 'ctl.sock');
  const w = await startWorld(t, ['--control', path]);
  const port = somePort();
  const echo = await udpPeer(t, w.topo.inUpstream, ['echo', '4', w.topo.remote4, String(port), '60']);
  const send = () => w.inGuest(`printf ping | socat -t 1 -T 2 - UDP:${w.topo.remote4}:${port}`).stdout;
  t.is(send(), 'ping');
  t.like(await ask(path, '{"cmd":"fault","actor":"udp","spec":"drop=1,dir=in"}'), { ok: true, faults: { udp: 'drop=1,dir=in,seed=1' } });
  const before = echoPeers(echo).length;
  t.is(send(), '', 'lost on the way in');
  t.is(echoPeers(echo).length, before, 'the server never saw it');
  const down = await fileServer(t, w);
  t.is(download(w, down), data.digest(), 'tcp is untouched');
  t.like(await ask(path, '{"cmd":"fault","actor":"udp","spec":"none"}'), { ok: true, faults: {} });
  t.is(send(), 'ping');
  const c = countersOf(await w.stop());
  t.true((c.udp?.['fault-dropped'] ?? 0) >= 1);
});

test.serial('control fault on the tap actor: dir=in loses the guest\'s frames before any protocol actor sees them', async (t) => {
  const path = join(tempDir(t, 'faults-'), 'ctl.sock');
  const w = await startWorld(t, ['--control', path]);
  const down = await fileServer(t, w);
  t.like(await ask(path, '{"cmd":"fault","actor":"tap","spec":"drop=1,dir=in"}'), { ok: true, faults: { tap: 'drop=1,dir=in,seed=1' } });
  t.is(w.inGuest(`socat -u -T 2 TCP:${w.topo.remote4}:${down},connect-timeout=2 - | wc -c`, 15_000).stdout.trim(), '0', 'the SYN never gets through');
  t.like(await ask(path, '{"cmd":"fault","actor":"tap","spec":"none"}'), { ok: true, faults: {} });
  t.is(download(w, down), data.digest());
  const c = countersOf(await w.stop());
  t.true((c.tap?.['fault-dropped'] ?? 0) >= 1, JSON.stringify(c.tap));
  t.is(c.tcp?.['fault-dropped'], undefined);
});

test('--fault: bad actors and specs are refused with the option named', (t) => {
  for (const [arg, re] of [
    ['router:drop=0.1', /unknown actor 'router' for --fault/],
    ['tcp:drop=7', /--fault tcp:drop=7: fault drop: a probability/],
    ['tcp:melt=1', /unknown fault 'melt'/],
  ] as const) {
    const r = run(join(process.cwd(), 'bin', 'pasta'), ['--fault', arg, '--', 'true'], 15_000);
    t.is(r.status, 1, arg);
    t.regex(r.stderr, re, arg);
  }
});
