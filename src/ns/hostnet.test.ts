/**
 * Host network selection: the pure choice on parsed samples, then for real: on this host against
 * `ip -j`, and in a scratch namespace with two uplinks against what Debian's pasta copies into its own
 * namespace from there (default, -i, --outbound-if4, --outbound-if6).
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { native } from '../native/index.js';
import { Af, IfaF, RtScope, RtTable, Rtn } from '../protocol/netlink.js';
import type { AddrMsg, LinkMsg, RouteMsg } from '../protocol/netlink.js';
import { defaultRoute, discoverHostNetwork, selectHostNetwork } from './hostnet.js';
import type { HostNetOptions, HostNetState } from './hostnet.js';
import { NetlinkClient } from './netlink-client.js';
import type { RtnlReader } from './netlink-client.js';
import { planNamespaceConfig } from './netconf.js';

const CLONE_NEWNET = 0x40000000;

const link = (index: number, name: string, mtu = 1500): LinkMsg => ({
  family: 0, type: 1, index, flags: 0x1043, change: 0, name, mtu,
  address: `02:00:00:00:00:${index.toString(16).padStart(2, '0')}`, kind: null,
});

function addr(index: number, text: string, prefixLen: number, scope: number = RtScope.Universe, flags = 0): AddrMsg {
  const v4 = text.includes('.');
  return {
    family: v4 ? Af.Inet : Af.Inet6, prefixLen, flags, scope, index,
    address: text, local: v4 ? text : null, broadcast: null, label: null,
  };
}

function route(family: number, oif: number | null, gateway: string | null, more: Partial<RouteMsg> = {}): RouteMsg {
  return {
    family, dstLen: 0, srcLen: 0, tos: 0, table: RtTable.Main, protocol: 3, scope: 0, type: Rtn.Unicast, flags: 0,
    dst: null, gateway, prefsrc: null, oif, priority: null, ...more,
  };
}

/** Two uplinks: v0 (index 3) and w0 (index 5); w0's default routes come first (lower metric). */
const TWO_UPLINKS: HostNetState = {
  links: [link(1, 'lo', 65536), link(3, 'v0', 9000), link(5, 'w0')],
  addrs: [
    addr(1, '127.0.0.1', 8, RtScope.Host), addr(3, '10.1.0.5', 24), addr(3, '10.2.0.5', 16),
    addr(5, '10.9.0.5', 24), addr(1, '::1', 128, RtScope.Host),
    addr(3, '2001:db8:4::5', 64, RtScope.Universe, IfaF.Tentative),
    addr(3, '2001:db8:1::5', 64, RtScope.Universe, IfaF.Deprecated | IfaF.NoDad),
    addr(3, '2001:db8:2::5', 48, RtScope.Universe, IfaF.NoDad),
    addr(3, 'fe80::ff:fe00:aa01', 64, RtScope.Link),
    addr(5, '2001:db8:9::5', 64), addr(5, 'fe80::ff:fe00:bb01', 64, RtScope.Link, IfaF.Tentative),
    addr(5, 'fe80::1:1', 64, RtScope.Link),
  ],
  routes4: [
    route(Af.Inet, 5, '10.9.0.1', { priority: 50 }), route(Af.Inet, 3, '10.1.0.1', { priority: 100 }),
    route(Af.Inet, 3, null, { dstLen: 24, dst: '10.1.0.0', scope: 253, protocol: 2 }),
    route(Af.Inet, 1, null, { dstLen: 8, dst: '127.0.0.0', table: RtTable.Local, type: Rtn.Local }),
  ],
  routes6: [
    route(Af.Inet6, 3, null, { dstLen: 48, dst: '2001:db8:2::' }),
    route(Af.Inet6, 5, '2001:db8:9::1', { priority: 50 }), route(Af.Inet6, 3, '2001:db8:2::1', { priority: 1024 }),
  ],
};

test('default: each family takes the interface of its first default route, and that route\'s gateway', (t) => {
  const h = selectHostNetwork(TWO_UPLINKS);
  t.deepEqual(h.ipv4, {
    iface: { name: 'w0', index: 5, mac: '02:00:00:00:00:05', mtu: 1500 },
    addr: '10.9.0.5', prefixLen: 24, gateway: '10.9.0.1', linkLocal: null,
  });
  t.deepEqual(h.ipv6, {
    iface: { name: 'w0', index: 5, mac: '02:00:00:00:00:05', mtu: 1500 },
    addr: '2001:db8:9::5', prefixLen: 64, gateway: '2001:db8:9::1', linkLocal: 'fe80::1:1',
  });
});

test('-i names the interface of both families; its own default route gives the gateway', (t) => {
  const h = selectHostNetwork(TWO_UPLINKS, { ifname: 'v0' });
  t.like(h.ipv4, { iface: { name: 'v0', index: 3, mtu: 9000 }, addr: '10.1.0.5', prefixLen: 24, gateway: '10.1.0.1' });
  t.like(h.ipv6, { iface: { name: 'v0' }, gateway: '2001:db8:2::1', linkLocal: 'fe80::ff:fe00:aa01' });
});

test('IPv6: tentative and deprecated addresses are passed over while a usable one exists', (t) => {
  t.like(selectHostNetwork(TWO_UPLINKS, { ifname: 'v0' }).ipv6, { addr: '2001:db8:2::5', prefixLen: 48 });
  const allBad = { ...TWO_UPLINKS, addrs: TWO_UPLINKS.addrs.filter((a) => a.address !== '2001:db8:2::5') };
  t.like(selectHostNetwork(allBad, { ifname: 'v0' }).ipv6, { addr: '2001:db8:4::5', prefixLen: 64 });
});

test('--outbound-if4 and --outbound-if6 choose per family; -i wins over them', (t) => {
  const a = selectHostNetwork(TWO_UPLINKS, { outboundIf4: 'v0' });
  t.deepEqual([a.ipv4?.iface.name, a.ipv6?.iface.name], ['v0', 'w0']);
  const b = selectHostNetwork(TWO_UPLINKS, { outboundIf6: 'v0' });
  t.deepEqual([b.ipv4?.iface.name, b.ipv6?.iface.name, b.ipv6?.gateway], ['w0', 'v0', '2001:db8:2::1']);
  const c = selectHostNetwork(TWO_UPLINKS, { ifname: 'w0', outboundIf4: 'v0', outboundIf6: 'v0' });
  t.deepEqual([c.ipv4?.iface.name, c.ipv6?.iface.name], ['w0', 'w0']);
});

test('a named interface that does not exist is an error; one without a default route has no gateway', (t) => {
  t.throws(() => selectHostNetwork(TWO_UPLINKS, { ifname: 'nope0' }), { message: /nope0/ });
  t.like(selectHostNetwork(TWO_UPLINKS, { ifname: 'lo' }).ipv4, { addr: null, gateway: null, prefixLen: 0 });
});

test('-4 / -6 leave a family out; no default route leaves it out too', (t) => {
  t.is(selectHostNetwork(TWO_UPLINKS, { ipv4: false }).ipv4, null);
  t.is(selectHostNetwork(TWO_UPLINKS, { ipv6: false }).ipv6, null);
  t.deepEqual(selectHostNetwork({ ...TWO_UPLINKS, routes4: [], routes6: [] }), { ipv4: null, ipv6: null });
});

test('defaultRoute: main table, unicast, with an output interface, in dump order', (t) => {
  const routes = [
    route(Af.Inet6, 3, null, { type: Rtn.Unreachable }), route(Af.Inet6, 3, 'fe80::9', { table: 100 }),
    route(Af.Inet6, null, 'fe80::8'), route(Af.Inet6, 3, 'fe80::1'), route(Af.Inet6, 5, 'fe80::2'),
  ];
  t.is(defaultRoute(routes, Af.Inet6)?.gateway, 'fe80::1');
  t.is(defaultRoute(routes, Af.Inet6, 5)?.gateway, 'fe80::2');
  t.is(defaultRoute(routes, Af.Inet), null);
});

test('discoverHostNetwork reads routes only for the families asked for', (t) => {
  const asked: number[] = [];
  const reader: RtnlReader = {
    links: () => TWO_UPLINKS.links,
    addrs: () => TWO_UPLINKS.addrs,
    routes: (f) => (asked.push(f), f === Af.Inet ? TWO_UPLINKS.routes4 : TWO_UPLINKS.routes6),
  };
  t.like(discoverHostNetwork(reader, { ipv6: false }), { ipv4: { gateway: '10.9.0.1' }, ipv6: null });
  t.deepEqual(asked, [Af.Inet]);
});

// --- for real -------------------------------------------------------------------------------------

interface IpRoute { dst: string; gateway?: string; dev: string }
interface IpAddrInfo { family: string; local: string; prefixlen: number; scope: string }
interface IpLink { ifname: string; address: string; mtu: number; addr_info: IpAddrInfo[] }

function ipJson<T>(...args: string[]): T {
  return JSON.parse(execFileSync('ip', ['-j', ...args], { timeout: 20_000 }).toString()) as T;
}

test('this host: the default-route interface, addresses and gateways that `ip -j` shows', (t) => {
  const nl = NetlinkClient.open();
  const h = (() => { try { return discoverHostNetwork(nl); } finally { nl.close(); } })();
  const def4 = ipJson<IpRoute[]>('-4', 'route', 'show', 'default')[0];
  const def6 = ipJson<IpRoute[]>('-6', 'route', 'show', 'default')[0];
  if (!def4 || !def6) return t.fail('this test expects IPv4 and IPv6 default routes on the host');
  const dev = ipJson<IpLink[]>('addr', 'show', 'dev', def4.dev)[0]!;
  const v4 = dev.addr_info.find((a) => a.family === 'inet')!;
  const v6 = dev.addr_info.find((a) => a.family === 'inet6' && a.scope === 'global')!;
  const ll = dev.addr_info.find((a) => a.family === 'inet6' && a.scope === 'link')!;
  t.like(h.ipv4, {
    iface: { name: def4.dev, mac: dev.address, mtu: dev.mtu }, addr: v4.local, prefixLen: v4.prefixlen,
    gateway: def4.gateway,
  });
  t.like(h.ipv6, {
    iface: { name: def6.dev }, addr: v6.local, prefixLen: v6.prefixlen, gateway: def6.gateway, linkLocal: ll.local,
  });
});

/** Runs `fn` with the calling thread in network namespace /run/netns/NAME, then comes back. */
function inNetns<T>(name: string, fn: () => T): T {
  const home = native.openNs('/proc/thread-self/ns/net');
  const target = native.openNs(`/run/netns/${name}`);
  try {
    native.setns(target, CLONE_NEWNET);
    try { return fn(); } finally { native.setns(home, CLONE_NEWNET); }
  } finally {
    native.close(target);
    native.close(home);
  }
}

const sh = (cmd: string[]): string =>
  execFileSync(cmd[0]!, cmd.slice(1), { timeout: 20_000, stdio: ['ignore', 'pipe', 'ignore'] }).toString();

/** A scratch namespace with two veth uplinks, as in the measurements in netconf.ts. */
function makeTwoUplinks(ns: string): void {
  const ip = (...a: string[]): string => sh(['ip', '-n', ns, ...a]);
  sh(['ip', 'netns', 'add', ns]);
  ip('link', 'set', 'lo', 'up');
  const uplinks = [['v0', 'v1', '02:00:00:00:aa:01', '9000'], ['w0', 'w1', '02:00:00:00:bb:01', '1500']] as const;
  for (const [a, b, mac, mtu] of uplinks) {
    ip('link', 'add', a, 'type', 'veth', 'peer', 'name', b);
    ip('link', 'set', a, 'address', mac, 'mtu', mtu, 'up');
    ip('link', 'set', b, 'up');
  }
  ip('addr', 'add', '10.1.0.5/24', 'dev', 'v0');
  ip('addr', 'add', '10.2.0.5/16', 'dev', 'v0');
  ip('-6', 'addr', 'add', '2001:db8:2::5/48', 'dev', 'v0', 'nodad');
  ip('addr', 'add', '10.9.0.5/24', 'dev', 'w0');
  ip('-6', 'addr', 'add', '2001:db8:9::5/64', 'dev', 'w0', 'nodad');
  ip('route', 'add', 'default', 'via', '10.1.0.1', 'dev', 'v0', 'metric', '100');
  ip('route', 'add', 'default', 'via', '10.9.0.1', 'dev', 'w0', 'metric', '50');
  ip('-6', 'route', 'add', 'default', 'via', '2001:db8:2::1', 'dev', 'v0', 'metric', '1024');
  ip('-6', 'route', 'add', 'default', 'via', '2001:db8:9::1', 'dev', 'w0', 'metric', '50');
}

interface PastaView { ifname: string; addrs: string[]; gateways: string[] }

/** What Debian's pasta, started in namespace `ns`, configures in its own namespace. */
function pastaView(ns: string, args: string[]): PastaView {
  const script = 'ip -j addr show scope global; ip -j route show default; ip -j -6 route show default';
  const pasta = ['pasta', '--runas', '0:0', ...args, '--config-net', '--', 'sh', '-c', script];
  const out = sh(['timeout', '20', 'ip', 'netns', 'exec', ns, ...pasta]);
  const lines = out.trim().split('\n').map((l) => JSON.parse(l) as unknown[]);
  const [addrs, r4, r6] = lines as [IpLink[], IpRoute[], IpRoute[]];
  const tap = addrs.find((l) => l.ifname !== 'lo')!;
  return {
    ifname: tap.ifname,
    addrs: tap.addr_info.filter((a) => a.local).map((a) => `${a.local}/${a.prefixlen}`),
    gateways: [...r4, ...r6].map((r) => r.gateway ?? ''),
  };
}

const CASES: [string[], HostNetOptions][] = [
  [[], {}],
  [['-i', 'v0'], { ifname: 'v0' }],
  [['--outbound-if4', 'v0'], { outboundIf4: 'v0' }],
  [['--outbound-if6', 'v0'], { outboundIf6: 'v0' }],
  [['-6', '--outbound-if6', 'v0'], { outboundIf6: 'v0', ipv4: false }],
];

test('two uplinks: our choice agrees with what Debian\'s pasta puts in its namespace', (t) => {
  const ns = `pa-hn-${randomBytes(4).toString('hex')}`;
  try {
    makeTwoUplinks(ns);
    for (const [args, opts] of CASES) {
      const host = inNetns(ns, () => {
        const nl = NetlinkClient.open();
        try { return discoverHostNetwork(nl, opts); } finally { nl.close(); }
      });
      const plan = planNamespaceConfig(host, opts.ipv4 === false ? { ipv4: false } : {});
      const ours: PastaView = {
        ifname: plan.ifname,
        addrs: plan.families.map((f) => `${f.address}/${f.prefixLen}`),
        gateways: plan.families.map((f) => f.gateway ?? ''),
      };
      t.deepEqual(ours, pastaView(ns, args), `pasta ${args.join(' ')}`);
    }
  } finally {
    sh(['ip', 'netns', 'del', ns]);
  }
});
