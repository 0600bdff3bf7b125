import test from 'ava';
import { ClientGate, type ClientEffects } from './passt-clients.js';

/** Effects that record what the gate asked for; reset() resolves when the test says so. */
function recorder() {
  const log: string[] = [];
  let finishReset: () => void = () => {};
  const fx: ClientEffects = {
    attach: (fd) => void log.push(`attach ${fd}`),
    refuse: (fd, why) => void log.push(`refuse ${fd}: ${why}`),
    detach: () => void log.push('detach'),
    reset: () => {
      log.push('reset');
      return new Promise<void>((resolve) => (finishReset = resolve));
    },
    exit: (code) => void log.push(`exit ${code}`),
  };
  return { log, fx, finishReset: () => finishReset() };
}

test('one client at a time: a second one is refused while the first is served', (t) => {
  const r = recorder();
  const gate = new ClientGate(false, r.fx);
  gate.offer(10);
  gate.offer(11);
  t.deepEqual(r.log, ['attach 10', 'refuse 11: another client is connected']);
  t.is(gate.state, 'connected');
});

test('when the client goes away the actors are reset, then the next client is served', async (t) => {
  const r = recorder();
  const gate = new ClientGate(false, r.fx);
  gate.offer(10);
  const closed = gate.closed();
  t.is(gate.state, 'resetting');
  gate.offer(12); // connects during the reset: waits for it
  gate.offer(13);
  r.finishReset();
  await closed;
  t.deepEqual(r.log, ['attach 10', 'detach', 'reset', 'refuse 13: another client is waiting', 'attach 12']);
  t.is(gate.state, 'connected');
});

test('after a reset with nobody waiting, the gate waits', async (t) => {
  const r = recorder();
  const gate = new ClientGate(false, r.fx);
  gate.offer(10);
  const closed = gate.closed();
  r.finishReset();
  await closed;
  t.is(gate.state, 'waiting');
  gate.offer(14);
  t.deepEqual(r.log.at(-1), 'attach 14');
});

test('one-off: the first client leaving ends passt, nothing is reset', async (t) => {
  const r = recorder();
  const gate = new ClientGate(true, r.fx);
  gate.offer(10);
  await gate.closed();
  gate.offer(11);
  t.deepEqual(r.log, ['attach 10', 'detach', 'exit 0', 'refuse 11: exiting']);
});

test('a close with no client served is ignored; stop refuses a waiting client', async (t) => {
  const r = recorder();
  const gate = new ClientGate(false, r.fx);
  await gate.closed();
  t.deepEqual(r.log, []);
  gate.offer(10);
  const closed = gate.closed();
  gate.offer(11);
  gate.stop();
  r.finishReset();
  await closed;
  t.deepEqual(r.log, ['attach 10', 'detach', 'reset', 'refuse 11: exiting']);
  t.is(gate.state, 'done');
});
