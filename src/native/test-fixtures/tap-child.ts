/**
 * Test fixture (native.test.ts): runs inside `unshare --user --map-root-user --net`. Opens a tap
 * device in its fresh network namespace, brings it up, and sends the tap fd to the parent with
 * SCM_RIGHTS over fd 3 along with "name ifindex netns-inode". Stays alive (so the namespace does)
 * until the parent closes its end of the socket, or 20 s pass.
 */
import { execFileSync } from 'node:child_process';
import { native } from '../index.js';

const SOCK_FD = 3;
const LIFETIME_MS = 20_000;

const tap = native.tapOpen(process.argv[2] ?? 'tap0');
execFileSync('ip', ['link', 'set', tap.name, 'up'], { timeout: 5000 });
const nsFd = native.openNs('/proc/self/ns/net');
const msg = new TextEncoder().encode(`${tap.name} ${native.ifIndex(tap.name)} ${native.fdInode(nsFd)}`);
native.sendFds(SOCK_FD, msg, 0, msg.length, [tap.fd]);

const timer = setTimeout(() => process.exit(2), LIFETIME_MS);
const buf = new Uint8Array(64);
const poll = native.pollStart(SOCK_FD, () => {
  const r = native.recvFds(SOCK_FD, buf, 0, buf.length);
  if (r === null || r.bytes > 0) return;
  native.pollStop(poll);
  clearTimeout(timer);
});
