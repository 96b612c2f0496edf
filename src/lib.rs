//! # descent
//!
//! Full-batch gradient descent for linear least squares, `d ≈ w0 + X·w`, on any GPU through
//! wgpu + WGSL compute shaders, with CPU twins for comparison and an f64 OLS reference
//! checked against every fit.
//!
//! Data flows one way: [`data`] → [`GdConfig::validate`] → a [`Solver`] backend →
//! [`Fit`] → OLS check ([`fit_checked`]) → [`report`].
//!
//! ```
//! use descent::{cpu::Fused, data, fit_checked, ols::ols, GdConfig, Solver};
//! let ds = data::article(1_000, 444, 0.1).unwrap();
//! let reference = ols(&ds).unwrap();
//! let cfg = GdConfig { epochs: 100, ..GdConfig::default() };
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
pub mod output;
pub mod reference;
pub mod report;
pub mod reproduce;
pub mod solver;

pub use backend::{make_solver, Backend};
pub use config::{GdConfig, Precision};
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

/// Run `solver` and record the fit's distance to the OLS reference (when one exists).
pub fn fit_checked(
    solver: &dyn Solver,
    data: &Dataset,
    cfg: &GdConfig,
    reference: Option<&ols::Ols>,
) -> Result<Fit> {
    let mut fit = solver.fit(data, cfg)?;
    fit.max_abs_diff_vs_ols = reference.map(|r| max_abs_diff(&fit.weights, &r.weights));
    Ok(fit)
}
