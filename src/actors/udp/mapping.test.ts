import test from 'ava';
import { parseIpv4, parseIpv6 } from '../../protocol/addr.js';
import { guestViewOfPeer, makeAddressMap, outboundTarget, type MapInput } from './mapping.js';

const base: MapInput = {
  gw4: '10.77.0.1', gw6: 'fd77::1', addr4: '10.77.0.2', prefix4: 24, mapGw: true,
  dns: { v4: { match: '10.77.9.9', host: '10.77.1.1' }, v6: { match: 'fd77:9::9', host: 'fd77:1::1' } },
  hostOwn: ['10.77.0.2', 'fd77:0::2', 'fe80::1'],
};

const to4 = (m: ReturnType<typeof makeAddressMap>, addr: string, port: number) => outboundTarget(m, 4, parseIpv4(addr)!, 0, port);
const to6 = (m: ReturnType<typeof makeAddressMap>, addr: string, port: number) => outboundTarget(m, 6, parseIpv6(addr)!, 0, port);

test('the gateway maps to the host loopback, IPv4 and IPv6', (t) => {
  const m = makeAddressMap(base);
  t.deepEqual(to4(m, '10.77.0.1', 5000), { addr: '127.0.0.1', port: 5000, via: 'gateway' });
  t.deepEqual(to6(m, 'fd77::1', 5000), { addr: '::1', port: 5000, via: 'gateway' });
});

test('--no-map-gw: the gateway is an ordinary destination', (t) => {
  const m = makeAddressMap({ ...base, mapGw: false });
  t.deepEqual(to4(m, '10.77.0.1', 5000), { addr: '10.77.0.1', port: 5000, via: 'direct' });
  t.deepEqual(to6(m, 'fd77::1', 5000), { addr: 'fd77::1', port: 5000, via: 'direct' });
});

test('the --dns-forward address, port 53 only, goes to the host resolver', (t) => {
  const m = makeAddressMap(base);
  t.deepEqual(to4(m, '10.77.9.9', 53), { addr: '10.77.1.1', port: 53, via: 'dns' });
  t.deepEqual(to6(m, 'fd77:9::9', 53), { addr: 'fd77:1::1', port: 53, via: 'dns' });
  t.deepEqual(to4(m, '10.77.9.9', 54), { addr: '10.77.9.9', port: 54, via: 'direct' });
});

test('a loopback resolver redirect on the gateway wins over map-gw for port 53 only', (t) => {
  const m = makeAddressMap({ ...base, dns: { v4: { match: '10.77.0.1', host: '127.0.0.53' }, v6: null } });
  t.deepEqual(to4(m, '10.77.0.1', 53), { addr: '127.0.0.53', port: 53, via: 'dns' });
  t.deepEqual(to4(m, '10.77.0.1', 5353), { addr: '127.0.0.1', port: 5353, via: 'gateway' });
});

test('other unicast destinations are used as they are', (t) => {
  const m = makeAddressMap(base);
  t.deepEqual(to4(m, '192.0.2.7', 9), { addr: '192.0.2.7', port: 9, via: 'direct' });
  t.deepEqual(to6(m, '2001:db8::7', 9), { addr: '2001:db8::7', port: 9, via: 'direct' });
});

test('unspecified, loopback, multicast, broadcast and link-local destinations are dropped', (t) => {
  const m = makeAddressMap(base);
  t.is(to4(m, '0.0.0.0', 9), 'unspecified');
  t.is(to4(m, '127.0.0.1', 9), 'loopback');
  t.is(to4(m, '224.0.0.251', 5353), 'multicast');
  t.is(to4(m, '255.255.255.255', 9), 'broadcast');
  t.is(to4(m, '10.77.0.255', 9), 'broadcast');
  t.is(to6(m, '::', 9), 'unspecified');
  t.is(to6(m, '::1', 9), 'loopback');
  t.is(to6(m, 'ff02::fb', 5353), 'multicast');
  t.is(to6(m, 'fe80::9', 9), 'link-local');
});

test('a link-local gateway is still mapped', (t) => {
  const m = makeAddressMap({ ...base, gw6: 'fe80::1' });
  t.deepEqual(to6(m, 'fe80::1', 7), { addr: '::1', port: 7, via: 'gateway' });
});

test('host peers on loopback or on the host own address appear as the gateway', (t) => {
  const m = makeAddressMap(base);
  t.deepEqual(guestViewOfPeer(m, 4, '127.0.0.1'), parseIpv4('10.77.0.1'));
  t.deepEqual(guestViewOfPeer(m, 4, '127.1.2.3'), parseIpv4('10.77.0.1'));
  t.deepEqual(guestViewOfPeer(m, 4, '10.77.0.2'), parseIpv4('10.77.0.1'));
  t.deepEqual(guestViewOfPeer(m, 6, '::1'), parseIpv6('fd77::1'));
  t.deepEqual(guestViewOfPeer(m, 6, 'fd77::2'), parseIpv6('fd77::1'), 'compared in canonical form');
  t.deepEqual(guestViewOfPeer(m, 4, '10.77.1.1'), parseIpv4('10.77.1.1'));
  t.deepEqual(guestViewOfPeer(m, 6, 'fd77:1::1'), parseIpv6('fd77:1::1'));
  t.is(guestViewOfPeer(m, 4, 'garbage'), null);
});

test('without map-gw (or without a gateway) a loopback peer cannot be shown', (t) => {
  t.is(guestViewOfPeer(makeAddressMap({ ...base, mapGw: false }), 4, '127.0.0.1'), null);
  t.is(guestViewOfPeer(makeAddressMap({ ...base, gw6: undefined }), 6, '::1'), null);
});
