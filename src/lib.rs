//! # descent
//!
//! Gradient descent (full-batch or mini-batch; gd, momentum, Nesterov, Adam) for linear models,
//! `d ≈ w0 + X·w` with the squared or logistic loss and L1/L2 penalties ([`model`]), on any GPU
//! through wgpu + WGSL compute shaders, with CPU twins for comparison and an f64 reference (OLS,
//! ridge, Newton or the KKT conditions) checked against every fit.
//!
//! ## Layers
//!
//! Each module uses only modules of its own layer or of the layers below it (the unit test
//! `layers::no_module_imports_from_a_layer_above_its_own` reads every `crate::` path in
//! `src/` and fails on an upward one; this table is what it reads):
//!
//! | layer | modules | what |
//! |---|---|---|
//! | 0 | `scalar`, `error`, `names`, `interrupt` | number types and their limits, the error type and how its messages name settings, stopping |
//! | 1 | `data`, `coefficients` | datasets, their sources and generators; a model's K intercepts and p × K weights |
//! | 2 | `model`, `config` | the objective (loss, penalty), optimizers, schedules, settings |
//! | 3 | `engine` | mergeable partial sums and the stepping state machine |
//! | 4 | `solver`, `cpu`, `gpu`, `backend`, `ols`, `reference` | backends and the f64 references |
//! | 5 | `fitting` | the fitting pipeline |
//! | 6 | `report`, `requests`, `reproduce` | reports and requests, the article's job |
//!
//! The command line (`src/main.rs` and `src/cli/`, behind the `cli` feature) and the Python
//! extension (`python/`) sit on top and are separate crates' code.
//!
//! Data flows one way: [`data`] → [`GdConfig::validate`] → a [`Solver`] backend →
//! [`Fit`] → reference check ([`fitting::fit_checked`]) → [`report`].
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
pub mod coefficients;
pub mod config;
pub mod cpu;
pub mod data;
pub mod engine;
pub mod error;
pub mod fitting;
pub mod gpu;
pub mod interrupt;
pub mod model;
pub mod names;
pub mod ols;
pub mod reference;
pub mod report;
pub mod reproduce;
pub mod requests;
pub mod scalar;
pub mod solver;

#[cfg(test)]
mod layers;

pub use backend::{make_solver, Backend};
pub use coefficients::Coefficients;
pub use config::GdConfig;
pub use data::Dataset;
pub use error::{Error, Result};
pub use fitting::fit_checked;
pub use interrupt::Interrupt;
pub use model::{Loss, Model, Penalty, PenaltyKind};
pub use scalar::{max_abs_diff, Precision};
pub use solver::{Fit, Solver, Timings};

/// Compile-time proof that what long-lived callers hold can cross and be shared between
/// threads.
#[allow(dead_code)]
fn assert_send_sync() {
    fn is<T: Send + Sync + ?Sized>() {}
    is::<dyn Solver>();
    is::<Box<dyn Solver>>();
    is::<gpu::GpuSolver>();
    is::<gpu::GpuContext>();
    is::<cpu::Naive>();
    is::<cpu::NdarrayGd>();
    is::<cpu::Fused>();
    is::<Dataset>();
    is::<GdConfig>();
    is::<fitting::FitRequest>();
    is::<fitting::FitOutcome>();
}
