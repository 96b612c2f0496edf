//! Uploading a table: X and d go to the device once, converted to the working precision a
//! block at a time (or read in place when they are already in it), and staged in bounded
//! pieces, so the host never holds a converted copy of the matrix nor an image of it for
//! the device.

use super::context::GpuContext;
use super::plan::scalar_size;
use crate::config::Precision;
use crate::data::{Dataset, Features};
use crate::error::{Error, Result};
use either::Either;
use ndarray::Array1;
use std::borrow::Cow;

/// `values` in `precision`, as the device's bytes (native order, as bytemuck's casts).
pub(crate) fn to_bytes(
    values: impl ExactSizeIterator<Item = f64>,
    precision: Precision,
) -> Vec<u8> {
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

pub(crate) fn from_bytes(bytes: &[u8], precision: Precision) -> Vec<f64> {
    match precision {
        Precision::F32 => bytemuck::pod_collect_to_vec::<u8, f32>(bytes)
            .into_iter()
            .map(f64::from)
            .collect(),
        Precision::F64 => bytemuck::pod_collect_to_vec::<u8, f64>(bytes),
    }
}

/// A table's X (n×p, row-major) and d (n) on the device, as the kernels read them.
pub(crate) struct Table {
    pub x: wgpu::Buffer,
    pub d: wgpu::Buffer,
}

impl Table {
    /// Upload `data`'s features and targets in `precision`.
    pub(crate) fn upload(ctx: &GpuContext, data: &Dataset, precision: Precision) -> Result<Table> {
        let size = scalar_size(precision);
        let usage = wgpu::BufferUsages::STORAGE;
        let (n, p) = (data.n() as u64, data.p() as u64);
        let (x, _) = upload(
            ctx,
            "x",
            n * p * size,
            feature_blocks(&data.features, precision),
            usage,
            UPLOAD_FLUSH_BYTES,
        )?;
        let (d, _) = upload(
            ctx,
            "d",
            n * size,
            target_blocks(&data.targets, precision),
            usage,
            UPLOAD_FLUSH_BYTES,
        )?;
        Ok(Table { x, d })
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
