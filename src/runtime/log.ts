/**
 * Logging, shared by the router and every actor (thread or process).
 *
 * Lines go to stderr and/or a log file opened in append mode by each process, so whole lines from
 * several processes never interleave mid-line. Levels follow pasta: error, warn, info (hidden by -q),
 * debug (-d), trace (--trace). Per-actor message traces are JSON lines (`--trace-actors`).
 */
import { closeSync, openSync, writeSync } from 'node:fs';

export const LogLevel = { error: 0, warn: 1, info: 2, debug: 3, trace: 4 } as const;
export type LogLevelName = keyof typeof LogLevel;

export interface LogConfig {
  level: LogLevelName;
  /** write to stderr */
  stderr: boolean;
  /** append to this file */
  file?: string;
  /** program name printed before messages on stderr */
  prog: string;
}

export interface Logger {
  error(msg: string): void;
  warn(msg: string): void;
  info(msg: string): void;
  debug(msg: string): void;
  trace(msg: string): void;
  enabled(level: LogLevelName): boolean;
  /** Writes one JSON line (message traces), whatever the level. */
  json(obj: Record<string, unknown>): void;
  /** A logger whose messages carry a prefix such as the actor's name. */
  child(prefix: string): Logger;
  close(): void;
}

class Sinks {
  #fileFd = -1;
  constructor(readonly cfg: LogConfig) {
    if (cfg.file !== undefined) this.#fileFd = openSync(cfg.file, 'a');
  }
  write(line: string, toStderr: boolean): void {
    if (toStderr && this.cfg.stderr) writeAll(2, line);
    if (this.#fileFd >= 0) writeAll(this.#fileFd, line);
  }
  close(): void {
    if (this.#fileFd >= 0) closeSync(this.#fileFd);
    this.#fileFd = -1;
  }
}

function writeAll(fd: number, line: string): void {
  try {
    writeSync(fd, line);
  } catch {
    // a closed stderr must not take the program down
  }
}

class SinkLogger implements Logger {
  constructor(
    private readonly sinks: Sinks,
    private readonly prefix: string,
  ) {}

  enabled(level: LogLevelName): boolean {
    return LogLevel[level] <= LogLevel[this.sinks.cfg.level];
  }

  #line(level: LogLevelName, msg: string): void {
    if (!this.enabled(level)) return;
    const tag = this.prefix ? `${this.prefix}: ` : '';
    this.sinks.write(`${this.sinks.cfg.prog}: ${tag}${msg}\n`, true);
  }

  error(msg: string): void { this.#line('error', msg); }
  warn(msg: string): void { this.#line('warn', msg); }
  info(msg: string): void { this.#line('info', msg); }
  debug(msg: string): void { this.#line('debug', msg); }
  trace(msg: string): void { this.#line('trace', msg); }

  json(obj: Record<string, unknown>): void {
    this.sinks.write(JSON.stringify(obj) + '\n', true);
  }

  child(prefix: string): Logger {
    return new SinkLogger(this.sinks, this.prefix ? `${this.prefix}/${prefix}` : prefix);
  }

  close(): void {
    this.sinks.close();
  }
}

export function createLogger(cfg: LogConfig): Logger {
  return new SinkLogger(new Sinks(cfg), '');
}
