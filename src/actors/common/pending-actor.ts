/**
 * The shape of a protocol actor whose protocol is not translated yet (the issue that builds it has not
 * landed). It runs, is supervised and restarted like any actor, adopts its tap writer, and counts and
 * traces every frame it is handed as dropped with the reason `not-implemented` — so nothing is silently
 * ignored and the counters show what the guest tried. Replaced by the real actor when it lands.
 */
import { native } from '../../native/index.js';
import type { Actor, ActorEnv, Sender } from '../../runtime/actor.js';
import type { Msg } from '../../runtime/channel.js';
import { TapWriter } from './tap-writer.js';

export function createPendingActor(env: ActorEnv, what: string): Actor {
  const writer = new TapWriter(env.counters);
  let warned = false;
  return {
    onReady: () => {},
    onMessage(from: Sender, msg: Msg, fds: number[]): void {
      if (msg.t === 'adopt-tap-writer' && fds[0] !== undefined) return writer.adopt(fds[0]);
      for (const fd of fds) native.close(fd, true);
      if (msg.t !== 'frames') return;
      const n = (msg.lens as number[]).length;
      env.counters.add('frames-in', n);
      env.counters.add('drop:not-implemented', n);
      if (!warned) env.log.info(`${what} is not implemented yet: dropping frames (counted)`);
      warned = true;
      if (env.log.enabled('trace')) env.log.trace(`dropped ${n} frames from ${from}: not implemented`);
    },
    stop: () => writer.close(),
  };
}
