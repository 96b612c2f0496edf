//! `descent fit` as a library call: OLS reference → optional standardization → step size →
//! backend fit → weights back in original units → quality measures.

use crate::backend::{make_solver, Backend};
use crate::config::GdConfig;
use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::gpu::AdapterChoice;
use crate::ols::ols;
use crate::solver::Fit;
use faer::{Mat, Side};
use ndarray::Array2;

/// How the step size is chosen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Step {
    /// 1/L, with L the largest eigenvalue of (2/N)·[1 X]ᵀ[1 X] (the gradient's Lipschitz
    /// constant), so the iteration is stable and monotone.
    Auto,
    Value(f64),
}

impl std::str::FromStr for Step {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        if s.eq_ignore_ascii_case("auto") {
            return Ok(Step::Auto);
        }
        s.parse::<f64>()
            .map(Step::Value)
            .map_err(|_| Error::Config(format!("mu must be a number or 'auto', got '{s}'")))
    }
}

/// Everything `fit` needs besides the data.
#[derive(Debug, Clone)]
pub struct FitRequest {
    pub backend: Backend,
    pub adapter: AdapterChoice,
    pub step: Step,
    pub standardize: bool,
    /// Run even when OLS is rank-deficient (the fit then has no reference to check).
    pub allow_rank_deficient: bool,
    /// mu is ignored; everything else is used as given.
    pub config: GdConfig,
}

/// A finished fit with its reference and quality measures.
#[derive(Debug, Clone)]
pub struct FitOutcome {
    /// Weights in the data's original units; timings, epochs and device as run.
    pub fit: Fit,
    pub feature_names: Vec<String>,
    pub mu: f64,
    pub mse: f64,
    pub r2: f64,
    pub ols: Option<Vec<f64>>,
    /// Why there is no OLS reference, when there is none.
    pub ols_note: Option<String>,
    pub standardized: bool,
}

/// Per-column mean and standard deviation; a constant column cannot be standardized.
fn standardize(ds: &Dataset) -> Result<(Dataset, Vec<f64>, Vec<f64>)> {
    let n = ds.n() as f64;
    let mut means = Vec::new();
    let mut stds = Vec::new();
    for (j, col) in ds.features.columns().into_iter().enumerate() {
        let mean = col.sum() / n;
        let sd = (col.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n).sqrt();
        if sd == 0.0 || !sd.is_finite() {
            return Err(Error::Data(format!(
                "column '{}' is constant and cannot be standardized",
                ds.feature_names[j]
            )));
        }
        means.push(mean);
        stds.push(sd);
    }
    let z = Array2::from_shape_fn(ds.features.dim(), |(i, j)| {
        (ds.features[(i, j)] - means[j]) / stds[j]
    });
    Ok((
        Dataset::with_names(z, ds.targets.clone(), ds.feature_names.clone())?,
        means,
        stds,
    ))
}

/// The largest eigenvalue of (2/N)·[1 X]ᵀ[1 X], in f64 through faer.
pub fn lipschitz(ds: &Dataset) -> Result<f64> {
    let (n, p) = (ds.n(), ds.p());
    let a = Mat::<f64>::from_fn(
        n,
        p + 1,
        |i, j| if j == 0 { 1.0 } else { ds.features[(i, j - 1)] },
    );
    let gram = a.transpose() * &a * faer::Scale(2.0 / n as f64);
    let eig = gram
        .self_adjoint_eigenvalues(Side::Lower)
        .map_err(|e| Error::Data(format!("eigenvalue solver failed: {e:?}")))?;
    eig.last()
        .copied()
        .filter(|l| *l > 0.0 && l.is_finite())
        .ok_or_else(|| Error::Data("cannot derive a step size from this data".into()))
}

/// Fit `ds` as `req` says: data → step and config check → backend preflight → OLS
/// reference → fit → weights in original units.
pub fn fit_dataset(ds: &Dataset, req: &FitRequest) -> Result<FitOutcome> {
    ds.validate()?;
    let (work, scaling) = if req.standardize {
        let (z, means, stds) = standardize(ds)?;
        (z, Some((means, stds)))
    } else {
        (ds.clone(), None)
    };
    let mu = match req.step {
        Step::Auto => 1.0 / lipschitz(&work)?,
        Step::Value(v) => v,
    };
    let cfg = GdConfig {
        mu,
        ..req.config.clone()
    };
    cfg.validate()?;
    let solver = make_solver(req.backend, &req.adapter)?;
    solver.preflight(&work, &cfg)?;
    let (reference, ols_note) = match ols(ds) {
        Ok(o) => (Some(o.weights), None),
        Err(e @ Error::RankDeficient { .. }) if req.allow_rank_deficient => {
            (None, Some(e.to_string()))
        }
        Err(e) => return Err(e),
    };
    let mut fit = solver.fit(&work, &cfg)?;
    if let Some((means, stds)) = &scaling {
        // y = v0 + Σ v_j (x_j − m_j)/s_j  ⇒  w_j = v_j/s_j, w0 = v0 − Σ w_j m_j.
        let v = fit.weights.clone();
        let mut w = vec![0.0; v.len()];
        for j in 1..v.len() {
            w[j] = v[j] / stds[j - 1];
        }
        w[0] = v[0] - (1..v.len()).map(|j| w[j] * means[j - 1]).sum::<f64>();
        fit.weights = w;
    }
    fit.max_abs_diff_vs_ols = reference
        .as_ref()
        .map(|r| crate::max_abs_diff(&fit.weights, r));
    Ok(FitOutcome {
        mse: ds.mse(&fit.weights),
        r2: ds.r2(&fit.weights),
        feature_names: ds.feature_names.clone(),
        mu,
        ols: reference,
        ols_note,
        standardized: req.standardize,
        fit,
    })
}
