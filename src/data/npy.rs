//! `.npy` input: whatever numeric dtype NumPy wrote (floats, integers, bool) becomes f64
//! once — but float32 features, which stay f32 (half the memory; every reader widens them
//! exactly) — with shapes and dtypes explained in people's terms rather than ndarray's.

use crate::error::{Error, Result};
use ndarray::{Array2, ArrayD, Axis, Dimension, IxDyn, ShapeBuilder};
use ndarray_npy::npy::header::Header;
use ndarray_npy::{ReadDataError, ReadableElement};
use std::io::Read;

/// The first bytes of every `.npy` file.
pub(crate) const MAGIC: &[u8] = b"\x93NUMPY";

/// Largest integer magnitude up to which every integer is an exact f64.
const EXACT_INT: u64 = 1 << 53;

/// An array as read: float32 kept, everything else in f64.
pub(crate) enum Values {
    F64(ArrayD<f64>),
    F32(ArrayD<f32>),
}

impl Values {
    pub(crate) fn into_f64(self) -> ArrayD<f64> {
        match self {
            Values::F64(a) => a,
            Values::F32(a) => a.mapv(f64::from),
        }
    }
}

/// Read `name` (already opened as `reader`) as a numeric array of any dimension, in f64.
pub(crate) fn read(reader: impl Read, name: &str) -> Result<ArrayD<f64>> {
    read_values(reader, name).map(Values::into_f64)
}

/// Read `name` (already opened as `reader`) as a numeric array of any dimension: float32 as
/// f32, every other dtype in f64.
pub(crate) fn read_values(mut reader: impl Read, name: &str) -> Result<Values> {
    let header = Header::from_reader(&mut reader)
        .map_err(|e| Error::io(name, format!("not a valid .npy file ({e})")))?;
    let desc = header.type_descriptor.to_string();
    let code = desc.trim_matches(|c| c == '\'' || c == '"');
    // The byte-order mark (`<`, `>`, `|`, `=`) does not change what the values mean.
    let bare = code.trim_start_matches(['<', '>', '|', '=']);
    let (r, h) = (&mut reader, &header);
    let unsupported = || {
        Error::Data(format!(
            "{name}: dtype {desc} ({}) is not supported; descent reads float64, float32, \
             signed or unsigned integers and bool",
            dtype_name(code)
        ))
    };
    if bare == "f4" {
        return Ok(Values::F32(typed::<f32>(r, h, name)?));
    }
    Ok(Values::F64(match bare {
        "f8" => typed::<f64>(r, h, name)?,
        "i1" | "b" => typed::<i8>(r, h, name)?.mapv(f64::from),
        "i2" => typed::<i16>(r, h, name)?.mapv(f64::from),
        "i4" => typed::<i32>(r, h, name)?.mapv(f64::from),
        "u1" | "B" => typed::<u8>(r, h, name)?.mapv(f64::from),
        "u2" => typed::<u16>(r, h, name)?.mapv(f64::from),
        "u4" => typed::<u32>(r, h, name)?.mapv(f64::from),
        "b1" => typed::<bool>(r, h, name)?.mapv(|b| f64::from(u8::from(b))),
        "i8" => {
            let a = typed::<i64>(r, h, name)?;
            exact(&a, |v| v.unsigned_abs() <= EXACT_INT, "int64", name)?;
            a.mapv(|v| v as f64)
        }
        "u8" => {
            let a = typed::<u64>(r, h, name)?;
            exact(&a, |v| v <= EXACT_INT, "uint64", name)?;
            a.mapv(|v| v as f64)
        }
        _ => return Err(unsupported()),
    }))
}

/// Read the data after `header` as `T`, in the header's shape and memory order.
fn typed<T: ReadableElement>(reader: impl Read, header: &Header, name: &str) -> Result<ArrayD<T>> {
    let len = header
        .shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or_else(|| Error::io(name, "the shape in the header is too large"))?;
    let data =
        T::read_to_end_exact_vec(reader, &header.type_descriptor, len).map_err(|e| match e {
            ReadDataError::Io(e) => Error::io(name, e),
            ReadDataError::MissingData => Error::io(
                name,
                "the file ends before all the values its header describes (truncated?)",
            ),
            ReadDataError::ExtraBytes(n) => Error::io(
                name,
                format!("{n} bytes follow the values its header describes"),
            ),
            other => Error::io(name, format!("could not read the values ({other})")),
        })?;
    let shape = IxDyn(&header.shape).set_f(header.layout.is_fortran());
    ArrayD::from_shape_vec(shape, data).map_err(|e| Error::io(name, e))
}

/// Refuse integers that f64 would round, naming the first one by row (and column).
fn exact<T: Copy + std::fmt::Display>(
    a: &ArrayD<T>,
    fits: impl Fn(T) -> bool,
    dtype: &str,
    name: &str,
) -> Result<()> {
    match a.indexed_iter().find(|(_, &v)| !fits(v)) {
        None => Ok(()),
        Some((at, v)) => Err(Error::Data(format!(
            "{name}: {} holds the {dtype} value {v}, which float64 cannot represent exactly \
             (|v| > 2^53); rescale or convert it before fitting",
            position(at.slice())
        ))),
    }
}

/// `row 5` or `row 5, column 2`, 1-based, for an index into a 1-D or 2-D array.
pub(crate) fn position(at: &[usize]) -> String {
    match at {
        [i] => format!("row {}", i + 1),
        [i, j] => format!("row {}, column {}", i + 1, j + 1),
        _ => format!("element {:?}", at),
    }
}

/// NumPy's shape notation: `(100,)`, `(100, 2)`.
pub(crate) fn shape_text(shape: &[usize]) -> String {
    match shape {
        [n] => format!("({n},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// A features array, shape (n, p), or (n,) for one feature.
pub(crate) fn into_matrix<T>(a: ArrayD<T>, name: &str) -> Result<Array2<T>> {
    match a.ndim() {
        1 => Ok(a
            .insert_axis(Axis(1))
            .into_dimensionality()
            .expect("two axes")),
        2 => Ok(a.into_dimensionality().expect("two axes")),
        _ => Err(Error::Data(format!(
            "{name} has shape {}: the features must be a matrix, shape (n, p), or one \
             feature, shape (n,)",
            shape_text(a.shape())
        ))),
    }
}

/// A target vector, shape (n,) or (n, 1).
pub(crate) fn into_vector(a: ArrayD<f64>, name: &str) -> Result<ndarray::Array1<f64>> {
    let n = a.shape().first().copied().unwrap_or(0);
    match a.shape() {
        [_] | [_, 1] => Ok(a.into_shape_with_order((n,)).expect("n values")),
        shape => Err(Error::Data(format!(
            "{name} has shape {}: the target must be n values, shape (n,) or (n, 1)",
            shape_text(shape)
        ))),
    }
}

/// NumPy's name for a dtype code, for error messages.
fn dtype_name(code: &str) -> String {
    let bare = code.trim_start_matches(['<', '>', '|', '=']);
    let (kind, size) = bare.split_at(
        bare.find(|c: char| c.is_ascii_digit())
            .unwrap_or(bare.len()),
    );
    let bits = size.parse::<usize>().map(|b| b * 8).unwrap_or(0);
    match kind {
        "f" => format!("float{bits}"),
        "c" => format!("complex{bits}"),
        "i" => format!("int{bits}"),
        "u" => format!("uint{bits}"),
        "b" => "bool".into(),
        "U" => "unicode strings".into(),
        "S" | "a" => "byte strings".into(),
        "O" => "Python objects".into(),
        "M" => "datetime64".into(),
        "m" => "timedelta64".into(),
        "V" => "raw bytes".into(),
        _ if code.starts_with('[') => "a structured dtype".into(),
        _ => "unknown".into(),
    }
}
