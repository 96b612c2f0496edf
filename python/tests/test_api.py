"""adapters(), reproduce(), Ctrl-C and the GPU backend from Python."""

import _thread
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from sklearn.exceptions import NotFittedError

import descent
from descent import GDClassifier, GDRegressor, _descent

# The article's gradient-descent answer (numpy, float64); `naive` reproduces it bit for bit.
ARTICLE = [2.959859852416156, 2.0329649630002757]


def cli():
    """The descent binary (scripts/test sets DESCENT_BIN to the one cargo built)."""
    path = os.environ.get("DESCENT_BIN")
    if not path or not os.path.exists(path):
        pytest.skip("DESCENT_BIN does not name the descent binary")
    return path


def test_adapters_is_the_clis_list():
    listed = descent.adapters()
    assert isinstance(listed, list)
    for a in listed:
        assert {"index", "name", "backend", "shader_f64", "subgroups"} <= set(a)
    out = subprocess.run(
        [cli(), "adapters", "--json"], capture_output=True, text=True, check=True
    )
    # The whole records, not only the names: capabilities and limits as the CLI reports them.
    assert json.loads(out.stdout) == listed


def test_reproduce_on_naive_is_the_articles_answer_bit_for_bit():
    r = descent.reproduce(workload="seed", backends=["naive"])
    assert r["workload"]["name"] == "seed"
    assert r["runs"][0]["backend"] == "naive"
    assert r["runs"][0]["weights"] == ARTICLE


def strip_times(v):
    """The JSON without what varies from run to run (timings)."""
    if isinstance(v, dict):
        return {k: strip_times(x) for k, x in v.items() if "seconds" not in k}
    if isinstance(v, list):
        return [strip_times(x) for x in v]
    return v


def test_reproduce_returns_the_same_dict_as_the_clis_json():
    ours = descent.reproduce(
        workload="seed", backends=["naive", "fused"], n=2_000, epochs=500
    )
    out = subprocess.run(
        [cli(), "reproduce", "--json", "--n", "2000", "--epochs", "500",
         "--backends", "naive,fused"],
        capture_output=True, text=True, check=True,
    )
    theirs = json.loads(out.stdout)
    assert ours.keys() == theirs.keys()
    assert strip_times(ours) == strip_times(theirs)
    assert ours["workload"]["name"] == "custom"


def test_reproduce_takes_the_clis_mini_batch_overrides():
    args = dict(n=600, epochs=2, batch_size=50, shuffle_seed=9)
    ours = descent.reproduce(workload="minibatch", backends=["fused"], **args)
    out = subprocess.run(
        [cli(), "reproduce", "--json", "--workload", "minibatch", "--backends", "fused"]
        + [f"--{k.replace('_', '-')}={v}" for k, v in args.items()],
        capture_output=True, text=True, check=True,
    )
    assert strip_times(ours) == strip_times(json.loads(out.stdout))
    assert ours["workload"]["batch_size"] == 50
    assert ours["workload"]["shuffle_seed"] == 9
    other = descent.reproduce(workload="minibatch", backends=["fused"], **{**args, "shuffle_seed": 10})
    assert other["runs"][0]["weights"] != ours["runs"][0]["weights"]


def test_reproduce_errors_are_the_clis():
    with pytest.raises(ValueError, match="unknown workload 'nope'"):
        descent.reproduce(workload="nope")
    with pytest.raises(ValueError, match="unknown backend 'tpu'"):
        descent.reproduce(backends=["tpu"])


@pytest.mark.parametrize(
    "kwargs,message",
    [
        # Bad arguments are bad input (ValueError), never PyO3's TypeError or OverflowError.
        (dict(n=-1), "invalid n: -1 (expected a non-negative integer)"),
        (dict(n="10"), "invalid n: '10' (expected a non-negative integer)"),
        (dict(n=2.5), "invalid n: 2.5 (expected a non-negative integer)"),
        (dict(epochs=True), "invalid epochs: True (expected a non-negative integer)"),
        (dict(seed=2**64), "invalid seed: 18446744073709551616 (at most 2^64 - 1)"),
        (dict(batch_size=-4), "invalid batch_size: -4"),
        (dict(features=[3]), "invalid features: [3]"),
        (dict(mu="auto"), "invalid mu: 'auto' (expected a number)"),
        (dict(backends=5), "invalid backends: 5"),
        (dict(backends=b"naive"), "invalid backends: b'naive'"),
        (dict(mu=10**400), "invalid mu: 1000"),
        (dict(backends=["fused", 3]), "invalid backends: 3 (expected a string)"),
        (dict(workload=None), "invalid workload: None (expected a string)"),
        (dict(precision=64), "invalid precision: 64 (expected a string)"),
    ],
)
def test_reproduce_refuses_bad_arguments_with_a_value_error(kwargs, message):
    with pytest.raises(ValueError) as e:
        descent.reproduce(backends=kwargs.pop("backends", ["naive"]), **kwargs)
    assert str(e.value).startswith(message), str(e.value)


def test_reproduce_takes_numpy_integers_and_floats():
    ours = descent.reproduce(
        backends=["fused"], n=np.int64(500), epochs=np.uint32(20), mu=np.float32(0.125)
    )
    plain = descent.reproduce(backends=["fused"], n=500, epochs=20, mu=0.125)
    assert strip_times(ours) == strip_times(plain)


@pytest.fixture
def sigint():
    """Python's own SIGINT handler, as in an interactive session. A process started in the
    background by a non-interactive shell (CI may be one) inherits SIGINT ignored, and then
    Python installs no handler and `interrupt_main` does nothing."""
    old = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, old)


def interrupt_after(seconds):
    timer = threading.Timer(seconds, _thread.interrupt_main)
    timer.start()
    return timer


@pytest.mark.parametrize("backend", ["fused", "naive"])
def test_ctrl_c_interrupts_a_long_fit_within_a_second(backend, sigint):
    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(5_000, 4)), rng.normal(size=5_000)
    m = GDRegressor(backend=backend, penalty=None, optimizer="gd", tol=None, epochs=10)
    m.fit(X, y)
    # Long enough to be interrupted (seconds), short enough that a missed interrupt fails
    # the test instead of hanging it.
    m.set_params(epochs=2_000_000)
    timer = interrupt_after(0.5)
    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        m.fit(X, y)
    took = time.monotonic() - start
    timer.join()
    assert took < 2.0, took
    # A fit that raises leaves no half-learned state behind.
    with pytest.raises(NotFittedError):
        m.predict(X)
    # The estimator (and descent) still work afterwards.
    m.set_params(epochs=10).fit(X, y)


def test_ctrl_c_interrupts_the_reference_solve_before_the_epochs(sigint, caplog):
    """The reference solve (Newton here) and the step size take seconds on a large table:
    Ctrl-C stops them within a block of rows too, not only the epochs. (The checks after the
    epochs are tested in tests/long_lived.rs.)"""
    rng = np.random.RandomState(3)
    X = rng.normal(size=(400_000, 32))
    y = (X @ rng.normal(size=32) + rng.normal(size=400_000) > 0).astype(int)
    m = GDClassifier(penalty="l2", alpha=1e-4, tol=None, epochs=1)
    timer = interrupt_after(0.2)
    start = time.monotonic()
    with caplog.at_level(logging.DEBUG, logger="descent"), pytest.raises(KeyboardInterrupt):
        m.fit(X, y)
    took = time.monotonic() - start
    timer.join()
    # Interrupted in descent (it logs "preparing ..." as its checks begin) before the epochs
    # began (it logs "fitting ..." as they start), not in scikit-learn's validation.
    said = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("preparing 400000×32") for m in said), said
    started = [m for m in said if m.startswith("fitting ")]
    assert not started, "the reference finished within 0.2 s: make the table larger"
    assert took < 1.8, took


def test_ctrl_c_interrupts_a_gpu_fit(sigint, gpu_adapters):
    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(5_000, 2)), rng.normal(size=5_000)
    m = GDRegressor(
        backend="gpu", precision="f32", penalty=None, optimizer="gd", tol=None,
        epochs=400_000,
    )
    timer = interrupt_after(1.0)
    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        m.fit(X, y)
    took = time.monotonic() - start
    timer.join()
    # Between command-buffer chunks of 4 dispatches: about a second after the signal on an
    # idle lavapipe (a software adapter, slower still on a busy machine).
    assert took < 8.0, took


def test_gpu_fits_match_the_cpu_and_reuse_one_device(gpu_adapters):
    rng = np.random.RandomState(1)
    X = rng.normal(size=(300, 3))
    y = (X @ [1.0, -2.0, 0.5] + rng.normal(size=300) > 0).astype(int)
    params = dict(penalty="l2", alpha=1e-2, optimizer="gd", tol=None, epochs=200, precision="f32")
    gpu = GDClassifier(backend="gpu", **params).fit(X, y)
    cpu = GDClassifier(backend="fused", **params).fit(X, y)
    np.testing.assert_allclose(gpu.coef_, cpu.coef_, rtol=1e-3, atol=1e-4, equal_nan=False)
    assert gpu.fit_report_["backend"] == "gpu"
    assert gpu.fit_report_["device"] in [a["name"] for a in descent.adapters()]
    # The device is opened once per process and shared by every later fit.
    opened = _descent._devices_opened()
    assert opened >= 1
    again = GDRegressor(backend="gpu", precision="f32", tol=None, epochs=50).fit(X, X[:, 0])
    assert again.fit_report_["backend"] == "gpu"
    assert _descent._devices_opened() == opened


def test_the_article_example_runs_and_reproduces_the_article(tmp_path, has_gpu):
    """examples/article.py end to end: every row runs, and it asserts `naive` is bit-exact."""
    example = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "article.py")
    env = {k: v for k, v in os.environ.items() if k != "XDG_RUNTIME_DIR"}
    out = subprocess.run(
        [sys.executable, example, "--plot", str(tmp_path / "timings.png")],
        capture_output=True, text=True, env=env, timeout=600,
    )
    assert out.returncode == 0, out.stderr
    assert "descent naive reproduces the article's weights bit for bit." in out.stdout
    for row in ["NumPy loop", "descent naive", "descent ndarray", "descent fused"]:
        assert row in out.stdout, out.stdout
    if has_gpu:
        assert "descent gpu" in out.stdout, out.stdout + out.stderr
    # descent quiets Mesa's headless warning (no XDG_RUNTIME_DIR) before it opens a GPU.
    assert "XDG_RUNTIME_DIR" not in out.stderr, out.stderr


def test_a_private_runtime_dir_is_made_only_when_a_gpu_is_touched_without_one(tmp_path):
    """Without XDG_RUNTIME_DIR: importing descent and a CPU fit leave the environment alone;
    the first GPU use names a new directory of the user's own, mode 0700."""
    script = """
import os, stat, numpy as np, descent
assert "XDG_RUNTIME_DIR" not in os.environ
descent.GDRegressor(epochs=5, tol=None).fit(np.eye(4), np.arange(4.0))
assert "XDG_RUNTIME_DIR" not in os.environ
descent.adapters()
d = os.environ["XDG_RUNTIME_DIR"]
st = os.stat(d)
assert stat.S_IMODE(st.st_mode) == 0o700 and st.st_uid == os.getuid(), (d, oct(st.st_mode))
descent.adapters()
assert os.environ["XDG_RUNTIME_DIR"] == d
print("ok")
"""
    env = {k: v for k, v in os.environ.items() if k != "XDG_RUNTIME_DIR"}
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr
    assert "XDG_RUNTIME_DIR is invalid" not in out.stderr, out.stderr


def test_check_chooses_what_verifies_the_fit():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(500, 3)) + 5.0
    y = 1.0 + X @ [2.0, -1.0, 0.5] + 0.1 * rng.normal(size=500)
    ref = GDRegressor(alpha=1e-2, check="reference").fit(X, y).fit_report_
    assert ref["check"] == "reference" and ref["reference_weights"] is not None
    kkt = GDRegressor(alpha=1e-2, check="kkt").fit(X, y).fit_report_
    assert kkt["check"] == "kkt" and kkt["reference_weights"] is None
    # Squared loss with an L2 part: the KKT check proves a bound, and it holds.
    assert 0.0 <= kkt["objective"] - ref["reference_objective"] <= kkt["objective_gap_bound"] + 1e-12
    none = GDRegressor(alpha=1e-2, check="none").fit(X, y).fit_report_
    assert none["check"] == "none" and none["kkt_residual"] is None
    assert set(ref["stages"]) == {"prepare", "reference", "step", "descend", "assess"}
    with pytest.raises(ValueError, match="unknown check 'sometimes'"):
        GDRegressor(check="sometimes").fit(X, y)
