/**
 * The part of the configuration an actor receives at start: plain data, so it crosses threads and
 * processes as it is.
 */
import type { LogConfig } from './log.js';
import type { Config } from '../config/config.js';
import type { HostNetwork } from '../ns/hostnet.js';

/** The guest's link and addresses, as resolved from the options and the host (what --config-net set). */
export interface GuestNetwork {
  /** MTU of the guest's link */
  mtu: number;
  /** the MAC address we use towards the guest (the "gateway's" MAC) */
  ourMac: string;
  addr4?: string;
  prefix4?: number;
  gw4?: string;
  addr6?: string;
  gw6?: string;
}

export interface ActorConfig {
  mode: 'pasta' | 'passt';
  log: LogConfig;
  /** log every message to and from this actor as JSON lines */
  trace: boolean;
  net: GuestNetwork;
  /** the whole command-line configuration (plain data) */
  cli: Config;
  /** the host's network as discovered at start (default-route interfaces, addresses, gateways) */
  host: HostNetwork;
}
