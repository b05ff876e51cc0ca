#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Build the libFuzzer harnesses with clang (ASan + UBSan, coverage on the
# whole library) into build-fuzz and fuzz the configuration loader for a
# bounded time.
#
#   tests/fuzz/run.sh [SECONDS]     (default 60)
#
# Exits non-zero if the build fails or the fuzzer finds a crash, a leak or
# undefined behaviour; the reproducer is left in build-fuzz/fuzz-artifacts/.
set -eu

secs=${1:-60}
case $secs in
'' | *[!0-9]*)
	echo "usage: $0 [SECONDS]" >&2
	exit 2
	;;
esac

src=$(cd "$(dirname "$0")/../.." && pwd)
build=$src/build-fuzz
cd "$src"

# A build-fuzz configured by hand (e.g. without sanitizers, or with gcc) is
# replaced: the options below are what make the fuzzing meaningful.
stamp=$build/.configured-by-run-sh
if [ ! -f "$stamp" ] || [ ! -f "$build/build.ninja" ]; then
	rm -rf "$build"
	# -fsanitize=fuzzer-no-link instruments the library too, so libFuzzer
	# gets coverage feedback from the code under test, not only from the
	# harness; -fno-sanitize-recover turns every UBSan report into a crash.
	CC=clang meson setup "$build" -Dfuzz=true -Dtests=false \
		-Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debugoptimized \
		"-Dc_args=-fsanitize=fuzzer-no-link -fno-sanitize-recover=all -fno-omit-frame-pointer" \
		"-Dc_link_args=-fno-sanitize-recover=all"
	touch "$stamp"
fi
ninja -C "$build" tests/fuzz-config

corpus=$build/fuzz-corpus
artifacts=$build/fuzz-artifacts
mkdir -p "$corpus" "$artifacts"

# Seeds: the first byte selects the file (see fuzz-config.c), the rest is
# a typical content.
seed() { printf "$2" >"$corpus/seed-$1"; }
seed context '\000100\n'
seed nodename '\001web1.example.com\n'
seed bcaps '\002# extra\nMKNOD\n~CHOWN\ncap_net_admin\n'
seed fstab '\003none /proc proc defaults 0 0\n/srv/my\\040data /srv/data none bind,ro 0 0\nnone /tmp tmpfs size=16m,mode=1777\n'
seed ip '\004192.0.2.10/24\n'
seed ip6 '\004fd00::10/64\n'
seed killseq '\005TERM\n10\nKILL\n'
seed env '\006PATH=/bin:/usr/bin\nLANG=C\n'
seed pers '\007LINUX_32BIT\nUNAME26\n'

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:allocator_may_return_null=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:abort_on_error=1:print_stacktrace=1}

rc=0
"$build/tests/fuzz-config" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=70000 \
	-artifact_prefix="$artifacts/" "$corpus" || rc=$?
if [ "$rc" -ne 0 ]; then
	echo "fuzz-config: failure (exit $rc); reproducers:" >&2
	ls -l "$artifacts" >&2
	exit 1
fi
echo "fuzz-config: no crash in ${secs}s"
