import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PCAP_GLOBAL_HEADER_LEN, PCAP_RECORD_HEADER_LEN, pcapGlobalHeader } from '../../protocol/pcap.js';
import { PcapWriter, configurePcap, sharedPcap } from './pcap-writer.js';

/** 42-byte ARP request: who has 10.0.0.1, tell 10.0.0.2. */
const ARP = Buffer.from('ffffffffffff52efc4b65b020806' + '0001080006040001' + '52efc4b65b020a000002' + '0000000000000a000001', 'hex');

function tempFile(t: import('ava').ExecutionContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'pcapw-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'x.pcap');
  writeFileSync(file, pcapGlobalHeader());
  return file;
}

test('two writers on one file append whole records after the global header', (t) => {
  const file = tempFile(t);
  const a = PcapWriter.open(file), b = PcapWriter.open(file);
  const framed = new Uint8Array(100).fill(0xa5);
  framed.set(ARP, 10);
  t.true(a.write(framed, 10, ARP.length));
  t.true(b.write(ARP, 0, ARP.length));
  t.true(a.write(ARP, 0, 20));
  a.close();
  b.close();
  const bytes = readFileSync(file);
  t.is(bytes.length, PCAP_GLOBAL_HEADER_LEN + 3 * PCAP_RECORD_HEADER_LEN + 2 * ARP.length + 20);
  const first = PCAP_GLOBAL_HEADER_LEN;
  t.is(bytes.readUInt32LE(first + 8), ARP.length, 'captured length');
  t.is(bytes.readUInt32LE(first + 12), ARP.length, 'original length');
  t.deepEqual(bytes.subarray(first + 16, first + 16 + ARP.length), ARP);
  const ts = bytes.readUInt32LE(first) + bytes.readUInt32LE(first + 4) / 1e6;
  t.true(Math.abs(ts - Date.now() / 1000) < 60, 'stamped with the current time');
});

test('tcpdump reads the file back', (t) => {
  const file = tempFile(t);
  const w = PcapWriter.open(file);
  w.write(ARP, 0, ARP.length);
  w.close();
  const out = execFileSync('tcpdump', ['-r', file, '-n', '-e'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 });
  t.regex(out, /52:ef:c4:b6:5b:02 > ff:ff:ff:ff:ff:ff, ethertype ARP .* Request who-has 10\.0\.0\.1 tell 10\.0\.0\.2/);
});

test('configurePcap opens the shared writer once per path, and null closes it', (t) => {
  const file = tempFile(t);
  configurePcap(file);
  const w = sharedPcap();
  t.truthy(w);
  configurePcap(file);
  t.is(sharedPcap(), w);
  configurePcap(null);
  t.is(sharedPcap(), null);
});
