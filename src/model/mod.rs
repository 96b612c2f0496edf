//! The model a fit minimises, described once and consumed by every backend:
//!
//! J(w0, w) = (1/N)·Σ ℓ(y_i, w0 + x_i·w) + α·[ρ·‖w‖₁ + (1−ρ)/2·‖w‖₂²]
//!
//! A [`Loss`] supplies ℓ (one file each: [`squared`], [`logistic`]) and a [`Penalty`] the
//! regulariser (one file each under [`penalty`]); the intercept w0 is never penalised. On
//! the CPU the per-row pieces are the [`LossFn`] trait, on the GPU one WGSL file per loss
//! and per penalty (shaders/loss_*.wgsl, shaders/penalty_*.wgsl) picked at shader assembly.
//!
//! Every backend takes the same step: with `err_i = −(1/c)·∂ℓ/∂ŷ_i` (c = [`Loss::grad_scale`]),
//! the descent direction of the smooth part is `g = (c/N)·Σ err_i·[1, x_i] − α(1−ρ)·[0, w]`,
//! `w += mu·g`, then the L1 part's proximal step (soft-thresholding by mu·α·ρ). For the
//! squared loss err = d − ŷ and c = 2: the article's `w += mu·(2/N)·[Σerr, Xᵀerr]`, op for op.

pub mod batches;
pub mod logistic;
pub mod optimizer;
pub mod penalty;
pub mod schedule;
pub mod squared;

use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::scalar::Real;
use faer::{Mat, Side};
use serde::Serialize;

pub use optimizer::{Optimizer, OptimizerKind};
pub use penalty::{Penalty, PenaltyKind};
pub use schedule::{Schedule, ScheduleKind};

/// The data term ℓ(y, ŷ) of the objective.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Loss {
    /// ℓ = (y − ŷ)²: the article's mean squared error.
    #[default]
    Squared,
    /// ℓ = log(1 + e^ŷ) − y·ŷ with y ∈ {0, 1}: binary logistic regression.
    Logistic,
}

impl Loss {
    pub const ALL: [Loss; 2] = [Loss::Squared, Loss::Logistic];

    pub fn as_str(self) -> &'static str {
        match self {
            Loss::Squared => "squared",
            Loss::Logistic => "logistic",
        }
    }

    /// c in `err = −(1/c)·∂ℓ/∂ŷ`: the factor the kernels' sums are scaled by (with 1/N).
    /// 2 for squared (the article's 2/N), 1 for logistic.
    pub fn grad_scale(self) -> f64 {
        match self {
            Loss::Squared => squared::GRAD_SCALE,
            Loss::Logistic => logistic::GRAD_SCALE,
        }
    }

    /// sup ℓ''(ŷ): the objective's smoothness constant is this times λmax((1/N)·AᵀA).
    pub fn curvature_bound(self) -> f64 {
        match self {
            Loss::Squared => squared::CURVATURE_BOUND,
            Loss::Logistic => logistic::CURVATURE_BOUND,
        }
    }

    /// ℓ(y, ŷ) in f64.
    pub fn value(self, y: f64, yhat: f64) -> f64 {
        match self {
            Loss::Squared => squared::Squared::value(y, yhat, squared::Squared::err(y, yhat)),
            Loss::Logistic => logistic::Logistic::value(y, yhat, logistic::Logistic::err(y, yhat)),
        }
    }

    /// ∂ℓ/∂ŷ in f64.
    pub fn derivative(self, y: f64, yhat: f64) -> f64 {
        match self {
            Loss::Squared => -squared::GRAD_SCALE * squared::Squared::err(y, yhat),
            Loss::Logistic => -logistic::GRAD_SCALE * logistic::Logistic::err(y, yhat),
        }
    }

    /// Targets the loss is defined for; the first bad row (1-based) is named.
    pub fn check_targets(self, targets: &[f64]) -> Result<()> {
        match self {
            Loss::Squared => Ok(()),
            Loss::Logistic => logistic::check_labels(targets),
        }
    }
}

impl std::str::FromStr for Loss {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Loss::ALL
            .into_iter()
            .find(|l| l.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                Error::Config(format!("unknown loss '{s}' (expected squared or logistic)"))
            })
    }
}

impl std::fmt::Display for Loss {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Per-row pieces of a loss, as the CPU kernels use them (the WGSL twins are
/// shaders/loss_*.wgsl). `err` is −(1/c)·∂ℓ/∂ŷ; `value` is ℓ, given `err` when that helps.
pub trait LossFn: Copy + Send + Sync + 'static {
    const LOSS: Loss;
    /// True when err = y − ŷ exactly (so ℓ = err²): a vectorized path may then form err by subtracting
    /// each w_j·x_j from y in turn, as the article's NumPy code does (other losses form ŷ
    /// first).
    const ERR_IS_RESIDUAL: bool = false;
    fn err<T: Real>(y: T, yhat: T) -> T;
    fn value<T: Real>(y: T, yhat: T, err: T) -> T;
    /// acc + ℓ, with a fused multiply-add where the loss allows and `FMA` says the CPU has it.
    #[inline(always)]
    fn accumulate<T: Real, const FMA: bool>(acc: T, y: T, yhat: T, err: T) -> T {
        acc + Self::value(y, yhat, err)
    }
}

/// Loss and penalty: everything that defines the objective.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Model {
    pub loss: Loss,
    pub penalty: Penalty,
}

impl Model {
    /// The article's model: squared loss, no penalty.
    pub const LEAST_SQUARES: Model = Model {
        loss: Loss::Squared,
        penalty: Penalty::NONE,
    };

    pub fn validate(&self) -> Result<()> {
        self.penalty.validate()
    }

    /// Checks of the data against the model (labels of a classifier).
    pub fn check_data(&self, data: &Dataset) -> Result<()> {
        match data.targets.as_slice() {
            Some(t) => self.loss.check_targets(t),
            None => self.loss.check_targets(&data.targets.to_vec()),
        }
    }

    /// ŷ_i = w0 + x_i·w for every row, in f64.
    pub fn predict(data: &Dataset, w: &[f64]) -> Vec<f64> {
        data.predict(w)
    }

    /// Mean data loss (1/N)·Σ ℓ(y_i, ŷ_i), in f64.
    pub fn mean_loss(&self, data: &Dataset, w: &[f64]) -> f64 {
        let yhat = Self::predict(data, w);
        yhat.iter()
            .zip(data.targets.iter())
            .map(|(&f, &y)| self.loss.value(y, f))
            .sum::<f64>()
            / data.n() as f64
    }

    /// J(w) in f64: mean loss plus penalty.
    pub fn objective(&self, data: &Dataset, w: &[f64]) -> f64 {
        self.mean_loss(data, w) + self.penalty.value(&w[1..])
    }

    /// Gradient of the smooth part of J (loss and L2 part; the L1 part is not smooth), in f64.
    pub fn smooth_gradient(&self, data: &Dataset, w: &[f64]) -> Vec<f64> {
        let n = data.n() as f64;
        let yhat = Self::predict(data, w);
        let mut g = vec![0.0; w.len()];
        data.features.for_each_row(|i, row| {
            let r = self.loss.derivative(data.targets[i], yhat[i]) / n;
            g[0] += r;
            for (gj, x) in g[1..].iter_mut().zip(row) {
                *gj += r * x;
            }
        });
        let l2 = self.penalty.l2_strength();
        for (gj, wj) in g[1..].iter_mut().zip(&w[1..]) {
            *gj += l2 * wj;
        }
        g
    }

    /// The smooth part's Lipschitz constant L (the step 1/L is stable and monotone):
    /// sup ℓ'' · λmax((1/N)·AᵀA) with A = [1 X], plus α(1−ρ) from the L2 part. The
    /// eigenvalue is computed in f64 on the smaller of AᵀA and AAᵀ (they share their nonzero
    /// eigenvalues), so a wide table costs no more than a tall one.
    pub fn smoothness(&self, ds: &Dataset) -> Result<f64> {
        self.smoothness_until(ds, &crate::interrupt::Interrupt::default())
    }

    /// [`Model::smoothness`], returning [`Error::Interrupted`] within a block of rows once
    /// `stop` is set.
    pub(crate) fn smoothness_until(
        &self,
        ds: &Dataset,
        stop: &crate::interrupt::Interrupt,
    ) -> Result<f64> {
        let (n, p) = (ds.n(), ds.p());
        // A = [1 X] a block of rows at a time, so a tall table is never copied whole.
        let block = |rows: std::ops::Range<usize>| {
            let x = ds.features.rows_f64(rows.clone());
            Mat::<f64>::from_fn(
                rows.len(),
                p + 1,
                |i, j| if j == 0 { 1.0 } else { x[(i, j - 1)] },
            )
        };
        let scale = faer::Scale(self.loss.curvature_bound() / n as f64);
        let gram = if n < p + 1 {
            // Fewer rows than columns: AAᵀ is the small one (n < p + 1, so A is small too).
            let a = block(0..n);
            &a * a.transpose() * scale
        } else {
            let mut ata = Mat::<f64>::zeros(p + 1, p + 1);
            for start in (0..n).step_by(crate::scalar::BLOCK_ROWS) {
                stop.check()?;
                let a = block(start..(start + crate::scalar::BLOCK_ROWS).min(n));
                ata += a.transpose() * &a;
            }
            ata * scale
        };
        let eig = gram
            .self_adjoint_eigenvalues(Side::Lower)
            .map_err(|e| Error::Data(format!("eigenvalue solver failed: {e:?}")))?;
        eig.last()
            .copied()
            .map(|l| l + self.penalty.l2_strength())
            .filter(|l| *l > 0.0 && l.is_finite())
            .ok_or_else(|| Error::Data("cannot derive a step size from this data".into()))
    }
}
