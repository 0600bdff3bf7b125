import test from 'ava';
import { ARPING_OWN_ADDRESS, ARPING_REQUEST, dropReasonOf, hex, replyOf, serve, testConfig, unhex } from './testdata.js';

const cfg = testConfig();

test('answers a (60-byte padded) arping request with our MAC: every byte', (t) => {
  const f = replyOf(cfg, ARPING_REQUEST);
  t.is(f.length, 42);
  t.is(hex(f), hex(unhex(`
    52efc4b65b02 02fc00000001 0806
    0001 0800 06 04 0002
    02fc00000001 0a000001
    52efc4b65b02 0a000002`)));
});

test("the guest's own address (duplicate address detection) is not answered", (t) => {
  t.is(dropReasonOf(cfg, ARPING_OWN_ADDRESS), 'arp: gratuitous');
  const probe = ARPING_OWN_ADDRESS.slice();
  probe.set([0, 0, 0, 0], 14 + 14); // RFC 5227 probe: sender address 0.0.0.0
  t.is(dropReasonOf(cfg, probe), "arp: guest's own address");
});

test('a probe for another address is answered, to the prober', (t) => {
  const probe = ARPING_REQUEST.slice();
  probe.set([0, 0, 0, 0], 14 + 14);
  const f = replyOf(cfg, probe);
  t.is(hex(f.subarray(22, 42)), '02fc00000001' + '0a000001' + '52efc4b65b02' + '00000000');
});

test('gratuitous announcements and replies are not answered', (t) => {
  const announce = ARPING_REQUEST.slice();
  announce.set([10, 0, 0, 5], 14 + 14); // sender address
  announce.set([10, 0, 0, 5], 14 + 24); // target address, the same
  t.is(dropReasonOf(cfg, announce), 'arp: gratuitous');
  const replyFrame = ARPING_REQUEST.slice();
  replyFrame[14 + 7] = 2;
  t.is(dropReasonOf(cfg, replyFrame), 'arp: not a request');
});

test('without an IPv4 address every non-gratuitous request is answered', (t) => {
  const f = replyOf({ ...cfg, ip4Addr: null }, ARPING_REQUEST);
  t.is(f.length, 42);
});

test('no room for the reply is a drop, not a throw', (t) => {
  t.is(dropReasonOf(cfg, ARPING_REQUEST, 6 + 41), 'arp: no room for reply');
  t.is(dropReasonOf(cfg, ARPING_REQUEST, 6 + 42), 'reply');
});

test('every truncation of the request is dropped without throwing', (t) => {
  for (let n = 0; n < 42; n++) {
    const r = serve(cfg, ARPING_REQUEST.subarray(0, n));
    t.not(r.result?.action, 'reply', `length ${n}`);
  }
  t.is(serve(cfg, ARPING_REQUEST.subarray(0, 42)).result?.action, 'reply'); // the padding is not needed
});
