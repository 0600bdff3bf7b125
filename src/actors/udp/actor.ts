/**
 * The udp actor. Theory of operation: see ARCHITECTURE.md. Until UDP translation lands, this actor is a
 * supervised placeholder that counts every frame it is handed as dropped (`drop:not-implemented`).
 */
import type { Actor, ActorEnv } from '../../runtime/actor.js';
import { createPendingActor } from '../common/pending-actor.js';

export function createActor(env: ActorEnv): Actor {
  return createPendingActor(env, 'UDP translation');
}
