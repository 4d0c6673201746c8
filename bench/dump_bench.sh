#!/bin/sh
# dump_bench.sh: builds kvmini and the test guests, then times crash dumps of
# 1 GiB and 4 GiB guests (half of RAM data, half zero) in each format against
# dd's raw write of the same size to the same disk. Not run by `make test`.
# Usage: bench/dump_bench.sh [--sizes 1G,4G] [--dir DIR] [--repeat N]
set -e
cd "$(dirname "$0")/.."
make -s build/kvmini guests >/dev/null
exec /usr/bin/python3 bench/dump_bench.py "$@"
