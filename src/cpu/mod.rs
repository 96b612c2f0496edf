//! CPU backends. They share one epoch driver (update rule, loss history, tolerance and
//! divergence checks) and differ only in how one epoch's sums are computed, so their
//! results can be compared line for line.

mod fused;
mod naive;
mod ndarray_gd;

pub use fused::Fused;
pub use naive::Naive;
pub use ndarray_gd::NdarrayGd;

use crate::config::{GdConfig, Precision};
use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::model::logistic::Logistic;
use crate::model::optimizer::{Adam, Gd, Momentum, Nesterov, OptimizerFn};
use crate::model::penalty::{ElasticNet, NoPenalty, PenaltyFn, L1, L2};
use crate::model::squared::Squared;
use crate::model::{Loss, LossFn, OptimizerKind, PenaltyKind, ScheduleKind};
use crate::solver::{Fit, Solver, Timings};
use std::time::{Duration, Instant};

/// The scalar types the CPU paths run in.
pub trait Real:
    num_traits::Float
    + ndarray::LinalgScalar
    + ndarray::ScalarOperand
    + std::iter::Sum
    + std::ops::AddAssign
    + std::ops::SubAssign
    + Send
    + Sync
    + std::fmt::Debug
    + crate::data::Element
    + 'static
{
    fn from_f64(v: f64) -> Self;
    fn as_f64(self) -> f64;
    /// `v` itself when `Self` is f64 (so f64 targets are read in place).
    fn f64_slice(v: &[f64]) -> Option<&[Self]>;
}

impl Real for f32 {
    fn from_f64(v: f64) -> Self {
        v as f32
    }
    fn f64_slice(_: &[f64]) -> Option<&[Self]> {
        None
    }
    fn as_f64(self) -> f64 {
        self as f64
    }
}

impl Real for f64 {
    fn from_f64(v: f64) -> Self {
        v
    }
    fn f64_slice(v: &[f64]) -> Option<&[Self]> {
        Some(v)
    }
    fn as_f64(self) -> f64 {
        self
    }
}

/// Rows per block whose partial sums are combined in f64 by the CPU paths: one f32 running
/// sum over 10⁸ rows loses most of its digits (NumPy's pairwise sum avoids the same trap);
/// short blocks keep every partial accurate.
pub(crate) const SUM_BLOCK_ROWS: usize = 16_384;

/// Name of the host CPU for the `device` column.
pub fn cpu_name() -> String {
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string());
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    format!("{model} ({threads} threads)")
}

/// What a backend computes for one epoch from the current weights `w` (length p + 1), with
/// `err_i = L::err(d_i, ŷ_i)`: `sums[0] = Σerr`, `sums[1 + j] = Σerr·x_j`; returns the
/// summed loss Σℓ(d_i, ŷ_i) when `want_loss` (else any value).
pub(crate) trait EpochSums<T: Real> {
    fn sums<L: LossFn>(&mut self, w: &[T], sums: &mut [T], want_loss: bool) -> T;
    /// The same over the listed rows only (a mini-batch), in their order.
    fn batch_sums<L: LossFn>(
        &mut self,
        w: &[T],
        rows: &[u32],
        sums: &mut [T],
        want_loss: bool,
    ) -> T;
}

/// Outcome of [`descend`].
pub(crate) struct Descent {
    pub weights: Vec<f64>,
    pub loss: Option<Vec<f64>>,
    pub epochs_run: usize,
    pub converged: bool,
    /// Stopped by `n_iter_no_change` (or the adaptive schedule's floor).
    pub stalled: bool,
    pub solve: Duration,
}

/// The update every CPU path shares, for loss `L`, penalty `P` and optimizer `O` (see
/// [`crate::model`]): per epoch the descent direction `g = (c/N)·sums − P::grad(w)` (no
/// penalty on the intercept), then `O`'s step (for `gd`: `w += mu·g`, then `P`'s proximal
/// step); with the article's model and `gd` this is the article's loop, op for op. The loss
/// recorded is J at the point the gradient is taken, before the step; the norm tested
/// against `tol` (and, for `gd`, for divergence) is that of the proximal-gradient mapping
/// there, (prox(w + mu·g) − w)/mu, the gradient itself when there is no proximal step. WGSL
/// twin: `apply_update` in shaders/update.wgsl.
pub(crate) fn descend<T: Real, L: LossFn, P: PenaltyFn<T>, O: OptimizerFn<T>>(
    n: usize,
    p: usize,
    cfg: &GdConfig,
    kernel: &mut impl EpochSums<T>,
) -> Result<Descent> {
    let start = Instant::now();
    let mu = T::from_f64(cfg.mu);
    let f = T::from_f64(L::LOSS.grad_scale()) / T::from_f64(n as f64);
    let inv_n = T::one() / T::from_f64(n as f64);
    let mut penalty = P::new(&cfg.model.penalty, cfg.mu);
    let mut optimizer = O::new(&cfg.optimizer, p + 1);
    let schedule = cfg.schedule;
    let adaptive = schedule.kind == ScheduleKind::Adaptive;
    let stall_limit = cfg.stall_limit();
    let needs_loss = cfg.record_loss || stall_limit.is_some();
    let loss_tol = T::from_f64(cfg.loss_tol);
    let mut best = T::infinity();
    let mut stalls = 0;
    let mut eta = mu;
    let floor = T::from_f64(cfg.mu * crate::model::schedule::ADAPTIVE_FLOOR);
    let mut w = vec![T::zero(); p + 1];
    let mut g = vec![T::zero(); p + 1];
    let mut sums = vec![T::zero(); p + 1];
    // The history grows with the epochs actually run: `epochs` is only an upper bound (up
    // to 2³² − 1), and reserving it up front could ask for tens of gigabytes.
    let mut loss = cfg
        .record_loss
        .then(|| Vec::with_capacity(cfg.epochs.min(1 << 16)));
    let growth = T::from_f64(crate::config::GRADIENT_GROWTH_LIMIT);
    let mut g0 = T::zero();
    let mut converged = false;
    let mut stalled = false;
    let mut epochs_run = 0;
    // Weights beyond this are treated as a blow-up (f32 overflows soon after anyway).
    let limit = T::from_f64(if std::mem::size_of::<T>() == 4 {
        1e30
    } else {
        1e150
    });
    let batch = cfg.batch_size.filter(|&b| b < n);
    let key = crate::model::batches::seed_key(cfg.shuffle_seed);
    let scale = T::from_f64(L::LOSS.grad_scale());
    let mut rows: Vec<u32> = Vec::with_capacity(batch.unwrap_or(0));
    for epoch in 0..cfg.epochs {
        cfg.interrupt.check()?;
        // The step of this epoch; the penalty's threshold follows it.
        let mu = match schedule.kind {
            ScheduleKind::Constant => mu,
            ScheduleKind::InvScaling => T::from_f64(cfg.mu * schedule.invscaling(epoch)),
            ScheduleKind::Adaptive => eta,
        };
        if schedule.kind != ScheduleKind::Constant {
            penalty = P::new(&cfg.model.penalty, mu.as_f64());
        }
        let reg = if needs_loss {
            w[1..]
                .iter()
                .fold(T::zero(), |acc, &v| acc + penalty.value(v))
        } else {
            T::zero()
        };
        let (data_loss, g2) = match batch {
            None => {
                let data_loss = kernel.sums::<L>(&w, &mut sums, needs_loss);
                let g2 = gradient_step(&mut w, &mut g, &sums, f, mu, &penalty, &mut optimizer);
                (data_loss, g2)
            }
            // Mini-batches: the mean gradient of each batch, in this epoch's seeded order;
            // the epoch's loss sums every row's ℓ at the weights its batch saw.
            Some(b) => {
                let order = crate::model::batches::Permutation::new(n as u32, key, epoch as u32);
                let mut total = T::zero();
                for first in (0..n).step_by(b) {
                    if first > 0 && first % (64 * b) == 0 {
                        cfg.interrupt.check()?;
                    }
                    rows.clear();
                    rows.extend((first..(first + b).min(n)).map(|i| order.apply(i as u32)));
                    total += kernel.batch_sums::<L>(&w, &rows, &mut sums, needs_loss);
                    let fb = scale / T::from_f64(rows.len() as f64);
                    gradient_step(&mut w, &mut g, &sums, fb, mu, &penalty, &mut optimizer);
                    if w.iter().any(|v| !v.is_finite() || v.abs() > limit) {
                        return Err(Error::Diverged { epoch: epoch + 1 });
                    }
                }
                (total, T::zero())
            }
        };
        let objective = if needs_loss {
            data_loss * inv_n + reg
        } else {
            T::zero()
        };
        if let Some(l) = loss.as_mut() {
            l.push(objective.as_f64());
        }
        epochs_run = epoch + 1;
        if epoch == 0 {
            g0 = g2;
        }
        // Same test, same order as the WGSL twin (`apply_update`): NaN fails `<=`. Only
        // full-batch gd's gradient norm is provably non-increasing.
        #[allow(clippy::neg_cmp_op_on_partial_ord)]
        let grown = O::MONOTONE && batch.is_none() && !(g2 <= growth * g0);
        if grown || w.iter().any(|v| !v.is_finite() || v.abs() > limit) {
            return Err(Error::Diverged { epoch: epochs_run });
        }
        if let Some(tol) = cfg.tol {
            if epochs_run % cfg.check_every == 0 && g2.as_f64().sqrt() < tol {
                converged = true;
                break;
            }
        }
        // The loss J(w) of this epoch against the best so far (scikit-learn's rule).
        if let Some(limit) = stall_limit {
            if objective > best - loss_tol {
                stalls += 1;
            } else {
                stalls = 0;
            }
            best = best.min(objective);
            if stalls >= limit {
                if adaptive {
                    eta = eta / T::from_f64(crate::model::schedule::ADAPTIVE_DIVISOR);
                    stalls = 0;
                }
                if !adaptive || eta < floor {
                    stalled = true;
                    break;
                }
            }
        }
    }
    Ok(Descent {
        weights: optimizer.weights(&w).iter().map(|v| v.as_f64()).collect(),
        loss,
        epochs_run,
        converged,
        stalled,
        solve: start.elapsed(),
    })
}

/// Sums over the listed rows, in order, for any layout: `x(i, j)` and `d(i)` read the data.
/// Mini-batches are small, so the shared plain loop costs nothing next to the step.
#[inline(always)]
pub(crate) fn batch_sums_by<T: Real, L: LossFn>(
    rows: &[u32],
    w: &[T],
    sums: &mut [T],
    want_loss: bool,
    x: impl Fn(usize, usize) -> T,
    d: impl Fn(usize) -> T,
) -> T {
    sums.iter_mut().for_each(|s| *s = T::zero());
    let mut total = T::zero();
    let p = w.len() - 1;
    for &i in rows {
        let i = i as usize;
        let mut y = w[0];
        for j in 0..p {
            y += w[j + 1] * x(i, j);
        }
        let e = L::err(d(i), y);
        if want_loss {
            total += L::value(d(i), y, e);
        }
        sums[0] += e;
        for j in 0..p {
            sums[j + 1] += e * x(i, j);
        }
    }
    total
}

/// One step from the sums at `w`: the descent direction `g = f·sums − P::grad(w)` (no
/// penalty on the intercept), then the optimizer's step. Returns the squared norm of the
/// proximal-gradient mapping at `w`, (prox(w + mu·g) − w)/mu, the stopping test's measure.
#[inline(always)]
fn gradient_step<T: Real, P: PenaltyFn<T>, O: OptimizerFn<T>>(
    w: &mut [T],
    g: &mut [T],
    sums: &[T],
    f: T,
    mu: T,
    penalty: &P,
    optimizer: &mut O,
) -> T {
    let mut g2 = T::zero();
    for (j, ((gj, &wj), &s)) in g.iter_mut().zip(w.iter()).zip(sums).enumerate() {
        *gj = f * s;
        let mapped = if j == 0 {
            *gj
        } else if P::PROX {
            *gj -= penalty.grad(wj);
            (penalty.prox(wj + mu * *gj) - wj) / mu
        } else {
            *gj -= penalty.grad(wj);
            *gj
        };
        g2 += mapped * mapped;
    }
    optimizer.step(w, g, mu, penalty);
    g2
}

/// Validate, convert, descend and package a CPU fit; `prepare` converts the data to `T`
/// (timed as setup) and returns the backend's epoch kernel.
pub(crate) fn run_cpu<
    'a,
    T: Real,
    L: LossFn,
    P: PenaltyFn<T>,
    O: OptimizerFn<T>,
    K: EpochSums<T>,
>(
    backend: &'static str,
    data: &'a Dataset,
    cfg: &GdConfig,
    prepare: impl FnOnce(&'a Dataset) -> K,
) -> Result<Fit> {
    cfg.validate()?;
    data.validate()?;
    cfg.check_data(data)?;
    let t0 = Instant::now();
    let mut kernel = prepare(data);
    let setup = t0.elapsed();
    let d = descend::<T, L, P, O>(data.n(), data.p(), cfg, &mut kernel)?;
    Ok(Fit {
        weights: d.weights,
        loss_history: d.loss,
        epochs_run: d.epochs_run,
        converged: d.converged,
        stalled: d.stalled,
        timings: Timings {
            setup,
            solve: d.solve,
            ..Timings::default()
        },
        backend: backend.to_string(),
        precision: if std::mem::size_of::<T>() == 4 {
            Precision::F32
        } else {
            Precision::F64
        },
        device: cpu_name(),
        max_abs_diff_vs_ols: None,
    })
}

/// A CPU backend is its epoch kernel; the [`Solver`] around it is shared.
pub(crate) trait CpuBackend: Send + Sync {
    const NAME: &'static str;
    /// The epoch kernel over one dataset; it may borrow the dataset's memory.
    type Kernel<'a, T: Real>: EpochSums<T>;
    /// Convert the data to `T` in the layout the kernel wants, or borrow it where it already
    /// is in that type and layout (timed as setup).
    fn prepare<T: Real>(data: &Dataset) -> Self::Kernel<'_, T>;
}

impl<B: CpuBackend> Solver for B {
    fn name(&self) -> &'static str {
        B::NAME
    }
    fn device(&self) -> String {
        cpu_name()
    }
    fn fit(&self, data: &Dataset, cfg: &GdConfig) -> Result<Fit> {
        match cfg.precision {
            Precision::F32 => fit_in::<B, f32>(data, cfg),
            Precision::F64 => fit_in::<B, f64>(data, cfg),
        }
    }
}

/// Monomorphise the fit for the model's loss, so the per-row code has no branches on it.
fn fit_in<B: CpuBackend, T: Real>(data: &Dataset, cfg: &GdConfig) -> Result<Fit> {
    match cfg.model.loss {
        Loss::Squared => fit_with::<B, T, Squared>(data, cfg),
        Loss::Logistic => fit_with::<B, T, Logistic>(data, cfg),
    }
}

/// ... and for its penalty ...
fn fit_with<B: CpuBackend, T: Real, L: LossFn>(data: &Dataset, cfg: &GdConfig) -> Result<Fit> {
    match cfg.model.penalty.kind {
        PenaltyKind::None => fit_opt::<B, T, L, NoPenalty>(data, cfg),
        PenaltyKind::L2 => fit_opt::<B, T, L, L2<T>>(data, cfg),
        PenaltyKind::L1 => fit_opt::<B, T, L, L1<T>>(data, cfg),
        PenaltyKind::ElasticNet => fit_opt::<B, T, L, ElasticNet<T>>(data, cfg),
    }
}

/// ... and for the optimizer.
fn fit_opt<B: CpuBackend, T: Real, L: LossFn, P: PenaltyFn<T>>(
    data: &Dataset,
    cfg: &GdConfig,
) -> Result<Fit> {
    let prepare = B::prepare::<T>;
    match cfg.optimizer.kind {
        OptimizerKind::Gd => run_cpu::<T, L, P, Gd, _>(B::NAME, data, cfg, prepare),
        OptimizerKind::Momentum => run_cpu::<T, L, P, Momentum<T>, _>(B::NAME, data, cfg, prepare),
        OptimizerKind::Nesterov => run_cpu::<T, L, P, Nesterov<T>, _>(B::NAME, data, cfg, prepare),
        OptimizerKind::Adam => run_cpu::<T, L, P, Adam<T>, _>(B::NAME, data, cfg, prepare),
    }
}
