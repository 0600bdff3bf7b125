/**
 * DNS forwarding over UDP: dig in the guest, a real dnsmasq serving a test zone, the host namespace's
 * own resolv.conf (bind-mounted by `ip netns exec`: never the machine's resolver).
 */
import test from 'ava';
import { background, waitFor } from './helpers.js';
import type { Topology } from './topology.js';
import type { ExecutionContext } from 'ava';
import { countersOf, startWorld } from './udp-lib.js';

const ZONE = ['--host-record=www.test.example,10.99.0.7,fd99::7'];

/** dnsmasq answering for the test zone only, on these addresses, in a namespace. */
async function dnsmasq(t: ExecutionContext, inNs: Topology['inHost'], addrs: string[]): Promise<void> {
  const listen = addrs.map((a) => `--listen-address=${a}`);
  const argv = inNs(['dnsmasq', '-k', '-C', '/dev/null', '--pid-file=', '--no-resolv', '--no-hosts', '--bind-interfaces', '-u', 'root', '--log-facility=-', ...listen, ...ZONE]);
  const d = background(t, argv[0]!, argv.slice(1));
  await waitFor('dnsmasq started', () => /started/.test(d.err()), 10_000).catch((e: Error) => {
    throw new Error(`${e.message}: ${d.err()}`);
  });
}

const dig = (server: string, type: 'A' | 'AAAA') => `dig +time=2 +tries=1 +short @${server} www.test.example ${type}`;

test.serial('--dns-forward: queries to the forwarding address reach the host resolver; answers come from that address', async (t) => {
  const resolvConf = 'nameserver 10.77.1.1\nnameserver fd77:1::1\n';
  const w = await startWorld(t, ['--dns-forward', '10.77.9.9', '--dns-forward', 'fd77:9::9'], { resolvConf });
  await dnsmasq(t, w.topo.inUpstream, [w.topo.remote4, w.topo.remote6]);
  const a = w.inGuest(dig('10.77.9.9', 'A'));
  t.is(a.stdout.trim(), '10.99.0.7', a.stderr + a.stdout);
  const aaaa = w.inGuest(dig('fd77:9::9', 'AAAA'));
  t.is(aaaa.stdout.trim(), 'fd99::7', aaaa.stderr + aaaa.stdout);
  // dig takes an answer only from the server it asked ("reply from unexpected source" otherwise)
  const full = w.inGuest(dig('10.77.9.9', 'A').replace(' +short', ''));
  t.regex(full.stdout, /;; SERVER: 10\.77\.9\.9#53/, full.stdout);
  t.notRegex(full.stdout, /unexpected source/);
  const log = await w.stop();
  t.regex(log, /DNS redirects: \{"v4":\{"match":"10.77.9.9","host":"10.77.1.1"\},"v6":\{"match":"fd77:9::9","host":"fd77:1::1"\}\}/);
  t.is(countersOf(log).udp?.['flows-dns'], 3);
});

test.serial('a loopback host resolver (127.0.0.53) is reached at the gateway address', async (t) => {
  const w = await startWorld(t, [], { resolvConf: 'nameserver 127.0.0.53\n' });
  await dnsmasq(t, w.topo.inHost, ['127.0.0.53']);
  const a = w.inGuest(dig(w.topo.gw4, 'A'));
  t.is(a.stdout.trim(), '10.99.0.7', a.stderr + a.stdout);
  const log = await w.stop();
  t.regex(log, /DNS redirects: \{"v4":\{"match":"10.77.0.1","host":"127.0.0.53"\}/);
});
