import test from 'ava';
import type { Config, Mode } from '../../config/config.js';
import { parseCommandLine, type HostInfo } from '../../config/options.js';
import { autoListeners, listenKey, staticListeners, udpForwardPlan } from './forward.js';

const HOST: HostInfo = { uid: 0, gid: 0, shell: '/bin/sh', version: '0', lookupUser: () => null, lookupGroup: () => null };

function cfg(mode: Mode, argv: string[]): Config {
  const r = parseCommandLine(mode, argv, HOST);
  if (r.action !== 'run') throw new Error(r.action);
  return r.config;
}

const listeners = (mode: Mode, argv: string[], families: (4 | 6)[] = [4, 6]) => {
  const plan = udpForwardPlan(cfg(mode, argv).forward);
  if (plan.kind !== 'static') throw new Error(`plan is ${plan.kind}`);
  return staticListeners(plan, families).map((s) => `${s.family}:${s.addr ?? '*'}%${s.ifname ?? ''}:${s.port}>${s.target}`);
};

test('pasta defaults: auto, following TCP listeners too', (t) => {
  t.deepEqual(udpForwardPlan(cfg('pasta', []).forward), { kind: 'auto', followTcp: true });
});

test('-u auto alone: auto, UDP sockets only', (t) => {
  t.deepEqual(udpForwardPlan(cfg('pasta', ['-u', 'auto']).forward), { kind: 'auto', followTcp: false });
});

test('passt defaults and -u none: nothing', (t) => {
  t.is(udpForwardPlan(cfg('passt', []).forward).kind, 'none');
  t.is(udpForwardPlan(cfg('pasta', ['-u', 'none']).forward).kind, 'none');
  t.is(udpForwardPlan(cfg('pasta', ['-u', 'none', '-t', '80']).forward).kind, 'none');
});

test('-u SPEC: its ports and translations, both IP versions', (t) => {
  t.deepEqual(listeners('pasta', ['-u', '53', '-u', '7000-7001:6000-6001']), [
    '4:*%:53>53', '6:*%:53>53', '4:*%:7000>6000', '6:*%:7000>6000', '4:*%:7001>6001', '6:*%:7001>6001',
  ]);
});

test('-u with an address listens on that version only; an interface is kept', (t) => {
  t.deepEqual(listeners('pasta', ['-u', '127.0.0.1/5000', '-u', '::1%lo/5001']), ['4:127.0.0.1%:5000>5000', '6:::1%lo:5001>5001']);
});

test('only the versions the guest has', (t) => {
  t.deepEqual(listeners('pasta', ['-u', '53'], [6]), ['6:*%:53>53']);
});

test('no -u: UDP follows the TCP ports, without translation', (t) => {
  t.deepEqual(listeners('pasta', ['-t', '8080:80'], [4]), ['4:*%:8080>8080']);
  t.deepEqual(udpForwardPlan(cfg('pasta', ['-t', 'none']).forward), { kind: 'none' });
});

test('auto listeners: each found port, each version, no translation; keys tell them apart', (t) => {
  const ls = autoListeners([53, 5000], [4, 6]);
  t.is(ls.length, 4);
  t.true(ls.every((l) => l.port === l.target && l.addr === null));
  t.is(new Set(ls.map(listenKey)).size, 4);
});
