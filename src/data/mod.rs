//! Datasets: the features/targets container, the article's generator, synthetic problems
//! and file readers.

mod delimited;
mod npy;
mod numpy_rng;
mod select;
mod synthetic;
mod table;

pub use delimited::parse_delimiter;
pub use numpy_rng::NumpyRandomState;
pub use synthetic::{article, linspace, synthetic, Synthetic, ARTICLE_N, ARTICLE_SEED};
pub use table::{load, InputSpec, Loaded, SourceInfo};

use crate::error::{Error, Result};
use ndarray::{Array1, Array2};

/// A regression problem `d ≈ w0 + X·w`: `features` is n×p (row-major), `targets` has n
/// entries, and the intercept column of ones is implicit.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    pub features: Array2<f64>,
    pub targets: Array1<f64>,
    /// One name per feature column (`x1`, `x2`, ... when the source had none).
    pub feature_names: Vec<String>,
}

impl Dataset {
    /// Build a dataset, checking shapes and that every value is finite.
    pub fn new(features: Array2<f64>, targets: Array1<f64>) -> Result<Self> {
        let names = (1..=features.ncols()).map(|j| format!("x{j}")).collect();
        Self::with_names(features, targets, names)
    }

    /// Like [`Dataset::new`] with explicit feature names.
    pub fn with_names(
        features: Array2<f64>,
        targets: Array1<f64>,
        feature_names: Vec<String>,
    ) -> Result<Self> {
        // Row-major storage lets every backend walk rows without copies.
        let features = features.as_standard_layout().into_owned();
        let ds = Dataset {
            features,
            targets,
            feature_names,
        };
        ds.validate()?;
        Ok(ds)
    }

    /// One-feature dataset from two slices (the article's shape).
    pub fn from_xy(x: &[f64], d: &[f64]) -> Result<Self> {
        let features = Array2::from_shape_vec((x.len(), 1), x.to_vec())
            .map_err(|e| Error::Data(e.to_string()))?;
        Self::new(features, Array1::from_vec(d.to_vec()))
    }

    /// Number of rows (samples).
    pub fn n(&self) -> usize {
        self.features.nrows()
    }

    /// Number of feature columns (without the intercept).
    pub fn p(&self) -> usize {
        self.features.ncols()
    }

    /// Shape and finiteness checks; every backend relies on them.
    pub fn validate(&self) -> Result<()> {
        let (n, p) = self.features.dim();
        if n == 0 {
            return Err(Error::Data("the dataset has no rows (n = 0)".into()));
        }
        if p == 0 {
            return Err(Error::Data("the dataset has no feature columns".into()));
        }
        if self.targets.len() != n {
            return Err(Error::Data(format!(
                "features have {n} rows but targets have {}",
                self.targets.len()
            )));
        }
        if self.feature_names.len() != p {
            return Err(Error::Data(format!(
                "{} feature names for {p} columns",
                self.feature_names.len()
            )));
        }
        if let Some(((i, j), v)) = self.features.indexed_iter().find(|(_, v)| !v.is_finite()) {
            return Err(Error::Data(format!(
                "feature '{}' has a non-finite value ({v}) in row {}",
                self.feature_names[j],
                i + 1
            )));
        }
        if let Some((i, v)) = self
            .targets
            .iter()
            .enumerate()
            .find(|(_, v)| !v.is_finite())
        {
            return Err(Error::Data(format!(
                "the target has a non-finite value ({v}) in row {}",
                i + 1
            )));
        }
        Ok(())
    }

    /// Mean squared error of `weights` = [intercept, w1..wp] on this data, in f64.
    pub fn mse(&self, weights: &[f64]) -> f64 {
        let sse: f64 = self
            .features
            .rows()
            .into_iter()
            .zip(self.targets.iter())
            .map(|(row, &d)| {
                let y = weights[0]
                    + row
                        .iter()
                        .zip(&weights[1..])
                        .map(|(x, w)| x * w)
                        .sum::<f64>();
                (d - y) * (d - y)
            })
            .sum();
        sse / self.n() as f64
    }

    /// Coefficient of determination of `weights` on this data.
    pub fn r2(&self, weights: &[f64]) -> f64 {
        let mean = self.targets.mean().unwrap_or(0.0);
        let var = self
            .targets
            .iter()
            .map(|d| (d - mean) * (d - mean))
            .sum::<f64>()
            / self.n() as f64;
        if var == 0.0 {
            return f64::NAN;
        }
        1.0 - self.mse(weights) / var
    }
}
