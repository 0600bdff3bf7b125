import test from 'ava';
import { ARP_LEN, ArpOp, ArpView, writeArp } from './arp.js';
import { formatIpv4U32 } from './addr.js';
import { dataViewOf, formatMac } from './eth.js';
import { fromHex as hex, inA5 } from './test-bytes.js';

// The ARP part of "Request who-has 10.0.2.2 tell 10.0.2.15" (RFC 826 layout, checked with tcpdump).
const ARP_REQUEST = hex(
  '0001', // hardware type: Ethernet
  '0800', // protocol type: IPv4
  '06 04', // address sizes
  '0001', // op: request
  '525400123456 0a00020f', // sender MAC, IP
  '000000000000 0a000202', // target MAC (unknown), IP
);
const ARP_REPLY = hex('0001 0800 06 04 0002 9a559a559a55 0a000202 525400123456 0a00020f');

test('view reads every field of the golden request', (t) => {
  const b = inA5(ARP_REQUEST, 14);
  const v = new ArpView();
  t.true(v.wrap(dataViewOf(b), 14, ARP_LEN));
  t.is(v.op, ArpOp.Request);
  t.is(formatMac(b, v.senderMacOff), '52:54:00:12:34:56');
  t.is(formatIpv4U32(v.senderIp), '10.0.2.15');
  t.is(formatMac(b, v.targetMacOff), '00:00:00:00:00:00');
  t.is(formatIpv4U32(v.targetIp), '10.0.2.2');
  t.is(v.senderIpOff, 14 + 14);
  t.is(v.targetIpOff, 14 + 24);
});

test('padding after the 28 bytes is accepted and ignored', (t) => {
  const b = inA5(ARP_REQUEST, 14);
  const v = new ArpView();
  t.true(v.wrap(dataViewOf(b), 14, ARP_LEN + 5));
});

test('every truncation is refused without throwing', (t) => {
  const v = new ArpView();
  for (let len = 0; len < ARP_LEN; len++) {
    t.false(v.wrap(dataViewOf(inA5(ARP_REQUEST, 3)), 3, len), `len ${len}`);
    t.false(v.wrap(dataViewOf(ARP_REQUEST.slice(0, len)), 0, len), `exact buffer, len ${len}`);
  }
});

test('other hardware/protocol types and sizes are refused', (t) => {
  const v = new ArpView();
  for (const [at, value] of [[1, 6], [2, 0x86], [4, 8], [5, 16]] as const) {
    const b = ARP_REQUEST.slice();
    b[at] = value;
    t.false(v.wrap(dataViewOf(b), 0, ARP_LEN), `byte ${at}`);
  }
  const odd = ARP_REQUEST.slice();
  odd[7] = 9; // an unknown op is still a parseable packet
  t.true(v.wrap(dataViewOf(odd), 0, ARP_LEN));
  t.is(v.op, 9);
});

test('writer reproduces the golden request and reply, and only them', (t) => {
  const b = new Uint8Array(40).fill(0xa5);
  const guest = hex('525400123456');
  t.is(writeArp(b, 6, ArpOp.Request, guest, 0x0a00020f, new Uint8Array(6), 0x0a000202), 6 + ARP_LEN);
  t.deepEqual(b, inA5(ARP_REQUEST, 6, 40));
  const r = new Uint8Array(40).fill(0xa5);
  writeArp(r, 6, ArpOp.Reply, hex('9a559a559a55'), 0x0a000202, guest, 0x0a00020f);
  t.deepEqual(r, inA5(ARP_REPLY, 6, 40));
  const v = new ArpView();
  t.true(v.wrap(dataViewOf(r), 6, ARP_LEN));
  t.is(v.op, ArpOp.Reply);
  t.is(v.senderIp, 0x0a000202);
});
