/**
 * Guest services end to end: a namespace WITHOUT --config-net configures itself from what pasta tells
 * it, with real clients (busybox udhcpc, the kernel's SLAAC, ISC dhclient -6) and real tools (ping,
 * arping, tcpdump), inside the private topology (test/topology.ts). The same guest script runs against
 * Debian's pasta, and what both gave the guest is compared, so a difference fails as a comparison.
 */
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { join } from 'node:path';
import { Headroom, buildArp, buildIcmp4, buildIcmp6, buildUdp4, buildUdp6 } from '../src/protocol/frame.js';
import { MAC_BROADCAST } from '../src/protocol/eth.js';
import { parseIpv6 } from '../src/protocol/addr.js';
import { UDHCPC_DISCOVER } from '../src/actors/tap/services/testdata.js';
import { run } from './helpers.js';
import { makeTopology, type Topology } from './topology.js';
import {
  GUEST_DHCP, GUEST_DHCP6, GUEST_SLAAC, GUEST_UP, countersOf, guestUp, guestPings, hostResolvConf, injectFrames, keyValues,
  servePasta, tempDir, type Which,
} from './services-lib.js';

const ARGS = ['-D', '10.77.0.53', '-D', 'fd77::53', '--dhcp-dns', '-S', 'example.org', '--dhcp-search', '-m', '9000'];

interface Report {
  kv: Record<string, string>;
  log: string;
  topo: Topology;
}

/** The host namespace's link-local address (ours and Debian's pasta advertise from it). */
function hostLinkLocal(topo: Topology): string {
  const r = run('ip', ['-n', topo.host, '-6', '-j', 'addr', 'show', 'scope', 'link'], 5_000);
  const ifs = JSON.parse(r.stdout) as { addr_info: { local: string }[] }[];
  return ifs.flatMap((i) => i.addr_info.map((a) => a.local)).find((a) => a !== undefined) ?? '';
}

async function guestReport(t: ExecutionContext, which: Which, args: string[], script: (topo: Topology) => string, topo?: Topology): Promise<Report> {
  const s = await servePasta(t, which, args, topo);
  const r = s.inGuest(guestUp(65520) + script(s.topo), 100_000);
  const log = await s.stop();
  t.log(`${which}: ${r.stdout.trim().split('\n').join(' | ')}`);
  return { kv: keyValues(r.stdout), log, topo: s.topo };
}

const fullScript = (topo: Topology): string => GUEST_DHCP + GUEST_SLAAC + GUEST_DHCP6 + guestPings(topo);

interface SlaacView {
  prefix: string;
  prefixLen: number;
  routerIsOurLinkLocal: boolean;
  routeProtocol: string;
  mtu6: string;
}

function slaacView(r: Report): SlaacView {
  const addrs = JSON.parse(r.kv['slaac.addrs'] || '[]') as { addr_info: { local: string; prefixlen: number; dynamic?: boolean }[] }[];
  const routes = JSON.parse(r.kv['slaac.routes'] || '[]') as { gateway?: string; protocol?: string }[];
  const a = addrs.flatMap((i) => i.addr_info).find((x) => x.dynamic) ?? { local: '', prefixlen: 0 };
  const bytes = parseIpv6(a.local);
  const prefix = bytes ? Buffer.from(bytes.subarray(0, 8)).toString('hex') : '';
  return {
    prefix, prefixLen: a.prefixlen, routerIsOurLinkLocal: routes[0]?.gateway === hostLinkLocal(r.topo),
    routeProtocol: routes[0]?.protocol ?? '', mtu6: r.kv['slaac.mtu6'] ?? '',
  };
}

/** What the guest got, in a form both pastas can be compared on (lease values, not lifetimes). */
function comparable(r: Report): Record<string, unknown> {
  const pick = (prefix: string) => Object.fromEntries(Object.entries(r.kv).filter(([k]) => k.startsWith(prefix)));
  const { ['slaac.addrs']: _a, ['slaac.routes']: _r, ['slaac.mtu6']: _m, ...rest } = r.kv;
  void _a, void _r, void _m;
  return { dhcp: pick('dhcp.'), dhcp6: pick('dhcp6.'), ping: pick('ping.'), arping: rest.arping, slaac: slaacView(r) };
}

test.serial('udhcpc, SLAAC, dhclient -6, ping and arping: the guest configures itself, as with Debian pasta', async (t) => {
  const ours = await guestReport(t, 'ours', ARGS, fullScript);
  const kv = ours.kv;
  t.is(kv['dhcp.status'], '0', 'udhcpc got a lease');
  t.is(kv['dhcp.ip'], ours.topo.hostAddr4);
  t.is(kv['dhcp.subnet'], '255.255.255.0');
  t.is(kv['dhcp.router'], ours.topo.gw4);
  t.is(kv['dhcp.dns'], '10.77.0.53');
  t.is(kv['dhcp.mtu'], '9000');
  t.is(kv['dhcp.search'], 'example.org');
  t.is(kv['dhcp.lease'], '4294967295', 'infinite lease');
  t.is(kv['dhcp.serverid'], ours.topo.gw4);
  t.deepEqual(slaacView(ours), { prefix: 'fd77000000000000', prefixLen: 64, routerIsOurLinkLocal: true, routeProtocol: 'ra', mtu6: '9000' });
  t.is(kv['dhcp6.status'], '0', 'dhclient -6 got a lease');
  t.is(kv['dhcp6.addr'], ours.topo.hostAddr6);
  t.is(kv['dhcp6.dns'], 'fd77::53');
  t.is(kv['dhcp6.search'], 'example.org.');
  for (const p of ['gw4', 'remote4', 'gw6', 'remote6']) t.is(kv[`ping.${p}`], 'ok', `ping ${p}`);
  t.is(kv.arping, 'ok');
  const c = countersOf(ours.log);
  t.true((c.tap?.['reply:dhcp'] ?? 0) >= 2 && (c.tap?.['reply:dhcpv6'] ?? 0) >= 2 && (c.tap?.['reply:ndp'] ?? 0) >= 1, JSON.stringify(c.tap));
  t.true((c.icmp?.['echo-in'] ?? 0) >= 2 && (c.icmp?.['echo6-in'] ?? 0) >= 2, JSON.stringify(c.icmp));

  const theirs = await guestReport(t, 'debian', ARGS, fullScript);
  t.deepEqual(comparable(ours), comparable(theirs));
});

test.serial("DNS and search list from the host's resolv.conf (a loopback resolver is the gateway), as Debian pasta", async (t) => {
  const resolv = 'nameserver 127.0.0.53\nnameserver 10.77.0.53\nnameserver ::1\nnameserver fd77::99\nsearch a.test b.test\n';
  const report = async (which: Which) => {
    const topo = makeTopology(t);
    hostResolvConf(t, topo, resolv);
    return guestReport(t, which, ['--dhcp-dns', '--dhcp-search'], () => GUEST_DHCP + GUEST_DHCP6, topo);
  };
  const ours = await report('ours');
  t.is(ours.kv['dhcp.dns'], `${ours.topo.gw4} 10.77.0.53`);
  t.is(ours.kv['dhcp.search'], 'a.test b.test');
  t.is(ours.kv['dhcp6.dns'], `${ours.topo.gw6} fd77::99`);
  const theirs = await report('debian');
  t.is(ours.kv['dhcp6.search'], 'a.test. b.test.');
  for (const k of ['dhcp.dns', 'dhcp.search', 'dhcp6.dns']) t.is(ours.kv[k], theirs.kv[k], k);
  // Debian's pasta (2023-03) writes this list right in its ADVERTISE but corrupts it in its REPLY (a
  // byte between the names), so dhclient drops it: a known difference, kept visible here.
  t.is(theirs.kv['dhcp6.search'], '', "Debian pasta's DHCPv6 REPLY carries a broken domain list");
});

test.serial('without --dhcp-dns and --dhcp-search, pasta advertises no DNS and no search list', async (t) => {
  const ours = await guestReport(t, 'ours', ['-D', '10.77.0.53', '-S', 'example.org'], () => GUEST_DHCP);
  t.is(ours.kv['dhcp.status'], '0');
  t.is(ours.kv['dhcp.dns'], '');
  t.is(ours.kv['dhcp.search'], '');
  t.is(ours.kv['dhcp.mtu'], '65520', 'the default MTU is sent');
});

const ARP_MAC = `echo "arp.mac=$(arping -c 1 -w 3 -I "$IF" 10.77.0.1 2>/dev/null | tr A-F a-f | grep -o -E '([0-9a-f]{2}:){5}[0-9a-f]{2}' | head -1)"\n`;

test.serial('-a, -n and -M shape the lease and our replies, as Debian pasta; a gateway off the subnet gets classless routes', async (t) => {
  const args = ['-a', '10.77.0.50', '-n', '16', '-M', '02:aa:bb:cc:dd:ee'];
  const ours = await guestReport(t, 'ours', args, () => GUEST_DHCP + ARP_MAC);
  t.is(ours.kv['dhcp.ip'], '10.77.0.50');
  t.is(ours.kv['dhcp.subnet'], '255.255.0.0');
  t.is(ours.kv['dhcp.router'], '10.77.0.1');
  t.is(ours.kv['arp.mac'], '02:aa:bb:cc:dd:ee');
  const theirs = await guestReport(t, 'debian', args, () => GUEST_DHCP + ARP_MAC);
  for (const k of ['dhcp.ip', 'dhcp.subnet', 'dhcp.router', 'dhcp.staticroutes', 'arp.mac']) t.is(ours.kv[k], theirs.kv[k], k);

  const off = await guestReport(t, 'ours', ['-a', '10.77.0.50', '-n', '24', '-g', '10.99.0.1'], () => GUEST_DHCP);
  t.is(off.kv['dhcp.router'], '10.99.0.1');
  t.is(off.kv['dhcp.serverid'], '10.99.0.1');
  t.is(off.kv['dhcp.staticroutes'], '10.99.0.1/32 0.0.0.0 0.0.0.0/0 10.99.0.1');
});

test.serial('-4 leaves IPv6 unserved, -6 leaves IPv4 unserved (counted)', async (t) => {
  const v4 = await guestReport(t, 'ours', ['-4'], () => GUEST_DHCP + GUEST_SLAAC);
  t.is(v4.kv['dhcp.ip'], v4.topo.hostAddr4);
  t.is(slaacView(v4).prefix, '', 'no router advertisement');
  t.true((countersOf(v4.log).tap?.['drop:ipv6-disabled'] ?? 0) >= 1);
  const v6 = await guestReport(t, 'ours', ['-6'], (topo) => GUEST_DHCP + GUEST_SLAAC + `ping -6 -c 1 -W 3 ${topo.remote6} >/dev/null && echo ping6=ok\n`);
  t.not(v6.kv['dhcp.status'], '0', 'no DHCP lease');
  t.is(slaacView(v6).prefix, 'fd77000000000000');
  t.is(v6.kv.ping6, 'ok');
  t.true((countersOf(v6.log).tap?.['drop:ipv4-disabled'] ?? 0) >= 1);
});

// --- frames made by hand ------------------------------------------------------------------------

const ZERO_MAC = new Uint8Array(6); // replaced by the tap's own MAC when injected
const eth = { dst: MAC_BROADCAST, src: ZERO_MAC };
const GUEST4 = 0x0a4d0002, GW4 = 0x0a4d0001, REMOTE4 = 0x0a4d0101;

function padTo60(f: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.max(60, f.length));
  out.set(f);
  return out;
}

function arpRequest(targetIp: number): Uint8Array {
  const b = new Uint8Array(42);
  buildArp(b, 0, eth, 1, ZERO_MAC, GUEST4, ZERO_MAC, targetIp);
  return b;
}

function echoRequest4(id: number, dataLen: number): Uint8Array {
  const b = new Uint8Array(Headroom.Icmp4 + dataLen);
  buildIcmp4(b, 0, eth, { src: GUEST4, dst: REMOTE4 }, 8, 0, (id << 16) | 1, dataLen);
  return b;
}

const LL = parseIpv6('fe80::1234')!;
const ALL_ROUTERS = parseIpv6('ff02::2')!;

function ndp(type: number, body: Uint8Array, hopLimit = 255): Uint8Array {
  const b = new Uint8Array(Headroom.Icmp6 + body.length);
  b.set(body, Headroom.Icmp6);
  buildIcmp6(b, 0, eth, { src: LL, dst: ALL_ROUTERS, hopLimit }, type, 0, 0, body.length);
  return b;
}

function dhcpWithPayload(payload: Uint8Array): Uint8Array {
  const b = new Uint8Array(Headroom.Udp4 + payload.length);
  b.set(payload, Headroom.Udp4);
  buildUdp4(b, 0, eth, { src: 0, dst: 0xffffffff }, 68, 67, payload.length);
  return b;
}

/** The golden udhcpc DISCOVER's BOOTP message, with `edit` applied. */
function discoverPayload(edit: (p: Uint8Array) => Uint8Array = (p) => p): Uint8Array {
  return edit(UDHCPC_DISCOVER.slice(Headroom.Udp4));
}

function malformedFrames(): Uint8Array[] {
  const frames: Uint8Array[] = [];
  frames.push(arpRequest(GW4).subarray(0, 34)); // ARP cut short
  const badHlen = padTo60(arpRequest(GW4));
  badHlen[14 + 4] = 5;
  frames.push(badHlen); // ARP with a 5-byte hardware address
  frames.push(dhcpWithPayload(discoverPayload((p) => { p[236] = 0; return p; }))); // bad magic cookie
  frames.push(dhcpWithPayload(discoverPayload((p) => p.subarray(0, 242)))); // options cut inside one
  frames.push(dhcpWithPayload(new Uint8Array(20))); // a BOOTP header cut short
  frames.push(ndp(133, new Uint8Array(4), 64)); // RS with hop limit 64
  const badSum = ndp(133, new Uint8Array(4));
  badSum[Headroom.Icmp6 - 6] = badSum[Headroom.Icmp6 - 6]! ^ 0xff;
  frames.push(badSum); // RS with a wrong checksum
  frames.push(ndp(133, Uint8Array.of(0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0))); // option of length 0
  const dhcp6 = new Uint8Array(Headroom.Udp6 + 3);
  buildUdp6(dhcp6, 0, eth, { src: LL, dst: parseIpv6('ff02::1:2')! }, 546, 547, 3);
  frames.push(dhcp6); // DHCPv6 message cut short
  return frames;
}

/** Mutations of the golden DISCOVER: random bytes of the BOOTP message changed (seeded, repeatable). */
function fuzzedDiscovers(n: number): Uint8Array[] {
  let seed = 12345;
  const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const p = discoverPayload();
    for (let k = 0; k < 4; k++) p[240 + Math.floor(rnd() * (p.length - 240))] = Math.floor(rnd() * 256);
    out.push(dhcpWithPayload(p));
  }
  return out;
}

test.serial('short padded frames are accepted; malformed DHCP, NDP and ARP are dropped and counted, the tap actor stays up', async (t) => {
  const s = await servePasta(t, 'ours', []);
  s.inGuest(GUEST_UP + 'ip addr add 10.77.0.2/24 dev "$IF"');
  const answers = injectFrames(t, s, [padTo60(arpRequest(GW4)), padTo60(echoRequest4(0x4242, 0))], 3);
  const arpReply = answers.find((h) => h.slice(24, 28) === '0806' && h.slice(40, 44) === '0002');
  t.truthy(arpReply, `an ARP reply to the padded request: ${answers.join(' ')}`);
  t.is(arpReply?.slice(56, 64), '0a4d0001', 'for the gateway');
  const echoReply = answers.find((h) => h.slice(24, 28) === '0800' && h.slice(46, 48) === '01' && h.slice(68, 70) === '00');
  t.truthy(echoReply, `an echo reply to the padded request: ${answers.join(' ')}`);
  t.is(echoReply?.slice(32, 36), '001c', 'IP total length 28: the padding was not taken as echo data');
  t.is(echoReply?.slice(76, 80), '4242', "the guest's echo identifier");
  t.is(echoReply?.slice(52, 60), '0a4d0101', 'from the remote address');

  injectFrames(t, s, [...malformedFrames(), ...fuzzedDiscovers(200)], 1);
  const after = injectFrames(t, s, [arpRequest(GW4)], 2);
  t.true(after.some((h) => h.slice(24, 28) === '0806' && h.slice(40, 44) === '0002'), 'ARP still answered afterwards');
  const log = await s.stop();
  const tap = countersOf(log).tap ?? {};
  const count = (re: RegExp) => Object.entries(tap).filter(([k]) => re.test(k)).reduce((n, [, v]) => n + v, 0);
  t.log(JSON.stringify(tap));
  t.true(count(/^drop:Truncated$/) >= 1, 'short ARP');
  t.true(count(/^drop:BadArp$/) >= 1, 'bad ARP hardware length');
  t.true(count(/^drop:dhcp: /) >= 3, 'malformed DHCP');
  t.true(count(/^drop:ndp: hop limit/) >= 1, 'NDP hop limit');
  t.true(count(/^drop:ndp: bad checksum/) >= 1, 'NDP checksum');
  t.true(count(/^drop:ndp: (?!hop|bad checksum)/) >= 1, 'NDP bad option');
  t.true(count(/^drop:(dhcpv6: |BadL4Header)/) >= 1, 'DHCPv6 cut short');
  t.true((tap['reply:arp'] ?? 0) >= 2);
  const readies = [...log.matchAll(/actor tap ready \(pid \d+, restarts (\d+)\)/g)].map((m) => m[1]);
  t.deepEqual(readies, ['0'], 'the tap actor never restarted');
});

test.serial('--no-dhcp, --no-ndp, --no-ra and --no-dhcpv6 turn the services off, counted', async (t) => {
  const s = await servePasta(t, 'ours', ['--no-dhcp', '--no-ndp', '--no-ra', '--no-dhcpv6']);
  const r = s.inGuest(GUEST_UP + GUEST_DHCP + GUEST_SLAAC + 'DH6_WAIT=50\n' + GUEST_DHCP6, 60_000);
  const kv = keyValues(r.stdout);
  t.not(kv['dhcp.status'], '0', 'no DHCP lease');
  t.is(kv['dhcp.ip'], undefined);
  t.is(slaacView({ kv, log: '', topo: s.topo }).prefix, '', 'no SLAAC address');
  t.is(kv['dhcp6.addr'], undefined, 'no DHCPv6 lease');
  const tap = countersOf(await s.stop()).tap ?? {};
  t.true((tap['drop:dhcp: disabled'] ?? 0) >= 1, JSON.stringify(tap));
  t.true((tap['drop:ndp: disabled'] ?? 0) >= 1);
  t.true((tap['drop:dhcpv6: disabled'] ?? 0) >= 1);
  t.is(tap['ra-unsolicited'], undefined);
  t.is(tap['reply:dhcp'], undefined);
});

for (const actors of [false, true]) {
  test.serial(`-p captures the frames of both directions, tcpdump reads them back${actors ? ' (--actors)' : ''}`, async (t) => {
    const pcap = join(tempDir(t), 'guest.pcap');
    const s = await servePasta(t, 'ours', ['-p', pcap, ...(actors ? ['--actors'] : [])]);
    s.inGuest(GUEST_UP + GUEST_DHCP + `ping -c 2 -W 3 ${s.topo.remote4} >/dev/null`);
    await s.stop();
    const r = run('tcpdump', ['-r', pcap, '-n', '-e'], 15_000);
    t.is(r.status, 0, r.stderr);
    const lines = r.stdout.split('\n');
    const has = (re: RegExp) => lines.some((l) => re.test(l));
    t.true(has(/> ff:ff:ff:ff:ff:ff, ethertype IPv4 .* 0\.0\.0\.0\.68 > 255\.255\.255\.255\.67: BOOTP\/DHCP, Request/), 'DHCP from the guest');
    t.true(has(/ethertype IPv4 .* 10\.77\.0\.1\.67 > 10\.77\.0\.2\.68: BOOTP\/DHCP, Reply/), 'DHCP from us');
    t.true(has(/10\.77\.0\.2 > 10\.77\.1\.1: ICMP echo request/), 'echo request from the guest');
    t.true(has(/10\.77\.1\.1 > 10\.77\.0\.2: ICMP echo reply/), 'echo reply written by the icmp actor');
    t.true(has(/ICMP6, router solicitation/) && has(/ICMP6, router advertisement/), 'NDP both ways');
  });
}
