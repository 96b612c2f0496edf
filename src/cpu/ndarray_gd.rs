//! Vectorized ndarray code: the analogue of the article's NumPy `np_descent`
//! (`err = d - y; grad = f * [sum(err), X.T @ err]; y = w0 + X @ w`).

use super::{run_cpu, EpochSums, Real};
use crate::config::{GdConfig, Precision};
use crate::data::Dataset;
use crate::error::Result;
use crate::solver::{Fit, Solver};
use ndarray::{s, Array1, Array2, ArrayView1};

/// The ndarray backend.
#[derive(Debug, Default, Clone, Copy)]
pub struct NdarrayGd;

struct Kernel<T> {
    x: Array2<T>,
    d: Array1<T>,
    err: Array1<T>,
}

impl<T: Real> EpochSums<T> for Kernel<T> {
    fn sums(&mut self, w: &[T], sums: &mut [T], want_sse: bool) -> T {
        let wv = ArrayView1::from(&w[1..]);
        // err = d - (w0 + X·w), reusing the buffer as NumPy's `out=` does.
        ndarray::linalg::general_mat_vec_mul(-T::one(), &self.x, &wv, T::zero(), &mut self.err);
        self.err += &self.d;
        self.err -= &ndarray::aview0(&w[0]);
        sums[0] = self.err.sum();
        let xt_err = self.x.t().dot(&self.err);
        for (s, v) in sums[1..].iter_mut().zip(xt_err.slice(s![..])) {
            *s = *v;
        }
        if want_sse {
            self.err.dot(&self.err)
        } else {
            T::zero()
        }
    }
}

fn prepare<T: Real>(data: &Dataset) -> Kernel<T> {
    Kernel {
        x: data.features.mapv(T::from_f64),
        d: data.targets.mapv(T::from_f64),
        err: Array1::zeros(data.n()),
    }
}

impl Solver for NdarrayGd {
    fn name(&self) -> &'static str {
        "ndarray"
    }
    fn device(&self) -> String {
        super::cpu_name()
    }
    fn fit(&self, data: &Dataset, cfg: &GdConfig) -> Result<Fit> {
        match cfg.precision {
            Precision::F32 => run_cpu::<f32, _>("ndarray", data, cfg, prepare),
            Precision::F64 => run_cpu::<f64, _>("ndarray", data, cfg, prepare),
        }
    }
}
