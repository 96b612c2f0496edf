//! The seam between computing and stepping: blocks of rows produce mergeable
//! [`PartialSums`], and one state machine, the [`Stepper`], takes every optimizer's step from
//! merged sums. Whatever holds the rows — one CPU thread, several, a GPU's workgroups, a
//! memory-mapped file read a block at a time, a Dask worker — only has to produce sums for
//! its rows at the stepper's current [`Stepper::point`]; merging them in any grouping gives the
//! whole table's gradient to rounding (bit for bit when the merge order is fixed).
//!
//! ```
//! use descent::engine::{stepper, StepOutcome};
//! use descent::{cpu::Fused, data, Backend, GdConfig, Solver};
//! let ds = data::article(1_000, 444, 0.1).unwrap();
//! let cfg = GdConfig { epochs: 50, ..GdConfig::default() };
//! let mut stepper = stepper(&cfg, ds.n(), ds.p()).unwrap();
//! loop {
//!     // Two blocks of rows, summed separately (anywhere), then merged.
//!     let w = stepper.point();
//!     let mut sums = descent::cpu::partial_sums(Backend::Fused, &ds, 0..400, &cfg, &w).unwrap();
//!     sums.merge(&descent::cpu::partial_sums(Backend::Fused, &ds, 400..1_000, &cfg, &w).unwrap())
//!         .unwrap();
//!     if let StepOutcome::Stop(_) = stepper.step(&sums) {
//!         break;
//!     }
//! }
//! let whole = Fused.fit(&ds, &cfg).unwrap();
//! let merged = stepper.finish().weights;
//! assert!(descent::max_abs_diff(&merged, &whole.weights) < 1e-12);
//! ```

use crate::coefficients::Coefficients;
use crate::config::{GdConfig, GRADIENT_GROWTH_LIMIT};
use crate::error::{Error, Result};
use crate::model::optimizer::{AnyOptimizer, OptimizerFn};
use crate::model::penalty::{AnyPenalty, PenaltyFn};
use crate::model::schedule::{ADAPTIVE_DIVISOR, ADAPTIVE_FLOOR};
use crate::model::ScheduleKind;
use crate::scalar::{Precision, Real};
use std::time::{Duration, Instant};

/// What a block of rows contributes to one step, at given weights `w = [w0, w1..wp]` (one
/// output; `grad` has the [`Coefficients`] layout, so K outputs' sums fit the same way), with
/// `err_i = −(1/c)·∂ℓ/∂ŷ_i` (c the loss's gradient scale; for the squared loss `d_i − ŷ_i`):
/// `grad[0] = Σ s_i·err_i`, `grad[1 + j] = Σ s_i·err_i·x_ij`, `loss = Σ s_i·ℓ_i`, `rows` the
/// rows summed and `weight = Σ s_i` (s_i = 1: every row weighs one until sample weights
/// exist, so `weight == rows`). All in f64, whatever precision summed them: an f32 sum is
/// exactly an f64, and the stepper narrows back without loss.
#[derive(Debug, Clone, PartialEq)]
pub struct PartialSums {
    pub grad: Vec<f64>,
    pub loss: f64,
    pub rows: u64,
    pub weight: f64,
}

impl PartialSums {
    /// Nothing summed yet, for `p` features (the identity of [`PartialSums::merge`]).
    pub fn zeros(p: usize) -> Self {
        PartialSums {
            grad: vec![0.0; p + 1],
            loss: 0.0,
            rows: 0,
            weight: 0.0,
        }
    }

    /// Features these sums are over.
    pub fn p(&self) -> usize {
        self.grad.len() - 1
    }

    /// Add `other`'s rows to these: element by element, in f64, in the order of the calls
    /// (so a fixed merge order gives the same bits every time). Sums over a different number
    /// of features are refused.
    pub fn merge(&mut self, other: &PartialSums) -> Result<()> {
        if other.grad.len() != self.grad.len() {
            return Err(Error::Data(format!(
                "cannot merge partial sums over {} features into sums over {}",
                other.p(),
                self.p()
            )));
        }
        for (a, b) in self.grad.iter_mut().zip(&other.grad) {
            *a += b;
        }
        self.loss += other.loss;
        self.rows += other.rows;
        self.weight += other.weight;
        Ok(())
    }

    /// The merge of `parts`, in their order (None for no parts).
    pub fn merged<'a>(parts: impl IntoIterator<Item = &'a PartialSums>) -> Result<Option<Self>> {
        let mut parts = parts.into_iter();
        let Some(first) = parts.next() else {
            return Ok(None);
        };
        let mut total = first.clone();
        for part in parts {
            total.merge(part)?;
        }
        Ok(Some(total))
    }
}

/// Why a descent stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// The gradient (mapping) norm fell below `tol`.
    Converged,
    /// `n_iter_no_change` epochs without improvement (or the adaptive step hit its floor).
    Stalled,
    /// Every epoch asked for has run.
    EpochLimit,
    /// The gradient norm grew past its bound, or a weight left the finite range, in this
    /// epoch (1-based).
    Diverged { epoch: usize },
}

/// What the stepper says after a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepOutcome {
    Continue,
    Stop(StopReason),
}

/// The result of a whole descent, in f64.
#[derive(Debug, Clone, PartialEq)]
pub struct Descent {
    pub weights: Coefficients,
    /// J per epoch, at the point its gradient was taken (when recorded).
    pub loss: Option<Vec<f64>>,
    pub epochs_run: usize,
    pub converged: bool,
    /// Stopped by `n_iter_no_change` (or the adaptive schedule's floor).
    pub stalled: bool,
    /// From the stepper's creation to [`Stepper::finish`].
    pub solve: Duration,
}

/// The state of one descent: weights, optimizer state, step schedule, loss history and the
/// stopping rules, advanced one step at a time from merged sums. For the loss's gradient
/// scale c, an epoch's (or batch's) descent direction is `g = (c/rows)·grad − P::grad(w)`
/// (no penalty on the intercept), then `O`'s step (for `gd`: `w += mu·g`, then `P`'s
/// proximal step); with the article's model and `gd` this is the article's loop, op for op.
/// The loss recorded is J at the point the gradient is taken, before the step; the norm
/// tested against `tol` (and, for `gd`, for divergence) is that of the proximal-gradient
/// mapping there. WGSL twin: `apply_update` / `finish_epoch` in shaders/update.wgsl, which
/// take the same tests in the same order.
pub struct Stepper<T: Real, P: PenaltyFn<T>, O: OptimizerFn<T>> {
    cfg: GdConfig,
    n: usize,
    scale: T,
    mu: T,
    /// This epoch's step (the schedule's value).
    mu_e: T,
    eta: T,
    floor: T,
    inv_n: T,
    penalty: P,
    optimizer: O,
    /// K: the first K values of `w` (the [`Coefficients`] layout) are the intercepts, which
    /// the penalty never touches.
    outputs: usize,
    p: usize,
    w: Vec<T>,
    g: Vec<T>,
    sums: Vec<T>,
    stall_limit: Option<usize>,
    needs_loss: bool,
    loss_tol: T,
    best: T,
    stalls: usize,
    growth: T,
    g0: T,
    limit: T,
    /// The penalty at the epoch's start and, for mini-batches, Σℓ so far in this epoch.
    reg: T,
    epoch_loss: T,
    loss: Option<Vec<f64>>,
    epoch: usize,
    in_epoch: bool,
    converged: bool,
    stalled: bool,
    start: Instant,
}

impl<T: Real, P: PenaltyFn<T>, O: OptimizerFn<T>> Stepper<T, P, O> {
    /// A descent from w = 0 over a table of `n` rows and `p` features, for a loss whose
    /// gradient scale is `grad_scale` ([`crate::model::Loss::grad_scale`]), with one output.
    pub fn new(cfg: &GdConfig, n: usize, p: usize, grad_scale: f64) -> Self {
        Self::with_outputs(cfg, n, 1, p, grad_scale)
    }

    /// [`Stepper::new`] for `outputs` (K) outputs: K intercepts and a p × K weight matrix,
    /// stepped in the [`Coefficients`] layout (sums taken in that layout too).
    pub fn with_outputs(
        cfg: &GdConfig,
        n: usize,
        outputs: usize,
        p: usize,
        grad_scale: f64,
    ) -> Self {
        let mu = T::from_f64(cfg.mu);
        let stall_limit = cfg.stall_limit();
        let len = outputs * (p + 1);
        Stepper {
            cfg: cfg.clone(),
            n,
            scale: T::from_f64(grad_scale),
            mu,
            mu_e: mu,
            eta: mu,
            floor: T::from_f64(cfg.mu * ADAPTIVE_FLOOR),
            inv_n: T::one() / T::from_f64(n as f64),
            penalty: P::new(&cfg.model.penalty, cfg.mu),
            optimizer: O::new(&cfg.optimizer, len),
            outputs,
            p,
            w: vec![T::zero(); len],
            g: vec![T::zero(); len],
            sums: vec![T::zero(); len],
            stall_limit,
            needs_loss: cfg.record_loss || stall_limit.is_some(),
            loss_tol: T::from_f64(cfg.loss_tol),
            best: T::infinity(),
            stalls: 0,
            growth: T::from_f64(GRADIENT_GROWTH_LIMIT),
            g0: T::zero(),
            limit: T::divergence_limit(),
            reg: T::zero(),
            epoch_loss: T::zero(),
            // The history grows with the epochs actually run: `epochs` is only an upper
            // bound (up to 2³² − 1), and reserving it up front could ask for gigabytes.
            loss: cfg
                .record_loss
                .then(|| Vec::with_capacity(cfg.epochs.min(1 << 16))),
            epoch: 0,
            in_epoch: false,
            converged: false,
            stalled: false,
            start: Instant::now(),
        }
    }

    /// The weights at which the next sums must be taken (for Nesterov, the extrapolated
    /// point, not the reported iterate).
    pub fn point_t(&self) -> &[T] {
        &self.w
    }

    /// Whether the next sums must carry Σℓ (the loss is recorded or tested).
    pub fn wants_loss(&self) -> bool {
        self.needs_loss
    }

    /// Epochs completed so far.
    pub fn epochs_run(&self) -> usize {
        self.epoch
    }

    /// Begin an epoch: its step from the schedule, the penalty at its start. Called by
    /// [`Stepper::step`]; mini-batch callers call it before an epoch's first batch.
    pub fn start_epoch(&mut self) {
        let epoch = self.epoch;
        self.mu_e = match self.cfg.schedule.kind {
            ScheduleKind::Constant => self.mu,
            ScheduleKind::InvScaling => {
                T::from_f64(self.cfg.mu * self.cfg.schedule.invscaling(epoch))
            }
            ScheduleKind::Adaptive => self.eta,
        };
        if self.cfg.schedule.kind != ScheduleKind::Constant {
            self.penalty = P::new(&self.cfg.model.penalty, self.mu_e.as_f64());
        }
        self.reg = if self.needs_loss {
            self.w[self.outputs..]
                .iter()
                .fold(T::zero(), |acc, &v| acc + self.penalty.value(v))
        } else {
            T::zero()
        };
        self.epoch_loss = T::zero();
        self.in_epoch = true;
    }

    /// One full-batch epoch from the whole table's merged sums at [`Stepper::point`].
    pub fn step(&mut self, sums: &PartialSums) -> StepOutcome {
        for (s, &v) in self.sums.iter_mut().zip(&sums.grad) {
            *s = T::from_f64(v);
        }
        self.step_taken(T::from_f64(sums.loss), sums.rows)
    }

    /// [`Stepper::step`] from sums already in `T` in [`Stepper::sums_mut`] (the CPU paths'
    /// own buffer: no conversion per epoch).
    pub(crate) fn step_taken(&mut self, data_loss: T, rows: u64) -> StepOutcome {
        self.start_epoch();
        let f = self.scale / T::from_f64(rows as f64);
        let g2 = self.gradient_step(f);
        self.end_epoch_with(data_loss, g2, true)
    }

    /// The point to sum at and the buffer [`Stepper::step_taken`] and
    /// [`Stepper::batch_taken`] read, borrowed together (no copy of the point per batch).
    pub(crate) fn point_and_sums(&mut self) -> (&[T], &mut [T]) {
        (&self.w, &mut self.sums)
    }

    /// One mini-batch step inside an epoch begun by [`Stepper::start_epoch`], from the
    /// batch's sums (its mean gradient steps). Returns `Stop(Diverged)` when a weight leaves
    /// the finite range.
    pub fn batch_step(&mut self, sums: &PartialSums) -> StepOutcome {
        for (s, &v) in self.sums.iter_mut().zip(&sums.grad) {
            *s = T::from_f64(v);
        }
        self.batch_taken(T::from_f64(sums.loss), sums.rows)
    }

    pub(crate) fn batch_taken(&mut self, batch_loss: T, rows: u64) -> StepOutcome {
        debug_assert!(self.in_epoch, "batch_step outside an epoch");
        self.epoch_loss += batch_loss;
        let fb = self.scale / T::from_f64(rows as f64);
        self.gradient_step(fb);
        if self
            .w
            .iter()
            .any(|v| !v.is_finite() || v.abs() > self.limit)
        {
            return StepOutcome::Stop(StopReason::Diverged {
                epoch: self.epoch + 1,
            });
        }
        StepOutcome::Continue
    }

    /// End a mini-batch epoch: J from the loss its batches summed (each row's ℓ at the
    /// weights its batch saw, scikit-learn's epoch loss), then the stopping rules.
    pub fn end_epoch(&mut self) -> StepOutcome {
        let loss = self.epoch_loss;
        self.end_epoch_with(loss, T::zero(), false)
    }

    /// The bookkeeping after an epoch's step(s): record J, then divergence, tol, stalls and
    /// the epoch limit, in that order (the WGSL `finish_epoch`'s order).
    fn end_epoch_with(&mut self, data_loss: T, g2: T, full_batch: bool) -> StepOutcome {
        self.in_epoch = false;
        let objective = if self.needs_loss {
            data_loss * self.inv_n + self.reg
        } else {
            T::zero()
        };
        if let Some(l) = self.loss.as_mut() {
            l.push(objective.as_f64());
        }
        if self.epoch == 0 {
            self.g0 = g2;
        }
        self.epoch += 1;
        // NaN fails `<=`. Only full-batch gd's gradient norm is provably non-increasing.
        #[allow(clippy::neg_cmp_op_on_partial_ord)]
        let grown = self.optimizer.monotone() && full_batch && !(g2 <= self.growth * self.g0);
        if grown
            || self
                .w
                .iter()
                .any(|v| !v.is_finite() || v.abs() > self.limit)
        {
            return StepOutcome::Stop(StopReason::Diverged { epoch: self.epoch });
        }
        if let Some(tol) = self.cfg.tol {
            if self.epoch.is_multiple_of(self.cfg.check_every) && g2.as_f64().sqrt() < tol {
                self.converged = true;
                return StepOutcome::Stop(StopReason::Converged);
            }
        }
        // The loss J(w) of this epoch against the best so far (scikit-learn's rule).
        if let Some(limit) = self.stall_limit {
            if objective > self.best - self.loss_tol {
                self.stalls += 1;
            } else {
                self.stalls = 0;
            }
            self.best = self.best.min(objective);
            if self.stalls >= limit {
                let adaptive = self.cfg.schedule.kind == ScheduleKind::Adaptive;
                if adaptive {
                    self.eta = self.eta / T::from_f64(ADAPTIVE_DIVISOR);
                    self.stalls = 0;
                }
                if !adaptive || self.eta < self.floor {
                    self.stalled = true;
                    return StepOutcome::Stop(StopReason::Stalled);
                }
            }
        }
        if self.epoch >= self.cfg.epochs {
            return StepOutcome::Stop(StopReason::EpochLimit);
        }
        StepOutcome::Continue
    }

    /// One step from the sums at `w`: the descent direction `g = f·sums − P::grad(w)` (no
    /// penalty on the K intercepts), then the optimizer's step. Returns the squared norm of the
    /// proximal-gradient mapping at `w`, (prox(w + mu·g) − w)/mu, the stopping test's measure.
    #[inline(always)]
    fn gradient_step(&mut self, f: T) -> T {
        let (mu, penalty, outputs) = (self.mu_e, &self.penalty, self.outputs);
        let mut g2 = T::zero();
        for (j, ((gj, &wj), &s)) in self
            .g
            .iter_mut()
            .zip(self.w.iter())
            .zip(&self.sums)
            .enumerate()
        {
            *gj = f * s;
            let mapped = if j < outputs {
                *gj
            } else if penalty.has_prox() {
                *gj -= penalty.grad(wj);
                (penalty.prox(wj + mu * *gj) - wj) / mu
            } else {
                *gj -= penalty.grad(wj);
                *gj
            };
            g2 += mapped * mapped;
        }
        self.optimizer
            .step(&mut self.w, &self.g, mu, penalty, outputs);
        g2
    }

    /// The descent's result: the reported weights (the iterate, not Nesterov's
    /// extrapolated point), the history and how it stopped.
    pub fn finish(self) -> Descent {
        let weights = self.optimizer.weights(&self.w);
        Descent {
            weights: self.coefficients(weights.iter()),
            loss: self.loss,
            epochs_run: self.epoch,
            converged: self.converged,
            stalled: self.stalled,
            solve: self.start.elapsed(),
        }
    }

    /// Rows of the table this descent is over.
    pub fn n(&self) -> usize {
        self.n
    }

    /// `values` (in the stepper's layout) widened to f64.
    fn coefficients<'a>(&self, values: impl Iterator<Item = &'a T>) -> Coefficients {
        let flat = values.map(|v| v.as_f64()).collect();
        Coefficients::from_flat(self.outputs, self.p, flat).expect("the stepper's own shape")
    }
}

/// A [`Stepper`] behind a precision-, penalty- and optimizer-free interface, in f64 at its
/// edges: what callers that produce sums elsewhere (a Dask worker, a stream) drive.
pub trait Step: Send {
    /// The weights at which the next sums must be taken, in f64.
    fn point(&self) -> Coefficients;
    /// Whether the next sums must carry Σℓ.
    fn wants_loss(&self) -> bool;
    /// One full-batch epoch from the whole table's merged sums.
    fn step(&mut self, sums: &PartialSums) -> StepOutcome;
    /// Begin a mini-batch epoch.
    fn start_epoch(&mut self);
    /// One mini-batch step within the epoch.
    fn batch_step(&mut self, sums: &PartialSums) -> StepOutcome;
    /// End a mini-batch epoch.
    fn end_epoch(&mut self) -> StepOutcome;
    /// Epochs completed so far.
    fn epochs_run(&self) -> usize;
    /// The result.
    fn finish(self: Box<Self>) -> Descent;
}

impl<T: Real, P: PenaltyFn<T> + Send, O: OptimizerFn<T> + Send> Step for Stepper<T, P, O> {
    fn point(&self) -> Coefficients {
        self.coefficients(self.w.iter())
    }
    fn wants_loss(&self) -> bool {
        self.needs_loss
    }
    fn step(&mut self, sums: &PartialSums) -> StepOutcome {
        Stepper::step(self, sums)
    }
    fn start_epoch(&mut self) {
        Stepper::start_epoch(self)
    }
    fn batch_step(&mut self, sums: &PartialSums) -> StepOutcome {
        Stepper::batch_step(self, sums)
    }
    fn end_epoch(&mut self) -> StepOutcome {
        Stepper::end_epoch(self)
    }
    fn epochs_run(&self) -> usize {
        self.epoch
    }
    fn finish(self: Box<Self>) -> Descent {
        Stepper::finish(*self)
    }
}

/// The stepper `cfg` asks for (its precision; its penalty and optimizer chosen at run
/// time), after validating `cfg`, over `n` rows and `p` features.
pub fn stepper(cfg: &GdConfig, n: usize, p: usize) -> Result<Box<dyn Step>> {
    cfg.validate()?;
    if n == 0 {
        return Err(Error::Data("a descent needs at least one row".into()));
    }
    let scale = cfg.model.loss.grad_scale();
    Ok(match cfg.precision {
        Precision::F64 => Box::new(AnyStepper::<f64>::new(cfg, n, p, scale)),
        Precision::F32 => Box::new(AnyStepper::<f32>::new(cfg, n, p, scale)),
    })
}

/// The stepper every backend drives: penalty and optimizer picked at run time.
pub type AnyStepper<T> = Stepper<T, AnyPenalty<T>, AnyOptimizer<T>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merging_is_elementwise_and_refuses_other_widths() {
        let a = PartialSums {
            grad: vec![1.0, 2.0],
            loss: 3.0,
            rows: 4,
            weight: 4.0,
        };
        let mut b = PartialSums::zeros(1);
        b.merge(&a).unwrap();
        b.merge(&a).unwrap();
        assert_eq!(b.grad, [2.0, 4.0]);
        assert_eq!((b.loss, b.rows, b.weight), (6.0, 8, 8.0));
        let err = b.merge(&PartialSums::zeros(2)).unwrap_err().to_string();
        assert!(err.contains("over 2 features into sums over 1"), "{err}");
        assert_eq!(PartialSums::merged([]).unwrap(), None);
    }

    /// K = 2 outputs over p = 2 features, L1 with mu·α = 0.25, sums g = [1, 2, 3, 4, 5, 6]
    /// from w = 0: the two intercepts move by mu·g untouched (0.25, 0.5), the four weights
    /// are soft-thresholded (0.75 → 0.5, 1 → 0.75, 1.25 → 1, 1.5 → 1.25), and the second
    /// epoch's J is the penalty of those four alone (α·3.5; the data loss is 0).
    #[test]
    fn the_penalty_skips_all_k_intercepts() {
        use crate::model::{Loss, Model, Penalty, PenaltyKind};
        let cfg = GdConfig {
            model: Model {
                loss: Loss::Squared,
                penalty: Penalty::new(PenaltyKind::L1, Some(1.0), None).unwrap(),
            },
            mu: 0.25,
            epochs: 2,
            record_loss: true,
            ..GdConfig::default()
        };
        let mut s = AnyStepper::<f64>::with_outputs(&cfg, 1, 2, 2, 1.0);
        assert_eq!(Step::point(&s).outputs(), 2);
        let sums = PartialSums {
            grad: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            loss: 0.0,
            rows: 1,
            weight: 1.0,
        };
        assert_eq!(s.step(&sums), StepOutcome::Continue);
        let w = Step::point(&s);
        assert_eq!(w.intercepts(), [0.25, 0.5]);
        assert_eq!(w.matrix(), [0.5, 0.75, 1.0, 1.25]);
        assert_eq!(s.step(&sums), StepOutcome::Stop(StopReason::EpochLimit));
        assert_eq!(s.finish().loss.unwrap(), [0.0, 3.5]);
    }
}
