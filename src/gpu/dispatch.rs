//! The dispatcher: uploads X and d once, then runs the epochs as a stream of bounded
//! command-buffer chunks. Each chunk ends by copying the device's status, weights and its
//! slice of the loss ring into a small staging buffer; the host reads that while the next
//! chunk runs, and stops submitting as soon as the device says it has stopped (converged or
//! diverged). Memory and encoding time follow the epochs actually run, never `--epochs`.

use super::context::{scoped, GpuContext};
use super::kernels::{
    coef_values, schedule_code, state_len, Kernels, Params, Pipelines, Reduction, Slot, Status,
    BINDINGS,
};
use super::plan::{check_limits, plan_for, scalar_size, KernelChoice, Plan};
use crate::config::{GdConfig, Interrupt, Precision};
use crate::data::{Dataset, Features};
use crate::error::{Error, Result};
use either::Either;
use ndarray::Array1;
use std::borrow::Cow;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};
use wgpu::util::DeviceExt;

/// Tuning knobs of the GPU backend; the defaults choose from the problem and adapter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GpuOptions {
    pub kernel: KernelChoice,
    /// Force a reduction flavour (None: subgroups where available).
    pub reduction: Option<Reduction>,
}

/// Chunks queued on the device at once: one running while the host reads the previous
/// one's status, so the queue never drains for a status check.
const IN_FLIGHT: usize = 2;

/// Dispatches per chunk at most when the fit can be interrupted ([`Interrupt::is_armed`]):
/// the host looks at the flag between chunks, so it stops within about two such chunks
/// (well under a second on lavapipe) instead of two full ones.
const INTERRUPTIBLE_DISPATCHES: u64 = 4;

/// Bytes of `Status` on the device.
const STATUS_BYTES: u64 = std::mem::size_of::<Status>() as u64;

/// Offsets of each segment of a chunk's staging buffer (16-byte aligned).
#[derive(Debug, Clone, Copy)]
struct StagingLayout {
    /// p + 1 weights, g0 and the optimizer and schedule state.
    weights: u64,
    weights_len: u64,
    status: u64,
    timestamps: u64,
    loss: u64,
    total: u64,
}

fn align16(v: u64) -> u64 {
    v.div_ceil(16) * 16
}

/// Scalars in the chosen precision as bytes.
/// `values` in `precision`, as the device's bytes (native order, as bytemuck's casts).
fn to_bytes(values: impl ExactSizeIterator<Item = f64>, precision: Precision) -> Vec<u8> {
    let mut out = Vec::with_capacity(values.len() * scalar_size(precision) as usize);
    match precision {
        Precision::F32 => values.for_each(|v| out.extend_from_slice(&(v as f32).to_ne_bytes())),
        Precision::F64 => values.for_each(|v| out.extend_from_slice(&v.to_ne_bytes())),
    }
    out
}

/// Values converted at a time when data is not in the working precision: the host holds
/// one such block (512 KiB in f64), never a converted copy of the matrix.
const UPLOAD_BLOCK: usize = 1 << 16;

/// Bytes written to the device between waits. wgpu stages every `write_buffer` in host
/// memory until the submission carrying it has run (and a buffer created mapped, as
/// `create_buffer_init` makes it, is staged whole), so waiting every 64 MiB bounds what an
/// upload holds on the host instead of an image of the whole matrix.
const UPLOAD_FLUSH_BYTES: usize = 64 << 20;

/// `values` as the device stores them, in order, block by block: `own` (their bytes in the
/// working precision, e.g. a NumPy buffer) in one block when given, else converted
/// [`UPLOAD_BLOCK`] values at a time.
fn scalar_blocks<'a>(
    own: Option<&'a [u8]>,
    mut values: impl ExactSizeIterator<Item = f64> + 'a,
    precision: Precision,
) -> impl Iterator<Item = Cow<'a, [u8]>> + 'a {
    let converted = std::iter::from_fn(move || {
        let k = values.len().min(UPLOAD_BLOCK);
        (k > 0).then(|| Cow::Owned(to_bytes(values.by_ref().take(k), precision)))
    });
    match own {
        Some(bytes) => Either::Left(std::iter::once(Cow::Borrowed(bytes))),
        None => Either::Right(converted),
    }
}

/// The features' device bytes (see [`scalar_blocks`]): read in place when they are already
/// in the working precision.
fn feature_blocks(
    features: &Features,
    precision: Precision,
) -> impl Iterator<Item = Cow<'_, [u8]>> + '_ {
    let own = match (precision, features.slice::<f32>(), features.slice::<f64>()) {
        (Precision::F32, Some(x), _) => Some(bytemuck::cast_slice(x)),
        (Precision::F64, _, Some(x)) => Some(bytemuck::cast_slice(x)),
        _ => None,
    };
    scalar_blocks(own, features.iter(), precision)
}

/// The targets' device bytes: read in place in f64.
fn target_blocks(
    targets: &Array1<f64>,
    precision: Precision,
) -> impl Iterator<Item = Cow<'_, [u8]>> {
    let own = match precision {
        Precision::F64 => targets.as_slice().map(bytemuck::cast_slice),
        Precision::F32 => None,
    };
    scalar_blocks(own, targets.iter().copied(), precision)
}

/// What an upload staged: its waits, and the most bytes waiting for the device at once.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Upload {
    flushes: usize,
    max_staged: usize,
}

/// A new buffer of `bytes` (n·p or n scalars: a multiple of 4, at least 4) filled from
/// `blocks` by `write_buffer` in pieces of at most `flush_bytes`, submitting and waiting
/// whenever `flush_bytes` are staged, so the host never holds more than that for the
/// device.
fn upload<'a>(
    ctx: &GpuContext,
    label: &str,
    bytes: u64,
    blocks: impl Iterator<Item = Cow<'a, [u8]>>,
    usage: wgpu::BufferUsages,
    flush_bytes: usize,
) -> Result<(wgpu::Buffer, Upload)> {
    // Blocks are whole scalars and `flush_bytes` a multiple of 8, so every piece is too:
    // each write is 4-byte aligned, as wgpu asks.
    debug_assert!(flush_bytes > 0 && flush_bytes.is_multiple_of(8));
    let (device, queue) = (&ctx.device, &ctx.queue);
    let buffer = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some(label),
        size: bytes,
        usage: usage | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let mut stats = Upload {
        flushes: 0,
        max_staged: 0,
    };
    let (mut at, mut staged) = (0u64, 0usize);
    for block in blocks {
        let mut rest: &[u8] = &block;
        while !rest.is_empty() {
            let (piece, tail) = rest.split_at(rest.len().min(flush_bytes - staged));
            rest = tail;
            queue.write_buffer(&buffer, at, piece);
            at += piece.len() as u64;
            staged += piece.len();
            stats.max_staged = stats.max_staged.max(staged);
            if staged == flush_bytes {
                let index = queue.submit([]);
                device
                    .poll(wgpu::PollType::Wait {
                        submission_index: Some(index),
                        timeout: None,
                    })
                    .map_err(|e| Error::Gpu(format!("uploading {label} failed: {e}")))?;
                stats.flushes += 1;
                staged = 0;
            }
        }
    }
    debug_assert_eq!(at, bytes);
    Ok((buffer, stats))
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
    /// Command-buffer chunks submitted: a run that stops early submits at most
    /// [`IN_FLIGHT`] chunks past the one that stopped.
    pub chunks_submitted: usize,
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
    epochs: u64,
    chunk_epochs: u64,
    record_loss: bool,
    /// Looked at between chunks: once set, nothing more is submitted.
    interrupt: Interrupt,
    bind_group: wgpu::BindGroup,
    weights: wgpu::Buffer,
    partials: wgpu::Buffer,
    loss: wgpu::Buffer,
    status: wgpu::Buffer,
    staging: Vec<wgpu::Buffer>,
    timestamps: Option<(wgpu::QuerySet, wgpu::Buffer)>,
    layout: StagingLayout,
    /// The `weights` buffer at the start of a solve: zero weights and g0, then the optimizer
    /// and schedule state's start (t = β1ᵗ = β2ᵗ = 1, eta = mu, best = +∞).
    initial_weights: Vec<u8>,
    /// Where the reported weights start in `weights`: 0, or nesterov's iterate x.
    report_from: usize,
    /// Time spent converting and uploading (and compiling, on first use).
    pub setup: Duration,
}

/// A chunk on the device: its staging slot, epoch range and completion signal.
struct InFlight {
    slot: usize,
    first_epoch: u64,
    epochs: u64,
    index: wgpu::SubmissionIndex,
    mapped: std::sync::mpsc::Receiver<std::result::Result<(), wgpu::BufferAsyncError>>,
}

/// What the host learns from one finished chunk.
struct ChunkResult {
    status: Status,
    weights: Vec<f64>,
    loss: Vec<f64>,
    stamps: [u64; 2],
    /// Time to map and copy out the staging slot once the chunk had finished.
    read: Duration,
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
        cfg.check_data(data)?;
        check_limits(&ctx, data, cfg)?;
        let t0 = Instant::now();
        let (n, p) = (data.n(), data.p());
        let precision = cfg.precision;
        let size = scalar_size(precision);
        let (kernels, reduction) = ctx.kernels(
            p as u32,
            precision == Precision::F64,
            &cfg.model,
            cfg.optimizer.kind,
            cfg.batch_size.is_some_and(|b| b < n),
            opts.reduction,
        )?;
        let plan = plan_for(
            n as u64,
            p as u64,
            cfg,
            opts.kernel,
            reduction,
            ctx.info.min_subgroup_size.max(1),
            ctx.limits.max_compute_workgroups_per_dimension,
        )?;
        // Both follow the batch size; a mismatch would dispatch nothing.
        if matches!(plan, Plan::Batches { .. })
            != matches!(kernels.pipelines, Pipelines::MiniBatch { .. })
        {
            return Err(Error::Gpu(
                "internal: the plan and the shader build disagree on mini-batches".into(),
            ));
        }
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
        let chunk_epochs = plan.chunk_epochs(cfg.epochs as u64);
        let chunk_epochs = match plan {
            _ if !cfg.interrupt.is_armed() => chunk_epochs,
            Plan::Resident {
                epochs_per_dispatch,
            } => chunk_epochs.min(INTERRUPTIBLE_DISPATCHES * epochs_per_dispatch as u64),
            Plan::Multi { .. } => chunk_epochs.min(INTERRUPTIBLE_DISPATCHES / 2),
            // At least one epoch: an epoch of many dispatches is interrupted at its end.
            Plan::Batches {
                batches_per_dispatch,
                n_batches,
                ..
            } => chunk_epochs.min(
                (INTERRUPTIBLE_DISPATCHES * batches_per_dispatch as u64 / n_batches as u64).max(1),
            ),
        };
        // Two chunks' worth: the chunk running and the one whose slice is being copied out.
        let loss_ring = if cfg.record_loss {
            (IN_FLIGHT as u64 * chunk_epochs).min(cfg.epochs as u64)
        } else {
            1
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
            _pad: [0; 3],
        };
        let coef = to_bytes(coef_values(cfg, n).into_iter(), precision);
        let initial_weights = {
            let mut v = vec![0.0; p + 2 + state_len(p)];
            let s = p + 2 + 2 * (p + 1);
            // best starts at +∞, as on the CPU (an f32 overflow to +∞ is then no stall).
            // t, β1ᵗ, β2ᵗ, eta, best, stalls, eloss, ereg.
            v[s..s + 8].copy_from_slice(&[1.0, 1.0, 1.0, cfg.mu, f64::INFINITY, 0.0, 0.0, 0.0]);
            to_bytes(v.into_iter(), precision)
        };
        let report_from = match cfg.optimizer.kind {
            crate::model::OptimizerKind::Nesterov => p + 2,
            _ => 0,
        };
        let device = &ctx.device;
        let layout = {
            // Weights, g0, then the optimizer and schedule state (read back whole: nesterov
            // reports its iterate from there).
            let weights_len = (p as u64 + 2 + state_len(p) as u64) * size;
            let status = align16(weights_len);
            let timestamps = status + STATUS_BYTES;
            let loss = timestamps + 16;
            let loss_len = if cfg.record_loss {
                chunk_epochs * size
            } else {
                0
            };
            StagingLayout {
                weights: 0,
                weights_len,
                status,
                timestamps,
                loss,
                total: loss + align16(loss_len),
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
            let values = |count: usize| count as u64 * size;
            let (x, _) = upload(
                &ctx,
                "x",
                values(n * p),
                feature_blocks(&data.features, precision),
                storage,
                UPLOAD_FLUSH_BYTES,
            )?;
            let (d, _) = upload(
                &ctx,
                "d",
                values(n),
                target_blocks(&data.targets, precision),
                storage,
                UPLOAD_FLUSH_BYTES,
            )?;
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
            let weights = buffer("weights", layout.weights_len, storage | copy);
            let partials = buffer(
                "partials",
                groups as u64 * (p as u64 + 2) * size,
                storage | copy,
            );
            let loss = buffer("loss ring", loss_ring * size, storage | copy);
            let status = buffer("status", STATUS_BYTES, storage | copy);
            let staging = (0..IN_FLIGHT)
                .map(|_| {
                    buffer(
                        "chunk staging",
                        layout.total,
                        wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                    )
                })
                .collect::<Vec<_>>();
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
            // Each buffer by its slot (binding number) in BINDINGS, so order cannot drift.
            let buffer_for = |slot: Slot| match slot {
                Slot::X => &x,
                Slot::D => &d,
                Slot::Coef => &coef,
                Slot::Weights => &weights,
                Slot::Partials => &partials,
                Slot::Loss => &loss,
                Slot::Status => &status,
                Slot::Params => &params,
            };
            let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("descent"),
                layout: &kernels.layout,
                entries: &BINDINGS.map(|b| wgpu::BindGroupEntry {
                    binding: b.slot.index(),
                    resource: buffer_for(b.slot).as_entire_binding(),
                }),
            });
            Ok((
                bind_group, weights, partials, loss, status, staging, timestamps,
            ))
        })??;
        let (bind_group, weights, partials, loss, status, staging, timestamps) = built;
        Ok(GpuProblem {
            ctx: ctx.clone(),
            kernels,
            plan,
            reduction,
            precision,
            n,
            p,
            epochs: cfg.epochs as u64,
            chunk_epochs,
            record_loss: cfg.record_loss,
            interrupt: cfg.interrupt.clone(),
            bind_group,
            weights,
            partials,
            loss,
            status,
            staging,
            timestamps,
            layout,
            initial_weights,
            report_from,
            setup: t0.elapsed(),
        })
    }

    /// Rows and features of the uploaded problem.
    pub fn shape(&self) -> (usize, usize) {
        (self.n, self.p)
    }

    /// Chunks a run of every epoch would take.
    pub fn chunks_planned(&self) -> u64 {
        self.epochs.div_ceil(self.chunk_epochs)
    }

    /// Encode and submit chunk `c` into staging slot `slot`.
    fn submit_chunk(&self, c: u64, slot: usize) -> Result<InFlight> {
        let ctx = &self.ctx;
        let (device, queue) = (&ctx.device, &ctx.queue);
        let first_epoch = c * self.chunk_epochs;
        let epochs = self.chunk_epochs.min(self.epochs - first_epoch);
        let size = scalar_size(self.precision);
        let l = self.layout;
        let staging = &self.staging[slot];
        let cmd = scoped(device, || {
            let mut enc = device.create_command_encoder(&Default::default());
            {
                // Every chunk writes the end stamp: the last one that runs wins.
                let timestamp_writes =
                    self.timestamps
                        .as_ref()
                        .map(|(set, _)| wgpu::ComputePassTimestampWrites {
                            query_set: set,
                            beginning_of_pass_write_index: (c == 0).then_some(0),
                            end_of_pass_write_index: Some(1),
                        });
                let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                    label: Some("epochs"),
                    timestamp_writes,
                });
                pass.set_bind_group(0, &self.bind_group, &[]);
                let rounds = self.plan.rounds(first_epoch, epochs);
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
                    // Refused in `GpuProblem::new`.
                    _ => {}
                }
            }
            enc.copy_buffer_to_buffer(&self.weights, 0, staging, l.weights, l.weights_len);
            enc.copy_buffer_to_buffer(&self.status, 0, staging, l.status, STATUS_BYTES);
            if let Some((set, resolve)) = &self.timestamps {
                enc.resolve_query_set(set, 0..2, resolve, 0);
                enc.copy_buffer_to_buffer(resolve, 0, staging, l.timestamps, 16);
            }
            if self.record_loss {
                let ring = self.loss.size() / size;
                let start = first_epoch % ring;
                enc.copy_buffer_to_buffer(&self.loss, start * size, staging, l.loss, epochs * size);
            }
            enc.finish()
        })?;
        let index = queue.submit([cmd]);
        let (tx, rx) = std::sync::mpsc::channel();
        staging.slice(..).map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        Ok(InFlight {
            slot,
            first_epoch,
            epochs,
            index,
            mapped: rx,
        })
    }

    /// Wait for a chunk and read its staging slot.
    fn finish_chunk(&self, chunk: InFlight) -> Result<ChunkResult> {
        let device = &self.ctx.device;
        device
            .poll(wgpu::PollType::Wait {
                submission_index: Some(chunk.index),
                timeout: None,
            })
            .map_err(|e| Error::Gpu(format!("waiting for the epochs failed: {e}")))?;
        let t0 = Instant::now();
        chunk
            .mapped
            .recv()
            .map_err(|_| Error::Gpu("read-back callback never ran".into()))?
            .map_err(|e| Error::Gpu(format!("mapping the read-back buffer failed: {e}")))?;
        let staging = &self.staging[chunk.slot];
        let l = self.layout;
        let size = scalar_size(self.precision);
        let result = {
            let slice = staging.slice(..);
            let bytes = slice
                .get_mapped_range()
                .map_err(|e| Error::Gpu(format!("reading the mapped buffer failed: {e}")))?;
            let at = |o: u64, len: u64| &bytes[o as usize..(o + len) as usize];
            let status: Status = bytemuck::pod_read_unaligned(at(l.status, STATUS_BYTES));
            let weights = from_bytes(at(l.weights, l.weights_len), self.precision);
            let stamps: [u64; 2] = bytemuck::pod_read_unaligned(at(l.timestamps, 16));
            // Epochs of this chunk that actually ran (none after a stop).
            let ran = (status.epoch as u64)
                .saturating_sub(chunk.first_epoch)
                .min(chunk.epochs);
            let loss = if self.record_loss {
                from_bytes(at(l.loss, ran * size), self.precision)
            } else {
                Vec::new()
            };
            ChunkResult {
                status,
                weights,
                loss,
                stamps,
                read: Duration::ZERO,
            }
        };
        staging.unmap();
        Ok(ChunkResult {
            read: t0.elapsed(),
            ..result
        })
    }

    /// Reset the state (weights to zero, outputs poisoned with NaN so unwritten values
    /// cannot pass for results), run the epochs on the device chunk by chunk, and stop
    /// submitting once the device reports a stop.
    pub fn solve(&self) -> Result<GpuRun> {
        let ctx = &self.ctx;
        let queue = &ctx.queue;
        let size = scalar_size(self.precision);
        let nan = |bytes: u64| {
            to_bytes(
                std::iter::repeat_n(f64::NAN, (bytes / size) as usize),
                self.precision,
            )
        };
        queue.write_buffer(&self.weights, 0, &self.initial_weights);
        queue.write_buffer(&self.status, 0, bytemuck::bytes_of(&Status::default()));
        queue.write_buffer(&self.partials, 0, &nan(self.partials.size()));
        queue.write_buffer(&self.loss, 0, &nan(self.loss.size()));

        let start = Instant::now();
        let total = self.chunks_planned();
        let mut next = 0u64;
        let mut queued: VecDeque<InFlight> = VecDeque::new();
        let mut free: Vec<usize> = (0..IN_FLIGHT).rev().collect();
        let mut loss = self.record_loss.then(Vec::new);
        let mut last: Option<ChunkResult> = None;
        let mut stopped = false;
        let mut first_error = None;
        loop {
            if !stopped && self.interrupt.is_set() {
                stopped = true;
                first_error = Some(Error::Interrupted);
            }
            while !stopped && next < total {
                let Some(slot) = free.pop() else { break };
                match self.submit_chunk(next, slot) {
                    Ok(c) => queued.push_back(c),
                    Err(e) => {
                        // Drain what is queued before reporting, so no mapping is left live.
                        first_error = Some(e);
                        stopped = true;
                        break;
                    }
                }
                next += 1;
            }
            let Some(chunk) = queued.pop_front() else {
                break;
            };
            let slot = chunk.slot;
            match self.finish_chunk(chunk) {
                Ok(r) => {
                    if !stopped {
                        if let Some(l) = loss.as_mut() {
                            l.extend_from_slice(&r.loss);
                        }
                        stopped = r.status.stopped != 0;
                        last = Some(r);
                    }
                }
                Err(e) => {
                    first_error.get_or_insert(e);
                    stopped = true;
                }
            }
            free.push(slot);
        }
        if let Some(e) = first_error {
            return Err(e);
        }
        let last = last.ok_or_else(|| Error::Gpu("no chunk was run".into()))?;
        // Earlier chunks' reads overlap the device's work; the final one is the read-back.
        let readback = last.read;
        let solve = start.elapsed().saturating_sub(readback);
        // The iterate: the weights, or nesterov's x (the state after the extrapolated point).
        let first = self.report_from;
        let weights = last.weights[first..first + self.p + 1].to_vec();
        let device_solve = self.timestamps.as_ref().and_then(|_| {
            let ticks = last.stamps[1].checked_sub(last.stamps[0])?;
            let ns = ticks as f64 * queue.get_timestamp_period() as f64;
            (ns > 0.0).then(|| Duration::from_nanos(ns as u64))
        });
        Ok(GpuRun {
            weights,
            loss,
            status: last.status,
            solve,
            readback,
            device_solve,
            chunks_submitted: next as usize,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The upload reads features in the working precision where they lie, in one block,
    /// and converts the other type block by block, to the same bytes.
    #[test]
    fn features_in_the_working_precision_upload_without_a_copy() {
        // 2.5 blocks of values, so the conversion has a short last block.
        let n = UPLOAD_BLOCK * 5 / 4;
        let x32 = Features::from(ndarray::Array2::from_shape_fn((n, 2), |(i, j)| {
            (i as f32 * 0.37 - j as f32) / 3.0
        }));
        let x64 = Features::from(x32.clone().into_f64());
        fn blocks(f: &Features, p: Precision) -> Vec<Cow<'_, [u8]>> {
            feature_blocks(f, p).collect()
        }
        let borrowed = blocks(&x32, Precision::F32);
        assert!(matches!(&borrowed[..], [Cow::Borrowed(b)]
            if b.as_ptr() == x32.slice::<f32>().unwrap().as_ptr().cast()));
        assert!(matches!(
            &blocks(&x64, Precision::F64)[..],
            [Cow::Borrowed(_)]
        ));
        let size = |p| scalar_size(p) as usize;
        for (f, p, same) in [(&x32, Precision::F64, &x64), (&x64, Precision::F32, &x32)] {
            let converted = blocks(f, p);
            assert_eq!(converted.len(), 3);
            assert!(converted
                .iter()
                .all(|b| matches!(b, Cow::Owned(_)) && b.len() <= UPLOAD_BLOCK * size(p)));
            assert_eq!(converted.concat(), *blocks(same, p)[0]);
        }
        assert_eq!(
            from_bytes(&borrowed[0], Precision::F32),
            x64.iter().collect::<Vec<_>>()
        );
        // Targets: read in place in f64, converted block by block in f32.
        let d = ndarray::Array1::from_shape_fn(n, |i| i as f64 / 7.0);
        let d_blocks = target_blocks(&d, Precision::F64).collect::<Vec<_>>();
        assert!(matches!(&d_blocks[..], [Cow::Borrowed(b)] if b.as_ptr() == d.as_ptr().cast()));
        let d32 = target_blocks(&d, Precision::F32).collect::<Vec<_>>();
        assert_eq!(d32.len(), 2);
        assert_eq!(
            from_bytes(&d32.concat(), Precision::F32),
            d.iter().map(|&v| f64::from(v as f32)).collect::<Vec<_>>()
        );
    }

    /// An upload writes every byte where it belongs, and never has more than its flush
    /// size waiting for the device (on lavapipe in CI: the GPU tests' adapter).
    #[test]
    fn uploads_stage_at_most_their_flush_size_and_arrive_whole() {
        let ctx = GpuContext::shared(&crate::gpu::AdapterChoice::Auto)
            .expect("a GPU adapter (scripts/test installs lavapipe)");
        let n = UPLOAD_BLOCK * 5 / 4;
        let x = Features::from(ndarray::Array2::from_shape_fn((n, 2), |(i, j)| {
            i as f32 * 0.5 - j as f32
        }));
        for (precision, flush) in [(Precision::F32, 40_000), (Precision::F64, 1 << 20)] {
            let want = feature_blocks(&x, precision)
                .map(|b| b.into_owned())
                .collect::<Vec<_>>()
                .concat();
            let usage = wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC;
            let bytes = want.len() as u64;
            let (buffer, stats) = upload(
                &ctx,
                "x",
                bytes,
                feature_blocks(&x, precision),
                usage,
                flush,
            )
            .unwrap();
            assert!(stats.max_staged <= flush, "{precision}: {stats:?}");
            assert_eq!(stats.flushes, want.len() / flush, "{precision}");
            let read = ctx.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("read"),
                size: bytes,
                usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            });
            let mut enc = ctx.device.create_command_encoder(&Default::default());
            enc.copy_buffer_to_buffer(&buffer, 0, &read, 0, bytes);
            ctx.queue.submit([enc.finish()]);
            read.slice(..)
                .map_async(wgpu::MapMode::Read, |r| r.unwrap());
            ctx.device
                .poll(wgpu::PollType::Wait {
                    submission_index: None,
                    timeout: None,
                })
                .unwrap();
            assert!(
                *read.slice(..).get_mapped_range().unwrap() == want[..],
                "{precision}"
            );
        }
    }
}
