import test from 'ava';
import { GuestAddresses, guestAddrOf } from './guest-addr.js';
import { FrameKind } from '../../protocol/classify.js';
import { parseIpv6 } from '../../protocol/addr.js';

/** A buffer with an address at offset 10, the rest 0xa5. */
function at10(addr: number[] | Uint8Array): Uint8Array {
  const b = new Uint8Array(40).fill(0xa5);
  b.set(addr, 10);
  return b;
}

test('IPv4: a source address is learnt once; the same again is no change; 0.0.0.0 is ignored', (t) => {
  const g = new GuestAddresses();
  t.false(g.see(at10([0, 0, 0, 0]), 10, FrameKind.Ipv4));
  t.is(g.v4, null);
  t.true(g.see(at10([10, 77, 0, 2]), 10, FrameKind.Ipv4));
  t.is(g.v4, '10.77.0.2');
  t.false(g.see(at10([10, 77, 0, 2]), 10, FrameKind.Ipv4));
  t.true(g.see(at10([10, 77, 0, 9]), 10, FrameKind.Ipv4));
  t.is(g.v4, '10.77.0.9');
});

test('IPv6: global sources only (not ::, fe80::/10 or multicast)', (t) => {
  const g = new GuestAddresses();
  for (const a of ['::', 'fe80::1', 'febf::1', 'ff02::1']) t.false(g.see(at10(parseIpv6(a)!), 10, FrameKind.Ipv6), a);
  t.is(g.v6, null);
  t.true(g.see(at10(parseIpv6('fd77::5054:ff:fe12:3456')!), 10, FrameKind.Ipv6));
  t.is(g.v6, 'fd77::5054:ff:fe12:3456');
  t.false(g.see(at10(parseIpv6('fd77::5054:ff:fe12:3456')!), 10, FrameKind.Ipv6));
  t.true(g.see(at10(parseIpv6('fd77::2')!), 10, FrameKind.Ipv6));
  t.is(g.v6, 'fd77::2');
});

test('other frames, truncated offsets and forget', (t) => {
  const g = new GuestAddresses();
  t.false(g.see(at10([10, 0, 0, 1]), 10, FrameKind.Arp));
  t.false(g.see(new Uint8Array(12), 10, FrameKind.Ipv4), 'past the end');
  t.false(g.see(new Uint8Array(20), 10, FrameKind.Ipv6), 'past the end');
  g.see(at10([10, 0, 0, 1]), 10, FrameKind.Ipv4);
  g.forget();
  t.is(g.v4, null);
  t.true(g.see(at10([10, 0, 0, 1]), 10, FrameKind.Ipv4), 'learnt again after forget');
});

test('guestAddrOf: the message as bytes; absent or non-text fields are null', (t) => {
  const g = guestAddrOf({ t: 'guest-addr', v4: '10.77.0.77', v6: 'fd77::77' });
  t.deepEqual([...g.v4!], [10, 77, 0, 77]);
  t.deepEqual(g.v6, parseIpv6('fd77::77'));
  t.deepEqual(guestAddrOf({ t: 'guest-addr', v4: null, v6: 7 }), { v4: null, v6: null });
  t.deepEqual(guestAddrOf({ t: 'guest-addr', v4: 'not an address' }), { v4: null, v6: null });
});
