/**
 * Golden frames for the guest-services tests, captured from real clients on a pasta tap (Debian bookworm:
 * busybox 1.35 udhcpc, ISC dhclient 4.4.3, iputils arping, the Linux kernel's RS and DAD NS) with
 * `pasta -p`. Written as hex with `00*N` for runs of N zero bytes. Test data only.
 */
import { FrameClass, FrameClassifier, Verdict } from '../../../protocol/classify.js';
import type { ServiceResult, ServicesConfig } from './config.js';
import { respondToGuest } from './index.js';

/** Hex digits (whitespace ignored) with `00*N` meaning N zero bytes. */
export function unhex(text: string): Uint8Array {
  const bytes: number[] = [];
  for (const token of text.trim().split(/\s+/)) {
    const run = /^00\*(\d+)$/.exec(token);
    if (run !== null) {
      for (let i = 0; i < Number(run[1]); i++) bytes.push(0);
      continue;
    }
    if (!/^([0-9a-f]{2})*$/i.test(token)) throw new Error(`bad hex token ${token}`);
    for (let i = 0; i < token.length; i += 2) bytes.push(parseInt(token.slice(i, i + 2), 16));
  }
  return Uint8Array.from(bytes);
}

/** Guest MAC c6:1f:45:04:4e:3d; xid 0x5322132d; PRL 1 3 6 12 15 26 28 42 119 121; client id 01+MAC. */
export const UDHCPC_DISCOVER = unhex(`
  ffffffffffffc61f45044e3d0800 4500014800000000401179a600000000ffffffff 004400430134488e
  010106005322132d 00*20 c61f45044e3d 00*202
  63825363 350101 39020240 370a0103060c0f1a1c2a7779 3c0c756468637020312e33352e30 3d0701c61f45044e3d ff 00*17`);

/** The same client selecting 10.0.0.2 from server 10.0.0.1. */
export const UDHCPC_REQUEST = unhex(`
  ffffffffffffc61f45044e3d0800 4500014800000000401179a600000000ffffffff 0044004301343b12
  010106005322132d 00*20 c61f45044e3d 00*202
  63825363 350103 32040a000002 36040a000001 39020240 370a0103060c0f1a1c2a7779 3c0c756468637020312e33352e30
  3d0701c61f45044e3d ff 0000000000`);

/** ISC dhclient: MAC 52:ef:c4:b6:5b:02, xid 0x84747b3f, host name "vm", PRL 1 28 2 3 15 6 119 12 44 47 26 121 42. */
export const DHCLIENT_DISCOVER = unhex(`
  ffffffffffff52efc4b65b020800 45100148000000008011399600000000ffffffff 0044004301344107
  0101060084747b3f 00*20 52efc4b65b02 00*202
  63825363 350101 0c02766d 370d011c02030f06770c2c2f1a792a ff 00*37`);

export const DHCLIENT_REQUEST = unhex(`
  ffffffffffff52efc4b65b020800 45100148000000008011399600000000ffffffff 004400430134338b
  0101060084747b3f 00*20 52efc4b65b02 00*202
  63825363 350103 36040a000001 32040a000002 0c02766d 370d011c02030f06770c2c2f1a792a ff 00*25`);

/** arping: who-has 10.0.0.1 tell 10.0.0.2, padded to 58 bytes. */
export const ARPING_REQUEST = unhex(`
  ffffffffffff52efc4b65b020806 0001080006040001 52efc4b65b02 0a000002 000000000000 0a000001 00*16`);

/** arping -D for the guest's own address 10.0.0.2. */
export const ARPING_OWN_ADDRESS = unhex(`
  ffffffffffff52efc4b65b020806 0001080006040001 52efc4b65b02 0a000002 000000000000 0a000002 00*16`);

/** Kernel DAD probe for fe80::50ef:c4ff:feb6:5b02 from ::, with a nonce option (type 14). */
export const KERNEL_DAD_NS = unhex(`
  3333ffb65b0252efc4b65b0286dd 6000000000203aff 00*16 ff02000000000000000000 01ffb65b02
  8700ed3100000000 fe8000000000000050efc4fffeb65b02 0e01c55968e98748`);

/** Kernel router solicitation from fe80::50ef:c4ff:feb6:5b02 with its source link-layer address. */
export const KERNEL_RS = unhex(`
  33330000000252efc4b65b0286dd 6000000000103aff fe8000000000000050efc4fffeb65b02
  ff020000000000000000000000000002 850099dd00000000 010152efc4b65b02`);

/**
 * dhclient -6 SOLICIT from fe80::f038:5dff:fede:68d1 (MAC f2:38:5d:de:68:d1): xid 0x173461, client DUID-LLT,
 * ORO 23 24 39 31, elapsed 0, IA_NA iaid 0x5dde68d1 T1 3600 T2 5400.
 */
export const DHCLIENT6_SOLICIT = unhex(`
  333300010002f2385dde68d186dd 600ebeff00401101 fe80000000000000f0385dfffede68d1 ff02 00*11 010002
  02220223 0040393f 01173461 0001000e0001000132950300f2385dde68d1 00060008001700180027001f 000800020000
  0003000c5dde68d100000e1000001518`);

/** dhclient -6 REQUEST to pasta's server DUID-LLT 00010001329502fc02fc00000001, asking for 2001:db8:1::2. */
export const DHCLIENT6_REQUEST = unhex(`
  333300010002f2385dde68d186dd 600ebeff006e1101 fe80000000000000f0385dfffede68d1 ff02 00*11 010002
  02220223006ec36c 03c1072c 0001000e0001000132950300f2385dde68d1 0002000e00010001329502fc02fc00000001
  00060008001700180027001f 000800020000
  000300285dde68d100000e1000001518 0005001820010db80001 00*9 0200001c2000001d4c`);

/** The server DUID the REQUEST above names (pasta's DUID-LLT). */
export const PASTA_DUID = unhex('00010001329502fc02fc00000001');

/** dhclient -6 -S: INFORMATION-REQUEST, xid 0x7b23c6, client DUID-LL. */
export const DHCLIENT6_INFO_REQUEST = unhex(`
  333300010002f2385dde68d186dd 600ebeff002c1101 fe80000000000000f0385dfffede68d1 ff02 00*11 010002
  02220223002c5f1c 0b7b23c6 0001000a00030001f2385dde68d1 00060008001700180027001f 000800020000`);

/** The configuration the captures above were made with (pasta -a 10.0.0.2 -n 24 -g 10.0.0.1 ...). */
export function testConfig(): ServicesConfig {
  return {
    ourMac: unhex('02fc00000001'),
    ip4Addr: 0x0a000002,
    ip4PrefixLen: 24,
    ip4Gateway: 0x0a000001,
    ip4Dns: [0x0a000035],
    ip6Addr: unhex('20010db8000100000000000000000002'),
    ip6LinkLocal: unhex('fe80000000000000 00fc00fffe000001'),
    ip6Dns: [unhex('20010db8000000000000000000000053')],
    searchList: ['example.com', 'sub.example.com'],
    mtu: 1500,
    dhcpDns: true,
    dhcpSearch: true,
    noDhcp: false,
    noNdp: false,
    noRa: false,
    noDhcpv6: false,
  };
}

/** Classifies frame `b` and hands it to the guest services; the reply goes to a 0xa5-filled buffer. */
export function serve(
  cfg: ServicesConfig, b: Uint8Array, outLen = 2048,
): { verdict: number; result: ServiceResult | null; out: Uint8Array; frame: Uint8Array } {
  const fc = new FrameClass();
  const verdict = new FrameClassifier().classify(b, 0, b.length, fc);
  const out = new Uint8Array(outLen).fill(0xa5);
  const result = verdict === Verdict.Ok ? respondToGuest(cfg, b, fc, out, OUT_OFF) : null;
  const len = result?.action === 'reply' ? result.len : 0;
  return { verdict, result, out, frame: out.subarray(OUT_OFF, OUT_OFF + len) };
}

/** Where `serve` writes replies: not at 0, to catch offset mistakes. */
export const OUT_OFF = 6;

/** The reply frame of `serve`, or an exception naming the drop reason. */
export function replyOf(cfg: ServicesConfig, b: Uint8Array): Uint8Array {
  const r = serve(cfg, b);
  if (r.result === null) throw new Error(`classify verdict ${r.verdict}`);
  if (r.result.action === 'drop') throw new Error(`dropped: ${r.result.reason}`);
  const after = r.out.subarray(OUT_OFF + r.result.len);
  if (!r.out.subarray(0, OUT_OFF).every((x) => x === 0xa5) || !after.every((x) => x === 0xa5)) {
    throw new Error('reply written outside its frame');
  }
  return r.frame;
}

/** The drop reason of `serve` ('reply' if it replied, 'classify' if classify refused the frame). */
export function dropReasonOf(cfg: ServicesConfig, b: Uint8Array, outLen = 2048): string {
  const r = serve(cfg, b, outLen);
  if (r.result === null) return 'classify';
  return r.result.action === 'drop' ? r.result.reason : 'reply';
}

export const hex = (b: Uint8Array | null): string => (b === null ? 'null' : Buffer.from(b).toString('hex'));
