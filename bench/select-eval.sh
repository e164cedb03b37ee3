#!/bin/sh
# Benchmarks mt-select pseudo --balance sinkhorn and mt-eval pseudo against the same computations in numpy
# (bench/select_eval_reference.py) on a synthetic 60,000 x 10 pseudo-labels file, checking that they agree.
# Usage: bench/select-eval.sh [N] [C]. MT_VENV overrides the Python venv (default .venv-bench in the repo).
set -eu
. "$(dirname "$0")/common.sh"
n=${1:-60000}
c=${2:-10}
bench_setup numpy h5py
out="$root/bench/out"
mkdir -p "$out"
"$py" "$root/bench/select_eval_reference.py" make "$n" "$c" "$out/pseudo.h5"

now() { "$py" -c 'import time; print(time.perf_counter())'; }
elapsed() { "$py" -c "print(f'{$2 - $1:.3f}')"; }

echo "== Sinkhorn balancing + top half, N=$n C=$c (whole process, including HDF5 I/O)"
t0=$(now)
"$bin/mt-select" pseudo "$out/pseudo.h5" --ratio 0.5 --balance sinkhorn -q -o "$out/selection.h5"
t1=$(now)
echo "mt-select seconds $(elapsed "$t0" "$t1")"
"$py" "$root/bench/select_eval_reference.py" sinkhorn "$out/pseudo.h5" "$out/selection.h5"

echo "== pseudo-label metrics, N=$n C=$c (mt-eval: whole process with I/O and table; numpy: compute only)"
t0=$(now)
"$bin/mt-eval" pseudo "$out/pseudo.h5" --truth "$out/pseudo-truth.h5" --json "$out/eval.json" >/dev/null
t1=$(now)
echo "mt-eval seconds $(elapsed "$t0" "$t1")"
"$py" "$root/bench/select_eval_reference.py" metrics "$out/pseudo.h5" "$out/pseudo-truth.h5" "$out/eval.json"
