"""The estimators' contract: scikit-learn's own checks, pipelines and searches, pickling,
threads, input handling and errors."""

import logging
import pickle
import threading

import numpy as np
import pytest
from sklearn.datasets import load_diabetes, make_classification
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import descent
from descent import GDClassifier, GDRegressor


def _close(actual, desired, **kw):
    """np.testing.assert_allclose, but NaN never equals NaN: a NaN on both sides is a failure."""
    np.testing.assert_allclose(actual, desired, equal_nan=False, **kw)


def _equal(actual, desired, **kw):
    """np.testing.assert_array_equal, but NaN never equals NaN."""
    a = np.asarray(actual)
    assert a.dtype.kind not in "fc" or not np.isnan(a).any(), actual
    np.testing.assert_array_equal(actual, desired, **kw)


@parametrize_with_checks([GDRegressor(), GDClassifier()])
def test_scikit_learn_check_estimator(estimator, check):
    check(estimator)


def regression(n=200, p=5, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, p))
    y = 1.5 + X @ np.arange(1.0, p + 1) + 0.1 * rng.normal(size=n)
    return X, y


def classification(n=200, p=5, seed=0):
    X, y = make_classification(n_samples=n, n_features=p, random_state=seed)
    return X, y


def test_fit_returns_self_and_learns_the_attributes():
    X, y = regression()
    m = GDRegressor()
    assert m.fit(X, y) is m
    assert m.coef_.shape == (5,)
    assert isinstance(m.intercept_, float)
    assert m.n_features_in_ == 5
    assert 0 < m.n_iter_ <= m.epochs
    assert m.loss_curve_.shape == (m.n_iter_,)
    assert m.fit_report_["backend"] == "fused"
    _close(m.coef_, np.arange(1.0, 6.0), atol=0.05)
    assert m.score(X, y) > 0.99

    X, y = classification()
    c = GDClassifier().fit(X, y)
    assert c.coef_.shape == (1, 5)
    assert c.intercept_.shape == (1,)
    _equal(c.classes_, [0, 1])
    assert c.decision_function(X).shape == (200,)
    proba = c.predict_proba(X)
    _close(proba.sum(axis=1), 1.0)
    assert c.score(X, y) > 0.8


def test_string_labels():
    X, y = classification()
    labels = np.where(y == 1, "spam", "ham")
    c = GDClassifier().fit(X, labels)
    _equal(c.classes_, ["ham", "spam"])
    _equal(c.predict(X) == "spam", c.decision_function(X) > 0)


def test_feature_names():
    pd = pytest.importorskip("pandas")
    X, y = classification()
    frame = pd.DataFrame(X, columns=[f"f{j}" for j in range(5)])
    labels = np.where(y == 1, "spam", "ham")
    c = GDClassifier().fit(frame, labels)
    _equal(c.feature_names_in_, frame.columns)
    assert c.fit_report_["feature_names"] == list(frame.columns)
    assert set(c.predict(frame)) <= {"ham", "spam"}


def test_in_a_pipeline_with_a_scaler():
    X, y = load_diabetes(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), GDRegressor(penalty=None, tol=1e-8))
    pipe.fit(X, y)
    assert pipe.score(X, y) > 0.5
    assert pipe[-1].fit_report_["converged"]


def test_in_a_grid_search_over_alpha():
    X, y = regression(n=120)
    search = GridSearchCV(
        GDRegressor(penalty="l1"), {"alpha": [1e-3, 1e-1, 10.0]}, cv=3
    ).fit(X, y)
    assert search.best_params_["alpha"] in (1e-3, 1e-1)
    assert search.best_estimator_.alpha == search.best_params_["alpha"]
    # A large L1 penalty zeroes every coefficient.
    big = GDRegressor(penalty="l1", alpha=100.0).fit(X, y)
    assert np.all(big.coef_ == 0.0)


def test_two_fits_at_once_from_two_threads_match_sequential_fits():
    data = [regression(n=2_000, p=8, seed=s) for s in (1, 2)]
    make = lambda: GDRegressor(penalty=None, optimizer="gd", tol=None, epochs=3_000)
    sequential = [make().fit(X, y).coef_ for X, y in data]
    results = [None, None]
    errors = []

    def work(i):
        try:
            results[i] = make().fit(*data[i]).coef_
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for got, want in zip(results, sequential):
        _equal(got, want)


def test_a_fit_releases_the_gil():
    """Another Python thread keeps running while a fit works."""
    X, y = regression(n=20_000, p=4)
    ticks = []
    done = threading.Event()

    def ticker():
        while not done.is_set():
            ticks.append(1)
            done.wait(0.005)

    t = threading.Thread(target=ticker)
    t.start()
    try:
        GDRegressor(penalty=None, optimizer="gd", tol=None, epochs=4_000, backend="naive").fit(X, y)
    finally:
        done.set()
        t.join()
    assert len(ticks) > 10


def test_pickle_round_trip_predicts_identically():
    X, y = regression()
    for m in (GDRegressor().fit(X, y), GDClassifier().fit(*classification())):
        back = pickle.loads(pickle.dumps(m))
        _equal(back.predict(X), m.predict(X))
        assert back.get_params() == m.get_params()
        _equal(back.coef_, m.coef_)


def test_get_and_set_params_are_verbatim():
    m = GDRegressor(alpha=0.5, mu=0.01, backend="naive", adapter=1, precision="float32")
    p = m.get_params()
    assert (p["alpha"], p["mu"], p["backend"], p["adapter"], p["precision"]) == (
        0.5,
        0.01,
        "naive",
        1,
        "float32",
    )
    assert m.set_params(optimizer="adam", epochs=5) is m
    assert (m.optimizer, m.epochs) == ("adam", 5)


def test_more_than_two_classes_is_a_clear_error():
    X, y = make_classification(
        n_samples=90, n_features=5, n_informative=3, n_classes=3, random_state=0
    )
    with pytest.raises(ValueError, match="Only binary classification is supported"):
        GDClassifier().fit(X, y)
    with pytest.raises(ValueError, match="1 class"):
        GDClassifier().fit(X, np.ones(90))


@pytest.mark.parametrize(
    "params,message",
    [
        # The command line's one-line messages, word for word (a message that names a
        # setting to change names the keyword argument where the command line has its flag:
        # see test_messages_name_the_python_parameters_not_the_command_lines_flags).
        (dict(backend="tpu"), "invalid configuration: unknown backend 'tpu' (expected one of naive, ndarray, fused, gpu)"),
        (dict(epochs=0), "invalid configuration: epochs must be at least 1"),
        (dict(mu="fast"), "invalid configuration: mu must be a number or 'auto', got 'fast'"),
        (dict(optimizer="sgd"), "invalid configuration: unknown optimizer 'sgd'"),
        (dict(penalty="l3"), "invalid configuration: unknown penalty 'l3'"),
        (dict(precision="f16"), "invalid configuration: unknown precision 'f16' (expected f32 or f64)"),
        (dict(batch_size=500, tol=None), "invalid configuration: batch size 500 is larger than the table's 200 rows"),
        (dict(standardize=True), "invalid data: column 'x3' is constant and cannot be standardized"),
        (dict(alpha=-1.0), "invalid configuration: alpha must be a finite number ≥ 0, got -1"),
        (dict(mu=10.0, optimizer="gd", tol=None), "gradient descent diverged at epoch"),
        (dict(epochs=-3), "invalid epochs"),
        # A precision that is not one: refused, not read as NumPy's default dtype.
        (dict(precision=None), "invalid configuration: unknown precision 'None' (expected f32 or f64)"),
        (dict(precision=123), "invalid configuration: unknown precision '123' (expected f32 or f64)"),
        (dict(loss="logistic"), "GDRegressor fits the squared loss only"),
    ],
)
def test_bad_input_is_a_value_error_with_the_clis_message(params, message):
    X, y = regression()
    X[:, 2] = 0.0  # a constant column (only standardizing minds it)
    with pytest.raises(ValueError) as e:
        GDRegressor(**params).fit(X, y)
    assert str(e.value).startswith(message), str(e.value)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # 20 epochs
@pytest.mark.parametrize(
    "make,bad",
    [
        (GDRegressor, dict(loss="logistic")),
        (GDRegressor, dict(precision="f16")),
        (GDRegressor, dict(epochs=0)),
        (GDClassifier, dict(loss="squared")),
        (GDClassifier, dict(backend="tpu")),
    ],
)
def test_a_refit_that_fails_leaves_the_estimator_unfitted(make, bad):
    X, y = regression()
    if make is GDClassifier:
        y = (y > np.median(y)).astype(int)
    m = make(epochs=20, tol=None).fit(X, y)
    m.predict(X)
    with pytest.raises(ValueError):
        m.set_params(**bad).fit(X, y)
    # No weights of the earlier fit are left to be taken for this one's.
    with pytest.raises(NotFittedError):
        m.predict(X)
    assert not hasattr(m, "coef_") and not hasattr(m, "fit_report_")


def test_descent_checks_its_input_before_any_work():
    X, y = regression()
    X[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        GDRegressor().fit(X, y)
    X, y = regression()
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        GDRegressor().fit(X[:10], y)


def test_descents_log_records_reach_python_logging(caplog):
    X, y = regression()
    with caplog.at_level(logging.DEBUG, logger="descent"):
        GDRegressor(backend="naive", epochs=5, tol=None).fit(X, y)
    records = [r for r in caplog.records if r.name.startswith("descent.")]
    assert any("fitting 200×5 (f64 features) on naive" in r.getMessage() for r in records)
    assert any("naive ran 5 epochs" in r.getMessage() for r in records)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="descent"):
        GDRegressor(backend="naive", epochs=5, tol=None).fit(X, y)
    assert not [r for r in caplog.records if r.name.startswith("descent.")]


def test_a_missing_or_unknown_adapter_is_a_runtime_error():
    X, y = regression()
    with pytest.raises(RuntimeError, match="no-such-adapter"):
        GDRegressor(backend="gpu", adapter="no-such-adapter").fit(X, y)


def test_c_contiguous_float64_and_float32_are_read_in_place_and_others_once_converted():
    X, y = regression()
    for dtype in (np.float64, np.float32):
        Xd = np.ascontiguousarray(X, dtype=dtype)
        m = GDRegressor().fit(Xd, y)
        # The fit read NumPy's own buffer: no copy on the way in.
        assert m._x_read_in_place and m._x_address == Xd.ctypes.data, dtype
    # Fortran order, a strided slice and integers are converted once (by NumPy, into a
    # C-ordered array: float32 stays float32, the rest become float64), and that copy is
    # then read in place.
    X32 = X.astype(np.float32)
    for other in (np.asfortranarray(X), np.asfortranarray(X32), X[::1, ::-1],
                  X.round().astype(np.int64)):
        f = GDRegressor().fit(other, y)
        assert f._x_read_in_place and f._x_address != other.ctypes.data
    _equal(
        GDRegressor().fit(np.asfortranarray(X), y).coef_, GDRegressor().fit(X, y).coef_
    )


def test_a_misaligned_x_is_copied_once_and_never_read_misaligned():
    # A float32 view at an odd byte offset: validate_data keeps it as it is, and reading it
    # from Rust would be undefined behaviour, so the estimator copies it (and only it).
    X, y = regression(n=120, p=3)
    raw = np.zeros(X.size * 4 + 1, dtype=np.uint8)
    Xm = raw[1:].view(np.float32).reshape(X.shape)
    Xm[:] = X
    assert not Xm.flags.aligned and Xm.flags.c_contiguous
    m = GDRegressor(epochs=50, tol=None).fit(Xm, y)
    assert m._x_address != Xm.ctypes.data
    ref = GDRegressor(epochs=50, tol=None).fit(np.array(Xm), y)
    _equal(m.coef_, ref.coef_)
    _equal(m.predict(Xm), ref.predict(np.array(Xm)))
    # The extension itself refuses one, in one line, rather than reading it.
    with pytest.raises(ValueError, match="must be aligned arrays"):
        descent._descent.fit(Xm, np.asarray(y, dtype=np.float64), ["a", "b", "c"], {}, None)


def test_predict_widens_a_float32_x_block_by_block_to_the_same_values(monkeypatch):
    X, y = regression(n=301, p=9, seed=3)
    X32 = X.astype(np.float32)
    m = GDRegressor(epochs=100, tol=None).fit(X32, y)
    whole = m.predict(X32.astype(np.float64))
    # 5 rows a block (45 values): 61 blocks, the last one short. The BLAS may add a short
    # block's products in another order, so the values agree to rounding.
    monkeypatch.setattr(descent._estimators, "_PREDICT_VALUES", 45)
    _close(m.predict(X32), whole, rtol=1e-13, atol=1e-13)
    c = GDClassifier(epochs=100, tol=None).fit(X32, y > np.median(y))
    _close(
        c.decision_function(X32), c.decision_function(X32.astype(np.float64)),
        rtol=1e-13, atol=1e-13,
    )


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # 15 epochs
def test_mini_batches_run_with_the_default_tol_which_tests_full_batches_only():
    # tol is a full-batch test: with batch_size it is ignored (the command line refuses it),
    # so the defaults work and give the fit without tol.
    X, y = regression(n=400)
    kw = dict(penalty=None, optimizer="gd", mu=0.01, epochs=15, batch_size=40)
    a = GDRegressor(**kw).fit(X, y)
    b = GDRegressor(tol=None, **kw).fit(X, y)
    _equal(a.coef_, b.coef_)
    assert a.n_iter_ == 15
    assert a.get_params()["tol"] == 1e-6


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("backend", ["naive", "fused", "gpu"])
@pytest.mark.parametrize("precision", ["f32", "f64"])
def test_float32_x_fits_exactly_as_its_float64_widening(backend, precision, request):
    # Every float32 is exactly a float64, so a fit that reads float32 X in place must give,
    # bit for bit, the fit of the same values widened: any difference is a wrong read.
    if backend == "gpu":
        request.getfixturevalue("gpu_adapters")  # skipped or failed without one
    X, y = regression(n=300, p=4, seed=7)
    X32 = (3 * X - 1).astype(np.float32)
    for clf, target in ((GDRegressor, y), (GDClassifier, y > np.median(y))):
        kw = dict(backend=backend, precision=precision, epochs=200, tol=None)
        try:
            a = clf(**kw).fit(X32, target)
        except RuntimeError as e:
            if "SHADER_F64" in str(e):
                pytest.skip(str(e))
            raise
        b = clf(**kw).fit(X32.astype(np.float64), target)
        assert a._x_address == X32.ctypes.data
        _equal(a.coef_, b.coef_)
        _equal(a.intercept_, b.intercept_)
        assert a.fit_report_["objective"] == b.fit_report_["objective"]
        _equal(a.predict(X32), b.predict(X32.astype(np.float64)))


def test_the_fit_leaves_the_input_untouched_and_is_deterministic():
    X, y = regression()
    X0, y0 = X.copy(), y.copy()
    a = GDRegressor(standardize=True).fit(X, y)
    b = GDRegressor(standardize=True).fit(X, y)
    _equal(X, X0)
    _equal(y, y0)
    _equal(a.coef_, b.coef_)


def test_mini_batches_follow_random_state():
    X, y = regression(n=500)
    fit = lambda seed: GDRegressor(
        penalty=None, optimizer="gd", mu=0.01, tol=None, epochs=20, batch_size=32,
        random_state=seed,
    ).fit(X, y).coef_
    _equal(fit(3), fit(3))
    assert not np.array_equal(fit(3), fit(4))
    _equal(fit(None), fit(0))


def test_backends_agree():
    X, y = regression()
    coefs = [
        GDRegressor(backend=b, penalty=None, optimizer="gd", tol=None, epochs=300).fit(X, y).coef_
        for b in ("naive", "ndarray", "fused")
    ]
    for c in coefs[1:]:
        _close(c, coefs[0], rtol=1e-12)


def test_convergence_warnings_carry_descents_message():
    X, y = regression()
    X[:, 0] *= 1e4  # badly scaled: 5 epochs get nowhere
    with pytest.warns(Warning, match="far from the"):
        GDRegressor(epochs=5, tol=None).fit(X, y)


def test_messages_name_the_python_parameters_not_the_command_lines_flags():
    # The library names the settings its messages suggest; Python writes them as the
    # estimators' keyword arguments where the command line has `--mu auto`, `--standardize`.
    X, y = regression()
    with pytest.raises(ValueError) as e:
        GDRegressor(mu=10.0, optimizer="gd", tol=None).fit(X, y)
    diverged = str(e.value)
    assert diverged.startswith("gradient descent diverged at epoch"), diverged
    assert diverged.endswith(
        "the step is too large; use a smaller mu, `mu='auto'`, or `standardize=True`"
    ), diverged
    with pytest.raises(ValueError) as e:
        GDRegressor(penalty="l1", alpha=0.0).fit(X, y)
    assert str(e.value) == (
        "invalid configuration: penalty l1 with alpha = 0 has no L1 part to apply; give "
        "alpha > 0 or use penalty=None"
    )
    # Warnings too: the ConvergenceWarning and fit_report_ carry the same words.
    X[:, 0] *= 1e4
    with pytest.warns(ConvergenceWarning) as caught:
        m = GDRegressor(epochs=5, tol=1e-300, mu=1e-9).fit(X, y)
    messages = [str(w.message) for w in caught if w.category is ConvergenceWarning]
    assert messages == [w["message"] for w in m.fit_report_["warnings"]]
    tol, far = messages
    assert tol.startswith("tol=1e-300 is below what f64 can resolve"), tol
    assert tol.endswith("so the fit will likely run all 5 epochs; use a larger tol"), tol
    assert far.endswith("try standardize=True, or more epochs (ran 5), or mu='auto'"), far
    for message in (diverged, tol, far):
        assert "--" not in message, message


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # 50 epochs
def test_a_rank_deficient_classifier_fits_without_a_reference_and_says_why():
    # Without a penalty, a duplicated column leaves the logistic loss without a unique
    # minimum: like LinearRegression's collinear columns, fitted anyway, with no Newton
    # reference to check against, and the report says why.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 3))
    y = (X @ [1.0, -2.0, 0.5] + rng.normal(size=200) > 0).astype(int)
    X = np.column_stack([X, X[:, 0]])
    m = GDClassifier(penalty=None, epochs=50, tol=None).fit(X, y)
    report = m.fit_report_
    assert (report["reference"], report["reference_weights"]) == ("newton", None)
    note = report["ols_note"]
    assert note.startswith(
        "the Newton reference is rank-deficient: [1 X] has rank 4 but 5 columns (columns "
        "'x1' and 'x4' are identical"
    ), note
    assert "add an L2 penalty, e.g. penalty='l2', alpha=1e-4" in note, note
    assert report["reference_note"] == note
    assert m.predict(X).shape == y.shape


def test_the_report_names_the_references_figures_under_both_names():
    X, y = regression()
    report = GDRegressor().fit(X, y).fit_report_
    assert report["reference"] == "ridge"
    assert report["reference_mse"] == report["ols_mse"] > 0
    assert report["reference_r2"] == report["ols_r2"] > 0.99
    assert report["reference_note"] is report["ols_note"] is None
