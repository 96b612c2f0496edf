#!/usr/bin/env python3
"""The article's experiment from Python: NumPy's gradient-descent loop beside descent's CPU
paths and its GPU backend, on the same data, with a timing plot.

The problem is the one "Pure Python vs NumPy vs TensorFlow" (Real Python) timed: N = 10 000
points, x = linspace(0, 2, N), d = 3 + 2x + 0.1·randn with np.random.seed(444), plain
gradient descent on the mean squared error from w = 0 with mu = 0.001 for 10 000 epochs. The
article's answer is [2.959859852416156, 2.0329649630002757]; descent's `naive` backend returns
it bit for bit.

    pip install ./python            # descent (and numpy, scikit-learn)
    python examples/article.py      # add --plot FILE.png; matplotlib is optional

Times are wall-clock seconds of each call (for descent: `fit`, which also checks the result
against OLS) and, for descent, its own measure of the descent alone (setup + epochs +
read-back, as `descent reproduce` reports).
"""

import argparse
import sys
import time

import numpy as np

import descent
from descent import GDRegressor

ARTICLE = [2.959859852416156, 2.0329649630002757]
N, SIGMA, SEED, MU, EPOCHS = 10_000, 0.1, 444, 0.001, 10_000


def article_data():
    np.random.seed(SEED)
    noise = SIGMA * np.random.randn(N)
    x = np.linspace(0, 2, N)
    d = 3 + 2 * x + noise
    return x, d


def np_descent(x, d, mu, n_epochs):
    """The article's NumPy loop."""
    n = len(x)
    f = 2 / n
    y = np.zeros(n)
    err = np.zeros(n)
    w = np.zeros(2)
    grad = np.empty(2)
    for _ in range(n_epochs):
        np.subtract(d, y, out=err)
        grad[:] = f * np.sum(err), f * (err @ x)
        w = w + mu * grad
        y = w[0] + w[1] * x
    return w


def ulps(a, b):
    """Distance in units in the last place, weight by weight."""
    return [
        int(abs(np.float64(u).view(np.int64) - np.float64(v).view(np.int64)))
        for u, v in zip(a, b)
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--plot", default="article_timings.png", help="where to save the plot")
    parser.add_argument("--no-gpu", action="store_true", help="leave the GPU row out")
    args = parser.parse_args()

    x, d = article_data()
    X = x.reshape(-1, 1)  # C-contiguous float64: descent reads it in place
    rows = []

    start = time.perf_counter()
    w = np_descent(x, d, MU, EPOCHS)
    rows.append(
        ("NumPy loop (the article's)", time.perf_counter() - start, None, [*map(float, w)], "CPU")
    )

    backends = ["naive", "ndarray", "fused"]
    gpus = descent.adapters()
    if args.no_gpu:
        pass
    elif gpus:
        backends.append("gpu")
    else:
        print("no GPU adapter: the gpu row is left out (apt-get install mesa-vulkan-drivers "
              "gives lavapipe, a software one)", file=sys.stderr)
    for backend in backends:
        # The GPU runs f64 where the adapter has SHADER_F64, else f32 (wgpu's GL backend,
        # Apple's Metal), labelled so; the CPU paths run f64 as the article did.
        for precision in ["f64", "f32"] if backend == "gpu" else ["f64"]:
            m = GDRegressor(
                penalty=None, optimizer="gd", mu=MU, epochs=EPOCHS, tol=None,
                backend=backend, precision=precision, record_loss=False,
            )
            start = time.perf_counter()
            try:
                m.fit(X, d)
            except RuntimeError as e:
                print(f"{backend} {precision}: {e}", file=sys.stderr)
                if "SHADER_F64" in str(e):  # an adapter without f64: try f32
                    continue
                break
            wall = time.perf_counter() - start
            rep = m.fit_report_
            label = f"descent {backend}" + ("" if precision == "f64" else " (f32)")
            rows.append(
                (label, wall, rep["seconds"], [*map(float, [m.intercept_, *m.coef_])],
                 rep["device"])
            )
            break

    print(f"N = {N}, mu = {MU}, {EPOCHS} epochs, f64 unless marked f32\n")
    print(f"{'implementation':<28} {'wall s':>9} {'descent s':>10}  weights (vs article, ulps)")
    for name, wall, own, w, device in rows:
        own_s = f"{own:10.4f}" if own is not None else f"{'':>10}"
        print(f"{name:<28} {wall:9.4f} {own_s}  [{w[0]!r}, {w[1]!r}] {ulps(w, ARTICLE)}"
              f"  ({device})")
    naive = next(w for name, _, _, w, _ in rows if name == "descent naive")
    assert naive == ARTICLE, f"naive is not bit-exact with the article: {naive}"
    print("\ndescent naive reproduces the article's weights bit for bit.")

    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plot (pip install matplotlib)")
        return
    names = [r[0] for r in rows]
    walls = [r[1] for r in rows]
    fig, ax = plt.subplots(figsize=(8, 0.6 * len(rows) + 1.5))
    ax.barh(names, walls, color=["#888"] + ["#3a7"] * (len(rows) - 1))
    ax.set_xscale("log")
    ax.invert_yaxis()
    ax.set_xlabel("seconds (wall clock, log scale)")
    ax.set_title(f"Gradient descent, N = {N}, {EPOCHS} epochs (the article's problem)")
    for i, v in enumerate(walls):
        ax.text(v, i, f" {v:.3g} s", va="center")
    fig.tight_layout()
    fig.savefig(args.plot, dpi=120)
    print(f"timing plot: {args.plot}")


if __name__ == "__main__":
    main()
