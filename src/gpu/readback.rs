//! Reading results back: each chunk ends by copying the device's weights, status, timestamps
//! and its slice of the loss ring into one staging slot, which the host maps while the next
//! chunk runs; and what the host refuses to take for a result (a status no kernel wrote, a
//! chunk that stopped short, NaN weights without a divergence).

use super::context::GpuContext;
use super::kernels::{Status, FRESH};
use super::plan::scalar_size;
use super::resources::Resources;
use super::upload::from_bytes;
use crate::config::Precision;
use crate::error::{Error, Result};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

/// Bytes of `Status` on the device.
pub(crate) const STATUS_BYTES: u64 = std::mem::size_of::<Status>() as u64;

type Mapped = Receiver<std::result::Result<(), wgpu::BufferAsyncError>>;

fn align16(v: u64) -> u64 {
    v.div_ceil(16) * 16
}

/// Offsets of each segment of a chunk's staging slot (16-byte aligned).
#[derive(Debug, Clone, Copy)]
pub(crate) struct StagingLayout {
    /// The whole `weights` binding: the weights, g0 and the optimizer's state (nesterov
    /// reports its iterate from the state).
    weights: u64,
    weights_len: u64,
    status: u64,
    timestamps: u64,
    loss: u64,
    total: u64,
}

impl StagingLayout {
    /// A slot for `weights_len` bytes of weights and a chunk's `loss_len` bytes of loss.
    pub(crate) fn new(weights_len: u64, loss_len: u64) -> Self {
        let status = align16(weights_len);
        let timestamps = status + STATUS_BYTES;
        let loss = timestamps + 16;
        StagingLayout {
            weights: 0,
            weights_len,
            status,
            timestamps,
            loss,
            total: loss + align16(loss_len),
        }
    }
}

/// A chunk on the device: its staging slot, epoch range and completion signal.
pub(crate) struct InFlight {
    pub slot: usize,
    pub first_epoch: u64,
    pub epochs: u64,
    pub index: wgpu::SubmissionIndex,
    mapped: Mapped,
}

/// What the host learns from one finished chunk.
pub(crate) struct ChunkResult {
    pub status: Status,
    /// The whole `weights` binding, in f64.
    pub weights: Vec<f64>,
    pub loss: Vec<f64>,
    pub stamps: [u64; 2],
    /// Time to map and copy out the staging slot once the chunk had finished.
    pub read: Duration,
}

impl ChunkResult {
    /// Refuse what no kernel can have written: the status's sentinel epoch, a chunk that
    /// ended before its last epoch without a stop, or NaN among the reported weights
    /// (`report`) without a divergence (the device flags every NaN weight it makes). The
    /// host poisons these outputs before every solve, so a missing write shows here.
    pub(crate) fn check(
        &self,
        chunk: &InFlight,
        report: std::ops::Range<usize>,
        what: &str,
    ) -> Result<()> {
        let s = &self.status;
        let end = chunk.first_epoch + chunk.epochs;
        if s.epoch == FRESH {
            return Err(Error::Gpu(format!(
                "{what}: the device wrote no status (its epoch counter still holds the \
                 sentinel {FRESH}): the kernels did not run to their end"
            )));
        }
        if s.stopped == 0 && (s.epoch as u64) < end {
            return Err(Error::Gpu(format!(
                "{what}: the device reports epoch {} of a chunk ending at epoch {end}, \
                 without a stop: the kernels did not run to their end",
                s.epoch
            )));
        }
        if s.diverged_at == 0 {
            if let Some(j) = self.weights[report].iter().position(|v| v.is_nan()) {
                return Err(Error::Gpu(format!(
                    "{what}: weight {j} read back as NaN (the poison it starts from) and no \
                     divergence was reported: a kernel did not write its results"
                )));
            }
        }
        Ok(())
    }
}

/// The staging slots chunks are copied into, and the solve's timestamp queries.
pub(crate) struct ReadBack {
    staging: Vec<wgpu::Buffer>,
    layout: StagingLayout,
    timestamps: Option<(wgpu::QuerySet, wgpu::Buffer)>,
    precision: Precision,
}

impl ReadBack {
    /// `slots` staging slots of `layout`, and timestamp queries where the adapter has them.
    /// Call inside an error scope.
    pub(crate) fn new(
        ctx: &GpuContext,
        layout: StagingLayout,
        slots: usize,
        precision: Precision,
    ) -> Self {
        let device = &ctx.device;
        let buffer = |label: &str, size: u64, usage| {
            device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size,
                usage,
                mapped_at_creation: false,
            })
        };
        let staging = (0..slots)
            .map(|_| {
                buffer(
                    "chunk staging",
                    layout.total,
                    wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                )
            })
            .collect();
        let timestamps = ctx.has(wgpu::Features::TIMESTAMP_QUERY).then(|| {
            let set = device.create_query_set(&wgpu::QuerySetDescriptor {
                label: Some("solve timestamps"),
                ty: wgpu::QueryType::Timestamp,
                count: 2,
            });
            let usage = wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC;
            (set, buffer("timestamp resolve", 16, usage))
        });
        ReadBack {
            staging,
            layout,
            timestamps,
            precision,
        }
    }

    /// The compute pass's timestamps: every chunk writes the end stamp (the last one that
    /// runs wins), the first chunk the start.
    pub(crate) fn timestamp_writes(
        &self,
        first_chunk: bool,
    ) -> Option<wgpu::ComputePassTimestampWrites<'_>> {
        self.timestamps
            .as_ref()
            .map(|(set, _)| wgpu::ComputePassTimestampWrites {
                query_set: set,
                beginning_of_pass_write_index: first_chunk.then_some(0),
                end_of_pass_write_index: Some(1),
            })
    }

    /// After a chunk's pass: copy the weights, status, stamps and loss entries `first_epoch
    /// .. first_epoch + epochs` of the ring (when recorded) into staging slot `slot`.
    pub(crate) fn encode_copies(
        &self,
        enc: &mut wgpu::CommandEncoder,
        res: &Resources,
        slot: usize,
        loss: Option<(u64, u64)>,
    ) {
        let (l, staging) = (self.layout, &self.staging[slot]);
        enc.copy_buffer_to_buffer(&res.weights, 0, staging, l.weights, l.weights_len);
        enc.copy_buffer_to_buffer(&res.status, 0, staging, l.status, STATUS_BYTES);
        if let Some((set, resolve)) = &self.timestamps {
            enc.resolve_query_set(set, 0..2, resolve, 0);
            enc.copy_buffer_to_buffer(resolve, 0, staging, l.timestamps, 16);
        }
        if let Some((first_epoch, epochs)) = loss {
            let size = scalar_size(self.precision);
            let ring = res.loss.size() / size;
            let start = first_epoch % ring;
            enc.copy_buffer_to_buffer(&res.loss, start * size, staging, l.loss, epochs * size);
        }
    }

    /// After submitting chunk `index` (epochs `first_epoch .. + epochs`) into `slot`: ask
    /// for its staging slot to be mapped once it has run.
    pub(crate) fn in_flight(
        &self,
        slot: usize,
        first_epoch: u64,
        epochs: u64,
        index: wgpu::SubmissionIndex,
    ) -> InFlight {
        let (tx, rx) = std::sync::mpsc::channel();
        self.staging[slot]
            .slice(..)
            .map_async(wgpu::MapMode::Read, move |r| {
                let _ = tx.send(r);
            });
        InFlight {
            slot,
            first_epoch,
            epochs,
            index,
            mapped: rx,
        }
    }

    /// Wait for a chunk and read its staging slot (`record_loss`: its loss entries too).
    pub(crate) fn finish(
        &self,
        ctx: &GpuContext,
        chunk: &InFlight,
        record_loss: bool,
    ) -> Result<ChunkResult> {
        wait(ctx, chunk.index.clone(), "the epochs")?;
        let t0 = Instant::now();
        received(&chunk.mapped)?;
        let staging = &self.staging[chunk.slot];
        let (l, size) = (self.layout, scalar_size(self.precision));
        let result = {
            let bytes = staging
                .slice(..)
                .get_mapped_range()
                .map_err(|e| Error::Gpu(format!("reading the mapped buffer failed: {e}")))?;
            let at = |o: u64, len: u64| &bytes[o as usize..(o + len) as usize];
            let status: Status = bytemuck::pod_read_unaligned(at(l.status, STATUS_BYTES));
            // Epochs of this chunk that actually ran (none after a stop).
            let ran = (status.epoch as u64)
                .saturating_sub(chunk.first_epoch)
                .min(chunk.epochs);
            let ran = if status.epoch == FRESH { 0 } else { ran };
            ChunkResult {
                status,
                weights: from_bytes(at(l.weights, l.weights_len), self.precision),
                loss: match record_loss {
                    true => from_bytes(at(l.loss, ran * size), self.precision),
                    false => Vec::new(),
                },
                stamps: bytemuck::pod_read_unaligned(at(l.timestamps, 16)),
                read: Duration::ZERO,
            }
        };
        staging.unmap();
        Ok(ChunkResult {
            read: t0.elapsed(),
            ..result
        })
    }

    /// The device's time between the first chunk's start and the last chunk's end.
    pub(crate) fn device_time(&self, ctx: &GpuContext, stamps: [u64; 2]) -> Option<Duration> {
        self.timestamps.as_ref()?;
        let ticks = stamps[1].checked_sub(stamps[0])?;
        let ns = ticks as f64 * ctx.queue.get_timestamp_period() as f64;
        (ns > 0.0).then(|| Duration::from_nanos(ns as u64))
    }
}

/// Wait for submission `index` to finish (`what` names it in the error).
pub(crate) fn wait(ctx: &GpuContext, index: wgpu::SubmissionIndex, what: &str) -> Result<()> {
    ctx.device
        .poll(wgpu::PollType::Wait {
            submission_index: Some(index),
            timeout: None,
        })
        .map(|_| ())
        .map_err(|e| Error::Gpu(format!("waiting for {what} failed: {e}")))
}

fn received(mapped: &Mapped) -> Result<()> {
    mapped
        .recv()
        .map_err(|_| Error::Gpu("read-back callback never ran".into()))?
        .map_err(|e| Error::Gpu(format!("mapping the read-back buffer failed: {e}")))
}

/// The first `bytes` of `buffer` (a COPY_SRC buffer), copied out through a staging buffer
/// once the work submitted before has run.
pub(crate) fn read_buffer(ctx: &GpuContext, buffer: &wgpu::Buffer, bytes: u64) -> Result<Vec<u8>> {
    let staging = super::context::scoped(&ctx.device, || {
        ctx.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("read-back"),
            size: align16(bytes.max(1)),
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        })
    })?;
    let mut enc = ctx.device.create_command_encoder(&Default::default());
    enc.copy_buffer_to_buffer(buffer, 0, &staging, 0, bytes);
    let index = ctx.queue.submit([enc.finish()]);
    let (tx, rx) = std::sync::mpsc::channel();
    staging
        .slice(..bytes)
        .map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
    wait(ctx, index, "the read-back")?;
    received(&rx)?;
    let out = staging
        .slice(..bytes)
        .get_mapped_range()
        .map_err(|e| Error::Gpu(format!("reading the mapped buffer failed: {e}")))?
        .to_vec();
    staging.unmap();
    Ok(out)
}
