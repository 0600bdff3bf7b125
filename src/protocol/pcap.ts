/**
 * Classic libpcap capture files (the format tcpdump -w writes): one 24-byte global header, then per frame
 * a 16-byte record header followed by the captured bytes.
 *
 * Version 2.4, microsecond timestamps, link type 1 (Ethernet), snap length 65535 unless told otherwise.
 * Headers are written little-endian: readers detect the byte order from the magic number, and a fixed
 * order keeps captures identical on every host. Pure: the caller writes the bytes to its file.
 */

export const PCAP_MAGIC = 0xa1b2c3d4;
export const PCAP_VERSION_MAJOR = 2;
export const PCAP_VERSION_MINOR = 4;
export const PCAP_SNAPLEN = 65535;
export const PCAP_LINKTYPE_ETHERNET = 1;
export const PCAP_GLOBAL_HEADER_LEN = 24;
export const PCAP_RECORD_HEADER_LEN = 16;

/** Field offsets within the global header. */
export const PcapGlobalOff = {
  Magic: 0, VersionMajor: 4, VersionMinor: 6, ThisZone: 8, SigFigs: 12, SnapLen: 16, LinkType: 20,
} as const;

/** Field offsets within a record header. */
export const PcapRecordOff = { TsSec: 0, TsUsec: 4, CapLen: 8, OrigLen: 12 } as const;

const LE = true;

/** Writes the global header at dv[off]; returns the offset just past it. */
export function writePcapGlobalHeader(
  dv: DataView, off: number, snapLen = PCAP_SNAPLEN, linkType = PCAP_LINKTYPE_ETHERNET,
): number {
  dv.setUint32(off + PcapGlobalOff.Magic, PCAP_MAGIC, LE);
  dv.setUint16(off + PcapGlobalOff.VersionMajor, PCAP_VERSION_MAJOR, LE);
  dv.setUint16(off + PcapGlobalOff.VersionMinor, PCAP_VERSION_MINOR, LE);
  dv.setInt32(off + PcapGlobalOff.ThisZone, 0, LE);
  dv.setUint32(off + PcapGlobalOff.SigFigs, 0, LE);
  dv.setUint32(off + PcapGlobalOff.SnapLen, snapLen, LE);
  dv.setUint32(off + PcapGlobalOff.LinkType, linkType, LE);
  return off + PCAP_GLOBAL_HEADER_LEN;
}

/**
 * Writes a record header at dv[off] for a frame of `origLen` bytes seen at `timeUs` (microseconds since
 * the Unix epoch, e.g. `Date.now() * 1000`); the captured length is `origLen` cut to `snapLen`.
 * Returns the captured length: the caller writes that many frame bytes after the header.
 */
export function writePcapRecordHeader(
  dv: DataView, off: number, timeUs: number, origLen: number, snapLen = PCAP_SNAPLEN,
): number {
  const t = Math.max(0, Math.floor(timeUs));
  const capLen = Math.min(origLen, snapLen);
  dv.setUint32(off + PcapRecordOff.TsSec, Math.floor(t / 1e6) >>> 0, LE);
  dv.setUint32(off + PcapRecordOff.TsUsec, t % 1e6, LE);
  dv.setUint32(off + PcapRecordOff.CapLen, capLen, LE);
  dv.setUint32(off + PcapRecordOff.OrigLen, origLen, LE);
  return capLen;
}

/** A new Uint8Array holding the global header (written once, when the file is opened). */
export function pcapGlobalHeader(snapLen = PCAP_SNAPLEN): Uint8Array {
  const b = new Uint8Array(PCAP_GLOBAL_HEADER_LEN);
  writePcapGlobalHeader(new DataView(b.buffer), 0, snapLen);
  return b;
}

/** A new Uint8Array holding one record: header then the (possibly cut) frame bytes. */
export function pcapRecord(frame: Uint8Array, timeUs: number, snapLen = PCAP_SNAPLEN): Uint8Array {
  const capLen = Math.min(frame.length, snapLen);
  const b = new Uint8Array(PCAP_RECORD_HEADER_LEN + capLen);
  writePcapRecordHeader(new DataView(b.buffer), 0, timeUs, frame.length, snapLen);
  b.set(frame.subarray(0, capLen), PCAP_RECORD_HEADER_LEN);
  return b;
}
