//! The one seam every backend plugs into, and the fit result they all return.

use crate::coefficients::Coefficients;
use crate::config::{GdConfig, Precision};
use crate::data::Dataset;
use crate::error::Result;
use serde::Serialize;
use std::time::Duration;

/// Where a fit's time went. `setup` is conversion and upload, `solve` the epochs alone,
/// `readback` copying results to the host; `total` is their sum as seen by the caller.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Timings {
    pub setup: Duration,
    pub solve: Duration,
    pub readback: Duration,
    /// Solve time measured by GPU timestamp queries, where the adapter has them.
    pub device_solve: Option<Duration>,
}

impl Timings {
    pub fn total(&self) -> Duration {
        self.setup + self.solve + self.readback
    }
}

/// The result of one gradient-descent run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fit {
    /// The intercept(s) and weights, widened to f64 (for one output, `[w0, w1..wp]`).
    pub weights: Coefficients,
    /// The objective J (the MSE for the article's model) of each epoch run, at the point its
    /// gradient was taken (before the update), if recorded.
    pub loss_history: Option<Vec<f64>>,
    /// Epochs actually run (fewer than asked when the tolerance was met).
    pub epochs_run: usize,
    /// True when the run stopped because the gradient(-mapping) norm fell below `tol`.
    pub converged: bool,
    /// True when the run stopped because the epoch loss stopped improving
    /// (`n_iter_no_change`, or the adaptive schedule's floor).
    pub stalled: bool,
    pub timings: Timings,
    /// Backend name: "naive", "ndarray", "fused" or "gpu".
    pub backend: String,
    pub precision: Precision,
    /// Where it ran: the CPU or the adapter's name.
    pub device: String,
    /// max |w − w_OLS|, filled in by [`crate::fitting::fit_checked`].
    pub max_abs_diff_vs_ols: Option<f64>,
}

/// A gradient-descent backend. Implementations validate `cfg` and `data` before any work.
/// `Send + Sync`, so one solver can live inside a long-lived object (a Python estimator) and
/// fit from any thread, several at once.
pub trait Solver: Send + Sync {
    /// Short backend name used in tables and JSON.
    fn name(&self) -> &'static str;
    /// Human-readable device the backend runs on.
    fn device(&self) -> String;
    /// Cheap checks that need no work: is the configuration valid and can this backend take
    /// the data (precision, device limits)? Callers run it for every backend before any fit.
    fn preflight(&self, data: &Dataset, cfg: &GdConfig) -> Result<()> {
        cfg.validate()?;
        cfg.check_data(data)
    }
    /// Run gradient descent from w = 0.
    fn fit(&self, data: &Dataset, cfg: &GdConfig) -> Result<Fit>;
    /// [`Solver::fit`] on data its caller has already passed through
    /// [`Dataset::validate`] (the fitting pipeline's one scan of the data): a backend may
    /// skip its own scan for non-finite values. By default the same as `fit`.
    fn fit_validated(&self, data: &Dataset, cfg: &GdConfig) -> Result<Fit> {
        self.fit(data, cfg)
    }
}
