#!/usr/bin/env python3
"""scikit-learn's LogisticRegression on the `logistic` workload: a DIFFERENT algorithm
(L-BFGS, a quasi-Newton method), timed for scale, not a like-for-like peer of gradient descent.
Same data and the same objective: C = 1/(alpha N) makes sklearn's
C sum(loss) + 1/2 |w|^2 equal to N times J = (1/N) sum(loss) + alpha/2 |w|^2 (intercept
unpenalized with lbfgs). Prints one JSON line per run with `iterations` (sklearn's n_iter_)."""

import os
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # for workloads.py
sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree

try:
    import sklearn
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
except ImportError:
    sys.exit("sklearn_lr.py: scikit-learn is not installed")

import workloads as W


def main():
    args = W.parse_args(__doc__, ["lbfgs"])
    if args.workloads != ["logistic"]:
        sys.exit("sklearn_lr.py: only the logistic workload has a classifier to fit")
    device = W.cpu_name()
    for name in args.workloads:
        wl = W.workload(args, name)
        X, y = W.make_data(wl)
        # max_iter plays the role of the epoch count; sklearn's default tol (1e-4) may stop
        # it earlier, and `iterations` says when.
        clf = LogisticRegression(C=1.0 / (wl.alpha * wl.n), solver="lbfgs", max_iter=wl.epochs)

        def run():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                clf.fit(X, y)
            return [float(clf.intercept_[0])] + clf.coef_[0].tolist()

        w, times = W.bench(run, args.repeats)
        W.emit("sklearn", "LogisticRegression(lbfgs)", wl, "f64", device, times, w,
               iterations=int(clf.n_iter_[0]), max_iter=clf.max_iter, tol=clf.tol,
               sklearn=sklearn.__version__)


if __name__ == "__main__":
    main()
