//! `descent reproduce`: the article's experiment (or a named benchmark workload) on every
//! requested backend, each fit checked against its model's reference (OLS for the
//! least-squares workloads, Newton for `logistic` and `minibatch`).

use crate::backend::Backend;
use crate::coefficients::Coefficients;
use crate::config::{GdConfig, Precision};
use crate::data::{self, Dataset, NumpyRandomState, Synthetic};
use crate::error::{Error, Result};
use crate::fitting::{
    descend_stage, prepare, ready_solver, reference_stage, Check, FitRequest, Step,
};
use crate::gpu::AdapterChoice;
use crate::model::{Loss, Model, Penalty, PenaltyKind};
use crate::ols::ols;
use crate::reference::ReferenceKind;
use crate::solver::Fit;
use serde::Serialize;

/// Named workloads shared with the peer scripts in benches/peers/.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkloadKind {
    /// The article: N = 10 000, p = 1, 10 000 epochs, mu = 1e-3.
    Seed,
    /// N = 10⁸, p = 1, 100 epochs, mu = 1e-3 (bandwidth-bound).
    Big,
    /// N = 10⁶, p = 64, 100 epochs, mu = 1e-2, features uniform in [0, 1).
    Wide,
    /// N = 10⁶, p = 32, 100 epochs, logistic loss with an L2 penalty α = [`LOGISTIC_ALPHA`],
    /// mu = [`LOGISTIC_MU`]; standard normal features and Bernoulli labels drawn with numpy's
    /// legacy generator ([`logistic_data`]), so the peers fit the very same numbers.
    Logistic,
    /// The `logistic` workload's data and model (N = 10⁶, p = 32, L2 α = [`LOGISTIC_ALPHA`]),
    /// fitted by mini-batch SGD: batches of [`MINIBATCH_BATCH_SIZE`] rows in the seeded
    /// order of [`crate::model::batches`] (shuffle seed [`MINIBATCH_SHUFFLE_SEED`]), plain
    /// `gd` steps of the constant [`MINIBATCH_MU`], 10 epochs.
    Minibatch,
}

/// Rows per mini-batch of the `minibatch` workload.
pub const MINIBATCH_BATCH_SIZE: usize = 256;

/// The `minibatch` workload's constant SGD step. [`LOGISTIC_MU`] (1/L of the full gradient)
/// is far too long for gradients of 256 rows: at 3.9 the iterates wander at J − J* ≈ 0.05
/// to 0.09; at 0.02 they settle within ~2 epochs at J − J* ≈ 5e-5 (numpy, on this data).
pub const MINIBATCH_MU: f64 = 0.02;

/// Seed of the `minibatch` workload's row order ([`crate::model::batches`]); the peers
/// compute the same order (benches/peers/workloads.py `batch_order`).
pub const MINIBATCH_SHUFFLE_SEED: u64 = 444;

/// α of the `logistic` workload's L2 penalty: J = (1/N)·Σ[log(1 + e^ŷ) − y·ŷ] + α/2·‖w‖²
/// (intercept unpenalized). scikit-learn's equivalent is `C = 1/(α·N)`.
pub const LOGISTIC_ALPHA: f64 = 1e-4;

/// The `logistic` workload's fixed step: 1/L rounded down, where L = λmax((1/N)·AᵀA)/4 + α
/// is the smoothness constant descent computes for this data ([`Model::smoothness`]: L =
/// 0.253038… at N = 10⁶, p = 32, so 1/L = 3.95197…). Fixed, so the peers need no eigensolver.
pub const LOGISTIC_MU: f64 = 3.9;

/// The `logistic` workload's true intercept; the feature weights are
/// [`logistic_true_weights`].
pub const LOGISTIC_TRUE_INTERCEPT: f64 = 0.5;

/// `[b, w1..wp]` of the `logistic` workload's label model: b = 0.5, w_j = +0.5 for odd j and
/// −0.5 for even j (so ‖w‖ = 0.5·√p; x·w ~ N(0.5, p/4)).
pub fn logistic_true_weights(p: usize) -> Coefficients {
    let mut w = Coefficients::zeros(1, p);
    w.intercepts_mut()[0] = LOGISTIC_TRUE_INTERCEPT;
    for (j, wj) in w.matrix_mut().iter_mut().enumerate() {
        *wj = if j % 2 == 0 { 0.5 } else { -0.5 };
    }
    w
}

/// The `logistic` workload's data, bit for bit what benches/peers/workloads.py draws with
/// numpy (no files are exchanged):
///
/// ```text
/// rs = np.random.RandomState(seed)
/// X = rs.randn(n, p)                      # row-major, the legacy polar method
/// u = rs.random_sample(n)
/// z = b + X[:, 0] * w1;  z = z + X[:, j] * w_{j+1} for j = 1..p-1   # column by column, no FMA
/// y = (u < 1.0 / (1.0 + np.exp(-z))).astype(np.float64)
/// ```
///
/// The only operation not pinned to IEEE rounding is `exp` (numpy's versus the C library's);
/// a label could differ only where u lies within an ulp of σ(z) (about 1e-10 for the whole
/// table), and [`logistic_checksum`] on both sides confirms it does not.
pub fn logistic_data(n: usize, p: usize, seed: u32) -> Result<Dataset> {
    if n == 0 || p == 0 {
        return Err(Error::Data(format!(
            "the logistic workload needs n >= 1 and p >= 1 (got n = {n}, p = {p})"
        )));
    }
    let w = logistic_true_weights(p);
    let mut rng = NumpyRandomState::new(seed);
    let x = rng.randn_vec(n * p);
    let y: Vec<f64> = x
        .chunks_exact(p)
        .map(|row| {
            let z = row
                .iter()
                .zip(w.column_weights(0))
                .fold(w.intercept(0), |z, (xj, wj)| z + xj * wj);
            let u = rng.random_sample();
            if u < 1.0 / (1.0 + (-z).exp()) {
                1.0
            } else {
                0.0
            }
        })
        .collect();
    let x = ndarray::Array2::from_shape_vec((n, p), x).map_err(|e| Error::Data(e.to_string()))?;
    Dataset::new(x, ndarray::Array1::from_vec(y))
}

/// An exact fingerprint of a dataset's numbers, computed identically by
/// benches/peers/workloads.py (`checksum`): over the features in row-major order, and over
/// the targets, Σ bits(v_i)·(2i + 1) mod 2⁶⁴ (bits = the f64's IEEE pattern as u64). The odd
/// multipliers make any single changed value change the sum. The plain sums ride along for
/// reading; they depend on summation order (numpy sums pairwise), so only they may differ
/// in the last digits.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Checksum {
    pub features_bits: u64,
    pub targets_bits: u64,
    pub features_sum: f64,
    pub targets_sum: f64,
}

/// [`Checksum`] of `ds`.
pub fn logistic_checksum(ds: &Dataset) -> Checksum {
    fn bits(values: impl Iterator<Item = f64>) -> u64 {
        values.enumerate().fold(0u64, |s, (i, v)| {
            s.wrapping_add(v.to_bits().wrapping_mul(2 * i as u64 + 1))
        })
    }
    Checksum {
        features_bits: bits(ds.features.iter()),
        targets_bits: bits(ds.targets.iter().copied()),
        features_sum: ds.features.iter().sum(),
        targets_sum: ds.targets.iter().sum(),
    }
}

impl std::str::FromStr for WorkloadKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "seed" | "article" => Ok(WorkloadKind::Seed),
            "big" => Ok(WorkloadKind::Big),
            "wide" => Ok(WorkloadKind::Wide),
            "logistic" => Ok(WorkloadKind::Logistic),
            "minibatch" | "mini-batch" => Ok(WorkloadKind::Minibatch),
            other => Err(Error::Config(format!(
                "unknown workload '{other}' (expected seed, big, wide, logistic or minibatch)"
            ))),
        }
    }
}

/// The problem and schedule of one reproduce run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Workload {
    pub name: String,
    pub n: usize,
    pub features: usize,
    pub epochs: usize,
    pub mu: f64,
    pub seed: u64,
    /// Noise of the least-squares targets (0 for `logistic`, whose labels are Bernoulli).
    pub sigma: f64,
    /// The objective every backend minimises (least squares for seed, big and wide).
    pub model: Model,
    /// Rows per mini-batch (None: full-batch gradient descent, every workload but
    /// `minibatch`).
    pub batch_size: Option<usize>,
    /// Seed of the mini-batches' row order (unused by full batches).
    pub shuffle_seed: u64,
}

impl Workload {
    pub fn named(kind: WorkloadKind) -> Self {
        let (name, n, features, epochs, mu) = match kind {
            WorkloadKind::Seed => ("seed", data::ARTICLE_N, 1, 10_000, 1e-3),
            WorkloadKind::Big => ("big", 100_000_000, 1, 100, 1e-3),
            WorkloadKind::Wide => ("wide", 1_000_000, 64, 100, 1e-2),
            WorkloadKind::Logistic => ("logistic", 1_000_000, 32, 100, LOGISTIC_MU),
            WorkloadKind::Minibatch => ("minibatch", 1_000_000, 32, 10, MINIBATCH_MU),
        };
        let (sigma, model) = match kind {
            WorkloadKind::Logistic | WorkloadKind::Minibatch => (
                0.0,
                Model {
                    loss: Loss::Logistic,
                    penalty: Penalty::new(PenaltyKind::L2, Some(LOGISTIC_ALPHA), None)
                        .expect("a valid L2 penalty"),
                },
            ),
            _ => (0.1, Model::LEAST_SQUARES),
        };
        Workload {
            name: name.into(),
            n,
            features,
            epochs,
            mu,
            seed: data::ARTICLE_SEED as u64,
            sigma,
            model,
            batch_size: (kind == WorkloadKind::Minibatch).then_some(MINIBATCH_BATCH_SIZE),
            shuffle_seed: if kind == WorkloadKind::Minibatch {
                MINIBATCH_SHUFFLE_SEED
            } else {
                0
            },
        }
    }

    /// The seed as numpy's legacy generator takes it.
    fn numpy_seed(&self) -> Result<u32> {
        u32::try_from(self.seed).map_err(|_| {
            Error::Config(format!(
                "seed must fit in 32 bits for numpy's generator, got {}",
                self.seed
            ))
        })
    }

    /// The data: [`logistic_data`] for the logistic model; otherwise the article's generator
    /// for one feature (bit-exact numpy), seeded uniform features with true weights 3, 2, 2,
    /// ... for more.
    pub fn dataset(&self) -> Result<Dataset> {
        if self.model.loss == Loss::Logistic {
            return logistic_data(self.n, self.features, self.numpy_seed()?);
        }
        if self.features == 1 {
            return data::article(self.n, self.numpy_seed()?, self.sigma);
        }
        let mut w = vec![2.0; self.features + 1];
        w[0] = 3.0;
        data::synthetic(&Synthetic {
            n: self.n,
            p: self.features,
            true_weights: Some(w),
            sigma: self.sigma,
            seed: self.seed,
        })
        .map(|(ds, _)| ds)
    }
}

/// A backend that was asked for by default but could not run.
#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    pub backend: String,
    pub reason: String,
}

/// One run measured against the model: its objective and its distance to the reference, all
/// in f64 on the workload's data.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunCheck {
    pub backend: String,
    pub precision: Precision,
    /// J(w) of the run's weights (the MSE for the least-squares workloads).
    pub objective: f64,
    /// max |w − w_reference| (absolute), when the reference has weights.
    pub max_abs_diff_vs_reference: Option<f64>,
}

/// Everything `reproduce` prints.
#[derive(Debug, Clone, Serialize)]
pub struct ReproduceReport {
    pub workload: Workload,
    pub precision: Precision,
    /// Plain OLS of the targets. It is the reference (and each run's `max_abs_diff_vs_ols`
    /// is filled) only for the least-squares workloads; for `logistic` it is the
    /// linear-probability fit, kept so the field means the same everywhere.
    pub ols: Coefficients,
    pub runs: Vec<Fit>,
    pub skipped: Vec<Skipped>,
    /// Which reference checks the runs ([`crate::reference::reference`]): OLS for seed, big
    /// and wide, Newton for logistic.
    pub reference: ReferenceKind,
    pub reference_weights: Option<Coefficients>,
    /// J at the reference's weights: the optimum every run descends towards.
    pub reference_objective: Option<f64>,
    /// One per run, in the order of `runs`.
    pub checks: Vec<RunCheck>,
    /// max over every pair of runs of max |w_a − w_b| (None with fewer than two runs).
    pub max_abs_diff_between_backends: Option<f64>,
}

/// Options of one reproduce run.
#[derive(Debug, Clone)]
pub struct ReproduceOptions {
    pub workload: Workload,
    /// None: every backend, with the GPU skipped (and said why) when it cannot run (no
    /// adapter, too little memory, no SHADER_F64 for f64, a batch over its loop budget).
    pub backends: Option<Vec<Backend>>,
    pub precision: Precision,
    pub adapter: AdapterChoice,
}

/// Generate the data, solve the model's reference (OLS, or Newton for logistic), then fit
/// with each backend in turn.
pub fn reproduce(opts: &ReproduceOptions, mut on_run: impl FnMut(&Fit)) -> Result<ReproduceReport> {
    let w = &opts.workload;
    let cfg = GdConfig {
        model: w.model,
        mu: w.mu,
        epochs: w.epochs,
        precision: opts.precision,
        batch_size: w.batch_size,
        shuffle_seed: w.shuffle_seed,
        ..GdConfig::default()
    };
    cfg.validate()?;
    let ds = w.dataset()?;
    // The fitting pipeline's stages: the data prepared (validated) once, the reference solved
    // once, then each backend's descent on them.
    let request = FitRequest {
        backend: Backend::Fused,
        adapter: opts.adapter.clone(),
        step: Step::Value(w.mu),
        standardize: false,
        check: Check::Reference,
        allow_rank_deficient: false,
        strict: false,
        config: cfg.clone(),
    };
    let prepared = prepare(&ds, &request)?;
    let explicit = opts.backends.is_some();
    let backends = opts
        .backends
        .clone()
        .unwrap_or_else(|| Backend::ALL.to_vec());
    let mut skipped = Vec::new();
    // Open and check every backend before any fit: an adapter that is missing or too small
    // is reported at once, not after minutes of CPU rows.
    let mut solvers = Vec::new();
    for b in backends {
        let ready = ready_solver(&prepared, b, &opts.adapter, &cfg);
        match ready {
            Ok(s) => solvers.push(s),
            Err(e) if !explicit => skipped.push(Skipped {
                backend: b.to_string(),
                reason: e.to_string(),
            }),
            Err(e) => return Err(e),
        }
    }
    let model = &w.model;
    let kind = crate::reference::reference_kind(model);
    let (reference_weights, _) = reference_stage(&prepared, &request)?;
    let mut runs = Vec::new();
    for solver in solvers {
        let mut fit = descend_stage(solver.as_ref(), &prepared, &cfg)?;
        // Only an OLS reference fills the runs' `max_abs_diff_vs_ols`.
        if kind == ReferenceKind::Ols {
            fit.max_abs_diff_vs_ols = reference_weights
                .as_ref()
                .map(|r| crate::scalar::max_abs_diff(&fit.weights, r));
        }
        on_run(&fit);
        runs.push(fit);
    }
    let checks = runs
        .iter()
        .map(|f| RunCheck {
            backend: f.backend.clone(),
            precision: f.precision,
            objective: model.objective(&ds, &f.weights),
            max_abs_diff_vs_reference: reference_weights
                .as_ref()
                .map(|r| crate::scalar::max_abs_diff(&f.weights, r)),
        })
        .collect();
    let max_abs_diff_between_backends = runs
        .iter()
        .enumerate()
        .flat_map(|(i, a)| {
            runs[i + 1..]
                .iter()
                .map(move |b| crate::scalar::max_abs_diff(&a.weights, &b.weights))
        })
        .reduce(|m, d| {
            if d.is_nan() || m.is_nan() {
                f64::NAN
            } else {
                m.max(d)
            }
        });
    let ols_weights = match (kind, &reference_weights) {
        (ReferenceKind::Ols, Some(r)) => r.clone(),
        // Not the check here, only the field's content: NaNs when OLS has no unique answer.
        _ => ols(&ds)
            .map(|o| o.weights)
            .unwrap_or_else(|_| Coefficients::zeros(1, ds.p()).map(|_: f64| f64::NAN)),
    };
    Ok(ReproduceReport {
        workload: w.clone(),
        precision: opts.precision,
        ols: ols_weights,
        runs,
        skipped,
        reference: kind,
        reference_objective: reference_weights.as_ref().map(|r| model.objective(&ds, r)),
        reference_weights,
        checks,
        max_abs_diff_between_backends,
    })
}
