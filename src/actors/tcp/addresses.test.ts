import test from 'ava';
import { defaultConfig } from '../../config/config.js';
import { parseIp } from '../../protocol/addr.js';
import type { ActorConfig } from '../../runtime/actor-config.js';
import { guestSourceFor, outboundTarget, planAddresses, type TcpAddrPlan } from './addresses.js';

function config(edit: (c: ActorConfig) => void = () => {}): ActorConfig {
  const iface = { name: 'eth0', index: 2, mac: '02:00:00:00:00:01', mtu: 1500 };
  const c: ActorConfig = {
    mode: 'pasta', log: { level: 'info', stderr: true, prog: 'pasta' }, trace: false,
    net: { mtu: 65520, ourMac: '02:00:00:00:00:01', addr4: '192.0.2.10', prefix4: 24, gw4: '192.0.2.1', addr6: '2001:db8::10', gw6: 'fe80::1' },
    cli: defaultConfig('pasta'),
    host: {
      ipv4: { iface, addr: '192.0.2.10', prefixLen: 24, gateway: '192.0.2.1', linkLocal: null },
      ipv6: { iface, addr: '2001:db8::10', prefixLen: 64, gateway: 'fe80::1', linkLocal: 'fe80::10' },
    },
  };
  edit(c);
  return c;
}

const target = (p: TcpAddrPlan, dst: string, port: number) => {
  const b = parseIp(dst)!;
  return outboundTarget(p, b.length === 4 ? 4 : 6, b, 0, port);
};

test('the gateway maps to the host loopback, unless --no-map-gw', (t) => {
  const p = planAddresses(config(), []);
  t.deepEqual(target(p, '192.0.2.1', 80), { addr: '127.0.0.1', port: 80, hostLocal: true });
  t.deepEqual(target(p, 'fe80::1', 22), { addr: '::1', port: 22, hostLocal: true });
  t.deepEqual(target(p, 'fe80::10', 22), { addr: '::1', port: 22, hostLocal: true }, 'our link-local address');
  const q = planAddresses(config((c) => void (c.cli.disabled.mapGw = true)), []);
  t.deepEqual(target(q, '192.0.2.1', 80), { addr: '192.0.2.1', port: 80, hostLocal: false });
  t.deepEqual(target(q, 'fe80::1', 22), { addr: 'fe80::1%eth0', port: 22, hostLocal: false });
});

test('other unicast destinations go as they are; unspecified, loopback, multicast, broadcast are refused', (t) => {
  const p = planAddresses(config(), []);
  t.deepEqual(target(p, '198.51.100.7', 443), { addr: '198.51.100.7', port: 443, hostLocal: false });
  t.deepEqual(target(p, '2001:db8:1::7', 443), { addr: '2001:db8:1::7', port: 443, hostLocal: false });
  for (const bad of ['0.0.0.0', '127.0.0.1', '224.0.0.1', '255.255.255.255', '::', '::1', 'ff02::1']) t.is(target(p, bad, 80), null, bad);
});

test('DNS: --dns-forward and a loopback resolver behind the gateway', (t) => {
  const p = planAddresses(config((c) => void (c.cli.ip4.dnsForward = '192.0.2.53')), ['203.0.113.53', '::1']);
  t.deepEqual(target(p, '192.0.2.53', 53), { addr: '203.0.113.53', port: 53, hostLocal: false });
  t.deepEqual(target(p, '192.0.2.53', 80), { addr: '192.0.2.53', port: 80, hostLocal: false });
  t.deepEqual(target(p, 'fe80::1', 53), { addr: '::1', port: 53, hostLocal: true });
});

test('outbound binding is planned from -o and --outbound-if4/6', (t) => {
  const p = planAddresses(config((c) => {
    c.cli.ip4.outbound = '192.0.2.10';
    c.cli.ip6.outboundIf = 'eth1';
  }), []);
  t.deepEqual(p.bind4, { addr: '192.0.2.10', ifname: null });
  t.deepEqual(p.bind6, { addr: null, ifname: 'eth1' });
});

test('peers on loopback or on the host\'s own address appear as the gateway', (t) => {
  const p = planAddresses(config((c) => void (c.net.gw6 = '2001:db8::1')), []);
  t.deepEqual(guestSourceFor(p, 4, '127.0.0.1'), parseIp('192.0.2.1'));
  t.deepEqual(guestSourceFor(p, 4, '192.0.2.10'), parseIp('192.0.2.1'));
  t.deepEqual(guestSourceFor(p, 6, '::1'), parseIp('2001:db8::1'));
  t.deepEqual(guestSourceFor(p, 4, '198.51.100.9'), parseIp('198.51.100.9'));
  t.deepEqual(guestSourceFor(p, 6, '2001:db8:5::9'), parseIp('2001:db8:5::9'));
  const q = planAddresses(config((c) => void (c.cli.disabled.mapGw = true)), []);
  t.is(guestSourceFor(q, 4, '127.0.0.1'), null);
});
