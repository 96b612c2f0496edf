#!/usr/bin/env python3
"""PyTorch (float32) gradient descent for least squares: the article's loop with in-place ops,
eagerly and (on CUDA) replayed from a captured CUDA graph. Prints one JSON line per run."""

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
    args = W.parse_args(__doc__, ["eager", "cuda_graph"])
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
        # Host -> device transfer happens here, outside the timed region.
        X = torch.from_numpy(X).to(dev, torch.float32).contiguous()
        d = torch.from_numpy(d).to(dev, torch.float32)
        sync()
        for variant in args.variants:
            s = Solver(X, d, wl.mu)
            run = {"eager": eager, "cuda_graph": cuda_graph}[variant](s, wl.epochs)
            w, times = W.bench(run, args.repeats, sync)
            W.emit("torch", variant, wl, "f32", device, times, w.cpu().tolist())
            del s, run
        del X, d


if __name__ == "__main__":
    main()
