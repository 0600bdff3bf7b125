/**
 * The benchmark's command line (`npm run bench -- [options]`), parsed into BenchOptions. Pure: returns
 * the options, the help text, or an error message; never prints or exits.
 */
import { parseArgs } from 'node:util';
import { GROUPS, IMPL_IDS, type Group, type ImplId } from './catalog.js';

export interface BenchOptions {
  /** where to write the JSON report, or null */
  json: string | null;
  quick: boolean;
  reps: number;
  /** seconds per throughput run (iperf3 -t) */
  duration: number;
  /** seconds per latency run */
  rrSeconds: number;
  /** seconds per connection-rate run */
  crrSeconds: number;
  /** seconds per UDP run */
  udpSeconds: number;
  /** offered UDP rate, Mbit/s, and datagram payload size, bytes */
  udpRate: number;
  udpSize: number;
  impls: ImplId[];
  groups: Group[];
  install: boolean;
  /** profile ours under TCP load instead of benchmarking, profiles written here */
  profile: string | null;
  /** the guest MTU while profiling: 65520 (default) or 1500 */
  profileMtu: 65520 | 1500;
  /** the load while profiling: TCP throughput (iperf3) or new connections */
  profileLoad: 'tcp' | 'crr';
}

export const HELP = `usage: npm run bench -- [options]

Benchmarks this project's pasta against Debian's pasta and slirp4netns on this machine, side by side in
one run (repetitions alternate the implementations), and prints one table of medians, spreads and ratios.
Needs root (it makes private network namespaces). Installs passt, slirp4netns and iperf3 if missing.

  --json PATH        also write the results as JSON to PATH
  --quick            1 repetition and short runs (about 1 s each)
  --reps N           repetitions per implementation (default 3; 1 with --quick)
  --duration S       seconds per throughput run (default 3; 1 with --quick)
  --impl LIST        implementations, comma-separated (default: ${IMPL_IDS.join(',')})
  --only LIST        measure groups, comma-separated (default: all): ${GROUPS.join(',')}
  --udp-rate MBIT    offered UDP rate in Mbit/s (default 1000)
  --udp-size BYTES   UDP payload size (default 1400)
  --no-install       do not install missing tools
  --profile DIR      instead of the benchmark: run ours --actors under TCP load with node --cpu-prof,
                     write the profiles to DIR and print where the time goes
  --profile-mtu N    the guest MTU while profiling: 65520 (default) or 1500
  --profile-load L   the load while profiling: tcp (iperf3, default) or crr (new connections)
  -h, --help         this text
`;

export type ParsedArgs = { kind: 'run'; options: BenchOptions } | { kind: 'help'; text: string } | { kind: 'error'; message: string };

function positiveNumber(name: string, v: string | undefined, fallback: number, integer = false): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) throw new Error(`--${name}: not a positive ${integer ? 'integer' : 'number'}: ${v}`);
  return n;
}

function list<T extends string>(name: string, v: string | undefined, all: readonly T[]): T[] {
  if (v === undefined) return [...all];
  const items = v.split(',').map((s) => s.trim()).filter(Boolean);
  for (const i of items) if (!all.includes(i as T)) throw new Error(`--${name}: unknown ${JSON.stringify(i)} (known: ${all.join(', ')})`);
  if (items.length === 0) throw new Error(`--${name}: empty list`);
  return all.filter((a) => items.includes(a));
}

export function parseBenchArgs(argv: readonly string[]): ParsedArgs {
  try {
    const { values: v, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        json: { type: 'string' }, quick: { type: 'boolean' }, reps: { type: 'string' }, duration: { type: 'string' },
        impl: { type: 'string' }, only: { type: 'string' }, 'udp-rate': { type: 'string' }, 'udp-size': { type: 'string' },
        'no-install': { type: 'boolean' }, profile: { type: 'string' }, 'profile-mtu': { type: 'string' }, 'profile-load': { type: 'string' }, help: { type: 'boolean', short: 'h' },
      },
    });
    if (v.help) return { kind: 'help', text: HELP };
    if (positionals.length) throw new Error(`unexpected argument: ${positionals[0]}`);
    return { kind: 'run', options: toOptions(v) };
  } catch (e) {
    return { kind: 'error', message: (e as Error).message };
  }
}

function profileMtu(v: string | undefined): 65520 | 1500 {
  if (v === undefined || v === '65520') return 65520;
  if (v === '1500') return 1500;
  throw new Error(`--profile-mtu: 65520 or 1500: ${v}`);
}

function profileLoad(v: string | undefined): 'tcp' | 'crr' {
  if (v === undefined || v === 'tcp' || v === 'crr') return v ?? 'tcp';
  throw new Error(`--profile-load: tcp or crr: ${v}`);
}

function toOptions(v: Record<string, string | boolean | undefined>): BenchOptions {
  const str = (k: string) => (typeof v[k] === 'string' ? (v[k] as string) : undefined);
  const quick = v.quick === true;
  const udpSize = positiveNumber('udp-size', str('udp-size'), 1400, true);
  if (udpSize > 65000) throw new Error(`--udp-size: at most 65000: ${udpSize}`);
  return {
    json: str('json') ?? null,
    quick,
    reps: positiveNumber('reps', str('reps'), quick ? 1 : 3, true),
    duration: positiveNumber('duration', str('duration'), quick ? 1 : 3),
    rrSeconds: quick ? 0.3 : 1,
    crrSeconds: quick ? 0.5 : 2,
    udpSeconds: quick ? 0.5 : 2,
    udpRate: positiveNumber('udp-rate', str('udp-rate'), 1000),
    udpSize,
    impls: list('impl', str('impl'), IMPL_IDS),
    groups: list('only', str('only'), GROUPS),
    install: v['no-install'] !== true,
    profile: str('profile') ?? null,
    profileMtu: profileMtu(str('profile-mtu')),
    profileLoad: profileLoad(str('profile-load')),
  };
}
