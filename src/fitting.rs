//! `descent fit` as a library call. Data flows one way: shape, label and range checks →
//! optional standardization → the model's reference on the matrix the fit uses (OLS,
//! closed-form ridge or Newton; KKT conditions when there is an L1 part) → step size →
//! precision check of `tol` → backend preflight → fit → weights back in original units →
//! quality measures and warnings about fits that are not to be trusted.

use crate::backend::{make_solver, Backend};
use crate::coefficients::Coefficients;
use crate::config::{GdConfig, Interrupt, Precision};
use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::gpu::AdapterChoice;
use crate::model::{Loss, Model};
use crate::names::{Setting, Text};
use crate::reference::{kkt_check, kkt_residual, reference_validated, KktCheck, ReferenceKind};
use crate::solver::Fit;
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
    /// What checks the fit after its epochs (`auto`: the reference on small tables, the KKT
    /// bounds on large ones).
    pub check: Check,
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
    /// Which reference checks this fit (`Kkt` whenever the check was `kkt` or `none`).
    pub reference_kind: ReferenceKind,
    /// The check that ran (`auto` resolved).
    pub check: Check,
    /// With `check = kkt`: a proven upper bound on J − J* (squared loss with an L2 part).
    pub objective_gap_bound: Option<f64>,
    /// With `check = kkt`: a proven bound on the distance to the optimum, in the
    /// coordinates the fit used (standardized ones when standardized), same condition.
    pub distance_bound: Option<f64>,
    /// The reference's weights in original units (none for KKT, or when there is none).
    pub reference: Option<Coefficients>,
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
    /// Seconds spent in each stage of the pipeline.
    pub stages: StageTimings,
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

/// Coefficients fitted on z-scored features, in the original units, output by output:
/// y_k = b_k + Σ v_jk (x_j − m_j)/s_j  ⇒  w_jk = v_jk/s_j, b_k = v_bk − Σ w_jk m_j.
fn unscale(v: &Coefficients, means: &[f64], stds: &[f64]) -> Coefficients {
    let mut w = v.clone();
    for (j, s) in stds.iter().enumerate() {
        let row = j * v.outputs()..(j + 1) * v.outputs();
        for (wjk, vjk) in w.matrix_mut()[row].iter_mut().zip(v.weights_of(j)) {
            *wjk = vjk / s;
        }
    }
    for k in 0..v.outputs() {
        let shift = w.column_weights(k).zip(means).map(|(wjk, m)| wjk * m);
        let b = v.intercept(k) - shift.sum::<f64>();
        w.intercepts_mut()[k] = b;
    }
    w
}

/// Values the working precision cannot hold, or whose squared errors would overflow it,
/// are refused before any work, naming the column; `top` holds each column's largest |x|.
fn check_range(ds: &Dataset, top: &[f64], precision: Precision) -> Result<()> {
    let name = precision.as_str();
    let safe = precision.max().sqrt();
    for (j, &top) in top.iter().enumerate() {
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

/// Which check a fit gets after its epochs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Check {
    /// `reference` while n·(p+1)² ≤ [`AUTO_REFERENCE_MAX_WORK`], `kkt` beyond.
    #[default]
    Auto,
    /// Solve the model's own f64 reference (OLS, ridge or Newton; the KKT conditions with an
    /// L1 part) and compare: a solver's worth of work, O(n·p²) and more.
    Reference,
    /// The optimality residual from one pass over the rows, turned into bounds on J − J*
    /// and the distance to the optimum where the objective allows ([`kkt_check`]).
    Kkt,
    /// No check: nothing is proven about the fit.
    None,
}

/// The largest n·(p+1)² for which `--check auto` solves the reference: by estimate (TSQR's
/// 2·n·(p+1)² flops at about 2 GFLOP/s on one core, not measured) a quarter of a second, so
/// the check never costs more than a modest fit; beyond it, `auto` means `kkt`.
pub const AUTO_REFERENCE_MAX_WORK: f64 = 2.5e8;

impl Check {
    pub const ALL: [Check; 4] = [Check::Auto, Check::Reference, Check::Kkt, Check::None];

    pub fn as_str(self) -> &'static str {
        match self {
            Check::Auto => "auto",
            Check::Reference => "reference",
            Check::Kkt => "kkt",
            Check::None => "none",
        }
    }

    /// The check `self` means for an n × p table: `auto` decided by size, the rest as is.
    pub fn resolve(self, n: usize, p: usize) -> Check {
        match self {
            Check::Auto if n as f64 * ((p + 1) as f64).powi(2) <= AUTO_REFERENCE_MAX_WORK => {
                Check::Reference
            }
            Check::Auto => Check::Kkt,
            other => other,
        }
    }
}

impl std::str::FromStr for Check {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Check::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                Error::Config(format!(
                    "unknown check '{s}' (expected auto, reference, kkt or none)"
                ))
            })
    }
}

/// Wall time of each stage of [`fit_dataset`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct StageTimings {
    /// Validation (one scan of the data), standardization, range checks, backend preflight.
    pub prepare: f64,
    /// The reference solve (zero unless the check is `reference`).
    pub reference: f64,
    /// The step size (`--mu auto`) and the precision check of `tol`.
    pub step: f64,
    /// The backend's fit: setup, epochs, read-back.
    pub descend: f64,
    /// The check after the fit, quality measures and warnings.
    pub assess: f64,
}

/// Fit `ds` as `req` says; warnings are returned in the outcome.
pub fn fit_dataset(ds: &Dataset, req: &FitRequest) -> Result<FitOutcome> {
    fit_dataset_with(ds, req, &mut |_| {})
}

/// Like [`fit_dataset`], calling `on_warning` as each warning is raised (an early one, such
/// as an unreachable `tol`, before the fit starts) so a caller can show it at once.
///
/// The pipeline's stages, each timed in [`FitOutcome::stages`]: [`prepare`] → the
/// reference ([`reference_stage`]) → the step size ([`step_stage`]) → the descent (the
/// backend) → [`assess`]. A long-lived caller's Ctrl-C: the backends look at the interrupt
/// every epoch, and every pass over the rows here looks at it at least every block of rows
/// or column, so an interrupted fit returns promptly whatever stage it is in.
pub fn fit_dataset_with(
    ds: &Dataset,
    req: &FitRequest,
    on_warning: &mut dyn FnMut(&Warning),
) -> Result<FitOutcome> {
    let mut stages = StageTimings::default();
    let clock = std::time::Instant::now();
    let prepared = prepare(ds, req)?;
    let solver = ready_solver(&prepared, req.backend, &req.adapter, &req.config)?;
    stages.prepare = clock.elapsed().as_secs_f64();
    let clock = std::time::Instant::now();
    let (ref_work, reference_note) = reference_stage(&prepared, req)?;
    stages.reference = clock.elapsed().as_secs_f64();
    let clock = std::time::Instant::now();
    let mut warnings = Vec::new();
    let cfg = step_stage(&prepared, req, ref_work.as_deref(), &mut |w| {
        on_warning(&w);
        warnings.push(w);
    })?;
    stages.step = clock.elapsed().as_secs_f64();
    let clock = std::time::Instant::now();
    let fit = descend_stage(solver.as_ref(), &prepared, &cfg)?;
    stages.descend = clock.elapsed().as_secs_f64();
    let clock = std::time::Instant::now();
    let reference = Reference {
        weights: ref_work,
        note: reference_note,
    };
    let mut outcome = assess(ds, req, &prepared, &cfg, fit, reference, &mut |w| {
        on_warning(&w);
        warnings.push(w);
    })?;
    stages.assess = clock.elapsed().as_secs_f64();
    outcome.warnings = warnings;
    outcome.stages = stages;
    Ok(outcome)
}

/// What [`prepare`] hands the later stages.
pub struct Prepared<'a> {
    /// The matrix the fit runs on: `ds` itself, or `ds` read standardized (its features
    /// shared, not copied).
    work: std::borrow::Cow<'a, Dataset>,
    /// The check that will run (`auto` resolved).
    check: Check,
}

/// Stage 1: validate the settings and the data (one scan of the features for non-finite
/// values and ranges), refuse shapes without a unique optimum, standardize — all before any
/// O(n·p²) work. [`ready_solver`] then asks a backend whether it can take the problem.
pub fn prepare<'a>(ds: &'a Dataset, req: &FitRequest) -> Result<Prepared<'a>> {
    let stop = &req.config.interrupt;
    let model = req.config.model;
    let (n, p) = (ds.n(), ds.p());
    let check = req.check.resolve(n, p);
    log::debug!(
        "preparing {n}×{p} ({} features): the checks, the {} check, the step",
        ds.features.precision(),
        match check {
            Check::Reference => crate::reference::reference_kind(&model).as_str(),
            other => other.as_str(),
        }
    );
    let top = ds.validate_scan()?;
    req.config.validate()?;
    req.config.check_data(ds)?;
    // Shape first: an unpenalised optimum is unique only when n > p (whatever the check:
    // without uniqueness no check, and no weights, mean much), and everything below costs
    // O(n·p²). A penalty makes the optimum unique whatever the shape.
    if n < p + 1 && model.penalty.alpha == 0.0 && !req.allow_rank_deficient {
        return Err(Error::Data(format!(
            "fewer rows ({n}) than columns ({}) counting the intercept: the {} reference is \
             not unique; add rows, select fewer {}, add a penalty, or pass {}",
            p + 1,
            crate::reference::reference_kind(&model).as_str(),
            Setting::Features.named(),
            Setting::AllowRankDeficient.on()
        )));
    }
    stop.check()?;
    let scaling = if req.standardize {
        let (means, stds) = column_scales(ds, stop)?;
        Some(crate::data::Scaling { means, stds })
    } else {
        None
    };
    stop.check()?;
    // Never a copy of the features: standardized, the same values are read through the
    // column transform.
    let (work, top) = match scaling {
        Some(scaling) => {
            let z = ds.standardized(scaling)?;
            let top = z
                .features
                .column_max_abs()
                .map_err(|((i, j), v)| z.non_finite(i, j, v))?;
            (std::borrow::Cow::Owned(z), top)
        }
        None => (std::borrow::Cow::Borrowed(ds), top),
    };
    check_range(&work, &top, req.config.precision)?;
    Ok(Prepared { work, check })
}

/// The end of stage 1 for one backend: open it and run its cheap adapter, precision and
/// size checks on the prepared data, before any O(n·p²) work.
pub fn ready_solver(
    prepared: &Prepared,
    backend: Backend,
    adapter: &AdapterChoice,
    cfg: &GdConfig,
) -> Result<Box<dyn crate::solver::Solver>> {
    let solver = make_solver(backend, adapter)?;
    solver.preflight(&prepared.work, cfg)?;
    Ok(solver)
}

impl Prepared<'_> {
    /// The matrix the fit runs on.
    pub fn work(&self) -> &Dataset {
        &self.work
    }
}

/// Stage 2: the model's f64 reference on the matrix the fit uses (so an offset column that
/// standardization makes well-conditioned is not called rank-deficient), when the check is
/// `reference`. Returns its weights in the working coordinates, or why there are none.
pub fn reference_stage(
    prepared: &Prepared,
    req: &FitRequest,
) -> Result<(Option<Coefficients>, Option<Text>)> {
    if prepared.check != Check::Reference {
        return Ok((None, None));
    }
    let model = req.config.model;
    match reference_validated(&model, &prepared.work, &req.config.interrupt) {
        Ok(r) => Ok((r.weights, None)),
        Err(e @ Error::RankDeficient { .. }) if req.allow_rank_deficient => {
            Ok((None, Some(e.text())))
        }
        Err(Error::RankDeficient {
            reference,
            rank,
            cols,
            hint,
        }) if !req.standardize => Err(Error::RankDeficient {
            reference,
            rank,
            cols,
            hint: format!(
                "{hint}; if columns differ greatly in scale or offset, try {}",
                Setting::Standardize.on()
            ),
        }),
        Err(e) => Err(e),
    }
}

/// Stage 3: the step size (`--mu auto`: 1/L, or the optimizer's own rule) and, with a
/// reference at hand, whether `tol` is reachable in the working precision. Returns the
/// settings the descent runs with.
pub fn step_stage(
    prepared: &Prepared,
    req: &FitRequest,
    w_ref: Option<&[f64]>,
    warn: &mut dyn FnMut(Warning),
) -> Result<GdConfig> {
    let (work, stop, model) = (&prepared.work, &req.config.interrupt, req.config.model);
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
            (1.0 - b) / model.smoothness_until(work, stop)?
        }
        Step::Auto => 1.0 / model.smoothness_until(work, stop)?,
        Step::Value(v) => v,
    };
    let cfg = GdConfig {
        mu,
        ..req.config.clone()
    };
    cfg.validate()?;
    if let (Some(tol), Some(w_ref)) = (cfg.tol, w_ref) {
        let floor = gradient_floor(work, model.loss, w_ref, mu, cfg.precision, stop)?;
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
            warn(w);
        }
    }
    Ok(cfg)
}

/// Stage 4: the backend's descent on the working matrix (validated once, in [`prepare`]).
pub fn descend_stage(
    solver: &dyn crate::solver::Solver,
    prepared: &Prepared,
    cfg: &GdConfig,
) -> Result<Fit> {
    let (work, model) = (&prepared.work, cfg.model);
    log::debug!(
        "fitting {}×{} ({} features) on {} in {}: {} loss, {} penalty, {}, mu = {:e}, \
         {} epochs at most",
        work.n(),
        work.p(),
        work.features.precision(),
        solver.name(),
        cfg.precision,
        model.loss.as_str(),
        model.penalty.kind.as_str(),
        cfg.optimizer.kind.as_str(),
        cfg.mu,
        cfg.epochs
    );
    let fit = solver.fit_validated(work, cfg)?;
    log::debug!(
        "{} ran {} epochs in {:.3?} (converged: {}, stalled: {}) on {}",
        fit.backend,
        fit.epochs_run,
        fit.timings.total(),
        fit.converged,
        fit.stalled,
        fit.device
    );
    Ok(fit)
}

/// The reference as [`assess`] takes it: weights in the working coordinates, or why none.
struct Reference {
    weights: Option<Coefficients>,
    note: Option<Text>,
}

/// Optimality figures of a fit on the working matrix, as the check allows.
struct Optimality {
    objective: f64,
    kkt: KktCheck,
    reference_objective: Option<f64>,
    objective_at_zero: f64,
    kkt_at_zero: f64,
}

/// Optimality is judged where the fit was made: the penalty applies to the working
/// (standardized) weights. These are passes over the rows (tens of milliseconds each on a
/// large table), with interrupt checks between them; `none` skips the KKT passes.
fn optimality(
    model: &Model,
    work: &Dataset,
    check: Check,
    w: &[f64],
    w_ref: Option<&[f64]>,
    stop: &Interrupt,
) -> Result<Optimality> {
    stop.check()?;
    let objective = model.objective(work, w);
    let unchecked = KktCheck {
        residual: f64::NAN,
        objective_gap_bound: None,
        distance_bound: None,
    };
    let kkt = match check {
        Check::None => unchecked,
        Check::Kkt => kkt_check(model, work, w),
        _ => KktCheck {
            residual: kkt_residual(model, work, w),
            ..unchecked
        },
    };
    stop.check()?;
    let reference_objective = w_ref.map(|r| model.objective(work, r));
    let zero = vec![0.0; work.p() + 1];
    let objective_at_zero = model.objective(work, &zero);
    stop.check()?;
    let kkt_at_zero = match check {
        Check::None => f64::NAN,
        _ => kkt_residual(model, work, &zero),
    };
    Ok(Optimality {
        objective,
        kkt,
        reference_objective,
        objective_at_zero,
        kkt_at_zero,
    })
}

/// Stage 5: the check after the fit (against the reference, or the KKT conditions), the
/// weights back in original units, the quality measures of the model's kind, and the
/// warning when the fit is far from optimal.
fn assess(
    ds: &Dataset,
    req: &FitRequest,
    prepared: &Prepared,
    cfg: &GdConfig,
    mut fit: Fit,
    reference: Reference,
    warn: &mut dyn FnMut(Warning),
) -> Result<FitOutcome> {
    let (model, stop) = (cfg.model, &cfg.interrupt);
    let reference_kind = match prepared.check {
        Check::Reference => crate::reference::reference_kind(&model),
        _ => ReferenceKind::Kkt,
    };
    let opt = optimality(
        &model,
        &prepared.work,
        prepared.check,
        &fit.weights,
        reference.weights.as_deref(),
        stop,
    )?;
    let unscaled = |w: Coefficients| match prepared.work.features.scaling() {
        Some(s) => unscale(&w, &s.means, &s.stds),
        None => w,
    };
    let reference_weights = reference.weights.map(unscaled);
    fit.weights = unscaled(fit.weights);
    let distance_to_reference = reference_weights.as_ref().map(|r| {
        let top = max_abs(r.iter().copied());
        let d = crate::scalar::max_abs_diff(&fit.weights, r);
        if top > 0.0 {
            d / top
        } else {
            d
        }
    });
    if model == Model::LEAST_SQUARES {
        fit.max_abs_diff_vs_ols = reference_weights
            .as_ref()
            .map(|r| crate::scalar::max_abs_diff(&fit.weights, r));
    }
    let quality = Quality::of(&model, ds, &fit.weights, reference_weights.as_deref(), stop)?;
    if let Some(message) = far_message(req, cfg, &fit, reference_kind, &opt, &quality) {
        warn(Warning {
            kind: "far_from_reference",
            message: Text::new(message),
        });
    }
    Ok(FitOutcome {
        mse: quality.mse,
        r2: quality.r2,
        accuracy: quality.accuracy,
        log_loss: quality.log_loss,
        objective: opt.objective,
        reference_kind,
        check: prepared.check,
        objective_gap_bound: opt.kkt.objective_gap_bound,
        distance_bound: opt.kkt.distance_bound,
        reference: reference_weights,
        reference_objective: opt.reference_objective,
        distance_to_reference,
        kkt_residual: opt.kkt.residual,
        feature_names: ds.feature_names.clone(),
        model,
        optimizer: cfg.optimizer,
        schedule: cfg.schedule,
        mu: cfg.mu,
        reference_mse: quality.reference_mse,
        reference_r2: quality.reference_r2,
        reference_note: reference.note,
        standardized: req.standardize,
        tol: cfg.tol,
        warnings: Vec::new(),
        stages: StageTimings::default(),
        fit,
    })
}

/// The quality measures of the model's kind, in original units on the caller's data.
struct Quality {
    mse: Option<f64>,
    r2: Option<f64>,
    accuracy: Option<f64>,
    log_loss: Option<f64>,
    reference_mse: Option<f64>,
    reference_r2: Option<f64>,
}

impl Quality {
    fn of(
        model: &Model,
        ds: &Dataset,
        w: &[f64],
        w_ref: Option<&[f64]>,
        stop: &Interrupt,
    ) -> Result<Quality> {
        stop.check()?;
        let mut q = Quality {
            mse: None,
            r2: None,
            accuracy: None,
            log_loss: None,
            reference_mse: None,
            reference_r2: None,
        };
        match model.loss {
            Loss::Squared => {
                q.mse = Some(ds.mse(w));
                stop.check()?;
                q.r2 = Some(ds.r2(w));
                if let Some(r) = w_ref {
                    stop.check()?;
                    q.reference_mse = Some(ds.mse(r));
                    stop.check()?;
                    q.reference_r2 = Some(ds.r2(r));
                }
            }
            Loss::Logistic => {
                let yhat = Model::predict(ds, w);
                stop.check()?;
                let right = yhat
                    .iter()
                    .zip(ds.targets.iter())
                    .filter(|(f, y)| (**f >= 0.0) == (**y == 1.0))
                    .count();
                q.accuracy = Some(right as f64 / ds.n() as f64);
                q.log_loss = Some(model.mean_loss(ds, w));
            }
        }
        Ok(q)
    }
}

/// The "far from the reference" warning's text, when the fit is far: against the OLS
/// figures for the article's model, the reference's objective for the other references,
/// else the KKT residual against its value at w = 0; `none` warns of nothing.
fn far_message(
    req: &FitRequest,
    cfg: &GdConfig,
    fit: &Fit,
    reference_kind: ReferenceKind,
    opt: &Optimality,
    q: &Quality,
) -> Option<String> {
    let (objective, kkt, kkt_at_zero) = (opt.objective, opt.kkt.residual, opt.kkt_at_zero);
    let far = match (
        q.mse,
        q.r2,
        q.reference_mse,
        q.reference_r2,
        opt.reference_objective,
    ) {
        (Some(mse), Some(r2), Some(rm), Some(rr), _) if cfg.model == Model::LEAST_SQUARES => {
            far_from_reference(mse, r2, rm, rr).then(|| {
                format!(
                    "is far from the OLS reference (R² {r2:.4} vs {rr:.4}, MSE {mse:.4e} vs \
                     {rm:.4e})"
                )
            })
        }
        (.., Some(jr)) => {
            // Less than 99.9% of the possible decrease of J from w = 0 achieved: the
            // analogue of the R² rule. NaN (a blown-up fit) counts as far.
            let gap = (objective - jr) / (opt.objective_at_zero - jr).max(f64::MIN_POSITIVE);
            (gap.is_nan() || gap > 1e-3).then(|| {
                format!(
                    "is far from the {} reference (objective {objective:.6e} vs {jr:.6e})",
                    reference_kind.as_str()
                )
            })
        }
        _ if kkt_at_zero.is_nan() && kkt.is_nan() && fit.weights.iter().all(|v| v.is_finite()) => {
            None
        }
        _ => (kkt.is_nan() || kkt > 1e-3 * kkt_at_zero).then(|| {
            format!("is far from optimal (KKT residual {kkt:.3e}, vs {kkt_at_zero:.3e} at w = 0)")
        }),
    }?;
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
    Some(format!(
        "the fit {how} {far}; try {}",
        remedies.join(", or ")
    ))
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
