/**
 * Test fixture (native.test.ts): a worker thread that watches its own epoll fd with pollStart and
 * reports to the parent. workerData.mode:
 * - "stop": one wake-up, then pollStop and close, so the thread ends by itself;
 * - "exit-live": process.exit(7) from the callback while the watcher is live;
 * - "terminate-live": report, then wait with the watcher live until the parent terminates it;
 * - "throw": the callback throws (the parent expects an 'error' event).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ErrnoError, constants as C, native } from '../index.js';

const mode = (workerData as { mode: string }).mode;
/** True if a failing syscall in this thread throws this thread's ErrnoError class. */
function errnoClassWorks(): boolean {
  try {
    native.close(-5);
  } catch (e) {
    return e instanceof ErrnoError && e.code === 'EBADF';
  }
  return false;
}
const ep = native.epollCreate();
const ev = native.eventfd();
native.epollCtl(ep, C.EPOLL_CTL_ADD, ev, C.EPOLLIN, 0xfeedbeef, 0x12345678);
const out = new Uint32Array(3 * 4);

const id = native.pollStart(ep, (events) => {
  const n = native.epollWait(ep, out, 4, 0);
  native.eventfdRead(ev);
  if (mode === 'throw') throw new Error('boom-in-worker');
  parentPort?.postMessage({ events, n, hi: out[0], lo: out[1], tid: native.gettid(), pid: native.getpid(), errOk: errnoClassWorks() });
  if (mode === 'exit-live') process.exit(7);
  if (mode !== 'stop') return;
  native.pollStop(id);
  native.close(ev);
  native.close(ep);
});
native.eventfdWrite(ev, 1);
