#!/usr/bin/env python3
"""PyTorch gradient descent for least squares (float32): the article's loop with in-place ops,
eagerly and (on CUDA) replayed from a captured CUDA graph. On the `logistic` workload, descent's
L2-penalized logistic step (float32 and float64 with --precisions), eagerly and with each epoch
compiled by torch.compile (variant `compile`). Prints one JSON line per run."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # for workloads.py
sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree

try:
    import torch
except ImportError:
    sys.exit("torch_gd.py: torch is not installed")

import workloads as W

CHUNK = 100  # epochs per captured CUDA graph


class Solver:
    """State of one descent (w, y, err preallocated); step() runs one epoch with in-place ops."""

    def __init__(self, X, d, mu):
        self.X, self.d = X, d
        self.scale = mu * 2 / d.shape[0]  # mu * f, folded into the update's alpha
        p = 1 if X.dim() == 1 else X.shape[1]
        self.w = torch.zeros(1 + p, dtype=d.dtype, device=d.device)
        self.y = torch.zeros_like(d)
        self.err = torch.empty_like(d)

    def reset(self):
        self.w.zero_()
        self.y.zero_()

    def step(self):
        X, w, y, err = self.X, self.w, self.y, self.err
        torch.sub(self.d, y, out=err)
        w[0].add_(err.sum(), alpha=self.scale)
        w[1:].add_(torch.dot(err, X) if X.dim() == 1 else X.T @ err, alpha=self.scale)
        if X.dim() == 1:
            torch.mul(X, w[1], out=y)
        else:
            torch.mv(X, w[1:], out=y)
        y.add_(w[0])


class LogisticSolver:
    """descent's logistic step with in-place ops: err = y - sigmoid(w0 + X w),
    w0 += mu (1/N) sum(err), w += mu [(1/N) X^T err - alpha w], from w = 0."""

    def __init__(self, X, y, mu, alpha):
        self.X, self.y = X, y
        self.scale = mu / y.shape[0]  # mu * (1/N), folded into the update's alpha
        self.mu, self.alpha, self.n = mu, alpha, y.shape[0]
        self.w = torch.zeros(1 + X.shape[1], dtype=y.dtype, device=y.device)
        self.z = torch.empty_like(y)

    def reset(self):
        self.w.zero_()

    def step(self):
        X, w, z = self.X, self.w, self.z
        torch.mv(X, w[1:], out=z)
        z.add_(w[0])
        err = self.y - torch.sigmoid(z)
        g = X.T @ err
        w[0].add_(err.sum(), alpha=self.scale)
        w[1:].add_(g.mul_(1 / self.n).sub_(w[1:], alpha=self.alpha), alpha=self.mu)


def logistic_epoch(X, y, w, mu, alpha):
    """One epoch as a pure function (for torch.compile): returns the new w."""
    err = y - torch.sigmoid(X @ w[1:] + w[0])
    n = y.shape[0]
    g0 = err.sum() / n
    g = (X.T @ err) / n - alpha * w[1:]
    return torch.cat([(w[0] + mu * g0).reshape(1), w[1:] + mu * g])


def compiled(s, epochs):
    step = torch.compile(logistic_epoch, dynamic=False)
    X, y = s.X, s.y
    mu = torch.tensor(s.mu, dtype=y.dtype)
    alpha = torch.tensor(s.alpha, dtype=y.dtype)

    def run():
        w = torch.zeros_like(s.w)
        for _ in range(epochs):
            w = step(X, y, w, mu, alpha)
        return w
    return run


def eager(s, epochs):
    def run():
        s.reset()
        for _ in range(epochs):
            s.step()
        return s.w
    return run


def cuda_graph(s, epochs):
    chunk = min(CHUNK, epochs)
    # Warm up on a side stream before capture, as the PyTorch CUDA graphs docs require.
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(3):
            s.step()
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        for _ in range(chunk):
            s.step()

    def run():
        s.reset()
        for _ in range(epochs // chunk):
            graph.replay()
        for _ in range(epochs % chunk):  # leftover epochs run eagerly
            s.step()
        return s.w
    return run


def main():
    args = W.parse_args(__doc__, ["eager", "cuda_graph", "compile"], (["f32"], ["f32", "f64"]),
                        default_variants=["eager", "cuda_graph"])
    torch.set_float32_matmul_precision("highest")  # true f32 (the default; no TF32)
    cuda = torch.cuda.is_available()
    dev = torch.device("cuda" if cuda else "cpu")
    device = torch.cuda.get_device_name(dev) if cuda else W.cpu_name()
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    if not cuda and "cuda_graph" in args.variants:
        print("torch_gd.py: no CUDA device, skipping cuda_graph", file=sys.stderr)
        args.variants.remove("cuda_graph")
    for name in args.workloads:
        wl = W.workload(args, name)
        X, d = W.make_data(wl)
        if wl.loss == "logistic":
            for prec in args.precisions:
                dt = {"f32": torch.float32, "f64": torch.float64}[prec]
                Xt = torch.from_numpy(X).to(dev, dt).contiguous()
                yt = torch.from_numpy(d).to(dev, dt)
                sync()
                for variant in args.variants:
                    if variant == "cuda_graph":
                        print("torch_gd.py: cuda_graph is least squares only, skipped",
                              file=sys.stderr)
                        continue
                    s = LogisticSolver(Xt, yt, wl.mu, wl.alpha)
                    run = {"eager": eager, "compile": compiled}[variant](s, wl.epochs)
                    w, times = W.bench(run, args.repeats, sync)
                    W.emit("torch", variant, wl, prec, device, times, w.cpu().tolist())
                    del s, run
                del Xt, yt
            continue
        if "compile" in args.variants or args.precisions != ["f32"]:
            print("torch_gd.py: least squares runs eager/cuda_graph in f32 only",
                  file=sys.stderr)
        # Host -> device transfer happens here, outside the timed region.
        X = torch.from_numpy(X).to(dev, torch.float32).contiguous()
        d = torch.from_numpy(d).to(dev, torch.float32)
        sync()
        for variant in (v for v in args.variants if v != "compile"):
            s = Solver(X, d, wl.mu)
            run = {"eager": eager, "cuda_graph": cuda_graph}[variant](s, wl.epochs)
            w, times = W.bench(run, args.repeats, sync)
            W.emit("torch", variant, wl, "f32", device, times, w.cpu().tolist())
            del s, run
        del X, d


if __name__ == "__main__":
    main()
