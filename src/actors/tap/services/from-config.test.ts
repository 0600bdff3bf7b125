import test from 'ava';
import { defaultConfig, type Config } from '../../../config/config.js';
import { formatIpv4U32, formatIpv6 } from '../../../protocol/addr.js';
import type { ActorConfig } from '../../../runtime/actor-config.js';
import { eui64LinkLocal } from '../../common/link-local.js';
import { servicesConfigFrom } from './from-config.js';
import { parseResolvConf, type ResolvConf } from '../../../ns/resolv.js';

const RESOLV = `# generated
nameserver 127.0.0.53
nameserver 10.77.0.53 ; a comment
nameserver fe80::1%eth0
nameserver ::1
nameserver fd77::53
options edns0
domain old.example
search example.org corp.example
`;

function actorConfig(edit: (c: Config) => void = () => {}, mode: 'pasta' | 'passt' = 'pasta'): ActorConfig {
  const cli = defaultConfig(mode);
  edit(cli);
  return {
    mode, log: { level: 'info', stderr: true, prog: mode }, trace: false, cli,
    net: { mtu: 65520, ourMac: '62:9b:3b:98:43:bb', addr4: '10.77.0.2', prefix4: 24, gw4: '10.77.0.1', addr6: 'fd77::2', gw6: 'fd77::1' },
    host: {
      ipv4: { iface: { name: 'eth0', index: 2, mac: '62:9b:3b:98:43:bb', mtu: 1500 }, addr: '10.77.0.2', prefixLen: 24, gateway: '10.77.0.1', linkLocal: null },
      ipv6: { iface: { name: 'eth0', index: 2, mac: '62:9b:3b:98:43:bb', mtu: 1500 }, addr: 'fd77::2', prefixLen: 64, gateway: 'fd77::1', linkLocal: 'fe80::609b:3bff:fe98:43bb' },
    },
  };
}

const resolv = (): ResolvConf => parseResolvConf(RESOLV);
const dns4 = (c: ActorConfig): string[] => servicesConfigFrom(c, resolv()).ip4Dns.map(formatIpv4U32);
const dns6 = (c: ActorConfig): string[] => servicesConfigFrom(c, resolv()).ip6Dns.map((a) => formatIpv6(a));

test('resolv.conf: nameservers by version in order, comments ignored, the last search/domain line', (t) => {
  t.deepEqual(resolv(), {
    nameservers: ['127.0.0.53', '10.77.0.53', 'fe80::1%eth0', '::1', 'fd77::53'],
    search: ['example.org', 'corp.example'],
  });
  t.deepEqual(parseResolvConf(''), { nameservers: [], search: [] });
  t.deepEqual(parseResolvConf('nameserver\nnameserver bogus\nsearch\n'), { nameservers: [], search: [] });
});

test("addresses, gateway, prefix and MAC come from the guest's link", (t) => {
  const s = servicesConfigFrom(actorConfig(), resolv());
  t.is(formatIpv4U32(s.ip4Addr!), '10.77.0.2');
  t.is(s.ip4PrefixLen, 24);
  t.is(formatIpv4U32(s.ip4Gateway), '10.77.0.1');
  t.is(formatIpv6(s.ip6Addr!), 'fd77::2');
  t.is(Buffer.from(s.ourMac).toString('hex'), '629b3b9843bb');
  t.is(s.mtu, 65520);
});

test("our link-local address is the host interface's, else the EUI-64 one of our MAC", (t) => {
  t.is(formatIpv6(servicesConfigFrom(actorConfig(), resolv()).ip6LinkLocal), 'fe80::609b:3bff:fe98:43bb');
  const c = actorConfig();
  c.host.ipv6 = null;
  c.net.ourMac = '9a:55:9a:55:9a:55';
  t.is(formatIpv6(servicesConfigFrom(c, resolv()).ip6LinkLocal), 'fe80::9855:9aff:fe55:9a55');
  t.is(formatIpv6(eui64LinkLocal(Uint8Array.of(0, 0x11, 0x22, 0x33, 0x44, 0x55))), 'fe80::211:22ff:fe33:4455');
});

test("DNS: the host's resolvers, loopback ones as the gateway, link-local ones left out", (t) => {
  t.deepEqual(dns4(actorConfig()), ['10.77.0.1', '10.77.0.53']);
  t.deepEqual(dns6(actorConfig()), ['fd77::1', 'fd77::53']);
});

test('DNS: --no-map-gw leaves loopback resolvers out; -D replaces a version; -D none clears all', (t) => {
  t.deepEqual(dns4(actorConfig((c) => (c.disabled.mapGw = true))), ['10.77.0.53']);
  const only4 = actorConfig((c) => c.ip4.dns.push('192.0.2.53'));
  t.deepEqual(dns4(only4), ['192.0.2.53']);
  t.deepEqual(dns6(only4), ['fd77::1', 'fd77::53'], 'IPv6 still from resolv.conf');
  const none = actorConfig((c) => (c.dns.disabled = true));
  t.deepEqual([dns4(none), dns6(none)], [[], []]);
  t.deepEqual(dns4(actorConfig((c) => (c.ip4.dnsForward = '10.77.0.3'))), ['10.77.0.3']);
});

test('search list: -S, else the host one; -S none clears it; invalid names are left out', (t) => {
  t.deepEqual(servicesConfigFrom(actorConfig(), resolv()).searchList, ['example.org', 'corp.example']);
  t.deepEqual(servicesConfigFrom(actorConfig((c) => c.dns.search.push('a.test')), resolv()).searchList, ['a.test']);
  t.deepEqual(servicesConfigFrom(actorConfig((c) => (c.dns.searchDisabled = true)), resolv()).searchList, []);
  t.deepEqual(servicesConfigFrom(actorConfig(), parseResolvConf(`search ok.test ${'x'.repeat(64)}.bad\n`)).searchList, ['ok.test']);
});

test('advertising DNS and search: pasta only with --dhcp-dns/--dhcp-search, passt by default', (t) => {
  const pasta = servicesConfigFrom(actorConfig(), resolv());
  t.deepEqual([pasta.dhcpDns, pasta.dhcpSearch], [false, false]);
  const passt = servicesConfigFrom(actorConfig(() => {}, 'passt'), resolv());
  t.deepEqual([passt.dhcpDns, passt.dhcpSearch], [true, true]);
  const asked = servicesConfigFrom(actorConfig((c) => { c.dns.dhcpDns = true; c.dns.dhcpSearch = true; }), resolv());
  t.deepEqual([asked.dhcpDns, asked.dhcpSearch], [true, true]);
});

test('-m 0 sends no MTU; the --no-* switches and -4/-6 turn services off', (t) => {
  t.is(servicesConfigFrom(actorConfig((c) => (c.mtu = 0)), resolv()).mtu, null);
  t.is(servicesConfigFrom(actorConfig((c) => (c.mtu = 1500)), resolv()).mtu, 1500);
  const off = servicesConfigFrom(actorConfig((c) => Object.assign(c.disabled, { dhcp: true, ndp: true, ra: true, dhcpv6: true })), resolv());
  t.deepEqual([off.noDhcp, off.noNdp, off.noRa, off.noDhcpv6], [true, true, true, true]);
  const on = servicesConfigFrom(actorConfig(), resolv());
  t.deepEqual([on.noDhcp, on.noNdp, on.noRa, on.noDhcpv6], [false, false, false, false]);
  const v4only = servicesConfigFrom(actorConfig((c) => (c.ipOnly = 'ipv4')), resolv());
  t.is(v4only.ip6Addr, null);
  t.deepEqual([v4only.noNdp, v4only.noRa, v4only.noDhcpv6, v4only.noDhcp], [true, true, true, false]);
  const v6only = servicesConfigFrom(actorConfig((c) => (c.ipOnly = 'ipv6')), resolv());
  t.deepEqual([v6only.ip4Addr, v6only.noDhcp, v6only.noRa], [null, true, false]);
});
