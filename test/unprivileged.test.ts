/**
 * pasta as an unprivileged user, as rootless containers run it: the user namespace is made with
 * `unshare --map-root-user`, and /dev/net/tun is made accessible (it is 0600 root here).
 */
import test from 'ava';
import { chmodSync, cpSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, run } from './helpers.js';

const NOBODY = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--'];

/** A copy of the program that user nobody can read, when the checkout itself is not readable to it. */
function readableTree(t: import('ava').ExecutionContext): string {
  if (run(NOBODY[0]!, [...NOBODY.slice(1), 'test', '-r', `${ROOT}dist/src/main.js`]).status === 0) return ROOT;
  const dir = mkdtempSync(join(tmpdir(), 'pa-nobody-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (const part of ['bin', 'dist', 'build', 'node_modules', 'package.json']) cpSync(join(ROOT, part), join(dir, part), { recursive: true, verbatimSymlinks: true });
  chmodSync(dir, 0o755);
  return `${dir}/`;
}

test.serial('an unprivileged user gets a configured namespace', (t) => {
  const tunMode = statSync('/dev/net/tun').mode & 0o777;
  chmodSync('/dev/net/tun', 0o666);
  t.teardown(() => chmodSync('/dev/net/tun', tunMode));
  const root = readableTree(t);
  const r = run(NOBODY[0]!, [...NOBODY.slice(1), `${root}bin/pasta`, '--config-net', '--', 'sh', '-c', 'id -u; ip -j addr show'], 30_000, {
    env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' },
  });
  t.is(r.status, 0, r.stderr);
  const [uid, json] = [r.stdout.slice(0, r.stdout.indexOf('\n')), r.stdout.slice(r.stdout.indexOf('\n') + 1)];
  t.is(uid.trim(), '0', 'root inside its own user namespace');
  const ifs = JSON.parse(json) as { ifname: string; mtu: number; flags: string[]; addr_info: { family: string }[] }[];
  const tap = ifs.find((i) => i.ifname !== 'lo');
  t.truthy(tap);
  t.is(tap?.mtu, 65520);
  t.true(tap?.flags.includes('UP'));
  t.true(tap?.addr_info.some((a) => a.family === 'inet'));
});

test.serial('an unprivileged user without access to /dev/net/tun gets a clear error', (t) => {
  const tunMode = statSync('/dev/net/tun').mode & 0o777;
  chmodSync('/dev/net/tun', 0o600);
  t.teardown(() => chmodSync('/dev/net/tun', tunMode));
  const root = readableTree(t);
  const r = run(NOBODY[0]!, [...NOBODY.slice(1), `${root}bin/pasta`, '--config-net', '--', 'true'], 30_000, {
    env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' },
  });
  t.is(r.status, 1);
  t.regex(r.stderr, /tun|EACCES|permission/i);
});
