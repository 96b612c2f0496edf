//! A plan and the compiled pipelines that run it, made together: the shader build is chosen
//! from the plan (a mini-batch plan gets the `batches` entry point, a full-batch plan the
//! `resident`, `partials_pass` and `update_pass` ones) with the reduction the plan was
//! made for, so no plan can meet another plan's pipelines.

use super::context::GpuContext;
use super::kernels::{Kernels, Pipelines, Reduction, ShaderSpec};
use super::plan::{plan, plan_for, KernelChoice, Plan};
use crate::config::{GdConfig, Precision};
use crate::error::Result;
use std::sync::Arc;

/// A [`Plan`] with the pipelines of the one shader build that runs it.
pub struct PlannedKernels {
    plan: Plan,
    reduction: Reduction,
    kernels: Arc<Kernels>,
}

impl PlannedKernels {
    /// The plan for `cfg` over `n` rows × `p` features (mini-batches when `cfg` asks for
    /// batches below n; else `kernel`), with its pipelines. The reduction is `reduction`,
    /// or subgroups where the adapter has them and they compile, else the tree; the plan's
    /// geometry is made for the reduction that runs.
    pub(crate) fn new(
        ctx: &GpuContext,
        n: u64,
        p: u64,
        cfg: &GdConfig,
        kernel: KernelChoice,
        reduction: Option<Reduction>,
    ) -> Result<Self> {
        let (min_subgroup, max_dim) = geometry_limits(ctx);
        Self::build(ctx, p, cfg, reduction, |r| {
            plan_for(n, p, cfg, kernel, r, min_subgroup, max_dim)
        })
    }

    /// The multi plan over `n` rows, whose partials pass alone computes one set of
    /// per-workgroup sums (see [`crate::gpu::GpuRows`]).
    pub(crate) fn partials(
        ctx: &GpuContext,
        n: u64,
        p: u64,
        cfg: &GdConfig,
        reduction: Option<Reduction>,
    ) -> Result<Self> {
        let (min_subgroup, max_dim) = geometry_limits(ctx);
        Self::build(ctx, p, cfg, reduction, |r| {
            plan(n, p, 1, KernelChoice::Multi, r, min_subgroup, max_dim)
        })
    }

    /// For each candidate reduction in turn: its plan, then the build that plan needs; the
    /// first that compiles wins.
    fn build(
        ctx: &GpuContext,
        p: u64,
        cfg: &GdConfig,
        reduction: Option<Reduction>,
        plan_with: impl Fn(Reduction) -> Result<Plan>,
    ) -> Result<Self> {
        let mut last_err = None;
        for r in ctx.reductions(reduction)? {
            let plan = match plan_with(r) {
                Ok(plan) => plan,
                Err(e) => {
                    last_err = Some(e);
                    continue;
                }
            };
            let spec = ShaderSpec {
                p: p as u32,
                f64: cfg.precision == Precision::F64,
                reduction: r,
                loss: cfg.model.loss,
                minibatch: matches!(plan, Plan::Batches { .. }),
            };
            match ctx.build(spec) {
                Ok(kernels) => {
                    return Ok(PlannedKernels {
                        plan,
                        reduction: r,
                        kernels,
                    })
                }
                Err(e) => last_err = Some(e),
            }
        }
        Err(last_err.expect("at least one reduction was tried"))
    }

    pub fn plan(&self) -> Plan {
        self.plan
    }

    pub fn reduction(&self) -> Reduction {
        self.reduction
    }

    /// Workgroups of the partials pass (1 for the plans without one).
    pub fn groups(&self) -> u32 {
        match self.plan {
            Plan::Multi { groups, .. } => groups,
            _ => 1,
        }
    }

    /// The bind group layout the pipelines were built with.
    pub(crate) fn layout(&self) -> &wgpu::BindGroupLayout {
        &self.kernels.layout
    }

    /// Encode `rounds` rounds of the plan (see [`Plan::rounds`]) into `pass`, whose bind
    /// group is set.
    pub(crate) fn encode_rounds(&self, pass: &mut wgpu::ComputePass<'_>, rounds: u64) {
        match (self.plan, &self.kernels.pipelines) {
            (Plan::Resident { .. }, Pipelines::Full { resident, .. }) => {
                pass.set_pipeline(resident);
                for _ in 0..rounds {
                    pass.dispatch_workgroups(1, 1, 1);
                }
            }
            (
                Plan::Multi {
                    groups_x, groups_y, ..
                },
                Pipelines::Full {
                    partials, update, ..
                },
            ) => {
                for _ in 0..rounds {
                    pass.set_pipeline(partials);
                    pass.dispatch_workgroups(groups_x, groups_y, 1);
                    pass.set_pipeline(update);
                    pass.dispatch_workgroups(1, 1, 1);
                }
            }
            (Plan::Batches { .. }, Pipelines::MiniBatch { batches }) => {
                pass.set_pipeline(batches);
                for _ in 0..rounds {
                    pass.dispatch_workgroups(1, 1, 1);
                }
            }
            _ => unreachable!("`build` compiles the entry points its plan names"),
        }
    }

    /// Encode the partials pass of a multi plan once: each workgroup's sums at the weights
    /// on the device into `partials`. Nothing for other plans.
    pub(crate) fn encode_partials(&self, pass: &mut wgpu::ComputePass<'_>) {
        if let (
            Plan::Multi {
                groups_x, groups_y, ..
            },
            Pipelines::Full { partials, .. },
        ) = (self.plan, &self.kernels.pipelines)
        {
            pass.set_pipeline(partials);
            pass.dispatch_workgroups(groups_x, groups_y, 1);
        }
    }
}

/// The adapter's numbers the planner needs: the smallest subgroup size and the most
/// workgroups per grid dimension.
fn geometry_limits(ctx: &GpuContext) -> (u32, u32) {
    (
        ctx.info.min_subgroup_size.max(1),
        ctx.limits.max_compute_workgroups_per_dimension,
    )
}
