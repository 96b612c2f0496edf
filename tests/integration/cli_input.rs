//! The input path of `descent fit`: column selection by name or `#N`, CSV dialects,
//! `.npy` dtypes and shapes, and one clear line for every kind of bad input. Each test is
//! a user report that failed before the loader was rewritten.

use crate::common;
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Exact data `y = 1 + 2a + 3b` (a and b not collinear), so `ols` shows which columns
/// reached the fit and in which order.
const TRUE_W: [f64; 3] = [1.0, 2.0, 3.0];

fn ab(i: usize) -> (f64, f64) {
    (i as f64, ((i * i) % 7) as f64)
}

fn y_of(i: usize) -> f64 {
    let (a, b) = ab(i);
    TRUE_W[0] + TRUE_W[1] * a + TRUE_W[2] * b
}

const N: usize = 12;

fn run(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_descent"))
        .arg("fit")
        .args(args)
        .args(["--backend", "fused", "--json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("descent runs");
    if let Some(bytes) = stdin {
        child.stdin.take().unwrap().write_all(bytes).unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

/// A successful fit's JSON, with GD checked against OLS.
fn fit_ok(args: &[&str], stdin: Option<&[u8]>) -> Value {
    let out = run(&[args, &["--standardize"]].concat(), stdin);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let (w, ols) = (floats(&v["weights"]), floats(&v["ols"]));
    assert_eq!(w.len(), ols.len());
    for (a, b) in w.iter().zip(&ols) {
        assert!(
            (a - b).abs() < 1e-6 * (1.0 + b.abs()),
            "{args:?}: {w:?} vs {ols:?}"
        );
    }
    v
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn assert_ols(v: &Value, names: &[&str], want: &[f64]) {
    assert_eq!(v["feature_names"], serde_json::json!(names), "{v}");
    let ols = floats(&v["ols"]);
    assert_eq!(ols.len(), want.len(), "{v}");
    for (a, b) in ols.iter().zip(want) {
        assert!(
            (a - b).abs() < 1e-8 * (1.0 + b.abs()),
            "{ols:?} vs {want:?}"
        );
    }
}

/// Bad input: see [`common::one_error_line`].
fn fails(args: &[&str], stdin: Option<&[u8]>, needle: &str) {
    common::one_error_line(&run(args, stdin), &format!("{args:?}"), needle);
}

use common::write_file as write;

/// Rows of `cells(i)` joined by `sep` under `header`.
fn table(header: &str, sep: &str, cells: impl Fn(usize) -> Vec<String>) -> String {
    let mut s = format!("{header}\n");
    for i in 0..N {
        s.push_str(&cells(i).join(sep));
        s.push('\n');
    }
    s
}

fn num(v: f64) -> String {
    format!("{v}")
}

/// Report 1: `--features x` silently took the first of two columns called `x`, and the
/// default selection called two different columns identical.
#[test]
fn duplicate_names_are_refused_and_positions_select() {
    let dir = tempfile::tempdir().unwrap();
    // x (#1) is a, x (#3) is b.
    let csv = write(
        dir.path(),
        "dup.csv",
        table("x,y,x", ",", |i| {
            let (a, b) = ab(i);
            vec![num(a), num(y_of(i)), num(b)]
        }),
    );
    fails(
        &["--data", &csv, "--target", "y", "--features", "x"],
        None,
        "column name 'x' appears 2 times (#1, #3); select by position, e.g. '#3'",
    );
    fails(
        &["--data", &csv, "--target", "y"],
        None,
        "column name 'x' appears 2 times (#1, #3)",
    );
    fails(
        &["--data", &csv, "--target", "x"],
        None,
        "column name 'x' appears 2 times (#1, #3)",
    );
    let v = fit_ok(
        &["--data", &csv, "--target", "#2", "--features", "#1, #3"],
        None,
    );
    assert_ols(&v, &["x (#1)", "x (#3)"], &TRUE_W);
    let v = fit_ok(
        &["--data", &csv, "--target", "y", "--features", "#3,#1"],
        None,
    );
    assert_ols(&v, &["x (#3)", "x (#1)"], &[1.0, 3.0, 2.0]);
    // An exact name wins over the position reading: column "#1" is the third column
    // (read as a position it would be b, listed twice).
    let named = write(
        dir.path(),
        "hash.csv",
        table("b,y,#1", ",", |i| {
            let (a, b) = ab(i);
            vec![num(b), num(y_of(i)), num(a)]
        }),
    );
    let v = fit_ok(
        &["--data", &named, "--target", "y", "--features", "#1,b"],
        None,
    );
    assert_ols(&v, &["#1", "b"], &TRUE_W);
    fails(
        &["--data", &named, "--target", "#9"],
        None,
        "no column #9: positions run from #1 to #3",
    );
}

/// Report 2: a text column that `--features` leaves out made the file unusable.
#[test]
fn unselected_columns_are_not_parsed() {
    let dir = tempfile::tempdir().unwrap();
    let mut content = table("name,a,b,city,y", ",", |i| {
        let (a, b) = ab(i);
        vec![
            format!("person {i}"),
            num(a),
            num(b),
            "\"Lyon, FR\"".into(),
            num(y_of(i)),
        ]
    })
    .into_bytes();
    // Latin-1 bytes (not UTF-8) in a column nobody asked for.
    content.extend_from_slice(b"Jos\xe9,12,4,S\xe3o Paulo,37\n");
    let csv = write(dir.path(), "people.csv", &content);
    let v = fit_ok(
        &["--data", &csv, "--target", "y", "--features", "a,b"],
        None,
    );
    assert_ols(&v, &["a", "b"], &TRUE_W);
    // Selected columns are still checked cell by cell, by line and column name.
    fails(
        &["--data", &csv, "--target", "y"],
        None,
        "line 2, column 'name': 'person 0' is not a number",
    );
    let bad = String::from_utf8_lossy(&content).replacen(",4,2,", ",4,oops,", 1);
    let bad = write(dir.path(), "bad.csv", bad.as_bytes());
    fails(
        &["--data", &bad, "--target", "y", "--features", "a,b"],
        None,
        "line 6, column 'b': 'oops' is not a number",
    );
}

fn write_npy<A: ndarray_npy::WritableElement, D: ndarray::Dimension>(
    dir: &Path,
    name: &str,
    a: &ndarray::Array<A, D>,
) -> String {
    let path: PathBuf = dir.join(name);
    ndarray_npy::write_npy(&path, a).unwrap();
    path.to_str().unwrap().to_string()
}

/// X with columns a, b and y: `y = 1 + 2·x1 + 3·x2`, x3 = y.
fn xy_matrix() -> ndarray::Array2<f64> {
    ndarray::Array2::from_shape_fn((N, 3), |(i, j)| match j {
        0 => ab(i).0,
        1 => ab(i).1,
        _ => y_of(i),
    })
}

/// Report 3: with `.npy` input, `--features` and `--target` were silently ignored.
#[test]
fn npy_honours_target_and_features() {
    let dir = tempfile::tempdir().unwrap();
    let m = xy_matrix();
    let x = write_npy(dir.path(), "X.npy", &m);
    let y = write_npy(dir.path(), "y.npy", &m.column(2).to_owned());
    let v = fit_ok(&["--data", &x, "--target", "x3"], None);
    assert_ols(&v, &["x1", "x2"], &TRUE_W);
    let v = fit_ok(
        &["--data", &x, "--target", "#3", "--features", "x2,#1"],
        None,
    );
    assert_ols(&v, &["x2", "x1"], &[1.0, 3.0, 2.0]);
    // Recognised by the magic bytes, whatever the extension.
    let renamed = dir.path().join("X.bin");
    std::fs::copy(&x, &renamed).unwrap();
    let v = fit_ok(
        &["--data", renamed.to_str().unwrap(), "--target", "x3"],
        None,
    );
    assert_ols(&v, &["x1", "x2"], &TRUE_W);
    let ab_only = write_npy(dir.path(), "Xab.npy", &m.select(ndarray::Axis(1), &[0, 1]));
    let v = fit_ok(
        &[
            "--data",
            &ab_only,
            "--target-file",
            &y,
            "--features",
            "x2, x1",
        ],
        None,
    );
    assert_ols(&v, &["x2", "x1"], &[1.0, 3.0, 2.0]);
    fails(
        &["--data", &ab_only, "--target-file", &y, "--features", "x3"],
        None,
        r#"no column 'x3'; the columns are: #1 "x1", #2 "x2""#,
    );
    fails(
        &["--data", &x, "--target", "x3", "--target-file", &y],
        None,
        "give either --target (a column of the data) or --target-file",
    );
    fails(
        &["--data", &x, "--target", "x3", "--features", "x1,x3"],
        None,
        "'x3' is both the target and a feature",
    );
    let csv = write(dir.path(), "d.csv", "a,y\n1,2\n2,3\n3,5\n");
    fails(
        &["--data", &csv, "--target-file", &y],
        None,
        "--target-file is for .npy data; ",
    );
    fails(
        &["--data", &x, "--target", "x3", "--delimiter", ";"],
        None,
        "--delimiter applies to CSV input",
    );
}

/// A hand-written `.npy` (for dtypes ndarray-npy will not write).
fn raw_npy(dir: &Path, name: &str, descr: &str, shape: &str, data: &[u8]) -> String {
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(data);
    write(dir, name, bytes)
}

/// Report 4: integer and bool `.npy` were refused, and y of shape (n, 1) failed with
/// "ndim … NDIM = Some(1)".
#[test]
fn npy_dtypes_and_shapes() {
    let dir = tempfile::tempdir().unwrap();
    let m = xy_matrix();
    let y_col = m.column(2).mapv(|v| v as i64).insert_axis(ndarray::Axis(1));
    let y = write_npy(dir.path(), "y.npy", &y_col);
    let ab2 = m.select(ndarray::Axis(1), &[0, 1]);
    let d = dir.path();
    let i32s = write_npy(d, "i32.npy", &ab2.mapv(|v| v as i32));
    for x in [
        write_npy(d, "i8.npy", &ab2.mapv(|v| v as i8)),
        write_npy(d, "i16.npy", &ab2.mapv(|v| v as i16)),
        i32s.clone(),
        write_npy(d, "i64.npy", &ab2.mapv(|v| v as i64)),
        write_npy(d, "u8.npy", &ab2.mapv(|v| v as u8)),
        write_npy(d, "u16.npy", &ab2.mapv(|v| v as u16)),
        write_npy(d, "u32.npy", &ab2.mapv(|v| v as u32)),
        write_npy(d, "u64.npy", &ab2.mapv(|v| v as u64)),
        write_npy(d, "f32.npy", &ab2.mapv(|v| v as f32)),
        // Column-major (Fortran order) as NumPy writes a transposed array.
        write_npy(d, "fortran.npy", &ab2.t().to_owned().reversed_axes()),
    ] {
        let v = fit_ok(&["--data", &x, "--target-file", &y], None);
        assert_ols(&v, &["x1", "x2"], &TRUE_W);
    }
    // A bool feature and one feature given as a vector, shape (n,).
    let flag = ndarray::Array1::from_shape_fn(N, |i| i % 3 == 0);
    let flag_y = ndarray::Array1::from_shape_fn(N, |i| 5.0 - 4.0 * f64::from(u8::from(i % 3 == 0)));
    let xb = write_npy(dir.path(), "bool.npy", &flag);
    let yb = write_npy(dir.path(), "yb.npy", &flag_y);
    let v = fit_ok(&["--data", &xb, "--target-file", &yb], None);
    assert_ols(&v, &["x1"], &[5.0, -4.0]);

    let y2 = write_npy(dir.path(), "y2.npy", &ab2);
    fails(
        &["--data", &y, "--target-file", &y2],
        None,
        "y2.npy has shape (12, 2): the target must be n values, shape (n,) or (n, 1)",
    );
    let x3 = write_npy(
        dir.path(),
        "x3.npy",
        &ndarray::Array3::<f64>::zeros((N, 2, 2)),
    );
    fails(
        &["--data", &x3, "--target-file", &y],
        None,
        "x3.npy has shape (12, 2, 2): the features must be a matrix, shape (n, p)",
    );
    let short = write_npy(dir.path(), "short.npy", &ndarray::Array1::<f64>::zeros(5));
    fails(
        &["--data", &i32s, "--target-file", &short],
        None,
        "has 12 rows but",
    );
    let complex = raw_npy(dir.path(), "c.npy", "<c16", "(2, 1)", &[0u8; 32]);
    fails(
        &["--data", &complex, "--target-file", &y],
        None,
        "dtype '<c16' (complex128) is not supported",
    );
    let text = raw_npy(dir.path(), "s.npy", "<U3", "(2,)", &[0u8; 24]);
    fails(
        &["--data", &xb, "--target-file", &text],
        None,
        "dtype '<U3' (unicode strings) is not supported",
    );
    let object = raw_npy(dir.path(), "o.npy", "|O", "(2,)", &[0u8; 16]);
    fails(
        &["--data", &object, "--target-file", &y],
        None,
        "(Python objects) is not supported",
    );
    let truncated = raw_npy(dir.path(), "t.npy", "<f8", "(4, 2)", &[0u8; 40]);
    fails(
        &["--data", &truncated, "--target-file", &y],
        None,
        "the file ends before all the values its header describes",
    );
    // 2^53 + 1 would silently become 2^53.
    let mut big = ab2.mapv(|v| v as i64);
    big[[2, 1]] = (1 << 53) + 1;
    let big = write_npy(dir.path(), "big.npy", &big);
    fails(
        &["--data", &big, "--target-file", &y],
        None,
        "row 3, column 2 holds the int64 value 9007199254740993, which float64 cannot \
         represent exactly",
    );
}

/// Report 5: semicolon- and tab-separated files failed on the first row.
#[test]
fn delimiters_are_detected_or_given() {
    let dir = tempfile::tempdir().unwrap();
    // Like UCI's winequality-red.csv: quoted names with spaces, semicolons.
    let semi = table(
        "\"fixed acidity\";\"volatile acidity\";\"quality\"",
        ";",
        |i| {
            let (a, b) = ab(i);
            vec![num(a), num(b), num(y_of(i))]
        },
    );
    let path = write(dir.path(), "wine.csv", &semi);
    let v = fit_ok(&["--data", &path, "--target", "quality"], None);
    assert_ols(&v, &["fixed acidity", "volatile acidity"], &TRUE_W);
    let v = fit_ok(
        &["--data", "-", "--target", "quality"],
        Some(semi.as_bytes()),
    );
    assert_ols(&v, &["fixed acidity", "volatile acidity"], &TRUE_W);
    let v = fit_ok(
        &["--data", &path, "--target", "quality", "--delimiter", ";"],
        None,
    );
    assert_ols(&v, &["fixed acidity", "volatile acidity"], &TRUE_W);
    fails(
        &["--data", &path, "--target", "quality", "--delimiter", ","],
        None,
        "split on ',', the header is a single column but it contains ';'; use --delimiter ';' \
         (header: \"fixed acidity\";\"volatile acidity\";\"quality\")",
    );

    let tsv = table("a\tb\ty", "\t", |i| {
        let (a, b) = ab(i);
        vec![num(a), num(b), num(y_of(i))]
    });
    let tsv = write(dir.path(), "data.tsv", &tsv);
    for extra in [&[][..], &["--delimiter", "tab"], &["--delimiter", "\\t"]] {
        let v = fit_ok(&[&["--data", &tsv, "--target", "y"], extra].concat(), None);
        assert_ols(&v, &["a", "b"], &TRUE_W);
    }
    fails(
        &["--data", &tsv, "--target", "y", "--delimiter", "|"],
        None,
        r"split on '|', the header is a single column but it contains tabs; use --delimiter 'tab' (header: a\tb\ty)",
    );
    let piped = table("a|b|y", "|", |i| {
        let (a, b) = ab(i);
        vec![num(a), num(b), num(y_of(i))]
    });
    let v = fit_ok(&["--data", "-", "--target", "y"], Some(piped.as_bytes()));
    assert_ols(&v, &["a", "b"], &TRUE_W);
    fails(
        &["--data", &tsv, "--target", "y", "--delimiter", "ab"],
        None,
        "--delimiter must be one ASCII character",
    );
    // A guessed delimiter that the rows do not follow is named in the error.
    fails(
        &["--data", "-", "--target", "y"],
        Some(b"a;b;y\n1,2,3\n"),
        "line 2 has 1 fields but the header has 3 (fields split on ';', detected",
    );
    // Decimal commas (common with semicolons) get a hint.
    fails(
        &["--data", "-", "--target", "y"],
        Some(b"a;y\n1,5;2\n"),
        "line 2, column 'a': '1,5' is not a number; use '.' as the decimal separator",
    );
}

/// Report 6: a column whose name contains a comma could not be selected.
#[test]
fn names_with_commas_are_quoted() {
    let dir = tempfile::tempdir().unwrap();
    let csv = write(
        dir.path(),
        "c.csv",
        table("\"a,b\",c,price", ",", |i| {
            let (a, b) = ab(i);
            vec![num(a), num(b), num(y_of(i))]
        }),
    );
    let v = fit_ok(
        &[
            "--data",
            &csv,
            "--target",
            "price",
            "--features",
            "\"a,b\", c",
        ],
        None,
    );
    assert_ols(&v, &["a,b", "c"], &TRUE_W);
    fails(
        &["--data", &csv, "--target", "cost"],
        None,
        r#"no column 'cost'; the columns are: #1 "a,b", #2 "c", #3 "price""#,
    );
    fails(
        &["--data", &csv, "--target", "price", "--features", "a,b"],
        None,
        r#"no column 'a'; the columns are: #1 "a,b""#,
    );
    fails(
        &["--data", &csv, "--target", "price", "--features", "\"a,b"],
        None,
        "--features: the quote before \"a,b\" is never closed",
    );
}

/// Report 7: after a blank line, CSV errors named the wrong line.
#[test]
fn error_lines_count_blank_lines() {
    fails(
        &["--data", "-", "--target", "y"],
        Some(b"x,y\n1,2\n\n3,abc\n"),
        "<stdin>: line 4, column 'y': 'abc' is not a number",
    );
    fails(
        &["--data", "-", "--target", "y"],
        Some(b"x,y\n\n1,2\n\n\n3\n"),
        "<stdin>: line 6 has 1 fields but the header has 2",
    );
    fails(
        &["--data", "-", "--target", "y"],
        Some(b"x,y\n1,2\n\n5,inf\n"),
        "line 4, column 'y': inf is not finite",
    );
    // Windows line ends, blank lines before the header and a quoted line break.
    fails(
        &["--data", "-", "--target", "y"],
        Some(b"x,y\r\n1,2\r\n\r\n3,abc\r\n"),
        "line 4, column 'y': 'abc' is not a number",
    );
    fails(
        &["--data", "-", "--target", "y", "--features", "x"],
        Some(b"\n\nx,y,note\n1,2,\"two\n\nlines\"\n3,abc,\n"),
        "line 7, column 'y': 'abc' is not a number",
    );
    // A line break inside a cell is escaped: the error stays one line.
    fails(
        &["--data", "-", "--target", "y"],
        Some(b"x,y,note\n1,2,\"two\nlines\"\n"),
        r"line 2, column 'note': 'two\nlines' is not a number",
    );
}

/// Report 8: an empty `--features`, a feature listed twice, or the target as a feature.
#[test]
fn feature_lists_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let csv = write(
        dir.path(),
        "d.csv",
        table("a,b,y", ",", |i| {
            let (a, b) = ab(i);
            vec![num(a), num(b), num(y_of(i))]
        }),
    );
    let base = ["--data", csv.as_str(), "--target", "y", "--features"];
    let with =
        |features: &str, needle: &str| fails(&[&base[..], &[features]].concat(), None, needle);
    with("", "--features is empty");
    with(" , ", "--features is empty");
    with("a,,b", "--features has an empty item (item 2 of 3)");
    with(
        "a,b,a",
        r#"--features lists column #1 "a" twice ('a' and 'a')"#,
    );
    with(
        "a, #1",
        r#"--features lists column #1 "a" twice ('a' and '#1')"#,
    );
    with("a,y", "'y' is both the target and a feature");
    with("a,#3", "'y' is both the target and a feature");
    fails(
        &["--data", &csv, "--target", " "],
        None,
        "--target is empty",
    );
    let v = fit_ok(&[&base[..], &[" b , a "]].concat(), None);
    assert_ols(&v, &["b", "a"], &[1.0, 3.0, 2.0]);
}

/// float32 `.npy` features stay f32 (half the memory, read in place by the f32 paths) and
/// fit exactly as their float64 widening: every float32 is an f64, so any difference in
/// weights, reference or objective would be a wrong read.
#[test]
fn float32_npy_features_stay_f32_and_fit_as_their_widening() {
    let dir = tempfile::tempdir().unwrap();
    let m = xy_matrix();
    let x32 = m
        .select(ndarray::Axis(1), &[0, 1])
        .mapv(|v| (0.1 * v + 0.3) as f32);
    let y = write_npy(dir.path(), "y.npy", &m.column(2).to_owned());
    let f32_path = write_npy(dir.path(), "x32.npy", &x32);
    let f64_path = write_npy(dir.path(), "x64.npy", &x32.mapv(f64::from));
    let spec = |data: &str| descent::data::InputSpec {
        data: data.into(),
        target_file: Some(y.clone()),
        ..Default::default()
    };
    let loaded = descent::data::load(&spec(&f32_path)).unwrap();
    assert_eq!(loaded.dataset.features.precision(), descent::Precision::F32);
    let row_major: Vec<f32> = x32.iter().copied().collect();
    assert_eq!(loaded.dataset.features.slice::<f32>(), Some(&row_major[..]));
    let widened = descent::data::load(&spec(&f64_path)).unwrap();
    assert_eq!(
        widened.dataset.features.precision(),
        descent::Precision::F64
    );
    for precision in ["f32", "f64"] {
        let json = |x: &str| {
            let out = run(
                &["--data", x, "--target-file", &y, "--precision", precision],
                None,
            );
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            serde_json::from_slice::<Value>(&out.stdout).unwrap()
        };
        let (a, b) = (json(&f32_path), json(&f64_path));
        for key in ["weights", "ols", "objective", "epochs_run"] {
            assert_eq!(a[key], b[key], "{precision} {key}");
        }
    }
}
