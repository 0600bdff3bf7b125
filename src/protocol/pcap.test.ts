import test from 'ava';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  PCAP_GLOBAL_HEADER_LEN, PCAP_RECORD_HEADER_LEN, pcapGlobalHeader, pcapRecord, writePcapGlobalHeader,
  writePcapRecordHeader,
} from './pcap.js';
import { toHex as hex } from './test-bytes.js';

/** A 42-byte ARP reply frame: 10.0.0.1 is at 02:fc:00:00:00:01, to 52:ef:c4:b6:5b:02 at 10.0.0.2. */
const ARP_REPLY = Buffer.from(
  '52efc4b65b0202fc000000010806' + '0001080006040002' + '02fc000000010a000001' + '52efc4b65b020a000002', 'hex');

test('global header: magic a1b2c3d4, v2.4, zone 0, sigfigs 0, snaplen 65535, Ethernet (little-endian)', (t) => {
  const b = new Uint8Array(30).fill(0xa5);
  t.is(writePcapGlobalHeader(new DataView(b.buffer), 3), 3 + PCAP_GLOBAL_HEADER_LEN);
  t.is(hex(b.subarray(3, 27)), 'd4c3b2a1' + '0200' + '0400' + '00000000' + '00000000' + 'ffff0000' + '01000000');
  t.true([...b.subarray(0, 3), ...b.subarray(27)].every((x) => x === 0xa5));
  t.is(hex(pcapGlobalHeader(1500).subarray(16, 20)), 'dc050000');
});

test('record header: seconds, microseconds, captured and original length', (t) => {
  const b = new Uint8Array(16).fill(0xa5);
  const cap = writePcapRecordHeader(new DataView(b.buffer), 0, 1_700_000_000_123_456, 1514);
  t.is(cap, 1514);
  t.is(hex(b), '00f15365' + '40e20100' + 'ea050000' + 'ea050000'); // 1700000000 s, 123456 us
});

test('frames longer than the snap length are cut, their original length kept', (t) => {
  const b = new Uint8Array(16);
  t.is(writePcapRecordHeader(new DataView(b.buffer), 0, 0, 70000), 65535);
  t.is(hex(b.subarray(8)), 'ffff0000' + '70110100');
  const rec = pcapRecord(new Uint8Array(100).fill(7), 2_500_000, 60);
  t.is(rec.length, PCAP_RECORD_HEADER_LEN + 60);
  t.is(hex(rec.subarray(0, 16)), '02000000' + '20a10700' + '3c000000' + '64000000');
  t.true(rec.subarray(16).every((x) => x === 7));
});

test('a record holds the header then the frame bytes', (t) => {
  const rec = pcapRecord(ARP_REPLY, 1_000_000);
  t.is(rec.length, 16 + 42);
  t.is(hex(rec.subarray(16)), hex(ARP_REPLY));
});

const tcpdump = ['/usr/bin/tcpdump', '/usr/sbin/tcpdump'].find((p) => existsSync(p));

// Needs tcpdump: reported as skipped (not passed) where it is missing.
(tcpdump === undefined ? test.skip : test)('tcpdump reads the file back', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pcap-test-'));
  try {
    const file = join(dir, 'x.pcap');
    writeFileSync(file, Buffer.concat([pcapGlobalHeader(), pcapRecord(ARP_REPLY, 1_700_000_000_000_001)]));
    const text = execFileSync(tcpdump!, ['-r', file, '-n', '-e', '-tt'], { timeout: 10_000, stdio: ['ignore', 'pipe', 'pipe'] })
      .toString();
    t.regex(text, /^1700000000\.000001 02:fc:00:00:00:01 > 52:ef:c4:b6:5b:02, ethertype ARP \(0x0806\), length 42: Reply 10\.0\.0\.1 is-at 02:fc:00:00:00:01/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
