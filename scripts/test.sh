#!/bin/bash
# The whole test suite: dependencies, gcc and clang builds, unit tests,
# an ASan/UBSan build of the unit tests, a bounded fuzz run of the config
# reader, and the system tests (pytest, as root, against the built
# commands, in private directories).  Ends with "tests: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
top=$PWD
bash scripts/deps.sh --test || exit 1
out=$(mktemp -d /tmp/vserver-test.XXXXXX)
trap 'rm -rf "$out"' EXIT
fail=0
step() { echo; echo "=== $*"; }

step "build (gcc, -Werror)"
rm -rf build-test build-test-clang build-test-asan
meson setup build-test >/dev/null && ninja -C build-test || exit 1
step "build (clang, -Werror)"
CC=clang meson setup build-test-clang >/dev/null && ninja -C build-test-clang || exit 1

step "unit tests (cmocka)"
meson test -C build-test --suite unit --print-errorlogs || fail=1
step "unit tests under ASan/UBSan (clang)"
CC=clang meson setup build-test-asan -Db_sanitize=address,undefined -Db_lundef=false >/dev/null &&
	ninja -C build-test-asan || exit 1
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 meson test -C build-test-asan --suite unit --print-errorlogs || fail=1

if [ -x tests/fuzz/run.sh ]; then
	step "fuzzing the configuration reader (bounded)"
	bash tests/fuzz/run.sh "${VSERVER_FUZZ_SECONDS:-60}" || fail=1
fi

step "system tests (pytest, as root)"
VSERVER_BIN="$top/build-test/vserver" /usr/bin/python3 -m pytest -q -p no:cacheprovider \
	--junitxml="$out/system.xml" tests/system
rc=$?
[ $rc -eq 0 ] || [ $rc -eq 5 ] || fail=1

step "summary"
/usr/bin/python3 - "$out/system.xml" build-test/meson-logs/testlog.json build-test-asan/meson-logs/testlog.json <<'PY'
import json, sys, xml.etree.ElementTree as ET
passed = failed = skipped = 0
try:
    r = ET.parse(sys.argv[1]).getroot()
    for s in ([r] if r.tag == "testsuite" else r.findall("testsuite")):
        t, f, e, sk = (int(s.get(k, 0)) for k in ("tests", "failures", "errors", "skipped"))
        passed += t - f - e - sk; failed += f + e; skipped += sk
except Exception as ex:
    print("no system test report:", ex); failed += 1
for log in sys.argv[2:]:
    try:
        for line in open(log):
            j = json.loads(line)
            if j.get("result") == "OK": passed += 1
            elif j.get("result") == "SKIP": skipped += 1
            else: failed += 1
    except FileNotFoundError:
        print("missing", log); failed += 1
print(f"tests: {passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed else 0)
PY
[ $? -eq 0 ] || fail=1
exit $fail
