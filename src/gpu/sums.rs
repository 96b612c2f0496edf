//! Partial sums on the GPU: a block of rows uploaded once, and the multi plan's error +
//! reduction pass run alone at given weights, its per-workgroup sums read back and merged on
//! the host into the engine's [`PartialSums`] — what a caller that steps elsewhere (the
//! engine's [`crate::engine::Stepper`], a Dask worker) asks of a block of rows.

use super::context::{scoped, GpuContext};
use super::kernels::{Coef, Reduction, Status, WeightsLayout, WG};
use super::plan::{check_device, scalar_size, Plan};
use super::planned::PlannedKernels;
use super::readback::read_buffer;
use super::resources::{params, Resources, Sizes};
use super::upload::{from_bytes, to_bytes, Table};
use crate::coefficients::Coefficients;
use crate::config::GdConfig;
use crate::data::Dataset;
use crate::engine::PartialSums;
use crate::error::{Error, Result};
use crate::scalar::Precision;
use std::ops::Range;
use std::sync::Arc;

/// A block of a table's rows on the device, for [`GpuRows::sums`] at any weights.
pub struct GpuRows {
    rows: usize,
    p: usize,
    /// None for an empty block (nothing to put on the device).
    device: Option<OnDevice>,
}

struct OnDevice {
    ctx: Arc<GpuContext>,
    planned: PlannedKernels,
    resources: Resources,
    precision: Precision,
}

impl GpuRows {
    /// Upload rows `rows` of `data` in `cfg`'s precision, and plan the pass for `cfg`'s
    /// loss (`reduction`: forced, or subgroups where available).
    pub(crate) fn new(
        ctx: Arc<GpuContext>,
        data: &Dataset,
        rows: Range<usize>,
        cfg: &GdConfig,
        reduction: Option<Reduction>,
    ) -> Result<Self> {
        if rows.start > rows.end || rows.end > data.n() {
            return Err(Error::Data(format!(
                "rows {}..{} are not within the table's {} rows",
                rows.start,
                rows.end,
                data.n()
            )));
        }
        cfg.validate()?;
        let (n, p) = (rows.len(), data.p());
        check_device(&ctx, n as u64, p as u64, cfg.precision)?;
        if n == 0 {
            return Ok(GpuRows {
                rows: 0,
                p,
                device: None,
            });
        }
        let precision = cfg.precision;
        let size = scalar_size(precision);
        let planned = PlannedKernels::partials(&ctx, n as u64, p as u64, cfg, reduction)?;
        let block = data.rows_view(rows);
        let table = scoped(&ctx.device, || Table::upload(&ctx, &block, precision));
        drop(block);
        let table = table??;
        let sizes = Sizes {
            weights: WeightsLayout::new(p).len as u64 * size,
            partials: planned.groups() as u64 * (p as u64 + 2) * size,
            loss: size,
        };
        let params = params(planned.plan(), cfg, n, 1);
        let coef = Coef::new(cfg, n).bytes(precision);
        let resources = Resources::new(&ctx, &planned, &table, &coef, &params, sizes)?;
        Ok(GpuRows {
            rows: n,
            p,
            device: Some(OnDevice {
                ctx,
                planned,
                resources,
                precision,
            }),
        })
    }

    /// Rows in the block.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// The pass's plan (a [`Plan::Multi`]; None for an empty block).
    pub fn plan(&self) -> Option<Plan> {
        self.device.as_ref().map(|d| d.planned.plan())
    }

    /// Σerr, Σerr·x_j and Σℓ over the block's rows at `w` (one output; K ≠ 1 is
    /// [`Error::Unsupported`]) (in the working
    /// precision, as the fit's epochs compute them): one error + reduction pass, each
    /// workgroup's sums read back and merged in f64 in workgroup order (so the same call
    /// gives the same bits). See [`PartialSums`].
    pub fn sums(&self, w: &Coefficients) -> Result<PartialSums> {
        // The WGSL kernels read the weights buffer as one output's `[w0, w1..wp]`.
        w.require_single("the GPU backend")?;
        if w.features() != self.p {
            return Err(Error::Data(format!(
                "{} weights given for {} features (an intercept and one per feature)",
                w.len(),
                self.p
            )));
        }
        let Some(d) = &self.device else {
            return Ok(PartialSums::zeros(self.p));
        };
        let (k, groups) = (self.p + 2, d.planned.groups() as usize);
        let partials = d.run(w, groups * k)?;
        let mut total = PartialSums::zeros(self.p);
        for g in 0..groups {
            let part = &partials[g * k..(g + 1) * k];
            let rows = group_rows(self.rows, groups, g);
            total.merge(&PartialSums {
                grad: part[..k - 1].to_vec(),
                loss: part[k - 1],
                rows,
                weight: rows as f64,
            })?;
        }
        debug_assert_eq!(total.rows, self.rows as u64);
        Ok(total)
    }
}

impl OnDevice {
    /// Write `w`, run the partials pass once, and read back the first `count` partial sums
    /// (every workgroup's K).
    fn run(&self, w: &[f64], count: usize) -> Result<Vec<f64>> {
        let (ctx, res, precision) = (&self.ctx, &self.resources, self.precision);
        // Epoch 0, not FRESH: the pass reads the weights written here. The partials start
        // as NaN, so a workgroup that wrote nothing shows in the sums.
        let status = Status {
            epoch: 0,
            ..Status::START
        };
        let poison = (res.partials.size() / scalar_size(precision)) as usize;
        let queue = &ctx.queue;
        queue.write_buffer(&res.weights, 0, &to_bytes(w.iter().copied(), precision));
        queue.write_buffer(&res.status, 0, bytemuck::bytes_of(&status));
        let nan = to_bytes(std::iter::repeat_n(f64::NAN, poison), precision);
        queue.write_buffer(&res.partials, 0, &nan);
        scoped(&ctx.device, || {
            let mut enc = ctx.device.create_command_encoder(&Default::default());
            {
                let mut pass = enc.begin_compute_pass(&Default::default());
                pass.set_bind_group(0, &res.bind_group, &[]);
                self.planned.encode_partials(&mut pass);
            }
            queue.submit([enc.finish()]);
        })?;
        let bytes = count as u64 * scalar_size(precision);
        Ok(from_bytes(
            &read_buffer(ctx, &res.partials, bytes)?,
            precision,
        ))
    }
}

/// Rows the partials pass gives workgroup `g` of `groups` over `n` rows: rows g·WG + lid +
/// t·groups·WG for every t.
fn group_rows(n: usize, groups: usize, g: usize) -> u64 {
    let (wg, stride) = (WG as usize, groups * WG as usize);
    (0..n.div_ceil(stride))
        .map(|t| n.saturating_sub(t * stride + g * wg).min(wg) as u64)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workgroups_cover_every_row_once() {
        for (n, groups) in [(1, 1), (255, 1), (257, 2), (10_000, 7), (600_000, 2048)] {
            let total: u64 = (0..groups).map(|g| group_rows(n, groups, g)).sum();
            assert_eq!(total, n as u64, "n={n} groups={groups}");
        }
        // 3 groups of 256 over 1 000 rows: the first stride is 768 rows, then 232 more.
        assert_eq!(
            (0..3).map(|g| group_rows(1_000, 3, g)).collect::<Vec<_>>(),
            [256 + 232, 256, 256]
        );
    }
}
