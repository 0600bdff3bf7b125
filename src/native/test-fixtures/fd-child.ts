/**
 * Test fixture (native.test.ts): a child process that creates a pipe, writes a line into it, and sends
 * the read end back to its parent with SCM_RIGHTS over the socket on fd 3, then exits.
 */
import { native } from '../index.js';

const SOCK_FD = 3;
const [rd, wr] = native.pipe(0);
const text = new TextEncoder().encode(`hello from child ${process.pid}`);
native.write(wr, text, 0, text.length);
native.close(wr);
const tag = new TextEncoder().encode('P');
native.sendFds(SOCK_FD, tag, 0, tag.length, [rd]);
native.close(rd);
