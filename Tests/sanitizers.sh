#!/usr/bin/env bash
# Runs the unit tests once under AddressSanitizer and once under ThreadSanitizer (release builds with
# testability, each in its own build folder), and prints each run's summary line. The result of the last
# run is recorded in docs/ROBUSTNESS.md ("Sanitizers").
#
#   Tests/sanitizers.sh               # both
#   Tests/sanitizers.sh thread        # one
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export MNIST_DIR=${MNIST_DIR:-$root/../shared/datasets/mnist}
export MT_PYTHON=${MT_PYTHON:-$root/.venv/bin/python}
status=0
for sanitizer in ${*:-address thread}; do
    log="$root/.build-$sanitizer/tests.log"
    mkdir -p "$root/.build-$sanitizer"
    echo "== $sanitizer"
    swift test -c release -Xswiftc -enable-testing --sanitize="$sanitizer" --build-path "$root/.build-$sanitizer" \
        --filter UnitTests --no-parallel >"$log" 2>&1
    code=$?
    grep -E "Test run with|ERROR: (Address|Thread)Sanitizer|WARNING: ThreadSanitizer|SUMMARY:" "$log" | sort | uniq -c | head -20
    echo "$sanitizer: exit $code (log: $log)"
    [ "$code" -eq 0 ] || status=1
done
exit $status
