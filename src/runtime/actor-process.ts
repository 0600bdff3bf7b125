/**
 * Entry point of an actor process (`--actors`): `node actor-process.js NAME`, with the socket to the
 * router as fd 3. The process hosts the actor's piscina pool (one worker), so a crash of this actor,
 * even SIGKILL or a native fault, ends only this process. It dies with the router (PDEATHSIG) and
 * exits when the actor stops: 0 after a clean stop, 70 when the actor crashed.
 */
import { Piscina } from 'piscina';
import { native } from '../native/index.js';
import { isActorName } from './actor.js';
import type { ActorTask } from './actor-host.js';

const ROUTER_FD = 3;
const SIGKILL = 9;

async function main(): Promise<void> {
  const name = process.argv[2] ?? '';
  if (!isActorName(name)) throw new Error(`unknown actor '${name}'`);
  native.setParentDeathSignal(SIGKILL);
  process.title = `passt-actors:${name}`;
  const pool = new Piscina({
    filename: new URL('./actor-host.js', import.meta.url).href,
    minThreads: 1,
    maxThreads: 1,
    idleTimeout: Number.POSITIVE_INFINITY,
  });
  const task: ActorTask = { name, mode: 'socket', fd: ROUTER_FD };
  await pool.run(task);
  await pool.destroy();
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`actor ${process.argv[2] ?? '?'} crashed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(70);
  },
);
