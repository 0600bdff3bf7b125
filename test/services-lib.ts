/**
 * Helpers for the guest-services and ICMP end-to-end tests: a pasta (ours or Debian's) serving a guest
 * namespace inside the private topology, the guest-side scripts (udhcpc, SLAAC, dhclient -6, ping,
 * arping) that print KEY=VALUE lines, a raw-frame injector, and the counters pasta logs at exit.
 *
 * Both pastas attach to a namespace the test made (`--netns`), without --config-net, so the guest has
 * to configure itself from what pasta tells it. Everything is bounded in time and torn down.
 */
import type { ExecutionContext } from 'ava';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEBIAN_PASTA, PASTA, background, exitWithin, makeNetns, run, waitFor, type Background, type RunResult } from './helpers.js';
import { makeTopology, type Topology } from './topology.js';

export type Which = 'ours' | 'debian';

export interface Served {
  topo: Topology;
  guest: string;
  pasta: Background;
  /** runs a shell script in the guest namespace */
  inGuest: (script: string, timeoutMs?: number) => RunResult;
  /** stops pasta (SIGTERM) and returns its log (ours: with -d, the counters) */
  stop: () => Promise<string>;
}

/** A private temporary directory removed at teardown. */
export function tempDir(t: ExecutionContext, prefix = 'svc-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Lets every group open ping sockets in namespace `ns` (the host side needs it for ICMP echo). */
export function allowPingSockets(ns: string, range = '0 2147483647'): void {
  const r = run('ip', ['netns', 'exec', ns, 'sysctl', '-qw', `net.ipv4.ping_group_range=${range}`]);
  if (r.status !== 0) throw new Error(`sysctl in ${ns}: ${r.stderr}`);
}

/**
 * Gives the host namespace its own /etc/resolv.conf (what `ip netns exec` binds over /etc/resolv.conf),
 * removed at teardown.
 */
export function hostResolvConf(t: ExecutionContext, topo: Topology, text: string): void {
  const dir = `/etc/netns/${topo.host}`;
  mkdirSync(dir, { recursive: true });
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'resolv.conf'), text);
}

/** Starts pasta in the topology's host namespace, serving a fresh guest namespace. */
export async function servePasta(t: ExecutionContext, which: Which, args: string[], topo = makeTopology(t)): Promise<Served> {
  allowPingSockets(topo.host);
  const guest = makeNetns(t, 'pag');
  const log = join(tempDir(t), 'pasta.log');
  const common = ['-f', '--netns', `/run/netns/${guest}`, ...args];
  const argv = which === 'ours' ? [PASTA, '-d', '-l', log, ...common] : [DEBIAN_PASTA, '--runas', '0:0', ...common];
  const pasta = background(t, 'ip', ['netns', 'exec', topo.host, ...argv]);
  await waitFor('the tap in the guest', () => guestIfname(guest) !== '', 15_000, 100).catch((e: Error) => {
    throw new Error(`${e.message}; pasta said: ${pasta.err()}${which === 'ours' && existsSync(log) ? readFileSync(log, 'utf8') : ''}`);
  });
  const inGuest = (script: string, timeoutMs = 40_000) => run('ip', ['netns', 'exec', guest, 'sh', '-c', script], timeoutMs);
  const stop = async () => {
    pasta.child.kill('SIGTERM');
    await exitWithin(pasta, 10_000).catch(() => pasta.child.kill('SIGKILL'));
    return which === 'ours' ? readFileSync(log, 'utf8') : pasta.err();
  };
  return { topo, guest, pasta, inGuest, stop };
}

/** The guest's tap name ('' while there is none). */
export function guestIfname(guest: string): string {
  const r = run('ip', ['-n', guest, '-o', 'link', 'show'], 5_000);
  const names = [...r.stdout.matchAll(/^\d+: ([^:@]+)/gm)].map((m) => m[1]!);
  return names.find((n) => n !== 'lo') ?? '';
}

/** KEY=VALUE lines of a script's output. */
export function keyValues(out: string): Record<string, string> {
  const kv: Record<string, string> = {};
  for (const line of out.split('\n')) {
    const m = /^([\w.]+)=(.*)$/.exec(line);
    if (m) kv[m[1]!] = m[2]!;
  }
  return kv;
}

/** The counters our pasta logged at exit (-d), by actor. */
export function countersOf(log: string): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const m of log.matchAll(/counters (\w+): (\{.*\})$/gm)) out[m[1]!] = JSON.parse(m[2]!) as Record<string, number>;
  return out;
}

/**
 * Shell prelude: IF = the tap, lo and the tap up (with this MTU first: the kernel ignores an RA MTU
 * above the link's), the link-local address past duplicate detection.
 */
export function guestUp(mtu?: number): string {
  return `
set -u
IF=$(ls /sys/class/net | grep -v '^lo$' | head -1)
[ -n "$IF" ] || { echo "no tap in the guest" >&2; exit 1; }
ip link set lo up
${mtu === undefined ? '' : `ip link set "$IF" mtu ${mtu}`}
ip link set "$IF" up
for i in $(seq 60); do ip -6 addr show dev "$IF" | grep -q tentative || break; sleep 0.1; done
D=$(mktemp -d)
trap 'rm -rf "$D"' EXIT
`;
}

export const GUEST_UP = guestUp();

/** busybox udhcpc: prints dhcp.* values of the lease and configures the address and default route. */
export const GUEST_DHCP = `
cat > $D/udhcpc.sh <<'EOF'
#!/bin/sh
[ "$1" = bound ] || exit 0
echo "dhcp.ip=$ip"; echo "dhcp.subnet=$subnet"; echo "dhcp.router=\${router:-}"; echo "dhcp.dns=\${dns:-}"
echo "dhcp.mtu=\${mtu:-}"; echo "dhcp.search=\${search:-}"; echo "dhcp.lease=\${lease:-}"; echo "dhcp.serverid=\${serverid:-}"
echo "dhcp.staticroutes=\${staticroutes:-}"
ip addr add "$ip/$subnet" dev "$interface"
[ -n "\${router:-}" ] && ip route add default via "$router" dev "$interface"
exit 0
EOF
chmod +x $D/udhcpc.sh
timeout 15 busybox udhcpc -i "$IF" -n -q -f -t 3 -T 2 -s $D/udhcpc.sh 2>/dev/null; echo "dhcp.status=$?"
`;

/** Waits up to 10 s for a SLAAC address, then prints it, the default route and the link's IPv6 MTU. */
export const GUEST_SLAAC = `
for i in $(seq 50); do
  ip -6 addr show dev "$IF" scope global | grep -q inet6 && ! ip -6 addr show dev "$IF" | grep -q tentative && break
  sleep 0.2
done
echo "slaac.addrs=$(ip -6 -j addr show dev "$IF" scope global)"
echo "slaac.routes=$(ip -6 -j route show default)"
echo "slaac.mtu6=$(cat /proc/sys/net/ipv6/conf/$IF/mtu)"
`;

/**
 * ISC dhclient -6 in the foreground (so it never outlives the script): prints dhcp6.* values of the
 * lease, waiting for it up to DH6_WAIT tenths of a second (default 150), then stops the client.
 */
export const GUEST_DHCP6 = `
cat > $D/dh6.sh <<'EOF'
#!/bin/sh
case "$reason" in BOUND6|REBOOT6)
  echo "dhcp6.addr=\${new_ip6_address:-}"; echo "dhcp6.dns=\${new_dhcp6_name_servers:-}"
  echo "dhcp6.search=\${new_dhcp6_domain_search:-}";;
esac
exit 0
EOF
chmod +x $D/dh6.sh
printf 'request dhcp6.name-servers, dhcp6.domain-search;\\n' > $D/dh6.conf
dhclient -6 -d -1 -cf $D/dh6.conf -sf $D/dh6.sh -lf $D/dh6.leases -pf $D/dh6.pid "$IF" >$D/dh6.out 2>/dev/null &
P=$!
for i in $(seq \${DH6_WAIT:-150}); do
  grep -q '^dhcp6.addr=' $D/dh6.out && break
  kill -0 $P 2>/dev/null || break
  sleep 0.1
done
kill $P 2>/dev/null
wait $P 2>/dev/null
grep '^dhcp6[.]' $D/dh6.out
if grep -q '^dhcp6.addr=' $D/dh6.out; then echo dhcp6.status=0; else echo dhcp6.status=1; fi
`;

/** ping and ping -6 to the gateways and the remote addresses, arping to the IPv4 gateway. */
export function guestPings(topo: Topology): string {
  return `
p() { if ping "$1" -c 1 -W 3 "$2" >/dev/null 2>&1; then echo "ping.$3=ok"; else echo "ping.$3=fail"; fi; }
p -4 ${topo.gw4} gw4
p -4 ${topo.remote4} remote4
p -6 ${topo.gw6} gw6
p -6 ${topo.remote6} remote6
if arping -c 1 -w 3 -I "$IF" ${topo.gw4} >/dev/null 2>&1; then echo arping=ok; else echo arping=fail; fi
`;
}

/**
 * Python: sends the hex frames given (after the interface and a listening time in seconds) on the
 * guest's tap through an AF_PACKET socket, with the tap's own MAC as source, then prints every frame
 * received meanwhile as hex, one per line.
 */
export const INJECT_PY = `
import binascii, socket, sys, time
ifname, wait, frames = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
mac = binascii.unhexlify(open('/sys/class/net/%s/address' % ifname).read().strip().replace(':', ''))
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.bind((ifname, 0))
s.settimeout(0.1)
for f in frames:
    b = bytearray(binascii.unhexlify(f))
    if len(b) >= 12 and b[6:12] == bytes(6):
        b[6:12] = mac
    s.send(bytes(b))
end = time.time() + wait
while time.time() < end:
    try:
        d, addr = s.recvfrom(70000)
    except socket.timeout:
        continue
    if addr[2] != socket.PACKET_OUTGOING:
        print(d.hex())
`;

/** Runs INJECT_PY in the guest: sends `frames`, returns the frames received within `listenSeconds`, as hex. */
export function injectFrames(t: ExecutionContext, served: Served, frames: Uint8Array[], listenSeconds: number): string[] {
  const script = join(tempDir(t, 'inject-'), 'inject.py');
  writeFileSync(script, INJECT_PY);
  const ifname = guestIfname(served.guest);
  const hexes = frames.map((f) => Buffer.from(f).toString('hex'));
  const r = run('ip', ['netns', 'exec', served.guest, 'python3', script, ifname, String(listenSeconds), ...hexes], (listenSeconds + 10) * 1000);
  if (r.status !== 0) throw new Error(`inject: ${r.stderr}`);
  return r.stdout.split('\n').filter((l) => l.length > 0);
}
