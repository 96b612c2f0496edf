//! The bottom layer: the number types descent computes in and the facts about them that every
//! layer above relies on (one constant each, so the CPU loops, the WGSL assembly and the
//! pipeline's checks cannot drift apart).

use crate::error::{Error, Result};
use serde::Serialize;

/// Floating-point precision of a fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    F32,
    #[default]
    F64,
}

impl Precision {
    pub fn as_str(self) -> &'static str {
        match self {
            Precision::F32 => "f32",
            Precision::F64 => "f64",
        }
    }

    /// The distance from 1 to the next larger value (the unit of rounding error).
    pub fn epsilon(self) -> f64 {
        match self {
            Precision::F32 => f32::EPSILON as f64,
            Precision::F64 => f64::EPSILON,
        }
    }

    /// The largest finite value.
    pub fn max(self) -> f64 {
        match self {
            Precision::F32 => f32::MAX as f64,
            Precision::F64 => f64::MAX,
        }
    }

    /// A weight beyond this magnitude is a blow-up: optimizers that need not be monotone
    /// (momentum, Nesterov, Adam, mini-batches) are stopped as diverged there, on every
    /// backend, before the arithmetic overflows.
    pub fn divergence_limit(self) -> f64 {
        match self {
            Precision::F32 => 1e30,
            Precision::F64 => 1e150,
        }
    }

    /// [`Precision::divergence_limit`] as WGSL source text (the shaders' `LIMIT` constant).
    pub fn divergence_limit_wgsl(self) -> &'static str {
        match self {
            Precision::F32 => "1e30",
            Precision::F64 => "1e150",
        }
    }

    /// Bytes per value.
    pub fn bytes(self) -> usize {
        match self {
            Precision::F32 => 4,
            Precision::F64 => 8,
        }
    }
}

impl std::str::FromStr for Precision {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "f32" => Ok(Precision::F32),
            "f64" => Ok(Precision::F64),
            other => Err(Error::Config(format!(
                "unknown precision '{other}' (expected f32 or f64)"
            ))),
        }
    }
}

impl std::fmt::Display for Precision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Rows per block wherever rows are summed or factored a block at a time (the CPU paths'
/// f64-combined partial sums, the TSQR reference, the smoothness estimate, row-block
/// widening of f32 data): one f32 running sum over 10⁸ rows loses most of its digits, while
/// short blocks keep every partial accurate and a block of a wide table stays a few MiB.
pub const BLOCK_ROWS: usize = 16_384;

mod sealed {
    pub trait Sealed {}
    impl Sealed for f64 {}
    impl Sealed for f32 {}
}

/// The element types data can be stored in: f64 and f32.
pub trait Element: sealed::Sealed + Copy + Into<f64> + Send + Sync + 'static {
    /// The precision this element type is.
    const PRECISION: Precision;
}

impl Element for f64 {
    const PRECISION: Precision = Precision::F64;
}

impl Element for f32 {
    const PRECISION: Precision = Precision::F32;
}

/// The scalar types the CPU paths (and the model's CPU twins of the WGSL) compute in.
pub trait Real:
    num_traits::Float
    + ndarray::LinalgScalar
    + ndarray::ScalarOperand
    + std::iter::Sum
    + std::ops::AddAssign
    + std::ops::SubAssign
    + Send
    + Sync
    + std::fmt::Debug
    + Element
    + 'static
{
    fn from_f64(v: f64) -> Self;
    fn as_f64(self) -> f64;
    /// `v` itself when `Self` is f64 (so f64 targets are read in place).
    fn f64_slice(v: &[f64]) -> Option<&[Self]>;
    /// [`Precision::divergence_limit`] in this type.
    fn divergence_limit() -> Self {
        Self::from_f64(Self::PRECISION.divergence_limit())
    }
}

impl Real for f32 {
    fn from_f64(v: f64) -> Self {
        v as f32
    }
    fn f64_slice(_: &[f64]) -> Option<&[Self]> {
        None
    }
    fn as_f64(self) -> f64 {
        self as f64
    }
}

impl Real for f64 {
    fn from_f64(v: f64) -> Self {
        v
    }
    fn f64_slice(v: &[f64]) -> Option<&[Self]> {
        Some(v)
    }
    fn as_f64(self) -> f64 {
        self
    }
}

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

pub fn round_trip(v: f64) -> String {
    let a = v.abs();
    if v == 0.0 || (1e-4..1e16).contains(&a) || !v.is_finite() {
        format!("{v}")
    } else {
        format!("{v:e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_precision_states_its_limits_once() {
        for p in [Precision::F32, Precision::F64] {
            let lim = p.divergence_limit();
            assert!(lim < p.max() && lim * p.epsilon() > 1.0, "{p}");
            assert_eq!(p.divergence_limit_wgsl().parse::<f64>().unwrap(), lim);
        }
        assert_eq!(f32::divergence_limit(), 1e30f32);
        assert_eq!(f64::divergence_limit(), 1e150);
        assert!(max_abs_diff(&[1.0, f64::NAN], &[1.0, 2.0]).is_nan());
        assert!(max_abs_diff(&[1.0], &[1.0, 2.0]).is_nan());
    }
}
