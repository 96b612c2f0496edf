//! File input: CSV with a header (from a path or stdin) and `.npy` pairs, turned into a
//! [`Dataset`] with every problem named by row and column.

use super::Dataset;
use crate::error::{Error, Result};
use ndarray::{Array1, Array2};
use std::io::Read;

/// A numeric table: column names and row-major values.
#[derive(Debug, Clone)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: usize,
    pub values: Vec<f64>,
}

/// Read CSV with a header from `path` (`-` is stdin).
pub fn read_csv(path: &str) -> Result<Table> {
    let source: Box<dyn Read> = if path == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(std::fs::File::open(path).map_err(|e| Error::io(path, e))?)
    };
    let name = if path == "-" { "<stdin>" } else { path };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_reader(source);
    let columns: Vec<String> = reader
        .headers()
        .map_err(|e| Error::Data(format!("{name}: {e}")))?
        .iter()
        .map(str::to_string)
        .collect();
    if columns.is_empty() || columns.iter().all(String::is_empty) {
        return Err(Error::Data(format!("{name} is empty (no header row)")));
    }
    let mut values = Vec::new();
    let mut rows = 0;
    for (r, record) in reader.records().enumerate() {
        let line = r + 2; // 1-based, after the header
        let record = record.map_err(|e| match e.kind() {
            csv::ErrorKind::UnequalLengths {
                expected_len, len, ..
            } => Error::Data(format!(
                "{name}: line {line} has {len} fields but the header has {expected_len}"
            )),
            _ => Error::Data(format!("{name}: line {line}: {e}")),
        })?;
        for (c, cell) in record.iter().enumerate() {
            let v: f64 = cell.parse().map_err(|_| {
                Error::Data(format!(
                    "{name}: line {line}, column '{}': '{cell}' is not a number",
                    columns[c]
                ))
            })?;
            if !v.is_finite() {
                return Err(Error::Data(format!(
                    "{name}: line {line}, column '{}': {cell} is not finite",
                    columns[c]
                )));
            }
            values.push(v);
        }
        rows += 1;
    }
    if rows == 0 {
        return Err(Error::Data(format!("{name} has a header but no data rows")));
    }
    Ok(Table {
        columns,
        rows,
        values,
    })
}

impl Table {
    fn index(&self, name: &str) -> Result<usize> {
        self.columns.iter().position(|c| c == name).ok_or_else(|| {
            Error::Data(format!(
                "no column '{name}'; the columns are: {}",
                self.columns.join(", ")
            ))
        })
    }

    /// Split into features and target; `features` defaults to every other column.
    pub fn dataset(&self, target: &str, features: Option<&[String]>) -> Result<Dataset> {
        let t = self.index(target)?;
        let names: Vec<String> = match features {
            Some(f) => f.to_vec(),
            None => self
                .columns
                .iter()
                .filter(|c| *c != target)
                .cloned()
                .collect(),
        };
        if names.is_empty() {
            return Err(Error::Data(
                "no feature columns left besides the target".into(),
            ));
        }
        let idx = names
            .iter()
            .map(|n| self.index(n))
            .collect::<Result<Vec<_>>>()?;
        if idx.contains(&t) {
            return Err(Error::Data(format!(
                "'{target}' is both the target and a feature"
            )));
        }
        let width = self.columns.len();
        let x = Array2::from_shape_fn((self.rows, idx.len()), |(i, j)| {
            self.values[i * width + idx[j]]
        });
        let y = Array1::from_shape_fn(self.rows, |i| self.values[i * width + t]);
        Dataset::with_names(x, y, names)
    }
}

fn read_npy_any<D: ndarray::Dimension>(path: &str) -> Result<ndarray::Array<f64, D>> {
    use ndarray_npy::read_npy;
    if !std::path::Path::new(path).exists() {
        return Err(Error::io(path, "no such file"));
    }
    match read_npy::<_, ndarray::Array<f64, D>>(path) {
        Ok(a) => Ok(a),
        Err(first) => read_npy::<_, ndarray::Array<f32, D>>(path)
            .map(|a| a.mapv(f64::from))
            .map_err(|_| {
                Error::io(
                    path,
                    format!("not a float64/float32 .npy of the expected shape ({first})"),
                )
            }),
    }
}

/// `X.npy` (n×p) and `y.npy` (n) as a dataset with features x1..xp.
pub fn read_npy_pair(x_path: &str, y_path: &str) -> Result<Dataset> {
    let x: Array2<f64> = read_npy_any(x_path)?;
    let y: Array1<f64> = read_npy_any(y_path)?;
    if x.nrows() != y.len() {
        return Err(Error::Data(format!(
            "{x_path} has {} rows but {y_path} has {} values",
            x.nrows(),
            y.len()
        )));
    }
    Dataset::new(x, y)
}
