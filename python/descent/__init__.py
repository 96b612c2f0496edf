"""descent: gradient descent on any GPU (wgpu + WGSL) or the CPU, checked against a
reference on every fit, as scikit-learn estimators.

    >>> from descent import GDRegressor
    >>> GDRegressor(backend="gpu").fit(X, y).predict(X)

``adapters()`` lists the GPU adapters; ``reproduce()`` re-runs the article's experiment.
"""

from ._api import adapters, reproduce
from ._descent import __version__
from ._estimators import GDClassifier, GDRegressor

__all__ = ["GDClassifier", "GDRegressor", "adapters", "reproduce", "__version__"]
