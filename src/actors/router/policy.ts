/**
 * Restart policy as data, and the restart decision as a pure function (after OTP's supervisors).
 *
 * - restart type: `permanent` actors are always restarted, `transient` ones only after an abnormal
 *   exit, `temporary` ones never.
 * - intensity/period: more than `intensity` restarts within `periodMs` means the fault is not transient;
 *   the supervisor gives up (and pasta exits with an error) instead of restarting in a loop.
 * - an actor that dies before it reported ready failed to start: it is not restarted (a start-up bug
 *   would otherwise loop), the supervisor gives up.
 * - shutdownMs: how long an actor gets to stop cleanly before it is killed.
 */

export type RestartType = 'permanent' | 'transient' | 'temporary';

export interface RestartPolicy {
  restart: RestartType;
  intensity: number;
  periodMs: number;
  shutdownMs: number;
}

export const DEFAULT_POLICY: RestartPolicy = {
  restart: 'permanent',
  intensity: 5,
  periodMs: 10_000,
  shutdownMs: 2_000,
};

export type ExitKind = 'normal' | 'crash';

export interface ExitEvent {
  kind: ExitKind;
  /** did the actor report ready before it died? */
  wasReady: boolean;
  /** when it died (ms, any monotonic clock) */
  at: number;
}

export type RestartDecision =
  | { action: 'restart'; history: readonly number[] }
  | { action: 'leave-down'; history: readonly number[]; reason: string }
  | { action: 'give-up'; history: readonly number[]; reason: string };

/** Restarts within the period that ends at `now`, oldest first. */
function recentRestarts(history: readonly number[], now: number, periodMs: number): number[] {
  return history.filter((t) => now - t < periodMs);
}

/**
 * Decides what to do when an actor exits. `history` holds the times of earlier restarts; the returned
 * history is the one to keep (old entries dropped, this restart added).
 */
export function decideRestart(policy: RestartPolicy, history: readonly number[], exit: ExitEvent): RestartDecision {
  const recent = recentRestarts(history, exit.at, policy.periodMs);
  if (!exit.wasReady) return { action: 'give-up', history: recent, reason: 'died during start-up' };
  if (policy.restart === 'temporary') return { action: 'leave-down', history: recent, reason: 'temporary actor' };
  if (policy.restart === 'transient' && exit.kind === 'normal') {
    return { action: 'leave-down', history: recent, reason: 'transient actor exited normally' };
  }
  if (recent.length >= policy.intensity) {
    return {
      action: 'give-up',
      history: recent,
      reason: `more than ${policy.intensity} restarts within ${policy.periodMs} ms`,
    };
  }
  return { action: 'restart', history: [...recent, exit.at] };
}
