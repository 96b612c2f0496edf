//! Requests as users write them — names and numbers, the way the CLI's options and the
//! Python estimators' keyword arguments give them — turned into the library's typed
//! requests. One parser for every front end, so a setting means the same thing and a bad
//! one is refused with the same one-line message everywhere.

use crate::backend::Backend;
use crate::config::{GdConfig, Precision};
use crate::error::{Error, Result};
use crate::fitting::FitRequest;
use crate::gpu::AdapterChoice;
use crate::model::{Model, Optimizer, Penalty, Schedule};
use crate::reproduce::{ReproduceOptions, Workload, WorkloadKind};

/// The settings of `descent fit` (and of the Python estimators), as written.
#[derive(Debug, Clone, PartialEq)]
pub struct FitSettings {
    /// gpu, fused, ndarray or naive.
    pub backend: String,
    /// squared or logistic.
    pub loss: String,
    /// none, l2, l1 or elasticnet.
    pub penalty: String,
    pub alpha: Option<f64>,
    pub l1_ratio: Option<f64>,
    /// gd, momentum, nesterov or adam.
    pub optimizer: String,
    pub momentum: Option<f64>,
    pub beta1: Option<f64>,
    pub beta2: Option<f64>,
    pub eps: Option<f64>,
    /// constant, invscaling or adaptive.
    pub lr_schedule: String,
    pub power_t: Option<f64>,
    pub n_iter_no_change: Option<usize>,
    pub loss_tol: f64,
    pub batch_size: Option<usize>,
    pub shuffle_seed: u64,
    /// f32 or f64.
    pub precision: String,
    /// A number or `auto`.
    pub mu: String,
    pub epochs: usize,
    pub tol: Option<f64>,
    pub check_every: usize,
    pub standardize: bool,
    pub allow_rank_deficient: bool,
    pub strict: bool,
    pub record_loss: bool,
}

impl Default for FitSettings {
    /// The CLI's defaults.
    fn default() -> Self {
        FitSettings {
            backend: "gpu".into(),
            loss: "squared".into(),
            penalty: "none".into(),
            alpha: None,
            l1_ratio: None,
            optimizer: "gd".into(),
            momentum: None,
            beta1: None,
            beta2: None,
            eps: None,
            lr_schedule: "constant".into(),
            power_t: None,
            n_iter_no_change: None,
            loss_tol: 0.0,
            batch_size: None,
            shuffle_seed: 0,
            precision: "f64".into(),
            mu: "auto".into(),
            epochs: 10_000,
            tol: None,
            check_every: 64,
            standardize: false,
            allow_rank_deficient: false,
            strict: false,
            record_loss: false,
        }
    }
}

impl FitSettings {
    /// The typed request, every setting checked.
    pub fn request(&self, adapter: AdapterChoice) -> Result<FitRequest> {
        let request = FitRequest {
            backend: self.backend.parse()?,
            adapter,
            step: self.mu.parse()?,
            standardize: self.standardize,
            allow_rank_deficient: self.allow_rank_deficient,
            strict: self.strict,
            config: GdConfig {
                model: Model {
                    loss: self.loss.parse()?,
                    penalty: Penalty::new(self.penalty.parse()?, self.alpha, self.l1_ratio)?,
                },
                optimizer: Optimizer::new(
                    self.optimizer.parse()?,
                    self.momentum,
                    self.beta1,
                    self.beta2,
                    self.eps,
                )?,
                schedule: Schedule::new(self.lr_schedule.parse()?, self.power_t)?,
                n_iter_no_change: self.n_iter_no_change,
                loss_tol: self.loss_tol,
                batch_size: self.batch_size,
                shuffle_seed: self.shuffle_seed,
                epochs: self.epochs,
                precision: self.precision.parse()?,
                record_loss: self.record_loss,
                tol: self.tol,
                check_every: self.check_every,
                ..GdConfig::default()
            },
        };
        request.config.validate()?;
        Ok(request)
    }
}

/// The settings of `descent reproduce`, as written; `None` keeps the workload's own.
#[derive(Debug, Clone, PartialEq)]
pub struct ReproduceSettings {
    /// seed, big, wide, logistic or minibatch.
    pub workload: String,
    pub n: Option<usize>,
    pub features: Option<usize>,
    pub epochs: Option<usize>,
    pub mu: Option<f64>,
    pub seed: Option<u64>,
    /// Mini-batch size (the `minibatch` workload's 256 unless given).
    pub batch_size: Option<usize>,
    pub shuffle_seed: Option<u64>,
    /// Comma-separated backends (None: all of them).
    pub backends: Option<String>,
    /// f32 or f64.
    pub precision: String,
}

impl Default for ReproduceSettings {
    fn default() -> Self {
        ReproduceSettings {
            workload: "seed".into(),
            n: None,
            features: None,
            epochs: None,
            mu: None,
            seed: None,
            batch_size: None,
            shuffle_seed: None,
            backends: None,
            precision: "f64".into(),
        }
    }
}

impl ReproduceSettings {
    /// The typed options. Any change to the named workload makes it another experiment: it
    /// is labelled `custom` and never compared with the article's printed figures.
    pub fn options(&self, adapter: AdapterChoice) -> Result<ReproduceOptions> {
        let kind: WorkloadKind = self.workload.parse()?;
        let named = Workload::named(kind);
        let mut w = named.clone();
        w.n = self.n.unwrap_or(w.n);
        w.features = self.features.unwrap_or(w.features);
        w.epochs = self.epochs.unwrap_or(w.epochs);
        w.mu = self.mu.unwrap_or(w.mu);
        w.seed = self.seed.unwrap_or(w.seed);
        w.batch_size = self.batch_size.or(w.batch_size);
        w.shuffle_seed = self.shuffle_seed.unwrap_or(w.shuffle_seed);
        if w != named {
            w.name = "custom".into();
        }
        if w.n == 0 {
            return Err(Error::Config("--n must be at least 1".into()));
        }
        if w.features == 0 {
            return Err(Error::Config("--features must be at least 1".into()));
        }
        Ok(ReproduceOptions {
            workload: w,
            backends: self
                .backends
                .as_deref()
                .map(Backend::parse_list)
                .transpose()?,
            precision: self.precision.parse::<Precision>()?,
            adapter,
        })
    }
}

/// `--adapter INDEX|NAME`, or the automatic choice when absent.
pub fn adapter_choice(adapter: Option<&str>) -> Result<AdapterChoice> {
    adapter.map_or(Ok(AdapterChoice::Auto), str::parse)
}
