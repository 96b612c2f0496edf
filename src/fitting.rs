//! `descent fit` as a library call. Data flows one way: shape and range checks →
//! optional standardization → OLS reference on the matrix the fit uses → step size →
//! precision check of `tol` → backend preflight → fit → weights back in original units →
//! quality measures and warnings about fits that are not to be trusted.

use crate::backend::{make_solver, Backend};
use crate::config::{GdConfig, Precision};
use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::gpu::AdapterChoice;
use crate::ols::ols;
use crate::solver::Fit;
use faer::{Mat, Side};
use ndarray::Array2;
use serde::Serialize;

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
    /// Warnings raised before the fit (e.g. an unreachable `tol`) become errors, so no time
    /// is spent on a run the caller has said it will reject.
    pub strict: bool,
    /// mu is ignored; everything else is used as given.
    pub config: GdConfig,
}

/// Something about a finished (or planned) fit that the user must hear about: the fit ran,
/// but its answer is not to be trusted as is.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Warning {
    /// Stable identifier for scripts: `tol_unreachable` or `far_from_reference`.
    pub kind: &'static str,
    /// One line for people, with the likely remedy.
    pub message: String,
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
    /// The reference's own MSE and R², the yardstick of "far from the reference".
    pub ols_mse: Option<f64>,
    pub ols_r2: Option<f64>,
    /// Why there is no OLS reference, when there is none.
    pub ols_note: Option<String>,
    pub standardized: bool,
    /// The stopping tolerance asked for, if any.
    pub tol: Option<f64>,
    pub warnings: Vec<Warning>,
}

/// The largest |v|.
fn max_abs<'a>(values: impl IntoIterator<Item = &'a f64>) -> f64 {
    values.into_iter().fold(0.0f64, |m, v| m.max(v.abs()))
}

/// Mean and standard deviation of every column, checked: a constant column cannot be
/// standardized, and one whose spread overflows f64 is reported as such.
fn column_scales(ds: &Dataset) -> Result<(Vec<f64>, Vec<f64>)> {
    let n = ds.n() as f64;
    let mut means = Vec::new();
    let mut stds = Vec::new();
    for (j, col) in ds.features.columns().into_iter().enumerate() {
        let name = &ds.feature_names[j];
        // Σ(x/n) cannot overflow for finite x, unlike Σx.
        let mean = col.iter().map(|v| v / n).sum::<f64>();
        // Scaled by the largest deviation, so squares of huge values do not overflow.
        let big = col.iter().fold(0.0f64, |m, v| m.max((v - mean).abs()));
        if !mean.is_finite() || !big.is_finite() {
            let top = max_abs(col);
            return Err(Error::Data(format!(
                "column '{name}' overflows f64 when standardized (values up to {top:e} in \
                 magnitude); rescale it"
            )));
        }
        let sd = if big == 0.0 {
            0.0
        } else {
            big * (col.iter().map(|v| ((v - mean) / big).powi(2)).sum::<f64>() / n).sqrt()
        };
        if sd == 0.0 {
            return Err(Error::Data(format!(
                "column '{name}' is constant and cannot be standardized"
            )));
        }
        means.push(mean);
        stds.push(sd);
    }
    Ok((means, stds))
}

/// z-scored copy of `ds`.
fn standardized(ds: &Dataset, means: &[f64], stds: &[f64]) -> Result<Dataset> {
    let z = Array2::from_shape_fn(ds.features.dim(), |(i, j)| {
        (ds.features[(i, j)] - means[j]) / stds[j]
    });
    Dataset::with_names(z, ds.targets.clone(), ds.feature_names.clone())
}

/// Weights fitted on z-scored features, in the original units:
/// y = v0 + Σ v_j (x_j − m_j)/s_j  ⇒  w_j = v_j/s_j, w0 = v0 − Σ w_j m_j.
fn unscale(v: &[f64], means: &[f64], stds: &[f64]) -> Vec<f64> {
    let mut w = vec![0.0; v.len()];
    for j in 1..v.len() {
        w[j] = v[j] / stds[j - 1];
    }
    w[0] = v[0] - (1..v.len()).map(|j| w[j] * means[j - 1]).sum::<f64>();
    w
}

/// Values the working precision cannot hold, or whose squared errors would overflow it,
/// are refused before any work, naming the column.
fn check_range(ds: &Dataset, precision: Precision) -> Result<()> {
    let (max, name) = match precision {
        Precision::F32 => (f32::MAX as f64, "f32"),
        Precision::F64 => (f64::MAX, "f64"),
    };
    let safe = max.sqrt();
    for (j, col) in ds.features.columns().into_iter().enumerate() {
        let top = max_abs(col);
        if top > safe {
            return Err(Error::Data(format!(
                "column '{}' has values up to {top:e}, beyond what {name} gradient sums can \
                 hold (about {safe:.1e}); use --standardize{}",
                ds.feature_names[j],
                if precision == Precision::F32 {
                    " or --precision f64"
                } else {
                    ""
                }
            )));
        }
    }
    let top = max_abs(&ds.targets);
    if top > safe {
        return Err(Error::Data(format!(
            "the target has values up to {top:e}: their squared errors overflow {name} \
             (above {safe:.1e}); rescale the target{}",
            if precision == Precision::F32 {
                " or use --precision f64"
            } else {
                ""
            }
        )));
    }
    Ok(())
}

/// The largest eigenvalue of (2/N)·[1 X]ᵀ[1 X], in f64 through faer. It is computed on
/// the smaller of the two Gram matrices (AᵀA and AAᵀ share their nonzero eigenvalues), so
/// a wide table costs no more than a tall one.
pub fn lipschitz(ds: &Dataset) -> Result<f64> {
    let (n, p) = (ds.n(), ds.p());
    let a = Mat::<f64>::from_fn(
        n,
        p + 1,
        |i, j| if j == 0 { 1.0 } else { ds.features[(i, j - 1)] },
    );
    let scale = faer::Scale(2.0 / n as f64);
    let gram = if n < p + 1 {
        &a * a.transpose() * scale
    } else {
        a.transpose() * &a * scale
    };
    let eig = gram
        .self_adjoint_eigenvalues(Side::Lower)
        .map_err(|e| Error::Data(format!("eigenvalue solver failed: {e:?}")))?;
    eig.last()
        .copied()
        .filter(|l| *l > 0.0 && l.is_finite())
        .ok_or_else(|| Error::Data("cannot derive a step size from this data".into()))
}

/// Smallest gradient norm the working precision can be expected to certify: below it the
/// update mu·g no longer moves the weights (under half an ulp of w), or the rounding noise of the
/// sums dominates the gradient. An estimate; a `tol` under it is warned about.
fn gradient_floor(work: &Dataset, w_ref: &[f64], mu: f64, precision: Precision) -> f64 {
    let eps = match precision {
        Precision::F32 => f32::EPSILON as f64,
        Precision::F64 => f64::EPSILON,
    };
    let w_norm = w_ref.iter().map(|v| v * v).sum::<f64>().sqrt();
    // ulp(w_j) ≥ eps·|w_j|/2, and a step under half an ulp rounds away: below
    // eps·|w|/(4·mu) the iteration has certainly stalled.
    let stagnation = eps * w_norm / (4.0 * mu);
    // Rounding of each err_i ≈ eps·|d_i|, summed as a random walk into (2/N)·Σ err·a_ij.
    let n = work.n() as f64;
    let mut noise2 = work.targets.iter().map(|d| d * d).sum::<f64>();
    for col in work.features.columns() {
        noise2 += col
            .iter()
            .zip(work.targets.iter())
            .map(|(x, d)| (x * d) * (x * d))
            .sum::<f64>();
    }
    let noise = eps * 2.0 / n * noise2.sqrt();
    stagnation.max(noise)
}

/// How far the fit is from its reference, and whether that is far enough to warn.
/// "Far" means an MSE more than twice the reference's, or an R² more than 0.001 below it
/// (a thousandth of the target's variance left unexplained that OLS explains).
fn far_from_reference(mse: f64, r2: f64, ref_mse: f64, ref_r2: f64) -> bool {
    let r2_gap = ref_r2 - r2;
    !(mse.is_finite() && r2.is_finite()) || r2_gap > 1e-3 || (mse > 2.0 * ref_mse && r2_gap > 1e-9)
}

fn f(v: f64) -> String {
    crate::report::round_trip(v)
}

/// Fit `ds` as `req` says; warnings are returned in the outcome.
pub fn fit_dataset(ds: &Dataset, req: &FitRequest) -> Result<FitOutcome> {
    fit_dataset_with(ds, req, &mut |_| {})
}

/// Like [`fit_dataset`], calling `on_warning` as each warning is raised (an early one, such
/// as an unreachable `tol`, before the fit starts) so a caller can show it at once.
pub fn fit_dataset_with(
    ds: &Dataset,
    req: &FitRequest,
    on_warning: &mut dyn FnMut(&Warning),
) -> Result<FitOutcome> {
    ds.validate()?;
    req.config.validate()?;
    let (n, p) = (ds.n(), ds.p());
    // Shape first: the OLS reference needs n > p, and everything below costs O(n·p²).
    if n < p + 1 && !req.allow_rank_deficient {
        return Err(Error::Data(format!(
            "fewer rows ({n}) than columns ({}) counting the intercept: the OLS reference is \
             not unique; add rows, select fewer --features, or pass --allow-rank-deficient",
            p + 1
        )));
    }
    let scaling = if req.standardize {
        Some(column_scales(ds)?)
    } else {
        None
    };
    let work = match &scaling {
        Some((means, stds)) => standardized(ds, means, stds)?,
        None => ds.clone(),
    };
    check_range(&work, req.config.precision)?;
    let solver = make_solver(req.backend, &req.adapter)?;
    // Cheap adapter, precision and size checks before any O(n·p²) work.
    solver.preflight(&work, &req.config)?;
    // The reference is solved on the matrix the fit uses, so an offset column that
    // standardization makes well-conditioned is not called rank-deficient.
    let (ref_work, ols_note) = match ols(&work) {
        Ok(o) => (Some(o.weights), None),
        Err(e @ Error::RankDeficient { .. }) if req.allow_rank_deficient => {
            (None, Some(e.to_string()))
        }
        Err(Error::RankDeficient { rank, cols, hint }) if !req.standardize => {
            return Err(Error::RankDeficient {
                rank,
                cols,
                hint: format!(
                    "{hint}; if columns differ greatly in scale or offset, try --standardize"
                ),
            })
        }
        Err(e) => return Err(e),
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
    let mut warnings = Vec::new();
    let mut warn = |w: Warning, warnings: &mut Vec<Warning>| {
        on_warning(&w);
        warnings.push(w);
    };
    if let (Some(tol), Some(w_ref)) = (cfg.tol, ref_work.as_ref()) {
        let floor = gradient_floor(&work, w_ref, mu, cfg.precision);
        if tol < floor {
            let w = Warning {
                kind: "tol_unreachable",
                message: format!(
                    "--tol {} is below what {} can resolve for this data (gradient norm floor \
                     ≈ {floor:.1e}), so the fit will likely run all {} epochs; use a larger \
                     --tol{}",
                    f(tol),
                    cfg.precision,
                    cfg.epochs,
                    if cfg.precision == Precision::F32 {
                        " or --precision f64"
                    } else {
                        ""
                    }
                ),
            };
            if req.strict {
                return Err(Error::Strict(w.message));
            }
            warn(w, &mut warnings);
        }
    }
    let mut fit = solver.fit(&work, &cfg)?;
    let reference = match (&scaling, ref_work) {
        (Some((means, stds)), Some(r)) => Some(unscale(&r, means, stds)),
        (_, r) => r,
    };
    if let Some((means, stds)) = &scaling {
        fit.weights = unscale(&fit.weights, means, stds);
    }
    fit.max_abs_diff_vs_ols = reference
        .as_ref()
        .map(|r| crate::max_abs_diff(&fit.weights, r));
    let (mse, r2) = (ds.mse(&fit.weights), ds.r2(&fit.weights));
    let ols_mse = reference.as_ref().map(|r| ds.mse(r));
    let ols_r2 = reference.as_ref().map(|r| ds.r2(r));
    if let (Some(rm), Some(rr)) = (ols_mse, ols_r2) {
        if far_from_reference(mse, r2, rm, rr) {
            let mut remedies = Vec::new();
            if !req.standardize {
                remedies.push("--standardize".to_string());
            }
            if fit.converged {
                remedies.push("a smaller --tol".into());
            } else {
                remedies.push(format!("more --epochs (ran {})", fit.epochs_run));
            }
            if matches!(req.step, Step::Value(_)) {
                remedies.push("--mu auto".into());
            }
            let how = if fit.converged {
                "met --tol but".to_string()
            } else {
                format!(
                    "stopped after {} epochs without converging and",
                    fit.epochs_run
                )
            };
            warn(
                Warning {
                    kind: "far_from_reference",
                    message: format!(
                        "the fit {how} is far from the OLS reference (R² {:.4} vs {:.4}, MSE \
                         {:.4e} vs {:.4e}); try {}",
                        r2,
                        rr,
                        mse,
                        rm,
                        remedies.join(", or ")
                    ),
                },
                &mut warnings,
            );
        }
    }
    Ok(FitOutcome {
        mse,
        r2,
        feature_names: ds.feature_names.clone(),
        mu,
        ols: reference,
        ols_mse,
        ols_r2,
        ols_note,
        standardized: req.standardize,
        tol: cfg.tol,
        warnings,
        fit,
    })
}
