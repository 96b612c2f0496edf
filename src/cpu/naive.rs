//! Plain loops over `Vec`s: the analogue of the article's pure-Python `py_descent`.
//! It keeps the article's shape (a stored `err` vector, one loop per quantity) on purpose.

use super::{CpuBackend, EpochSums, Real};
use crate::data::Dataset;

/// The plain-loop backend.
#[derive(Debug, Default, Clone, Copy)]
pub struct Naive;

pub(crate) struct Kernel<T> {
    x: Vec<Vec<T>>,
    d: Vec<T>,
    err: Vec<T>,
}

impl<T: Real> EpochSums<T> for Kernel<T> {
    fn sums(&mut self, w: &[T], sums: &mut [T], want_sse: bool) -> T {
        for i in 0..self.d.len() {
            let mut y = w[0];
            for j in 0..self.x[i].len() {
                y += w[j + 1] * self.x[i][j];
            }
            self.err[i] = self.d[i] - y;
        }
        for s in sums.iter_mut() {
            *s = T::zero();
        }
        let mut sse = T::zero();
        for i in 0..self.d.len() {
            sums[0] += self.err[i];
            for j in 0..self.x[i].len() {
                sums[j + 1] += self.err[i] * self.x[i][j];
            }
            if want_sse {
                sse += self.err[i] * self.err[i];
            }
        }
        sse
    }
}

fn prepare<T: Real>(data: &Dataset) -> Kernel<T> {
    Kernel {
        x: data
            .features
            .rows()
            .into_iter()
            .map(|r| r.iter().map(|&v| T::from_f64(v)).collect())
            .collect(),
        d: data.targets.iter().map(|&v| T::from_f64(v)).collect(),
        err: vec![T::zero(); data.n()],
    }
}

impl CpuBackend for Naive {
    const NAME: &'static str = "naive";
    type Kernel<T: Real> = Kernel<T>;
    fn prepare<T: Real>(data: &Dataset) -> Kernel<T> {
        prepare(data)
    }
}
