import test from 'ava';
import { EtherType } from '../../protocol/eth.js';
import { IpProto } from '../../protocol/ipv4.js';
import { FrameBatch, destinationOf } from './state.js';

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
