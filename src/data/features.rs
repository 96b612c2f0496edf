//! The n×p feature matrix in the element type it came in: f64, or f32 for callers whose data
//! is single precision (a NumPy float32 array), so such data is read where it lies instead
//! of being widened into a second, twice as large copy.
//!
//! Every f32 value is exactly an f64, so widening loses nothing: the references, checks and
//! f64 fits read f32 features widened on the fly (a value at a time, or a block of rows at a
//! time where a dense kernel wants a matrix) and get bit for bit what they would from a
//! widened copy; the f32 paths (`fused` and the GPU in f32) read them without any conversion.

use crate::error::{Error, Result};
pub use crate::scalar::Element;
use crate::scalar::Precision;
use either::Either;
use ndarray::{Array2, ArrayView2, CowArray, Ix2};
use std::any::Any;
use std::ops::Range;
use std::sync::Arc;

/// A row-major n×p matrix of f64 or f32 values, owned or borrowed from a caller's memory
/// (see [`crate::Dataset::borrowing`]). The constructors keep it row-major (standard
/// layout), which every reader relies on.
///
/// The stored values are shared: cloning a `Features` (or a dataset) shares them instead of
/// copying them, and [`Features::standardized`] reads the same values through a
/// per-column transform ([`Scaling`]), so standardizing never copies the matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct Features {
    values: Values,
    scaling: Option<Arc<Scaling>>,
}

/// The stored values, shared between clones.
#[derive(Debug, Clone, PartialEq)]
enum Values {
    F64(Arc<CowArray<'static, f64, Ix2>>),
    F32(Arc<CowArray<'static, f32, Ix2>>),
}

/// Column means and standard deviations: a standardized matrix reads
/// z_ij = (x_ij − mean_j) / std_j, formed in f64 from the stored value whenever it is read,
/// so every reader (the references, the checks, each backend) sees the same z, bit for bit
/// what a z-scored f64 copy would hold.
#[derive(Debug, Clone, PartialEq)]
pub struct Scaling {
    pub means: Vec<f64>,
    pub stds: Vec<f64>,
}

impl Scaling {
    /// Column `j`'s value `x`, standardized.
    #[inline(always)]
    pub fn apply(&self, j: usize, x: f64) -> f64 {
        (x - self.means[j]) / self.stds[j]
    }

    /// The columns `cols`, in that order.
    fn select(&self, cols: &[usize]) -> Scaling {
        Scaling {
            means: cols.iter().map(|&j| self.means[j]).collect(),
            stds: cols.iter().map(|&j| self.stds[j]).collect(),
        }
    }
}

/// Run `$body` with `$a` bound to the inner matrix, whichever element type it has.
macro_rules! each {
    ($f:expr, $a:ident => $body:expr) => {
        match $f {
            Values::F64($a) => $body,
            Values::F32($a) => $body,
        }
    };
}

impl Features {
    /// A row-major matrix of `T`, copied into row-major order if it is not already.
    pub fn new<T: Element>(a: CowArray<'static, T, Ix2>) -> Features {
        let a = if a.is_standard_layout() {
            a
        } else {
            CowArray::from(a.as_standard_layout().into_owned())
        };
        // `Element` is sealed to f64 and f32, so one of the two downcasts succeeds; the
        // scalar layer below knows nothing of `Features`, hence the type test here.
        let mut slot = Some(a);
        let any: &mut dyn Any = &mut slot;
        let values = if let Some(a) = any.downcast_mut::<Option<CowArray<'static, f64, Ix2>>>() {
            Values::F64(Arc::new(a.take().expect("filled above")))
        } else {
            match any.downcast_mut::<Option<CowArray<'static, f32, Ix2>>>() {
                Some(a) => Values::F32(Arc::new(a.take().expect("filled above"))),
                None => unreachable!("Element is sealed to f64 and f32"),
            }
        };
        Features {
            values,
            scaling: None,
        }
    }

    /// The same stored values read standardized (see [`Scaling`]): nothing is copied.
    /// `scaling` needs one finite mean and one finite, positive standard deviation per
    /// column, and the matrix must not be standardized already; otherwise `Error::Data`
    /// says which.
    pub fn standardized(&self, scaling: Scaling) -> Result<Features> {
        let p = self.ncols();
        if scaling.means.len() != p || scaling.stds.len() != p {
            return Err(Error::Data(format!(
                "a standardization of {} means and {} standard deviations for {p} columns",
                scaling.means.len(),
                scaling.stds.len()
            )));
        }
        if self.scaling.is_some() {
            return Err(Error::Data("the features are standardized already".into()));
        }
        let bad = (0..p).find(|&j| {
            let (m, s) = (scaling.means[j], scaling.stds[j]);
            !(m.is_finite() && s.is_finite() && s > 0.0)
        });
        if let Some(j) = bad {
            return Err(Error::Data(format!(
                "column {} cannot be standardized with mean {} and standard deviation {} (they \
                 must be finite, and the deviation positive)",
                j + 1,
                scaling.means[j],
                scaling.stds[j]
            )));
        }
        Ok(Features {
            values: self.values.clone(),
            scaling: Some(Arc::new(scaling)),
        })
    }

    /// The transform applied on read, when standardized.
    pub fn scaling(&self) -> Option<&Scaling> {
        self.scaling.as_deref()
    }

    /// (rows, columns).
    pub fn dim(&self) -> (usize, usize) {
        each!(&self.values, a => a.dim())
    }

    pub fn nrows(&self) -> usize {
        self.dim().0
    }

    pub fn ncols(&self) -> usize {
        self.dim().1
    }

    /// The element type the values are stored in (a standardized matrix's values are
    /// formed in f64 from them).
    pub fn precision(&self) -> Precision {
        match self.values {
            Values::F64(_) => Precision::F64,
            Values::F32(_) => Precision::F32,
        }
    }

    /// True when the values are read in place from memory the matrix does not own.
    pub fn is_view(&self) -> bool {
        each!(&self.values, a => a.is_view())
    }

    /// The stored value in row `i`, column `j`, as f64 (exact for f32 values).
    #[inline(always)]
    fn raw(&self, i: usize, j: usize) -> f64 {
        match &self.values {
            Values::F64(a) => a[(i, j)],
            Values::F32(a) => a[(i, j)].into(),
        }
    }

    /// The value in row `i`, column `j`, as f64 (exact for f32 values), standardized when
    /// the matrix is.
    pub fn get(&self, i: usize, j: usize) -> f64 {
        let v = self.raw(i, j);
        match &self.scaling {
            Some(s) => s.apply(j, v),
            None => v,
        }
    }

    /// The row-major values when they are stored as `T` and read as stored (`None` for the
    /// other type, and for a standardized matrix: its values are not the stored ones).
    pub fn slice<T: Element>(&self) -> Option<&[T]> {
        match self.scaling {
            Some(_) => None,
            None => self.stored::<T>(),
        }
    }

    /// The stored row-major values when they are of type `T`, whether or not the matrix is
    /// standardized: for a kernel that applies [`Features::scaling`] itself as it loads them.
    pub fn stored<T: Element>(&self) -> Option<&[T]> {
        let any: &dyn Any = match &self.values {
            Values::F64(a) => &**a,
            Values::F32(a) => &**a,
        };
        any.downcast_ref::<CowArray<'static, T, Ix2>>().map(|a| {
            a.as_slice()
                .expect("the constructors keep features row-major")
        })
    }

    /// The stored values in row-major order, as f64.
    fn iter_stored(&self) -> impl ExactSizeIterator<Item = f64> + Clone + '_ {
        match &self.values {
            Values::F64(a) => Either::Left(a.iter().copied()),
            Values::F32(a) => Either::Right(a.iter().map(|&v| f64::from(v))),
        }
    }

    /// Every value in row-major order, as f64.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = f64> + '_ {
        let p = self.ncols().max(1);
        match &self.scaling {
            None => Either::Left(self.iter_stored()),
            Some(s) => Either::Right(
                self.iter_stored()
                    .enumerate()
                    .map(move |(k, v)| s.apply(k % p, v)),
            ),
        }
    }

    /// Column `j` from top to bottom, as f64.
    pub fn column(&self, j: usize) -> impl ExactSizeIterator<Item = f64> + Clone + '_ {
        let stored = match &self.values {
            Values::F64(a) => Either::Left(a.column(j).into_iter().copied()),
            Values::F32(a) => Either::Right(a.column(j).into_iter().map(|&v| f64::from(v))),
        };
        match &self.scaling {
            None => Either::Left(stored),
            Some(s) => Either::Right(stored.map(move |v| s.apply(j, v))),
        }
    }

    /// Call `f(i, row)` for every row in order, the row as f64 (an f32 or standardized row
    /// is formed in one reused buffer of p values).
    pub fn for_each_row(&self, mut f: impl FnMut(usize, &[f64])) {
        let (n, p) = self.dim();
        if p == 0 {
            (0..n).for_each(|i| f(i, &[]));
            return;
        }
        if let (Some(x), None) = (self.stored::<f64>(), &self.scaling) {
            x.chunks_exact(p).enumerate().for_each(|(i, row)| f(i, row));
            return;
        }
        let mut buf = vec![0.0; p];
        let mut fill = |i: usize, row: &mut dyn Iterator<Item = f64>| {
            buf.iter_mut().zip(row).for_each(|(b, v)| *b = v);
            if let Some(s) = &self.scaling {
                buf.iter_mut()
                    .enumerate()
                    .for_each(|(j, b)| *b = s.apply(j, *b));
            }
            f(i, &buf);
        };
        match &self.values {
            Values::F64(a) => {
                for (i, row) in a.rows().into_iter().enumerate() {
                    fill(i, &mut row.iter().copied());
                }
            }
            Values::F32(a) => {
                for (i, row) in a.rows().into_iter().enumerate() {
                    fill(i, &mut row.iter().map(|&v| f64::from(v)));
                }
            }
        }
    }

    /// Rows `rows` as an f64 matrix: a view of f64 features, a widened (or standardized)
    /// copy of just those rows otherwise (so a caller walking the data block by block holds
    /// one block of f64 at a time, never the whole matrix).
    pub fn rows_f64(&self, rows: Range<usize>) -> CowArray<'_, f64, Ix2> {
        let block = match &self.values {
            Values::F64(a) => CowArray::from(a.slice(ndarray::s![rows, ..])),
            Values::F32(a) => CowArray::from(a.slice(ndarray::s![rows, ..]).mapv(f64::from)),
        };
        match &self.scaling {
            None => block,
            Some(s) => {
                let mut block = block.into_owned();
                for mut row in block.rows_mut() {
                    row.iter_mut()
                        .enumerate()
                        .for_each(|(j, v)| *v = s.apply(j, *v));
                }
                CowArray::from(block)
            }
        }
    }

    /// The whole matrix as f64: a view of f64 features, a widened copy of f32 ones. For
    /// small data and tests; the library walks large data with [`Features::rows_f64`].
    pub fn to_f64(&self) -> CowArray<'_, f64, Ix2> {
        self.rows_f64(0..self.nrows())
    }

    /// The matrix widened to f64 and owned (a copy unless it held the only reference to
    /// owned f64 values).
    pub fn into_f64(self) -> Array2<f64> {
        if self.scaling.is_some() {
            return self.to_f64().into_owned();
        }
        match self.values {
            Values::F64(a) => Arc::try_unwrap(a)
                .map(CowArray::into_owned)
                .unwrap_or_else(|a| a.as_ref().to_owned()),
            Values::F32(a) => a.mapv(f64::from),
        }
    }

    /// The columns `cols`, in that order, in a new matrix of the same element type (and the
    /// same standardization of those columns).
    pub fn select_columns(&self, cols: &[usize]) -> Features {
        let picked = each!(&self.values, a => Features::new(CowArray::from(a.select(ndarray::Axis(1), cols))));
        match &self.scaling {
            None => picked,
            Some(s) => Features {
                values: picked.values,
                scaling: Some(Arc::new(s.select(cols))),
            },
        }
    }

    /// Rows `rows`, reading the stored values where they lie (standardized alike). The view
    /// forgets that it borrows `self`, so it is crate-internal: every caller drops it before
    /// `self` can be.
    pub(crate) fn rows_view(&self, rows: Range<usize>) -> Features {
        fn view<T: Element>(a: &CowArray<'static, T, Ix2>, rows: Range<usize>) -> Features {
            let v = a.slice(ndarray::s![rows, ..]);
            // SAFETY: only the lifetime changes; callers drop the view before `self`.
            let v = unsafe { std::mem::transmute::<ArrayView2<'_, T>, ArrayView2<'static, T>>(v) };
            Features::new(CowArray::from(v))
        }
        let viewed = each!(&self.values, a => view(a, rows.clone()));
        Features {
            values: viewed.values,
            scaling: self.scaling.clone(),
        }
    }

    /// The largest |value| of every column, in one row-major pass, or the first value that
    /// is NaN or infinite with its (row, column): the one scan the fitting pipeline makes
    /// for both the finiteness and the range checks.
    pub fn column_max_abs(&self) -> std::result::Result<Vec<f64>, ((usize, usize), f64)> {
        let p = self.ncols();
        let mut top = vec![0.0f64; p];
        let mut bad = None;
        self.for_each_row(|i, row| {
            if bad.is_some() {
                return;
            }
            for (j, (t, &v)) in top.iter_mut().zip(row).enumerate() {
                if !v.is_finite() {
                    bad = Some(((i, j), v));
                    return;
                }
                *t = t.max(v.abs());
            }
        });
        match bad {
            Some(b) => Err(b),
            None => Ok(top),
        }
    }

    /// The first value that is NaN or infinite, with its (row, column).
    pub fn first_non_finite(&self) -> Option<((usize, usize), f64)> {
        let p = self.ncols().max(1);
        self.iter()
            .enumerate()
            .find(|(_, v)| !v.is_finite())
            .map(|(k, v)| ((k / p, k % p), v))
    }
}

impl From<Array2<f64>> for Features {
    fn from(a: Array2<f64>) -> Self {
        Features::new(CowArray::from(a))
    }
}

impl From<Array2<f32>> for Features {
    fn from(a: Array2<f32>) -> Self {
        Features::new(CowArray::from(a))
    }
}

impl From<ArrayView2<'static, f64>> for Features {
    fn from(a: ArrayView2<'static, f64>) -> Self {
        Features::new(CowArray::from(a))
    }
}

impl From<ArrayView2<'static, f32>> for Features {
    fn from(a: ArrayView2<'static, f32>) -> Self {
        Features::new(CowArray::from(a))
    }
}

impl From<CowArray<'static, f64, Ix2>> for Features {
    fn from(a: CowArray<'static, f64, Ix2>) -> Self {
        Features::new(a)
    }
}

impl From<CowArray<'static, f32, Ix2>> for Features {
    fn from(a: CowArray<'static, f32, Ix2>) -> Self {
        Features::new(a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn f32_features_read_as_the_f64_values_they_are() {
        let x32 = array![[0.1f32, 2.5], [-3.25, 1e-7], [7.0, 16_777_217.0]];
        let x64 = x32.mapv(f64::from);
        let (a, b) = (Features::from(x32.clone()), Features::from(x64.clone()));
        assert_eq!(a.precision(), Precision::F32);
        assert_eq!(a.dim(), b.dim());
        assert!(a.iter().eq(b.iter()));
        for j in 0..2 {
            assert!(a.column(j).eq(b.column(j)));
        }
        assert_eq!(a.rows_f64(1..3), b.rows_f64(1..3));
        assert_eq!(a.to_f64(), x64.view());
        assert_eq!(a.get(2, 1), x64[(2, 1)]);
        let mut rows = Vec::new();
        a.for_each_row(|i, row| rows.push((i, row.to_vec())));
        let want: Vec<_> = x64
            .rows()
            .into_iter()
            .map(|r| r.to_vec())
            .enumerate()
            .collect();
        assert_eq!(rows, want);
        assert_eq!(a.slice::<f32>(), x32.as_slice());
        assert_eq!(a.slice::<f64>(), None);
        assert_eq!(
            a.select_columns(&[1, 0]).to_f64(),
            x64.select(ndarray::Axis(1), &[1, 0])
        );
        assert_eq!(a.select_columns(&[1]).precision(), Precision::F32);
        assert_eq!(a.into_f64(), x64);
    }

    #[test]
    fn a_standardization_that_does_not_fit_the_matrix_is_refused() {
        let f = Features::from(array![[1.0, 2.0], [3.0, 5.0]]);
        let scaling = |means: Vec<f64>, stds: Vec<f64>| Scaling { means, stds };
        let e = f.standardized(scaling(vec![0.0], vec![1.0])).unwrap_err();
        assert!(
            e.to_string()
                .contains("1 means and 1 standard deviations for 2 columns"),
            "{e}"
        );
        let e = f
            .standardized(scaling(vec![0.0, 1.0], vec![1.0, 0.0]))
            .unwrap_err();
        assert!(
            e.to_string().contains("column 2 cannot be standardized"),
            "{e}"
        );
        let e = f
            .standardized(scaling(vec![f64::NAN, 1.0], vec![1.0, 1.0]))
            .unwrap_err();
        assert!(e.to_string().contains("column 1"), "{e}");
        let z = f
            .standardized(scaling(vec![2.0, 3.5], vec![1.0, 1.5]))
            .unwrap();
        assert_eq!(z.to_f64(), array![[-1.0, -1.0], [1.0, 1.0]]);
        let again = z
            .standardized(scaling(vec![0.0, 0.0], vec![1.0, 1.0]))
            .unwrap_err();
        assert!(
            again.to_string().contains("standardized already"),
            "{again}"
        );
    }

    #[test]
    fn column_major_input_is_stored_row_major() {
        let t = array![[1.0f32, 2.0, 3.0], [4.0, 5.0, 6.0]].reversed_axes();
        let f = Features::from(t.clone());
        assert_eq!(f.slice::<f32>(), Some(&[1.0, 4.0, 2.0, 5.0, 3.0, 6.0][..]));
        assert_eq!(f.to_f64(), t.mapv(f64::from));
    }

    #[test]
    fn the_first_non_finite_value_is_found_with_its_position() {
        let f = Features::from(array![[1.0f32, 2.0], [3.0, f32::NAN], [f32::INFINITY, 0.0]]);
        let ((i, j), v) = f.first_non_finite().unwrap();
        assert_eq!((i, j), (1, 1));
        assert!(v.is_nan());
        assert_eq!(Features::from(array![[1.0, 2.0]]).first_non_finite(), None);
    }
}
