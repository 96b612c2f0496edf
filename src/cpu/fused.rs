//! One pass over the data per epoch: err_i is formed and consumed in registers, never
//! stored. Multi-lane accumulators let LLVM vectorize; AVX2+FMA is used when the CPU has
//! it; rows are split over threads only when an epoch is large enough to pay for it.

use super::{CpuBackend, EpochSums, Real, SUM_BLOCK_ROWS as BLOCK_ROWS};
use crate::data::{Dataset, Features, Scaling};
use crate::model::LossFn;
use std::borrow::Cow;
use std::ops::Range;

/// The fused single-pass backend.
#[derive(Debug, Default, Clone, Copy)]
pub struct Fused;

/// Below this many multiply-adds per epoch, thread start-up costs more than it saves.
const PARALLEL_MIN_WORK: usize = 1 << 19;
/// Independent accumulator lanes per sum: several SIMD registers each, so the adds'
/// latency chain never binds (4 cycles per add, 2 adds per cycle on current x86).
const LANES: usize = 32;

pub(crate) struct Kernel<'a, T: Clone> {
    x: Rows<'a, T>,
    d: Cow<'a, [T]>,
    p: usize,
    threads: usize,
}

/// The row-major features as the kernel reads them.
enum Rows<'a, T: Clone> {
    /// In the working type: the dataset's own (a NumPy buffer is read where it lies), or
    /// f64 features narrowed once for an f32 fit (half their size, and half the bytes to
    /// read every epoch).
    Same(Cow<'a, [T]>),
    /// f32 features in an f64 fit, read where they lie and widened in registers: exact, so
    /// the fit is bit for bit that on a widened copy, without the copy (twice the f32
    /// matrix) and reading half its bytes per epoch.
    Wide(&'a [f32]),
    /// Standardized features, read where they lie and standardized a block of rows at a
    /// time into a scratch buffer (formed in f64 as every reader of a standardized matrix
    /// forms them, so the fit is bit for bit that on a z-scored copy, without the copy).
    Scaled(Stored<'a>, &'a Scaling),
}

/// Stored feature values of either element type.
#[derive(Clone, Copy)]
enum Stored<'a> {
    F64(&'a [f64]),
    F32(&'a [f32]),
}

/// A stored feature value in the working type `T`: exact, since f64 is only stored for f64
/// fits and f32 widens exactly (LLVM folds the f32 → f64 → f32 round trip of an f32 fit away).
#[inline(always)]
fn load<S: Real, T: Real>(v: S) -> T {
    T::from_f64(v.as_f64())
}

/// a·b + c, fused where the instruction set has FMA (Rust never contracts on its own;
/// without hardware FMA `mul_add` would be a slow library call).
#[inline(always)]
fn madd<T: Real, const FMA: bool>(a: T, b: T, c: T) -> T {
    if FMA {
        a.mul_add(b, c)
    } else {
        a * b + c
    }
}

/// Sums of one row block for p = 1: [Σe, Σe·x, Σℓ].
#[inline(always)]
fn block_p1<S: Real, T: Real, L: LossFn, const SSE: bool, const FMA: bool>(
    x: &[S],
    d: &[T],
    w0: T,
    w1: T,
) -> [T; 3] {
    let mut a = [[T::zero(); LANES]; 3];
    let xs = x.chunks_exact(LANES);
    let ds = d.chunks_exact(LANES);
    let (xr, dr) = (xs.remainder(), ds.remainder());
    for (xc, dc) in xs.zip(ds) {
        for k in 0..LANES {
            let xv = load::<S, T>(xc[k]);
            let y = madd::<T, FMA>(w1, xv, w0);
            let e = L::err(dc[k], y);
            a[0][k] += e;
            a[1][k] = madd::<T, FMA>(e, xv, a[1][k]);
            if SSE {
                a[2][k] = L::accumulate::<T, FMA>(a[2][k], dc[k], y, e);
            }
        }
    }
    for (k, (&xv, &dv)) in xr.iter().zip(dr).enumerate() {
        let xv = load::<S, T>(xv);
        let y = madd::<T, FMA>(w1, xv, w0);
        let e = L::err(dv, y);
        a[0][k] += e;
        a[1][k] = madd::<T, FMA>(e, xv, a[1][k]);
        if SSE {
            a[2][k] = L::accumulate::<T, FMA>(a[2][k], dv, y, e);
        }
    }
    a.map(|lanes| lanes.iter().fold(T::zero(), |s, &v| s + v))
}

/// Lanes of the per-row dot product x_i·w (one SIMD register of f32 or two of f64).
const DOT_LANES: usize = 16;

/// x·w with independent partial sums, so the multiply-adds vectorize (a single running
/// sum is one serial chain: floats are not reassociated by the compiler).
#[inline(always)]
fn dot<S: Real, T: Real, const FMA: bool>(x: &[S], w: &[T]) -> T {
    let mut lanes = [T::zero(); DOT_LANES];
    let xs = x.chunks_exact(DOT_LANES);
    let ws = w.chunks_exact(DOT_LANES);
    let tail = xs
        .remainder()
        .iter()
        .zip(ws.remainder())
        .fold(T::zero(), |s, (a, b)| madd::<T, FMA>(load(*a), *b, s));
    for (xc, wc) in xs.zip(ws) {
        for k in 0..DOT_LANES {
            lanes[k] = madd::<T, FMA>(load(xc[k]), wc[k], lanes[k]);
        }
    }
    lanes.iter().fold(tail, |s, &v| s + v)
}

/// Sums of one row block for any p: writes Σe, Σe·x_j into `acc`, returns Σℓ (zero unless
/// `SSE`: the logistic loss costs an exp and a log per row, paid only when J is wanted).
#[inline(always)]
fn block_general<S: Real, T: Real, L: LossFn, const SSE: bool, const FMA: bool>(
    x: &[S],
    d: &[T],
    p: usize,
    w: &[T],
    acc: &mut [T],
) -> T {
    acc.iter_mut().for_each(|a| *a = T::zero());
    let mut sse = T::zero();
    let (w0, wx) = (w[0], &w[1..]);
    for (row, &dv) in x.chunks_exact(p).zip(d) {
        let y = w0 + dot::<S, T, FMA>(row, wx);
        let e = L::err(dv, y);
        acc[0] += e;
        // Element-wise over the row: no dependency between j, so this vectorizes as is.
        for (a, xv) in acc[1..].iter_mut().zip(row) {
            *a = madd::<T, FMA>(e, load(*xv), *a);
        }
        if SSE {
            sse = L::accumulate::<T, FMA>(sse, dv, y, e);
        }
    }
    sse
}

#[inline(always)]
fn block<S: Real, T: Real, L: LossFn, const FMA: bool>(
    x: &[S],
    d: &[T],
    p: usize,
    w: &[T],
    acc: &mut [T],
    sse: bool,
) -> T {
    if p == 1 {
        let s = if sse {
            block_p1::<S, T, L, true, FMA>(x, d, w[0], w[1])
        } else {
            block_p1::<S, T, L, false, FMA>(x, d, w[0], w[1])
        };
        acc[0] = s[0];
        acc[1] = s[1];
        s[2]
    } else {
        // The squared loss's Σe² is one FMA a row: always formed, as before the loss seam.
        if sse || matches!(L::LOSS, crate::model::Loss::Squared) {
            block_general::<S, T, L, true, FMA>(x, d, p, w, acc)
        } else {
            block_general::<S, T, L, false, FMA>(x, d, p, w, acc)
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
fn block_avx512<S: Real, T: Real, L: LossFn>(
    x: &[S],
    d: &[T],
    p: usize,
    w: &[T],
    acc: &mut [T],
    sse: bool,
) -> T {
    block::<S, T, L, true>(x, d, p, w, acc, sse)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn block_avx2<S: Real, T: Real, L: LossFn>(
    x: &[S],
    d: &[T],
    p: usize,
    w: &[T],
    acc: &mut [T],
    sse: bool,
) -> T {
    block::<S, T, L, true>(x, d, p, w, acc, sse)
}

/// Dispatch to the widest instruction set the CPU has.
fn block_best<S: Real, T: Real, L: LossFn>(
    x: &[S],
    d: &[T],
    p: usize,
    w: &[T],
    acc: &mut [T],
    sse: bool,
) -> T {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::is_x86_feature_detected as has;
        if has!("avx512f") && has!("fma") {
            // SAFETY: the CPU supports AVX-512F and FMA, checked just above.
            return unsafe { block_avx512::<S, T, L>(x, d, p, w, acc, sse) };
        }
        if has!("avx2") && has!("fma") {
            // SAFETY: the CPU supports AVX2 and FMA, checked just above.
            return unsafe { block_avx2::<S, T, L>(x, d, p, w, acc, sse) };
        }
    }
    block::<S, T, L, false>(x, d, p, w, acc, sse)
}

/// Sums of the rows `rows` of row-major `x` (p columns) and `d`, block by block, combined in
/// f64: ([Σe, Σe·x_j], Σℓ). `sum_block(xb, db, acc)` writes one block's sums into `acc` and
/// returns its Σℓ.
fn blocked<S, T: Real>(
    x: &[S],
    d: &[T],
    p: usize,
    rows: Range<usize>,
    mut sum_block: impl FnMut(&[S], &[T], &mut [T]) -> T,
) -> (Vec<f64>, f64) {
    let (x, d) = (&x[rows.start * p..rows.end * p], &d[rows]);
    let mut total = vec![0.0; p + 1];
    let mut total_sse = 0.0;
    let mut acc = vec![T::zero(); p + 1];
    for (xb, db) in x.chunks(BLOCK_ROWS * p).zip(d.chunks(BLOCK_ROWS)) {
        let e2 = sum_block(xb, db, &mut acc);
        for (t, a) in total.iter_mut().zip(&acc) {
            *t += a.as_f64();
        }
        total_sse += e2.as_f64();
    }
    (total, total_sse)
}

/// [`blocked`] over stored rows, read as they are.
fn range_sums<S: Real, T: Real, L: LossFn>(
    x: &[S],
    d: &[T],
    p: usize,
    rows: Range<usize>,
    w: &[T],
    sse: bool,
) -> (Vec<f64>, f64) {
    blocked(x, d, p, rows, |xb, db, acc| {
        block_best::<S, T, L>(xb, db, p, w, acc, sse)
    })
}

/// [`blocked`] over standardized rows: each block of rows is standardized into one reused
/// buffer (BLOCK_ROWS·p values, whatever n is), then summed as a block of the working type.
fn range_sums_scaled<S: Real, T: Real, L: LossFn>(
    x: &[S],
    scaling: &Scaling,
    d: &[T],
    p: usize,
    rows: Range<usize>,
    w: &[T],
    sse: bool,
) -> (Vec<f64>, f64) {
    let mut z = Vec::with_capacity(BLOCK_ROWS.min(rows.len()) * p);
    blocked(x, d, p, rows, |xb, db, acc| {
        z.clear();
        z.extend(
            xb.iter()
                .enumerate()
                .map(|(k, v)| T::from_f64(scaling.apply(k % p, v.as_f64()))),
        );
        block_best::<T, T, L>(&z, db, p, w, acc, sse)
    })
}

/// The epoch's sums over `n` rows, `part(rows)` summing a range of them: on this thread,
/// or split in row ranges over `threads` when the epoch is large.
fn epoch_sums(
    n: usize,
    width: usize,
    threads: usize,
    part: impl Fn(Range<usize>) -> (Vec<f64>, f64) + Sync,
) -> (Vec<f64>, f64) {
    if threads <= 1 {
        return part(0..n);
    }
    let rows = n.div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let part = &part;
        let handles: Vec<_> = (0..n)
            .step_by(rows)
            .map(|start| s.spawn(move || part(start..(start + rows).min(n))))
            .collect();
        let mut total = vec![0.0; width];
        let mut sse = 0.0;
        for h in handles {
            let (t, e2) = h.join().expect("fused worker thread panicked");
            total.iter_mut().zip(t).for_each(|(a, b)| *a += b);
            sse += e2;
        }
        (total, sse)
    })
}

impl<T: Real> EpochSums<T> for Kernel<'_, T> {
    fn batch_sums<L: LossFn>(
        &mut self,
        w: &[T],
        rows: &[u32],
        sums: &mut [T],
        want_loss: bool,
    ) -> T {
        let (p, d) = (self.p, &self.d);
        let d = |i: usize| d[i];
        match &self.x {
            Rows::Same(x) => {
                super::batch_sums_by::<T, L>(rows, w, sums, want_loss, |i, j| x[i * p + j], d)
            }
            Rows::Wide(x) => {
                super::batch_sums_by::<T, L>(rows, w, sums, want_loss, |i, j| load(x[i * p + j]), d)
            }
            Rows::Scaled(x, s) => {
                let z = |i: usize, j: usize| {
                    let v = match x {
                        Stored::F64(x) => x[i * p + j],
                        Stored::F32(x) => f64::from(x[i * p + j]),
                    };
                    T::from_f64(s.apply(j, v))
                };
                super::batch_sums_by::<T, L>(rows, w, sums, want_loss, z, d)
            }
        }
    }
    fn sums<L: LossFn>(&mut self, w: &[T], sums: &mut [T], want_sse: bool) -> T {
        let (p, threads) = (self.p, self.threads);
        let (d, n) = (&self.d[..], self.d.len());
        let (total, sse) = match &self.x {
            Rows::Same(x) => epoch_sums(n, p + 1, threads, |r| {
                range_sums::<T, T, L>(x, d, p, r, w, want_sse)
            }),
            Rows::Wide(x) => epoch_sums(n, p + 1, threads, |r| {
                range_sums::<f32, T, L>(x, d, p, r, w, want_sse)
            }),
            Rows::Scaled(Stored::F64(x), s) => epoch_sums(n, p + 1, threads, |r| {
                range_sums_scaled::<f64, T, L>(x, s, d, p, r, w, want_sse)
            }),
            Rows::Scaled(Stored::F32(x), s) => epoch_sums(n, p + 1, threads, |r| {
                range_sums_scaled::<f32, T, L>(x, s, d, p, r, w, want_sse)
            }),
        };
        for (s, t) in sums.iter_mut().zip(total) {
            *s = T::from_f64(t);
        }
        T::from_f64(sse)
    }
}

/// How the kernel reads `features` in the working type `T`.
fn rows<T: Real>(features: &Features) -> Rows<'_, T> {
    if let Some(s) = features.scaling() {
        return match (features.stored::<f64>(), features.stored::<f32>()) {
            (Some(x), _) => Rows::Scaled(Stored::F64(x), s),
            (None, Some(x)) => Rows::Scaled(Stored::F32(x), s),
            (None, None) => unreachable!("features are stored as f64 or f32"),
        };
    }
    match (features.slice::<T>(), features.slice::<f32>()) {
        (Some(x), _) => Rows::Same(Cow::Borrowed(x)),
        (None, Some(x)) => Rows::Wide(x),
        (None, None) => Rows::Same(Cow::Owned(features.iter().map(T::from_f64).collect())),
    }
}

fn prepare<T: Real>(data: &Dataset) -> Kernel<'_, T> {
    let work = data.n() * (data.p() + 1);
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    let d = data.targets.as_slice().and_then(T::f64_slice);
    Kernel {
        x: rows::<T>(&data.features),
        d: match d {
            Some(d) => Cow::Borrowed(d),
            None => Cow::Owned(data.targets.iter().map(|&v| T::from_f64(v)).collect()),
        },
        p: data.p(),
        threads: if work >= PARALLEL_MIN_WORK { cores } else { 1 },
    }
}

impl CpuBackend for Fused {
    const NAME: &'static str = "fused";
    type Kernel<'a, T: Real> = Kernel<'a, T>;
    fn prepare<T: Real>(data: &Dataset) -> Kernel<'_, T> {
        prepare(data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{array, Array1};

    /// Features already in the working type, and f32 features in an f64 fit, are read where
    /// they lie (from Python: NumPy's buffer); f64 features in an f32 fit are narrowed once.
    #[test]
    fn features_in_the_working_type_are_borrowed_not_copied() {
        let x32 = array![[1.5f32, -2.0], [0.25, 3.0], [4.0, 5.5]];
        // SAFETY: `x32` outlives `ds` and is not written while it lives.
        let ds = unsafe {
            Dataset::borrowing(x32.view(), Array1::zeros(3), vec!["a".into(), "b".into()])
        }
        .unwrap();
        let k = prepare::<f32>(&ds);
        assert!(matches!(k.x, Rows::Same(Cow::Borrowed(x)) if x.as_ptr() == x32.as_ptr()));
        assert!(matches!(k.d, Cow::Owned(_)));
        // An f64 fit reads the f32 matrix itself, widening in registers.
        let k = prepare::<f64>(&ds);
        assert!(matches!(k.x, Rows::Wide(x) if x.as_ptr() == x32.as_ptr()));
        assert!(matches!(k.d, Cow::Borrowed(d) if d.as_ptr() == ds.targets.as_ptr()));
        let f64_ds = Dataset::new(x32.mapv(f64::from), Array1::zeros(3)).unwrap();
        let k = prepare::<f64>(&f64_ds);
        assert!(matches!(&k.x, Rows::Same(Cow::Borrowed(x))
            if Some(*x) == f64_ds.features.slice::<f64>()));
        // An f32 fit of f64 features narrows them once (exactly: they were f32 values).
        let k = prepare::<f32>(&f64_ds);
        assert!(matches!(&k.x, Rows::Same(Cow::Owned(x)) if x[..] == *x32.as_slice().unwrap()));
    }
}
