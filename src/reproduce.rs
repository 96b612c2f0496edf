//! `descent reproduce`: the article's experiment (or a named benchmark workload) on every
//! requested backend, each fit checked against OLS.

use crate::backend::{make_solver, Backend};
use crate::config::{GdConfig, Precision};
use crate::data::{self, Dataset, Synthetic};
use crate::error::{Error, Result};
use crate::gpu::AdapterChoice;
use crate::ols::ols;
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
}

impl std::str::FromStr for WorkloadKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "seed" | "article" => Ok(WorkloadKind::Seed),
            "big" => Ok(WorkloadKind::Big),
            "wide" => Ok(WorkloadKind::Wide),
            other => Err(Error::Config(format!(
                "unknown workload '{other}' (expected seed, big or wide)"
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
    pub sigma: f64,
}

impl Workload {
    pub fn named(kind: WorkloadKind) -> Self {
        let (name, n, features, epochs, mu) = match kind {
            WorkloadKind::Seed => ("seed", data::ARTICLE_N, 1, 10_000, 1e-3),
            WorkloadKind::Big => ("big", 100_000_000, 1, 100, 1e-3),
            WorkloadKind::Wide => ("wide", 1_000_000, 64, 100, 1e-2),
        };
        Workload {
            name: name.into(),
            n,
            features,
            epochs,
            mu,
            seed: data::ARTICLE_SEED as u64,
            sigma: 0.1,
        }
    }

    /// The data: the article's generator for one feature (bit-exact numpy), seeded uniform
    /// features with true weights 3, 2, 2, ... otherwise.
    pub fn dataset(&self) -> Result<Dataset> {
        if self.features == 1 {
            let seed = u32::try_from(self.seed).map_err(|_| {
                Error::Config(format!(
                    "seed must fit in 32 bits for numpy's generator, got {}",
                    self.seed
                ))
            })?;
            return data::article(self.n, seed, self.sigma);
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

/// Everything `reproduce` prints.
#[derive(Debug, Clone, Serialize)]
pub struct ReproduceReport {
    pub workload: Workload,
    pub precision: Precision,
    pub ols: Vec<f64>,
    pub runs: Vec<Fit>,
    pub skipped: Vec<Skipped>,
}

/// Options of one reproduce run.
#[derive(Debug, Clone)]
pub struct ReproduceOptions {
    pub workload: Workload,
    /// None: every backend, with the GPU skipped (and said why) when it cannot run.
    pub backends: Option<Vec<Backend>>,
    pub precision: Precision,
    pub adapter: AdapterChoice,
}

/// Generate the data, solve OLS, then fit with each backend in turn.
pub fn reproduce(opts: &ReproduceOptions, mut on_run: impl FnMut(&Fit)) -> Result<ReproduceReport> {
    let w = &opts.workload;
    let cfg = GdConfig {
        mu: w.mu,
        epochs: w.epochs,
        precision: opts.precision,
        ..GdConfig::default()
    };
    cfg.validate()?;
    let ds = w.dataset()?;
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
        let ready = make_solver(b, &opts.adapter).and_then(|s| s.preflight(&ds, &cfg).map(|_| s));
        match ready {
            Ok(s) => solvers.push(s),
            Err(e) if !explicit => skipped.push(Skipped {
                backend: b.to_string(),
                reason: e.to_string(),
            }),
            Err(e) => return Err(e),
        }
    }
    let reference = ols(&ds)?;
    let mut runs = Vec::new();
    for solver in solvers {
        let fit = crate::fit_checked(solver.as_ref(), &ds, &cfg, Some(&reference))?;
        on_run(&fit);
        runs.push(fit);
    }
    Ok(ReproduceReport {
        workload: w.clone(),
        precision: opts.precision,
        ols: reference.weights,
        runs,
        skipped,
    })
}
