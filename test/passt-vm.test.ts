/**
 * The real thing: Debian's qemu-system-x86 (7.2) boots a Debian cloud kernel under TCG (no KVM) with
 * its NIC on `-netdev stream` to our passt's socket; the guest is busybox plus socat, iperf3 and
 * dhclient (scripts/passt-vm-setup.sh builds the kernel and initramfs once, outside the work tree).
 * The scenario (passt-guest.ts): DHCP (address, router, MTU, DNS), SLAAC and DHCPv6, ping to the
 * gateway (v4, v6), TCP and UDP to host services through the gateway mapping (v4, v6), an 8 MiB
 * download checked by hash, iperf3 both ways, and -t/-u forwards from the host into the guest.
 */
import test from 'ava';
import { GUEST_MAC, guestScript, playScenario, setStage } from './passt-guest.js';
import { bootVm, initrdWith, prepareVm } from './vm-lib.js';

test('a qemu guest (TCG): DHCP, SLAAC, DHCPv6, ping, TCP/UDP v4/v6, a download by hash, iperf3, -t/-u forwards', async (t) => {
  t.timeout(115_000);
  prepareVm();
  const started = Date.now();
  const stage = await setStage(t);
  const script = `W=/tmp\n${guestScript(stage.ports)}`;
  const vm = bootVm(t, initrdWith(stage.dir, { 'test.sh': script }), stage.sock, GUEST_MAC);
  try {
    await playScenario(t, stage, vm);
  } finally {
    if (!t.passed) t.log(`--- console ---\n${vm.console()}`);
  }
  const end = await Promise.race([vm.exited, new Promise<string>((r) => setTimeout(() => r('still running'), 20_000))]);
  t.is(end, 0, 'the guest powered off');
  t.log(`whole VM test: ${((Date.now() - started) / 1000).toFixed(1)} s`);
});
