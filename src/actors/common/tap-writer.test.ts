import test from 'ava';
import { Counters } from '../../runtime/actor.js';
import { TapWriter } from './tap-writer.js';

function frame(len: number, fill: number): Uint8Array {
  return new Uint8Array(len).fill(fill);
}

test('passt mode: frames of one turn go to the sink as one batch, back to back', async (t) => {
  const sent: { buf: Uint8Array; lens: number[] }[] = [];
  const w = new TapWriter(new Counters(), (buf, lens) => (sent.push({ buf, lens }), true));
  t.true(w.ready, 'ready without any tap duplicate');
  const src = new Uint8Array(200).fill(9);
  src.set(frame(60, 1), 10);
  t.true(w.write(src, 10, 60));
  t.true(w.write(frame(1514, 2), 0, 1514));
  t.is(sent.length, 0, 'nothing before the end of the turn');
  await Promise.resolve();
  t.is(sent.length, 1);
  t.deepEqual(sent[0]!.lens, [60, 1514]);
  t.is(sent[0]!.buf.length, 1574);
  t.is(sent[0]!.buf.byteLength, sent[0]!.buf.buffer.byteLength, 'exactly sized, transferable as is');
  t.is(sent[0]!.buf[0], 1);
  t.is(sent[0]!.buf[59], 1);
  t.is(sent[0]!.buf[60], 2);
});

test('passt mode: a full batch is sent at once; a sink that is down counts the drops', (t) => {
  const counters = new Counters();
  const sent: number[][] = [];
  let up = true;
  const w = new TapWriter(counters, (_buf, lens) => (sent.push(lens), up));
  for (let i = 0; i < 5; i++) w.write(frame(65535, i), 0, 65535);
  t.is(sent.length, 1, 'the fifth frame did not fit the 256 KiB batch');
  t.is(sent[0]!.length, 4);
  up = false;
  w.flush();
  t.is(counters.get('tap-write-dropped'), 1);
  t.is(counters.get('frames-out'), 5);
});

test('pasta mode without a tap duplicate: not ready, frames counted as lost', (t) => {
  const counters = new Counters();
  const w = new TapWriter(counters, null);
  t.false(w.ready);
  t.false(w.write(frame(60, 0), 0, 60));
  t.is(counters.get('tap-write-no-tap'), 1);
});
