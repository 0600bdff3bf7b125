/**
 * Preloaded into every Node process of ours by `--profile` (NODE_OPTIONS=--import=<this file>, because
 * `--cpu-prof` itself is not allowed in NODE_OPTIONS): runs the V8 CPU profiler in every thread and writes
 * `CPU.bench.0.PID.THREAD.SEQ.cpuprofile` files into $BENCH_CPU_PROF_DIR. An in-process inspector session
 * answers synchronously, so a profile is complete when post() returns.
 * - main threads: one profile, written at 'exit';
 * - worker threads (where the actors run): terminate() gives them no 'exit' event, so the profile is
 *   written in chunks, every CHUNK_MS (stop, write, start again); the reader adds the chunks up.
 * A process killed by a signal it does not handle loses its last chunk.
 */
import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMainThread, threadId } from 'node:worker_threads';

const CHUNK_MS = 500;
const dir = process.env.BENCH_CPU_PROF_DIR;

if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.start');
  let seq = 0;
  const flush = (restart: boolean) =>
    session.post('Profiler.stop', (err, r) => {
      if (!err) writeFileSync(join(dir, `CPU.bench.0.${process.pid}.${threadId}.${seq++}.cpuprofile`), JSON.stringify(r.profile));
      if (restart) session.post('Profiler.start');
    });
  if (!isMainThread) setInterval(() => flush(true), CHUNK_MS).unref();
  process.on('exit', () => flush(false));
}
