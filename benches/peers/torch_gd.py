#!/usr/bin/env python3
"""PyTorch gradient descent for least squares (float32): the article's loop with in-place ops,
eagerly and (on CUDA) replayed from a captured CUDA graph. On the `logistic` workload, descent's
L2-penalized logistic step (float32 and float64 with --precisions), eagerly and with each epoch
compiled by torch.compile (variant `compile`). On the `minibatch` workload, mini-batch SGD in
descent's row order: `eager` (descent's update by hand, no autograd) and `optim` (what a
PyTorch user writes: nn.Linear, binary_cross_entropy_with_logits, backward, torch.optim.SGD
with weight_decay = alpha on the weights only). Prints one JSON line per run."""

import argparse
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


def minibatch_eager(X, y, wl):
    """descent's mini-batch step by hand: per batch of descent's order (`W.batch_order`,
    computed inside the timed loop), err = y_b - sigmoid(w0 + X_b w), w0 += mu (1/|b|) sum(err),
    w += mu [(1/|b|) X_b^T err - alpha w], from w = 0."""
    n, mu, alpha = y.shape[0], wl.mu, wl.alpha

    def run():
        w = torch.zeros(1 + X.shape[1], dtype=y.dtype, device=y.device)
        for epoch in range(wl.epochs):
            order = torch.from_numpy(W.batch_order(n, wl.shuffle_seed, epoch)).to(y.device)
            for rows in torch.split(order, wl.batch):
                Xb, yb = X.index_select(0, rows), y.index_select(0, rows)
                z = torch.mv(Xb, w[1:]).add_(w[0])
                err = yb.sub_(torch.sigmoid(z))
                f = 1 / rows.shape[0]
                w[0].add_(err.sum(), alpha=mu * f)
                w[1:].add_(torch.mv(Xb.T, err).mul_(f).sub_(w[1:], alpha=alpha), alpha=mu)
        return w
    return run


def minibatch_optim(X, y, wl):
    """The textbook PyTorch loop on the same batches: nn.Linear from zero, the mean
    binary_cross_entropy_with_logits of the batch, backward, torch.optim.SGD (lr = mu,
    weight_decay = alpha on the weights, none on the bias). The same iterates as descent's."""
    n = y.shape[0]
    F = torch.nn.functional

    def run():
        lin = torch.nn.Linear(X.shape[1], 1, dtype=y.dtype, device=y.device)
        with torch.no_grad():
            lin.weight.zero_()
            lin.bias.zero_()
        opt = torch.optim.SGD([{"params": [lin.weight], "weight_decay": wl.alpha},
                               {"params": [lin.bias], "weight_decay": 0.0}], lr=wl.mu)
        for epoch in range(wl.epochs):
            order = torch.from_numpy(W.batch_order(n, wl.shuffle_seed, epoch)).to(y.device)
            for rows in torch.split(order, wl.batch):
                opt.zero_grad()
                loss = F.binary_cross_entropy_with_logits(lin(X[rows]).squeeze(1), y[rows])
                loss.backward()
                opt.step()
        with torch.no_grad():
            return torch.cat([lin.bias, lin.weight[0]])
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
    # --threads is this script's own option (torch.set_num_threads); the rest is shared.
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--threads", type=int, help="torch intra-op threads (default: torch's)")
    own, rest = pre.parse_known_args()
    sys.argv = [sys.argv[0]] + rest
    if own.threads:
        torch.set_num_threads(own.threads)
    args = W.parse_args(__doc__, ["eager", "cuda_graph", "compile", "optim"],
                        (["f32"], ["f32", "f64"]),
                        default_variants=["eager", "cuda_graph"])
    torch.set_float32_matmul_precision("highest")  # true f32 (the default; no TF32)
    cuda = torch.cuda.is_available()
    dev = torch.device("cuda" if cuda else "cpu")
    device = torch.cuda.get_device_name(dev) if cuda else W.cpu_name()
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    if not cuda and "cuda_graph" in args.variants:
        print("torch_gd.py: no CUDA device, skipping cuda_graph", file=sys.stderr)
        args.variants.remove("cuda_graph")
    variants = list(args.variants)
    for name in args.workloads:
        args.variants = list(variants)  # `optim` is dropped for full-batch workloads only
        wl = W.workload(args, name)
        X, d = W.make_data(wl)
        if wl.batch:
            order_s = W.order_seconds(wl)
            for prec in args.precisions:
                dt = {"f32": torch.float32, "f64": torch.float64}[prec]
                Xt = torch.from_numpy(X).to(dev, dt).contiguous()
                yt = torch.from_numpy(d).to(dev, dt)
                sync()
                for variant in args.variants:
                    if variant not in ("eager", "optim"):
                        print(f"torch_gd.py: {variant} has no mini-batch loop, skipped",
                              file=sys.stderr)
                        continue
                    run = {"eager": minibatch_eager, "optim": minibatch_optim}[variant](
                        Xt, yt, wl)
                    w, times = W.bench(run, args.repeats, sync)
                    w = w.detach().cpu().double().numpy()
                    W.emit("torch", variant, wl, prec, device, times, w.tolist(),
                           objective=W.objective(X, d, w, wl.alpha), order_seconds=order_s,
                           threads=torch.get_num_threads(), torch=torch.__version__)
                del Xt, yt
            continue
        if "optim" in args.variants:
            print("torch_gd.py: optim is for the minibatch workload only, skipped",
                  file=sys.stderr)
            args.variants.remove("optim")
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
