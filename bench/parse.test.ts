import test from 'ava';
import { hotFunctions } from './cpuprofile.js';
import { stderrSummary } from './errors.js';
import { parseIperfJson } from './iperf.js';

test('parseIperfJson: the receiver side and the sender retransmits', (t) => {
  const j = { end: { sum_sent: { bytes: 1000, bits_per_second: 9, retransmits: 3 }, sum_received: { bytes: 900, bits_per_second: 7.5e9 } } };
  t.deepEqual(parseIperfJson(JSON.stringify(j)), { bitsPerSecond: 7.5e9, bytes: 900, retransmits: 3 });
});

test('parseIperfJson: iperf3\'s own error, no JSON, or nothing received are errors', (t) => {
  t.throws(() => parseIperfJson('{"start":{},"error":"unable to connect to server: Connection timed out"}'), { message: 'iperf3: unable to connect to server: Connection timed out' });
  t.throws(() => parseIperfJson('iperf3: error - bad'), { message: /no JSON result: iperf3: error - bad/ });
  t.throws(() => parseIperfJson(''), { message: /no output/ });
  t.throws(() => parseIperfJson('{"end":{"sum_received":{"bytes":0,"bits_per_second":0}}}'), { message: /nothing received/ });
  t.throws(() => parseIperfJson('{"end":{}}'), { message: /no receiver summary/ });
});

test('hotFunctions: self time per function from samples and time deltas, largest first', (t) => {
  const frame = (functionName: string, url = '', lineNumber = 0) => ({ functionName, url, lineNumber });
  const p = {
    nodes: [
      { id: 1, callFrame: frame('(root)') },
      { id: 2, callFrame: frame('readBatch', 'file:///work/main/dist/src/actors/tap/actor.js', 41) },
      { id: 3, callFrame: frame('', 'node:internal/x', 0) },
      { id: 4, callFrame: frame('readBatch', 'file:///work/main/dist/src/actors/tap/actor.js', 41) },
    ],
    samples: [2, 3, 4, 2, 1],
    timeDeltas: [1000, 500, 1000, 2000, -5],
  };
  const h = hotFunctions(p, 2);
  t.is(h.totalMs, 4.5);
  t.is(h.idleMs, 0);
  t.deepEqual(h.top.map((x) => x.name), ['readBatch dist/src/actors/tap/actor.js:42', '(anonymous) x:1']);
  t.is(h.top[0]!.ms, 4);
  t.is(Math.round(h.top[0]!.pct), 89);
});

test('stderrSummary: the thrown error of a Node crash, not its banner or stack', (t) => {
  const crash = [
    'file:///work/main/dist/src/pasta.js:12',
    '    throw new Error("x");',
    '    ^',
    '',
    'Error: netlink: RTM_NEWADDR: EEXIST',
    '    at configure (file:///work/main/dist/src/ns/netconf.js:40:11)',
    '',
    'Node.js v20.20.2',
  ].join('\n');
  t.is(stderrSummary(crash), 'Error: netlink: RTM_NEWADDR: EEXIST');
  t.is(stderrSummary('Failed to send 46 bytes to syslog\npasta: option --tcp-ports is not supported yet\n'), 'pasta: option --tcp-ports is not supported yet');
  t.is(stderrSummary('one\ntwo\nthree\n'), 'two | three');
  t.is(stderrSummary(''), '');
});

test('hotFunctions adds up chunks of one thread and reports idle time apart', (t) => {
  const chunk = (ids: number[], deltas: number[]) => ({
    nodes: [
      { id: 1, callFrame: { functionName: '(idle)', url: '', lineNumber: -1 } },
      { id: 2, callFrame: { functionName: 'onFrames', url: 'file:///x/dist/src/actors/tcp/actor.js', lineNumber: 9 } },
    ],
    samples: ids,
    timeDeltas: deltas,
  });
  const h = hotFunctions([chunk([1, 2], [3000, 1000]), chunk([2, 2], [500, 500])]);
  t.is(h.totalMs, 5);
  t.is(h.idleMs, 3);
  t.deepEqual(h.top.map((x) => [x.name, x.ms]), [['(idle)', 3], ['onFrames dist/src/actors/tcp/actor.js:10', 2]]);
});
