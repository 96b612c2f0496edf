"""scikit-learn estimators on descent's fit: GDRegressor and GDClassifier."""

import contextlib
import json
import numbers
import warnings

import numpy as np
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, check_random_state, validate_data

from . import _descent
from ._api import _quiet_mesa

_PRECISIONS = {"f32": "f32", "float32": "f32", "f64": "f64", "float64": "f64"}
# X dtypes descent reads as they are (C-contiguous ones in place); anything else is
# converted once, by scikit-learn's validate_data, to the first (float64).
_DTYPES = [np.float64, np.float32]
# Values of a float32 X widened at a time by predict: 8 MiB of float64.
_PREDICT_VALUES = 1 << 20

# Descent's objective, shared by both estimators' docstrings.
_OBJECTIVE = """
    The objective is descent's, the same as the command line's::

        J(w0, w) = (1/N)·Σ ℓ(y_i, w0 + x_i·w) + alpha·[l1_ratio·‖w‖₁ + (1 − l1_ratio)/2·‖w‖₂²]

    with the intercept w0 never penalized. ``alpha`` and ``l1_ratio`` are descent's α and ρ,
    not scikit-learn's: see the README's mapping (e.g. ``Ridge(alpha=a)`` is
    ``penalty="l2", alpha=2*a/N``).
"""

_PARAMETERS = """
    penalty : {"l2", "l1", "elasticnet", "none"} or None, default="l2"
        The regulariser; None or "none" for none (``alpha`` is then ignored).
    alpha : float, default=1e-4
        The penalty's strength α ≥ 0 (descent's α, see above).
    l1_ratio : float or None, default=None
        ρ in [0, 1] for ``penalty="elasticnet"`` (None: 0.5); ignored by other penalties.
    optimizer : {"gd", "momentum", "nesterov", "adam"}, default="nesterov"
        How steps are taken; "gd" is the article's plain gradient descent.
    momentum : float or None, default=None
        Momentum B for "momentum" (None: 0.9) or "nesterov" (None: adaptive restart).
    beta1, beta2, eps : float or None, default=None
        Adam's settings (None: 0.9, 0.999, 1e-8); ignored by other optimizers.
    mu : float or "auto", default="auto"
        The step size (learning rate); "auto" is 1/L with L the objective's smoothness
        (adam: 1e-3).
    lr_schedule : {"constant", "invscaling", "adaptive"}, default="constant"
        How the step changes over the epochs, as in scikit-learn's SGD.
    power_t : float or None, default=None
        Exponent of "invscaling" (None: 0.25).
    epochs : int, default=10000
        Maximum number of passes over the data.
    tol : float or None, default=1e-6
        Stop once the gradient(-mapping) norm is below ``tol`` (checked every
        ``check_every`` epochs); None runs every epoch. Full batches only: ignored with
        ``batch_size`` (use ``n_iter_no_change`` to stop mini-batch SGD early).
    check_every : int, default=64
        Epochs between ``tol`` checks.
    n_iter_no_change : int or None, default=None
        Stop once the epoch objective has not improved by ``loss_tol`` for this many epochs.
    loss_tol : float, default=0.0
        The improvement ``n_iter_no_change`` asks for.
    batch_size : int or None, default=None
        Rows per mini-batch; None for full-batch gradient descent.
    random_state : int, RandomState or None, default=None
        Seed of the mini-batch order; None is seed 0 (descent's default, deterministic).
    standardize : bool, default=False
        Fit on z-scored features (weights are reported in the original units).
    check : {"auto", "reference", "kkt", "none"}, default="auto"
        What checks the fit after its epochs (``fit_report_["check"]`` says which ran):
        "reference" solves the model's f64 reference (OLS, ridge, Newton) and compares;
        "kkt" computes the optimality residual in one pass and, for the squared loss with
        an L2 part, proven bounds on J − J* and on the distance to the optimum; "none"
        checks nothing; "auto" is "reference" while n·(p+1)² ≤ 2.5e8, else "kkt".
    backend : {"fused", "ndarray", "naive", "gpu"}, default="fused"
        Where the fit runs: a CPU path, or "gpu" (any adapter wgpu can open).
    adapter : int, str or None, default=None
        GPU adapter by index or name substring (see ``descent.adapters()``); None lets
        wgpu choose (WGPU_ADAPTER_NAME, WGPU_BACKEND and WGPU_POWER_PREF are honoured).
    precision : {"f64", "f32"}, default="f64"
        Arithmetic precision of the fit ("float64" and "float32" are accepted too).
    record_loss : bool, default=True
        Record the objective of every epoch in ``loss_curve_``.
"""

_ATTRIBUTES = """
    Attributes
    ----------
    coef_ : ndarray
        The weights w1..wp.
    intercept_ : float or ndarray
        The intercept w0.
    n_iter_ : int
        Epochs run.
    loss_curve_ : ndarray or None
        The objective J of every epoch (before its update), if ``record_loss``.
    n_features_in_ : int
    feature_names_in_ : ndarray of str, if X had string column names
    fit_report_ : dict
        The command line's ``descent fit --json`` object for this fit: the reference
        (OLS, ridge, Newton or KKT) it was checked against, the objective, warnings, timings,
        device, ...
"""


def _precision(value):
    # A dtype (np.float32, "float64", np.dtype("f4")) names a precision too. None is refused,
    # not read as np.dtype(None) (float64): it would silently pick one.
    key = ""
    if isinstance(value, str):
        key = value
    elif value is not None:
        try:
            key = np.dtype(value).name
        except TypeError:
            pass
    try:
        return _PRECISIONS[key.lower()]
    except KeyError:
        raise ValueError(
            f"invalid configuration: unknown precision '{value}' (expected f32 or f64)"
        ) from None


def _seed(random_state):
    if random_state is None:
        return 0
    if isinstance(random_state, numbers.Integral):
        if random_state < 0:
            raise ValueError(f"random_state must be ≥ 0, got {random_state}")
        return int(random_state)
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


class _GDBase(BaseEstimator):
    """What both estimators share: settings, the call into descent, the learned weights."""

    _loss = None

    def _settings(self):
        penalty = "none" if self.penalty is None else str(self.penalty).lower()
        optimizer = str(self.optimizer).lower()
        s = {
            "loss": self.loss,
            "penalty": penalty,
            "optimizer": optimizer,
            "lr_schedule": self.lr_schedule,
            "mu": self.mu,
            "epochs": self.epochs,
            "check_every": self.check_every,
            "n_iter_no_change": self.n_iter_no_change,
            "loss_tol": self.loss_tol,
            "batch_size": self.batch_size,
            "shuffle_seed": _seed(self.random_state),
            "standardize": bool(self.standardize),
            "check": self.check,
            "backend": self.backend,
            "precision": _precision(self.precision),
            "record_loss": bool(self.record_loss),
            # A table with fewer rows than columns, or collinear columns, has no unique
            # unpenalised optimum: descent runs anyway (from w = 0 gradient descent finds
            # the minimum-norm one), as scikit-learn's LinearRegression does.
            "allow_rank_deficient": True,
        }
        # Settings that belong to one penalty, optimizer or schedule are passed to it only
        # (scikit-learn ignores them elsewhere; the command line refuses them).
        if penalty != "none":
            s["alpha"] = self.alpha
        if penalty == "elasticnet":
            s["l1_ratio"] = self.l1_ratio
        if optimizer in ("momentum", "nesterov"):
            s["momentum"] = self.momentum
        if optimizer == "adam":
            s.update(beta1=self.beta1, beta2=self.beta2, eps=self.eps)
        if self.lr_schedule == "invscaling":
            s["power_t"] = self.power_t
        # `tol` tests the full-batch gradient, which mini-batch SGD never forms (the command
        # line refuses --tol with --batch-size): with mini-batches it is ignored, and
        # `n_iter_no_change` is the stopping rule, as in scikit-learn's SGD.
        if self.batch_size is None:
            s["tol"] = self.tol
        return s

    # What a fit learns: a fit that raises (bad settings, Ctrl-C) leaves none of it behind.
    _LEARNED = (
        "coef_", "intercept_", "n_iter_", "loss_curve_", "fit_report_", "classes_",
        "n_features_in_", "feature_names_in_", "_x_read_in_place", "_x_address",
    )

    def _forget(self):
        for name in self._LEARNED:
            self.__dict__.pop(name, None)

    @contextlib.contextmanager
    def _fitting(self):
        self._forget()
        try:
            yield
        except BaseException:
            self._forget()
            raise

    def _descend(self, X, y, stacklevel=3):
        """Fit descent on validated float64 or float32 C-ordered X and float y; set the
        attributes.
        `stacklevel` makes warnings point at the caller of `fit`."""
        if str(self.backend).lower() == "gpu":
            _quiet_mesa()
        names = getattr(self, "feature_names_in_", None)
        names = (
            [str(n) for n in names]
            if names is not None
            else [f"x{j + 1}" for j in range(X.shape[1])]
        )
        # Aligned as Rust reads them: validate_data keeps a view at an odd byte offset
        # (np.frombuffer(..., offset=1)) as it is, and only such an array is copied here.
        out = _descent.fit(
            np.require(X, requirements="CA"),
            np.require(y, dtype=np.float64, requirements="CA"),
            names,
            self._settings(),
            self.adapter,
        )
        report = json.loads(out["report"])
        for w in report["warnings"]:
            warnings.warn(w["message"], ConvergenceWarning, stacklevel=stacklevel)
        self.fit_report_ = report
        self.n_iter_ = int(report["epochs_run"])
        self.loss_curve_ = out["loss_history"]
        self._x_read_in_place = bool(out["features_borrowed"])
        self._x_address = out["features_address"]
        # K intercepts and the p × K weight matrix (K = 1 for both estimators).
        return out["intercepts"], out["coef"]

    def _decision(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=_DTYPES)
        coef, b = np.ravel(self.coef_), np.ravel(self.intercept_)[0]
        if X.dtype == coef.dtype:
            return X @ coef + b
        # float32 X: NumPy would widen all of X to float64 for the product; widening a block
        # of rows at a time bounds that copy. (The BLAS may sum a short block's rows in
        # another order than the whole array's: the same values to rounding.)
        out = np.empty(X.shape[0])
        step = max(1, _PREDICT_VALUES // max(1, X.shape[1]))
        for i in range(0, X.shape[0], step):
            out[i : i + step] = X[i : i + step].astype(np.float64) @ coef + b
        return out


class GDRegressor(RegressorMixin, _GDBase):
    __doc__ = (
        """Least-squares regression by gradient descent on any GPU or the CPU (descent).

    The loss is the squared error (y − ŷ)², the article's.
"""
        + _OBJECTIVE
        + """
    Parameters
    ----------
    loss : {"squared"}, default="squared"
        The only loss of a regressor (kept for scikit-learn's parameter contract).
"""
        + _PARAMETERS
        + _ATTRIBUTES
    )

    _loss = "squared"

    def __init__(
        self,
        *,
        loss="squared",
        penalty="l2",
        alpha=1e-4,
        l1_ratio=None,
        optimizer="nesterov",
        momentum=None,
        beta1=None,
        beta2=None,
        eps=None,
        mu="auto",
        lr_schedule="constant",
        power_t=None,
        epochs=10_000,
        tol=1e-6,
        check_every=64,
        n_iter_no_change=None,
        loss_tol=0.0,
        batch_size=None,
        random_state=None,
        standardize=False,
        check="auto",
        backend="fused",
        adapter=None,
        precision="f64",
        record_loss=True,
    ):
        self.loss = loss
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.optimizer = optimizer
        self.momentum = momentum
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.mu = mu
        self.lr_schedule = lr_schedule
        self.power_t = power_t
        self.epochs = epochs
        self.tol = tol
        self.check_every = check_every
        self.n_iter_no_change = n_iter_no_change
        self.loss_tol = loss_tol
        self.batch_size = batch_size
        self.random_state = random_state
        self.standardize = standardize
        self.check = check
        self.backend = backend
        self.adapter = adapter
        self.precision = precision
        self.record_loss = record_loss

    def fit(self, X, y):
        """Fit the model from w = 0; returns self."""
        # Inside _fitting: a refit that fails on any setting leaves no earlier fit behind.
        with self._fitting():
            if self.loss != "squared":
                raise ValueError(
                    f"GDRegressor fits the squared loss only, got loss={self.loss!r} "
                    "(GDClassifier fits the logistic loss)"
                )
            X, y = validate_data(self, X, y, dtype=_DTYPES, order="C", y_numeric=True)
            b, W = self._descend(X, y)
        self.intercept_ = float(b[0])
        self.coef_ = np.array(W[:, 0])
        return self

    def predict(self, X):
        """ŷ = intercept_ + X·coef_."""
        return self._decision(X)


class GDClassifier(ClassifierMixin, _GDBase):
    __doc__ = (
        """Binary logistic regression by gradient descent on any GPU or the CPU (descent).

    The loss is log(1 + e^ŷ) − y·ŷ with y ∈ {0, 1}: ``classes_[1]`` is the positive
    class. More than two classes is an error.
"""
        + _OBJECTIVE
        + """
    Parameters
    ----------
    loss : {"logistic"}, default="logistic"
        The only loss of a classifier (kept for scikit-learn's parameter contract).
"""
        + _PARAMETERS
        + _ATTRIBUTES
        + """    classes_ : ndarray of shape (2,)
        The two labels; ``classes_[1]`` is the positive one.
"""
    )

    _loss = "logistic"

    def __init__(
        self,
        *,
        loss="logistic",
        penalty="l2",
        alpha=1e-4,
        l1_ratio=None,
        optimizer="nesterov",
        momentum=None,
        beta1=None,
        beta2=None,
        eps=None,
        mu="auto",
        lr_schedule="constant",
        power_t=None,
        epochs=10_000,
        tol=1e-6,
        check_every=64,
        n_iter_no_change=None,
        loss_tol=0.0,
        batch_size=None,
        random_state=None,
        standardize=False,
        check="auto",
        backend="fused",
        adapter=None,
        precision="f64",
        record_loss=True,
    ):
        self.loss = loss
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.optimizer = optimizer
        self.momentum = momentum
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.mu = mu
        self.lr_schedule = lr_schedule
        self.power_t = power_t
        self.epochs = epochs
        self.tol = tol
        self.check_every = check_every
        self.n_iter_no_change = n_iter_no_change
        self.loss_tol = loss_tol
        self.batch_size = batch_size
        self.random_state = random_state
        self.standardize = standardize
        self.check = check
        self.backend = backend
        self.adapter = adapter
        self.precision = precision
        self.record_loss = record_loss

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags

    def fit(self, X, y):
        """Fit the model from w = 0; returns self."""
        # Inside _fitting: a refit that fails on any setting leaves no earlier fit behind.
        with self._fitting():
            if self.loss != "logistic":
                raise ValueError(
                    f"GDClassifier fits the logistic loss only, got loss={self.loss!r} "
                    "(GDRegressor fits the squared loss)"
                )
            b, W = self._fit_binary(X, y)
        self.intercept_ = np.array(b)
        self.coef_ = np.array(W.T)
        return self

    def _fit_binary(self, X, y):
        X, y = validate_data(self, X, y, dtype=_DTYPES, order="C")
        check_classification_targets(y)
        y_type = type_of_target(y, input_name="y")
        if y_type not in ("binary",):
            raise ValueError(
                "Only binary classification is supported. The type of the target is "
                f"{y_type}: GDClassifier fits binary logistic regression (two classes)."
            )
        classes = np.unique(y)
        if len(classes) < 2:
            raise ValueError(
                f"GDClassifier needs two classes to fit, got 1 class ({classes[0]!r})"
            )
        w = self._descend(X, (y == classes[1]).astype(np.float64), stacklevel=4)
        self.classes_ = classes
        return w

    def decision_function(self, X):
        """ŷ = intercept_ + X·coef_: the log-odds of ``classes_[1]``."""
        return self._decision(X)

    def predict_proba(self, X):
        """[P(classes_[0]), P(classes_[1])] for every row."""
        p = expit(self.decision_function(X))
        return np.column_stack([1.0 - p, p])

    def predict_log_proba(self, X):
        return np.log(self.predict_proba(X))

    def predict(self, X):
        """``classes_[1]`` where the decision function is positive, else ``classes_[0]``."""
        check_is_fitted(self)
        return self.classes_[(self.decision_function(X) > 0).astype(int)]
