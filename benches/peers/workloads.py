"""Shared workloads, CLI and output for the peer benchmarks (numpy_gd, torch_gd, jax_gd,
sklearn_lr, sklearn_sgd, compare).

Data is always generated in float64 with NumPy so every peer sees the same numbers;
float32 peers cast afterwards. `seed`, `big`, `logistic` and `minibatch` are bit-identical to
descent's own data (numpy's legacy RandomState, which descent reimplements); `checksum`
fingerprints a dataset exactly as descent's `reproduce::logistic_checksum` does, and
`batch_order` gives descent's mini-batch row order.
"""

import argparse
import json
import math
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
    loss: str = "squared"   # or "logistic": J = (1/N) sum[log(1 + e^yhat) - y yhat] + alpha/2 |w|^2
    alpha: float = 0.0      # L2 strength (intercept unpenalized)
    batch: int = 0          # rows per mini-batch (0: full batch)
    shuffle_seed: int = 0   # seed of the mini-batches' row order (descent's `batch_order`)


# descent's src/reproduce.rs: LOGISTIC_MU (1/L = 3.952 rounded down), LOGISTIC_ALPHA, seed 444.
LOGISTIC_MU = 3.9
LOGISTIC_ALPHA = 1e-4
LOGISTIC_SEED = 444
# descent's MINIBATCH_MU, MINIBATCH_BATCH_SIZE, MINIBATCH_SHUFFLE_SEED: the `minibatch`
# workload is the logistic data and objective fitted by mini-batch SGD for 10 epochs.
MINIBATCH_MU = 0.02
MINIBATCH_BATCH_SIZE = 256
MINIBATCH_SHUFFLE_SEED = 444

WORKLOADS = {
    "seed": Workload("seed", 10_000, 1, 10_000, 1e-3),
    "big": Workload("big", 100_000_000, 1, 100, 1e-3),
    "wide": Workload("wide", 1_000_000, 64, 100, 1e-2),
    "logistic": Workload("logistic", 1_000_000, 32, 100, LOGISTIC_MU, "logistic", LOGISTIC_ALPHA),
    "minibatch": Workload("minibatch", 1_000_000, 32, 10, MINIBATCH_MU, "logistic",
                          LOGISTIC_ALPHA, MINIBATCH_BATCH_SIZE, MINIBATCH_SHUFFLE_SEED),
}


def logistic_true_weights(p):
    """[b, w1..wp]: b = 0.5, w_j = +0.5 for odd j, -0.5 for even j (descent's twin)."""
    return np.array([0.5] + [0.5 if j % 2 == 1 else -0.5 for j in range(1, p + 1)])


def logistic_data(n, p, seed=LOGISTIC_SEED):
    """descent's `reproduce::logistic_data`, bit for bit: standard normal X (legacy randn,
    row-major), labels y = [u < sigmoid(b + X w)] with u uniform, z summed column by column."""
    w = logistic_true_weights(p)
    rs = np.random.RandomState(seed)
    X = rs.randn(n, p)
    u = rs.random_sample(n)
    z = w[0] + X[:, 0] * w[1]
    for j in range(1, p):
        z = z + X[:, j] * w[j + 1]  # separate multiply and add: the same roundings as Rust
    y = (u < 1.0 / (1.0 + np.exp(-z))).astype(np.float64)
    return X, y


def checksum(X, y):
    """Exact fingerprint, as descent's `reproduce::logistic_checksum`: over X (row-major) and
    then y, sum(bits(v_i) * (2i + 1)) mod 2^64 of the float64 bit patterns, and the plain sums."""
    def bits(a):
        b = np.ascontiguousarray(a, dtype=np.float64).reshape(-1).view(np.uint64)
        odd = np.arange(b.size, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
        with np.errstate(over="ignore"):
            return int(np.sum(b * odd, dtype=np.uint64))  # wraps mod 2^64, like Rust's wrapping ops
    return {"features_bits": bits(X), "targets_bits": bits(y),
            "features_sum": float(np.sum(X)), "targets_sum": float(np.sum(y))}


def make_data(wl):
    """Return (X, d) in float64: X has shape (n,) when p == 1, else (n, p)."""
    if wl.loss == "logistic":
        return logistic_data(wl.n, wl.features)
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


def parse_args(description, variants, precisions=None, default_variants=None):
    """`precisions`: (default list, allowed list) for scripts that take --precisions;
    `default_variants`: the variants run without --variants (default: all of them)."""
    ap = argparse.ArgumentParser(description=description)
    if precisions:
        ap.add_argument("--precisions", default=",".join(precisions[0]),
                        help="comma list of " + ",".join(precisions[1]))
    ap.add_argument("--workloads", default="seed", help="comma list of " + ",".join(WORKLOADS))
    ap.add_argument("--variants", default=",".join(default_variants or variants),
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
    if precisions:
        args.precisions = args.precisions.split(",")
        for p in args.precisions:
            if p not in precisions[1]:
                ap.error(f"unknown precision {p!r}")
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


def emit(peer, variant, wl, precision, device, times, weights, **extra):
    """Print the single JSON result line for one (workload, variant) run; `extra` fields
    (e.g. iterations of a different algorithm) are appended."""
    print(json.dumps({
        "peer": peer, "variant": variant, "workload": wl.name, "n": wl.n,
        "features": wl.features, "epochs": wl.epochs, "mu": wl.mu,
        "precision": precision, "device": device, "seconds": min(times),
        "all_seconds": times, "weights": [float(v) for v in weights],
        "loss": wl.loss, "alpha": wl.alpha,
        **({"batch_size": wl.batch, "shuffle_seed": wl.shuffle_seed} if wl.batch else {}),
        **extra,
    }), flush=True)


def sigmoid_np(z):
    """sigma(z) without overflow, in z's dtype (descent's form: through e^-|z|)."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e)).astype(z.dtype, copy=False)


def objective(X, y, w, alpha):
    """J(w) in float64: (1/N) sum[max(z, 0) + log1p(e^-|z|) - y z] + alpha/2 |w[1:]|^2."""
    w = np.asarray(w, dtype=np.float64)
    z = w[0] + X @ w[1:]
    loss = np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z))) - y * z
    return float(loss.mean() + 0.5 * alpha * np.dot(w[1:], w[1:]))


# The `minibatch` workload's row order: descent's `model::batches` (a 4-round Feistel network
# with cycle walking, keyed by (seed, epoch) through lowbias32), in vectorized uint32 NumPy.
# It gives exactly descent's order, so a peer on the same data takes the same steps.
_U32 = 0xFFFF_FFFF
FEISTEL_ROUNDS = 4


def hash32(x):
    """Chris Wellons' lowbias32 on uint32 arrays (wrapping), descent's `batches::hash32`."""
    x = np.asarray(x, dtype=np.uint32)
    x = x ^ (x >> np.uint32(16))
    x = x * np.uint32(0x7FEB352D)
    x = x ^ (x >> np.uint32(15))
    x = x * np.uint32(0x846CA68B)
    return x ^ (x >> np.uint32(16))


def _h(x):
    """hash32 of one Python int, as a Python int."""
    with np.errstate(over="ignore"):  # NumPy scalars warn on the wrapping multiply; arrays don't
        return int(hash32(np.uint32(x & _U32)))


def seed_key(seed):
    return _h((seed & _U32) ^ _h(seed >> 32))


def radices(n):
    """descent's `batches::radices`: a from ⌈√n⌉ up to min(64, ⌈√n⌉/8) further, b = ⌈n/a⌉,
    the smallest a·b − n."""
    n = max(n, 1)
    root = math.isqrt(n)
    if root * root < n:
        root += 1
    best = (root, -(-n // root))
    for a in range(root, root + min(root // 8, 64) + 1):
        b = -(-n // a)
        if a * b - n < best[0] * best[1] - n:
            best = (a, b)
        if best[0] * best[1] == n:
            break
    return best


def order_seconds(wl):
    """Seconds NumPy takes to compute every epoch's `batch_order` of `wl` (best of 3): the
    share of a peer's time spent reproducing descent's order rather than fitting."""
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        for epoch in range(wl.epochs):
            batch_order(wl.n, wl.shuffle_seed, epoch)
        best = min(best, time.perf_counter() - t0)
    return best


def batch_order(n, seed, epoch):
    """The rows of epoch `epoch` in descent's order (`batches::Permutation::apply(0..n)`)."""
    key = seed_key(seed)
    keys = [np.uint32(_h((key + _h((epoch * FEISTEL_ROUNDS + r) & _U32)) & _U32))
            for r in range(FEISTEL_ROUNDS)]
    ra, rb = radices(n)

    def feistel(x):
        # Mixed radix: (l, r) ∈ Z_m × Z_m' → (r, (l + F(r)) mod m), the radices swapping.
        l, r = x // np.uint32(rb), x % np.uint32(rb)
        ma, mb = np.uint32(ra), np.uint32(rb)
        for k in keys:
            l, r = r, (l + hash32(r ^ k) % ma) % ma
            ma, mb = mb, ma
        return l * np.uint32(rb) + r

    x = feistel(np.arange(n, dtype=np.uint32))
    out = np.flatnonzero(x >= n)
    while out.size:  # cycle walking: each stray value is walked until it lands below n
        x[out] = feistel(x[out])
        out = out[x[out] >= n]
    return x.astype(np.intp)
