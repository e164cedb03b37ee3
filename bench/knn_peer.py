"""Peers and checks for bench/knn.sh.

  faiss FEATURES.h5 K THREADS OUT.npy     exact IndexFlatIP search (self excluded afterwards), prints seconds
  recall GRAPH.h5 FAISS.npy FEATURES.h5   recall of mt's graph against faiss, exact and up to ties
  sklearn FEATURES.h5 SPLIT.h5 K ALPHA ITERATIONS THREADS
                                          LabelSpreading(kernel='knn') fit: prints seconds and accuracy
  accuracy PSEUDO.h5 FEATURES.h5 SPLIT.h5 accuracy of pseudo-labels on the unlabelled samples
"""
import sys
import time

import h5py
import numpy as np


def features(path):
    with h5py.File(path, "r") as f:
        return f["features"][:].astype(np.float32), f["labels"][:]


def split(path):
    with h5py.File(path, "r") as f:
        return f["labeled"][:], f["labeled_labels"][:], f["unlabeled"][:]


def run_faiss(path, k, threads, out):
    import faiss
    faiss.omp_set_num_threads(threads)
    x, _ = features(path)
    start = time.perf_counter()
    index = faiss.IndexFlatIP(x.shape[1])
    index.add(x)
    _, neighbors = index.search(x, k + 1)
    seconds = time.perf_counter() - start
    np.save(out, neighbors)
    print(f"faiss search seconds {seconds:.2f}")


def recall(graph_path, faiss_path, features_path):
    with h5py.File(graph_path, "r") as g:
        ours, sims = g["neighbors"][:], g["similarities"][:]
    x, _ = features(features_path)
    n, k = ours.shape
    theirs = np.load(faiss_path)
    # faiss lists the row itself (usually first); drop it, keep k.
    theirs = np.array([[j for j in row if j != i][:k] for i, row in enumerate(theirs)])
    hits = sum(len(set(a) & set(b)) for a, b in zip(ours, theirs))
    # A faiss neighbour mt lacks is a tie if its similarity is not above mt's k-th (within float rounding).
    missing = [(i, j) for i in range(n) for j in set(theirs[i]) - set(ours[i])]
    not_ties = sum(1 for i, j in missing if float(x[i] @ x[j]) > sims[i, -1] + 1e-5)
    print(f"recall {hits / (n * k):.6f} ({len(missing)} differing neighbours, {not_ties} not ties); "
          f"recall up to ties {(hits + len(missing) - not_ties) / (n * k):.6f}")


def sklearn_spreading(features_path, split_path, k, alpha, iterations, threads):
    from sklearn.semi_supervised import LabelSpreading
    x, truth = features(features_path)
    labeled, labels, unlabeled = split(split_path)
    y = np.full(len(x), -1)
    y[labeled] = labels
    model = LabelSpreading(kernel="knn", n_neighbors=k, alpha=alpha, max_iter=iterations, n_jobs=threads)
    start = time.perf_counter()
    model.fit(x, y)
    seconds = time.perf_counter() - start
    accuracy = (model.transduction_[unlabeled] == truth[unlabeled]).mean()
    print(f"sklearn seconds {seconds:.2f} accuracy {accuracy:.4f} iterations {model.n_iter_}")


def accuracy(pseudo_path, features_path, split_path):
    with h5py.File(pseudo_path, "r") as f:
        predicted = f["labels"][:]
    _, truth = features(features_path)
    _, _, unlabeled = split(split_path)
    print(f"accuracy {(predicted[unlabeled] == truth[unlabeled]).mean():.4f}")


if __name__ == "__main__":
    command, arguments = sys.argv[1], sys.argv[2:]
    if command == "faiss":
        run_faiss(arguments[0], int(arguments[1]), int(arguments[2]), arguments[3])
    elif command == "recall":
        recall(*arguments)
    elif command == "sklearn":
        sklearn_spreading(arguments[0], arguments[1], int(arguments[2]), float(arguments[3]), int(arguments[4]), int(arguments[5]))
    elif command == "accuracy":
        accuracy(*arguments)
    else:
        sys.exit(__doc__)
