#!/usr/bin/env python3
"""Collect one sitting of the `logistic` (or, with --workload minibatch, the `minibatch`)
workload into the BENCHMARKS.md table.

Reads descent's `reproduce --json` objects (--descent, one per line or file) and the peers'
JSON lines (--peers), regenerates the workload's data with NumPy (bit-identical to descent's,
checked by `workloads.checksum`), and evaluates every weight vector the same way, in float64:
the objective J, max |w - w_Newton| and max |w - w_ref| where w_ref is descent `fused` f64.

w_Newton is computed here by Newton's method (IRLS, float64) and, with --descent-bin, also
taken from descent itself: `descent fit` on this script's NumPy data (written as .npy to a
temporary directory) returns descent's Newton reference and a `fused` f64 fit of the NumPy
data, which must equal reproduce's `fused` f64 fit of descent's own data bit for bit when
the two datasets are the same.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import replace

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # for workloads.py
sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree

import numpy as np

import workloads as W


def newton(X, y, alpha, tol=1e-13, max_iter=50):
    """argmin J by damped Newton (IRLS) in float64, from w = 0."""
    n, p = X.shape
    w = np.zeros(p + 1)
    d = np.r_[0.0, np.full(p, alpha)]  # L2 on the feature weights only

    def grad_hess(w):
        s = W.sigmoid_np(w[0] + X @ w[1:])
        r = (s - y) / n
        g = np.r_[r.sum(), X.T @ r] + d * w
        h = s * (1 - s) / n
        Xh = X * h[:, None]
        H = np.empty((p + 1, p + 1))
        H[0, 0] = h.sum()
        H[0, 1:] = H[1:, 0] = Xh.sum(axis=0)
        H[1:, 1:] = X.T @ Xh
        return g, H + np.diag(d)

    g0 = None
    for _ in range(max_iter):
        g, H = grad_hess(w)
        g0 = np.abs(g).max() if g0 is None else g0
        if np.abs(g).max() <= tol * max(1.0, g0):
            break
        step = np.linalg.solve(H, g)
        t, j = 1.0, W.objective(X, y, w, alpha)
        while W.objective(X, y, w - t * step, alpha) > j - 1e-4 * t * (g @ step) and t > 1e-8:
            t /= 2
        w = w - t * step
    return w


def descent_fit(binary, X, y, wl):
    """`descent fit` on this data: descent's Newton reference and a fused f64 fit (with the
    workload's mini-batches, if any)."""
    batches = (["--batch-size", str(wl.batch), "--shuffle-seed", str(wl.shuffle_seed)]
               if wl.batch else [])
    with tempfile.TemporaryDirectory() as tmp:
        xp, yp = os.path.join(tmp, "X.npy"), os.path.join(tmp, "y.npy")
        np.save(xp, X)
        np.save(yp, y)
        out = subprocess.run(
            [binary, "fit", "--data", xp, "--target-file", yp, "--backend", "fused",
             "--precision", "f64", "--loss", "logistic", "--penalty", "l2",
             "--alpha", repr(wl.alpha), "--mu", repr(wl.mu), "--epochs", str(wl.epochs),
             *batches, "--json"], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def read_json_lines(paths):
    rows = []
    for path in paths:
        with open(path) as f:
            rows += [json.loads(line) for line in f if line.strip()]
    return rows


def fmt_t(s):
    return "–" if s is None else (f"{s:.3f} s" if s >= 1 else f"{s * 1e3:.1f} ms")


def table(X, y, wl, rows, w_star, ref_name, ref):
    j_star = W.objective(X, y, w_star, wl.alpha)
    print(f"N = {wl.n}, epochs = {wl.epochs}: J* (J at the Newton optimum) = {j_star:.12f}; "
          f"last column vs {ref_name}\n")
    print("| implementation | precision | solve | end to end | J after the run | J − J* | "
          "max abs(w − w_Newton) | max abs(w − w_ref) |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        if r.get("k", 1) > 1:
            r = dict(r, name=f"{r['name']} (best of {r['k']})")
        w = np.array(r["weights"])
        j = W.objective(X, y, w, wl.alpha)
        if r.get("own_j") is not None and abs(r["own_j"] - j) > 1e-12:
            print(f"compare.py: {r['name']} {r['precision']} printed J = {r['own_j']!r}, "
                  f"recomputed {j!r}", file=sys.stderr)
        vs_ref = "–" if ref is None else f"{np.abs(w - np.array(ref)).max():.1e}"
        print(f"| {r['name']} | {r['precision']} | {fmt_t(r['solve'])} | {fmt_t(r['e2e'])} | "
              f"{j:.12f} | {j - j_star:.1e} | {np.abs(w - w_star).max():.1e} | {vs_ref} |")
    print()


def pick_ref(rows):
    """descent `fused` f64 if the group has it, else descent `fused` in any precision."""
    for prec in ("f64", "f32"):
        for r in rows:
            if r["name"] == "descent `fused`" and r["precision"] == prec:
                return f"descent `fused` {prec}", r["weights"]
    return "nothing", None


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workload", default="logistic", choices=["logistic", "minibatch"])
    ap.add_argument("--descent", nargs="*", default=[], help="reproduce --json outputs")
    ap.add_argument("--peers", nargs="*", default=[], help="peer JSON-lines outputs")
    ap.add_argument("--descent-bin", help="descent binary, for the `descent fit` cross-check")
    ap.add_argument("--n", type=int, help="override the workload's N (quick checks)")
    ap.add_argument("--epochs", type=int, help="override the workload's epochs")
    args = ap.parse_args()
    wl = W.workload(args, args.workload)
    # Runs are grouped by (N, epochs): the main group is the workload (and every peer);
    # descent runs at another N or epoch count (e.g. a shortened GPU run) get their own table.
    groups = {(wl.n, wl.epochs): []}
    for r in read_json_lines(args.descent):
        wlj = r["workload"]
        if ((wlj["features"], wlj["mu"], wlj["seed"], wlj.get("batch_size"),
             wlj.get("shuffle_seed") if wl.batch else None)
                != (wl.features, wl.mu, 444, wl.batch or None, wl.shuffle_seed or None)):
            sys.exit(f"compare.py: a descent run of another workload: {wlj}")
        for run in r["runs"]:
            rows = groups.setdefault((wlj["n"], run["epochs_run"]), [])
            row = {"name": f"descent `{run['backend']}`", "precision": run["precision"],
                   "solve": run["solve_seconds"], "e2e": run["seconds"],
                   "weights": run["weights"], "k": 1, "own_j": run.get("objective")}
            # The same run repeated (several invocations): keep the fastest solve, as the
            # peers report the best of their repeats; the weights must not change.
            same = next((x for x in rows if (x["name"], x["precision"]) ==
                         (row["name"], row["precision"])), None)
            if same is None:
                rows.append(row)
                continue
            if same["weights"] != row["weights"]:
                sys.exit(f"compare.py: repeated {row['name']} {row['precision']} runs differ")
            k = same["k"] + 1
            if row["solve"] < same["solve"]:
                same.update(row)
            same["k"] = k
    name = {"numpy": "NumPy", "torch": "PyTorch", "jax": "JAX", "sklearn": "scikit-learn"}
    for r in read_json_lines(args.peers):
        if r["workload"] != wl.name:
            sys.exit(f"compare.py: a {r['workload']} peer line in a {wl.name} comparison")
        extra = (f", {r['iterations']} iterations" if "iterations" in r and not wl.batch
                 else "")
        if "threads" in r:
            extra += f", {r['threads']} thread{'s' if r['threads'] > 1 else ''}"
        groups.setdefault((r["n"], r["epochs"]), []).append(
            {"name": f"{name.get(r['peer'], r['peer'])} {r['variant']}{extra}",
             "precision": r["precision"], "solve": r["seconds"], "e2e": None,
             "weights": r["weights"], "own_j": r.get("objective")})

    for (n, epochs), rows in groups.items():
        g = replace(wl, n=n, epochs=epochs)
        X, y = W.make_data(g)
        print(f"data: N = {n}, p = {g.features}, checksum {json.dumps(W.checksum(X, y))}")
        w_star = newton(X, y, g.alpha)
        print(f"NumPy Newton: J = {W.objective(X, y, w_star, g.alpha):.15e}")
        if args.descent_bin and (n, epochs) == (wl.n, wl.epochs):
            fit = descent_fit(args.descent_bin, X, y, g)
            w_np, w_star = w_star, np.array(fit["reference_weights"])
            print(f"descent Newton (`descent fit` on the NumPy data): J = "
                  f"{fit['reference_objective']:.15e}; max |w_Newton(descent) - "
                  f"w_Newton(NumPy)| = {np.abs(w_star - w_np).max():.3e}")
            rows.append({"name": "descent `fused` via `fit` on the NumPy data",
                         "precision": "f64", "solve": None, "e2e": fit["seconds"],
                         "weights": fit["weights"]})
        ref_name, ref = pick_ref(rows)
        table(X, y, g, rows, w_star, ref_name, ref)
        del X, y


if __name__ == "__main__":
    main()
