/**
 * What the benchmark needs on the machine: root, the anchors and iperf3 (installed with apt-get when
 * missing), unprivileged ping sockets, and the compiled project. Also a description of the machine and
 * the versions measured, for the report.
 */
import { existsSync, readFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { join } from 'node:path';
import { DEBIAN_PASTA, OUR_PASTA, ROOT, SLIRP4NETNS } from './impls.js';
import { run } from './procs.js';
import { PEER } from './session.js';

const TOOLS: { path: string; pkg: string }[] = [
  { path: DEBIAN_PASTA, pkg: 'passt' },
  { path: SLIRP4NETNS, pkg: 'slirp4netns' },
  { path: '/usr/bin/iperf3', pkg: 'iperf3' },
];

/** Installs the missing tools; throws if they are still missing. */
export async function ensureTools(install: boolean, log: (s: string) => void): Promise<void> {
  const missing = () => TOOLS.filter((t) => !existsSync(t.path));
  if (missing().length && install) {
    const pkgs = missing().map((t) => t.pkg);
    log(`installing ${pkgs.join(' ')} (apt-get)`);
    const env = ['env', 'DEBIAN_FRONTEND=noninteractive'];
    let r = await run([...env, 'apt-get', 'install', '-y', '--no-install-recommends', ...pkgs], 600_000);
    if (r.code !== 0) {
      await run([...env, 'apt-get', 'update'], 300_000);
      r = await run([...env, 'apt-get', 'install', '-y', '--no-install-recommends', ...pkgs], 600_000);
    }
  }
  if (missing().length) throw new Error(`missing: ${missing().map((t) => `${t.path} (package ${t.pkg})`).join(', ')}`);
  await run(['sysctl', '-qw', 'net.ipv4.ping_group_range=0 2147483647'], 10_000);
}

export function checkPrerequisites(): string | null {
  if (process.getuid?.() !== 0) return 'bench: needs root (it makes network namespaces); run it as root';
  if (!existsSync(PEER)) return `bench: ${PEER} is missing: build first (npx tsc -p tsconfig.json)`;
  if (!existsSync(join(ROOT, 'dist/src/main.js'))) return 'bench: dist/src/main.js is missing: build first (npx tsc -p tsconfig.json)';
  return null;
}

async function firstLine(argv: string[]): Promise<string> {
  const r = await run(argv, 10_000);
  return (r.stdout.trim() || r.stderr.trim()).split('\n')[0] ?? '';
}

function ourVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version?: string }).version ?? '?';
  } catch {
    return '?';
  }
}

export async function describeMachine(): Promise<Record<string, string | number>> {
  const commit = (await run(['git', '-C', ROOT, 'rev-parse', '--short', 'HEAD'], 10_000)).stdout.trim();
  const dirty = (await run(['git', '-C', ROOT, 'status', '--porcelain', '--untracked-files=no'], 10_000)).stdout.trim() ? '+dirty' : '';
  return {
    kernel: release(),
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? '?',
    node: process.version,
    ours: `${ourVersion()} ${commit}${dirty} (${OUR_PASTA})`,
    pasta: `Debian passt ${await firstLine(['dpkg-query', '-W', '-f', '${Version}', 'passt'])}`,
    slirp4netns: await firstLine([SLIRP4NETNS, '--version']),
    iperf3: await firstLine(['iperf3', '--version']),
  };
}
