#!/usr/bin/env python3
"""JAX gradient descent: the whole epoch loop is one jitted lax.fori_loop on the default device
(GPU if present). Least squares in float32; on the `logistic` workload, descent's L2-penalized
logistic step in float32 and (with --precisions f64, which enables jax_enable_x64) float64.
Prints one JSON line per run."""

import os
import sys
from functools import partial

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # for workloads.py
sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree

try:
    import jax
    import jax.numpy as jnp
except ImportError:
    sys.exit("jax_gd.py: jax is not installed")

import workloads as W


@partial(jax.jit, static_argnames=("epochs",))
def solve(X, d, mu, epochs):
    """X is (N,) for p = 1 or (N, p); same math as the article's loop, carried w only."""
    f = 2.0 / d.shape[0]
    # HIGHEST keeps true f32 products on GPU (the default may use TF32 tensor cores).
    dot = partial(jnp.dot, precision=jax.lax.Precision.HIGHEST)

    def body(_, w):
        y = w[0] + (w[1] * X if X.ndim == 1 else dot(X, w[1:]))
        err = d - y
        grad = f * jnp.concatenate([err.sum()[None], jnp.atleast_1d(dot(err, X))])
        return w + mu * grad

    p = 1 if X.ndim == 1 else X.shape[1]
    return jax.lax.fori_loop(0, epochs, body, jnp.zeros(1 + p, d.dtype))


@partial(jax.jit, static_argnames=("epochs",))
def solve_logistic(X, y, mu, alpha, epochs):
    """err = y - sigmoid(w0 + X w); w0 += mu (1/N) sum(err); w += mu [(1/N) X^T err - alpha w]."""
    f = 1.0 / y.shape[0]
    dot = partial(jnp.dot, precision=jax.lax.Precision.HIGHEST)

    def body(_, w):
        err = y - jax.nn.sigmoid(w[0] + dot(X, w[1:]))
        g = jnp.concatenate([(f * err.sum())[None], f * dot(err, X) - alpha * w[1:]])
        return w + mu * g

    return jax.lax.fori_loop(0, epochs, body, jnp.zeros(1 + X.shape[1], y.dtype))


def main():
    args = W.parse_args(__doc__, ["jit_fori_loop"], (["f32"], ["f32", "f64"]))
    if "f64" in args.precisions:
        jax.config.update("jax_enable_x64", True)  # before any array exists
    dev = jax.devices()[0]
    device = W.cpu_name() if dev.platform == "cpu" else dev.device_kind
    for name in args.workloads:
        wl = W.workload(args, name)
        X, d = W.make_data(wl)
        if wl.loss == "logistic":
            for prec in args.precisions:
                dt = {"f32": jnp.float32, "f64": jnp.float64}[prec]
                Xj = jax.device_put(X.astype(dt), dev).block_until_ready()
                yj = jax.device_put(d.astype(dt), dev).block_until_ready()
                mu, alpha = dt(wl.mu), dt(wl.alpha)
                w, times = W.bench(
                    lambda: solve_logistic(Xj, yj, mu, alpha, wl.epochs).block_until_ready(),
                    args.repeats)
                W.emit("jax", "jit_fori_loop", wl, prec, device, times, w.tolist())
                del Xj, yj
            continue
        if args.precisions != ["f32"]:
            print("jax_gd.py: least squares runs in f32 only", file=sys.stderr)
        # Cast and transfer outside the timed region.
        X = jax.device_put(X.astype("float32"), dev).block_until_ready()
        d = jax.device_put(d.astype("float32"), dev).block_until_ready()
        mu = jnp.float32(wl.mu)
        # bench's warm-up call compiles for these shapes and this epoch count.
        w, times = W.bench(lambda: solve(X, d, mu, wl.epochs).block_until_ready(), args.repeats)
        W.emit("jax", "jit_fori_loop", wl, "f32", device, times, w.tolist())
        del X, d


if __name__ == "__main__":
    main()
