//! The GPU backend: WGSL kernels in shaders/, run through wgpu on any adapter.

//!
//! Setting a problem up goes in parts, one module each: `plan` (which kernel, what
//! geometry) and `planned` (the plan with the pipelines that run it), `upload` (X and d),
//! `resources` (the other buffers and the bind group), `readback` (the staging slots and the
//! checks on what comes back), then `dispatch` runs the epochs and `sums` computes one set
//! of partial sums.

mod adapter;
mod context;
mod dispatch;
pub mod kernels;
mod plan;
mod planned;
mod readback;
mod resources;
mod sums;
mod upload;

pub use adapter::{
    list_adapters, select_adapter, AdapterChoice, AdapterSummary, SOFTWARE_ADAPTER_HINT,
};
pub use context::GpuContext;
#[doc(hidden)]
pub use dispatch::Fault;
pub use dispatch::{GpuOptions, GpuProblem, GpuRun};
pub use kernels::Reduction;
pub use plan::{plan, KernelChoice, Plan, DISPATCHES_PER_CHUNK};
pub use planned::PlannedKernels;
pub use sums::GpuRows;

use crate::coefficients::Coefficients;
use crate::config::GdConfig;
use crate::data::Dataset;
use crate::engine::PartialSums;
use crate::error::{Error, Result};
use crate::solver::{Fit, Solver, Timings};
use std::ops::Range;
use std::sync::Arc;

/// Gradient descent on a wgpu adapter; implements the same [`Solver`] trait as the CPU.
pub struct GpuSolver {
    ctx: Arc<GpuContext>,
    pub options: GpuOptions,
}

impl GpuSolver {
    /// The adapter `choice` names, opened once per process ([`GpuContext::shared`]).
    pub fn new(choice: &AdapterChoice) -> Result<Self> {
        Ok(GpuSolver {
            ctx: GpuContext::shared(choice)?,
            options: GpuOptions::default(),
        })
    }

    /// Same device, other options.
    pub fn with_options(&self, options: GpuOptions) -> Self {
        GpuSolver {
            ctx: self.ctx.clone(),
            options,
        }
    }

    pub fn context(&self) -> &Arc<GpuContext> {
        &self.ctx
    }

    /// Upload a problem without solving it (benchmarks time `solve` alone).
    pub fn prepare(&self, data: &Dataset, cfg: &GdConfig) -> Result<GpuProblem> {
        GpuProblem::new(self.ctx.clone(), data, cfg, self.options)
    }

    /// Upload rows `rows` of `data` once, for partial sums at any weights
    /// ([`GpuRows::sums`]) in `cfg`'s precision and for its loss.
    pub fn upload_rows(
        &self,
        data: &Dataset,
        rows: Range<usize>,
        cfg: &GdConfig,
    ) -> Result<GpuRows> {
        GpuRows::new(self.ctx.clone(), data, rows, cfg, self.options.reduction)
    }

    /// What rows `rows` of `data` contribute to a step at `w` (one output): Σerr,
    /// Σerr·x_j and Σℓ, computed by the fit's own error + reduction pass (the multi plan's
    /// partials) and merged in f64 in workgroup order. The GPU twin of
    /// [`crate::cpu::partial_sums`]; to sum the same rows repeatedly, upload them once with
    /// [`GpuSolver::upload_rows`].
    pub fn partial_sums(
        &self,
        data: &Dataset,
        rows: Range<usize>,
        cfg: &GdConfig,
        w: &Coefficients,
    ) -> Result<PartialSums> {
        w.require_single("the GPU backend")?;
        self.upload_rows(data, rows, cfg)?.sums(w)
    }
}

impl Solver for GpuSolver {
    fn name(&self) -> &'static str {
        "gpu"
    }
    fn device(&self) -> String {
        self.ctx.info.name.clone()
    }
    fn preflight(&self, data: &Dataset, cfg: &GdConfig) -> Result<()> {
        data.validate()?;
        cfg.check_data(data)?;
        plan::check_limits(&self.ctx, data, cfg)
    }
    fn fit(&self, data: &Dataset, cfg: &GdConfig) -> Result<Fit> {
        let problem = self.prepare(data, cfg)?;
        let run = problem.solve()?;
        if run.status.diverged_at > 0 {
            return Err(Error::Diverged {
                epoch: run.status.diverged_at as usize,
            });
        }
        Ok(Fit {
            weights: run.weights,
            loss_history: run.loss,
            epochs_run: run.status.epoch as usize,
            converged: run.status.converged != 0,
            stalled: run.status.stalled != 0,
            timings: Timings {
                setup: problem.setup,
                solve: run.solve,
                readback: run.readback,
                device_solve: run.device_solve,
            },
            backend: "gpu".into(),
            precision: cfg.precision,
            device: self.device(),
            max_abs_diff_vs_ols: None,
        })
    }
}
