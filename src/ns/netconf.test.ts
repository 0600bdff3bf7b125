/**
 * Namespace configuration: the plan (pure), the order of requests (fake netlink), and end to end: our
 * configuration of a scratch namespace read back with `ip -j`, compared field by field with what
 * Debian's pasta sets up in its own namespace for the same options.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { native } from '../native/index.js';
import { Af, IfaF } from '../protocol/netlink.js';
import type { AddrMsg, LinkMsg, RouteMsg } from '../protocol/netlink.js';
import { discoverHostNetwork } from './hostnet.js';
import type { HostNetwork } from './hostnet.js';
import { NetlinkClient } from './netlink-client.js';
import type { RtnlReader, RtnlWriter } from './netlink-client.js';
import { configureNamespace, NS_DEFAULT_MTU, planNamespaceConfig } from './netconf.js';
import type { NsConfigInput, NsConfigPlan } from './netconf.js';

const CLONE_NEWNET = 0x40000000;

const HOST: HostNetwork = {
  ipv4: {
    iface: { name: 'eth0', index: 4, mac: '02:fc:00:00:00:01', mtu: 1400 },
    addr: '192.0.2.2', prefixLen: 24, gateway: '192.0.2.1', linkLocal: null,
  },
  ipv6: {
    iface: { name: 'eth0', index: 4, mac: '02:fc:00:00:00:01', mtu: 1400 },
    addr: 'fd00::2', prefixLen: 48, gateway: 'fd00::1', linkLocal: 'fe80::fc:ff:fe00:1',
  },
};

const V4 = { family: Af.Inet, address: '192.0.2.2', prefixLen: 24, flags: 0, gateway: '192.0.2.1', onlink: false };
const V6 = {
  family: Af.Inet6, address: 'fd00::2', prefixLen: 64, flags: IfaF.NoDad, gateway: 'fd00::1', onlink: false,
};

test('plan: by default the host\'s interface name, MTU 65520, its addresses (IPv6 as /64) and gateways', (t) => {
  t.deepEqual(planNamespaceConfig(HOST), { ifname: 'eth0', mac: null, mtu: NS_DEFAULT_MTU, families: [V4, V6] });
});

test('plan: -I, -m, --ns-mac-addr; -m 0 leaves the MTU alone', (t) => {
  t.like(planNamespaceConfig(HOST, { ifname: 'myname', mtu: 1500, nsMac: '02:11:22:33:44:55' }),
    { ifname: 'myname', mtu: 1500, mac: '02:11:22:33:44:55' });
  t.is(planNamespaceConfig(HOST, { mtu: 0 }).mtu, null);
});

test('plan: -a/-n/-g for IPv4; a classful prefix without -n; RTNH_F_ONLINK for a gateway outside the prefix', (t) => {
  t.deepEqual(planNamespaceConfig(HOST, { addr4: '10.0.0.5', prefix4: 16, gw4: '10.0.0.1' }).families[0],
    { ...V4, address: '10.0.0.5', prefixLen: 16, gateway: '10.0.0.1' });
  const prefixes = ['10.0.0.5', '172.16.3.5', '192.168.3.5']
    .map((a) => planNamespaceConfig(HOST, { addr4: a }).families[0]);
  t.deepEqual(prefixes.map((f) => [f?.prefixLen, f?.gateway, f?.onlink]),
    [[8, '192.0.2.1', true], [16, '192.0.2.1', true], [24, '192.0.2.1', true]]);
  t.like(planNamespaceConfig(HOST, { gw4: '192.0.2.254' }).families[0], { gateway: '192.0.2.254', onlink: false });
});

test('plan: IPv6 -a/-g; the host gateway outside the new /64 goes on-link; a link-local gateway never does', (t) => {
  t.like(planNamespaceConfig(HOST, { addr6: '2001:db8::5', gw6: '2001:db8::1' }).families[1],
    { address: '2001:db8::5', prefixLen: 64, gateway: '2001:db8::1', onlink: false });
  t.like(planNamespaceConfig(HOST, { addr6: '2001:db8::5' }).families[1], { gateway: 'fd00::1', onlink: true });
  t.like(planNamespaceConfig(HOST, { addr6: '2001:db8::5', gw6: 'fe80::1' }).families[1], { onlink: false });
  t.like(planNamespaceConfig(HOST, { addr6: 'fd00:0:0:1::5' }).families[1], { onlink: true });
});

test('plan: -4 / -6 drop a family; with -6 the name comes from the IPv6 interface', (t) => {
  t.deepEqual(planNamespaceConfig(HOST, { ipv6: false }).families, [V4]);
  const other: HostNetwork = { ...HOST, ipv6: { ...HOST.ipv6!, iface: { ...HOST.ipv6!.iface, name: 'wan6' } } };
  t.deepEqual(planNamespaceConfig(other, { ipv4: false }), { ifname: 'wan6', mac: null, mtu: 65520, families: [V6] });
  t.deepEqual(planNamespaceConfig({ ipv4: null, ipv6: null }), { ifname: 'tap0', mac: null, mtu: 65520, families: [] });
});

test('plan: address text of the wrong family throws', (t) => {
  t.throws(() => planNamespaceConfig(HOST, { addr4: 'fd00::5' }));
  t.throws(() => planNamespaceConfig(HOST, { gw6: '10.0.0.1' }));
});

/** Records requests; refuses those whose description matches `refuse`. */
class FakeNl implements RtnlReader, RtnlWriter {
  calls: string[] = [];
  constructor(private readonly names: string[], private readonly refuse?: RegExp) {}
  links(): LinkMsg[] {
    return this.names.map((name, i) => ({
      family: 0, type: 1, index: i + 1, flags: 0, change: 0, name, mtu: 1500, address: null, kind: null,
    }));
  }
  addrs(): AddrMsg[] { return []; }
  routes(): RouteMsg[] { return []; }
  setLink(c: Parameters<RtnlWriter['setLink']>[0]): void { this.#do(`link ${JSON.stringify(c)}`); }
  addAddr(r: Parameters<RtnlWriter['addAddr']>[0]): void { this.#do(`addr ${JSON.stringify(r)}`); }
  addRoute(r: Parameters<RtnlWriter['addRoute']>[0]): void { this.#do(`route ${JSON.stringify(r)}`); }
  #do(what: string): void {
    this.calls.push(what);
    if (this.refuse?.test(what)) throw new Error(`refused: ${what}`);
  }
}

test('configure: pasta\'s order of requests, by index', (t) => {
  const nl = new FakeNl(['lo', 'eth0']);
  const res = configureNamespace(nl, { ...planNamespaceConfig(HOST), mac: '02:11:22:33:44:55' });
  t.deepEqual(res, { ifindex: 2, failures: [] });
  t.deepEqual(nl.calls, [
    'link {"index":1,"up":true}',
    'link {"index":2,"up":true,"mac":"02:11:22:33:44:55"}',
    'link {"index":2,"up":true,"mtu":65520}',
    'addr {"index":2,"address":"192.0.2.2","prefixLen":24,"flags":0}',
    'route {"oif":2,"gateway":"192.0.2.1","onlink":false}',
    'addr {"index":2,"address":"fd00::2","prefixLen":64,"flags":2}',
    'route {"oif":2,"gateway":"fd00::1","onlink":false}',
  ]);
});

test('configure: address and route refusals are reported and the rest goes on; link refusals throw', (t) => {
  const nl = new FakeNl(['lo', 'eth0'], /^(addr .*192|route .*fd00)/);
  const res = configureNamespace(nl, planNamespaceConfig(HOST, { mtu: 0 }));
  t.deepEqual(res.failures.map((f) => f.step), ['address 192.0.2.2/24', 'default route via fd00::1']);
  t.is(nl.calls.length, 6);
  t.is(nl.calls[1], 'link {"index":2,"up":true}');
  t.throws(() => configureNamespace(new FakeNl(['lo', 'eth0'], /^link/), planNamespaceConfig(HOST)));
  t.throws(() => configureNamespace(new FakeNl(['lo']), planNamespaceConfig(HOST)), { message: /no interface eth0/ });
});

// --- end to end against Debian's pasta -------------------------------------------------------------

const SCRIPT = [
  'ip -j -d link show', 'ip -j addr show', 'ip -j -d route show table all', 'ip -j -d -6 route show table all',
].join('; ');

const run = (cmd: string[]): string =>
  execFileSync(cmd[0]!, cmd.slice(1), { timeout: 30_000, stdio: ['ignore', 'pipe', 'ignore'] }).toString();

type Json = Record<string, unknown>;

/** The four JSON arrays SCRIPT prints. */
function snapshot(out: string): Json[][] {
  return out.trim().split('\n').map((l) => JSON.parse(l) as Json[]);
}

/**
 * Drops what must differ between two namespaces, or may differ by timing:
 * - ifindex (the tap is 2 in pasta's namespace, any number in ours);
 * - with a random tap MAC (no --ns-mac-addr): the MAC itself and the EUI-64 link-local address made from
 *   it (its entry stays, with `local` masked, and so does its local-table route if DAD finished);
 * - `tentative`, and the local-table routes of link-local addresses, which follow DAD (about a second).
 */
function normalize(snap: Json[][], randomMac: boolean): Json[][] {
  const [links = [], addrs = [], r4 = [], r6 = []] = snap;
  const link = (l: Json): Json => {
    const { ifindex: _i, ...rest } = l;
    if (randomMac && l.link_type === 'ether') delete rest.address;
    if (Array.isArray(rest.addr_info)) rest.addr_info = (rest.addr_info as Json[]).map(addrInfo);
    return rest;
  };
  const addrInfo = (a: Json): Json => {
    const { tentative: _t, ...rest } = a;
    if (randomMac && a.scope === 'link') rest.local = 'fe80::(from the random MAC)';
    return rest;
  };
  const r6stable = r6.filter((r) => !(r.table === 'local' && String(r.dst).startsWith('fe80:')));
  return [links.map(link), addrs.map(link), r4, r6stable];
}

/** Opens the tap and a netlink socket inside namespace `ns`, from this thread, and comes back. */
function openInside(ns: string, ifname: string): { tapFd: number; nl: NetlinkClient } {
  const home = native.openNs('/proc/thread-self/ns/net');
  const target = native.openNs(`/run/netns/${ns}`);
  try {
    native.setns(target, CLONE_NEWNET);
    try {
      const tap = native.tapOpen(ifname);
      return { tapFd: tap.fd, nl: NetlinkClient.open() };
    } finally {
      native.setns(home, CLONE_NEWNET);
    }
  } finally {
    native.close(target);
    native.close(home);
  }
}

/** Configures a fresh namespace with our code and returns what `ip` shows there (and the failures). */
function ours(cfg: NsConfigInput): { snap: Json[][]; plan: NsConfigPlan; failures: string[] } {
  const hostNl = NetlinkClient.open();
  const host = (() => { try { return discoverHostNetwork(hostNl); } finally { hostNl.close(); } })();
  const plan = planNamespaceConfig(host, cfg);
  const ns = `pa-nc-${randomBytes(4).toString('hex')}`;
  run(['ip', 'netns', 'add', ns]);
  let opened: { tapFd: number; nl: NetlinkClient } | null = null;
  try {
    opened = openInside(ns, plan.ifname);
    const res = configureNamespace(opened.nl, plan);
    const snap = snapshot(run(['timeout', '20', 'ip', 'netns', 'exec', ns, 'sh', '-c', SCRIPT]));
    return { snap, plan, failures: res.failures.map((f) => `${f.step}: ${f.error.message}`) };
  } finally {
    if (opened) { opened.nl.close(); native.close(opened.tapFd); }
    run(['ip', 'netns', 'del', ns]);
  }
}

function debianPasta(args: string[]): Json[][] {
  return snapshot(run(['timeout', '20', 'pasta', '--runas', '0:0', ...args, '--config-net', '--', 'sh', '-c', SCRIPT]));
}

const E2E: [string[], NsConfigInput][] = [
  [[], {}],
  [['-I', 'myname', '-m', '1500'], { ifname: 'myname', mtu: 1500 }],
  [['-a', '10.0.0.5', '-n', '16', '-g', '10.0.0.1'], { addr4: '10.0.0.5', prefix4: 16, gw4: '10.0.0.1' }],
  [['-a', '2001:db8::5', '-g', '2001:db8::1'], { addr6: '2001:db8::5', gw6: '2001:db8::1' }],
  [['--ns-mac-addr', '02:11:22:33:44:55'], { nsMac: '02:11:22:33:44:55' }],
  [['-4'], { ipv6: false }],
  [['-6'], { ipv4: false }],
];

for (const [args, cfg] of E2E) {
  const title = `end to end: same links, addresses and routes as Debian's pasta ${args.join(' ') || '(defaults)'}`;
  test.serial(title, (t) => {
    const mine = ours(cfg);
    t.deepEqual(mine.failures, []);
    const randomMac = cfg.nsMac === undefined;
    const expected = normalize(debianPasta(args), randomMac);
    const got = normalize(mine.snap, randomMac);
    t.deepEqual(got[0], expected[0], 'ip -d link');
    t.deepEqual(got[1], expected[1], 'ip addr');
    t.deepEqual(got[2], expected[2], 'ip -d route show table all');
    t.deepEqual(got[3], expected[3], 'ip -d -6 route show table all');
  });
}

test.serial('end to end: where pasta leaves no default route (gateway outside the /64), ours is on-link', (t) => {
  const mine = ours({ addr6: '2001:db8::5' });
  t.deepEqual(mine.failures, []);
  const def = mine.snap[3]!.find((r) => r.dst === 'default' && r.table === 'main');
  t.like(def, { gateway: mine.plan.families[1]?.gateway, flags: ['onlink'], protocol: 'boot' });
  t.false(debianPasta(['-a', '2001:db8::5'])[3]!.some((r) => r.dst === 'default'));
});
