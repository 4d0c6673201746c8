#!/bin/sh
# Installs, through apt, what kvmini needs to build (`build`) or to run its
# whole test suite (`test`). Skips apt when every package is already there.
set -e
BUILD="build-essential python3 pkg-config liburing-dev libseccomp-dev libcmocka-dev zlib1g-dev libzstd-dev liblz4-dev libjansson-dev nettle-dev"
TEST="$BUILD python3 python3-pytest gdb user-mode-linux busybox-static cpio e2fsprogs libnfs-utils strace clang acpica-tools qemu-system-x86 qemu-utils crash makedumpfile iproute2 procps flex bison bc rpcbind nfs-common"
case "${1:-build}" in
  build) PKGS=$BUILD ;;
  test)  PKGS=$TEST ;;
  *) echo "usage: $0 build|test" >&2; exit 2 ;;
esac
# A stock kernel for the Linux boot test, only where it can boot (VT-x/AMD-V).
if [ "${1:-build}" = test ] && [ ! -e /sys/module/kvm_pvm ] &&
   { [ -e /sys/module/kvm_intel ] || [ -e /sys/module/kvm_amd ]; }; then
  PKGS="$PKGS linux-image-amd64"
fi
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "install-deps: missing packages:$missing; run as root (or install them) and retry" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends $missing
fi
# Debian's UML has no virtio-rng driver: build it for the UML rng test
# (from the matching linux-source-6.1; the test skips without it).
ROOT=$(cd "$(dirname "$0")/.." && pwd)
if [ "${1:-build}" = test ] && [ "$(id -u)" = 0 ] && [ ! -f "$ROOT/build/uml/virtio-rng.ko" ]; then
  "$ROOT/scripts/build-uml-virtio-rng.sh" "$ROOT/build/uml" ||
    echo "install-deps: could not build virtio-rng for UML; its test will skip" >&2
fi
