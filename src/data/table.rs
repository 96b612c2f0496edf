//! File input for `descent fit`: CSV with a header (from a path or stdin) or `.npy`, turned
//! into a [`Dataset`] with every problem named by line (or row) and column.
//!
//! The column choice (`--target`, `--features`) is resolved against the header first and
//! only those fields are parsed, so a text column the fit leaves out does not matter and
//! memory stays proportional to the selected numeric data.

use super::delimited::load_csv;
use super::npy;
use super::select::select;
use super::{Dataset, Features};
use crate::error::{Error, Result};
use crate::names::Setting;
use std::io::{BufRead, BufReader, Read};

/// What the user asked for on the command line, before anything is read.
#[derive(Debug, Clone, Default)]
pub struct InputSpec {
    /// CSV file, `-` for stdin, or an `.npy` features file.
    pub data: String,
    /// Target column: a name or `#N` (1-based position). For `.npy` data, a column of X.
    pub target: Option<String>,
    /// `y.npy` holding the target, for `.npy` data only.
    pub target_file: Option<String>,
    /// Feature columns as one CSV record (`a,"b,c",#4`); `None` means every column but
    /// the target.
    pub features: Option<String>,
    /// CSV field delimiter (`,` `;` `tab` `|` or one ASCII character); `None` detects it.
    pub delimiter: Option<String>,
}

/// Where the data came from and how it was read, for reports.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SourceInfo {
    /// `--data` as given (`-` is stdin).
    pub path: String,
    /// `"csv"` or `"npy"`.
    pub format: &'static str,
    /// The CSV delimiter used; `None` for `.npy`.
    pub delimiter: Option<char>,
    /// Whether the delimiter was detected from the header rather than given.
    pub delimiter_detected: bool,
    /// Data rows read.
    pub rows: usize,
    /// Columns in the file (all of them, not only the selected ones).
    pub columns: usize,
}

/// A dataset ready to fit, with its provenance.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub dataset: Dataset,
    pub source: SourceInfo,
    /// The target as the user named it (`--target`), or the `--target-file` path.
    pub target: String,
}

/// Read the data `spec` describes. `.npy` is recognised by its magic bytes or the `.npy`
/// extension; anything else is CSV with a header.
pub fn load(spec: &InputSpec) -> Result<Loaded> {
    let display = if spec.data == "-" {
        "<stdin>"
    } else {
        spec.data.as_str()
    };
    let source: Box<dyn Read> = if spec.data == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(open(&spec.data)?)
    };
    let mut source = BufReader::with_capacity(1 << 16, source);
    let head = source.fill_buf().map_err(|e| Error::io(display, e))?;
    let is_npy = head.starts_with(npy::MAGIC)
        || (spec.data != "-"
            && std::path::Path::new(&spec.data)
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("npy")));
    if is_npy {
        load_npy(spec, source, display)
    } else {
        load_csv(spec, source, display)
    }
}

fn load_npy(spec: &InputSpec, source: impl Read, display: &str) -> Result<Loaded> {
    if spec.delimiter.is_some() {
        return Err(Error::Config(format!(
            "{} applies to CSV input, but {display} is .npy",
            Setting::Delimiter.named()
        )));
    }
    let target = match (&spec.target, &spec.target_file) {
        (Some(_), Some(_)) => {
            return Err(Error::Config(format!(
                "give either {} (a column of the data) or {} (a separate y.npy), not both",
                Setting::Target.named(),
                Setting::TargetFile.named()
            )))
        }
        (None, None) => {
            return Err(Error::Config(format!(
                "{display} is .npy: give the target with {}, or name a column of it with {} \
                 (x1, x2, ... or #N)",
                Setting::TargetFile.literal("y.npy"),
                Setting::Target.named()
            )))
        }
        (Some(t), None) => t.clone(),
        (None, Some(y)) => y.clone(),
    };
    let x: Features = match npy::read_values(source, display)? {
        npy::Values::F64(a) => npy::into_matrix(a, display)?.into(),
        npy::Values::F32(a) => npy::into_matrix(a, display)?.into(),
    };
    let columns: Vec<String> = (1..=x.ncols()).map(|j| format!("x{j}")).collect();
    let sel = select(&columns, spec.target.as_deref(), spec.features.as_deref())?;
    let (rows, width) = x.dim();
    let y = match (&spec.target_file, sel.target) {
        (Some(path), _) => {
            let file = open(path)?;
            let y = npy::into_vector(npy::read(BufReader::new(file), path)?, path)?;
            if y.len() != rows {
                return Err(Error::Data(format!(
                    "{display} has {rows} rows but {path} has {} values",
                    y.len()
                )));
            }
            y
        }
        (None, Some(t)) => x.column(t).collect(),
        (None, None) => unreachable!("a target column or file was required above"),
    };
    let all = sel.target.is_none() && sel.features.iter().copied().eq(0..width);
    let features = if all {
        x
    } else {
        let picked = x.select_columns(&sel.features);
        drop(x); // the selected columns are a new matrix: free the whole table first
        picked
    };
    Ok(Loaded {
        dataset: Dataset::with_names(features, y, sel.feature_names)?,
        source: SourceInfo {
            path: spec.data.clone(),
            format: "npy",
            delimiter: None,
            delimiter_detected: false,
            rows,
            columns: width,
        },
        target,
    })
}

/// Open `path`, saying plainly when it does not exist.
fn open(path: &str) -> Result<std::fs::File> {
    std::fs::File::open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::io(path, "no such file"),
        _ => Error::io(path, e),
    })
}
