"""Shared workloads, CLI and output for the peer benchmarks (numpy_gd, torch_gd, jax_gd).

Data is always generated in float64 with NumPy so every peer sees the same numbers;
float32 peers cast afterwards.
"""

import argparse
import json
import platform
import time
from dataclasses import dataclass, replace

import numpy as np


@dataclass(frozen=True)
class Workload:
    name: str
    n: int
    features: int
    epochs: int
    mu: float


WORKLOADS = {
    "seed": Workload("seed", 10_000, 1, 10_000, 1e-3),
    "big": Workload("big", 100_000_000, 1, 100, 1e-3),
    "wide": Workload("wide", 1_000_000, 64, 100, 1e-2),
}


def make_data(wl):
    """Return (X, d) in float64: X has shape (n,) when p == 1, else (n, p)."""
    if wl.features == 1:
        # The article's recipe (Real Python, "Pure Python vs NumPy vs TensorFlow").
        np.random.seed(444)
        noise = 0.1 * np.random.randn(wl.n)
        x = np.linspace(0, 2, wl.n)
        return x, 3 + 2 * x + noise
    rng = np.random.default_rng(444)
    X = rng.random((wl.n, wl.features))
    noise = rng.standard_normal(wl.n)
    return X, 3 + 2 * X.sum(axis=1) + 0.1 * noise


def parse_args(description, variants):
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--workloads", default="seed", help="comma list of " + ",".join(WORKLOADS))
    ap.add_argument("--variants", default=",".join(variants),
                    help="comma list of " + ",".join(variants))
    ap.add_argument("--repeats", type=int, default=3, help="timed runs; the best is reported")
    ap.add_argument("--epochs", type=int, help="override every workload's epoch count")
    ap.add_argument("--n", type=int, help="override every workload's sample count")
    args = ap.parse_args()
    args.workloads = args.workloads.split(",")
    args.variants = args.variants.split(",")
    for w in args.workloads:
        if w not in WORKLOADS:
            ap.error(f"unknown workload {w!r}")
    for v in args.variants:
        if v not in variants:
            ap.error(f"unknown variant {v!r}")
    if args.repeats < 1:
        ap.error("--repeats must be >= 1")
    return args


def workload(args, name):
    """The named workload with the --n / --epochs overrides applied."""
    wl = WORKLOADS[name]
    if args.n:
        wl = replace(wl, n=args.n)
    if args.epochs:
        wl = replace(wl, epochs=args.epochs)
    return wl


def bench(run, repeats, sync=lambda: None, warmup=True):
    """Time run() `repeats` times (after one untimed warm-up); returns (last result, seconds list).

    `sync` must block until queued device work is done, so it is called on both sides of the clock.
    """
    if warmup:
        run()
    times = []
    for _ in range(repeats):
        sync()
        t0 = time.perf_counter()
        out = run()
        sync()
        times.append(time.perf_counter() - t0)
    return out, times


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def emit(peer, variant, wl, precision, device, times, weights):
    """Print the single JSON result line for one (workload, variant) run."""
    print(json.dumps({
        "peer": peer, "variant": variant, "workload": wl.name, "n": wl.n,
        "features": wl.features, "epochs": wl.epochs, "mu": wl.mu,
        "precision": precision, "device": device, "seconds": min(times),
        "all_seconds": times, "weights": [float(v) for v in weights],
    }), flush=True)
