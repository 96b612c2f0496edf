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
use crate::names::Setting;
use crate::reproduce::{ReproduceOptions, Workload, WorkloadKind};

/// The settings of `descent fit` (and of the Python estimators), as written. With the `cli`
/// feature they are also the command line's options (`clap::Args`): one list of names, help
/// texts and defaults, which a test holds equal to [`FitSettings::default`].
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "cli", derive(clap::Args))]
pub struct FitSettings {
    /// gpu, fused, ndarray or naive.
    #[cfg_attr(feature = "cli", arg(long, default_value = "gpu"))]
    pub backend: String,
    /// squared (y − ŷ)², the article's; or logistic (labels 0/1).
    #[cfg_attr(feature = "cli", arg(long, default_value = "squared"))]
    pub loss: String,
    /// none, l2, l1 or elasticnet: α·[ρ·‖w‖₁ + (1−ρ)/2·‖w‖₂²], intercept not penalized.
    #[cfg_attr(feature = "cli", arg(long, default_value = "none"))]
    pub penalty: String,
    /// The penalty's strength α ≥ 0 (required with a penalty; see the README for
    /// scikit-learn's equivalents).
    #[cfg_attr(feature = "cli", arg(long))]
    pub alpha: Option<f64>,
    /// ρ in [0, 1] for --penalty elasticnet (default 0.5); l2 means 0, l1 means 1.
    #[cfg_attr(feature = "cli", arg(long))]
    pub l1_ratio: Option<f64>,
    /// gd (the article's), momentum, nesterov (accelerated; adaptive restart) or adam.
    #[cfg_attr(feature = "cli", arg(long, default_value = "gd"))]
    pub optimizer: String,
    /// Momentum B in [0, 1) for momentum (default 0.9) or nesterov (default: adaptive
    /// restart, no B needed).
    #[cfg_attr(feature = "cli", arg(long))]
    pub momentum: Option<f64>,
    /// Adam's β1 in [0, 1) (default 0.9).
    #[cfg_attr(feature = "cli", arg(long))]
    pub beta1: Option<f64>,
    /// Adam's β2 in [0, 1) (default 0.999).
    #[cfg_attr(feature = "cli", arg(long))]
    pub beta2: Option<f64>,
    /// Adam's ε > 0 (default 1e-8).
    #[cfg_attr(feature = "cli", arg(long))]
    pub eps: Option<f64>,
    /// Step schedule: constant, invscaling (mu/t^power_t) or adaptive (mu ÷ 5 whenever the
    /// loss stalls for --n-iter-no-change epochs), as in scikit-learn's SGD.
    #[cfg_attr(feature = "cli", arg(long, default_value = "constant"))]
    pub lr_schedule: String,
    /// Exponent of invscaling (default 0.25).
    #[cfg_attr(feature = "cli", arg(long))]
    pub power_t: Option<f64>,
    /// Stop once the epoch loss has not improved on its best by more than --loss-tol for
    /// K epochs in a row (adaptive: divide the step instead; default 5 there).
    #[cfg_attr(feature = "cli", arg(long, value_name = "K"))]
    pub n_iter_no_change: Option<usize>,
    /// The improvement --n-iter-no-change asks for (default 0: any decrease counts).
    #[cfg_attr(feature = "cli", arg(long, default_value_t = 0.0))]
    pub loss_tol: f64,
    /// Rows per mini-batch (default: all rows, full-batch gradient descent). Each epoch
    /// visits a seeded permutation of the rows; the last batch may be short.
    #[cfg_attr(feature = "cli", arg(long))]
    pub batch_size: Option<usize>,
    /// Seed of the mini-batch order (the same seed gives the same weights on every backend).
    #[cfg_attr(feature = "cli", arg(long, default_value_t = 0))]
    pub shuffle_seed: u64,
    /// f32 or f64.
    #[cfg_attr(feature = "cli", arg(long, default_value = "f64"))]
    pub precision: String,
    /// Step size, or `auto` (1/L from the data).
    #[cfg_attr(feature = "cli", arg(long, default_value = "auto"))]
    pub mu: String,
    /// Maximum epochs.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = 10_000))]
    pub epochs: usize,
    /// Stop once the gradient norm is below this (checked every --check-every epochs).
    #[cfg_attr(feature = "cli", arg(long))]
    pub tol: Option<f64>,
    /// Epochs between tolerance checks (on the GPU, on the device).
    #[cfg_attr(feature = "cli", arg(long, default_value_t = 64))]
    pub check_every: usize,
    /// Fit on standardized features; weights are reported in original units.
    #[cfg_attr(feature = "cli", arg(long))]
    pub standardize: bool,
    /// What checks the fit: reference (solve the model's f64 reference and compare), kkt
    /// (the optimality residual in one pass, with bounds on J − J* where the model allows),
    /// none, or auto (reference while rows·(features+1)² ≤ 2.5e8, kkt beyond).
    #[cfg_attr(feature = "cli", arg(long, default_value = "auto"))]
    pub check: String,
    /// Fit even when the reference (OLS, or Newton for an unpenalized logistic loss) is
    /// rank-deficient (no reference check then).
    #[cfg_attr(feature = "cli", arg(long))]
    pub allow_rank_deficient: bool,
    /// Treat warnings (an unreachable --tol, a fit far from its reference) as errors: exit
    /// code 2, and no output files are written.
    #[cfg_attr(feature = "cli", arg(long))]
    pub strict: bool,
    /// Keep the loss history (the CLI sets it for --loss-csv and --plot).
    #[cfg_attr(feature = "cli", arg(skip))]
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
            check: "auto".into(),
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
            check: self.check.parse()?,
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

/// The settings of `descent reproduce`, as written; `None` keeps the workload's own. With
/// the `cli` feature they are also the command line's options, as [`FitSettings`] are.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "cli", derive(clap::Args))]
pub struct ReproduceSettings {
    /// Named workload: seed (the article), big (N=1e8, 100 epochs), wide (N=1e6, p=64),
    /// logistic (N=1e6, p=32, 100 epochs, L2; checked against Newton), minibatch (the
    /// logistic data and model by mini-batch SGD: B=256, 10 epochs, mu=0.02).
    #[cfg_attr(feature = "cli", arg(long, default_value = "seed"))]
    pub workload: String,
    /// Number of samples (overrides the workload's).
    #[cfg_attr(feature = "cli", arg(long))]
    pub n: Option<usize>,
    /// Number of features (overrides the workload's).
    #[cfg_attr(feature = "cli", arg(long))]
    pub features: Option<usize>,
    /// Epochs (overrides the workload's).
    #[cfg_attr(feature = "cli", arg(long))]
    pub epochs: Option<usize>,
    /// Step size (overrides the workload's).
    #[cfg_attr(feature = "cli", arg(long))]
    pub mu: Option<f64>,
    /// Random seed (numpy's legacy seed for one feature).
    #[cfg_attr(feature = "cli", arg(long))]
    pub seed: Option<u64>,
    /// Rows per mini-batch (overrides the workload's; full batches unless minibatch).
    #[cfg_attr(feature = "cli", arg(long))]
    pub batch_size: Option<usize>,
    /// Seed of the mini-batch order (overrides the workload's).
    #[cfg_attr(feature = "cli", arg(long))]
    pub shuffle_seed: Option<u64>,
    /// Comma-separated backends: naive,ndarray,fused,gpu (default: all; gpu skipped
    /// with a reason when no adapter can run it).
    #[cfg_attr(feature = "cli", arg(long))]
    pub backends: Option<String>,
    /// f32 or f64.
    #[cfg_attr(feature = "cli", arg(long, default_value = "f64"))]
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
            return Err(Error::Config(format!(
                "{} must be at least 1",
                Setting::N.named()
            )));
        }
        if w.features == 0 {
            return Err(Error::Config(format!(
                "{} must be at least 1",
                Setting::Features.named()
            )));
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

#[cfg(all(test, feature = "cli"))]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Fit {
        #[command(flatten)]
        settings: FitSettings,
    }

    #[derive(Parser)]
    struct Reproduce {
        #[command(flatten)]
        settings: ReproduceSettings,
    }

    /// The command line's defaults are the library's: a flag left out means what a
    /// front end that builds the settings itself (Python) gets from `default()`.
    #[test]
    fn the_command_lines_defaults_are_the_settings_defaults() {
        assert_eq!(Fit::parse_from(["fit"]).settings, FitSettings::default());
        assert_eq!(
            Reproduce::parse_from(["reproduce"]).settings,
            ReproduceSettings::default()
        );
        let s = Fit::parse_from([
            "fit",
            "--backend",
            "fused",
            "--alpha",
            "0.5",
            "--standardize",
        ])
        .settings;
        assert_eq!(
            (s.backend.as_str(), s.alpha, s.standardize),
            ("fused", Some(0.5), true)
        );
    }
}
