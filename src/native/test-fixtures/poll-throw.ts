/**
 * Test fixture (native.test.ts): a pollStart callback that throws. With argv[2] === "handled" an
 * uncaughtException handler reports it and exits 0; otherwise Node's default handling must apply
 * (message on stderr, exit code 1), not an abort.
 */
import { native } from '../index.js';

if (process.argv[2] === 'handled') {
  process.on('uncaughtException', (e) => {
    console.log(`caught ${e.message}`);
    process.exit(0);
  });
}
const ev = native.eventfd();
native.pollStart(ev, () => {
  throw new Error('boom-from-poll');
});
native.eventfdWrite(ev, 1);
setTimeout(() => process.exit(3), 5000);
