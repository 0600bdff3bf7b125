import test from 'ava';
import { EtherType } from '../../protocol/eth.js';
import { IpProto } from '../../protocol/ipv4.js';
import { FrameBatch, destinationOf, disabledFamilyDrop, raDelayMs } from './state.js';

const ip4 = (l4: number, dstPort = 0, icmpType = 0) => ({ etherType: EtherType.Ipv4, l4, dstPort, icmpType });
const ip6 = (l4: number, dstPort = 0, icmpType = 0) => ({ etherType: EtherType.Ipv6, l4, dstPort, icmpType });

test('ARP, DHCP, DHCPv6 and NDP go to the guest services', (t) => {
  t.is(destinationOf({ etherType: EtherType.Arp, l4: 0, dstPort: 0, icmpType: 0 }), 'services');
  t.is(destinationOf(ip4(IpProto.Udp, 67)), 'services');
  t.is(destinationOf(ip6(IpProto.Udp, 547)), 'services');
  for (const type of [133, 135, 136]) t.is(destinationOf(ip6(IpProto.Icmpv6, 0, type)), 'services');
});

test('DHCP ports only count for their own IP version', (t) => {
  t.is(destinationOf(ip6(IpProto.Udp, 67)), 'udp');
  t.is(destinationOf(ip4(IpProto.Udp, 547)), 'udp');
});

test('TCP, UDP and echo requests go to their actors', (t) => {
  t.is(destinationOf(ip4(IpProto.Tcp, 80)), 'tcp');
  t.is(destinationOf(ip6(IpProto.Tcp, 80)), 'tcp');
  t.is(destinationOf(ip4(IpProto.Udp, 53)), 'udp');
  t.is(destinationOf(ip4(IpProto.Icmp, 0, 8)), 'icmp');
  t.is(destinationOf(ip6(IpProto.Icmpv6, 0, 128)), 'icmp');
});

test('everything else is dropped with a reason', (t) => {
  t.is(destinationOf(ip4(IpProto.Icmp, 0, 0)), 'drop:icmp-not-echo');
  t.is(destinationOf(ip6(IpProto.Icmpv6, 0, 129)), 'drop:icmpv6-not-echo');
  t.is(destinationOf(ip4(IpProto.Icmpv6, 0, 128)), 'drop:icmpv6-over-ipv4');
  t.is(destinationOf(ip4(47)), 'drop:l4-protocol');
  t.is(destinationOf({ etherType: 0x88cc, l4: 0, dstPort: 0, icmpType: 0 }), 'drop:ethertype');
});

test('a batch copies its frames out back to back and resets', (t) => {
  const src = new Uint8Array(32).map((_, i) => i);
  const b = new FrameBatch();
  b.add(4, 3);
  b.add(20, 2);
  t.is(b.count, 2);
  const { buf, lens } = b.take(src);
  t.deepEqual([...buf], [4, 5, 6, 20, 21]);
  t.deepEqual(lens, [3, 2]);
  t.is(b.count, 0);
  src.fill(0);
  t.deepEqual([...buf], [4, 5, 6, 20, 21], 'the batch does not alias the read buffer');
});

test('-4 drops IPv6 frames, -6 drops IPv4 and ARP frames, by default nothing is dropped for its version', (t) => {
  t.is(disabledFamilyDrop(EtherType.Ipv6, 'ipv4'), 'drop:ipv6-disabled');
  t.is(disabledFamilyDrop(EtherType.Ipv4, 'ipv4'), null);
  t.is(disabledFamilyDrop(EtherType.Arp, 'ipv4'), null);
  t.is(disabledFamilyDrop(EtherType.Ipv4, 'ipv6'), 'drop:ipv4-disabled');
  t.is(disabledFamilyDrop(EtherType.Arp, 'ipv6'), 'drop:ipv4-disabled');
  t.is(disabledFamilyDrop(EtherType.Ipv6, 'ipv6'), null);
  for (const et of [EtherType.Ipv4, EtherType.Ipv6, EtherType.Arp]) t.is(disabledFamilyDrop(et, null), null);
});

test('unsolicited RAs: one at once, two more 4 s apart, then every 200 to 600 s', (t) => {
  t.is(raDelayMs(0, 0.5), 0);
  t.is(raDelayMs(1, 0.5), 4000);
  t.is(raDelayMs(2, 0.9), 4000);
  t.is(raDelayMs(3, 0), 200_000);
  t.is(raDelayMs(3, 0.5), 400_000);
  t.true(raDelayMs(100, 0.999999) < 600_000);
  t.true(raDelayMs(100, 0.999999) < 9000 * 1000 / 3, 'well within the router lifetime');
});
