/**
 * A protocol actor's write handle on the tap: its own duplicate of the tap fd, adopted from the router.
 * Each write is exactly one Ethernet frame (tap semantics). Frames that cannot be written (no tap yet,
 * EAGAIN) are dropped and counted, never thrown: the guest's TCP/UDP recover from a lost frame.
 * With `-p FILE`, every frame written is also appended to the capture (pcap-writer.ts).
 */
import { native } from '../../native/index.js';
import type { Counters } from '../../runtime/actor.js';
import { sharedPcap } from './pcap-writer.js';

export class TapWriter {
  #fd = -1;

  constructor(private readonly counters: Counters) {}

  adopt(fd: number): void {
    if (this.#fd >= 0) native.close(this.#fd, true);
    this.#fd = fd;
  }

  get ready(): boolean {
    return this.#fd >= 0;
  }

  /** Writes one frame; false (counted) when it could not be written. */
  write(buf: Uint8Array, off: number, len: number): boolean {
    if (this.#fd < 0) {
      this.counters.add('tap-write-no-tap');
      return false;
    }
    if (this.#writeOnce(buf, off, len)) {
      this.counters.add('frames-out');
      sharedPcap()?.write(buf, off, len);
      return true;
    }
    this.counters.add('tap-write-dropped');
    return false;
  }

  /** One write(2); false on EAGAIN or an error (EIO while the guest's link is down, EPIPE once the tap is gone). */
  #writeOnce(buf: Uint8Array, off: number, len: number): boolean {
    try {
      return native.write(this.#fd, buf, off, len) === len;
    } catch {
      return false;
    }
  }

  close(): void {
    if (this.#fd >= 0) native.close(this.#fd, true);
    this.#fd = -1;
  }
}
