"""Reference for bench/select-eval.sh: the same Sinkhorn balancing and pseudo-label metrics in numpy.

make  N C OUT.h5        writes a synthetic pseudo-labels file and a truth features file OUT-truth.h5
sinkhorn IN.h5 SEL.h5   balances IN's unlabelled rows (uniform prior, float64, lambda 1, L1 tolerance 1e-6),
                        takes the top half by balanced confidence and compares with mt-select's SEL.h5
metrics IN.h5 TRUTH.h5 EVAL.json
                        accuracy, AUC (mean running accuracy by decreasing confidence) and confusion,
                        compared with mt-eval's EVAL.json
Each command prints its own compute time in seconds on the last line ("seconds X").
"""
import json
import sys
import time

import h5py
import numpy as np


def make(n, c, out):
    rng = np.random.default_rng(0)
    truth = rng.integers(0, c, n).astype(np.int32)
    logits = rng.normal(size=(n, c)) * 1.5
    logits[np.arange(n), truth] += 2.0
    logits[:, 0] += 0.7  # an imbalance for the balancing to correct
    probs = np.exp(logits)
    probs /= probs.sum(1, keepdims=True)
    labeled = np.arange(0, n, n // (10 * c)).astype(np.int64)
    probs[labeled] = 0
    probs[labeled, truth[labeled]] = 1
    with h5py.File(out, "w") as f:
        f.attrs["mt_kind"] = "pseudo-labels"
        f.attrs["method"] = "synthetic"
        f["probs"] = probs.astype(np.float32)
        f["labels"] = probs.argmax(1).astype(np.int32)
        f["confidence"] = probs.max(1).astype(np.float32)
        f["labeled"] = labeled
        f["labeled_labels"] = truth[labeled]
    with h5py.File(out.replace(".h5", "-truth.h5"), "w") as f:
        f["features"] = np.zeros((n, 1), np.float32)
        f["labels"] = truth


def sinkhorn(path, selection):
    with h5py.File(path) as f:
        probs = f["probs"][:].astype(np.float64)
        labeled = f["labeled"][:]
    start = time.perf_counter()
    mask = np.ones(len(probs), bool)
    mask[labeled] = False
    candidates = np.flatnonzero(mask)
    k = probs[candidates] / probs[candidates].max(1, keepdims=True)
    n, c = k.shape
    prior = np.full(c, 1 / c)
    a = np.ones(n)
    for iteration in range(1000):
        sums = k.T @ a
        if iteration > 0 and np.abs(b * sums - prior).sum() <= 1e-6:
            break
        b = prior / sums
        a = (1 / n) / (k @ b)
    q = k * a[:, None] * b[None, :]
    q /= q.sum(1, keepdims=True)
    confidence = q.max(1)
    order = np.lexsort((candidates, -confidence))[: n // 2]
    chosen = candidates[order]
    seconds = time.perf_counter() - start
    with h5py.File(selection) as f:
        index, labels = f["index"][:], f["labels"][:]
        first = int(f.attrs["num_labeled"])
    agree = np.mean(index[first:] == chosen)
    same_labels = np.mean(labels[first:] == q.argmax(1)[order])
    print(f"iterations {iteration}  selected indices equal {agree:.4f}  labels equal {same_labels:.4f}")
    print(f"seconds {seconds:.3f}")


def metrics(path, truth_path, report):
    with h5py.File(path) as f:
        labels, confidence, labeled = f["labels"][:], f["confidence"][:], f["labeled"][:]
    with h5py.File(truth_path) as f:
        truth = f["labels"][:]
    start = time.perf_counter()
    mask = np.ones(len(labels), bool)
    mask[labeled] = False
    samples = np.flatnonzero(mask & (truth >= 0))
    order = samples[np.lexsort((samples, -confidence[samples]))]
    right = labels[order] == truth[order]
    running = np.cumsum(right) / np.arange(1, len(order) + 1)
    c = int(max(labels.max(), truth.max())) + 1
    confusion = np.bincount(truth[samples] * c + labels[samples], minlength=c * c).reshape(c, c)
    accuracy, auc = right.mean(), running.mean()
    seconds = time.perf_counter() - start
    ours = json.load(open(report))["runs"][0]
    print(f"accuracy {accuracy:.6f} (mt {ours['scalars']['accuracy']:.6f})  auc {auc:.6f} (mt {ours['scalars']['auc']:.6f})"
          f"  confusion equal {ours['confusion'] == confusion.tolist()}")
    print(f"seconds {seconds:.3f}")


if __name__ == "__main__":
    command, arguments = sys.argv[1], sys.argv[2:]
    if command == "make":
        make(int(arguments[0]), int(arguments[1]), arguments[2])
    elif command == "sinkhorn":
        sinkhorn(*arguments)
    else:
        metrics(*arguments)
