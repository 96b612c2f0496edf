"""Parity with scikit-learn's linear models on datasets it ships, under the README's
mapping of their parameters to descent's (α, ρ):

    LinearRegression()                ⇔ penalty=None
    Ridge(alpha=a)                    ⇔ penalty="l2",         alpha=2a/N
    Lasso(alpha=a)                    ⇔ penalty="l1",         alpha=2a
    ElasticNet(alpha=a, l1_ratio=r)   ⇔ penalty="elasticnet", alpha=2a, l1_ratio=r
    LogisticRegression(C=c)           ⇔ penalty="l2",         alpha=1/(cN)

Both sides fit the same z-scored features (a penalty on raw features is another problem);
descent runs to a tight tolerance, and its weights must be within 1e-6·max(1, max|w|) of
scikit-learn's, with every coefficient scikit-learn sets to exactly zero exactly zero.
"""

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.linear_model import (
    ElasticNet,
    Lasso,
    LinearRegression,
    LogisticRegression,
    Ridge,
)
from sklearn.preprocessing import StandardScaler

from descent import GDClassifier, GDRegressor


def _close(actual, desired, **kw):
    """np.testing.assert_allclose, but NaN never equals NaN: a NaN on both sides is a failure."""
    np.testing.assert_allclose(actual, desired, equal_nan=False, **kw)


def _equal(actual, desired, **kw):
    """np.testing.assert_array_equal, but NaN never equals NaN."""
    a = np.asarray(actual)
    assert a.dtype.kind not in "fc" or not np.isnan(a).any(), actual
    np.testing.assert_array_equal(actual, desired, **kw)

PARITY = 1e-6
TIGHT = dict(tol=1e-10, check_every=1, epochs=1_000_000, backend="fused", precision="f64")


def diabetes():
    X, y = load_diabetes(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def breast_cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def weights(model):
    return np.concatenate([np.ravel(model.intercept_), np.ravel(model.coef_)])


def assert_parity(ours, theirs):
    a, b = weights(ours), weights(theirs)
    scale = max(1.0, np.max(np.abs(b)))
    assert np.max(np.abs(a - b)) <= PARITY * scale, (a, b)
    zeros = np.flatnonzero(np.ravel(theirs.coef_) == 0.0)
    assert np.all(np.ravel(ours.coef_)[zeros] == 0.0)


REGRESSIONS = [
    ("linear_regression", LinearRegression(), dict(penalty=None)),
    (
        "ridge",
        Ridge(alpha=10.0, solver="cholesky"),
        lambda n: dict(penalty="l2", alpha=2 * 10.0 / n),
    ),
    (
        "lasso",
        Lasso(alpha=10.0, tol=1e-12, max_iter=1_000_000),
        dict(penalty="l1", alpha=2 * 10.0),
    ),
    (
        "elasticnet",
        ElasticNet(alpha=40.0, l1_ratio=0.5, tol=1e-12, max_iter=1_000_000),
        dict(penalty="elasticnet", alpha=2 * 40.0, l1_ratio=0.5),
    ),
]


@pytest.mark.parametrize("name,sk,mapped", REGRESSIONS, ids=[r[0] for r in REGRESSIONS])
def test_regression_parity_on_diabetes(name, sk, mapped):
    X, y = diabetes()
    params = mapped(len(y)) if callable(mapped) else mapped
    ours = GDRegressor(**params, **TIGHT).fit(X, y)
    theirs = sk.fit(X, y)
    assert_parity(ours, theirs)
    assert ours.fit_report_["converged"]
    _close(ours.predict(X), theirs.predict(X), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("C", [0.1, 1.0])
def test_logistic_parity_on_breast_cancer(C):
    X, y = breast_cancer()
    n = len(y)
    ours = GDClassifier(penalty="l2", alpha=1.0 / (C * n), **TIGHT).fit(X, y)
    theirs = LogisticRegression(
        C=C, solver="newton-cholesky", tol=1e-12, max_iter=100_000
    ).fit(X, y)
    assert_parity(ours, theirs)
    _equal(ours.classes_, theirs.classes_)
    _equal(ours.predict(X), theirs.predict(X))
    _close(
        ours.predict_proba(X), theirs.predict_proba(X), rtol=1e-6, atol=1e-8
    )
    _close(
        ours.decision_function(X), theirs.decision_function(X), rtol=1e-6, atol=1e-6
    )


def test_the_reference_descent_checks_against_is_scikit_learns_answer():
    """fit_report_ carries the CLI's reference: OLS here, which LinearRegression finds."""
    X, y = diabetes()
    ours = GDRegressor(penalty=None, **TIGHT).fit(X, y)
    theirs = LinearRegression().fit(X, y)
    assert ours.fit_report_["reference"] == "ols"
    ref = np.array(ours.fit_report_["reference_weights"])
    _close(ref, weights(theirs), rtol=1e-9, atol=1e-9)


def test_gpu_fits_reach_scikit_learns_answer(gpu_adapters):
    """The GPU backend under the same mappings: Ridge on diabetes and LogisticRegression on
    breast cancer, to the same parity, in f64 (lavapipe has SHADER_F64; an adapter without
    it is told apart by its error)."""
    gpu = dict(TIGHT, backend="gpu")
    X, y = diabetes()
    try:
        ours = GDRegressor(penalty="l2", alpha=2 * 10.0 / len(y), **gpu).fit(X, y)
    except RuntimeError as e:
        if "SHADER_F64" in str(e):
            pytest.skip(f"the adapter runs no f64: {e}")
        raise
    assert ours.fit_report_["backend"] == "gpu" and ours.fit_report_["converged"]
    assert_parity(ours, Ridge(alpha=10.0, solver="cholesky").fit(X, y))
    X, y = breast_cancer()
    C = 1.0
    ours = GDClassifier(penalty="l2", alpha=1.0 / (C * len(y)), **gpu).fit(X, y)
    theirs = LogisticRegression(C=C, solver="newton-cholesky", tol=1e-12, max_iter=100_000)
    assert_parity(ours, theirs.fit(X, y))
