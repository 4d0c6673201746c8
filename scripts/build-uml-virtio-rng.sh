#!/bin/sh
# build-uml-virtio-rng.sh: Debian's User Mode Linux has no virtio-rng driver
# (CONFIG_HW_RANDOM_VIRTIO is not set). This builds it as a module from the
# matching linux-source-6.1 package, with UML's own configuration, into
# build/uml/virtio-rng.ko, for tests/test_console_rng_uml.py.
# Usage: scripts/build-uml-virtio-rng.sh [OUTDIR]   (needs root for apt)
set -eu
OUT=$(realpath -m "${1:-build/uml}")
VER=$(ls /usr/lib/uml/modules | sort -V | tail -1)
[ -n "$VER" ] || { echo "no UML modules under /usr/lib/uml/modules" >&2; exit 1; }
PKGVER=$(apt-cache madison linux-source-6.1 | awk -v v="$VER" '$3 ~ "^"v"-" { print $3; exit }')
[ -n "$PKGVER" ] || { echo "no linux-source-6.1 package for UML $VER" >&2; exit 1; }
if ! dpkg -s linux-source-6.1 2>/dev/null | grep -q "^Version: $PKGVER\$" ||
   ! command -v flex >/dev/null || ! command -v bison >/dev/null; then
	apt-get install -y --no-install-recommends "linux-source-6.1=$PKGVER" bc bison flex
fi
# The kernel tree stays outside build/ (make reads every *.d file there).
WORK="${KVMINI_UML_SRC:-/var/tmp/kvmini-uml}/src-$VER"
if [ ! -f "$WORK/Makefile" ]; then
	rm -rf "$WORK"
	mkdir -p "$WORK"
	tar -xJf /usr/src/linux-source-6.1.tar.xz -C "$WORK" --strip-components=1
fi
cd "$WORK"
/usr/bin/linux.uml --showconfig > .config
echo "CONFIG_HW_RANDOM_VIRTIO=m" >> .config
make -s ARCH=um olddefconfig
make -s ARCH=um modules_prepare
make -s ARCH=um M=drivers/char/hw_random CONFIG_HW_RANDOM_VIRTIO=m modules \
	KBUILD_MODPOST_WARN=1 >/dev/null
mkdir -p "$OUT"
cp drivers/char/hw_random/virtio-rng.ko "$OUT/virtio-rng.ko"
echo "$OUT/virtio-rng.ko (for UML $VER)"
