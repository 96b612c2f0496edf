//! One error type for the whole library: every user-facing failure is a variant with a
//! message that fits on one line, so a front end can show it and stop.
//!
//! Messages name the settings a caller may change (`mu`, `standardize`, ...) as marked
//! [`Mention`](crate::names::Mention)s, which each front end writes in its own words:
//! [`Error::render`] with the command line's flags or Python's keyword arguments; `Display`
//! is the library's own rendering (the settings' neutral names). The `String` payloads may
//! hold such marks: read them through `Display` or [`Error::render`], not directly.

use crate::names::{Setting, Text, Vocabulary};
use std::fmt;

/// Everything that can go wrong in descent. Each variant is what a caller matches on to act:
/// fix a setting ([`Error::Config`]) or the data ([`Error::Data`]), accept a fit without a
/// reference ([`Error::RankDeficient`]), choose a smaller step ([`Error::Diverged`]), another
/// adapter or backend ([`Error::Adapter`], [`Error::Unsupported`], [`Error::TooLarge`]).
#[derive(Debug)]
pub enum Error {
    /// A setting is out of range or inconsistent; checked before any work starts.
    Config(String),
    /// The dataset is unusable (empty, non-finite values, shape mismatch, ...).
    Data(String),
    /// The model's reference has no unique answer because `[1 X]` is rank-deficient: the fit
    /// can still run (with `allow_rank_deficient`), with nothing to check it against.
    RankDeficient {
        /// Which reference: `"OLS"` or `"Newton"` (the names of
        /// [`crate::reference::ReferenceKind::name`]; ridge is never rank-deficient).
        reference: &'static str,
        rank: usize,
        cols: usize,
        /// Why, in the data's terms (a constant column, two identical ones, ...).
        hint: String,
    },
    /// Gradient descent blew up: weights or loss became non-finite or exploded.
    Diverged { epoch: usize },
    /// No GPU adapter could be found or the requested one does not exist.
    Adapter(String),
    /// The adapter lacks a capability this run needs (e.g. SHADER_F64), or the GPU backend
    /// cannot run this shape.
    Unsupported(String),
    /// The problem does not fit the adapter's buffer limits.
    TooLarge {
        adapter: String,
        what: String,
        bytes: u64,
        limit: u64,
    },
    /// A wgpu operation failed at run time (device lost, validation, out of memory).
    Gpu(String),
    /// A warning under `strict`: the run was refused or its result rejected.
    Strict(String),
    /// The caller stopped the fit through its [`crate::interrupt::Interrupt`] (Ctrl-C in Python).
    Interrupted,
    /// Reading or writing a file failed.
    Io { path: String, message: String },
}

/// Shorthand used across the crate.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// An I/O failure on `path`.
    pub fn io(path: impl fmt::Display, err: impl fmt::Display) -> Self {
        Error::Io {
            path: path.to_string(),
            message: err.to_string(),
        }
    }

    /// The one-line message, its mentions of settings still marked.
    pub fn text(&self) -> Text {
        Text::new(match self {
            Error::Config(m) => format!("invalid configuration: {m}"),
            Error::Data(m) => format!("invalid data: {m}"),
            Error::RankDeficient {
                reference,
                rank,
                cols,
                hint,
            } => format!(
                "the {reference} reference is rank-deficient: [1 X] has rank {rank} but {cols} \
                 columns ({hint}); gradient descent may still run but has no unique answer to \
                 check against"
            ),
            Error::Diverged { epoch } => format!(
                "gradient descent diverged at epoch {epoch} (the gradient norm grew past twice \
                 its starting value, or the weights became non-finite): the step is too large; \
                 use a smaller {}, `{}`, or `{}`",
                Setting::Mu.named(),
                Setting::Mu.is("auto"),
                Setting::Standardize.on()
            ),
            Error::Adapter(m) | Error::Unsupported(m) => m.clone(),
            Error::TooLarge {
                adapter,
                what,
                bytes,
                limit,
            } => format!(
                "data too large for adapter '{adapter}': {what} needs {bytes} bytes but the \
                 limit is {limit} bytes"
            ),
            Error::Gpu(m) => format!("GPU error: {m}"),
            Error::Strict(m) => format!("{}: {m}", Setting::Strict.named()),
            Error::Interrupted => "interrupted".into(),
            Error::Io { path, message } => format!("{path}: {message}"),
        })
    }

    /// The message with the settings it names written in `vocabulary`'s words (the command
    /// line's flags, Python's keyword arguments).
    pub fn render(&self, vocabulary: &dyn Vocabulary) -> String {
        self.text().render(vocabulary)
    }
}

/// The library's rendering: settings by their neutral names (`mu`, `standardize = true`).
impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.text(), f)
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_settings_neutrally_and_never_shows_a_mark() {
        let diverged = Error::Diverged { epoch: 7 }.to_string();
        assert!(
            diverged.ends_with("use a smaller mu, `mu = auto`, or `standardize = true`"),
            "{diverged}"
        );
        let strict = Error::Strict(format!("{} is too small", Setting::Tol.literal("1e-20")));
        assert_eq!(strict.to_string(), "strict: tol = 1e-20 is too small");
        for e in [diverged, strict.to_string()] {
            assert!(!e.contains("--"), "{e}");
            assert!(
                !e.chars().any(|c| ('\u{E000}'..='\u{E003}').contains(&c)),
                "{e:?}"
            );
        }
    }

    #[test]
    fn rank_deficiency_names_its_reference() {
        let e = Error::RankDeficient {
            reference: "Newton",
            rank: 2,
            cols: 3,
            hint: "columns 'a' and 'b' are identical".into(),
        };
        assert!(
            e.to_string()
                .starts_with("the Newton reference is rank-deficient: [1 X] has rank 2 but 3"),
            "{e}"
        );
    }
}
