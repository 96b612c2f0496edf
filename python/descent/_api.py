"""The command line's `adapters` and `reproduce`, as dicts."""

import atexit
import contextlib
import json
import numbers
import os
import sys
import tempfile
from collections.abc import Iterable

from . import _descent

_mesa_quieted = False


def _quiet_mesa():
    """Before descent first touches a GPU: on a headless Linux machine (no login session, so
    no XDG_RUNTIME_DIR), Mesa's Vulkan drivers print "error: XDG_RUNTIME_DIR is invalid or not
    set" each time an instance is created, though nothing fails. Any directory of the user's
    own quiets them: a private one (mode 0700, as the XDG spec asks) is made once and named in
    this process's environment, which child processes inherit. A value already set is left
    alone, and CPU-only use never gets here. (The CLI sets the same default for itself.)"""
    global _mesa_quieted
    if _mesa_quieted:
        return
    _mesa_quieted = True
    if sys.platform.startswith("linux") and not os.environ.get("XDG_RUNTIME_DIR"):
        path = tempfile.mkdtemp(prefix="descent-xdg-")
        os.environ["XDG_RUNTIME_DIR"] = path
        # Removed at exit unless something put a file there.
        atexit.register(_remove_if_empty, path)


def _remove_if_empty(path):
    with contextlib.suppress(OSError):
        os.rmdir(path)


def _count(name, value):
    """An optional non-negative integer option, as the command line parses it: anything else
    is bad input (ValueError), not the extension's TypeError or OverflowError."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"invalid {name}: {value!r} (expected a non-negative integer)")
    if value >= 2**64:
        raise ValueError(f"invalid {name}: {value!r} (at most 2^64 - 1)")
    return int(value)


def _number(name, value):
    """An optional float option: a real number a float can hold (10**400 is Real, no float)."""
    if value is None:
        return None
    if not isinstance(value, bool) and isinstance(value, numbers.Real):
        with contextlib.suppress(OverflowError):
            return float(value)
    raise ValueError(f"invalid {name}: {value!r} (expected a number)")


def _text(name, value):
    if not isinstance(value, str):
        raise ValueError(f"invalid {name}: {value!r} (expected a string)")
    return value


def _names(name, value):
    """An optional list of names (or one comma-separated string), as that string."""
    if value is None or isinstance(value, str):
        return value
    # bytes are iterable, but of ints.
    if isinstance(value, (bytes, bytearray)) or not isinstance(value, Iterable):
        raise ValueError(
            f"invalid {name}: {value!r} (expected a list of names or a comma-separated string)"
        )
    return ",".join(_text(name, v) for v in value)


def adapters():
    """Every GPU adapter wgpu can open, with the capabilities and limits descent uses.

    The same list as ``descent adapters --json``: one dict per adapter (index, name,
    backend, device_type, shader_f64, subgroups, max_storage_buffer_binding_size, ...).
    An empty list when there is none.
    """
    _quiet_mesa()
    return json.loads(_descent.adapters())


def reproduce(
    workload="seed",
    backends=None,
    precision="f64",
    *,
    n=None,
    features=None,
    epochs=None,
    mu=None,
    seed=None,
    batch_size=None,
    shuffle_seed=None,
    adapter=None,
):
    """Re-run the article's experiment (or a benchmark workload) on descent's backends.

    Returns the same dict as ``descent reproduce --json``: the workload, the reference
    (OLS or Newton) weights, and one entry per backend run with its weights, timings and
    distance to the reference; ``skipped`` names backends that could not run (without an
    explicit ``backends`` list, a missing GPU is skipped, not an error).

    workload : "seed" (the article: N = 10 000, 10 000 epochs), "big", "wide", "logistic" or
        "minibatch" (the logistic data by mini-batch SGD, B = 256).
    backends : list of "naive", "ndarray", "fused", "gpu" (or a comma-separated string);
        None runs them all.
    precision : "f64" or "f32".
    n, features, epochs, mu, seed, batch_size, shuffle_seed : override the workload's (it is
        then named "custom"), as the command line's options of the same names do.
    adapter : GPU adapter index or name substring.

    Ctrl-C raises KeyboardInterrupt at once; the run finishes on its own thread.
    """
    settings = dict(
        workload=_text("workload", workload),
        backends=_names("backends", backends),
        precision=_text("precision", precision),
        n=_count("n", n),
        features=_count("features", features),
        epochs=_count("epochs", epochs),
        mu=_number("mu", mu),
        seed=_count("seed", seed),
        batch_size=_count("batch_size", batch_size),
        shuffle_seed=_count("shuffle_seed", shuffle_seed),
        adapter=None if adapter is None else str(adapter),
    )
    _quiet_mesa()
    return json.loads(_descent.reproduce(**settings))
