/**
 * The real thing: Debian's qemu-system-x86 (7.2) boots a Debian cloud kernel under TCG with its NIC on
 * `-netdev stream` to our passt's socket. passt runs in the private topology's host namespace, whose
 * loopback servers the guest reaches at the gateway addresses (gateway mapping); nothing leaves the
 * machine. In the guest (busybox, socat, iperf3, dhclient from scripts/passt-vm-setup.sh):
 * DHCP (address, router, MTU, DNS), SLAAC and DHCPv6, ping to the gateway (v4, v6), TCP and UDP to the
 * host services (v4, v6), a multi-megabyte download checked by hash, iperf3 both ways, and `-t`/`-u`
 * forwards from the host into the guest. The guest prints `GUEST key value` lines on its serial
 * console; the test reads them and plays the host's side.
 */
import test from 'ava';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PASST, background, run, waitFor } from './helpers.js';
import { makeTopology } from './topology.js';
import { tempDir } from './passt-lib.js';
import { bootVm, initrdWith, prepareVm } from './vm-lib.js';

const GUEST_MAC = '52:54:00:12:34:56';
const SLAAC6 = 'fd77::5054:ff:fe12:3456';

function freePorts(n: number): number[] {
  const base = 20000 + Math.floor(Math.random() * 30000);
  return Array.from({ length: n }, (_, i) => base + i);
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** The guest's side, as a shell script: each result is one `GUEST key value` line on the console. */
function guestScript(p: Record<string, number>): string {
  return `
say() { echo "GUEST $*"; }
cat > /tmp/udhcpc.sh <<'EOF'
#!/bin/sh
[ "$1" = bound ] || exit 0
ip addr add "$ip/$mask" dev "$interface"
[ -n "$mtu" ] && ip link set dev "$interface" mtu "$mtu"
for r in $router; do ip route add default via "$r" dev "$interface"; done
echo "GUEST dhcp ip=$ip mask=$mask router=$router mtu=$mtu dns=$dns"
EOF
cat > /tmp/dh6.sh <<'EOF'
#!/bin/sh
[ -n "$new_ip6_address" ] && echo "GUEST dhcpv6 addr=$new_ip6_address dns=$new_dhcp6_name_servers"
exit 0
EOF
chmod +x /tmp/udhcpc.sh /tmp/dh6.sh
ip link set eth0 up
say link $(cat /sys/class/net/eth0/address)
udhcpc -i eth0 -n -q -f -t 5 -T 2 -O mtu -s /tmp/udhcpc.sh >/dev/null 2>&1 || say dhcp failed
say mtu $(cat /sys/class/net/eth0/mtu)
for i in $(seq 1 40); do
  a=$(ip -6 addr show dev eth0 scope global | awk '/inet6/ && !/tentative/ {print $2; exit}')
  [ -n "$a" ] && break; sleep 0.25
done
say slaac $a
say route6 $(ip -6 route show default | head -n1)
mkdir -p /var/lib/dhcp /etc/dhcp; : > /etc/dhcp/dhclient.conf
timeout 20 dhclient -6 -1 -sf /tmp/dh6.sh -lf /tmp/dh6.leases -pf /tmp/dh6.pid eth0 >/dev/null 2>&1 || say dhcpv6 failed
ping -c 2 -W 5 10.77.0.1 >/dev/null 2>&1 && say ping4 ok || say ping4 failed
ping6 -c 2 -W 5 fd77::1 >/dev/null 2>&1 && say ping6 ok || say ping6 failed
socat -u TCP4:10.77.0.1:${p.dl4} CREATE:/tmp/dl4 && say dl4 $(sha256sum /tmp/dl4 | cut -d' ' -f1) || say dl4 failed
rm -f /tmp/dl4
socat -u TCP6:[fd77::1]:${p.dl6} CREATE:/tmp/dl6 && say dl6 $(sha256sum /tmp/dl6 | cut -d' ' -f1) || say dl6 failed
rm -f /tmp/dl6
say udp4 $(echo udp4-hello | socat -T5 - UDP4:10.77.0.1:${p.udp4})
say udp6 $(echo udp6-hello | socat -T5 - UDP6:[fd77::1]:${p.udp6})
say iperf-up $(iperf3 -c 10.77.0.1 -p ${p.iperf} -t 2 -f m 2>&1 | awk '/receiver/ {print $7}')
say iperf-down $(iperf3 -c 10.77.0.1 -p ${p.iperf} -t 2 -f m -R 2>&1 | awk '/receiver/ {print $7}')
socat -T30 UDP6-LISTEN:${p.uin},ipv6only=0,fork PIPE &
socat -u TCP6-LISTEN:${p.tin},ipv6only=0,reuseaddr CREATE:/tmp/in4 &
sleep 0.5
say ready-in
wait $!
say in4 $(sha256sum /tmp/in4 | cut -d' ' -f1)
socat -u TCP6-LISTEN:${p.tin},ipv6only=0,reuseaddr CREATE:/tmp/in6 &
sleep 0.5
say ready-in6
wait $!
say in6 $(sha256sum /tmp/in6 | cut -d' ' -f1)
say end
`;
}

test('a qemu guest: DHCP, SLAAC, DHCPv6, ping, TCP/UDP v4/v6, a download by hash, iperf3, -t/-u forwards', async (t) => {
  t.timeout(115_000);
  prepareVm();
  const started = Date.now();
  const topo = makeTopology(t);
  run('ip', ['netns', 'exec', topo.host, 'sysctl', '-qw', 'net.ipv4.ping_group_range=0 2147483647']);
  // the host's resolver is on its loopback: the guest is told the gateway addresses instead
  const etc = `/etc/netns/${topo.host}`;
  mkdirSync(etc, { recursive: true });
  t.teardown(() => rmSync(etc, { recursive: true, force: true }));
  writeFileSync(join(etc, 'resolv.conf'), 'nameserver 127.0.0.1\nnameserver ::1\n');
  const dir = tempDir(t, 'passt-vm-');
  const [dl4, dl6, udp4, udp6, iperf, tin, uin] = freePorts(7) as [number, number, number, number, number, number, number];
  const blob = randomBytes(8 << 20);
  writeFileSync(join(dir, 'blob'), blob);
  const inbound = randomBytes(1 << 20);
  writeFileSync(join(dir, 'inbound'), inbound);
  const inHost = (argv: string[]) => background(t, 'ip', ['netns', 'exec', topo.host, ...argv]);
  inHost(['socat', '-u', `FILE:${dir}/blob`, `TCP4-LISTEN:${dl4},bind=127.0.0.1,reuseaddr`]);
  inHost(['socat', '-u', `FILE:${dir}/blob`, `TCP6-LISTEN:${dl6},bind=[::1],reuseaddr`]);
  inHost(['socat', `UDP4-LISTEN:${udp4},bind=127.0.0.1,reuseaddr,fork`, 'PIPE']);
  inHost(['socat', `UDP6-LISTEN:${udp6},bind=[::1],reuseaddr,fork`, 'PIPE']);
  inHost(['iperf3', '-s', '-B', '127.0.0.1', '-p', String(iperf)]);
  const sock = join(dir, 'passt.socket');
  const log = join(dir, 'passt.log');
  const passt = inHost([PASST, '-f', '-d', '-l', log, '-s', sock, '-t', String(tin), '-u', String(uin)]);
  await waitFor('passt to listen', () => passt.child.exitCode === null && readFileSync(log, 'utf8').includes('You can now start qemu'), 20_000).catch(
    (e: Error) => { throw new Error(`${e.message}\n${passt.err()}`); },
  );
  const vm = bootVm(t, initrdWith(dir, { 'test.sh': guestScript({ dl4, dl6, udp4, udp6, iperf, tin, uin }) }), sock, GUEST_MAC);

  t.is(await vm.expect('link'), GUEST_MAC);
  const dhcp = await vm.expect('dhcp');
  t.regex(dhcp, /ip=10\.77\.0\.2 mask=24 router=10\.77\.0\.1 mtu=65520 dns=10\.77\.0\.1$/);
  t.is(await vm.expect('mtu'), '65520');
  t.is(await vm.expect('slaac'), `${SLAAC6}/64`);
  t.regex(await vm.expect('route6'), /^default via fe80::\S+ dev eth0/);
  t.regex(await vm.expect('dhcpv6'), /^addr=fd77::2 dns=fd77::1$/);
  t.is(await vm.expect('ping4'), 'ok');
  t.is(await vm.expect('ping6'), 'ok');
  t.is(await vm.expect('dl4'), sha256(blob), '8 MiB over IPv4, by hash');
  t.is(await vm.expect('dl6'), sha256(blob), '8 MiB over IPv6, by hash');
  t.is(await vm.expect('udp4'), 'udp4-hello');
  t.is(await vm.expect('udp6'), 'udp6-hello');
  const up = Number(await vm.expect('iperf-up')), down = Number(await vm.expect('iperf-down'));
  t.true(up > 0 && down > 0, `iperf3 guest→host ${up} Mbit/s, host→guest ${down} Mbit/s`);
  t.log(`iperf3 under TCG: guest→host ${up} Mbit/s, host→guest ${down} Mbit/s`);

  await vm.expect('ready-in');
  const hostCmd = (argv: string[], input?: string) => run('ip', ['netns', 'exec', topo.host, ...argv], 15_000, input === undefined ? {} : { input });
  t.is(hostCmd(['socat', '-T5', '-', `UDP4:127.0.0.1:${uin}`], 'udp-in4\n').stdout.trim(), 'udp-in4', '-u into the guest (IPv4)');
  t.is(hostCmd(['socat', '-T5', '-', `UDP6:[::1]:${uin}`], 'udp-in6\n').stdout.trim(), 'udp-in6', '-u into the guest (IPv6)');
  t.is(hostCmd(['socat', '-u', `FILE:${dir}/inbound`, `TCP4:127.0.0.1:${tin}`]).status, 0);
  t.is(await vm.expect('in4'), sha256(inbound), '-t into the guest (IPv4)');
  await vm.expect('ready-in6');
  t.is(hostCmd(['socat', '-u', `FILE:${dir}/inbound`, `TCP6:[::1]:${tin}`]).status, 0);
  t.is(await vm.expect('in6'), sha256(inbound), '-t into the guest (IPv6)');
  await vm.expect('end');
  t.is(await Promise.race([vm.exited, new Promise<string>((r) => setTimeout(() => r('still running'), 20_000))]), 0, 'the guest powered off');
  t.regex(readFileSync(log, 'utf8'), /client connected \(PID \d+\)/);
  t.log(`whole VM test: ${((Date.now() - started) / 1000).toFixed(1)} s`);
});
