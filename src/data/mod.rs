//! Datasets: the features/targets container, the article's generator, synthetic problems
//! and file readers.

mod delimited;
mod features;
mod npy;
mod numpy_rng;
mod select;
mod synthetic;
mod table;

pub use delimited::parse_delimiter;
pub use features::{Element, Features, Scaling};
pub use numpy_rng::NumpyRandomState;
pub use synthetic::{article, linspace, synthetic, Synthetic, ARTICLE_N, ARTICLE_SEED};
pub use table::{load, InputSpec, Loaded, SourceInfo};

use crate::error::{Error, Result};
use ndarray::{Array1, Array2, ArrayView2, CowArray};

/// A regression problem `d ≈ w0 + X·w`: `features` is n×p (row-major), `targets` has n
/// entries, and the intercept column of ones is implicit.
///
/// The features are f64 or f32 ([`Features`]), and usually owned; [`Dataset::borrowing`]
/// lends a caller's matrix instead (the Python package reads NumPy float64 and float32
/// arrays that way, without a copy). Cloning shares the features (borrowed ones stay
/// borrowed) and copies the targets (n values, a p-th of the features), which are always
/// owned, in f64.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    pub features: Features,
    pub targets: Array1<f64>,
    /// One name per feature column (`x1`, `x2`, ... when the source had none).
    pub feature_names: Vec<String>,
}

impl Dataset {
    /// Build a dataset, checking shapes and that every value is finite.
    pub fn new(features: impl Into<Features>, targets: Array1<f64>) -> Result<Self> {
        let features = features.into();
        let names = (1..=features.ncols()).map(|j| format!("x{j}")).collect();
        Self::with_names(features, targets, names)
    }

    /// Like [`Dataset::new`] with explicit feature names.
    pub fn with_names(
        features: impl Into<Features>,
        targets: Array1<f64>,
        feature_names: Vec<String>,
    ) -> Result<Self> {
        // Row-major storage (which `Features` keeps) lets every backend walk rows without
        // copies.
        let features = features.into();
        let ds = Dataset {
            features,
            targets,
            feature_names,
        };
        ds.validate()?;
        Ok(ds)
    }

    /// A dataset that reads `features` where they are, without copying them (a view that is
    /// not row-major is copied into an owned row-major matrix). Checked like
    /// [`Dataset::with_names`].
    ///
    /// # Safety
    ///
    /// The dataset forgets the view's lifetime. The memory it borrows must stay alive, and
    /// nothing may write to it, until the returned dataset and everything cloned from it
    /// (the dataset or its features) have been dropped. [`crate::fitting::fit_dataset`] and
    /// every [`crate::Solver`] keep nothing of their input once they return.
    ///
    /// `T` is f64 or f32; f32 features stay f32 (see [`Features`]).
    pub unsafe fn borrowing<T: Element>(
        features: ArrayView2<'_, T>,
        targets: Array1<f64>,
        feature_names: Vec<String>,
    ) -> Result<Self> {
        // SAFETY: only the lifetime changes; the caller keeps the memory alive and unwritten
        // for as long as the dataset or anything cloned from it lives.
        let features =
            unsafe { std::mem::transmute::<ArrayView2<'_, T>, ArrayView2<'static, T>>(features) };
        Self::with_names(
            Features::new(CowArray::from(features)),
            targets,
            feature_names,
        )
    }

    /// True when the features are read in place from memory the dataset does not own.
    pub fn borrows_features(&self) -> bool {
        self.features.is_view()
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
        self.validate_shape()?;
        if let Some(((i, j), v)) = self.features.first_non_finite() {
            return Err(self.non_finite(i, j, v));
        }
        self.validate_targets()
    }

    /// The error for a non-finite feature value at (row `i`, column `j`).
    pub(crate) fn non_finite(&self, i: usize, j: usize, v: f64) -> Error {
        Error::Data(format!(
            "feature '{}' has a non-finite value ({v}) in row {}",
            self.feature_names[j],
            i + 1
        ))
    }

    /// [`Dataset::validate`] and the largest |value| of every feature column, from one pass
    /// over the features (the pipeline's only scan of them before the fit).
    pub fn validate_scan(&self) -> Result<Vec<f64>> {
        self.validate_shape()?;
        let top = self
            .features
            .column_max_abs()
            .map_err(|((i, j), v)| self.non_finite(i, j, v))?;
        self.validate_targets()?;
        Ok(top)
    }

    /// The shape checks of [`Dataset::validate`]: rows, columns, names, targets' length.
    pub(crate) fn validate_shape(&self) -> Result<()> {
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
        Ok(())
    }

    /// The targets' finiteness check of [`Dataset::validate`].
    fn validate_targets(&self) -> Result<()> {
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

    /// Rows `rows` of this dataset, reading the features where they lie (the targets, a
    /// p-th of the block, are copied). The view forgets that it borrows `self`, so it is
    /// crate-internal: every caller drops it before `self` can be.
    pub(crate) fn rows_view(&self, rows: std::ops::Range<usize>) -> Dataset {
        let features = self.features.rows_view(rows.clone());
        Dataset {
            features,
            targets: self.targets.slice(ndarray::s![rows]).to_owned(),
            feature_names: self.feature_names.clone(),
        }
    }

    /// This dataset read standardized ([`Features::standardized`], which checks `scaling`):
    /// the features are shared, not copied; the targets are copied.
    pub fn standardized(&self, scaling: Scaling) -> Result<Dataset> {
        Ok(Dataset {
            features: self.features.standardized(scaling)?,
            targets: self.targets.clone(),
            feature_names: self.feature_names.clone(),
        })
    }

    /// The linear predictor ŷ_i = w0 + x_i·w for every row, in f64 (`weights` = [w0, w]).
    pub fn predict(&self, weights: &[f64]) -> Vec<f64> {
        let mut yhat = Vec::with_capacity(self.n());
        self.features.for_each_row(|_, row| {
            yhat.push(
                weights[0]
                    + row
                        .iter()
                        .zip(&weights[1..])
                        .map(|(x, v)| x * v)
                        .sum::<f64>(),
            )
        });
        yhat
    }

    /// Mean squared error of `weights` = [intercept, w1..wp] on this data, in f64.
    pub fn mse(&self, weights: &[f64]) -> f64 {
        let sse: f64 = self
            .predict(weights)
            .iter()
            .zip(self.targets.iter())
            .map(|(y, &d)| (d - y) * (d - y))
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
