import test from 'ava';
import { dataViewOf } from './eth.js';
import {
  TCP_HEADER_LEN, TcpFlag, TcpOptKind, TcpOptionCursor, TcpOptions, TcpView, parseTcpOptions, writeTcp,
  writeTcpOptions,
} from './tcp.js';
import { fromHex as hex, inA5 } from './test-bytes.js';

// TCP part of "10.0.2.15.43210 > 93.184.216.34.80: Flags [S], cksum 0xf558 (correct), seq 305419896,
// win 64240, options [mss 1460,sackOK,TS val 16909060 ecr 0,nop,wscale 7]".
const SYN_OPTIONS = hex(
  '02 04 05b4', // MSS 1460
  '04 02', // SACK permitted
  '08 0a 01020304 00000000', // timestamps val 0x01020304, ecr 0
  '01', // NOP
  '03 03 07', // window scale 7
);
const SYN = hex(
  'a8ca 0050', // ports 43210 -> 80
  '12345678', // seq
  '00000000', // ack
  'a0 02', // data offset 10 words, flags SYN
  'faf0', // window 64240
  'f558', // checksum
  '0000', // urgent pointer
  Buffer.from(SYN_OPTIONS).toString('hex'),
);
// "Flags [.], cksum 0xd46f (correct), seq 305419897, ack 3405691582, win 502, length 0"
const ACK = hex('a8ca 0050 12345679 cafebabe 50 10 01f6 d46f 0000');

test('view reads every field of the golden SYN', (t) => {
  const b = inA5(SYN, 34);
  const v = new TcpView();
  t.true(v.wrap(dataViewOf(b), 34, SYN.length));
  t.is(v.srcPort, 43210);
  t.is(v.dstPort, 80);
  t.is(v.seqNumber, 0x12345678);
  t.is(v.ackNumber, 0);
  t.is(v.headerLen, 40);
  t.is(v.flags, TcpFlag.Syn);
  t.true(v.syn);
  t.false(v.ack || v.fin || v.rst || v.psh || v.urg);
  t.is(v.window, 64240);
  t.is(v.checksum, 0xf558);
  t.is(v.urgentPointer, 0);
  t.is(v.optionsOff, 34 + 20);
  t.is(v.optionsLen, 20);
  t.is(v.payloadOff, 34 + 40);
  t.is(v.payloadLen, 0);
});

test('sequence numbers above 2^31 stay unsigned', (t) => {
  const v = new TcpView();
  t.true(v.wrap(dataViewOf(ACK), 0, ACK.length));
  t.is(v.ackNumber, 0xcafebabe);
  t.true(v.ackNumber > 0);
  t.true(v.ack && v.hasFlag(TcpFlag.Ack) && !v.hasFlag(TcpFlag.Syn));
  t.is(v.headerLen, 20);
  t.is(v.optionsLen, 0);
});

test('the option cursor walks the golden options without allocating views', (t) => {
  const b = inA5(SYN, 0);
  const v = new TcpView();
  t.true(v.wrap(dataViewOf(b), 0, SYN.length));
  const cur = v.options(new TcpOptionCursor());
  const seen: Array<[number, number, number]> = [];
  while (cur.next()) seen.push([cur.kind, cur.dataOff, cur.dataLen]);
  t.false(cur.malformed);
  t.deepEqual(seen, [
    [TcpOptKind.Mss, 22, 2], [TcpOptKind.SackPermitted, 26, 0], [TcpOptKind.Timestamps, 28, 8],
    [TcpOptKind.WindowScale, 39, 1],
  ]);
});

test('options summary of the golden SYN', (t) => {
  const v = new TcpView();
  t.true(v.wrap(dataViewOf(SYN), 0, SYN.length));
  const o = new TcpOptions();
  t.true(parseTcpOptions(v, o));
  const want = { mss: 1460, wscale: 7, sackPermitted: true, hasTimestamps: true, tsVal: 0x01020304, tsEcr: 0 };
  t.deepEqual({ ...o }, want);
  t.true(v.wrap(dataViewOf(ACK), 0, ACK.length));
  t.true(parseTcpOptions(v, o));
  t.deepEqual({ ...o }, { mss: 0, wscale: -1, sackPermitted: false, hasTimestamps: false, tsVal: 0, tsEcr: 0 });
});

/** A header with data offset to fit `opts` (padded by the caller) before the data. */
function withOptions(opts: string): Uint8Array {
  const o = hex(opts);
  if (o.length % 4 !== 0) throw new Error('test options must be padded');
  const b = new Uint8Array(20 + o.length);
  b.set(hex('a8ca 0050 00000001 00000000 00 02 ffff 0000 0000'));
  b[12] = ((20 + o.length) / 4) << 4;
  b.set(o, 20);
  return b;
}

test('malformed option lists end the walk and are reported; what came before stays', (t) => {
  const v = new TcpView();
  const o = new TcpOptions();
  const cases: Array<[string, string, number]> = [
    ['020405b4 0300 0000', 'length 0', 1460],
    ['020405b4 0301 0000', 'length 1', 1460],
    ['020405b4 0306 0000', 'past the header', 1460],
    ['020405b4 01010103', 'kind without a length byte at the end', 1460],
  ];
  for (const [opts, why, mss] of cases) {
    const b = withOptions(opts);
    t.true(v.wrap(dataViewOf(b), 0, b.length), why);
    t.false(parseTcpOptions(v, o), why);
    t.is(o.mss, mss, why);
  }
});

test('EOL ends the list; wrong-length known options and unknown options are skipped', (t) => {
  const v = new TcpView();
  const o = new TcpOptions();
  const b = withOptions('0203 05 fe 04 0a00 0303 0e 00 020405b4 00'); // MSS with len 3, kind 254, WS 14, EOL, MSS
  t.true(v.wrap(dataViewOf(b), 0, b.length));
  t.true(parseTcpOptions(v, o));
  t.is(o.mss, 0, 'the bad MSS is ignored, the one after EOL is not read');
  t.is(o.wscale, 14);
});

test('every truncation is refused without throwing', (t) => {
  const v = new TcpView();
  for (const golden of [SYN, ACK]) {
    for (let len = 0; len < golden.length; len++) {
      t.false(v.wrap(dataViewOf(inA5(golden, 3)), 3, len), `len ${len}`);
      t.false(v.wrap(dataViewOf(golden.slice(0, len)), 0, len), `exact buffer, len ${len}`);
    }
  }
});

test('data offset below 5 words is refused', (t) => {
  const v = new TcpView();
  for (const doff of [0, 1, 4]) {
    const b = ACK.slice();
    b[12] = doff << 4;
    t.false(v.wrap(dataViewOf(b), 0, b.length), `doff ${doff}`);
  }
});

test('option writer reproduces Linux SYN options, and the other layouts stay aligned', (t) => {
  const b = new Uint8Array(26).fill(0xa5);
  t.is(writeTcpOptions(b, 3, { mss: 1460, sackPermitted: true, tsVal: 0x01020304, tsEcr: 0, wscale: 7 }), 23);
  t.deepEqual(b, inA5(SYN_OPTIONS, 3, 26));
  const layouts: Array<[Parameters<typeof writeTcpOptions>[2], string]> = [
    [{ mss: 1460 }, '020405b4'],
    [{ mss: 65495, wscale: 14 }, '0204ffd7 0103030e'],
    [{ tsVal: 5, tsEcr: 6 }, '0101 080a 00000005 00000006'],
    [{ sackPermitted: true }, '0101 0402'],
    [{}, ''],
  ];
  for (const [spec, want] of layouts) {
    const out = new Uint8Array(24).fill(0xa5);
    const end = writeTcpOptions(out, 0, spec);
    t.is(end % 4, 0);
    t.deepEqual(out.subarray(0, end), hex(want));
  }
});

test('header writer reproduces the golden SYN (options copied) and ACK', (t) => {
  const b = new Uint8Array(50).fill(0xa5);
  const end = writeTcp(b, 2, {
    srcPort: 43210, dstPort: 80, seq: 0x12345678, ack: 0, flags: TcpFlag.Syn, window: 64240, options: SYN_OPTIONS,
  });
  t.is(end, 2 + 40);
  const want = SYN.slice();
  want[16] = want[17] = 0; // the writer leaves the checksum to checksum.ts
  t.deepEqual(b, inA5(want, 2, 50));
  const a = new Uint8Array(24).fill(0xa5);
  writeTcp(a, 0, { srcPort: 43210, dstPort: 80, seq: 0x12345679, ack: 0xcafebabe, flags: TcpFlag.Ack, window: 502 });
  const wantAck = ACK.slice();
  wantAck[16] = wantAck[17] = 0;
  t.deepEqual(a, inA5(wantAck, 0, 24));
});

test('options already in place are counted and padded with EOL; round trip through the view', (t) => {
  const b = new Uint8Array(40).fill(0xa5);
  const optEnd = writeTcpOptions(b, TCP_HEADER_LEN, { mss: 1400 });
  b[optEnd] = TcpOptKind.Nop; // 5 option bytes: the writer pads to 8
  const end = writeTcp(b, 0, {
    srcPort: 1, dstPort: 2, seq: 0xffffffff, ack: 0x80000000, flags: TcpFlag.Syn | TcpFlag.Ack, window: 0xffff,
    optionsLen: 5, urgent: 7,
  });
  t.is(end, 28);
  t.deepEqual(b.subarray(20, 29), hex('02040578 01 000000 a5'));
  const v = new TcpView();
  t.true(v.wrap(dataViewOf(b), 0, 28));
  t.deepEqual([v.seqNumber, v.ackNumber, v.syn, v.ack, v.window, v.urgentPointer, v.headerLen],
    [0xffffffff, 0x80000000, true, true, 0xffff, 7, 28]);
  const o = new TcpOptions();
  t.true(parseTcpOptions(v, o));
  t.is(o.mss, 1400);
});
