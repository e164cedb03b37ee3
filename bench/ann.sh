#!/usr/bin/env bash
# Approximate kNN graphs through faiss (issue 18's measurement, a benchmark, not a test): `mt-knn graph
# --index FACTORY` (Debian's libfaiss 1.7.3 through mt's C shim) against faiss's Python package doing the
# same work (train on the same number of rows, add, search k + 1, drop self) with the same threads, and
# against mt's exact search. Per run: wall time, peak RSS, recall@k against the exact graph (all rows on
# MNIST; 1000 random rows against numpy's exact neighbours for the synthetic set, where mt's exact graph
# would take half an hour). The faiss peer's time starts after it has read the features into memory.
# PEERS=debian: only Debian's python3-faiss as the peer.
#
#   bench/ann.sh                   # MNIST SimCLR features (60k x 128) and 1M x 128 synthetic, k = 20, 2 threads
#   SETS=mnist bench/ann.sh
#
# Needs bench/out/ssl/features.h5 (bench/active.sh or bench/ssl.sh make it). Writes bench/out/ann/results-SET.md.
# SYNTHETIC_CONFIGS: "FACTORY PARAMETER VALUE" entries, ';'-separated, for the synthetic set (default: one
# IVF4096,Flat nprobe 16 run; e.g. "IVF4096,Flat nprobe 16;HNSW32 efSearch 64").
set -euo pipefail
. "$(dirname "$0")/common.sh"
cd "$root"
bench_setup numpy h5py faiss-cpu
THREADS=${THREADS:-2} K=${K:-20} SETS=${SETS:-mnist synthetic} SYNTHETIC_ROWS=${SYNTHETIC_ROWS:-1000000}
out="$root/bench/out/ann"
mkdir -p "$out"
header() { printf '| data | method | parameters | seconds | peak RSS | recall@%s |\n| --- | --- | --- | ---: | ---: | ---: |\n' "$K" >"$1"; }

# peak RSS in MB and wall seconds of a command, as "SECONDS MB".
measure() {
    local log="$out/time.log" start end
    start=$(date +%s%N)
    /usr/bin/time -f "%M" -o "$log" "$@" >/dev/null
    end=$(date +%s%N)
    echo "$(( (end - start) / 1000000 ))e-3 $(( $(tail -1 "$log") / 1024 ))"
}

# The exact neighbours of 1000 random rows (numpy, float64 products), for recall where no exact graph exists.
SAMPLE_RECALL='
def exact_sample(x, k):
    rng = np.random.default_rng(1)
    rows = np.sort(rng.choice(len(x), 1000, replace=False))
    truth = []
    for start in range(0, len(rows), 50):         # 50 x N float64 similarities at a time
        part = rows[start:start + 50]
        s = x[part].astype(np.float64) @ x.T.astype(np.float64)
        s[np.arange(len(part)), part] = -np.inf
        best = np.argpartition(-s, k, axis=1)[:, :k]
        truth.append(np.take_along_axis(best, np.argsort(-np.take_along_axis(s, best, 1), 1), 1))
    return rows, np.concatenate(truth)
def recall(graph, x, exact, k):
    if exact != "-":
        with h5py.File(exact) as e:
            truth = e["neighbors"][:]
        rows = np.arange(len(truth))
    else:
        rows, truth = exact_sample(x, k)
    return np.mean([len(np.intersect1d(graph[r], t)) / k for r, t in zip(rows, truth)])
'

# recall@K of graph $1 against the exact graph $3 (or, "-", sampled exact neighbours of features $2).
mt_recall() {
    "$py" - "$1" "$2" "$3" "$K" <<PY
import sys, h5py, numpy as np
$SAMPLE_RECALL
graph_path, features, exact, k = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
with h5py.File(graph_path) as g:
    graph = g["neighbors"][:]
x = h5py.File(features)["features"][:] if exact == "-" else None
print("%.4f" % recall(graph, x, exact, k))
PY
}

faiss_peer() {   # python features factory parameter value training_rows exact: "SECONDS MB RECALL"
    local python=$1; shift
    "$python" - "$@" "$THREADS" "$K" <<PY
import sys, time, resource, h5py, numpy as np, faiss
$SAMPLE_RECALL
path, factory, name, value, train_rows, exact, threads, k = sys.argv[1:9]
threads, k, train_rows = int(threads), int(k), int(train_rows)
faiss.omp_set_num_threads(threads)
with h5py.File(path) as f:
    x = np.ascontiguousarray(f["features"][:], dtype=np.float32)
start = time.perf_counter()
index = faiss.index_factory(x.shape[1], factory, faiss.METRIC_INNER_PRODUCT)
if not index.is_trained:
    rng = np.random.default_rng(0)
    sample = np.sort(rng.choice(len(x), min(len(x), train_rows), replace=False))
    index.train(x[sample])
if "HNSW" in factory:
    faiss.omp_set_num_threads(1)        # as mt builds HNSW: one add, one thread (a reproducible graph)
index.add(x)
faiss.omp_set_num_threads(threads)
if name != "-":
    faiss.ParameterSpace().set_index_parameter(index, name, float(value))
_, found = index.search(x, k + 1)
graph = np.array([r[r != i][:k] for i, r in enumerate(found)])
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
print("%.3f %d %.4f" % (seconds, peak, recall(graph, x, exact, k)))
PY
}

run_set() {   # name features exact-graph-or-dash training_rows configs...
    local name=$1 features=$2 exact=$3 train=$4; shift 4
    local config factory parameter value flag
    for config in "$@"; do
        read -r factory parameter value <<<"$config"
        flag=()
        [ "$parameter" = nprobe ] && flag=(--nprobe "$value")
        [ "$parameter" = efSearch ] && flag=(--ef "$value")
        local graph="$out/$name-$factory-$parameter$value.h5"
        # Timed without the tool's own recall sample (an exact search of 1000 rows), measured here instead.
        read -r seconds rss < <(measure "$bin/mt-knn" graph "$features" -k "$K" --index "$factory" "${flag[@]}" --train-rows "$train" \
            --recall-sample 0 --threads "$THREADS" -q -o "$graph")
        local recall
        recall=$(mt_recall "$graph" "$features" "$exact")
        printf '| %s | mt-knn --index | %s %s=%s | %.1f | %s MB | %s |\n' "$name" "$factory" "$parameter" "$value" "$seconds" "$rss" "$recall" | tee -a "$results"
        for peer in "${peers[@]}"; do
            read -r pseconds prss precall < <(faiss_peer "$peer" "$features" "$factory" "$parameter" "$value" "$train" "$exact")
            printf '| %s | faiss %s (Python) | %s %s=%s | %.1f | %s MB | %s |\n' "$name" "$("$peer" -c 'import faiss; print(faiss.__version__)')" \
                "$factory" "$parameter" "$value" "$pseconds" "$prss" "$precall" | tee -a "$results"
        done
    done
}

# Peers: faiss from PyPI in the venv (the fastest build), and Debian's python3-faiss when installed: the
# very library mt links (libfaiss 1.7.3), which isolates mt's own overhead from the faiss build's speed.
peers=("$py")
if /usr/bin/python3 -c "import faiss, h5py, numpy" 2>/dev/null; then peers+=(/usr/bin/python3); fi
PEERS=${PEERS:-all}
[ "$PEERS" = debian ] && peers=("${peers[@]:1}")

for set in $SETS; do
    results="$out/results-$set.md"
    header "$results"
    case $set in
    mnist)
        features="$root/bench/out/ssl/features.h5"
        [ -f "$features" ] || { echo "bench/ann.sh: $features is missing: run bench/active.sh or CHAIN=yes bench/ssl.sh first" >&2; exit 2; }
        exact="$out/mnist-exact.h5"
        read -r seconds rss < <(measure "$bin/mt-knn" graph "$features" -k "$K" --threads "$THREADS" -q -o "$exact")
        printf '| mnist | mt-knn (exact) | — | %.1f | %s MB | 1 |\n' "$seconds" "$rss" | tee -a "$results"
        run_set mnist "$features" "$exact" 60000 "IVF1024,Flat nprobe 1" "IVF1024,Flat nprobe 4" "IVF1024,Flat nprobe 16" \
            "IVF1024,Flat nprobe 64" "HNSW32 efSearch 16" "HNSW32 efSearch 64" "HNSW32 efSearch 128"
        ;;
    synthetic)
        features="$out/synthetic-$SYNTHETIC_ROWS.h5"
        if [ ! -f "$features" ]; then
            # A mixture of 10,000 overlapping Gaussian clusters in 128 dimensions, rows normalised:
            # neighbourhoods as in real embeddings (uniform noise has none to find), not trivially separated.
            "$py" - "$features" "$SYNTHETIC_ROWS" <<'PY'
import sys, h5py, numpy as np
path, n = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(0)
centres = rng.standard_normal((10000, 128)).astype(np.float32)
with h5py.File(path + ".tmp", "w") as f:
    d = f.create_dataset("features", (n, 128), np.float32)
    for start in range(0, n, 100000):
        m = min(100000, n - start)
        x = centres[rng.integers(0, 10000, m)] + 1.0 * rng.standard_normal((m, 128)).astype(np.float32)
        d[start:start + m] = x / np.linalg.norm(x, axis=1, keepdims=True)
import os; os.replace(path + ".tmp", path)
PY
        fi
        IFS=';' read -r -a configs <<<"${SYNTHETIC_CONFIGS:-IVF4096,Flat nprobe 16}"
        run_set "synthetic-$SYNTHETIC_ROWS" "$features" - 160000 "${configs[@]}"
        ;;
    esac
done
echo "wrote $out/results-*.md"
