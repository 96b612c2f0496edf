"""descent: gradient descent on any GPU (wgpu + WGSL) or the CPU, checked against a
reference on every fit, as scikit-learn estimators.

    >>> from descent import GDRegressor
    >>> GDRegressor(backend="gpu").fit(X, y).predict(X)

``adapters()`` lists the GPU adapters; ``reproduce()`` re-runs the article's experiment.
"""

import os as _os
import sys as _sys
import tempfile as _tempfile

# Mesa's Vulkan drivers print "error: XDG_RUNTIME_DIR is invalid or not set" each time an
# instance is created on a headless Linux machine (no login session), though nothing fails.
# Any existing directory quiets them; the CLI sets the same default for itself. A value
# already set is left alone.
if _sys.platform.startswith("linux") and not _os.environ.get("XDG_RUNTIME_DIR"):
    _os.environ["XDG_RUNTIME_DIR"] = _tempfile.gettempdir()

from ._api import adapters, reproduce  # noqa: E402
from ._descent import __version__  # noqa: E402
from ._estimators import GDClassifier, GDRegressor  # noqa: E402

__all__ = ["GDClassifier", "GDRegressor", "adapters", "reproduce", "__version__"]
