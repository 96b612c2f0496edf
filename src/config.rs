//! Gradient-descent settings, validated before any data is touched (as linfa does).

use crate::error::{Error, Result};
pub use crate::interrupt::Interrupt;
use crate::model::{Model, Optimizer, Schedule};
use crate::names::Setting;
pub use crate::scalar::Precision;

/// Divergence test shared by every backend (CPU `descend`, WGSL `apply_update`): the run has
/// diverged once ‖∇J‖² exceeds this multiple of its first epoch's value. Gradient descent
/// with a step ≤ 2/L on a convex L-smooth objective never lets ‖∇J‖ grow (co-coercivity),
/// so a doubled norm proves the step too large, long before the weights overflow.
pub const GRADIENT_GROWTH_LIMIT: f64 = 4.0;

/// Settings of one gradient-descent run from w = 0 on `model` (the article's, by default:
/// `w += mu * (2/N) * [Σerr, Xᵀerr]`).
#[derive(Debug, Clone, PartialEq)]
pub struct GdConfig {
    /// The objective: loss and penalty.
    pub model: Model,
    /// How steps are taken (plain gradient descent by default).
    pub optimizer: Optimizer,
    /// How the step size changes over the epochs (constant by default).
    pub schedule: Schedule,
    /// Stop once the epoch loss J has not fallen below its best by more than `loss_tol`
    /// for this many epochs in a row (the adaptive schedule divides the step instead).
    pub n_iter_no_change: Option<usize>,
    /// The improvement `n_iter_no_change` asks for (0: any decrease counts).
    pub loss_tol: f64,
    /// Rows per mini-batch (None, or N: the full batch, the article's).
    pub batch_size: Option<usize>,
    /// Seed of the epochs' row orders for mini-batches.
    pub shuffle_seed: u64,
    /// Step size; must be finite and > 0.
    pub mu: f64,
    /// Maximum number of epochs (full passes); must be > 0.
    pub epochs: usize,
    /// Arithmetic precision of the backend.
    pub precision: Precision,
    /// Record the objective J of every epoch (before its update): the mean squared error for
    /// the article's model.
    pub record_loss: bool,
    /// Stop early once the gradient's Euclidean norm falls below this value.
    pub tol: Option<f64>,
    /// How often (in epochs) the tolerance is checked; GPUs check on the device.
    pub check_every: usize,
    /// Lets another thread stop the run (none by default); not a setting of the descent.
    pub interrupt: Interrupt,
}

impl Default for GdConfig {
    /// The article's settings: mu = 0.001, 10 000 epochs, f64.
    fn default() -> Self {
        GdConfig {
            model: Model::LEAST_SQUARES,
            optimizer: Optimizer::GD,
            schedule: Schedule::CONSTANT,
            n_iter_no_change: None,
            loss_tol: 0.0,
            batch_size: None,
            shuffle_seed: 0,
            mu: 0.001,
            epochs: 10_000,
            precision: Precision::F64,
            record_loss: false,
            tol: None,
            check_every: 64,
            interrupt: Interrupt::default(),
        }
    }
}

impl GdConfig {
    /// Epochs of stalled loss that stop the run (or, with the adaptive schedule, divide the
    /// step): `n_iter_no_change`, else the adaptive schedule's default, else none.
    pub fn stall_limit(&self) -> Option<usize> {
        self.n_iter_no_change
            .or((self.schedule.kind == crate::model::ScheduleKind::Adaptive)
                .then_some(crate::model::schedule::DEFAULT_N_ITER_NO_CHANGE))
    }

    /// Checks that need the data: a batch no larger than the table.
    pub fn check_data(&self, data: &crate::data::Dataset) -> Result<()> {
        self.model.check_data(data)?;
        if let Some(b) = self.batch_size {
            if b > data.n() {
                return Err(Error::Config(format!(
                    "batch size {b} is larger than the table's {} rows",
                    data.n()
                )));
            }
        }
        Ok(())
    }

    /// Check every field; called by every backend before any work starts.
    pub fn validate(&self) -> Result<()> {
        self.model.validate()?;
        self.optimizer.validate()?;
        self.schedule.validate()?;
        if self.batch_size == Some(0) {
            return Err(Error::Config("batch size must be at least 1".into()));
        }
        if self.batch_size.is_some() && self.tol.is_some() {
            return Err(Error::Config(format!(
                "tol tests the full-batch gradient, which mini-batches never compute; use {} \
                 to stop on the epoch loss",
                Setting::NIterNoChange.literal("K")
            )));
        }
        if self.n_iter_no_change == Some(0) {
            return Err(Error::Config("n_iter_no_change must be at least 1".into()));
        }
        if !self.loss_tol.is_finite() || self.loss_tol < 0.0 {
            return Err(Error::Config(format!(
                "loss_tol must be a finite number ≥ 0, got {}",
                self.loss_tol
            )));
        }
        if !self.mu.is_finite() || self.mu <= 0.0 {
            return Err(Error::Config(format!(
                "mu must be a finite number > 0, got {}",
                self.mu
            )));
        }
        if self.epochs == 0 {
            return Err(Error::Config("epochs must be at least 1".into()));
        }
        if self.epochs > u32::MAX as usize {
            return Err(Error::Config(format!(
                "epochs must be at most {}, got {}",
                u32::MAX,
                self.epochs
            )));
        }
        if let Some(tol) = self.tol {
            if !tol.is_finite() || tol <= 0.0 {
                return Err(Error::Config(format!(
                    "tol must be a finite number > 0, got {tol}"
                )));
            }
        }
        if self.check_every == 0 {
            return Err(Error::Config("check_every must be at least 1".into()));
        }
        Ok(())
    }
}
