//! A problem's buffers on the device and the bind group that binds each by its slot, plus
//! the run's parameters (`Params`) for a plan.

use super::context::{scoped, GpuContext};
use super::kernels::{optimizer_code, penalty_code, schedule_code, Params, Slot, BINDINGS};
use super::plan::Plan;
use super::planned::PlannedKernels;
use super::readback::STATUS_BYTES;
use super::upload::Table;
use crate::config::GdConfig;
use crate::error::Result;
use wgpu::util::DeviceExt;

/// The buffers the kernels read and write besides X and d, and the bind group of them all.
/// X, d and `coef` are only read, and live on through the bind group.
pub(crate) struct Resources {
    /// The weights, g0 and the optimizer's state (`WeightsLayout`).
    pub weights: wgpu::Buffer,
    /// Per-workgroup sums of the partials pass, K per group.
    pub partials: wgpu::Buffer,
    /// The loss ring.
    pub loss: wgpu::Buffer,
    pub status: wgpu::Buffer,
    /// Written again when a test injects a fault.
    pub params: wgpu::Buffer,
    pub bind_group: wgpu::BindGroup,
}

/// Bytes of the buffers [`Resources::new`] makes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sizes {
    pub weights: u64,
    pub partials: u64,
    pub loss: u64,
}

impl Resources {
    /// Allocate the buffers (each at least 16 bytes), fill `coef` and `params`, and bind
    /// everything to `planned`'s layout.
    pub(crate) fn new(
        ctx: &GpuContext,
        planned: &PlannedKernels,
        table: &Table,
        coef: &[u8],
        params: &Params,
        sizes: Sizes,
    ) -> Result<Self> {
        let device = &ctx.device;
        scoped(device, || {
            let storage = wgpu::BufferUsages::STORAGE;
            let copy = wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST;
            let coef = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("coef"),
                contents: coef,
                usage: storage,
            });
            let params = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("params"),
                contents: bytemuck::bytes_of(params),
                usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            });
            let buffer = |label: &str, bytes: u64| {
                device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some(label),
                    size: bytes.max(16),
                    usage: storage | copy,
                    mapped_at_creation: false,
                })
            };
            let weights = buffer("weights", sizes.weights);
            let partials = buffer("partials", sizes.partials);
            let loss = buffer("loss ring", sizes.loss);
            let status = buffer("status", STATUS_BYTES);
            // Each buffer by its slot (binding number) in BINDINGS, so order cannot drift.
            let buffer_for = |slot: Slot| match slot {
                Slot::X => &table.x,
                Slot::D => &table.d,
                Slot::Coef => &coef,
                Slot::Weights => &weights,
                Slot::Partials => &partials,
                Slot::Loss => &loss,
                Slot::Status => &status,
                Slot::Params => &params,
            };
            let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("descent"),
                layout: planned.layout(),
                entries: &BINDINGS.map(|b| wgpu::BindGroupEntry {
                    binding: b.slot.index(),
                    resource: buffer_for(b.slot).as_entire_binding(),
                }),
            });
            Resources {
                weights,
                partials,
                loss,
                status,
                params,
                bind_group,
            }
        })
    }
}

/// The run's parameters for `plan` over `n` rows: the geometry, the epochs and switches of
/// `cfg`, a loss ring of `loss_ring` entries.
pub(crate) fn params(plan: Plan, cfg: &GdConfig, n: usize, loss_ring: u64) -> Params {
    let (groups, groups_x, epochs_per_dispatch) = match plan {
        Plan::Multi {
            groups, groups_x, ..
        } => (groups, groups_x, 1),
        Plan::Resident {
            epochs_per_dispatch,
        } => (1, 1, epochs_per_dispatch),
        Plan::Batches { .. } => (1, 1, 1),
    };
    let (batch, batches_per_dispatch, n_batches) = match plan {
        Plan::Batches {
            batch,
            batches_per_dispatch,
            n_batches,
        } => (batch, batches_per_dispatch, n_batches),
        _ => (0, 0, 0),
    };
    let (perm_a, perm_b) = crate::model::batches::radices(n as u32);
    Params {
        n: n as u32,
        groups,
        groups_x,
        epochs: cfg.epochs.min(u32::MAX as usize) as u32,
        epochs_per_dispatch,
        check_every: cfg.check_every.min(u32::MAX as usize) as u32,
        record_loss: cfg.record_loss as u32,
        use_tol: cfg.tol.is_some() as u32,
        loss_ring: loss_ring as u32,
        schedule: schedule_code(cfg.schedule.kind),
        stall_limit: cfg
            .stall_limit()
            .map_or(0, |k| k.min(u32::MAX as usize) as u32),
        batch,
        batches_per_dispatch,
        n_batches,
        perm_a,
        perm_b,
        seed_key: crate::model::batches::seed_key(cfg.shuffle_seed),
        fault: 0,
        penalty: penalty_code(cfg.model.penalty.kind),
        optimizer: optimizer_code(cfg.optimizer.kind),
    }
}
