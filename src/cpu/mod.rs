//! CPU backends. They share one epoch driver (update rule, loss history, tolerance and
//! divergence checks) and differ only in how one epoch's sums are computed, so their
//! results can be compared line for line.

mod fused;
mod naive;
mod ndarray_gd;

pub use fused::Fused;
pub use naive::Naive;
pub use ndarray_gd::NdarrayGd;

use crate::coefficients::Coefficients;
use crate::config::{GdConfig, Precision};
use crate::data::Dataset;
use crate::engine::{AnyStepper, PartialSums, StepOutcome, StopReason};
use crate::error::{Error, Result};
use crate::model::logistic::Logistic;
use crate::model::squared::Squared;
use crate::model::{Loss, LossFn};
use crate::solver::{Fit, Solver, Timings};
use std::time::Instant;

pub use crate::scalar::Real;
/// The row blocks whose partial sums the CPU paths combine in f64.
pub(crate) use crate::scalar::BLOCK_ROWS as SUM_BLOCK_ROWS;

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
pub(crate) use crate::engine::Descent;

/// The CPU loop: each epoch (or mini-batch) the kernel sums its rows at the stepper's point,
/// and the [`Stepper`] takes the step from those sums — the same state machine any other
/// producer of [`PartialSums`] drives. With the article's model and `gd` this is the
/// article's loop, op for op. WGSL twin: `apply_update` in shaders/update.wgsl.
pub(crate) fn descend<T: Real, L: LossFn>(
    n: usize,
    p: usize,
    cfg: &GdConfig,
    kernel: &mut impl EpochSums<T>,
) -> Result<Descent> {
    let mut stepper = AnyStepper::<T>::new(cfg, n, p, L::LOSS.grad_scale());
    let batch = cfg.batch_size.filter(|&b| b < n);
    let key = crate::model::batches::seed_key(cfg.shuffle_seed);
    let mut rows: Vec<u32> = Vec::with_capacity(batch.unwrap_or(0));
    let want_loss = stepper.wants_loss();
    loop {
        cfg.interrupt.check()?;
        let outcome = match batch {
            None => {
                let (point, sums) = stepper.point_and_sums();
                let data_loss = kernel.sums::<L>(point, sums, want_loss);
                stepper.step_taken(data_loss, n as u64)
            }
            // Mini-batches: the mean gradient of each batch, in this epoch's seeded order;
            // the epoch's loss sums every row's ℓ at the weights its batch saw.
            Some(b) => {
                let epoch = stepper.epochs_run();
                let order = crate::model::batches::Permutation::new(n as u32, key, epoch as u32);
                stepper.start_epoch();
                let mut outcome = StepOutcome::Continue;
                for first in (0..n).step_by(b) {
                    if first > 0 && first % (64 * b) == 0 {
                        cfg.interrupt.check()?;
                    }
                    rows.clear();
                    rows.extend((first..(first + b).min(n)).map(|i| order.apply(i as u32)));
                    let (point, sums) = stepper.point_and_sums();
                    let loss = kernel.batch_sums::<L>(point, &rows, sums, want_loss);
                    outcome = stepper.batch_taken(loss, rows.len() as u64);
                    if outcome != StepOutcome::Continue {
                        break;
                    }
                }
                match outcome {
                    StepOutcome::Continue => stepper.end_epoch(),
                    stop => stop,
                }
            }
        };
        match outcome {
            StepOutcome::Continue => {}
            StepOutcome::Stop(StopReason::Diverged { epoch }) => {
                return Err(Error::Diverged { epoch })
            }
            StepOutcome::Stop(_) => return Ok(stepper.finish()),
        }
    }
}

/// The partial sums of rows `rows` of `data` at weights `w` (one output), summed by CPU
/// backend `backend` in `cfg`'s precision for `cfg`'s loss: what one block of rows
/// contributes to a step ([`crate::engine`]). Merging the sums of blocks that cover the
/// table gives the whole table's sums to rounding; for `fused`, blocks that start on
/// multiples of [`crate::scalar::BLOCK_ROWS`] merged in order give them bit for bit (a
/// table small enough for one thread). `naive` and `ndarray` convert the block to their own
/// layout first, as their fits do; `fused` reads it where it lies. The GPU is refused here.
pub fn partial_sums(
    backend: crate::backend::Backend,
    data: &Dataset,
    rows: std::ops::Range<usize>,
    cfg: &GdConfig,
    w: &Coefficients,
) -> Result<PartialSums> {
    use crate::backend::Backend;
    // The CPU kernels read `w` as one output's `[w0, w1..wp]`.
    w.require_single("a CPU backend")?;
    if rows.start > rows.end || rows.end > data.n() {
        return Err(Error::Data(format!(
            "rows {}..{} are not within the table's {} rows",
            rows.start,
            rows.end,
            data.n()
        )));
    }
    if w.features() != data.p() {
        return Err(Error::Data(format!(
            "{} weights given for {} features (an intercept and one per feature)",
            w.len(),
            data.p()
        )));
    }
    let block = data.rows_view(rows);
    let sums = match (backend, cfg.precision) {
        (Backend::Naive, Precision::F64) => block_sums::<Naive, f64>(&block, cfg, w),
        (Backend::Naive, Precision::F32) => block_sums::<Naive, f32>(&block, cfg, w),
        (Backend::Ndarray, Precision::F64) => block_sums::<NdarrayGd, f64>(&block, cfg, w),
        (Backend::Ndarray, Precision::F32) => block_sums::<NdarrayGd, f32>(&block, cfg, w),
        (Backend::Fused, Precision::F64) => block_sums::<Fused, f64>(&block, cfg, w),
        (Backend::Fused, Precision::F32) => block_sums::<Fused, f32>(&block, cfg, w),
        (Backend::Gpu, _) => {
            return Err(Error::Config(
                "partial sums of a block of rows are computed by the CPU backends".into(),
            ))
        }
    };
    drop(block);
    Ok(sums)
}

fn block_sums<B: CpuBackend, T: Real>(block: &Dataset, cfg: &GdConfig, w: &[f64]) -> PartialSums {
    let w: Vec<T> = w.iter().map(|&v| T::from_f64(v)).collect();
    let mut sums = vec![T::zero(); w.len()];
    let loss = if block.n() == 0 {
        T::zero()
    } else {
        let mut kernel = B::prepare::<T>(block);
        match cfg.model.loss {
            Loss::Squared => kernel.sums::<Squared>(&w, &mut sums, true),
            Loss::Logistic => kernel.sums::<Logistic>(&w, &mut sums, true),
        }
    };
    PartialSums {
        grad: sums.iter().map(|v| v.as_f64()).collect(),
        loss: loss.as_f64(),
        rows: block.n() as u64,
        weight: block.n() as f64,
    }
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

/// Validate, convert, descend and package a CPU fit; `prepare` converts the data to `T`
/// (timed as setup) and returns the backend's epoch kernel.
pub(crate) fn run_cpu<'a, T: Real, L: LossFn, K: EpochSums<T>>(
    backend: &'static str,
    data: &'a Dataset,
    cfg: &GdConfig,
    prepare: impl FnOnce(&'a Dataset) -> K,
    validated: bool,
) -> Result<Fit> {
    cfg.validate()?;
    if validated {
        data.validate_shape()?;
    } else {
        data.validate()?;
    }
    cfg.check_data(data)?;
    let t0 = Instant::now();
    let mut kernel = prepare(data);
    let setup = t0.elapsed();
    let d = descend::<T, L>(data.n(), data.p(), cfg, &mut kernel)?;
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
        precision: T::PRECISION,
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
            Precision::F32 => fit_in::<B, f32>(data, cfg, false),
            Precision::F64 => fit_in::<B, f64>(data, cfg, false),
        }
    }
    fn fit_validated(&self, data: &Dataset, cfg: &GdConfig) -> Result<Fit> {
        match cfg.precision {
            Precision::F32 => fit_in::<B, f32>(data, cfg, true),
            Precision::F64 => fit_in::<B, f64>(data, cfg, true),
        }
    }
}

/// Monomorphise the fit for the model's loss, so the per-row code has no branches on it;
/// the penalty and the optimizer (O(p) work per step) are chosen at run time.
fn fit_in<B: CpuBackend, T: Real>(data: &Dataset, cfg: &GdConfig, validated: bool) -> Result<Fit> {
    let prepare = B::prepare::<T>;
    match cfg.model.loss {
        Loss::Squared => run_cpu::<T, Squared, _>(B::NAME, data, cfg, prepare, validated),
        Loss::Logistic => run_cpu::<T, Logistic, _>(B::NAME, data, cfg, prepare, validated),
    }
}
