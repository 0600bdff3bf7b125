/**
 * What the benchmark compares (implementations) and what it measures (measures), as data.
 * The numbers in the measure ids follow the list: 1 TCP out, 2 TCP in (port forwarding),
 * 3 UDP out, 4 request/response latency, 5 connection rate, 6 CPU and memory, 7 start-up.
 */

export type ImplId = 'ours' | 'ours-actors' | 'pasta' | 'slirp4netns';

export interface ImplDef {
  id: ImplId;
  label: string;
}

export const IMPLS: readonly ImplDef[] = [
  { id: 'ours', label: 'ours' },
  { id: 'ours-actors', label: 'ours --actors' },
  { id: 'pasta', label: 'pasta' },
  { id: 'slirp4netns', label: 'slirp4netns' },
];

export const IMPL_IDS: readonly ImplId[] = IMPLS.map((i) => i.id);

/** Groups of measures, selectable with --only. */
export type Group = 'tcp-out' | 'tcp-1500' | 'tcp-in' | 'udp' | 'rr' | 'crr' | 'ready' | 'recovery';
export const GROUPS: readonly Group[] = ['tcp-out', 'tcp-1500', 'tcp-in', 'udp', 'rr', 'crr', 'ready', 'recovery'];

export type Unit = 'Gbit/s' | 'Mbit/s' | '%' | 'µs' | 'conn/s' | 'CPU s/GB' | 'MiB' | 'ms';

export interface MeasureDef {
  id: string;
  label: string;
  unit: Unit;
  better: 'higher' | 'lower';
  group: Group;
  /** only these implementations can have it (others show "—", not "n/a") */
  only?: readonly ImplId[];
  /**
   * The goal as bounds on ours/anchor (medians): for a higher-is-better measure the ratio must be
   * at least `pasta` and above `slirp4netns`; for a lower-is-better one at most `pasta`, below `slirp4netns`.
   */
  goal?: { pasta: number; slirp4netns?: number };
}

/** ahead of every peer: at least pasta's figure, better than slirp4netns's */
const AHEAD = { pasta: 1, slirp4netns: 1 };

function m(id: string, label: string, unit: Unit, better: 'higher' | 'lower', group: Group, goal?: MeasureDef['goal']): MeasureDef {
  return goal ? { id, label, unit, better, group, goal } : { id, label, unit, better, group };
}

export const MEASURES: readonly MeasureDef[] = [
  m('tcp-out-65520', '1 TCP ns→host, MTU 65520', 'Gbit/s', 'higher', 'tcp-out', AHEAD),
  m('tcp-out-1500', '1 TCP ns→host, MTU 1500', 'Gbit/s', 'higher', 'tcp-1500', AHEAD),
  m('tcp-in-lo', '2 TCP host→ns, -t to 127.0.0.1', 'Gbit/s', 'higher', 'tcp-in', AHEAD),
  m('tcp-in-addr', '2 TCP host→ns, -t to host address', 'Gbit/s', 'higher', 'tcp-in', AHEAD),
  m('udp-out', '3 UDP ns→host, received', 'Mbit/s', 'higher', 'udp', AHEAD),
  m('udp-out-loss', '3 UDP ns→host, loss', '%', 'lower', 'udp'),
  m('rr-out-p50', '4 TCP RR ns→host, median', 'µs', 'lower', 'rr', AHEAD),
  m('rr-out-p99', '4 TCP RR ns→host, p99', 'µs', 'lower', 'rr', AHEAD),
  m('rr-in-lo-p50', '4 TCP RR host→ns 127.0.0.1, median', 'µs', 'lower', 'rr', AHEAD),
  m('rr-in-lo-p99', '4 TCP RR host→ns 127.0.0.1, p99', 'µs', 'lower', 'rr', AHEAD),
  m('rr-in-addr-p50', '4 TCP RR host→ns host addr, median', 'µs', 'lower', 'rr', AHEAD),
  m('rr-in-addr-p99', '4 TCP RR host→ns host addr, p99', 'µs', 'lower', 'rr', AHEAD),
  m('crr-out', '5 new TCP connections ns→host', 'conn/s', 'higher', 'crr', AHEAD),
  m('cpu-tcp-out-65520', '6 CPU per GB, TCP ns→host 65520', 'CPU s/GB', 'lower', 'tcp-out', { pasta: 2 }),
  m('cpu-tcp-out-1500', '6 CPU per GB, TCP ns→host 1500', 'CPU s/GB', 'lower', 'tcp-1500', { pasta: 2 }),
  m('cpu-tcp-in-lo', '6 CPU per GB, TCP host→ns 127.0.0.1', 'CPU s/GB', 'lower', 'tcp-in', { pasta: 2 }),
  m('cpu-tcp-in-addr', '6 CPU per GB, TCP host→ns host addr', 'CPU s/GB', 'lower', 'tcp-in', { pasta: 2 }),
  m('rss-peak', '6 peak RSS, all processes summed', 'MiB', 'lower', 'ready', { pasta: 4 }),
  m('ready-config', '7 start → interface configured', 'ms', 'lower', 'ready'),
  m('ready-connect', '7 start → first TCP connection', 'ms', 'lower', 'ready'),
];

export function implLabel(id: ImplId): string {
  return IMPLS.find((i) => i.id === id)?.label ?? id;
}
