//! The GPU backend: WGSL kernels in shaders/, run through wgpu on any adapter.

mod adapter;
mod context;
mod dispatch;
pub mod kernels;
mod plan;

pub use adapter::{
    list_adapters, select_adapter, AdapterChoice, AdapterSummary, SOFTWARE_ADAPTER_HINT,
};
pub use context::GpuContext;
pub use dispatch::{GpuOptions, GpuProblem, GpuRun};
pub use kernels::Reduction;
pub use plan::{plan, KernelChoice, Plan, DISPATCHES_PER_CHUNK};

use crate::config::GdConfig;
use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::solver::{Fit, Solver, Timings};
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
