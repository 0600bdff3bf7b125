/**
 * iperf3 -u at a fixed rate through our pasta, both directions, the loss reported and loosely bounded.
 * (iperf3's control connection is TCP: this test needs the TCP actor too.)
 */
import test from 'ava';
import { background, run, waitFor } from './helpers.js';
import { somePort, startWorld } from './udp-lib.js';

interface IperfSum { packets: number; lost_packets: number; lost_percent: number; bits_per_second: number }

for (const reverse of [false, true]) {
  test.serial(`iperf3 -u at 50 Mbit/s, ${reverse ? 'remote to guest (-R)' : 'guest to remote'}: loss reported, under 20 %`, async (t) => {
    const w = await startWorld(t, []);
    const port = somePort();
    const server = background(t, 'ip', ['netns', 'exec', w.topo.upstream, 'iperf3', '-s', '-1', '-B', w.topo.remote4, '-p', String(port)]);
    await waitFor('iperf3 server', () => run('ip', ['netns', 'exec', w.topo.upstream, 'ss', '-Htln', `sport = :${port}`]).stdout.includes(String(port)), 10_000);
    const r = w.inGuest(`iperf3 -u -c ${w.topo.remote4} -p ${port} -b 50M -l 1400 -t 3 -J ${reverse ? '-R' : ''}`, 40_000);
    t.is(r.status, 0, r.stdout.slice(0, 2000) + r.stderr + server.err());
    const sum = (JSON.parse(r.stdout) as { end: { sum: IperfSum } }).end.sum;
    t.log(`${sum.packets} packets, ${sum.lost_packets} lost (${sum.lost_percent.toFixed(2)} %), ${(sum.bits_per_second / 1e6).toFixed(1)} Mbit/s`);
    t.true(sum.packets > 1000, JSON.stringify(sum));
    t.true(sum.lost_percent < 20, JSON.stringify(sum));
  });
}
