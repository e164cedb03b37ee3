# Sourced by every bench/*.sh: the shared set-up, so each script only says what it measures.
#   root     the repository
#   py       a Python with the peers' packages: MT_VENV, or .venv-bench in the repository, made on first use
#   bin      release builds of the tools, in their own build folder (.build-bench) so that benchmarks run
#            plain release binaries and do not disturb the test build in .build
# Call bench_setup PYTHON_PACKAGES... once, before using $py or $bin.
root=$(cd "$(dirname "$0")/.." && pwd)

# selection_precision SELECTION TRUTH: count and precision (%) of a selection's pseudo-labelled entries
# (the labelled ones left out) against the truth file's labels; needs bench_setup's $py (h5py, numpy).
selection_precision() {
    "$py" - "$1" "$2" <<'PY'
import sys, h5py, numpy as np
with h5py.File(sys.argv[1]) as s, h5py.File(sys.argv[2]) as d:
    n = int(s.attrs["num_labeled"]); idx = s["index"][n:]; lab = s["labels"][n:]
    print(len(idx), "%.2f" % (100 * np.mean(d["labels"][:][idx] == lab)) if len(idx) else "nan")
PY
}

# mnist_metric_artifacts DIR EPOCHS: the MNIST data, the SimCLR metric (mnist-cnn, EPOCHS epochs, no labels),
# its embedding, k=20 graph and 200 eigenpairs in DIR (train.h5 test.h5 simclr-eEPOCHS.h5 features.h5 graph.h5
# eigen.h5), each made only when missing; shared by the benchmarks that start from the metric. Needs $bin,
# $MNIST_DIR and the array flags.
mnist_metric_artifacts() {
    local dir=$1 epochs=$2
    mkdir -p "$dir"
    [ -f "$dir/train.h5" ] || "$bin/mt-features" import mnist "$MNIST_DIR" --split train "${flags[@]}" -o "$dir/train.h5"
    [ -f "$dir/test.h5" ] || "$bin/mt-features" import mnist "$MNIST_DIR" --split test "${flags[@]}" -o "$dir/test.h5"
    [ -f "$dir/simclr-e$epochs.h5" ] || "$bin/mt-train" metric "$dir/train.h5" --arch mnist-cnn --objective simclr --epochs "$epochs" "${flags[@]}" -o "$dir/simclr-e$epochs.h5"
    [ -f "$dir/features.h5" ] || "$bin/mt-features" extract "$dir/train.h5" --model "$dir/simclr-e$epochs.h5" "${flags[@]}" -o "$dir/features.h5"
    [ -f "$dir/graph.h5" ] || "$bin/mt-knn" graph "$dir/features.h5" -k 20 "${flags[@]}" -o "$dir/graph.h5"
    [ -f "$dir/eigen.h5" ] || "$bin/mt-ncut" eigen "$dir/graph.h5" -n 200 "${flags[@]}" -o "$dir/eigen.h5"
}

bench_setup() {
    venv=${MT_VENV:-$root/.venv-bench}
    imports=$(printf '%s\n' "$@" | sed 's/==.*//; s/^faiss-cpu$/faiss/; s/^scikit-learn$/sklearn/' | paste -sd, -)
    if ! "$venv/bin/python" -c "import $imports" 2>/dev/null; then
        python3 -m venv "$venv"
        # torch's CPU-only wheel (the plain name pulls gigabytes of CUDA libraries).
        "$venv/bin/pip" install --quiet $(printf '%s\n' "$@" | sed 's/^torch$/torch==2.13.0+cpu/')
    fi
    py="$venv/bin/python"
    # BENCH_BIN: tools built elsewhere (for measurements that time nothing, run beside a benchmark that is
    # using .build-bench and must not see its binaries rebuilt under it).
    if [ -n "${BENCH_BIN:-}" ]; then bin=$BENCH_BIN; return; fi
    swift build -c release --build-path "$root/.build-bench" --package-path "$root" >/dev/null
    bin=$(swift build -c release --build-path "$root/.build-bench" --package-path "$root" --show-bin-path)
}
