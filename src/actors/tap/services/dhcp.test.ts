import test from 'ava';
import { verifyIpv4HeaderChecksum, verifyIpv4L4Checksum } from '../../../protocol/checksum.js';
import { DhcpMsgType, parseDhcp } from '../../../protocol/dhcp.js';
import { MAC_BROADCAST } from '../../../protocol/eth.js';
import { Headroom, buildUdp4 } from '../../../protocol/frame.js';
import type { ServicesConfig } from './config.js';
import {
  DHCLIENT_DISCOVER, DHCLIENT_REQUEST, UDHCPC_DISCOVER, UDHCPC_REQUEST, dropReasonOf, hex, replyOf, serve, testConfig,
  unhex,
} from './testdata.js';

const cfg = testConfig();
const GUEST_MAC = 'c61f45044e3d';
const DHCP_OFF = Headroom.Udp4;

/** Option codes of a DHCP payload in order, END excluded. */
function optionCodes(p: Uint8Array): number[] {
  const codes: number[] = [];
  for (let i = 240; p[i] !== 0xff; i += 2 + p[i + 1]!) codes.push(p[i]!);
  return codes;
}

/** Data of option `code` (first instance) as hex, or null. */
function optionHex(p: Uint8Array, code: number): string | null {
  for (let i = 240; p[i] !== 0xff; i += 2 + p[i + 1]!) if (p[i] === code) return hex(p.subarray(i + 2, i + 2 + p[i + 1]!));
  return null;
}

/** A broadcast DHCP request frame from the udhcpc client around `payload` (as udhcpc builds it). */
function requestFrame(payload: Uint8Array): Uint8Array {
  const b = new Uint8Array(DHCP_OFF + payload.length);
  b.set(payload, DHCP_OFF);
  const eth = { dst: MAC_BROADCAST, src: unhex(GUEST_MAC) };
  buildUdp4(b, 0, eth, { src: 0, dst: 0xffffffff }, 68, 67, payload.length);
  return b;
}

/** udhcpc's DISCOVER payload (xid 0x5322132d) with other options. */
function udhcpcWith(options: string, patch: (p: Uint8Array) => void = () => {}): Uint8Array {
  const opts = unhex(options);
  const p = new Uint8Array(240 + opts.length);
  p.set(UDHCPC_DISCOVER.subarray(DHCP_OFF, DHCP_OFF + 240));
  p.set(opts, 240);
  patch(p);
  return requestFrame(p);
}

function checkHeaders(t: import('ava').ExecutionContext, f: Uint8Array, dstMac: string, dstIp: string): void {
  t.is(hex(f.subarray(0, 14)), dstMac + '02fc00000001' + '0800');
  t.is(hex(f.subarray(14, 24)), '4500' + (f.length - 14).toString(16).padStart(4, '0') + '0000' + '0000' + 'ff11');
  t.is(hex(f.subarray(26, 34)), '0a000001' + dstIp);
  t.true(verifyIpv4HeaderChecksum(f, 14, 20));
  t.is(hex(f.subarray(34, 40)), '0043' + '0044' + (f.length - 34).toString(16).padStart(4, '0'));
  t.not(hex(f.subarray(40, 42)), '0000'); // a real UDP checksum
  t.true(verifyIpv4L4Checksum(f, 14));
}

const UDHCPC_OFFER = unhex(`
  02010600 5322132d 0000 0000 00000000 0a000002 00000000 00000000 c61f45044e3d 00*10 00*192
  63825363
  350102 0104ffffff00 03040a000001 06040a000035 1a0205dc
  7713 076578616d706c6503636f6d00 03737562c000
  3304ffffffff 36040a000001 ff 00`);

test('udhcpc DISCOVER gets an OFFER: every header field, every option byte, compressed search list', (t) => {
  const f = replyOf(cfg, UDHCPC_DISCOVER);
  t.is(f.length, DHCP_OFF + 300);
  checkHeaders(t, f, GUEST_MAC, '0a000002');
  t.is(hex(f.subarray(DHCP_OFF)), hex(UDHCPC_OFFER));
});

test('udhcpc REQUEST gets an ACK with the same lease', (t) => {
  const f = replyOf(cfg, UDHCPC_REQUEST);
  checkHeaders(t, f, GUEST_MAC, '0a000002');
  const expected = UDHCPC_OFFER.slice();
  expected[242] = DhcpMsgType.Ack;
  t.is(hex(f.subarray(DHCP_OFF)), hex(expected));
});

test("dhclient's DISCOVER and REQUEST: options follow its parameter request list", (t) => {
  const offer = replyOf(cfg, DHCLIENT_DISCOVER).subarray(DHCP_OFF);
  t.deepEqual(optionCodes(offer), [53, 1, 3, 6, 119, 26, 51, 54]);
  t.is(hex(offer.subarray(4, 8)), '84747b3f');
  const ack = replyOf(cfg, DHCLIENT_REQUEST).subarray(DHCP_OFF);
  t.is(optionHex(ack, 53), '05');
  t.is(hex(ack.subarray(16, 20)), '0a000002');
});

test('rapid commit: DISCOVER with option 80 gets an ACK carrying option 80', (t) => {
  const f = replyOf(cfg, udhcpcWith('350101 5000 3d0701c61f45044e3d ff'));
  const p = f.subarray(DHCP_OFF);
  t.is(optionHex(p, 53), '05');
  t.is(optionHex(p, 80), '');
  t.is(hex(p.subarray(12, 20)), '00000000' + '0a000002');
});

test('REQUEST for another address gets a broadcast NAK with only type and server id', (t) => {
  const f = replyOf(cfg, udhcpcWith('350103 32040a000003 ff'));
  checkHeaders(t, f, 'ffffffffffff', 'ffffffff');
  const p = f.subarray(DHCP_OFF);
  t.is(hex(p.subarray(240, 250)), '350106' + '36040a000001' + 'ff');
  t.is(hex(p.subarray(12, 28)), '00'.repeat(16)); // ciaddr yiaddr siaddr giaddr
});

test('a renewing REQUEST (ciaddr, no requested address) is ACKed to ciaddr; a wrong ciaddr is NAKed', (t) => {
  const renew = replyOf(cfg, udhcpcWith('350103 ff', (p) => p.set([10, 0, 0, 2], 12)));
  checkHeaders(t, renew, GUEST_MAC, '0a000002');
  t.is(hex(renew.subarray(DHCP_OFF + 12, DHCP_OFF + 20)), '0a000002' + '0a000002');
  const stale = replyOf(cfg, udhcpcWith('350103 ff', (p) => p.set([10, 9, 9, 9], 12)));
  t.is(optionHex(stale.subarray(DHCP_OFF), 53), '06');
});

test('the broadcast flag makes the reply a broadcast', (t) => {
  const f = replyOf(cfg, udhcpcWith('350101 ff', (p) => p.set([0x80, 0], 10)));
  checkHeaders(t, f, 'ffffffffffff', 'ffffffff');
  t.is(hex(f.subarray(DHCP_OFF + 10, DHCP_OFF + 12)), '8000');
});

test('a gateway outside the subnet adds classless static routes (and keeps option 3)', (t) => {
  const offer = replyOf({ ...cfg, ip4Gateway: 0x0a010001 }, DHCLIENT_DISCOVER).subarray(DHCP_OFF);
  t.deepEqual(optionCodes(offer), [53, 1, 3, 6, 119, 26, 121, 51, 54]);
  t.is(optionHex(offer, 121), '20' + '0a010001' + '00000000' + '00' + '0a010001');
  t.is(optionHex(offer, 3), '0a010001');
  t.is(optionHex(offer, 54), '0a010001');
  t.is(optionHex(replyOf(cfg, DHCLIENT_DISCOVER).subarray(DHCP_OFF), 121), null);
});

test('DNS, search list and MTU options follow the configuration', (t) => {
  const quiet: ServicesConfig = { ...cfg, dhcpDns: false, dhcpSearch: false, mtu: null };
  const offer = replyOf(quiet, UDHCPC_DISCOVER).subarray(DHCP_OFF);
  t.deepEqual(optionCodes(offer), [53, 1, 3, 51, 54]);
  const noServers = replyOf({ ...cfg, ip4Dns: [], searchList: [] }, UDHCPC_DISCOVER).subarray(DHCP_OFF);
  t.deepEqual(optionCodes(noServers), [53, 1, 3, 26, 51, 54]);
  const r = parseDhcp(offer, 0, offer.length);
  t.true(r.ok && r.msg.subnetMask === 0xffffff00 && r.msg.leaseTime === 0xffffffff);
});

test('other message types, other servers and disabled service are dropped with a reason', (t) => {
  t.is(dropReasonOf(cfg, udhcpcWith('350107 ff')), 'dhcp: message type 7 not handled'); // RELEASE
  t.is(dropReasonOf(cfg, udhcpcWith('350108 ff')), 'dhcp: message type 8 not handled'); // INFORM
  t.is(dropReasonOf(cfg, udhcpcWith('350104 ff')), 'dhcp: message type 4 not handled'); // DECLINE
  t.is(dropReasonOf(cfg, udhcpcWith('ff')), 'dhcp: no message type');
  t.is(dropReasonOf(cfg, udhcpcWith('350103 36040a000009 ff')), 'dhcp: request for another server');
  t.is(dropReasonOf(cfg, udhcpcWith('350101 ff', (p) => (p[0] = 2))), 'dhcp: not a request');
  t.is(dropReasonOf({ ...cfg, noDhcp: true }, UDHCPC_DISCOVER), 'dhcp: disabled');
  t.is(dropReasonOf({ ...cfg, ip4Addr: null }, UDHCPC_DISCOVER), 'dhcp: no IPv4 address');
});

test('malformed requests are dropped with the parser\'s reason', (t) => {
  const cookie = UDHCPC_DISCOVER.slice();
  cookie[DHCP_OFF + 236] = 0;
  t.is(dropReasonOf(cfg, cookie), 'dhcp: bad magic cookie');
  const overrun = UDHCPC_DISCOVER.slice();
  overrun[DHCP_OFF + 248] = 200; // parameter list length
  t.is(dropReasonOf(cfg, overrun), 'dhcp: option length past end');
  t.is(dropReasonOf(cfg, requestFrame(UDHCPC_DISCOVER.subarray(DHCP_OFF, DHCP_OFF + 200))), 'dhcp: short message');
  t.is(dropReasonOf(cfg, UDHCPC_DISCOVER, 6 + 341), 'dhcp: reply does not fit (or bad search list)');
});

test('every truncation of the golden requests is dropped without throwing', (t) => {
  for (const golden of [UDHCPC_DISCOVER, UDHCPC_REQUEST, DHCLIENT_DISCOVER]) {
    for (let n = 0; n < golden.length; n++) {
      const r = serve(cfg, golden.subarray(0, n));
      t.not(r.result?.action, 'reply', `length ${n}`);
    }
  }
});
