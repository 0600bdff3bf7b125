/**
 * One guest scenario for passt, played by two kinds of guest: a real qemu VM (passt-vm.test.ts) and a
 * kernel network namespace whose tap is relayed to passt's socket the way qemu's `-netdev stream` does
 * it (passt-guest-ns.test.ts: runs everywhere, no qemu needed).
 *
 * The guest runs `guestScript` and prints `GUEST key value` lines; the host side (servers on the host
 * namespace's loopback, reached from the guest at the gateway addresses; passt with -t/-u forwards)
 * is set up and checked by `playScenario`. passt runs in the private topology's host namespace:
 * nothing leaves the machine.
 */
import type { ExecutionContext } from 'ava';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PASST, background, run, waitFor } from './helpers.js';
import { makeTopology, type Topology } from './topology.js';
import { tempDir } from './passt-lib.js';

export const GUEST_MAC = '52:54:00:12:34:56';
const SLAAC6 = 'fd77::5054:ff:fe12:3456';

/** What a guest looks like from the test: its `GUEST key value` lines, and its end. */
export interface GuestConsole {
  /** waits for a `GUEST key ...` line and returns what follows the key */
  expect: (key: string, timeoutMs?: number) => Promise<string>;
  exited: Promise<number | null>;
}

/** Ports of the host's services and of passt's forwards. */
export interface ScenarioPorts {
  dl4: number; dl6: number; udp4: number; udp6: number; iperf: number; tin: number; uin: number;
}

/** A console over a text that grows (a guest's output), keyed by `GUEST key value` lines. */
export function consoleOf(text: () => string, ended: () => boolean, exited: Promise<number | null>): GuestConsole {
  // complete lines only: the console arrives in pieces, and a line read before its end would be cut
  // (a hash read as its first 61 digits, or empty); the last piece counts once the guest has ended
  const lines = (key: string) =>
    text().split(/\r?\n/).slice(0, ended() ? undefined : -1).flatMap((l) => {
      const m = /GUEST (\S+) ?(.*)$/.exec(l);
      return m && m[1] === key ? [m[2]!.trim()] : [];
    });
  const expect = async (key: string, timeoutMs = 60_000) => {
    await waitFor(`the guest's "${key}" line`, () => lines(key).length > 0 || ended(), timeoutMs, 50).catch((e: Error) => {
      throw new Error(`${e.message}\n--- guest output ---\n${text()}`);
    });
    const v = lines(key)[0];
    if (v === undefined) throw new Error(`the guest ended before "${key}"\n--- guest output ---\n${text()}`);
    return v;
  };
  return { expect, exited };
}

/**
 * The guest's side, as a POSIX shell script run with `W` (a scratch directory) set. Tools: busybox
 * (udhcpc, ping, ping6), ip, socat, iperf3, dhclient, sha256sum.
 */
export function guestScript(p: ScenarioPorts): string {
  return `
export W
say() { echo "GUEST $*"; }
cat > $W/udhcpc.sh <<'EOF'
#!/bin/sh
[ "$1" = bound ] || exit 0
ip addr add "$ip/$mask" dev "$interface"
[ -n "$mtu" ] && ip link set dev "$interface" mtu "$mtu"
for r in $router; do ip route add default via "$r" dev "$interface"; done
echo "ip=$ip mask=$mask router=$router mtu=$mtu dns=$dns" > $W/dhcp.out
EOF
# dhclient runs its script with a clean environment: the path is written into it
cat > $W/dh6.sh <<EOF
#!/bin/sh
[ -n "\\$new_ip6_address" ] || exit 0
ip -6 addr add "\\$new_ip6_address/128" dev "\\$interface" nodad 2>/dev/null ||
  ip -6 addr add "\\$new_ip6_address/128" dev "\\$interface"
echo "addr=\\$new_ip6_address dns=\\$new_dhcp6_name_servers" > $W/dhcpv6.out
EOF
chmod +x $W/udhcpc.sh $W/dh6.sh
: > $W/dhclient.conf
ip link set eth0 up
say link $(cat /sys/class/net/eth0/address)
busybox udhcpc -i eth0 -n -q -f -t 5 -T 2 -O mtu -s $W/udhcpc.sh >/dev/null 2>&1 && say dhcp $(cat $W/dhcp.out) || say dhcp failed
say mtu $(cat /sys/class/net/eth0/mtu)
for i in $(seq 1 60); do
  a=$(ip -6 addr show dev eth0 | awk '/inet6/ && /scope global/ && !/tentative/ {print $2; exit}')
  [ -n "$a" ] && break; sleep 0.25
done
# dhclient binds to the link-local address: wait for the end of duplicate address detection
for i in $(seq 1 60); do ip -6 addr show dev eth0 | grep -q tentative || break; sleep 0.25; done
say slaac $a
say route6 $(ip -6 route show default | head -n1)
timeout 20 dhclient -6 -1 -v -cf $W/dhclient.conf -sf $W/dh6.sh -lf $W/dh6.leases -pf $W/dh6.pid eth0 >$W/dh6.log 2>&1 && say dhcpv6 $(cat $W/dhcpv6.out) || { say dhcpv6 failed $?; sed 's/^/GUEST dhclient: /' $W/dh6.log; }
dhclient -6 -x -pf $W/dh6.pid >/dev/null 2>&1 # it went to the background with its lease: stop it
busybox ping -c 2 -W 5 10.77.0.1 >/dev/null 2>&1 && say ping4 ok || say ping4 failed
busybox ping6 -c 2 -W 5 fd77::1 >/dev/null 2>&1 && say ping6 ok || say ping6 failed
socat -u TCP4:10.77.0.1:${p.dl4} CREATE:$W/dl4 && say dl4 $(sha256sum $W/dl4 | cut -d' ' -f1) || say dl4 failed
rm -f $W/dl4
socat -u TCP6:[fd77::1]:${p.dl6} CREATE:$W/dl6 && say dl6 $(sha256sum $W/dl6 | cut -d' ' -f1) || say dl6 failed
rm -f $W/dl6
say udp4 $(echo udp4-hello | socat -T5 - UDP4:10.77.0.1:${p.udp4})
say udp6 $(echo udp6-hello | socat -T5 - UDP6:[fd77::1]:${p.udp6})
say iperf-up $(iperf3 -c 10.77.0.1 -p ${p.iperf} -t 2 -f m 2>&1 | awk '/receiver/ {print $7}')
say iperf-down $(iperf3 -c 10.77.0.1 -p ${p.iperf} -t 2 -f m -R 2>&1 | awk '/receiver/ {print $7}')
socat -T30 UDP6-LISTEN:${p.uin},ipv6only=0,fork PIPE &
udp=$!
socat -u TCP6-LISTEN:${p.tin},ipv6only=0,reuseaddr CREATE:$W/in4 &
sleep 0.5
say ready-in
wait $!
say in4 $(sha256sum $W/in4 | cut -d' ' -f1)
socat -u TCP6-LISTEN:${p.tin},ipv6only=0,reuseaddr CREATE:$W/in6 &
sleep 0.5
say ready-in6
wait $!
say in6 $(sha256sum $W/in6 | cut -d' ' -f1)
kill $udp 2>/dev/null
say end
`;
}

/**
 * At teardown (before the namespace is deleted), SIGKILL every process still in namespace `ns`: all
 * were started by this test (servers, forked server children, a daemonised DHCP client).
 */
export function killAllIn(t: ExecutionContext, ns: string): void {
  t.teardown(() => {
    for (const pid of run('ip', ['netns', 'pids', ns]).stdout.split(/\s+/).filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

function freePorts(n: number): number[] {
  const base = 20000 + Math.floor(Math.random() * 30000);
  return Array.from({ length: n }, (_, i) => base + i);
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

export interface Stage {
  topo: Topology;
  dir: string;
  sock: string;
  log: string;
  ports: ScenarioPorts;
  blob: Buffer;
  inbound: Buffer;
}

/** The host's side: topology, loopback services, a resolver on loopback, our passt with -t/-u. */
export async function setStage(t: ExecutionContext, passtArgs: string[] = []): Promise<Stage> {
  const topo = makeTopology(t);
  killAllIn(t, topo.host);
  run('ip', ['netns', 'exec', topo.host, 'sysctl', '-qw', 'net.ipv4.ping_group_range=0 2147483647']);
  // the host's resolver is on its loopback: the guest is told the gateway addresses instead
  const etc = `/etc/netns/${topo.host}`;
  mkdirSync(etc, { recursive: true });
  t.teardown(() => rmSync(etc, { recursive: true, force: true }));
  writeFileSync(join(etc, 'resolv.conf'), 'nameserver 127.0.0.1\nnameserver ::1\n');
  const dir = tempDir(t, 'passt-guest-');
  const [dl4, dl6, udp4, udp6, iperf, tin, uin] = freePorts(7) as [number, number, number, number, number, number, number];
  const ports = { dl4, dl6, udp4, udp6, iperf, tin, uin };
  const blob = randomBytes(8 << 20), inbound = randomBytes(1 << 20);
  writeFileSync(join(dir, 'blob'), blob);
  writeFileSync(join(dir, 'inbound'), inbound);
  const inHost = (argv: string[]) => background(t, 'ip', ['netns', 'exec', topo.host, ...argv]);
  inHost(['socat', '-u', `FILE:${dir}/blob`, `TCP4-LISTEN:${dl4},bind=127.0.0.1,reuseaddr`]);
  inHost(['socat', '-u', `FILE:${dir}/blob`, `TCP6-LISTEN:${dl6},bind=[::1],reuseaddr`]);
  inHost(['socat', '-T5', `UDP4-LISTEN:${udp4},bind=127.0.0.1,reuseaddr,fork`, 'PIPE']);
  inHost(['socat', '-T5', `UDP6-LISTEN:${udp6},bind=[::1],reuseaddr,fork`, 'PIPE']);
  inHost(['iperf3', '-s', '-B', '127.0.0.1', '-p', String(iperf)]);
  const sock = join(dir, 'passt.socket'), log = join(dir, 'passt.log');
  const passt = inHost([PASST, '-f', '-d', '-l', log, '-s', sock, '-t', String(tin), '-u', String(uin), ...passtArgs]);
  const logText = () => (existsSync(log) ? readFileSync(log, 'utf8') : '');
  await waitFor('passt to listen', () => logText().includes('You can now start qemu'), 20_000).catch((e: Error) => {
    throw new Error(`${e.message}\n${passt.err()}${logText()}`);
  });
  return { topo, dir, sock, log, ports, blob, inbound };
}

/** Checks every result of the guest, and plays the host's side of the forwards when the guest is ready. */
export async function playScenario(t: ExecutionContext, s: Stage, guest: GuestConsole): Promise<void> {
  t.is(await guest.expect('link'), GUEST_MAC);
  t.regex(await guest.expect('dhcp'), /ip=10\.77\.0\.2 mask=24 router=10\.77\.0\.1 mtu=65520 dns=10\.77\.0\.1$/);
  t.is(await guest.expect('mtu'), '65520');
  t.is(await guest.expect('slaac'), `${SLAAC6}/64`);
  t.regex(await guest.expect('route6'), /^default via fe80::\S+ dev eth0/);
  t.regex(await guest.expect('dhcpv6'), /^addr=fd77::2 dns=fd77::1$/);
  t.is(await guest.expect('ping4'), 'ok');
  t.is(await guest.expect('ping6'), 'ok');
  t.is(await guest.expect('dl4'), sha256(s.blob), '8 MiB over IPv4, by hash');
  t.is(await guest.expect('dl6'), sha256(s.blob), '8 MiB over IPv6, by hash');
  t.is(await guest.expect('udp4'), 'udp4-hello');
  t.is(await guest.expect('udp6'), 'udp6-hello');
  const up = Number(await guest.expect('iperf-up')), down = Number(await guest.expect('iperf-down'));
  t.true(up > 0 && down > 0, `iperf3 guest→host ${up} Mbit/s, host→guest ${down} Mbit/s`);
  t.log(`iperf3: guest→host ${up} Mbit/s, host→guest ${down} Mbit/s`);
  await guest.expect('ready-in');
  const hostCmd = (argv: string[], input?: string) => run('ip', ['netns', 'exec', s.topo.host, ...argv], 15_000, input === undefined ? {} : { input });
  t.is(hostCmd(['socat', '-T5', '-', `UDP4:127.0.0.1:${s.ports.uin}`], 'udp-in4\n').stdout.trim(), 'udp-in4', '-u into the guest (IPv4)');
  t.is(hostCmd(['socat', '-T5', '-', `UDP6:[::1]:${s.ports.uin}`], 'udp-in6\n').stdout.trim(), 'udp-in6', '-u into the guest (IPv6)');
  t.is(hostCmd(['socat', '-u', `FILE:${s.dir}/inbound`, `TCP4:127.0.0.1:${s.ports.tin}`]).status, 0);
  t.is(await guest.expect('in4'), sha256(s.inbound), '-t into the guest (IPv4)');
  await guest.expect('ready-in6');
  t.is(hostCmd(['socat', '-u', `FILE:${s.dir}/inbound`, `TCP6:[::1]:${s.ports.tin}`]).status, 0);
  t.is(await guest.expect('in6'), sha256(s.inbound), '-t into the guest (IPv6)');
  await guest.expect('end');
  t.regex(readFileSync(s.log, 'utf8'), /client connected \(PID \d+\)/);
}
