//! Planning a GPU run before anything is allocated: which kernel runs the epochs, its
//! geometry under the loop-pass budget, how epochs are cut into command-buffer chunks, and
//! the checks (precision, buffer limits, width) that refuse a problem up front.

use super::context::GpuContext;
use super::kernels::{
    partials_passes, resident_epoch_passes, update_passes, Reduction, LOOP_PASS_BUDGET, WG,
};
use crate::config::{GdConfig, Precision};
use crate::data::Dataset;
use crate::error::{Error, Result};

/// Which kernel family runs the epochs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KernelChoice {
    /// Resident for small problems, partials + update otherwise.
    #[default]
    Auto,
    /// One workgroup loops whole epochs with the weights in registers.
    Resident,
    /// Per epoch: a fused error+reduction pass over many workgroups, then an update pass.
    Multi,
}

/// Largest `n·(p+1)` handed to the single-workgroup resident kernel by default.
const RESIDENT_MAX_WORK: u64 = 1 << 16;
/// Default number of workgroups of the partials pass (before the loop-pass bound).
const DEFAULT_GROUPS: u64 = 2048;
/// Dispatches per command buffer (one chunk): big enough to amortise a submission (~50 µs
/// on a real GPU), small enough that the host sees the device's status often and the
/// driver's command memory stays modest.
pub const DISPATCHES_PER_CHUNK: u64 = 1024;
/// Epochs per chunk at most: bounds the loss ring on the device and the read-back per chunk.
const MAX_CHUNK_EPOCHS: u64 = 1 << 16;

/// How the epochs will be run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    Resident {
        epochs_per_dispatch: u32,
    },
    Multi {
        groups: u32,
        groups_x: u32,
        groups_y: u32,
    },
}

impl Plan {
    /// Epochs covered by one chunk of [`DISPATCHES_PER_CHUNK`] dispatches or fewer.
    pub fn chunk_epochs(&self, epochs: u64) -> u64 {
        let e = match *self {
            Plan::Resident {
                epochs_per_dispatch,
            } => {
                let epd = epochs_per_dispatch as u64;
                DISPATCHES_PER_CHUNK.min(MAX_CHUNK_EPOCHS.div_ceil(epd)) * epd
            }
            // Two dispatches per epoch: partials, then update.
            Plan::Multi { .. } => DISPATCHES_PER_CHUNK / 2,
        };
        e.clamp(1, epochs.max(1))
    }
}

/// The partials + update geometry for `n × p`, or None when no grid keeps every
/// invocation under the budget.
fn multi_geometry(
    n: u64,
    p: u64,
    reduction: Reduction,
    min_subgroup: u32,
    max_groups_per_dim: u32,
) -> Option<Plan> {
    let wg = WG as u64;
    let max_groups = (max_groups_per_dim as u64).pow(2);
    let mut groups = n.div_ceil(wg).clamp(1, DEFAULT_GROUPS);
    while partials_passes(n.div_ceil(groups * wg), p, reduction, min_subgroup) > LOOP_PASS_BUDGET {
        if groups >= max_groups || groups >= n.div_ceil(wg) {
            return None;
        }
        groups = (groups * 2).min(max_groups).min(n.div_ceil(wg));
    }
    if update_passes(groups, p, reduction, min_subgroup) > LOOP_PASS_BUDGET {
        return None;
    }
    let groups_x = groups.min(max_groups_per_dim as u64);
    Some(Plan::Multi {
        groups: groups as u32,
        groups_x: groups_x as u32,
        groups_y: groups.div_ceil(groups_x) as u32,
    })
}

/// The error for a table too wide for the kernels, naming the widest that would run.
fn too_wide(n: u64, p: u64, reduction: Reduction, min_subgroup: u32, max_dim: u32) -> Error {
    let fits = |q: u64| multi_geometry(n, q, reduction, min_subgroup, max_dim).is_some();
    let (mut lo, mut hi) = (0u64, p);
    while lo + 1 < hi {
        let mid = lo + (hi - lo) / 2;
        if fits(mid) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Error::Unsupported(format!(
        "the gpu backend runs at most {lo} features for {n} rows (a GPU invocation may make \
         only {LOOP_PASS_BUDGET} loop passes per dispatch, a limit software adapters enforce); \
         this table has {p}: use a CPU backend (--backend fused)"
    ))
}

/// Choose the kernel and its geometry so no invocation exceeds [`LOOP_PASS_BUDGET`].
pub fn plan(
    n: u64,
    p: u64,
    epochs: u64,
    choice: KernelChoice,
    reduction: Reduction,
    min_subgroup: u32,
    max_groups_per_dim: u32,
) -> Result<Plan> {
    let per_epoch = resident_epoch_passes(n, p, reduction, min_subgroup);
    let resident_ok = per_epoch <= LOOP_PASS_BUDGET;
    let use_resident = match choice {
        KernelChoice::Resident if !resident_ok => {
            return Err(Error::Unsupported(format!(
                "the resident kernel cannot run n = {n}, p = {p}: one epoch needs {per_epoch} \
                 loop passes per invocation, over the budget of {LOOP_PASS_BUDGET}"
            )))
        }
        KernelChoice::Resident => true,
        KernelChoice::Multi => false,
        KernelChoice::Auto => resident_ok && n * (p + 1) <= RESIDENT_MAX_WORK,
    };
    if use_resident {
        let epd = (LOOP_PASS_BUDGET / per_epoch).clamp(1, epochs.max(1));
        return Ok(Plan::Resident {
            epochs_per_dispatch: epd as u32,
        });
    }
    multi_geometry(n, p, reduction, min_subgroup, max_groups_per_dim)
        .ok_or_else(|| too_wide(n, p, reduction, min_subgroup, max_groups_per_dim))
}

pub(crate) fn scalar_size(precision: Precision) -> u64 {
    match precision {
        Precision::F32 => 4,
        Precision::F64 => 8,
    }
}

/// Everything that can be refused before allocating: precision support, buffer limits and
/// the kernels' width limit.
pub fn check_limits(ctx: &GpuContext, data: &Dataset, cfg: &GdConfig) -> Result<()> {
    cfg.validate()?;
    let name = &ctx.info.name;
    if cfg.batch_size.is_some_and(|b| b < data.n()) {
        return Err(Error::Unsupported(
            "the gpu backend runs full batches only so far (mini-batches are CPU-only for \
             now); use --backend fused"
                .into(),
        ));
    }
    if cfg.precision == Precision::F64 && !ctx.has(wgpu::Features::SHADER_F64) {
        return Err(Error::Unsupported(format!(
            "adapter '{name}' does not support f64 in shaders (SHADER_F64); use \
             --precision f32 or pick another adapter with --adapter"
        )));
    }
    let (n, p) = (data.n() as u64, data.p() as u64);
    let size = scalar_size(cfg.precision);
    let limit = ctx
        .limits
        .max_storage_buffer_binding_size
        .min(ctx.limits.max_buffer_size);
    if n * p * size > limit {
        return Err(Error::TooLarge {
            adapter: name.clone(),
            what: "the feature matrix".into(),
            bytes: n * p * size,
            limit,
        });
    }
    if n > u32::MAX as u64 / 2 {
        return Err(Error::Data(format!(
            "n = {n} is beyond the GPU kernels' 32-bit indexing"
        )));
    }
    // The width limit under the reduction the kernels will use (subgroups where the adapter
    // has them, as `GpuContext::kernels` picks by default).
    let reduction = if ctx.has(wgpu::Features::SUBGROUP) {
        Reduction::Subgroup
    } else {
        Reduction::Tree
    };
    plan(
        n,
        p,
        cfg.epochs as u64,
        KernelChoice::Auto,
        reduction,
        ctx.info.min_subgroup_size.max(1),
        ctx.limits.max_compute_workgroups_per_dimension,
    )?;
    Ok(())
}
