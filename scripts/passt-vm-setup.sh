#!/usr/bin/env bash
# Builds what the passt VM test (test/passt-vm.test.ts) boots under qemu: a Debian cloud kernel and a
# small initramfs, in a cache directory outside the work tree (default /var/cache/passt-actors/vm;
# PASST_VM_DIR overrides). Idempotent: does nothing when both files are there.
#
# - kernel: vmlinuz from linux-image-*-cloud-amd64 (a .deb already in apt's cache, else `apt-get
#   download`, retried: the network is sometimes flaky), unpacked with `dpkg -x`;
# - initramfs: busybox-static (every applet as a link), that kernel's virtio-net modules (virtio_pci,
#   virtio_net and what they need), socat, iperf3 and dhclient with their shared libraries (the guest's
#   TCP/UDP clients and servers, IPv4 and IPv6, and its DHCPv6 client: busybox's nc has no UDP and
#   this busybox has no udhcpc6), and /init, which loads the modules
#   and runs /test.sh: the test appends that script as a second cpio archive (the kernel unpacks
#   concatenated archives), so one initramfs serves every test run.
set -euo pipefail
OUT=${PASST_VM_DIR:-/var/cache/passt-actors/vm}
FORMAT=2 # bump when the initramfs changes: a cache of another format is rebuilt
[ -s "$OUT/vmlinuz" ] && [ -s "$OUT/initramfs.cpio.gz" ] && [ "$(cat "$OUT/format" 2>/dev/null)" = "$FORMAT" ] && exit 0
mkdir -p "$OUT"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

retry() { # retry N CMD...: N attempts, 10 s apart
  local n=$1 i; shift
  for ((i = 1; i <= n; i++)); do "$@" && return 0; echo "attempt $i of $n failed: $*" >&2; sleep 10; done
  return 1
}

kernel_deb() {
  local cached
  cached=$(ls -t /var/cache/apt/archives/linux-image-[0-9]*-cloud-amd64_*.deb 2>/dev/null | head -n1 || true)
  if [ -n "$cached" ]; then echo "$cached"; return; fi
  local pkg
  pkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
  [ -n "$pkg" ] || { apt-get update -qq || true; pkg=$(apt-cache depends linux-image-cloud-amd64 | awk '/Depends: linux-image-[0-9]/ {print $2; exit}'); }
  [ -n "$pkg" ] || { echo "no linux-image-*-cloud-amd64 package known to apt" >&2; exit 1; }
  (cd "$WORK" && retry 5 apt-get download "$pkg" >&2)
  ls "$WORK"/linux-image-*.deb
}

DEB=$(kernel_deb)
echo "kernel package: $DEB" >&2
dpkg -x "$DEB" "$WORK/k"
KVER=$(basename "$(ls -d "$WORK"/k/lib/modules/*)")
MODDIR="$WORK/k/lib/modules/$KVER/kernel"

R="$WORK/root"
mkdir -p "$R"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,run,etc,lib/modules,var/lib}
dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'install ok installed' || { echo "busybox-static is needed" >&2; exit 1; }
cp /bin/busybox "$R/bin/busybox"
# the virtio-net driver stack (/init loads them in dependency order, whatever this kernel's is)
for m in drivers/virtio/virtio.ko drivers/virtio/virtio_ring.ko drivers/virtio/virtio_pci_modern_dev.ko \
         drivers/virtio/virtio_pci_legacy_dev.ko drivers/virtio/virtio_pci.ko net/core/failover.ko \
         drivers/net/net_failover.ko drivers/net/virtio_net.ko; do
  f="$MODDIR/$m"
  [ -e "$f" ] || f="$f.xz"
  [ -e "$f" ] || { echo "module $m not in $DEB" >&2; exit 1; }
  case "$f" in *.xz) xz -dc "$f" > "$R/lib/modules/$(basename "${m}")" ;; *) cp "$f" "$R/lib/modules/" ;; esac
done

# dynamically linked tools with their libraries, at the paths the loader expects
copy_with_libs() {
  local bin=$1 lib
  cp -L "$bin" "$R/usr/bin/"
  for lib in $(ldd "$bin" | awk '/=> \// {print $3} /^\t\/[^ ]+ \(/ {print $1}'); do
    mkdir -p "$R$(dirname "$lib")"
    cp -L "$lib" "$R$lib"
  done
}
for tool in socat iperf3 dhclient; do
  path=$(command -v "$tool" || ls /sbin/"$tool" 2>/dev/null || true)
  [ -n "$path" ] || { echo "$tool is needed on the host (scripts/install-test-deps.sh)" >&2; exit 1; }
  copy_with_libs "$path"
done
echo 'root:x:0:0:root:/:/bin/sh' > "$R/etc/passwd"
echo 'root:x:0:' > "$R/etc/group"
printf '127.0.0.1 localhost\n::1 localhost\n' > "$R/etc/hosts"

cat > "$R/init" <<'EOF'
#!/bin/busybox sh
# passt-actors VM test guest: load the virtio-net driver, then run the test's /test.sh; power off.
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
# dependencies first, whichever they are in this kernel: retry what failed until nothing is left
pending="virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci failover net_failover virtio_net"
for pass in 1 2 3 4 5 6 7 8; do
  left=""
  for m in $pending; do insmod /lib/modules/$m.ko 2>/dev/null || left="$left $m"; done
  pending=$left
  [ -z "$pending" ] && break
done
[ -z "$pending" ] || echo "GUEST insmod failed:$pending"
ip link set lo up
if [ -f /test.sh ]; then sh /test.sh; else echo "GUEST no /test.sh"; fi
echo "GUEST done"
sync
poweroff -f
EOF
chmod +x "$R/init"
(cd "$R" && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1 > "$WORK/initramfs.cpio.gz")
cp "$WORK/k/boot/vmlinuz-$KVER" "$OUT/vmlinuz.tmp"
mv "$WORK/initramfs.cpio.gz" "$OUT/initramfs.cpio.gz.tmp"
mv "$OUT/vmlinuz.tmp" "$OUT/vmlinuz"
mv "$OUT/initramfs.cpio.gz.tmp" "$OUT/initramfs.cpio.gz"
echo "$KVER" > "$OUT/kernel-version"
echo "$FORMAT" > "$OUT/format"
echo "VM files in $OUT (kernel $KVER)" >&2
