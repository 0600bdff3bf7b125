/**
 * Seeded fuzzing of the resolv.conf reader (resolv.ts): mutated real files never make it throw and give
 * only resolver addresses and search domains without spaces or comments; files generated from known
 * lines (valid and invalid addresses, scopes, comments, options, odd spacing, CRLF) give exactly what a
 * model of the rules expects. `planDns` on the results never throws and redirects only to a resolver
 * of the right family.
 */
import { isIPv4, isIPv6 } from 'node:net';
import test from 'ava';
import { RESOLV_CONF_TEXTS } from '../protocol/fuzz-corpus.js';
import { ensure, fuzz } from '../protocol/fuzz.js';
import type { Prng } from '../protocol/fuzz.js';
import { familyOf, parseResolvConf, planDns } from './resolv.js';
import type { ResolvConf } from './resolv.js';

const SEED = 0x5eed0600;
const textSeeds = RESOLV_CONF_TEXTS.map((s) => new TextEncoder().encode(s));

function checkConf(c: ResolvConf): void {
  for (const ns of c.nameservers) ensure(isIPv4(ns) || isIPv6(ns.replace(/%[^%]+$/, '')), `nameserver ${ns}`);
  for (const d of c.search) ensure(d.length > 0 && !/[\s#;]/.test(d), `search domain ${JSON.stringify(d)}`);
  const plan = planDns({ dnsForward4: null, dnsForward6: null, gw4: '10.0.2.2', gw6: 'fd00::2', mapGw: true, nameservers: c.nameservers });
  ensure(plan.v4 === null || familyOf(plan.v4.host) === 4, 'v4 plan');
  ensure(plan.v6 === null || familyOf(plan.v6.host) === 6, 'v6 plan');
}

test('fuzz: parseResolvConf on mutated files', (t) => {
  const r = fuzz('resolv.conf (mutated)', textSeeds, 10_000, SEED, (input) => {
    checkConf(parseResolvConf(Buffer.from(input).toString(input.length % 2 === 0 ? 'latin1' : 'utf8')));
  });
  t.log(`${r.cases} cases in ${r.ms.toFixed(0)} ms`);
  t.pass();
});

// ---------------------------------------------------------------------------------------------
// Generated files against a model

const GOOD = ['10.0.0.53', '127.0.0.53', '::1', '2001:db8::53', 'fe80::1%eth0', '192.0.2.1', '::ffff:10.0.0.1'];
const BAD = ['10.0.0', 'not-an-address', '1.2.3.4.5', 'fe80::1%', '::1::2', '256.1.1.1', ''];
const DOMAINS = ['example.com', 'a.example', 'sub.example.com', 'x', 'corp.internal'];

/** One line and what it adds to the model: a nameserver, a search list, or nothing. */
function randomLine(rng: Prng): { text: string; ns?: string; search?: string[] } {
  const sp = (): string => rng.pick([' ', '  ', '\t', ' \t ']);
  const lead = rng.chance(0.2) ? sp() : '';
  const tail = rng.pick(['', ' ', ` ${rng.pick(['#', ';'])} comment here`, '\r', ` ${rng.pick(['#', ';'])} comment\r`]);
  switch (rng.below(5)) {
    case 0: {
      const good = rng.chance(0.7);
      const addr = good ? rng.pick(GOOD) : rng.pick(BAD);
      return good ? { text: `${lead}nameserver${sp()}${addr}${tail}`, ns: addr } : { text: `${lead}nameserver${sp()}${addr}${tail}` };
    }
    case 1: {
      const list = Array.from({ length: rng.between(1, 4) }, () => rng.pick(DOMAINS));
      return { text: `${lead}${rng.pick(['search', 'domain'])}${sp()}${list.join(sp())}${tail}`, search: list };
    }
    case 2: return { text: `${rng.pick(['#', ';'])} nameserver 10.9.9.9` };
    case 3: return { text: `${lead}options${sp()}edns0 trust-ad${tail}` };
    default: return { text: rng.pick(['', '   ', 'nameserver', 'search', 'Nameserver 10.1.1.1']) };
  }
}

test('fuzz: generated resolv.conf files give what the model expects', (t) => {
  const r = fuzz('resolv.conf (model)', textSeeds, 3_000, SEED + 1, (_input, rng) => {
    const lines = Array.from({ length: rng.below(20) }, () => randomLine(rng));
    const want: ResolvConf = { nameservers: [], search: [] };
    for (const l of lines) {
      if (l.ns !== undefined) want.nameservers.push(l.ns);
      if (l.search !== undefined) want.search = l.search;
    }
    const text = lines.map((l) => l.text).join('\n');
    const got = parseResolvConf(text);
    ensure(JSON.stringify(got) === JSON.stringify(want), `${JSON.stringify(got)} instead of ${JSON.stringify(want)}\n${text}`);
    checkConf(got);
  });
  t.log(`${r.cases} cases in ${r.ms.toFixed(0)} ms`);
  t.pass();
});
