/**
 * iperf3's JSON output (`iperf3 -c ... -J`), reduced to what the benchmark reports. Pure.
 */

export interface IperfResult {
  /** what the receiver got */
  bitsPerSecond: number;
  bytes: number;
  /** TCP retransmissions seen by the sender, if reported */
  retransmits: number | null;
}

interface IperfJson {
  error?: string;
  end?: {
    sum_received?: { bytes?: number; bits_per_second?: number };
    sum_sent?: { retransmits?: number };
  };
}

/** The result, or an Error with iperf3's own message (it reports failures in the JSON too). */
export function parseIperfJson(text: string): IperfResult {
  let j: IperfJson;
  try {
    j = JSON.parse(text) as IperfJson;
  } catch {
    throw new Error(`iperf3: no JSON result: ${text.trim().slice(0, 200) || '(no output)'}`);
  }
  if (j.error) throw new Error(`iperf3: ${j.error}`);
  const r = j.end?.sum_received;
  if (typeof r?.bytes !== 'number' || typeof r.bits_per_second !== 'number') throw new Error('iperf3: no receiver summary in the JSON');
  if (r.bytes === 0) throw new Error('iperf3: nothing received');
  const rt = j.end?.sum_sent?.retransmits;
  return { bitsPerSecond: r.bits_per_second, bytes: r.bytes, retransmits: typeof rt === 'number' ? rt : null };
}
