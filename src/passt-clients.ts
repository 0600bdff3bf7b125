/**
 * passt's clients, one at a time: which connection is served, what happens to the others, and what
 * follows when the served one goes away. The decisions only; passt.ts gives the effects (the router's
 * kept fd, closing, resetting the actors, exiting), so this is tested without sockets.
 *
 * States: waiting (no client) → connected → (client gone) resetting → waiting; with --one-off (or -F)
 * the first client's departure ends passt instead. A connection made while a client is served is
 * refused (accepted, logged, closed: qemu sees the socket close at once). A connection made while the
 * actors are being reset is the next client: it waits (in our hands, not in the backlog) until the
 * reset is over, so its first frames never meet half-started actors; any further one is refused.
 */

export interface ClientEffects {
  /** Serve this socket: it becomes the guest's link. */
  attach(fd: number): void;
  /** Close a connection we do not serve, saying why. */
  refuse(fd: number, why: string): void;
  /** The served client is gone: stop watching its socket and close it. */
  detach(): void;
  /** Forget every flow of the previous guest (restart the protocol actors). */
  reset(): Promise<void>;
  /** End passt with this status. */
  exit(code: number): void;
}

export type ClientState = 'waiting' | 'connected' | 'resetting' | 'done';

export class ClientGate {
  #state: ClientState = 'waiting';
  #next: number | null = null;

  constructor(
    private readonly oneOff: boolean,
    private readonly fx: ClientEffects,
  ) {}

  get state(): ClientState {
    return this.#state;
  }

  /** A new connection (accepted from the listening socket, or the -F socket). */
  offer(fd: number): void {
    switch (this.#state) {
      case 'waiting':
        this.#state = 'connected';
        return this.fx.attach(fd);
      case 'connected':
        return this.fx.refuse(fd, 'another client is connected');
      case 'resetting':
        if (this.#next === null) this.#next = fd;
        else this.fx.refuse(fd, 'another client is waiting');
        return;
      case 'done':
        return this.fx.refuse(fd, 'exiting');
    }
  }

  /** The served client went away (EOF, protocol error, write error). */
  async closed(): Promise<void> {
    if (this.#state !== 'connected') return;
    this.fx.detach();
    if (this.oneOff) {
      this.#state = 'done';
      return this.fx.exit(0);
    }
    this.#state = 'resetting';
    await this.fx.reset();
    if (this.#state !== 'resetting') return; // stopped meanwhile
    this.#state = 'waiting';
    const next = this.#next;
    this.#next = null;
    if (next !== null) this.offer(next);
  }

  /** passt is stopping: a waiting connection is closed, nothing more is served. */
  stop(): void {
    this.#state = 'done';
    if (this.#next !== null) this.fx.refuse(this.#next, 'exiting');
    this.#next = null;
  }
}
