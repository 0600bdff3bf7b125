/**
 * passt with a kernel guest but no qemu: a network namespace's tap device relayed to passt's socket the
 * way qemu's `-netdev stream` does it (each frame with a 4-byte big-endian length, short frames padded
 * to 60 bytes, one connection), by a small relay (python3) inside that namespace. The same scenario as
 * the qemu test (passt-guest.ts), with the host's own tools as the guest's.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeNetns, waitFor } from './helpers.js';
import { GUEST_MAC, consoleOf, guestScript, killAllIn, playScenario, setStage } from './passt-guest.js';

/** tap "eth0" in the namespace ↔ passt's socket (argv[1]), as qemu's stream netdev frames it. */
const RELAY = `
import fcntl, os, select, socket, struct, sys
tap = os.open('/dev/net/tun', os.O_RDWR)
fcntl.ioctl(tap, 0x400454ca, struct.pack('16sH', b'eth0', 0x0002 | 0x1000))  # TUNSETIFF, IFF_TAP | IFF_NO_PI
os.system('ip link set eth0 address ${GUEST_MAC}')
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
print('relay up', flush=True)
buf = bytearray()
while True:
    ready, _, _ = select.select([tap, s], [], [])
    if tap in ready:
        f = os.read(tap, 65600)
        f += bytes(max(0, 60 - len(f)))
        s.sendall(struct.pack('!I', len(f)) + f)
    if s in ready:
        d = s.recv(1 << 20)
        if not d:
            break
        buf += d
        at = 0
        while len(buf) - at >= 4:
            n = struct.unpack_from('!I', buf, at)[0]
            if len(buf) - at < 4 + n:
                break
            try:
                os.write(tap, buf[at + 4:at + 4 + n])
            except OSError:
                pass  # the interface is down: the frame is lost, as on a wire
            at += 4 + n
        del buf[:at]
`;

for (const extra of [[], ['--actors']]) {
  const how = extra.length ? ' (--actors: each actor in its own process)' : '';
  test(`a namespace guest over the stream protocol: DHCP, SLAAC, DHCPv6, ping, TCP/UDP v4/v6, a download by hash, iperf3, -t/-u forwards${how}`, async (t) => {
    t.timeout(110_000);
    const stage = await setStage(t, extra);
    const guestNs = makeNetns(t, 'pag');
    killAllIn(t, guestNs);
    writeFileSync(join(stage.dir, 'relay.py'), RELAY);
    const relay = spawn('ip', ['netns', 'exec', guestNs, 'python3', join(stage.dir, 'relay.py'), stage.sock], { stdio: ['ignore', 'pipe', 'pipe'] });
    let relayOut = '';
    relay.stdout.on('data', (d: Buffer) => (relayOut += d.toString()));
    relay.stderr.on('data', (d: Buffer) => (relayOut += d.toString()));
    t.teardown(() => {
      if (relay.exitCode === null) relay.kill('SIGKILL');
      relay.stdout.destroy();
      relay.stderr.destroy();
    });
    await waitFor('the relay', () => relayOut.includes('relay up') || relay.exitCode !== null, 10_000);
    t.regex(relayOut, /relay up/);
    const script = `W=${stage.dir}\n${guestScript(stage.ports)}`;
    const guest = spawn('ip', ['netns', 'exec', guestNs, 'sh', '-c', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    guest.stdout.on('data', (d: Buffer) => (out += d.toString()));
    guest.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => guest.once('exit', (code) => resolve(code)));
    t.teardown(() => {
      if (guest.exitCode === null) guest.kill('SIGKILL');
      guest.stdout.destroy(); // a background process of the guest may still hold the pipe
      guest.stderr.destroy();
    });
    try {
      await playScenario(t, stage, consoleOf(() => out, () => guest.exitCode !== null, exited));
    } finally {
      if (!t.passed) t.log(`--- guest output ---\n${out}`);
    }
  });
}

