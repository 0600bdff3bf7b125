/**
 * A real Linux guest under qemu (TCG) for the passt VM test: the kernel and base initramfs built by
 * scripts/passt-vm-setup.sh (cached outside the work tree), the test's own /test.sh appended as a
 * second, gzipped cpio archive (the kernel unpacks concatenated archives), the guest's serial console
 * read line by line. The guest has no network but the `-netdev stream` to passt (`-nodefaults`: no
 * default NIC, so no qemu user networking).
 */
import type { ExecutionContext } from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ROOT, run } from './helpers.js';
import { consoleOf, type GuestConsole } from './passt-guest.js';

export const VM_DIR = process.env.PASST_VM_DIR ?? '/var/cache/passt-actors/vm';
export const QEMU = '/usr/bin/qemu-system-x86_64';

/** Makes sure qemu and the VM files are there (builds the files if needed); throws what is missing. */
export function prepareVm(): void {
  if (!existsSync(QEMU)) throw new Error(`${QEMU} is missing: install qemu-system-x86 (scripts/install-test-deps.sh)`);
  if (existsSync(join(VM_DIR, 'vmlinuz')) && existsSync(join(VM_DIR, 'initramfs.cpio.gz'))) return;
  const r = run('bash', [join(ROOT, 'scripts/passt-vm-setup.sh')], 280_000);
  if (r.status !== 0) throw new Error(`scripts/passt-vm-setup.sh failed:\n${r.stderr}`);
}

/** A newc cpio archive of regular files (mode 0755), as the kernel's initramfs unpacker reads it. */
export function cpioNewc(files: Record<string, string>): Buffer {
  const parts: Buffer[] = [];
  const pad = (n: number) => Buffer.alloc((4 - (n % 4)) % 4);
  let ino = 1;
  const entry = (name: string, data: Buffer, mode: number) => {
    const fields = [ino++, mode, 0, 0, 1, 0, data.length, 0, 0, 0, 0, name.length + 1, 0];
    const header = Buffer.from(`070701${fields.map((f) => f.toString(16).padStart(8, '0')).join('')}${name}\0`, 'latin1');
    parts.push(header, pad(header.length), data, pad(data.length));
  };
  for (const [name, text] of Object.entries(files)) entry(name, Buffer.from(text), 0o100755);
  entry('TRAILER!!!', Buffer.alloc(0), 0);
  return Buffer.concat(parts);
}

/** The base initramfs with `files` appended (gzipped) in one initrd file under `dir`. */
export function initrdWith(dir: string, files: Record<string, string>): string {
  const base = readFileSync(join(VM_DIR, 'initramfs.cpio.gz'));
  const path = join(dir, 'initrd.img');
  writeFileSync(path, Buffer.concat([base, gzipSync(cpioNewc(files))]));
  return path;
}

export interface Vm extends GuestConsole {
  child: ChildProcess;
  /** the console so far */
  console: () => string;
}

/** Boots the guest on passt's socket; killed at teardown if it is still running. */
export function bootVm(t: ExecutionContext, initrd: string, socket: string, mac: string): Vm {
  const args = [
    '-accel', 'tcg', '-m', '256', '-smp', '1', '-nodefaults', '-no-reboot', '-display', 'none', '-monitor', 'none',
    '-serial', 'stdio', '-kernel', join(VM_DIR, 'vmlinuz'), '-initrd', initrd,
    '-append', 'console=ttyS0 panic=-1 quiet loglevel=3',
    '-device', `virtio-net-pci,netdev=s,mac=${mac}`,
    '-netdev', `stream,id=s,server=off,addr.type=unix,addr.path=${socket}`,
  ];
  const child = spawn(QEMU, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.teardown(() => void (child.exitCode === null && child.signalCode === null && child.kill('SIGKILL')));
  return { child, console: () => out, ...consoleOf(() => out, () => child.exitCode !== null, exited) };
}
