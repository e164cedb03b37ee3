#!/usr/bin/env python3
"""Peer side of bench/ncut.sh: scipy's ARPACK (eigsh) on the same normalised affinity as `mt-ncut eigen`,
plus the helpers the benchmark needs (an MNIST kNN graph, splits, accuracy of pseudo-labels).

Subcommands
  graph     MNIST idx files -> kNN graph file (mt `graph` format, self excluded), brute force with faiss.
  splits    labels -> split files with P labelled samples per class (mt `split` format).
  eigsh     graph file -> eigen file made by scipy.sparse.linalg.eigsh(which='LA'), timed.
  residual  graph + eigen file -> largest ||L v - lambda v|| recomputed in float64 (for either solver's file).
  accuracy  eigen file + split -> accuracy of the reference's biased normalised cut on unlabelled samples.
  score     pseudo-labels file + split + labels -> accuracy on unlabelled samples.

Every array follows docs/FORMATS.md, so the files can be fed to the mt tools and back.
"""
import argparse
import gzip
import json
import os
import struct
import sys
import time

import h5py
import numpy as np


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)


def mnist(directory):
    images = read_idx(os.path.join(directory, "train-images-idx3-ubyte.gz")).reshape(60000, -1)
    labels = read_idx(os.path.join(directory, "train-labels-idx1-ubyte.gz")).astype(np.int32)
    return images.astype(np.float32) / 255, labels


def cmd_graph(args):
    import faiss
    faiss.omp_set_num_threads(args.threads)
    x, labels = mnist(args.mnist)
    if args.pca:
        mean = x.mean(0)
        u, s, vt = np.linalg.svd(x[:: max(1, len(x) // 20000)] - mean, full_matrices=False)
        x = (x - mean) @ vt[: args.pca].T
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    x = np.ascontiguousarray(x, np.float32)
    index = faiss.IndexFlatIP(x.shape[1])
    index.add(x)
    sims, nbrs = index.search(x, args.k + 1)
    # Drop each row's own entry (or the last one when ties pushed it out), as mt-knn does by default.
    rows = np.arange(len(x))[:, None]
    own = nbrs == rows
    keep = ~own
    keep[~own.any(1), -1] = False
    nbrs = nbrs[keep].reshape(len(x), args.k)
    sims = sims[keep].reshape(len(x), args.k)
    with h5py.File(args.out, "w") as f:
        f["neighbors"] = nbrs.astype(np.int32)
        f["similarities"] = sims.astype(np.float32)
        f.attrs["k"] = args.k
        f.attrs["metric"] = "inner_product"
        f.attrs["self_included"] = 0
        f.attrs["database_size"] = len(x)
    if args.labels_out:
        np.save(args.labels_out, labels)


def cmd_splits(args):
    labels = np.load(args.labels)
    rng = np.random.default_rng(args.seed)
    classes = int(labels.max()) + 1
    for per_class in args.per_class:
        labeled = np.sort(np.concatenate([rng.permutation(np.flatnonzero(labels == c))[:per_class]
                                          for c in range(classes)]))
        out = os.path.join(args.out_dir, f"split-{per_class * classes}.h5")
        with h5py.File(out, "w") as f:
            f["labeled"] = labeled.astype(np.int64)
            f["labeled_labels"] = labels[labeled].astype(np.int32)
            f["unlabeled"] = np.setdiff1d(np.arange(len(labels)), labeled).astype(np.int64)
            f.attrs["num_samples"], f.attrs["num_classes"] = len(labels), classes


def affinity(graph_path, sigma, self_loop=True):
    """The matrix mt-ncut builds: w = exp(-(1-s)/sigma), self-loop 1, (W+W^T)/2, A = D^-1/2 W D^-1/2."""
    import scipy.sparse as sparse
    with h5py.File(graph_path, "r") as f:
        nbrs, sims = f["neighbors"][:].astype(np.int64), f["similarities"][:].astype(np.float64)
    n, k = nbrs.shape
    rows = np.repeat(np.arange(n), k)
    w = np.exp(-(1 - sims.ravel()) / sigma)
    if self_loop:
        rows = np.concatenate([rows, np.arange(n)])
        nbrs = np.concatenate([nbrs.ravel(), np.arange(n)])
        w = np.concatenate([w, np.ones(n)])
    W = sparse.csr_matrix((w, (rows, nbrs.ravel())), shape=(n, n))
    W = (W + W.T) / 2
    degrees = np.asarray(W.sum(1)).ravel()
    s = sparse.diags(1 / np.sqrt(degrees))
    return (s @ W @ s).tocsr(), degrees


def residuals(A, values, vectors):
    # ||L v - mu v|| with L = I - A and mu = 1 - theta equals ||A v - theta v||.
    R = A @ vectors - vectors * values[None, :]
    return np.linalg.norm(R, axis=0) / np.linalg.norm(vectors, axis=0)


def cmd_eigsh(args):
    from threadpoolctl import threadpool_limits
    import scipy.sparse.linalg as linalg
    A, degrees = affinity(args.graph, args.sigma)
    A = A.astype(np.float32 if args.dtype == "float32" else np.float64)
    rng = np.random.default_rng(args.seed)
    v0 = rng.standard_normal(A.shape[0]).astype(A.dtype)
    with threadpool_limits(limits=args.threads):
        start = time.perf_counter()
        theta, vectors = linalg.eigsh(A, k=args.n, which="LA", tol=args.tol, v0=v0)
        seconds = time.perf_counter() - start
    order = np.argsort(-theta)
    theta, vectors = theta[order], vectors[:, order]
    res = residuals(A.astype(np.float64), theta.astype(np.float64), vectors.astype(np.float64))
    with h5py.File(args.out, "w") as f:
        f["eigenvalues"] = (1 - theta).astype(np.float32)
        f["eigenvectors"] = vectors.astype(np.float32)
        f["degrees"] = degrees.astype(np.float32)
        f["residuals"] = res.astype(np.float32)
    print(json.dumps({"seconds": seconds, "max_residual": float(res.max())}))


def cmd_residual(args):
    A, _ = affinity(args.graph, args.sigma)
    with h5py.File(args.eigen, "r") as f:
        lam = f["eigenvalues"][:].astype(np.float64)
        V = f["eigenvectors"][:].astype(np.float64)
    print(json.dumps({"max_residual": float(residuals(A, 1 - lam, V).max())}))


def ncut_labels(eigen_path, split_path, drop=1):
    """The reference's biased normalised cut (alpha 0), argmax labels for every sample."""
    with h5py.File(eigen_path, "r") as f:
        lam = f["eigenvalues"][:].astype(np.float64)[drop:]
        V = f["eigenvectors"][:].astype(np.float64)[:, drop:]
        deg = f["degrees"][:].astype(np.float64)
    with h5py.File(split_path, "r") as f:
        labeled, given = f["labeled"][:], f["labeled_labels"][:]
        classes = int(f.attrs["num_classes"])
    prior = np.zeros((len(deg), classes))
    prior[labeled] = -1
    prior[labeled, given] = 1
    pd = deg[:, None] * (np.abs(prior) + prior) / 2
    nd = deg[:, None] * (np.abs(prior) - prior) / 2
    ratio = pd.sum(0) / nd.sum(0)
    p = np.sqrt(pd / ratio) - np.sqrt(nd * ratio)
    p /= np.linalg.norm(p, axis=0, keepdims=True)
    logits = (V / lam[None, :]) @ (V.T @ p)
    logits *= np.sqrt(len(deg)) / np.linalg.norm(logits, axis=0, keepdims=True)
    return logits.argmax(1)


def unlabeled_accuracy(predicted, split_path, labels):
    with h5py.File(split_path, "r") as f:
        unlabeled = f["unlabeled"][:]
    return float((predicted[unlabeled] == labels[unlabeled]).mean())


def cmd_accuracy(args):
    labels = np.load(args.labels)
    print(json.dumps({"accuracy": unlabeled_accuracy(ncut_labels(args.eigen, args.split), args.split, labels)}))


def cmd_score(args):
    labels = np.load(args.labels)
    with h5py.File(args.pseudo, "r") as f:
        predicted = f["labels"][:]
    print(json.dumps({"accuracy": unlabeled_accuracy(predicted, args.split, labels)}))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("graph")
    p.add_argument("--mnist", required=True)
    p.add_argument("--k", type=int, default=20)
    p.add_argument("--pca", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", required=True)
    p.add_argument("--labels-out")
    p = sub.add_parser("splits")
    p.add_argument("--labels", required=True)
    p.add_argument("--per-class", type=int, nargs="+", default=[1, 10])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out-dir", required=True)
    p = sub.add_parser("eigsh")
    p.add_argument("--graph", required=True)
    p.add_argument("-n", type=int, default=200)
    p.add_argument("--tol", type=float, default=1e-3)
    p.add_argument("--sigma", type=float, default=0.2)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--dtype", choices=["float32", "float64"], default="float64")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True)
    p = sub.add_parser("residual")
    p.add_argument("--graph", required=True)
    p.add_argument("--eigen", required=True)
    p.add_argument("--sigma", type=float, default=0.2)
    p = sub.add_parser("accuracy")
    p.add_argument("--eigen", required=True)
    p.add_argument("--split", required=True)
    p.add_argument("--labels", required=True)
    p = sub.add_parser("score")
    p.add_argument("--pseudo", required=True)
    p.add_argument("--split", required=True)
    p.add_argument("--labels", required=True)
    args = parser.parse_args()
    {"graph": cmd_graph, "splits": cmd_splits, "eigsh": cmd_eigsh, "residual": cmd_residual, "accuracy": cmd_accuracy,
     "score": cmd_score}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
