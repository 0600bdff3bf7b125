/**
 * The capture file of `-p FILE`, shared by every actor that writes to or reads from the tap.
 *
 * Several actors (threads or processes) write frames to the guest on their own tap duplicates, so each
 * one captures what it writes itself. To keep records whole whoever writes them, every record (16-byte
 * header + frame) is ONE write(2) on a file descriptor opened with O_APPEND: the kernel appends each
 * write as a unit, so records from different writers never interleave. pasta writes the global header
 * once, truncating the file, before any actor starts (`pcapGlobalHeader`).
 *
 * Each actor host calls `configurePcap(path)` at start (null: no capture); `sharedPcap()` then gives the
 * writer of this thread or process, which TapWriter and the tap actor use. Write errors (a full disk)
 * are counted by the caller, never thrown.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { PCAP_RECORD_HEADER_LEN, PCAP_SNAPLEN, writePcapRecordHeader } from '../../protocol/pcap.js';

export class PcapWriter {
  readonly #fd: number;
  readonly #rec = new Uint8Array(PCAP_RECORD_HEADER_LEN + PCAP_SNAPLEN);
  readonly #dv = new DataView(this.#rec.buffer);

  private constructor(fd: number) {
    this.#fd = fd;
  }

  /** Opens `path` for appending records (the global header is already there). Syscalls: open. */
  static open(path: string): PcapWriter {
    return new PcapWriter(openSync(path, 'a'));
  }

  /** Appends one record for the frame buf[off, off+len), stamped now; false if the write failed. Syscalls: write. */
  write(buf: Uint8Array, off: number, len: number): boolean {
    const capLen = writePcapRecordHeader(this.#dv, 0, nowMicros(), len);
    this.#rec.set(buf.subarray(off, off + capLen), PCAP_RECORD_HEADER_LEN);
    try {
      return writeSync(this.#fd, this.#rec, 0, PCAP_RECORD_HEADER_LEN + capLen) === PCAP_RECORD_HEADER_LEN + capLen;
    } catch {
      return false;
    }
  }

  close(): void {
    closeSync(this.#fd);
  }
}

/** Wall-clock time in microseconds, finer than Date.now(). */
function nowMicros(): number {
  return (performance.timeOrigin + performance.now()) * 1000;
}

let shared: PcapWriter | null = null;
let sharedPath: string | null = null;

/** Sets the capture file of this thread or process (null: none); opened once per path. */
export function configurePcap(path: string | null): void {
  if (path === sharedPath) return;
  shared?.close();
  shared = path === null ? null : PcapWriter.open(path);
  sharedPath = path;
}

/** This thread's or process's capture writer, or null without `-p`. */
export function sharedPcap(): PcapWriter | null {
  return shared;
}

