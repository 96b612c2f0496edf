#!/usr/bin/env python3
"""NumPy and pure-Python gradient descent for least squares, as in the Real Python article
"Pure Python vs NumPy vs TensorFlow", generalized to p features; on the `logistic` workload,
the same full-batch descent on the L2-penalized logistic loss (descent's update, NumPy only);
on the `minibatch` workload, the same update on mini-batches in descent's row order
(`np_minibatch`). Prints one JSON line per run."""

import itertools
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # for workloads.py
sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree

try:
    import numpy as np
except ImportError:
    sys.exit("numpy_gd.py: numpy is not installed")

import workloads as W


def np_descent(X, d, mu, N_epochs):
    """The article's NumPy loop (f64). X is (N,) for p = 1 or (N, p)."""
    N = len(X)
    f = 2 / N
    p = 1 if X.ndim == 1 else X.shape[1]
    y = np.zeros(N)
    err = np.zeros(N)
    w = np.zeros(1 + p)
    grad = np.empty(1 + p)
    for _ in itertools.repeat(None, N_epochs):
        np.subtract(d, y, out=err)
        grad[0] = f * np.sum(err)
        grad[1:] = f * (err @ X)  # err @ X == X.T @ err
        w = w + mu * grad
        y = w[0] + (w[1] * X if X.ndim == 1 else X @ w[1:])
    return w


def np_logistic(X, y, mu, alpha, N_epochs):
    """descent's logistic step in X's dtype: err = y - sigmoid(w0 + X w),
    w0 += mu (1/N) sum(err),  w += mu [(1/N) X^T err - alpha w], from w = 0."""
    dt = X.dtype.type
    f, mu, alpha = dt(1 / len(y)), dt(mu), dt(alpha)
    w = np.zeros(1 + X.shape[1], X.dtype)
    for _ in itertools.repeat(None, N_epochs):
        z = X @ w[1:]
        z += w[0]
        err = y - W.sigmoid_np(z)
        g0 = f * np.sum(err)
        g = f * (err @ X) - alpha * w[1:]
        w[0] += mu * g0
        w[1:] += mu * g
    return w


def np_minibatch(X, y, wl):
    """descent's mini-batch SGD in X's dtype: each epoch visits descent's seeded row order
    (`W.batch_order`, computed inside the timed loop as descent computes it) in batches of
    B rows; per batch, err = y_b - sigmoid(w0 + X_b w), w0 += mu (1/|b|) sum(err),
    w += mu [(1/|b|) X_b^T err - alpha w], from w = 0."""
    dt = X.dtype.type
    mu, alpha = dt(wl.mu), dt(wl.alpha)
    n, b = len(y), wl.batch
    w = np.zeros(1 + X.shape[1], X.dtype)
    for epoch in range(wl.epochs):
        order = W.batch_order(n, wl.shuffle_seed, epoch)
        for first in range(0, n, b):
            rows = order[first:first + b]
            Xb, yb = X[rows], y[rows]
            z = Xb @ w[1:]
            z += w[0]
            err = yb - W.sigmoid_np(z)
            f = dt(1 / len(rows))
            g0 = f * np.sum(err)
            g = f * (err @ Xb) - alpha * w[1:]
            w[0] += mu * g0
            w[1:] += mu * g
    return w


def py_descent(cols, d, mu, N_epochs):
    """The article's pure-Python loop; cols is a list of p feature columns (lists of floats)."""
    N = len(d)
    f = 2 / N
    y = [0] * N
    w = [0] * (1 + len(cols))
    grad = [0] * (1 + len(cols))
    for _ in itertools.repeat(None, N_epochs):
        err = tuple(i - j for i, j in zip(d, y))
        grad[0] = f * sum(err)
        for k, col in enumerate(cols, 1):
            grad[k] = f * sum(i * j for i, j in zip(err, col))
        w = [i + mu * j for i, j in zip(w, grad)]
        y = [w[0]] * N  # y = w0 + sum_k w_k * x_k, accumulated column by column
        for wk, col in zip(w[1:], cols):
            y = [i + wk * j for i, j in zip(y, col)]
    return w


def main():
    args = W.parse_args(__doc__, ["np_descent", "py_descent"], (["f64"], ["f32", "f64"]))
    device = W.cpu_name()
    for name in args.workloads:
        wl = W.workload(args, name)
        X, d = W.make_data(wl)
        if wl.batch:
            if "np_descent" not in args.variants:
                continue
            order_s = W.order_seconds(wl)
            for prec in args.precisions:
                dt = {"f32": np.float32, "f64": np.float64}[prec]
                Xp, yp = X.astype(dt), d.astype(dt)  # cast outside the timed region
                w, times = W.bench(lambda: np_minibatch(Xp, yp, wl), args.repeats)
                W.emit("numpy", "np_minibatch", wl, prec, device, times, w,
                       objective=W.objective(X, d, w, wl.alpha), order_seconds=order_s)
                del Xp, yp
            continue
        if wl.loss == "logistic":
            if "py_descent" in args.variants:
                print("numpy_gd.py: py_descent has no logistic loss, skipped", file=sys.stderr)
            if "np_descent" in args.variants:
                for prec in args.precisions:
                    dt = {"f32": np.float32, "f64": np.float64}[prec]
                    Xp, yp = X.astype(dt), d.astype(dt)  # cast outside the timed region
                    w, times = W.bench(lambda: np_logistic(Xp, yp, wl.mu, wl.alpha, wl.epochs),
                                       args.repeats)
                    W.emit("numpy", "np_descent", wl, prec, device, times, w)
                    del Xp, yp
            continue
        if "np_descent" in args.variants:
            if args.precisions != ["f64"]:
                print("numpy_gd.py: least squares runs in f64 only", file=sys.stderr)
            w, times = W.bench(lambda: np_descent(X, d, wl.mu, wl.epochs), args.repeats)
            W.emit("numpy", "np_descent", wl, "f64", device, times, w)
        if "py_descent" in args.variants:
            # Pure Python is ~100x slower: run 1/100 of the epochs and scale the time linearly.
            # No warm-up: the interpreter has nothing to compile or cache.
            k = max(1, wl.epochs // 100)
            cols = [X.tolist()] if X.ndim == 1 else X.T.tolist()
            dl = d.tolist()
            w, times = W.bench(lambda: py_descent(cols, dl, wl.mu, k), args.repeats, warmup=False)
            variant = "py_descent" if k == wl.epochs else f"py_descent (scaled from {k} epochs)"
            W.emit("numpy", variant, wl, "f64", device, [t * wl.epochs / k for t in times], w)
            del cols, dl


if __name__ == "__main__":
    main()
