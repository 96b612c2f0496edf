//! Vectorized ndarray code: the analogue of the article's NumPy `np_descent`
//! (`err = d - y; grad = f * [sum(err), X.T @ err]; y = w0 + X @ w`), one whole-array
//! operation per step.

use super::{CpuBackend, EpochSums, Real, SUM_BLOCK_ROWS as BLOCK_ROWS};
use crate::data::Dataset;
use crate::model::LossFn;
use ndarray::{s, Array1, Array2, ShapeBuilder, Zip};

/// The ndarray backend.
#[derive(Debug, Default, Clone, Copy)]
pub struct NdarrayGd;

pub(crate) struct Kernel<T> {
    x: Array2<T>,
    d: Array1<T>,
    err: Array1<T>,
}

impl<T: Real> EpochSums<T> for Kernel<T> {
    fn batch_sums<L: LossFn>(
        &mut self,
        w: &[T],
        rows: &[u32],
        sums: &mut [T],
        want_loss: bool,
    ) -> T {
        super::batch_sums_by::<T, L>(
            rows,
            w,
            sums,
            want_loss,
            |i, j| self.x[(i, j)],
            |i| self.d[i],
        )
    }
    fn sums<L: LossFn>(&mut self, w: &[T], sums: &mut [T], want_loss: bool) -> T {
        let w0 = w[0];
        let n = self.err.len();
        let mut total = T::zero();
        if L::ERR_IS_RESIDUAL {
            // err = (d − w0) − Σ_j w_j·x_j: whole-array operations into one buffer, as
            // NumPy's `out=` style does; columns are contiguous so each is an axpy.
            Zip::from(&mut self.err)
                .and(&self.d)
                .for_each(|e, &d| *e = d - w0);
            for (col, &wj) in self.x.columns().into_iter().zip(&w[1..]) {
                self.err.scaled_add(-wj, &col);
            }
        } else {
            // ŷ = w0 + Σ_j w_j·x_j the same way, then err = L::err(d, ŷ) in place.
            self.err.fill(w0);
            for (col, &wj) in self.x.columns().into_iter().zip(&w[1..]) {
                self.err.scaled_add(wj, &col);
            }
            if want_loss {
                let (yhat, d) = (self.err.view(), self.d.view());
                total = blocked(
                    |r| {
                        Zip::from(yhat.slice(s![r.clone()]))
                            .and(d.slice(s![r]))
                            .fold(T::zero(), |acc, &y, &d| acc + L::value(d, y, L::err(d, y)))
                    },
                    n,
                );
            }
            Zip::from(&mut self.err)
                .and(&self.d)
                .for_each(|e, &d| *e = L::err(d, *e));
        }
        let err = self.err.view();
        sums[0] = blocked(|r| err.slice(s![r]).sum(), n);
        for (s, col) in sums[1..].iter_mut().zip(self.x.columns()) {
            *s = blocked(|r| col.slice(s![r.clone()]).dot(&err.slice(s![r])), n);
        }
        if want_loss && L::ERR_IS_RESIDUAL {
            blocked(|r| err.slice(s![r.clone()]).dot(&err.slice(s![r])), n)
        } else {
            total
        }
    }
}

/// Σ over row blocks of `part(block)`, accumulated in f64.
fn blocked<T: Real>(part: impl Fn(std::ops::Range<usize>) -> T, n: usize) -> T {
    let mut total = 0.0;
    let mut start = 0;
    while start < n {
        let end = (start + BLOCK_ROWS).min(n);
        total += part(start..end).as_f64();
        start = end;
    }
    T::from_f64(total)
}

fn prepare<T: Real>(data: &Dataset) -> Kernel<T> {
    // Column-major copy: every feature column is one contiguous vector.
    let mut x = Array2::zeros(data.features.dim().f());
    data.features.for_each_row(|i, row| {
        x.row_mut(i)
            .iter_mut()
            .zip(row)
            .for_each(|(a, &b)| *a = T::from_f64(b));
    });
    Kernel {
        x,
        d: data.targets.mapv(T::from_f64),
        err: Array1::zeros(data.n()),
    }
}

impl CpuBackend for NdarrayGd {
    const NAME: &'static str = "ndarray";
    type Kernel<'a, T: Real> = Kernel<T>;
    fn prepare<T: Real>(data: &Dataset) -> Kernel<T> {
        prepare(data)
    }
}
