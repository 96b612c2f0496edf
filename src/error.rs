//! One error type for the whole library: every user-facing failure is a variant with a
//! message that fits on one line, so the CLI can print it and exit non-zero.

use thiserror::Error;

/// Everything that can go wrong in descent.
#[derive(Debug, Error)]
pub enum Error {
    /// A `GdConfig` field is out of range; checked before any work starts.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The dataset is unusable (empty, non-finite values, shape mismatch, ...).
    #[error("invalid data: {0}")]
    Data(String),
    /// The OLS reference cannot be computed because `[1 X]` is rank-deficient.
    #[error(
        "the OLS reference is rank-deficient: [1 X] has rank {rank} but {cols} columns \
         ({hint}); gradient descent may still run but has no unique answer to check against"
    )]
    RankDeficient {
        rank: usize,
        cols: usize,
        hint: String,
    },
    /// Gradient descent blew up: weights or loss became non-finite or exploded.
    #[error(
        "gradient descent diverged at epoch {epoch} (the gradient norm grew past twice its \
         starting value, or the weights became non-finite): the step is too large; use a \
         smaller --mu, `--mu auto`, or `--standardize`"
    )]
    Diverged { epoch: usize },
    /// No GPU adapter could be found or the requested one does not exist.
    #[error("{0}")]
    Adapter(String),
    /// The adapter lacks a capability this run needs (e.g. SHADER_F64).
    #[error("{0}")]
    Unsupported(String),
    /// The problem does not fit the adapter's buffer limits.
    #[error(
        "data too large for adapter '{adapter}': {what} needs {bytes} bytes but the limit is \
         {limit} bytes"
    )]
    TooLarge {
        adapter: String,
        what: String,
        bytes: u64,
        limit: u64,
    },
    /// A wgpu operation failed at run time (device lost, validation, out of memory).
    #[error("GPU error: {0}")]
    Gpu(String),
    /// A warning under `--strict`: the run was refused or its result rejected.
    #[error("--strict: {0}")]
    Strict(String),
    /// The caller stopped the fit through its [`crate::interrupt::Interrupt`] (Ctrl-C in Python).
    #[error("interrupted")]
    Interrupted,
    /// Reading or writing a file failed.
    #[error("{path}: {message}")]
    Io { path: String, message: String },
}

/// Shorthand used across the crate.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// An I/O failure on `path`.
    pub fn io(path: impl std::fmt::Display, err: impl std::fmt::Display) -> Self {
        Error::Io {
            path: path.to_string(),
            message: err.to_string(),
        }
    }
}
