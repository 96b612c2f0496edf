//! Problem generators: the article's exact data and seeded random regression problems.

use super::{Dataset, NumpyRandomState};
use crate::error::{Error, Result};
use ndarray::{Array1, Array2};
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, Normal, StandardUniform};

/// The article's sample count.
pub const ARTICLE_N: usize = 10_000;
/// The article's `np.random.seed`.
pub const ARTICLE_SEED: u32 = 444;

/// `np.linspace(start, stop, n)`: `start + i * step`, with the last point exactly `stop`.
pub fn linspace(start: f64, stop: f64, n: usize) -> Vec<f64> {
    match n {
        0 => Vec::new(),
        1 => vec![start],
        _ => {
            let step = (stop - start) / (n - 1) as f64;
            let mut v: Vec<f64> = (0..n).map(|i| start + i as f64 * step).collect();
            v[n - 1] = stop;
            v
        }
    }
}

/// The article's data, bit for bit: `np.random.seed(seed); noise = sigma*np.random.randn(n);
/// x = np.linspace(0, 2, n); d = 3 + 2*x + noise` (the article uses n = 10 000, seed 444,
/// sigma = 0.1).
pub fn article(n: usize, seed: u32, sigma: f64) -> Result<Dataset> {
    if n == 0 {
        return Err(Error::Data("n must be at least 1".into()));
    }
    let mut rng = NumpyRandomState::new(seed);
    let noise: Vec<f64> = rng.randn_vec(n).into_iter().map(|z| sigma * z).collect();
    let x = linspace(0.0, 2.0, n);
    let d: Vec<f64> = x
        .iter()
        .zip(&noise)
        .map(|(x, e)| 3.0 + 2.0 * x + e)
        .collect();
    Dataset::from_xy(&x, &d)
}

/// A seeded random problem: features uniform in [0, 1), `d = w_true[0] + X·w_true[1..] +
/// sigma·N(0, 1)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Synthetic {
    pub n: usize,
    pub p: usize,
    /// [intercept, w1..wp]; when `None`, drawn from N(0, 1) with the same seed.
    pub true_weights: Option<Vec<f64>>,
    pub sigma: f64,
    pub seed: u64,
}

/// Generate a [`Synthetic`] problem; returns the dataset and the true weights.
pub fn synthetic(spec: &Synthetic) -> Result<(Dataset, Vec<f64>)> {
    if spec.n == 0 || spec.p == 0 {
        return Err(Error::Data(format!(
            "synthetic problems need n >= 1 and p >= 1 (got n = {}, p = {})",
            spec.n, spec.p
        )));
    }
    if !spec.sigma.is_finite() || spec.sigma < 0.0 {
        return Err(Error::Data(format!(
            "noise sigma must be finite and >= 0, got {}",
            spec.sigma
        )));
    }
    let mut rng = rand::rngs::StdRng::seed_from_u64(spec.seed);
    let normal = Normal::new(0.0, 1.0).expect("unit normal is valid");
    let w = match &spec.true_weights {
        Some(w) if w.len() == spec.p + 1 => w.clone(),
        Some(w) => {
            return Err(Error::Data(format!(
                "{} true weights given for p = {} (need p + 1)",
                w.len(),
                spec.p
            )))
        }
        None => (0..=spec.p).map(|_| normal.sample(&mut rng)).collect(),
    };
    let x: Vec<f64> = (0..spec.n * spec.p)
        .map(|_| rng.sample::<f64, _>(StandardUniform))
        .collect();
    let x = Array2::from_shape_vec((spec.n, spec.p), x).map_err(|e| Error::Data(e.to_string()))?;
    let d: Array1<f64> = x
        .rows()
        .into_iter()
        .map(|row| {
            w[0] + row.iter().zip(&w[1..]).map(|(a, b)| a * b).sum::<f64>()
                + spec.sigma * normal.sample(&mut rng)
        })
        .collect();
    Ok((Dataset::new(x, d)?, w))
}
