//! Plain loops over `Vec`s: the analogue of the article's pure-Python `py_descent`.
//! It keeps the article's shape (a stored `err` vector, one loop per quantity) on purpose.

use super::{CpuBackend, EpochSums, Real};
use crate::data::Dataset;
use crate::model::LossFn;

/// The plain-loop backend.
#[derive(Debug, Default, Clone, Copy)]
pub struct Naive;

pub(crate) struct Kernel<T> {
    x: Vec<Vec<T>>,
    d: Vec<T>,
    err: Vec<T>,
}

impl<T: Real> EpochSums<T> for Kernel<T> {
    fn batch_sums<L: LossFn>(
        &mut self,
        w: &[T],
        rows: &[u32],
        sums: &mut [T],
        want_loss: bool,
    ) -> T {
        super::batch_sums_by::<T, L>(rows, w, sums, want_loss, |i, j| self.x[i][j], |i| self.d[i])
    }
    fn sums<L: LossFn>(&mut self, w: &[T], sums: &mut [T], want_loss: bool) -> T {
        let mut total = T::zero();
        for i in 0..self.d.len() {
            let mut y = w[0];
            for j in 0..self.x[i].len() {
                y += w[j + 1] * self.x[i][j];
            }
            self.err[i] = L::err(self.d[i], y);
            if want_loss {
                total += L::value(self.d[i], y, self.err[i]);
            }
        }
        for s in sums.iter_mut() {
            *s = T::zero();
        }
        for i in 0..self.d.len() {
            sums[0] += self.err[i];
            for j in 0..self.x[i].len() {
                sums[j + 1] += self.err[i] * self.x[i][j];
            }
        }
        total
    }
}

fn prepare<T: Real>(data: &Dataset) -> Kernel<T> {
    Kernel {
        x: {
            let mut x = Vec::with_capacity(data.n());
            data.features
                .for_each_row(|_, r| x.push(r.iter().map(|&v| T::from_f64(v)).collect()));
            x
        },
        d: data.targets.iter().map(|&v| T::from_f64(v)).collect(),
        err: vec![T::zero(); data.n()],
    }
}

impl CpuBackend for Naive {
    const NAME: &'static str = "naive";
    type Kernel<'a, T: Real> = Kernel<T>;
    fn prepare<T: Real>(data: &Dataset) -> Kernel<T> {
        prepare(data)
    }
}
