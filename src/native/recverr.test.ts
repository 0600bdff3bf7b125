/**
 * recvErr (recvmsg MSG_ERRQUEUE) against the real kernel: ICMP and ICMPv6 port unreachable on
 * loopback, a truncated payload, and the empty queue.
 */
import test, { type ExecutionContext } from 'ava';
import { constants as C, native } from './index.js';

const ORIGIN_ICMP = 2;
const ORIGIN_ICMP6 = 3;
const ECONNREFUSED = 111;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function udpSocket(t: ExecutionContext, family: 4 | 6): number {
  const fd = native.socket(family === 4 ? C.AF_INET : C.AF_INET6, C.SOCK_DGRAM, 0);
  t.teardown(() => native.close(fd, true));
  if (family === 4) native.setsockoptInt(fd, C.IPPROTO_IP, C.IP_RECVERR, 1);
  else native.setsockoptInt(fd, C.IPPROTO_IPV6, C.IPV6_RECVERR, 1);
  return fd;
}

/** A loopback port nobody listens on (bound and closed again). */
function closedPort(family: 4 | 6, addr: string): number {
  const fd = native.socket(family === 4 ? C.AF_INET : C.AF_INET6, C.SOCK_DGRAM, 0);
  native.bindInet(fd, addr, 0);
  const port = native.sockName(fd).port;
  native.close(fd);
  return port;
}

async function waitErr(fd: number, buf: Uint8Array): Promise<ReturnType<typeof native.recvErr>> {
  for (let i = 0; i < 100; i++) {
    const e = native.recvErr(fd, buf, 0, buf.length);
    if (e) return e;
    await sleep(10);
  }
  return null;
}

for (const [family, addr, origin, type, code] of [
  [4, '127.0.0.1', ORIGIN_ICMP, 3, 3],
  [6, '::1', ORIGIN_ICMP6, 1, 4],
] as const) {
  test(`recvErr: port unreachable on ${addr} comes with the quoted payload`, async (t) => {
    const fd = udpSocket(t, family);
    const port = closedPort(family, addr);
    t.is(native.connectInet(fd, addr, port), 0);
    const payload = new TextEncoder().encode('hello, nobody');
    t.is(native.send(fd, payload, 0, payload.length, 0), payload.length);
    const buf = new Uint8Array(2048).fill(0xa5);
    const e = await waitErr(fd, buf);
    t.truthy(e);
    t.like(e!, { errno: ECONNREFUSED, origin, type, code, offender: addr, dest: addr, destPort: port, truncated: false });
    t.is(e!.bytes, payload.length);
    t.deepEqual(buf.subarray(0, e!.bytes), payload);
    t.is(native.recvErr(fd, buf, 0, buf.length), null, 'queue drained');
  });
}

test('recvErr: an empty queue gives null; a small buffer reports truncation', async (t) => {
  const fd = udpSocket(t, 4);
  const buf = new Uint8Array(4);
  t.is(native.recvErr(fd, buf, 0, 4), null);
  native.connectInet(fd, '127.0.0.1', closedPort(4, '127.0.0.1'));
  native.send(fd, new Uint8Array(10), 0, 10, 0);
  const e = await waitErr(fd, buf);
  t.like(e!, { bytes: 4, truncated: true });
  t.throws(() => native.recvErr(fd, buf, 2, 4), { instanceOf: RangeError });
});
