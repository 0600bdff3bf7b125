#!/usr/bin/env bash
# Installs the Debian tools the end-to-end tests and the benchmark use (idempotent), and enables
# unprivileged ping sockets, which the reference pasta needs for ICMP.
set -euo pipefail
pkgs=(passt slirp4netns iperf3 socat iproute2 util-linux procps psmisc iputils-ping tcpdump dnsmasq-base busybox-static
      arping dnsutils isc-dhcp-client curl strace python3)
missing=()
for p in "${pkgs[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
if [ "${#missing[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
sysctl -qw net.ipv4.ping_group_range="0 2147483647"
# The passt VM test: qemu, and a kernel + initramfs built once into a cache outside the work tree.
# Retried (the package mirror is sometimes unreachable for a while); a failure here is reported, not
# fatal: only test/passt-vm.test.ts needs these, and it fails with the reason.
vm_ok=0
for i in 1 2 3; do
  if dpkg-query -W -f='${Status}' qemu-system-x86 2>/dev/null | grep -q 'install ok installed' ||
     DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends qemu-system-x86 >/dev/null; then
    bash "$(dirname "$0")/passt-vm-setup.sh" && { vm_ok=1; break; }
  fi
  sleep 20
done
[ "$vm_ok" = 1 ] || echo "install-test-deps: qemu-system-x86 or the VM files are missing: test/passt-vm.test.ts will fail" >&2
