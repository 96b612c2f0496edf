//! The coefficients of a linear model with K outputs over p features: K intercepts and a
//! p × K weight matrix, in one flat buffer that every backend, the GPU's buffers, the
//! references, the reports and Python share.

use crate::error::{Error, Result};
use serde::{Serialize, Serializer};

/// K intercepts `b` and a p × K weight matrix `W`, stored flat as `[b_1..b_K, W]` with `W`
/// row-major: output k's intercept at `k`, feature j's weight for output k at `K + j·K + k`.
///
/// Why this layout: for K = 1 it is exactly `[w0, w1..wp]`, so every single-output loop, the
/// GPU's buffers and the article's digits are unchanged; and the K values of one feature are
/// contiguous, which is what a per-row loop over outputs reads
/// (`for j { for k { acc[k] += x_j·W[j,k] } }`). The intercepts come first so the penalty,
/// which never applies to them, skips one leading run of K values.
///
/// `Deref<Target = [T]>` gives read access to the flat layout (length `K·(p + 1)`), for code
/// that compares or prints whole weight vectors; code that means an intercept or a feature's
/// weight uses the accessors, which stay right for K > 1. Serialized as the flat list (for
/// K = 1, the `[w0, w1..wp]` every JSON report has always carried).
#[derive(Debug, Clone, PartialEq)]
pub struct Coefficients<T = f64> {
    outputs: usize,
    features: usize,
    values: Vec<T>,
}

impl<T: Copy> Coefficients<T> {
    /// K = `outputs` intercepts and a `features` × K matrix, all zero.
    pub fn zeros(outputs: usize, features: usize) -> Self
    where
        T: num_traits::Zero,
    {
        Coefficients {
            outputs,
            features,
            values: vec![T::zero(); outputs * (features + 1)],
        }
    }

    /// The coefficients whose flat layout (see the type) is `values`; its length must be
    /// `outputs · (features + 1)`.
    pub fn from_flat(outputs: usize, features: usize, values: Vec<T>) -> Result<Self> {
        let want = outputs
            .checked_mul(features + 1)
            .filter(|_| outputs > 0)
            .ok_or_else(|| Error::Data(format!("no coefficients for {outputs} outputs")))?;
        if values.len() != want {
            return Err(Error::Data(format!(
                "{} coefficient values given for {outputs} output(s) over {features} \
                 feature(s) (need {want})",
                values.len()
            )));
        }
        Ok(Coefficients {
            outputs,
            features,
            values,
        })
    }

    /// One output's `[b, w1..wp]` (what every model fitted today has).
    pub fn single(values: Vec<T>) -> Result<Self> {
        let features = values
            .len()
            .checked_sub(1)
            .ok_or_else(|| Error::Data("a model needs at least its intercept".into()))?;
        Self::from_flat(1, features, values)
    }

    /// K, the number of outputs.
    pub fn outputs(&self) -> usize {
        self.outputs
    }

    /// p, the number of features.
    pub fn features(&self) -> usize {
        self.features
    }

    /// The K intercepts.
    pub fn intercepts(&self) -> &[T] {
        &self.values[..self.outputs]
    }

    /// Output k's intercept.
    pub fn intercept(&self, k: usize) -> T {
        self.intercepts()[k]
    }

    /// The K weights of feature j (row j of W).
    pub fn weights_of(&self, j: usize) -> &[T] {
        let start = self.outputs * (j + 1);
        &self.values[start..start + self.outputs]
    }

    /// Feature j's weight for output k.
    pub fn weight(&self, j: usize, k: usize) -> T {
        self.values[self.outputs * (j + 1) + k]
    }

    /// All of W, row-major (everything the penalty applies to).
    pub fn matrix(&self) -> &[T] {
        &self.values[self.outputs..]
    }

    /// W mutably, row-major.
    pub fn matrix_mut(&mut self) -> &mut [T] {
        &mut self.values[self.outputs..]
    }

    /// The intercepts mutably.
    pub fn intercepts_mut(&mut self) -> &mut [T] {
        &mut self.values[..self.outputs]
    }

    /// Output k's weights `W[.., k]`, feature by feature.
    pub fn column_weights(&self, k: usize) -> impl ExactSizeIterator<Item = T> + '_ {
        self.values[self.outputs + k..]
            .iter()
            .step_by(self.outputs)
            .copied()
    }

    /// Output k as a single-output model's `[b_k, W[.., k]]`.
    pub fn column(&self, k: usize) -> Vec<T> {
        std::iter::once(self.intercept(k))
            .chain(self.column_weights(k))
            .collect()
    }

    /// The flat layout.
    pub fn as_slice(&self) -> &[T] {
        &self.values
    }

    /// The flat layout, mutably (its shape stays fixed).
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        &mut self.values
    }

    /// The flat layout, owned.
    pub fn into_vec(self) -> Vec<T> {
        self.values
    }

    /// Each value through `f`, same shape (a precision change, a rescaling).
    pub fn map<U: Copy>(&self, f: impl FnMut(T) -> U) -> Coefficients<U> {
        Coefficients {
            outputs: self.outputs,
            features: self.features,
            values: self.values.iter().copied().map(f).collect(),
        }
    }

    /// A typed error unless there is exactly one output: what code that fits or evaluates a
    /// single-output model calls before it reads the flat layout as `[w0, w1..wp]`.
    pub fn require_single(&self, who: &str) -> Result<()> {
        if self.outputs == 1 {
            Ok(())
        } else {
            Err(Error::Unsupported(format!(
                "{who} handles one output; these coefficients have {}",
                self.outputs
            )))
        }
    }
}

impl Coefficients<f64> {
    /// W as a p × K faer view (no copy).
    pub fn matrix_view(&self) -> faer::MatRef<'_, f64> {
        faer::MatRef::from_row_major_slice(self.matrix(), self.features, self.outputs)
    }
}

impl<T> std::ops::Deref for Coefficients<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.values
    }
}

impl<'a, T> IntoIterator for &'a Coefficients<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.values.iter()
    }
}

/// The flat layout equals `other` (a test's or a caller's `[w0, w1..wp]`).
impl<T: PartialEq> PartialEq<Vec<T>> for Coefficients<T> {
    fn eq(&self, other: &Vec<T>) -> bool {
        self.values == *other
    }
}

impl<T: PartialEq, const N: usize> PartialEq<[T; N]> for Coefficients<T> {
    fn eq(&self, other: &[T; N]) -> bool {
        self.values == other
    }
}

impl<T: Serialize> Serialize for Coefficients<T> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.values.serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// K = 2 over p = 3: b = [1, 2], W = [[10, 20], [11, 21], [12, 22]].
    fn two_by_three() -> Coefficients {
        let flat = vec![1.0, 2.0, 10.0, 20.0, 11.0, 21.0, 12.0, 22.0];
        Coefficients::from_flat(2, 3, flat).unwrap()
    }

    #[test]
    fn layout_is_intercepts_then_w_row_major() {
        let c = two_by_three();
        assert_eq!((c.outputs(), c.features(), c.len()), (2, 3, 8));
        assert_eq!(c.intercepts(), [1.0, 2.0]);
        assert_eq!(c.weights_of(1), [11.0, 21.0]);
        assert_eq!((c.weight(0, 1), c.weight(2, 0)), (20.0, 12.0));
        assert_eq!(c.matrix(), [10.0, 20.0, 11.0, 21.0, 12.0, 22.0]);
        assert_eq!(c.column(0), [1.0, 10.0, 11.0, 12.0]);
        assert_eq!(c.column(1), [2.0, 20.0, 21.0, 22.0]);
        let m = c.matrix_view();
        assert_eq!((m.nrows(), m.ncols()), (3, 2));
        assert_eq!((m[(2, 1)], m[(1, 0)]), (22.0, 11.0));
    }

    #[test]
    fn one_output_is_the_flat_vector() {
        let flat = vec![0.5, -1.0, 2.0, 3.0];
        let c = Coefficients::single(flat.clone()).unwrap();
        assert_eq!((c.outputs(), c.features()), (1, 3));
        assert_eq!(c.intercepts(), [0.5]);
        assert_eq!(c.matrix(), &flat[1..]);
        assert_eq!(c.column(0), flat);
        assert_eq!(serde_json::to_value(&c).unwrap(), serde_json::json!(flat));
        assert_eq!(c.clone().into_vec(), flat);
        assert_eq!(Coefficients::<f64>::zeros(1, 3).as_slice(), [0.0; 4]);
        assert!(c.require_single("x").is_ok());
        let err = two_by_three().require_single("the naive backend");
        assert!(matches!(err, Err(Error::Unsupported(_))), "{err:?}");
    }

    #[test]
    fn a_flat_vector_of_the_wrong_length_is_refused() {
        let err = Coefficients::from_flat(2, 3, vec![0.0; 7])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("7 coefficient values") && err.contains("need 8"),
            "{err}"
        );
        assert!(Coefficients::from_flat(0, 3, Vec::<f64>::new()).is_err());
        assert!(Coefficients::<f64>::single(vec![]).is_err());
    }
}
