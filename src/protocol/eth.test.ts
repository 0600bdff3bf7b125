import test from 'ava';
import {
  ETH_HEADER_LEN, EthView, EtherType, MAC_BROADCAST, copyMac, dataViewOf, formatMac, isMacBroadcast,
  isMacMulticast, isMacZero, macEquals, parseMac, writeEth,
} from './eth.js';
import { fromHex as hex, inA5 } from './test-bytes.js';

// ARP request, 10.0.2.15 asks for 10.0.2.2 (tcpdump: "Request who-has 10.0.2.2 tell 10.0.2.15").
const ARP_REQUEST = hex(
  'ffffffffffff', // destination: broadcast
  '525400123456', // source: the guest
  '0806', // EtherType ARP
  '0001 0800 06 04 0001 525400123456 0a00020f 000000000000 0a000202',
);
// Neighbour solicitation to a solicited-node group (only the Ethernet header matters here).
const NS_HEAD = hex('3333ff000001 525400123456 86dd 6000000000203aff');

test('view reads the golden header in place', (t) => {
  const b = inA5(ARP_REQUEST, 5);
  const v = new EthView();
  t.true(v.wrap(dataViewOf(b), 5, ARP_REQUEST.length));
  t.is(v.dstOff, 5);
  t.is(v.srcOff, 11);
  t.is(v.etherType, EtherType.Arp);
  t.is(v.payloadOff, 5 + 14);
  t.is(v.payloadLen, 28);
  t.true(v.dstIsBroadcast);
  t.true(v.dstIsMulticast);
  t.is(formatMac(b, v.srcOff), '52:54:00:12:34:56');
  const n = inA5(NS_HEAD, 0);
  t.true(v.wrap(dataViewOf(n), 0, NS_HEAD.length));
  t.is(v.etherType, EtherType.Ipv6);
  t.true(v.dstIsMulticast);
  t.false(v.dstIsBroadcast);
});

test('every truncation is refused, never thrown', (t) => {
  const v = new EthView();
  for (let len = 0; len < ETH_HEADER_LEN; len++) {
    t.false(v.wrap(dataViewOf(inA5(ARP_REQUEST, 2)), 2, len), `len ${len}`);
    t.false(v.wrap(dataViewOf(ARP_REQUEST.slice(0, len)), 0, len), `exact buffer, len ${len}`);
  }
  t.false(v.wrap(dataViewOf(ARP_REQUEST), 1, ARP_REQUEST.length), 'runs past the buffer');
  t.false(v.wrap(dataViewOf(ARP_REQUEST), -1, 20), 'negative offset');
});

test('writer reproduces the golden header and touches nothing else', (t) => {
  const b = new Uint8Array(30).fill(0xa5);
  const src = parseMac('52:54:00:12:34:56')!;
  t.is(writeEth(b, 4, MAC_BROADCAST, src, EtherType.Arp), 18);
  t.deepEqual(b, inA5(ARP_REQUEST.subarray(0, 14), 4, 30));
});

test('MAC text and predicates', (t) => {
  t.deepEqual(parseMac('9a:55:9A:55:9a:55'), hex('9a559a559a55'));
  t.deepEqual(parseMac('1-2-3-4-5-6'), hex('010203040506'));
  for (const bad of ['', '9a:55:9a:55:9a', '9a:55:9a:55:9a:55:00', 'xx:55:9a:55:9a:55', '9a:55:9a:55:9a:555']) {
    t.is(parseMac(bad), null, bad);
  }
  t.is(formatMac(hex('a5 0a0b0c0d0e0f'), 1), '0a:0b:0c:0d:0e:0f');
  t.true(isMacBroadcast(MAC_BROADCAST));
  t.true(isMacMulticast(hex('333300000001')));
  t.false(isMacMulticast(hex('525400123456')));
  t.true(isMacZero(new Uint8Array(6)));
  const out = new Uint8Array(8).fill(0xa5);
  copyMac(hex('525400123456'), 0, out, 1);
  t.deepEqual(out, hex('a5 525400123456 a5'));
  t.true(macEquals(out, 1, hex('525400123456'), 0));
  t.false(macEquals(out, 0, hex('525400123456'), 0));
});

test('dataViewOf covers exactly a pooled Buffer', (t) => {
  const small = Buffer.from([1, 2, 3]); // from the shared pool: byteOffset is usually not 0
  const dv = dataViewOf(small);
  t.is(dv.byteLength, 3);
  t.is(dv.getUint8(0), 1);
});
