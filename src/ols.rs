//! The reference answer: ordinary least squares in f64 through faer.
//!
//! Rows are streamed through a tall-skinny QR (TSQR): each block `[1 X d]` is stacked
//! under the running triangular factor and re-factored, so memory stays O(block · p) even
//! for 10⁸ rows, and accuracy is that of Householder QR (no normal equations).

use crate::coefficients::Coefficients;
use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::interrupt::Interrupt;
use faer::linalg::solvers::SolveLstsq;
use faer::Mat;

// Rows per TSQR block (the shared row block): large enough for faer's blocked kernels,
// small enough for cache.
pub(crate) use crate::scalar::BLOCK_ROWS;

/// The OLS solution of `d ≈ w0 + X·w`.
#[derive(Debug, Clone, PartialEq)]
pub struct Ols {
    /// `[w0, w1..wp]` (one output).
    pub weights: Coefficients,
    /// Residual sum of squares of the solution.
    pub rss: f64,
    /// 2-norm condition number of `[1 X]`.
    pub condition: f64,
}

/// Solve OLS; a rank-deficient `[1 X]` is an error that says why, never garbage.
pub fn ols(data: &Dataset) -> Result<Ols> {
    data.validate()?;
    ols_until(data, &Interrupt::default())
}

/// [`ols`] on data the caller has validated, returning [`Error::Interrupted`] within a block
/// of rows once `stop` is set.
pub(crate) fn ols_until(data: &Dataset, stop: &Interrupt) -> Result<Ols> {
    data.validate_shape()?;
    let (n, p) = (data.n(), data.p());
    let r = tsqr_r(data, stop)?;
    let k = r.nrows().min(p + 1);
    // The small system R[:, ..p+1] w = R[:, p+1] has the same least-squares solution.
    let a = r.get(..k, ..p + 1).to_owned();
    let b = r.get(..k, p + 1..p + 2).to_owned();
    let rss_tail = if r.nrows() > p + 1 {
        r[(p + 1, p + 1)].powi(2)
    } else {
        0.0
    };

    let sv = a
        .singular_values()
        .map_err(|e| Error::Data(format!("SVD failed: {e:?}")))?;
    let smax = sv.first().copied().unwrap_or(0.0);
    let tol = smax * (n.max(p + 1) as f64) * f64::EPSILON;
    let rank = sv.iter().filter(|&&s| s > tol).count();
    if rank < p + 1 {
        return Err(Error::RankDeficient {
            reference: crate::reference::ReferenceKind::Ols.name(),
            rank,
            cols: p + 1,
            hint: rank_hint(data),
        });
    }
    let smin = sv.last().copied().unwrap_or(0.0);
    let w = a.col_piv_qr().solve_lstsq(&b);
    let weights = Coefficients::single((0..=p).map(|i| w[(i, 0)]).collect())?;
    Ok(Ols {
        weights,
        rss: rss_tail,
        condition: smax / smin,
    })
}

/// The triangular factor R of `[1 X d]` (n × (p+2)) by streamed TSQR: each block of
/// [`BLOCK_ROWS`] rows is stacked under the running R and re-factored by Householder QR, so
/// memory stays O(block · p) and `RᵀR = [1 X d]ᵀ[1 X d]` holds to QR accuracy without ever
/// forming that product. R has min(n, p+2) rows. Because `[1 X d] = Q·R` with orthonormal
/// columns in Q, ‖[1 X]w − d‖² = ‖R[:, ..p+1]·w − R[:, p+1]‖² exactly for every w, so every
/// least-squares problem on the data (OLS, ridge) can be solved on the small R alone.
/// The caller validates `data` (n ≥ 1, p ≥ 1). `stop` is looked at before every block (a
/// few milliseconds each), so a long factorisation can be interrupted.
pub(crate) fn tsqr_r(data: &Dataset, stop: &Interrupt) -> Result<Mat<f64>> {
    let (n, p) = (data.n(), data.p());
    let cols = p + 2; // intercept, features, target
    let mut r: Option<Mat<f64>> = None;
    let mut start = 0;
    while start < n {
        stop.check()?;
        let end = (start + BLOCK_ROWS).min(n);
        let carried = r.as_ref().map_or(0, |m| m.nrows());
        // Values are read (f32 ones widened) straight into the block to factor: a widened
        // copy of the rows first would be one more block of memory.
        let block = Mat::<f64>::from_fn(carried + end - start, cols, |i, j| {
            if i < carried {
                r.as_ref().expect("carried rows come from r")[(i, j)]
            } else {
                let row = start + i - carried;
                match j {
                    0 => 1.0,
                    j if j <= p => data.features.get(row, j - 1),
                    _ => data.targets[row],
                }
            }
        });
        r = Some(block.qr().thin_R().to_owned());
        start = end;
    }
    Ok(r.expect("n >= 1 so at least one block"))
}

/// Explain a rank deficiency in the user's terms.
fn rank_hint(data: &Dataset) -> String {
    let (n, p) = (data.n(), data.p());
    if n < p + 1 {
        return format!("fewer rows ({n}) than columns ({})", p + 1);
    }
    let col = |j| data.features.column(j);
    for j in 0..p {
        let first = data.features.get(0, j);
        if col(j).all(|v| v == first) {
            return format!("column '{}' is constant", data.feature_names[j]);
        }
    }
    for a in 0..p {
        for b in a + 1..p {
            if col(a).eq(col(b)) {
                return format!(
                    "columns '{}' and '{}' are identical",
                    data.feature_names[a], data.feature_names[b]
                );
            }
        }
    }
    "some columns are linear combinations of others".into()
}
