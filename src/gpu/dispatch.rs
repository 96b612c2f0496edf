//! The dispatcher: uploads X and d once, plans the work under the loop-pass budget, encodes
//! every epoch's dispatches into chunks of command buffers with no read-back in between,
//! and reads weights, status, timestamps and loss back through one staging buffer.

use super::context::{scoped, GpuContext};
use super::kernels::{
    partials_passes, resident_epoch_passes, update_passes, Kernels, Params, Reduction, Status,
    LOOP_PASS_BUDGET, WG,
};
use crate::config::{GdConfig, Precision};
use crate::data::Dataset;
use crate::error::{Error, Result};
use std::sync::Arc;
use std::time::{Duration, Instant};
use wgpu::util::DeviceExt;

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

/// Tuning knobs of the GPU backend; the defaults choose from the problem and adapter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GpuOptions {
    pub kernel: KernelChoice,
    /// Force a reduction flavour (None: subgroups where available).
    pub reduction: Option<Reduction>,
}

/// Largest `n·(p+1)` handed to the single-workgroup resident kernel by default.
const RESIDENT_MAX_WORK: u64 = 1 << 16;
/// Default number of workgroups of the partials pass (before the loop-pass bound).
const DEFAULT_GROUPS: u64 = 2048;
/// Dispatches per command buffer: big enough to amortise submission, small enough to
/// keep the driver's command memory modest.
const DISPATCHES_PER_BUFFER: usize = 1024;

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
    let wg = WG as u64;
    let max_groups = (max_groups_per_dim as u64).pow(2);
    let mut groups = n.div_ceil(wg).clamp(1, DEFAULT_GROUPS);
    while partials_passes(n.div_ceil(groups * wg), p, reduction, min_subgroup) > LOOP_PASS_BUDGET {
        if groups >= max_groups || groups >= n.div_ceil(wg) {
            return Err(Error::Unsupported(format!(
                "n = {n}, p = {p} needs more loop passes per invocation than the budget allows"
            )));
        }
        groups = (groups * 2).min(max_groups).min(n.div_ceil(wg));
    }
    if update_passes(groups, p, reduction, min_subgroup) > LOOP_PASS_BUDGET {
        return Err(Error::Unsupported(format!(
            "p = {p} is too wide for the update pass's loop-pass budget"
        )));
    }
    let groups_x = groups.min(max_groups_per_dim as u64);
    Ok(Plan::Multi {
        groups: groups as u32,
        groups_x: groups_x as u32,
        groups_y: groups.div_ceil(groups_x) as u32,
    })
}

fn scalar_size(precision: Precision) -> u64 {
    match precision {
        Precision::F32 => 4,
        Precision::F64 => 8,
    }
}

/// Bytes of the loss-history buffer (one scalar when no history is kept).
fn loss_bytes(cfg: &GdConfig) -> u64 {
    let len = if cfg.record_loss {
        cfg.epochs as u64
    } else {
        1
    };
    len * scalar_size(cfg.precision)
}

/// Everything that can be refused before allocating: precision support and buffer limits.
pub fn check_limits(ctx: &GpuContext, data: &Dataset, cfg: &GdConfig) -> Result<()> {
    cfg.validate()?;
    let name = &ctx.info.name;
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
    let too_large = |what: &str, bytes: u64| Error::TooLarge {
        adapter: name.clone(),
        what: what.to_string(),
        bytes,
        limit,
    };
    if n * p * size > limit {
        return Err(too_large("the feature matrix", n * p * size));
    }
    if n > u32::MAX as u64 / 2 {
        return Err(Error::Data(format!(
            "n = {n} is beyond the GPU kernels' 32-bit indexing"
        )));
    }
    let loss_bytes = loss_bytes(cfg);
    if loss_bytes > limit {
        return Err(too_large("the loss history", loss_bytes));
    }
    Ok(())
}

/// A problem uploaded to the device, ready to be solved (repeatedly, e.g. by benchmarks).
pub struct GpuProblem {
    ctx: Arc<GpuContext>,
    kernels: Arc<Kernels>,
    pub plan: Plan,
    pub reduction: Reduction,
    pub precision: Precision,
    n: usize,
    p: usize,
    epochs: u32,
    record_loss: bool,
    bind_group: wgpu::BindGroup,
    weights: wgpu::Buffer,
    partials: wgpu::Buffer,
    loss: wgpu::Buffer,
    status: wgpu::Buffer,
    staging: wgpu::Buffer,
    timestamps: Option<(wgpu::QuerySet, wgpu::Buffer)>,
    layout: StagingLayout,
    /// Time spent converting and uploading (and compiling, on first use).
    pub setup: Duration,
}

/// Offsets of each segment in the staging buffer (16-byte aligned).
#[derive(Debug, Clone, Copy)]
struct StagingLayout {
    weights: u64,
    status: u64,
    timestamps: u64,
    loss: u64,
    total: u64,
}

fn align16(v: u64) -> u64 {
    v.div_ceil(16) * 16
}

/// Scalars in the chosen precision as bytes.
fn to_bytes(values: impl Iterator<Item = f64>, precision: Precision) -> Vec<u8> {
    match precision {
        Precision::F32 => {
            let v: Vec<f32> = values.map(|v| v as f32).collect();
            bytemuck::cast_slice(&v).to_vec()
        }
        Precision::F64 => {
            let v: Vec<f64> = values.collect();
            bytemuck::cast_slice(&v).to_vec()
        }
    }
}

fn from_bytes(bytes: &[u8], precision: Precision) -> Vec<f64> {
    match precision {
        Precision::F32 => bytemuck::pod_collect_to_vec::<u8, f32>(bytes)
            .into_iter()
            .map(f64::from)
            .collect(),
        Precision::F64 => bytemuck::pod_collect_to_vec::<u8, f64>(bytes),
    }
}

/// What one solve produced.
#[derive(Debug, Clone)]
pub struct GpuRun {
    pub weights: Vec<f64>,
    pub loss: Option<Vec<f64>>,
    pub status: Status,
    pub solve: Duration,
    pub readback: Duration,
    pub device_solve: Option<Duration>,
}

impl GpuProblem {
    /// Check limits, compile (cached), and upload. Nothing is allocated if a check fails.
    pub fn new(
        ctx: Arc<GpuContext>,
        data: &Dataset,
        cfg: &GdConfig,
        opts: GpuOptions,
    ) -> Result<Self> {
        data.validate()?;
        check_limits(&ctx, data, cfg)?;
        let t0 = Instant::now();
        let (n, p) = (data.n(), data.p());
        let precision = cfg.precision;
        let size = scalar_size(precision);
        let loss_bytes = loss_bytes(cfg);
        let (kernels, reduction) =
            ctx.kernels(p as u32, precision == Precision::F64, opts.reduction)?;
        let plan = plan(
            n as u64,
            p as u64,
            cfg.epochs as u64,
            opts.kernel,
            reduction,
            ctx.info.min_subgroup_size.max(1),
            ctx.limits.max_compute_workgroups_per_dimension,
        )?;
        let (groups, groups_x, epochs_per_dispatch) = match plan {
            Plan::Multi {
                groups, groups_x, ..
            } => (groups, groups_x, 1),
            Plan::Resident {
                epochs_per_dispatch,
            } => (1, 1, epochs_per_dispatch),
        };
        let params = Params {
            n: n as u32,
            groups,
            groups_x,
            epochs: cfg.epochs as u32,
            epochs_per_dispatch,
            check_every: cfg.check_every.min(u32::MAX as usize) as u32,
            record_loss: cfg.record_loss as u32,
            use_tol: cfg.tol.is_some() as u32,
        };
        let tol2 = cfg.tol.map_or(0.0, |t| t * t);
        let coef = to_bytes(
            [cfg.mu, 2.0 / n as f64, tol2, 1.0 / n as f64].into_iter(),
            precision,
        );
        let device = &ctx.device;
        let layout = {
            let weights = 0;
            let status = align16((p as u64 + 1) * size);
            let timestamps = status + 16;
            let loss = timestamps + 16;
            StagingLayout {
                weights,
                status,
                timestamps,
                loss,
                total: loss + align16(loss_bytes),
            }
        };
        let storage = wgpu::BufferUsages::STORAGE;
        let copy = wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST;
        let built = scoped(device, || {
            let init = |label: &str, contents: &[u8], usage| {
                device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                    label: Some(label),
                    contents,
                    usage,
                })
            };
            let x = init(
                "x",
                &to_bytes(data.features.iter().copied(), precision),
                storage,
            );
            let d = init(
                "d",
                &to_bytes(data.targets.iter().copied(), precision),
                storage,
            );
            let coef = init("coef", &coef, storage);
            let params = init(
                "params",
                bytemuck::bytes_of(&params),
                wgpu::BufferUsages::UNIFORM,
            );
            let buffer = |label: &str, bytes: u64, usage| {
                device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some(label),
                    size: bytes.max(16),
                    usage,
                    mapped_at_creation: false,
                })
            };
            let weights = buffer("weights", (p as u64 + 1) * size, storage | copy);
            let partials = buffer(
                "partials",
                groups as u64 * (p as u64 + 2) * size,
                storage | copy,
            );
            let loss = buffer("loss", loss_bytes, storage | copy);
            let status = buffer("status", 16, storage | copy);
            let staging = buffer(
                "staging",
                layout.total,
                wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            );
            let timestamps = ctx.has(wgpu::Features::TIMESTAMP_QUERY).then(|| {
                let set = device.create_query_set(&wgpu::QuerySetDescriptor {
                    label: Some("solve timestamps"),
                    ty: wgpu::QueryType::Timestamp,
                    count: 2,
                });
                let resolve = buffer(
                    "timestamp resolve",
                    16,
                    wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
                );
                (set, resolve)
            });
            let entries: Vec<wgpu::BindGroupEntry> =
                [&x, &d, &coef, &weights, &partials, &loss, &status, &params]
                    .iter()
                    .enumerate()
                    .map(|(i, b)| wgpu::BindGroupEntry {
                        binding: i as u32,
                        resource: b.as_entire_binding(),
                    })
                    .collect();
            let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("descent"),
                layout: &kernels.layout,
                entries: &entries,
            });
            (
                bind_group, weights, partials, loss, status, staging, timestamps,
            )
        })?;
        let (bind_group, weights, partials, loss, status, staging, timestamps) = built;
        Ok(GpuProblem {
            ctx: ctx.clone(),
            kernels,
            plan,
            reduction,
            precision,
            n,
            p,
            epochs: cfg.epochs as u32,
            record_loss: cfg.record_loss,
            bind_group,
            weights,
            partials,
            loss,
            status,
            staging,
            timestamps,
            layout,
            setup: t0.elapsed(),
        })
    }

    /// Rows and features of the uploaded problem.
    pub fn shape(&self) -> (usize, usize) {
        (self.n, self.p)
    }

    /// Reset the state (weights to zero, outputs poisoned with NaN so unwritten values
    /// cannot pass for results), run every epoch on the device, read back once.
    pub fn solve(&self) -> Result<GpuRun> {
        let ctx = &self.ctx;
        let (device, queue) = (&ctx.device, &ctx.queue);
        let size = scalar_size(self.precision);
        let nan = |bytes: u64| {
            to_bytes(
                std::iter::repeat_n(f64::NAN, (bytes / size) as usize),
                self.precision,
            )
        };
        queue.write_buffer(&self.weights, 0, &vec![0u8; self.weights.size() as usize]);
        queue.write_buffer(&self.status, 0, bytemuck::bytes_of(&Status::default()));
        queue.write_buffer(&self.partials, 0, &nan(self.partials.size()));
        queue.write_buffer(&self.loss, 0, &nan(self.loss.size()));

        let dispatches: Vec<(&wgpu::ComputePipeline, (u32, u32))> = match self.plan {
            Plan::Resident {
                epochs_per_dispatch,
            } => {
                let count = self.epochs.div_ceil(epochs_per_dispatch) as usize;
                vec![(&self.kernels.resident, (1, 1)); count]
            }
            Plan::Multi {
                groups_x, groups_y, ..
            } => {
                let mut v = Vec::with_capacity(2 * self.epochs as usize);
                for _ in 0..self.epochs {
                    v.push((&self.kernels.partials, (groups_x, groups_y)));
                    v.push((&self.kernels.update, (1, 1)));
                }
                v
            }
        };
        let start = Instant::now();
        let chunks: Vec<_> = dispatches.chunks(DISPATCHES_PER_BUFFER).collect();
        let last = chunks.len() - 1;
        let buffers = scoped(device, || {
            chunks
                .iter()
                .enumerate()
                .map(|(c, chunk)| {
                    let mut enc = device.create_command_encoder(&Default::default());
                    {
                        let timestamp_writes = self.timestamps.as_ref().and_then(|(set, _)| {
                            (c == 0 || c == last).then_some(wgpu::ComputePassTimestampWrites {
                                query_set: set,
                                beginning_of_pass_write_index: (c == 0).then_some(0),
                                end_of_pass_write_index: (c == last).then_some(1),
                            })
                        });
                        let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                            label: Some("epochs"),
                            timestamp_writes,
                        });
                        pass.set_bind_group(0, &self.bind_group, &[]);
                        for (pipeline, (gx, gy)) in chunk.iter() {
                            pass.set_pipeline(pipeline);
                            pass.dispatch_workgroups(*gx, *gy, 1);
                        }
                    }
                    enc.finish()
                })
                .collect::<Vec<_>>()
        })?;
        let index = queue.submit(buffers);
        device
            .poll(wgpu::PollType::Wait {
                submission_index: Some(index),
                timeout: None,
            })
            .map_err(|e| Error::Gpu(format!("waiting for the epochs failed: {e}")))?;
        let solve = start.elapsed();

        let t1 = Instant::now();
        let l = self.layout;
        let wbytes = self.weights.size().min((self.p as u64 + 1) * size);
        let mut enc = device.create_command_encoder(&Default::default());
        enc.copy_buffer_to_buffer(&self.weights, 0, &self.staging, l.weights, wbytes);
        enc.copy_buffer_to_buffer(&self.status, 0, &self.staging, l.status, 16);
        if let Some((set, resolve)) = &self.timestamps {
            enc.resolve_query_set(set, 0..2, resolve, 0);
            enc.copy_buffer_to_buffer(resolve, 0, &self.staging, l.timestamps, 16);
        }
        if self.record_loss {
            enc.copy_buffer_to_buffer(
                &self.loss,
                0,
                &self.staging,
                l.loss,
                self.epochs as u64 * size,
            );
        }
        queue.submit([enc.finish()]);
        let slice = self.staging.slice(..);
        let (tx, rx) = std::sync::mpsc::channel();
        slice.map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| Error::Gpu(format!("waiting for the read-back failed: {e}")))?;
        rx.recv()
            .map_err(|_| Error::Gpu("read-back callback never ran".into()))?
            .map_err(|e| Error::Gpu(format!("mapping the read-back buffer failed: {e}")))?;
        let (weights, status, stamps, loss) = {
            let bytes = slice
                .get_mapped_range()
                .map_err(|e| Error::Gpu(format!("reading the mapped buffer failed: {e}")))?;
            let at = |o: u64, len: u64| &bytes[o as usize..(o + len) as usize];
            let weights = from_bytes(at(l.weights, wbytes), self.precision);
            let status: Status = bytemuck::pod_read_unaligned(at(l.status, 16));
            let stamps: [u64; 2] = bytemuck::pod_read_unaligned(at(l.timestamps, 16));
            let loss = self.record_loss.then(|| {
                let mut v = from_bytes(at(l.loss, self.epochs as u64 * size), self.precision);
                v.truncate(status.epoch as usize);
                v
            });
            (weights, status, stamps, loss)
        };
        self.staging.unmap();
        let readback = t1.elapsed();
        let device_solve = self.timestamps.as_ref().and_then(|_| {
            let ticks = stamps[1].checked_sub(stamps[0])?;
            let ns = ticks as f64 * queue.get_timestamp_period() as f64;
            (ns > 0.0).then(|| Duration::from_nanos(ns as u64))
        });
        Ok(GpuRun {
            weights,
            loss,
            status,
            solve,
            readback,
            device_solve,
        })
    }
}
