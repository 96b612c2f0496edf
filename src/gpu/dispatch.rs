//! The dispatcher: a problem is set up in parts — its plan and pipelines
//! ([`PlannedKernels`]), the table uploaded once ([`Table`]), the buffers and bind group
//! ([`Resources`]) and the staging slots it is read back through ([`ReadBack`]) — then its
//! epochs run as a stream of bounded command-buffer chunks. Each chunk ends by copying the
//! device's status, weights and its slice of the loss ring into a staging slot; the host
//! reads that while the next chunk runs, and stops submitting as soon as the device says it
//! has stopped (converged or diverged). Memory and encoding time follow the epochs actually
//! run, never `--epochs`.

use super::context::{scoped, GpuContext};
use super::kernels::{Coef, Params, Reduction, Status, WeightsLayout};
use super::plan::{check_limits, scalar_size, KernelChoice, Plan};
use super::planned::PlannedKernels;
use super::readback::{ChunkResult, InFlight, ReadBack, StagingLayout};
use super::resources::{params, Resources, Sizes};
use super::upload::{to_bytes, Table};
use crate::coefficients::Coefficients;
use crate::config::{GdConfig, Interrupt, Precision};
use crate::data::Dataset;
use crate::error::{Error, Result};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Tuning knobs of the GPU backend; the defaults choose from the problem and adapter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GpuOptions {
    pub kernel: KernelChoice,
    /// Force a reduction flavour (None: subgroups where available).
    pub reduction: Option<Reduction>,
}

/// A fault a test injects into a [`GpuProblem`] ([`GpuProblem::inject_fault`]), to see that
/// a kernel's missing write is refused rather than read as a result.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fault {
    #[default]
    None,
    /// Chunks are submitted without their dispatches: no kernel runs, nothing is written.
    NoDispatch,
    /// The kernels run but skip their final store of the weights and optimizer state.
    SkipWeightsStore,
}

/// Chunks queued on the device at once: one running while the host reads the previous
/// one's status, so the queue never drains for a status check.
const IN_FLIGHT: usize = 2;

/// Dispatches per chunk at most when the fit can be interrupted ([`Interrupt::is_armed`]):
/// the host looks at the flag between chunks, so it stops within about two such chunks
/// (well under a second on lavapipe) instead of two full ones.
const INTERRUPTIBLE_DISPATCHES: u64 = 4;

/// How a run's epochs are cut into chunks, and the loss ring that carries their losses.
#[derive(Debug, Clone, Copy)]
struct Chunks {
    epochs: u64,
    chunk_epochs: u64,
    /// Entries of the loss ring: two chunks' worth when the loss is recorded (the chunk
    /// running and the one whose slice is being copied out), else one.
    loss_ring: u64,
    record_loss: bool,
}

impl Chunks {
    fn new(plan: Plan, cfg: &GdConfig) -> Self {
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
        let loss_ring = match cfg.record_loss {
            true => (IN_FLIGHT as u64 * chunk_epochs).min(cfg.epochs as u64),
            false => 1,
        };
        Chunks {
            epochs: cfg.epochs as u64,
            chunk_epochs,
            loss_ring,
            record_loss: cfg.record_loss,
        }
    }

    fn planned(&self) -> u64 {
        self.epochs.div_ceil(self.chunk_epochs)
    }

    /// The first epoch of chunk `c` and its number of epochs.
    fn range(&self, c: u64) -> (u64, u64) {
        let first = c * self.chunk_epochs;
        (first, self.chunk_epochs.min(self.epochs - first))
    }
}

/// What one solve produced.
#[derive(Debug, Clone)]
pub struct GpuRun {
    pub weights: Coefficients,
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
    planned: PlannedKernels,
    resources: Resources,
    readback: ReadBack,
    pub precision: Precision,
    n: usize,
    p: usize,
    chunks: Chunks,
    params: Params,
    /// Looked at between chunks: once set, nothing more is submitted.
    interrupt: Interrupt,
    /// Where the reported weights start in the `weights` binding: w, or nesterov's
    /// iterate x (the state's `a`).
    report_from: usize,
    fault: Fault,
    /// Time spent converting and uploading (and compiling, on first use).
    pub setup: Duration,
}

impl GpuProblem {
    /// Check limits, plan and compile (cached), and upload. Nothing is allocated if a check
    /// fails.
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
        let (precision, size) = (cfg.precision, scalar_size(cfg.precision));
        let planned =
            PlannedKernels::new(&ctx, n as u64, p as u64, cfg, opts.kernel, opts.reduction)?;
        let chunks = Chunks::new(planned.plan(), cfg);
        let params = params(planned.plan(), cfg, n, chunks.loss_ring);
        let layout = WeightsLayout::new(p);
        let sizes = Sizes {
            weights: layout.len as u64 * size,
            partials: planned.groups() as u64 * (p as u64 + 2) * size,
            loss: chunks.loss_ring * size,
        };
        let table = scoped(&ctx.device, || Table::upload(&ctx, data, precision))??;
        let coef = Coef::new(cfg, n).bytes(precision);
        let resources = Resources::new(&ctx, &planned, &table, &coef, &params, sizes)?;
        let loss_len = if cfg.record_loss {
            chunks.chunk_epochs * size
        } else {
            0
        };
        let staging = StagingLayout::new(sizes.weights, loss_len);
        let readback = scoped(&ctx.device, || {
            ReadBack::new(&ctx, staging, IN_FLIGHT, precision)
        })?;
        let report_from = match cfg.optimizer.kind {
            crate::model::OptimizerKind::Nesterov => layout.a,
            _ => layout.w,
        };
        Ok(GpuProblem {
            ctx,
            planned,
            resources,
            readback,
            precision,
            n,
            p,
            chunks,
            params,
            interrupt: cfg.interrupt.clone(),
            report_from,
            fault: Fault::None,
            setup: t0.elapsed(),
        })
    }

    /// How the epochs run.
    pub fn plan(&self) -> Plan {
        self.planned.plan()
    }

    /// The reduction the kernels use.
    pub fn reduction(&self) -> Reduction {
        self.planned.reduction()
    }

    /// Rows and features of the uploaded problem.
    pub fn shape(&self) -> (usize, usize) {
        (self.n, self.p)
    }

    /// Chunks a run of every epoch would take.
    pub fn chunks_planned(&self) -> u64 {
        self.chunks.planned()
    }

    /// Tests only: make every later solve suffer `fault`.
    #[doc(hidden)]
    pub fn inject_fault(&mut self, fault: Fault) {
        self.fault = fault;
        let params = Params {
            fault: (fault == Fault::SkipWeightsStore) as u32,
            ..self.params
        };
        let queue = &self.ctx.queue;
        queue.write_buffer(&self.resources.params, 0, bytemuck::bytes_of(&params));
    }

    /// The state every solve starts from: the status's epoch at its sentinel (the kernels
    /// then start from w = 0 and `coef`'s initial optimizer state), everything else the host
    /// reads back — weights and the loss ring — and the partial sums NaN, so a value no
    /// kernel wrote cannot pass for a result.
    fn reset(&self) {
        let res = &self.resources;
        let nan = |buffer: &wgpu::Buffer| {
            let count = buffer.size() / scalar_size(self.precision);
            to_bytes(
                std::iter::repeat_n(f64::NAN, count as usize),
                self.precision,
            )
        };
        let queue = &self.ctx.queue;
        queue.write_buffer(&res.weights, 0, &nan(&res.weights));
        queue.write_buffer(&res.status, 0, bytemuck::bytes_of(&Status::START));
        queue.write_buffer(&res.partials, 0, &nan(&res.partials));
        queue.write_buffer(&res.loss, 0, &nan(&res.loss));
    }

    /// Encode and submit chunk `c` into staging slot `slot`.
    fn submit_chunk(&self, c: u64, slot: usize) -> Result<InFlight> {
        let (device, queue) = (&self.ctx.device, &self.ctx.queue);
        let (first_epoch, epochs) = self.chunks.range(c);
        let cmd = scoped(device, || {
            let mut enc = device.create_command_encoder(&Default::default());
            {
                let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                    label: Some("epochs"),
                    timestamp_writes: self.readback.timestamp_writes(c == 0),
                });
                pass.set_bind_group(0, &self.resources.bind_group, &[]);
                if self.fault != Fault::NoDispatch {
                    let rounds = self.plan().rounds(first_epoch, epochs);
                    self.planned.encode_rounds(&mut pass, rounds);
                }
            }
            let loss = self.chunks.record_loss.then_some((first_epoch, epochs));
            self.readback
                .encode_copies(&mut enc, &self.resources, slot, loss);
            enc.finish()
        })?;
        let index = queue.submit([cmd]);
        Ok(self.readback.in_flight(slot, first_epoch, epochs, index))
    }

    /// Wait for `chunk` and read it back; `take`: its result will be used, so refuse what
    /// no kernel wrote.
    fn finish_chunk(&self, chunk: &InFlight, take: bool) -> Result<ChunkResult> {
        let r = self
            .readback
            .finish(&self.ctx, chunk, self.chunks.record_loss)?;
        if take {
            let report = self.report_from..self.report_from + self.p + 1;
            let what = format!("chunk {}", chunk.first_epoch / self.chunks.chunk_epochs);
            r.check(chunk, report, &what)?;
        }
        Ok(r)
    }

    /// Reset the state (see [`GpuProblem::reset`]), run the epochs on the device chunk by
    /// chunk, and stop submitting once the device reports a stop.
    pub fn solve(&self) -> Result<GpuRun> {
        self.reset();
        let start = Instant::now();
        let total = self.chunks_planned();
        let mut next = 0u64;
        let mut queued: VecDeque<InFlight> = VecDeque::new();
        let mut free: Vec<usize> = (0..IN_FLIGHT).rev().collect();
        let mut loss = self.chunks.record_loss.then(Vec::new);
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
            // Chunks after a stop only drain: their results are not used.
            match self.finish_chunk(&chunk, !stopped) {
                Ok(r) if !stopped => {
                    if let Some(l) = loss.as_mut() {
                        l.extend_from_slice(&r.loss);
                    }
                    stopped = r.status.stopped != 0;
                    last = Some(r);
                }
                Ok(_) => {}
                Err(e) => {
                    first_error.get_or_insert(e);
                    stopped = true;
                }
            }
            free.push(chunk.slot);
        }
        if let Some(e) = first_error {
            return Err(e);
        }
        let last = last.ok_or_else(|| Error::Gpu("no chunk was run".into()))?;
        Ok(self.run_of(last, loss, start, next as usize))
    }

    /// The run's result from its last chunk.
    fn run_of(
        &self,
        last: ChunkResult,
        loss: Option<Vec<f64>>,
        start: Instant,
        chunks_submitted: usize,
    ) -> GpuRun {
        // Earlier chunks' reads overlap the device's work; the final one is the read-back.
        let readback = last.read;
        let solve = start.elapsed().saturating_sub(readback);
        let first = self.report_from;
        GpuRun {
            weights: Coefficients::from_flat(
                1,
                self.p,
                last.weights[first..][..self.p + 1].to_vec(),
            )
            .expect("one output's p + 1 values"),
            loss,
            status: last.status,
            solve,
            readback,
            device_solve: self.readback.device_time(&self.ctx, last.stamps),
            chunks_submitted,
        }
    }
}
