import test from 'ava';
import { dataViewOf } from './eth.js';
import { UDP_HEADER_LEN, UdpView, writeUdp } from './udp.js';
import { fromHex as hex, inA5 } from './test-bytes.js';

// UDP part of "10.0.2.15.53000 > 10.0.2.3.53: [udp sum ok] 43981+ A? example.com. (29)".
const DNS_QUERY = hex(
  'cf08', // source port 53000
  '0035', // destination port 53
  '0025', // length 37
  '9d19', // checksum (over the IPv4 pseudo-header)
  'abcd 0100 0001 0000 0000 0000', // DNS: id, RD, one question
  '07 6578616d706c65 03 636f6d 00 0001 0001', // example.com, A, IN
);

test('view reads every field of the golden DNS query', (t) => {
  const b = inA5(DNS_QUERY, 34);
  const v = new UdpView();
  t.true(v.wrap(dataViewOf(b), 34, DNS_QUERY.length));
  t.is(v.srcPort, 53000);
  t.is(v.dstPort, 53);
  t.is(v.length, 37);
  t.is(v.checksum, 0x9d19);
  t.is(v.payloadOff, 34 + 8);
  t.is(v.payloadLen, 29);
  t.is(b[v.payloadOff + 1], 0xcd);
});

test('the UDP length bounds the payload, not the bytes given', (t) => {
  const v = new UdpView();
  const b = inA5(DNS_QUERY, 0, DNS_QUERY.length + 11);
  t.true(v.wrap(dataViewOf(b), 0, b.length));
  t.is(v.payloadLen, 29);
});

test('every truncation is refused without throwing', (t) => {
  const v = new UdpView();
  for (let len = 0; len < DNS_QUERY.length; len++) {
    t.false(v.wrap(dataViewOf(inA5(DNS_QUERY, 1)), 1, len), `len ${len}`);
    t.false(v.wrap(dataViewOf(DNS_QUERY.slice(0, len)), 0, len), `exact buffer, len ${len}`);
  }
});

test('a length field below 8 is refused', (t) => {
  const v = new UdpView();
  for (const l of [0, 1, 7]) {
    const b = DNS_QUERY.slice();
    b[4] = 0;
    b[5] = l;
    t.false(v.wrap(dataViewOf(b), 0, b.length), `length ${l}`);
  }
  const empty = hex('9c40 0035 0008 0000');
  t.true(v.wrap(dataViewOf(empty), 0, 8));
  t.is(v.payloadLen, 0);
});

test('writer reproduces the golden header with a zero checksum', (t) => {
  const b = new Uint8Array(20).fill(0xa5);
  t.is(writeUdp(b, 3, 53000, 53, 29), 3 + UDP_HEADER_LEN);
  t.deepEqual(b, inA5(hex('cf08 0035 0025 0000'), 3, 20));
});
