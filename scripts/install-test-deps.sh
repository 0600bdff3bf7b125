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
