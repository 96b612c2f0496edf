//! # descent
//!
//! Gradient descent (full-batch or mini-batch; gd, momentum, Nesterov, Adam) for linear models,
//! `d ≈ w0 + X·w` with the squared or logistic loss and L1/L2 penalties ([`model`]), on any GPU
//! through wgpu + WGSL compute shaders, with CPU twins for comparison and an f64 reference (OLS,
//! ridge, Newton or the KKT conditions) checked against every fit.
//!
//! Data flows one way: [`data`] → [`GdConfig::validate`] → a [`Solver`] backend →
//! [`Fit`] → reference check ([`fit_checked`]) → [`report`].
//!
//! ```
//! use descent::{cpu::Fused, data, fit_checked, reference::reference, GdConfig, Solver};
//! let ds = data::article(1_000, 444, 0.1).unwrap();
//! let cfg = GdConfig { epochs: 100, ..GdConfig::default() };
//! let reference = reference(&cfg.model, &ds).unwrap(); // OLS for the article's model
//! let fit = fit_checked(&Fused, &ds, &cfg, Some(&reference)).unwrap();
//! assert_eq!(fit.epochs_run, 100);
//! assert!(fit.max_abs_diff_vs_ols.unwrap() < 3.0);
//! ```

pub mod backend;
pub mod config;
pub mod cpu;
pub mod data;
pub mod error;
pub mod fitting;
pub mod gpu;
pub mod model;
pub mod ols;
#[cfg(feature = "cli")]
pub mod output;
pub mod reference;
pub mod report;
pub mod reproduce;
pub mod requests;
pub mod solver;

pub use backend::{make_solver, Backend};
pub use config::{GdConfig, Interrupt, Precision};
pub use data::Dataset;
pub use error::{Error, Result};
pub use model::{Loss, Model, Penalty, PenaltyKind};
pub use solver::{Fit, Solver, Timings};

/// max |a_i − b_i| (NaN if any difference is NaN or the lengths differ).
pub fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    if a.len() != b.len() {
        return f64::NAN;
    }
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, |m, v| {
            if v.is_nan() || m.is_nan() {
                f64::NAN
            } else {
                m.max(v)
            }
        })
}

/// Run `solver` and check the fit against whichever reference applies to its model
/// ([`reference::reference`]): `max_abs_diff_vs_ols` is filled for an OLS reference; a
/// reference of another kind must belong to `cfg`'s model, or it is an error (a ridge
/// answer is no yardstick for a lasso fit).
pub fn fit_checked(
    solver: &dyn Solver,
    data: &Dataset,
    cfg: &GdConfig,
    reference: Option<&reference::Reference>,
) -> Result<Fit> {
    if let Some(r) = reference {
        let wanted = reference::reference_kind(&cfg.model);
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
        .filter(|r| r.kind == reference::ReferenceKind::Ols)
        .and_then(|r| r.weights.as_ref())
        .map(|w| max_abs_diff(&fit.weights, w));
    Ok(fit)
}
