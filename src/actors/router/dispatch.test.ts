import test from 'ava';
import { Proto } from '../../runtime/epoll-ref.js';
import { LINKS, ownerOf, peersOf, type Owner } from './dispatch.js';

test('every protocol has exactly one owner', (t) => {
  const expected: Record<string, Owner> = {
    Tap: 'tap', TapListen: 'router', Tcp: 'tcp', TcpListen: 'tcp', TcpTimer: 'tcp', Udp: 'udp', UdpListen: 'udp',
    Icmp: 'icmp', Splice: 'splice', Timer: 'router', Control: 'router', Channel: 'router', NsQuit: 'router',
    UdpSplice: 'udp',
  };
  for (const [name, value] of Object.entries(Proto)) t.is(ownerOf(value), expected[name], name);
  t.is(Object.keys(expected).length, Object.keys(Proto).length);
});

test('unknown protocols have no owner', (t) => {
  t.is(ownerOf(0), undefined);
  t.is(ownerOf(255), undefined);
});

test('links are symmetric and the tap reaches every frame-handling actor', (t) => {
  t.deepEqual(peersOf('tap').sort(), ['icmp', 'tcp', 'udp']);
  t.deepEqual(peersOf('tcp').sort(), ['splice', 'tap']);
  for (const [a, b] of LINKS) {
    t.true(peersOf(a).includes(b));
    t.true(peersOf(b).includes(a));
  }
});
