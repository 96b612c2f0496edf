//! `descent fit` as a library call. Data flows one way: shape, label and range checks →
//! optional standardization → the model's reference on the matrix the fit uses (OLS,
//! closed-form ridge or Newton; KKT conditions when there is an L1 part) → step size →
//! precision check of `tol` → backend preflight → fit → weights back in original units →
//! quality measures and warnings about fits that are not to be trusted.

use crate::backend::{make_solver, Backend};
use crate::config::{GdConfig, Interrupt, Precision};
use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::gpu::AdapterChoice;
use crate::model::{Loss, Model};
use crate::names::{Setting, Text};
use crate::reference::{kkt_residual, reference_until, ReferenceKind};
use crate::solver::Fit;
use ndarray::Array2;
use serde::Serialize;

/// `mu = auto` ([`Step::Auto`]) for adam: PyTorch's default learning rate.
pub const ADAM_DEFAULT_LR: f64 = 1e-3;

/// How the step size is chosen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Step {
    /// 1/L with L the smooth part's Lipschitz constant ([`Model::smoothness`]): for the
    /// squared loss the largest eigenvalue of (2/N)·[1 X]ᵀ[1 X], so the iteration is stable
    /// and monotone.
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
    /// Run even when the model's reference (OLS, or Newton without a penalty) is
    /// rank-deficient: the fit then has no reference to check it.
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
    /// One line for people, with the likely remedy; the settings it names are rendered by
    /// each front end ([`Text::render`]), `Display` gives their neutral names.
    pub message: Text,
}

/// A finished fit with its reference and quality measures.
#[derive(Debug, Clone)]
pub struct FitOutcome {
    /// Weights in the data's original units; timings, epochs and device as run.
    pub fit: Fit,
    pub feature_names: Vec<String>,
    pub model: Model,
    pub optimizer: crate::model::Optimizer,
    pub schedule: crate::model::Schedule,
    pub mu: f64,
    /// Mean squared error and R² (squared loss only).
    pub mse: Option<f64>,
    pub r2: Option<f64>,
    /// Share of rows classified right at ŷ ≥ 0 ⇔ 1, and the mean log-loss (logistic only).
    pub accuracy: Option<f64>,
    pub log_loss: Option<f64>,
    /// J at the fit, on the matrix the fit used (the penalty of standardized weights when
    /// standardized).
    pub objective: f64,
    /// Which reference checks this fit.
    pub reference_kind: ReferenceKind,
    /// The reference's weights in original units (none for KKT, or when there is none).
    pub reference: Option<Vec<f64>>,
    /// J at the reference.
    pub reference_objective: Option<f64>,
    /// max_j |w_j − r_j| / max_j |r_j| in original units.
    pub distance_to_reference: Option<f64>,
    /// The optimality residual of the fit (max over coordinates, see
    /// [`crate::reference::kkt_residual`]): ‖∇J‖∞ for smooth models.
    pub kkt_residual: f64,
    /// The reference's own MSE and R² (squared loss: OLS or ridge), the yardstick of "far
    /// from the reference" for the article's model. The JSON reports them under
    /// `reference_mse` / `reference_r2` and, as before, `ols_mse` / `ols_r2`.
    pub reference_mse: Option<f64>,
    pub reference_r2: Option<f64>,
    /// Why there is no reference, when there is none (a rank-deficient one, allowed).
    pub reference_note: Option<Text>,
    pub standardized: bool,
    /// The stopping tolerance asked for, if any.
    pub tol: Option<f64>,
    pub warnings: Vec<Warning>,
}

/// The largest |v|.
fn max_abs(values: impl IntoIterator<Item = f64>) -> f64 {
    values.into_iter().fold(0.0f64, |m, v| m.max(v.abs()))
}

/// Mean and standard deviation of every column, checked: a constant column cannot be
/// standardized, and one whose spread overflows f64 is reported as such. `stop` is looked
/// at before each column.
fn column_scales(ds: &Dataset, stop: &Interrupt) -> Result<(Vec<f64>, Vec<f64>)> {
    let n = ds.n() as f64;
    let mut means = Vec::new();
    let mut stds = Vec::new();
    for (j, name) in ds.feature_names.iter().enumerate() {
        stop.check()?;
        let col = || ds.features.column(j);
        // Σ(x/n) cannot overflow for finite x, unlike Σx.
        let mean = col().map(|v| v / n).sum::<f64>();
        // Scaled by the largest deviation, so squares of huge values do not overflow.
        let big = col().fold(0.0f64, |m, v| m.max((v - mean).abs()));
        if !mean.is_finite() || !big.is_finite() {
            let top = max_abs(col());
            return Err(Error::Data(format!(
                "column '{name}' overflows f64 when standardized (values up to {top:e} in \
                 magnitude); rescale it"
            )));
        }
        let sd = if big == 0.0 {
            0.0
        } else {
            big * (col().map(|v| ((v - mean) / big).powi(2)).sum::<f64>() / n).sqrt()
        };
        // Constant means every value equals the first: the rounded mean of a constant
        // column (4.0 can average to 3.9999999999999996) leaves a tiny nonzero spread, so
        // the spread alone would let such a column through, to be divided by ~1e-16.
        let first = ds.features.get(0, j);
        if sd == 0.0 || col().all(|v| v == first) {
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
    let (n, p) = ds.features.dim();
    let mut z = Vec::with_capacity(n * p);
    ds.features.for_each_row(|_, row| {
        z.extend(
            row.iter()
                .enumerate()
                .map(|(j, x)| (x - means[j]) / stds[j]),
        );
    });
    let z = Array2::from_shape_vec((n, p), z).map_err(|e| Error::Data(e.to_string()))?;
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
/// are refused before any work, naming the column. `stop` is looked at before each column.
fn check_range(ds: &Dataset, precision: Precision, stop: &Interrupt) -> Result<()> {
    let (max, name) = match precision {
        Precision::F32 => (f32::MAX as f64, "f32"),
        Precision::F64 => (f64::MAX, "f64"),
    };
    let safe = max.sqrt();
    for j in 0..ds.p() {
        stop.check()?;
        let top = max_abs(ds.features.column(j));
        if top > safe {
            return Err(Error::Data(format!(
                "column '{}' has values up to {top:e}, beyond what {name} gradient sums can \
                 hold (about {safe:.1e}); use {}{}",
                ds.feature_names[j],
                Setting::Standardize.on(),
                if precision == Precision::F32 {
                    format!(" or {}", Setting::Precision.is("f64"))
                } else {
                    String::new()
                }
            )));
        }
    }
    let top = max_abs(ds.targets.iter().copied());
    if top > safe {
        return Err(Error::Data(format!(
            "the target has values up to {top:e}: their squared errors overflow {name} \
             (above {safe:.1e}); rescale the target{}",
            if precision == Precision::F32 {
                format!(" or use {}", Setting::Precision.is("f64"))
            } else {
                String::new()
            }
        )));
    }
    Ok(())
}

/// Smallest gradient norm the working precision can be expected to certify: below it the
/// update mu·g no longer moves the weights (under half an ulp of w), or the rounding noise of the
/// sums dominates the gradient. An estimate; a `tol` under it is warned about. `stop` is
/// looked at before each column.
fn gradient_floor(
    work: &Dataset,
    loss: Loss,
    w_ref: &[f64],
    mu: f64,
    precision: Precision,
    stop: &Interrupt,
) -> Result<f64> {
    let eps = precision.epsilon();
    let w_norm = w_ref.iter().map(|v| v * v).sum::<f64>().sqrt();
    // ulp(w_j) ≥ eps·|w_j|/2, and a step under half an ulp rounds away: below
    // eps·|w|/(4·mu) the iteration has certainly stalled.
    let stagnation = eps * w_norm / (4.0 * mu);
    // Rounding of each err_i ≈ eps·|e_i| (e_i = d_i for the squared loss, at most 1 for the
    // logistic), summed as a random walk into (c/N)·Σ err·a_ij.
    let n = work.n() as f64;
    let scale = |d: f64| match loss {
        Loss::Squared => d,
        Loss::Logistic => 1.0,
    };
    let mut noise2 = work.targets.iter().map(|d| scale(*d).powi(2)).sum::<f64>();
    for j in 0..work.p() {
        stop.check()?;
        noise2 += work
            .features
            .column(j)
            .zip(work.targets.iter())
            .map(|(x, d)| (x * scale(*d)).powi(2))
            .sum::<f64>();
    }
    let noise = eps * loss.grad_scale() / n * noise2.sqrt();
    Ok(stagnation.max(noise))
}

/// How far the fit is from its reference, and whether that is far enough to warn.
/// "Far" means an MSE more than twice the reference's, or an R² more than 0.001 below it
/// (a thousandth of the target's variance left unexplained that OLS explains).
fn far_from_reference(mse: f64, r2: f64, ref_mse: f64, ref_r2: f64) -> bool {
    let r2_gap = ref_r2 - r2;
    !(mse.is_finite() && r2.is_finite()) || r2_gap > 1e-3 || (mse > 2.0 * ref_mse && r2_gap > 1e-9)
}

fn f(v: f64) -> String {
    crate::scalar::round_trip(v)
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
    // A long-lived caller's Ctrl-C: the backends look at it every epoch, and every pass over
    // the rows here (the reference, the step, the checks: seconds on a large table) looks at
    // it at least every block of rows or column, so an interrupted fit returns promptly
    // whatever stage it is in.
    let stop = &req.config.interrupt;
    let model = req.config.model;
    let (n, p) = (ds.n(), ds.p());
    let reference_kind = crate::reference::reference_kind(&model);
    log::debug!(
        "preparing {n}×{p} ({} features): the checks, the {} reference, the step",
        ds.features.precision(),
        reference_kind.as_str()
    );
    ds.validate()?;
    req.config.validate()?;
    req.config.check_data(ds)?;
    // Shape first: an unpenalised reference needs n > p, and everything below costs
    // O(n·p²). A penalty makes the optimum unique whatever the shape.
    if n < p + 1 && model.penalty.alpha == 0.0 && !req.allow_rank_deficient {
        return Err(Error::Data(format!(
            "fewer rows ({n}) than columns ({}) counting the intercept: the {} reference is \
             not unique; add rows, select fewer {}, add a penalty, or pass {}",
            p + 1,
            reference_kind.as_str(),
            Setting::Features.named(),
            Setting::AllowRankDeficient.on()
        )));
    }
    stop.check()?;
    let scaling = if req.standardize {
        Some(column_scales(ds, stop)?)
    } else {
        None
    };
    stop.check()?;
    // Borrowed unless standardized: the data is never copied just to be read.
    let work: std::borrow::Cow<Dataset> = match &scaling {
        Some((means, stds)) => std::borrow::Cow::Owned(standardized(ds, means, stds)?),
        None => std::borrow::Cow::Borrowed(ds),
    };
    check_range(&work, req.config.precision, stop)?;
    let solver = make_solver(req.backend, &req.adapter)?;
    // Cheap adapter, precision and size checks before any O(n·p²) work.
    solver.preflight(&work, &req.config)?;
    // The reference is solved on the matrix the fit uses, so an offset column that
    // standardization makes well-conditioned is not called rank-deficient.
    let (ref_work, reference_note) = match reference_until(&model, &work, stop) {
        Ok(r) => (r.weights, None),
        Err(e @ Error::RankDeficient { .. }) if req.allow_rank_deficient => (None, Some(e.text())),
        Err(Error::RankDeficient {
            reference,
            rank,
            cols,
            hint,
        }) if !req.standardize => {
            return Err(Error::RankDeficient {
                reference,
                rank,
                cols,
                hint: format!(
                    "{hint}; if columns differ greatly in scale or offset, try {}",
                    Setting::Standardize.on()
                ),
            })
        }
        Err(e) => return Err(e),
    };
    let mu = match req.step {
        // Adam's steps are about mu per coordinate whatever the gradient's scale, so 1/L
        // means nothing to it: PyTorch's default learning rate stands in.
        Step::Auto if req.config.optimizer.kind == crate::model::OptimizerKind::Adam => {
            ADAM_DEFAULT_LR
        }
        // Heavy ball with a proximal step converges for mu < 2(1−B)/L (Ochs et al.,
        // iPiano), stricter than 1/L once B > 1/2; (1−B)/L keeps a margin and the same
        // effective step mu/(1−B) = 1/L.
        Step::Auto
            if req.config.optimizer.kind == crate::model::OptimizerKind::Momentum
                && model.penalty.has_l1() =>
        {
            let b = req
                .config
                .optimizer
                .momentum
                .unwrap_or(crate::model::optimizer::DEFAULT_MOMENTUM);
            (1.0 - b) / model.smoothness_until(&work, stop)?
        }
        Step::Auto => 1.0 / model.smoothness_until(&work, stop)?,
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
        let floor = gradient_floor(&work, model.loss, w_ref, mu, cfg.precision, stop)?;
        if tol < floor {
            let w = Warning {
                kind: "tol_unreachable",
                message: Text::new(format!(
                    "{} is below what {} can resolve for this data (gradient norm floor \
                     ≈ {floor:.1e}), so the fit will likely run all {} epochs; use a larger \
                     {}{}",
                    Setting::Tol.literal(f(tol)),
                    cfg.precision,
                    cfg.epochs,
                    Setting::Tol.named(),
                    if cfg.precision == Precision::F32 {
                        format!(" or {}", Setting::Precision.is("f64"))
                    } else {
                        String::new()
                    }
                )),
            };
            if req.strict {
                return Err(Error::Strict(w.message.marked().to_string()));
            }
            warn(w, &mut warnings);
        }
    }
    log::debug!(
        "fitting {n}×{p} ({} features) on {} in {}: {} loss, {} penalty, {}, mu = {mu:e}, \
         {} epochs at most",
        ds.features.precision(),
        solver.name(),
        cfg.precision,
        model.loss.as_str(),
        model.penalty.kind.as_str(),
        cfg.optimizer.kind.as_str(),
        cfg.epochs
    );
    let mut fit = solver.fit(&work, &cfg)?;
    log::debug!(
        "{} ran {} epochs in {:.3?} (converged: {}, stalled: {}) on {}",
        fit.backend,
        fit.epochs_run,
        fit.timings.total(),
        fit.converged,
        fit.stalled,
        fit.device
    );
    // Optimality is judged where the fit was made: the penalty applies to the working
    // (standardized) weights. These are passes over the rows (tens of milliseconds each on
    // a large table), with checks between them.
    stop.check()?;
    let objective = model.objective(&work, &fit.weights);
    let kkt = kkt_residual(&model, &work, &fit.weights);
    stop.check()?;
    let reference_objective = ref_work.as_ref().map(|r| model.objective(&work, r));
    let zero = vec![0.0; p + 1];
    let objective_at_zero = model.objective(&work, &zero);
    stop.check()?;
    let kkt_at_zero = kkt_residual(&model, &work, &zero);
    let reference = match (&scaling, ref_work) {
        (Some((means, stds)), Some(r)) => Some(unscale(&r, means, stds)),
        (_, r) => r,
    };
    if let Some((means, stds)) = &scaling {
        fit.weights = unscale(&fit.weights, means, stds);
    }
    let distance_to_reference = reference.as_ref().map(|r| {
        let top = max_abs(r.iter().copied());
        let d = crate::scalar::max_abs_diff(&fit.weights, r);
        if top > 0.0 {
            d / top
        } else {
            d
        }
    });
    if model == Model::LEAST_SQUARES {
        fit.max_abs_diff_vs_ols = reference
            .as_ref()
            .map(|r| crate::scalar::max_abs_diff(&fit.weights, r));
    }
    stop.check()?;
    let squared = model.loss == Loss::Squared;
    let (mse, r2) = if squared {
        let mse = ds.mse(&fit.weights);
        stop.check()?;
        (Some(mse), Some(ds.r2(&fit.weights)))
    } else {
        (None, None)
    };
    let (accuracy, log_loss) = if squared {
        (None, None)
    } else {
        let yhat = Model::predict(ds, &fit.weights);
        stop.check()?;
        let right = yhat
            .iter()
            .zip(ds.targets.iter())
            .filter(|(f, y)| (**f >= 0.0) == (**y == 1.0))
            .count();
        (
            Some(right as f64 / n as f64),
            Some(model.mean_loss(ds, &fit.weights)),
        )
    };
    stop.check()?;
    let reference_mse = reference.as_ref().filter(|_| squared).map(|r| ds.mse(r));
    stop.check()?;
    let reference_r2 = reference.as_ref().filter(|_| squared).map(|r| ds.r2(r));
    let mut remedies = Vec::new();
    if !req.standardize {
        remedies.push(Setting::Standardize.on().to_string());
    }
    if fit.converged {
        remedies.push(format!("a smaller {}", Setting::Tol.named()));
    } else {
        remedies.push(format!(
            "more {} (ran {})",
            Setting::Epochs.named(),
            fit.epochs_run
        ));
    }
    if matches!(req.step, Step::Value(_)) {
        remedies.push(Setting::Mu.is("auto").to_string());
    }
    let how = if fit.converged {
        format!("met {} but", Setting::Tol.named())
    } else {
        format!(
            "stopped after {} epochs without converging and",
            fit.epochs_run
        )
    };
    let far = if model == Model::LEAST_SQUARES {
        match (mse, r2, reference_mse, reference_r2) {
            (Some(mse), Some(r2), Some(rm), Some(rr)) if far_from_reference(mse, r2, rm, rr) => {
                Some(format!(
                    "is far from the OLS reference (R² {r2:.4} vs {rr:.4}, MSE {mse:.4e} vs \
                     {rm:.4e})"
                ))
            }
            _ => None,
        }
    } else if let Some(jr) = reference_objective {
        // Less than 99.9% of the possible decrease of J from w = 0 achieved: the analogue of
        // the R² rule.
        let gap = (objective - jr) / (objective_at_zero - jr).max(f64::MIN_POSITIVE);
        // NaN (a blown-up fit) counts as far.
        (gap.is_nan() || gap > 1e-3).then(|| {
            format!(
                "is far from the {} reference (objective {objective:.6e} vs {jr:.6e})",
                reference_kind.as_str()
            )
        })
    } else {
        (kkt.is_nan() || kkt > 1e-3 * kkt_at_zero).then(|| {
            format!("is far from optimal (KKT residual {kkt:.3e}, vs {kkt_at_zero:.3e} at w = 0)")
        })
    };
    if let Some(what) = far {
        warn(
            Warning {
                kind: "far_from_reference",
                message: Text::new(format!(
                    "the fit {how} {what}; try {}",
                    remedies.join(", or ")
                )),
            },
            &mut warnings,
        );
    }
    Ok(FitOutcome {
        mse,
        r2,
        accuracy,
        log_loss,
        objective,
        reference_kind,
        reference,
        reference_objective,
        distance_to_reference,
        kkt_residual: kkt,
        feature_names: ds.feature_names.clone(),
        model,
        optimizer: cfg.optimizer,
        schedule: cfg.schedule,
        mu,
        reference_mse,
        reference_r2,
        reference_note,
        standardized: req.standardize,
        tol: cfg.tol,
        warnings,
        fit,
    })
}

/// Run `solver` and check the fit against whichever reference applies to its model
/// ([`reference::reference`]): `max_abs_diff_vs_ols` is filled for an OLS reference; a
/// reference of another kind must belong to `cfg`'s model, or it is an error (a ridge
/// answer is no yardstick for a lasso fit).
pub fn fit_checked(
    solver: &dyn crate::solver::Solver,
    data: &Dataset,
    cfg: &GdConfig,
    reference: Option<&crate::reference::Reference>,
) -> Result<Fit> {
    if let Some(r) = reference {
        let wanted = crate::reference::reference_kind(&cfg.model);
        if r.kind != wanted {
            return Err(Error::Config(format!(
                "a {} reference cannot check a fit whose model needs {}",
                r.kind.as_str(),
                wanted.as_str()
            )));
        }
    }
    let mut fit = solver.fit(data, cfg)?;
    fit.max_abs_diff_vs_ols = reference
        .filter(|r| r.kind == crate::reference::ReferenceKind::Ols)
        .and_then(|r| r.weights.as_ref())
        .map(|w| crate::scalar::max_abs_diff(&fit.weights, w));
    Ok(fit)
}
