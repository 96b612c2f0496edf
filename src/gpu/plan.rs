//! Planning a GPU run before anything is allocated: which kernel runs the epochs, its
//! geometry under the loop-pass budget, how epochs are cut into command-buffer chunks, and
//! the checks (precision, buffer limits, width) that refuse a problem up front.

use super::context::GpuContext;
use super::kernels::{
    batch_dispatch_passes, partials_passes, resident_epoch_passes, update_passes, Reduction,
    LOOP_PASS_BUDGET, WG,
};
use crate::config::{GdConfig, Precision};
use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::names::Setting;

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
    /// Mini-batches: one workgroup runs many batches per dispatch (`batches` in
    /// shaders/minibatch.wgsl).
    Batches {
        batch: u32,
        batches_per_dispatch: u32,
        n_batches: u32,
    },
}

impl Plan {
    /// Rounds of the plan's kernels that take the run from the start of epoch `first` to the
    /// end of epoch `first + epochs`. A round is one dispatch, but for [`Plan::Multi`],
    /// whose round is an epoch's two (partials, then update). The batches kernel counts
    /// batches globally: its dispatch j runs batches j·c .. (j + 1)·c of the whole run.
    pub fn rounds(&self, first: u64, epochs: u64) -> u64 {
        match *self {
            Plan::Resident {
                epochs_per_dispatch,
            } => epochs.div_ceil(epochs_per_dispatch as u64),
            Plan::Multi { .. } => epochs,
            Plan::Batches {
                batches_per_dispatch,
                n_batches,
                ..
            } => {
                let (c, nb) = (batches_per_dispatch as u64, n_batches as u64);
                ((first + epochs) * nb).div_ceil(c) - (first * nb).div_ceil(c)
            }
        }
    }

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
            // A dispatch may run on into the next chunk's epochs, completing fewer than
            // batches_per_dispatch / n_batches of them: well under a chunk, so the loss ring
            // of two chunks never overwrites an entry before it is copied out.
            Plan::Batches {
                batches_per_dispatch,
                n_batches,
                ..
            } => (DISPATCHES_PER_CHUNK * batches_per_dispatch as u64 / n_batches as u64)
                .min(MAX_CHUNK_EPOCHS),
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
         this table has {p}: use a CPU backend ({})",
        Setting::Backend.is("fused")
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

/// The mini-batch plan for batches of `b` rows: as many batches per dispatch as the
/// loop-pass budget allows (and the run needs), or an error naming the largest batch size
/// the kernel runs.
pub fn plan_batches(
    n: u64,
    p: u64,
    b: u64,
    epochs: u64,
    reduction: Reduction,
    min_subgroup: u32,
) -> Result<Plan> {
    let walks = crate::model::batches::walk_bound(n as u32) as u64;
    let passes = |b: u64, c: u64| batch_dispatch_passes(n, p, b, c, walks, reduction, min_subgroup);
    if passes(b, 1) > LOOP_PASS_BUDGET {
        let (mut lo, mut hi) = (0u64, b);
        while lo + 1 < hi {
            let mid = lo + (hi - lo) / 2;
            if passes(mid, 1) <= LOOP_PASS_BUDGET {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        return Err(Error::Unsupported(format!(
            "the gpu backend runs mini-batches of at most {lo} rows for {n} rows × {p} features \
             (a GPU invocation may make only {LOOP_PASS_BUDGET} loop passes per dispatch, a \
             limit software adapters enforce); {} is {b}: use a smaller batch, the full batch, \
             or a CPU backend ({})",
            Setting::BatchSize.named(),
            Setting::Backend.is("fused")
        )));
    }
    let n_batches = n.div_ceil(b);
    let most = (epochs.max(1) * n_batches).min(u32::MAX as u64);
    let (mut lo, mut hi) = (1u64, most + 1);
    while lo + 1 < hi {
        let mid = lo + (hi - lo) / 2;
        if passes(b, mid) <= LOOP_PASS_BUDGET {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Ok(Plan::Batches {
        batch: b as u32,
        batches_per_dispatch: lo as u32,
        n_batches: n_batches as u32,
    })
}

/// The plan for `cfg` on `data`'s shape: mini-batches when a batch size below n is set.
pub fn plan_for(
    n: u64,
    p: u64,
    cfg: &GdConfig,
    choice: KernelChoice,
    reduction: Reduction,
    min_subgroup: u32,
    max_groups_per_dim: u32,
) -> Result<Plan> {
    match cfg.batch_size.filter(|&b| (b as u64) < n) {
        Some(b) => plan_batches(n, p, b as u64, cfg.epochs as u64, reduction, min_subgroup),
        None => plan(
            n,
            p,
            cfg.epochs as u64,
            choice,
            reduction,
            min_subgroup,
            max_groups_per_dim,
        ),
    }
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
    let (n, p) = (data.n() as u64, data.p() as u64);
    check_device(ctx, n, p, cfg.precision)?;
    // The width limit under the reduction the kernels will use (subgroups where the adapter
    // has them, as `GpuContext::reductions` tries first by default).
    let reduction = if ctx.has(wgpu::Features::SUBGROUP) {
        Reduction::Subgroup
    } else {
        Reduction::Tree
    };
    plan_for(
        n,
        p,
        cfg,
        KernelChoice::Auto,
        reduction,
        ctx.info.min_subgroup_size.max(1),
        ctx.limits.max_compute_workgroups_per_dimension,
    )?;
    Ok(())
}

/// What the adapter refuses for an `n × p` table in `precision`: f64 without SHADER_F64, a
/// feature matrix beyond one storage binding, rows beyond the kernels' 32-bit indexing.
pub(crate) fn check_device(ctx: &GpuContext, n: u64, p: u64, precision: Precision) -> Result<()> {
    let name = &ctx.info.name;
    if precision == Precision::F64 && !ctx.has(wgpu::Features::SHADER_F64) {
        return Err(Error::Unsupported(format!(
            "adapter '{name}' does not support f64 in shaders (SHADER_F64); use {} or pick \
             another adapter with {}",
            Setting::Precision.is("f32"),
            Setting::Adapter.named()
        )));
    }
    let size = scalar_size(precision);
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
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A round is one dispatch for the resident and batches kernels and an epoch's pair
    /// (partials, update) for the multi plan; batches are counted across the whole run, so
    /// consecutive chunks' rounds add up to the whole run's.
    #[test]
    fn rounds_cover_the_epochs_asked_for() {
        let resident = Plan::Resident {
            epochs_per_dispatch: 64,
        };
        assert_eq!(resident.rounds(0, 64), 1);
        assert_eq!(resident.rounds(0, 65), 2);
        assert_eq!(resident.rounds(128, 1), 1);
        let multi = Plan::Multi {
            groups: 8,
            groups_x: 8,
            groups_y: 1,
        };
        assert_eq!(multi.rounds(0, 7), 7);
        assert_eq!(multi.rounds(100, 3), 3);
        // 10 batches an epoch, 4 per dispatch: the run's batch j·4 .. (j+1)·4 per dispatch.
        let batches = Plan::Batches {
            batch: 32,
            batches_per_dispatch: 4,
            n_batches: 10,
        };
        assert_eq!(batches.rounds(0, 1), 3); // batches 0..12 cover epoch 0
        assert_eq!(batches.rounds(1, 1), 2); // then 12..20
        assert_eq!(batches.rounds(0, 2), 5);
        assert_eq!(
            (0..7).map(|e| batches.rounds(e, 1)).sum::<u64>(),
            batches.rounds(0, 7)
        );
    }
}
