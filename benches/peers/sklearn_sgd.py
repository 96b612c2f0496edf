#!/usr/bin/env python3
"""scikit-learn's SGDClassifier on the `minibatch` workload: stochastic gradient descent on the
same data and the same objective, but with batches of ONE row (sklearn's SGD has no
mini-batches) in its own shuffled order (random_state = the workload's shuffle seed, not
descent's row order), so its iterates are not descent's.

SGDClassifier(loss="log_loss", penalty="l2", alpha=alpha) minimises
(1/N) sum(loss) + alpha/2 |w|^2 with the intercept unpenalized: exactly descent's J with the
same alpha. The constant step eta0 is, by default, the workload's mu divided by its batch size
(the same step per row: B = 1 steps of mu/B take about the same path as B-row steps of mu);
--eta0 overrides it. max_iter = the workload's epochs and tol=None, so every run makes exactly
that many passes. Prints one JSON line per run with sklearn's `n_iter_` and `t_`."""

import argparse
import os
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # for workloads.py
sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree

try:
    import sklearn
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import SGDClassifier
except ImportError:
    sys.exit("sklearn_sgd.py: scikit-learn is not installed")

import workloads as W


def main():
    # --eta0 is this script's own option; the rest is the peers' shared CLI.
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--eta0", type=float, help="constant step (default: mu / batch size)")
    own, rest = pre.parse_known_args()
    sys.argv = [sys.argv[0]] + rest
    args = W.parse_args(__doc__, ["sgd"])
    device = W.cpu_name()
    for name in args.workloads:
        wl = W.workload(args, name)
        if not wl.batch:
            sys.exit(f"sklearn_sgd.py: {name} is not a mini-batch workload (use minibatch)")
        X, y = W.make_data(wl)
        eta0 = own.eta0 if own.eta0 is not None else wl.mu / wl.batch
        clf = SGDClassifier(loss="log_loss", penalty="l2", alpha=wl.alpha,
                            learning_rate="constant", eta0=eta0, max_iter=wl.epochs, tol=None,
                            shuffle=True, random_state=wl.shuffle_seed, average=False)

        def run():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                clf.fit(X, y)
            return [float(clf.intercept_[0])] + clf.coef_[0].tolist()

        w, times = W.bench(run, args.repeats)
        W.emit("sklearn", f"SGDClassifier(B=1, eta0={eta0:g})", wl, "f64", device, times, w,
               objective=W.objective(X, y, w, wl.alpha), eta0=eta0, iterations=int(clf.n_iter_),
               updates=int(clf.t_ - 1), sklearn=sklearn.__version__)


if __name__ == "__main__":
    main()
