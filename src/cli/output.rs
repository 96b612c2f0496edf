//! Files written by the CLI.
//!
//! [`check_output`] runs before a fit so a bad path fails in milliseconds, not after the
//! fit. [`write_output`] is atomic (temporary file next to the real target, then rename),
//! follows symlinks, keeps an existing file's mode and owner, and names the user's path,
//! never the temporary file, in its errors.

use descent::error::{Error, Result};
use plotters::prelude::*;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Where one output goes, as checked by [`check_output`].
#[derive(Debug, Clone)]
pub enum OutputTarget {
    /// `-`: standard output.
    Stdout,
    /// A regular file, existing or to be created.
    File(FileTarget),
}

/// A checked output file: the path as given and the real file it names.
#[derive(Debug, Clone)]
pub struct FileTarget {
    path: String,
    what: String,
    real: PathBuf,
}

impl OutputTarget {
    /// The path as given (`-` for stdout).
    pub fn path(&self) -> &str {
        match self {
            OutputTarget::Stdout => "-",
            OutputTarget::File(f) => &f.path,
        }
    }

    /// The real file written (`None` for stdout).
    #[cfg(test)] // the tests below use it; the CLI does not
    pub fn real_path(&self) -> Option<&Path> {
        match self {
            OutputTarget::Stdout => None,
            OutputTarget::File(f) => Some(&f.real),
        }
    }

    /// Whether both outputs land in the same place: the same real file (also through
    /// symlinks or hard links), or both stdout. Two such outputs would overwrite or
    /// interleave each other, so the caller should refuse them.
    pub fn same_file(&self, other: &OutputTarget) -> bool {
        match (self, other) {
            (OutputTarget::Stdout, OutputTarget::Stdout) => true,
            (OutputTarget::File(a), OutputTarget::File(b)) => {
                a.real == b.real
                    || matches!(
                        (fs::metadata(&a.real), fs::metadata(&b.real)),
                        (Ok(x), Ok(y)) if sys::same_inode(&x, &y)
                    )
            }
            _ => false,
        }
    }
}

/// Check, before any work, that `path` can be written as the output `what` (e.g.
/// `"--out"`; it prefixes every message). `-` means stdout. Refused, with one line naming
/// the path: an empty path, a directory, a missing or non-directory parent, a directory
/// we cannot create files in (tried for real), an existing read-only or unwritable file,
/// and anything that is not a regular file (FIFO, socket, device). Symlinks are followed;
/// a dangling one names the file to create.
pub fn check_output(path: &str, what: &str) -> Result<OutputTarget> {
    inspect(path, what, true)
}

/// Write `bytes` to `target` atomically (see [`stage_output`]); stdout gets them as is.
#[cfg(test)] // the tests below use it; the CLI does not
pub fn write_output(target: &OutputTarget, bytes: &[u8]) -> Result<()> {
    stage_output(target, bytes)?.commit()
}

/// Check `path` and write `bytes` to it atomically: [`check_output`] + [`write_output`].
#[cfg(test)] // the tests below use it; the CLI does not
pub fn write_atomic(path: &str, bytes: &[u8]) -> Result<()> {
    write_output(&check_output(path, "")?, bytes)
}

/// An output written to a temporary file next to its target, waiting for
/// [`Staged::commit`]. Dropping it removes the temporary file and leaves the target alone,
/// so a caller can stage every output and commit only when all staged (nothing written
/// earlier ever has to be removed).
#[derive(Debug)]
#[must_use = "a staged output is discarded unless committed"]
pub struct Staged(StagedInner);

#[derive(Debug)]
enum StagedInner {
    Stdout(Vec<u8>),
    File {
        tmp: tempfile::NamedTempFile,
        real: PathBuf,
        label: String,
    },
}

/// Write `bytes` (synced) to a temporary file in the real target's directory, with the
/// existing file's mode and (best effort) owner, or 0666 minus the umask for a new file.
/// The path is checked again, since it may have changed since [`check_output`].
pub fn stage_output(target: &OutputTarget, bytes: &[u8]) -> Result<Staged> {
    let checked = match target {
        OutputTarget::Stdout => return Ok(Staged(StagedInner::Stdout(bytes.to_vec()))),
        OutputTarget::File(f) => f,
    };
    let f = match inspect(&checked.path, &checked.what, false)? {
        OutputTarget::File(f) => f,
        OutputTarget::Stdout => unreachable!("a file path does not become stdout"),
    };
    let label = label(&f.path, &f.what);
    let fail = |e: io::Error| Error::io(&label, format!("cannot write: {}", cause(&e)));
    let dir = f.real.parent().unwrap_or(Path::new("."));
    let existing = fs::metadata(&f.real).ok();
    let mut tmp = sys::create_temp(dir, existing.as_ref()).map_err(|e| {
        Error::io(
            &label,
            format!("cannot create a file in '{}': {}", dir.display(), cause(&e)),
        )
    })?;
    tmp.write_all(bytes).map_err(fail)?;
    tmp.as_file().sync_all().map_err(fail)?;
    Ok(Staged(StagedInner::File {
        tmp,
        real: f.real,
        label,
    }))
}

impl Staged {
    /// Put the output in place: rename over the target, or write to stdout.
    pub fn commit(self) -> Result<()> {
        match self.0 {
            StagedInner::Stdout(bytes) => {
                write_to(&mut io::stdout().lock(), &bytes).map_err(|e| Error::io("stdout", e))
            }
            StagedInner::File { tmp, real, label } => tmp
                .persist(&real)
                .map(drop)
                // The PersistError owns the temporary file; dropping it removes the file.
                .map_err(|e| Error::io(label, format!("cannot replace it: {}", cause(&e.error)))),
        }
    }
}

/// `e` without tempfile's "at path <temporary file>" suffix: users never see that name.
fn cause(e: &io::Error) -> String {
    let msg = e.to_string();
    match msg.find(" at path \"") {
        Some(i) => msg[..i].to_string(),
        None => msg,
    }
}

fn write_to(w: &mut dyn Write, bytes: &[u8]) -> io::Result<()> {
    w.write_all(bytes)?;
    w.flush()
}

fn label(path: &str, what: &str) -> String {
    if what.is_empty() {
        path.to_string()
    } else {
        format!("{what} {path}")
    }
}

/// The checks of [`check_output`]; `probe` also creates and removes a file in the directory.
fn inspect(path: &str, what: &str, probe: bool) -> Result<OutputTarget> {
    let no = |msg: String| Error::io(label(path, what), msg);
    if path.is_empty() {
        let what = if what.is_empty() { "output" } else { what };
        return Err(Error::io(
            what,
            "the path is empty; give a file name, or '-' for stdout",
        ));
    }
    if path == "-" {
        return Ok(OutputTarget::Stdout);
    }
    if path.ends_with('/') {
        return Err(no("names a directory (ends with '/'), not a file".into()));
    }
    let given = Path::new(path);
    let resolved = follow_links(given).map_err(|e| no(format!("cannot follow the link: {e}")))?;
    let Some(name) = resolved.file_name() else {
        return Err(no("is a directory".into()));
    };
    let parent = match resolved.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let shown = parent.display();
    match fs::metadata(parent) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => return Err(no(format!("'{shown}' is not a directory"))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(no(format!("directory '{shown}' does not exist")))
        }
        Err(e) if e.kind() == io::ErrorKind::NotADirectory => {
            return Err(no(format!("'{shown}' is not a directory")))
        }
        Err(e) => return Err(no(format!("cannot use directory '{shown}': {e}"))),
    }
    let dir =
        fs::canonicalize(parent).map_err(|e| no(format!("cannot use directory '{shown}': {e}")))?;
    let real = dir.join(name);
    // Name the real file when a symlink led there, so "/dev/null" is not a mystery.
    let subject = if resolved == given {
        String::new()
    } else {
        format!("its symlink target '{}' ", real.display())
    };
    match fs::symlink_metadata(&real) {
        Ok(m) => check_existing(&real, &m).map_err(|msg| no(format!("{subject}{msg}")))?,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(no(format!("{subject}cannot be read: {e}"))),
    }
    if probe {
        // Permission bits do not tell (root, read-only mounts, ACLs): try it.
        tempfile::Builder::new()
            .prefix(".descent-check-")
            .tempfile_in(&dir)
            .map_err(|e| {
                no(format!(
                    "cannot create files in directory '{}': {}",
                    dir.display(),
                    cause(&e)
                ))
            })?;
    }
    Ok(OutputTarget::File(FileTarget {
        path: path.to_string(),
        what: what.to_string(),
        real,
    }))
}

/// Why an existing `real` (not a symlink) cannot be replaced, if it cannot.
fn check_existing(real: &Path, m: &fs::Metadata) -> std::result::Result<(), String> {
    let ft = m.file_type();
    if ft.is_dir() {
        return Err("is a directory".into());
    }
    if let Some(kind) = sys::special_kind(&ft) {
        return Err(format!(
            "is a {kind}, not a regular file; use '-' to write to stdout"
        ));
    }
    if !ft.is_file() {
        return Err("is not a regular file".into());
    }
    // No write bit for anyone means read-only, even for root, who would pass `access`.
    if sys::read_only(m) {
        return Err("is read-only; refusing to replace it".into());
    }
    // Opening for writing (no truncation) is `access(W_OK)` without libc.
    fs::OpenOptions::new()
        .write(true)
        .open(real)
        .map(drop)
        .map_err(|e| format!("is not writable: {e}"))
}

/// `path` with every symlink in its last component followed (relative targets resolved
/// from the link's directory); the result may not exist (a dangling link).
fn follow_links(path: &Path) -> io::Result<PathBuf> {
    let mut cur = path.to_path_buf();
    for _ in 0..40 {
        match fs::symlink_metadata(&cur) {
            Ok(m) if m.file_type().is_symlink() => {
                let target = fs::read_link(&cur)?;
                cur = match cur.parent() {
                    Some(dir) => dir.join(target),
                    None => target,
                };
            }
            _ => return Ok(cur),
        }
    }
    Err(io::Error::other("too many levels of symbolic links"))
}

#[cfg(unix)]
mod sys {
    use std::fs::{self, FileType, Metadata, Permissions};
    use std::io;
    use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
    use std::path::Path;

    pub fn special_kind(ft: &FileType) -> Option<&'static str> {
        if ft.is_fifo() {
            Some("FIFO (named pipe)")
        } else if ft.is_socket() {
            Some("socket")
        } else if ft.is_char_device() {
            Some("character device")
        } else if ft.is_block_device() {
            Some("block device")
        } else {
            None
        }
    }

    pub fn read_only(m: &Metadata) -> bool {
        m.mode() & 0o222 == 0
    }

    pub fn same_inode(a: &Metadata, b: &Metadata) -> bool {
        a.dev() == b.dev() && a.ino() == b.ino()
    }

    /// A temporary file in `dir`: 0666 minus the umask (applied at open) when new, else
    /// the existing file's owner (best effort) and exact mode.
    pub fn create_temp(
        dir: &Path,
        existing: Option<&Metadata>,
    ) -> io::Result<tempfile::NamedTempFile> {
        let mode = existing.map_or(0o666, |m| m.mode() & 0o777);
        let tmp = tempfile::Builder::new()
            .prefix(".descent-")
            .suffix(".tmp")
            .permissions(Permissions::from_mode(mode))
            .tempfile_in(dir)?;
        if let Some(m) = existing {
            let file = tmp.as_file();
            // Ownership first: chown clears set-id bits, chmod below restores them.
            if std::os::unix::fs::fchown(file, Some(m.uid()), Some(m.gid())).is_err() {
                let _ = std::os::unix::fs::fchown(file, None, Some(m.gid()));
            }
            // fchmod ignores the umask, so 0666 stays 0666.
            file.set_permissions(fs::Permissions::from_mode(m.mode() & 0o7777))?;
        }
        Ok(tmp)
    }
}

#[cfg(not(unix))]
mod sys {
    use std::fs::{FileType, Metadata};
    use std::io;
    use std::path::Path;

    pub fn special_kind(_: &FileType) -> Option<&'static str> {
        None
    }

    pub fn read_only(m: &Metadata) -> bool {
        m.permissions().readonly()
    }

    pub fn same_inode(_: &Metadata, _: &Metadata) -> bool {
        false
    }

    pub fn create_temp(
        dir: &Path,
        existing: Option<&Metadata>,
    ) -> io::Result<tempfile::NamedTempFile> {
        let tmp = tempfile::Builder::new()
            .prefix(".descent-")
            .suffix(".tmp")
            .tempfile_in(dir)?;
        if let Some(m) = existing {
            tmp.as_file().set_permissions(m.permissions())?;
        }
        Ok(tmp)
    }
}

/// The loss history as `epoch,mse` lines: [`loss_csv_column`] with `"mse"`.
#[cfg(test)] // the tests below use it; the CLI does not
pub fn loss_csv(loss: &[f64]) -> String {
    loss_csv_column(loss, "mse")
}

/// The loss history as `epoch,<column>` lines. Values print shortest round-trip (`{:e}`),
/// so parsing them gives back the exact f64.
pub fn loss_csv_column(loss: &[f64], column: &str) -> String {
    let mut out = String::with_capacity(16 + loss.len() * 24);
    out.push_str("epoch,");
    if column.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&column.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(column);
    }
    out.push('\n');
    for (i, l) in loss.iter().enumerate() {
        use std::fmt::Write as _;
        let _ = writeln!(out, "{},{l:e}", i + 1);
    }
    out
}

/// Histories longer than twice this are drawn as this many buckets (min and max each).
const PLOT_BUCKETS: usize = 2000;

/// The finite `(epoch, value)` pairs to draw, in epoch order: all of them for a short
/// history, else each bucket's min and max, so spikes survive.
fn plot_points(loss: &[f64]) -> Vec<(usize, f64)> {
    let n = loss.len();
    if n <= 2 * PLOT_BUCKETS {
        return loss
            .iter()
            .enumerate()
            .filter(|(_, v)| v.is_finite())
            .map(|(i, v)| (i + 1, *v))
            .collect();
    }
    let mut out = Vec::with_capacity(2 * PLOT_BUCKETS);
    for b in 0..PLOT_BUCKETS {
        let start = b * n / PLOT_BUCKETS;
        let end = (b + 1) * n / PLOT_BUCKETS;
        let mut lo: Option<(usize, f64)> = None;
        let mut hi: Option<(usize, f64)> = None;
        for (i, &v) in loss[start..end].iter().enumerate() {
            if !v.is_finite() {
                continue;
            }
            if lo.is_none_or(|(_, l)| v < l) {
                lo = Some((start + i + 1, v));
            }
            if hi.is_none_or(|(_, h)| v > h) {
                hi = Some((start + i + 1, v));
            }
        }
        match (lo, hi) {
            (Some(a), Some(b)) if a.0 != b.0 => {
                out.extend(if a.0 < b.0 { [a, b] } else { [b, a] });
            }
            (Some(a), _) => out.push(a),
            _ => {}
        }
    }
    out
}

/// The y axis. Plotters' tick search loops forever on ranges like 1e-300..inf or widths
/// lost to rounding, so it only ever sees a tame range: log10 of the values, or the values
/// scaled by `10^-exp` to magnitude below 1e5 with a width that is never too narrow.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Axis {
    Log { lo: f64, hi: f64 },
    Linear { lo: f64, hi: f64, exp: i32 },
}

impl Axis {
    /// For finite values in `min..=max` (`None`: nothing to plot).
    fn new(range: Option<(f64, f64)>) -> Axis {
        let Some((min, max)) = range else {
            return Axis::Linear {
                lo: 0.0,
                hi: 1.0,
                exp: 0,
            };
        };
        // max / min may overflow to inf: still more than a decade.
        if min > 0.0 && max / min > 10.0 {
            let lo = min.log10().floor();
            let hi = max.log10().ceil().max(lo + 1.0);
            return Axis::Log { lo, hi };
        }
        let mag = min.abs().max(max.abs());
        let exp = if mag == 0.0 || (1e-3..1e5).contains(&mag) {
            0
        } else {
            mag.log10().floor() as i32
        };
        let (smin, smax) = (scale(min, exp), scale(max, exp));
        let smag = smin.abs().max(smax.abs());
        let width = smax - smin;
        let (lo, hi) = if smag == 0.0 {
            (-1.0, 1.0)
        } else if width <= 1e-9 * smag {
            (smin - 0.1 * smag, smax + 0.1 * smag)
        } else {
            (smin - 0.05 * width, smax + 0.05 * width)
        };
        Axis::Linear { lo, hi, exp }
    }

    fn range(&self) -> (f64, f64) {
        match *self {
            Axis::Log { lo, hi } | Axis::Linear { lo, hi, .. } => (lo, hi),
        }
    }

    fn map(&self, v: f64) -> f64 {
        match *self {
            Axis::Log { .. } => v.log10(),
            Axis::Linear { exp, .. } => scale(v, exp),
        }
    }

    fn desc(&self) -> String {
        match *self {
            Axis::Log { .. } => "MSE (log scale)".into(),
            Axis::Linear { exp: 0, .. } => "MSE".into(),
            Axis::Linear { exp, .. } => format!("MSE (×1e{exp})"),
        }
    }

    fn label(&self, y: f64) -> String {
        let (lo, hi) = self.range();
        match self {
            Axis::Log { .. } if (y - y.round()).abs() < 1e-9 => match y.round() as i64 {
                0 => "1".into(),
                k => format!("1e{k}"),
            },
            Axis::Log { .. } => format!("{:.1e}", 10f64.powf(y)),
            Axis::Linear { .. } => {
                // Enough decimals to tell ticks about a tenth of the range apart.
                let step = (hi - lo) / 10.0;
                let decimals = (-step.log10().floor()).clamp(0.0, 15.0) as usize;
                let y = if y.abs() < step * 1e-6 { 0.0 } else { y };
                format!("{y:.decimals$}")
            }
        }
    }
}

/// `v * 10^-exp` without overflowing the power for |exp| up to ~330.
fn scale(v: f64, exp: i32) -> f64 {
    let half = exp / 2;
    v * 10f64.powi(-half) * 10f64.powi(half - exp)
}

/// An SVG line plot of the loss history. Log y-axis when every value is positive and they
/// span more than a decade, else linear with a padded range. Non-finite values are skipped
/// (counted in the title) and long histories decimated, so any history gives a small SVG
/// in milliseconds.
pub fn loss_svg(loss: &[f64], title: &str) -> Result<String> {
    loss_svg_series(&[("", loss)], title)
}

/// Colours of the series of a comparison plot, in order (then repeated).
const SERIES_COLOURS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

/// Several loss histories on one plot (e.g. one per optimizer), with a legend when the
/// series are named; axis and decimation rules as in [`loss_svg`].
pub fn loss_svg_series(series: &[(&str, &[f64])], title: &str) -> Result<String> {
    let all: Vec<f64> = series.iter().flat_map(|(_, l)| l.iter().copied()).collect();
    let points: Vec<Vec<(usize, f64)>> = series.iter().map(|(_, l)| plot_points(l)).collect();
    let skipped = all.iter().filter(|v| !v.is_finite()).count();
    let range = points
        .iter()
        .flatten()
        .fold(None, |r: Option<(f64, f64)>, &(_, v)| {
            Some(r.map_or((v, v), |(a, b)| (a.min(v), b.max(v))))
        });
    let axis = Axis::new(range);
    let caption = match (all.len(), skipped) {
        (0, _) => format!("{title} (empty loss history)"),
        (_, 0) => title.to_string(),
        (n, s) if s == n => format!("{title} (no finite values)"),
        (_, s) => format!("{title} ({s} non-finite values not shown)"),
    };
    let x_max = series
        .iter()
        .map(|(_, l)| l.len())
        .max()
        .unwrap_or(0)
        .max(2);
    let (y_lo, y_hi) = axis.range();
    let y_labels = match axis {
        // One tick per decade or a round multiple, never between decades.
        Axis::Log { lo, hi } => ((hi - lo) as usize + 1).min(11),
        Axis::Linear { .. } => 10,
    };
    let x_fmt = |x: &f64| format!("{}", x.round() as u64);
    let y_fmt = |y: &f64| axis.label(*y);
    let plot_err = |e: &dyn std::fmt::Display| Error::io("plot", e);

    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (800, 500)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| plot_err(&e))?;
        let mut chart = ChartBuilder::on(&root)
            .caption(caption, ("sans-serif", 22))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(80)
            .build_cartesian_2d(1.0..x_max as f64, y_lo..y_hi)
            .map_err(|e| plot_err(&e))?;
        chart
            .configure_mesh()
            .x_desc("epoch")
            .y_desc(axis.desc())
            .x_labels(x_max.min(10))
            .y_labels(y_labels)
            .x_label_formatter(&x_fmt)
            .y_label_formatter(&y_fmt)
            .draw()
            .map_err(|e| plot_err(&e))?;
        let named = series.iter().any(|(name, _)| !name.is_empty());
        for (k, ((name, _), pts)) in series.iter().zip(&points).enumerate() {
            let colour = SERIES_COLOURS[k % SERIES_COLOURS.len()];
            let xy: Vec<(f64, f64)> = pts.iter().map(|&(e, v)| (e as f64, axis.map(v))).collect();
            let drawn = if let [only] = xy[..] {
                chart
                    .draw_series(std::iter::once(Circle::new(only, 3, colour.filled())))
                    .map_err(|e| plot_err(&e))?
            } else {
                chart
                    .draw_series(LineSeries::new(xy, colour.stroke_width(2)))
                    .map_err(|e| plot_err(&e))?
            };
            if named {
                drawn.label(*name).legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2))
                });
            }
        }
        if named {
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK)
                .draw()
                .map_err(|e| plot_err(&e))?;
        }
        root.present().map_err(|e| plot_err(&e))?;
    }
    Ok(svg)
}

/// Loss histories side by side as CSV: `epoch,<name>,<name>…`, blank where a run had
/// already stopped.
pub fn loss_csv_series(series: &[(&str, &[f64])]) -> String {
    let rows = series.iter().map(|(_, l)| l.len()).max().unwrap_or(0);
    let mut out = String::from("epoch");
    for (name, _) in series {
        out.push(',');
        out.push_str(name);
    }
    out.push('\n');
    for i in 0..rows {
        out.push_str(&(i + 1).to_string());
        for (_, l) in series {
            out.push(',');
            if let Some(v) = l.get(i) {
                use std::fmt::Write as _;
                let _ = write!(out, "{v:e}");
            }
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn svg_of(loss: &[f64]) -> String {
        let start = Instant::now();
        let svg = loss_svg(loss, "t").unwrap();
        let took = start.elapsed();
        // A guard against the runaway tick search, not a benchmark.
        assert!(
            took < Duration::from_secs(1),
            "{} values: {took:?}",
            loss.len()
        );
        assert!(
            svg.len() < 1_000_000,
            "{} values: {} bytes",
            loss.len(),
            svg.len()
        );
        assert!(svg.starts_with("<svg") && svg.contains("epoch"));
        svg
    }

    #[test]
    fn output_plot_degenerate_histories_are_small_and_fast() {
        let nan = f64::NAN;
        let inf = f64::INFINITY;
        let cases: Vec<Vec<f64>> = vec![
            vec![],
            vec![0.0],
            vec![2.5],
            vec![0.0; 1000],
            vec![3.0; 1000],
            vec![1e-300; 10],
            vec![f64::MIN_POSITIVE / 4.0, 5e-324],
            vec![1.0, 1.0 + f64::EPSILON, 1.0],
            vec![1.0, 0.0, -1.0, nan, inf, -inf, 2.0],
            vec![nan; 100],
            vec![inf, -inf],
            vec![1e-300, 1e300, 1.0],
            vec![1e300, 0.0],
            vec![f64::MAX, -f64::MAX, 0.0],
            vec![f64::MAX; 3],
            vec![-5.0, -4.0],
            (0..5000).map(|i| 0.5f64.powi(i)).collect(),
        ];
        for loss in &cases {
            svg_of(loss);
        }
    }

    #[test]
    fn output_plot_ten_million_points_is_decimated_and_keeps_spikes() {
        let mut loss: Vec<f64> = (0..10_000_000).map(|i| 1.0 / (1.0 + i as f64)).collect();
        loss[5_000_123] = 1e6;
        loss[7_777_777] = f64::NAN;
        let svg = svg_of(&loss);
        assert!(svg.contains("1 non-finite values not shown"));
        let points = plot_points(&loss);
        assert!(points.len() <= 2 * PLOT_BUCKETS);
        assert!(points.contains(&(5_000_124, 1e6)), "the spike survives");
        assert!(points.windows(2).all(|w| w[0].0 < w[1].0), "epoch order");
        assert!(
            points.contains(&(10_000_000, 1e-7)),
            "the last value is drawn"
        );
    }

    #[test]
    fn output_plot_axis_choice() {
        let log = Axis::new(Some((1e-6, 1.0)));
        assert_eq!(log, Axis::Log { lo: -6.0, hi: 0.0 });
        assert_eq!(log.label(-3.0), "1e-3");
        assert!(matches!(Axis::new(Some((0.0, 1.0))), Axis::Linear { .. }));
        // Within a decade: linear.
        assert!(matches!(Axis::new(Some((2.0, 9.0))), Axis::Linear { .. }));
        assert_eq!(
            Axis::new(Some((0.0, 0.0))),
            Axis::Linear {
                lo: -1.0,
                hi: 1.0,
                exp: 0
            }
        );
        // Never an empty range, and plotters only sees tame magnitudes.
        for (a, b) in [
            (5.0, 5.0),
            (1e-300, 1e-300),
            (5e-324, 5e-324),
            (-f64::MAX, f64::MAX),
        ] {
            let (lo, hi) = Axis::new(Some((a, b))).range();
            assert!(
                lo < hi && lo.is_finite() && hi.is_finite(),
                "{a}..{b}: {lo}..{hi}"
            );
            assert!(lo.abs().max(hi.abs()) < 1e6, "{a}..{b}: {lo}..{hi}");
        }
        let huge = Axis::new(Some((1e-300, 1e300)));
        assert_eq!(
            huge,
            Axis::Log {
                lo: -300.0,
                hi: 300.0
            }
        );
        let svg = svg_of(&[1e-300, 1e300]);
        assert!(svg.contains("log scale") && svg.contains("1e300"));
        let svg = svg_of(&[0.0, 0.0]);
        assert!(!svg.contains("log scale"));
    }

    #[test]
    fn output_loss_csv_names_the_column_and_round_trips() {
        let loss = [0.1 + 0.2, 1e-300, 5e-324, 123456.789, f64::MAX, 0.0];
        let csv = loss_csv_column(&loss, "mse_std");
        let mut lines = csv.lines();
        assert_eq!(lines.next(), Some("epoch,mse_std"));
        for (i, (line, want)) in lines.zip(loss).enumerate() {
            let (epoch, value) = line.split_once(',').unwrap();
            assert_eq!(epoch, (i + 1).to_string());
            assert_eq!(
                value.parse::<f64>().unwrap().to_bits(),
                want.to_bits(),
                "{line}"
            );
        }
        assert!(loss_csv(&[1.0]).starts_with("epoch,mse\n1,1e0\n"));
        assert!(loss_csv_column(&[], "a,b").starts_with("epoch,\"a,b\"\n"));
    }

    #[cfg(unix)]
    mod files {
        use super::super::*;
        use std::os::unix::fs::{FileTypeExt, PermissionsExt};
        use std::path::Path;

        fn s(p: &Path) -> &str {
            p.to_str().unwrap()
        }

        fn mode(p: &Path) -> u32 {
            fs::metadata(p).unwrap().permissions().mode() & 0o7777
        }

        /// The message for a refused path: one line naming the option and the path.
        fn refused(path: &str) -> String {
            let msg = check_output(path, "--out").unwrap_err().to_string();
            assert!(msg.starts_with(&format!("--out {path}: ")), "{msg}");
            assert!(!msg.contains('\n') && !msg.contains(".descent-"), "{msg}");
            msg
        }

        fn entries(dir: &Path) -> Vec<String> {
            let mut names: Vec<String> = fs::read_dir(dir)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            names
        }

        #[test]
        fn output_check_refuses_empty_and_directories() {
            let msg = check_output("", "--out").unwrap_err().to_string();
            assert!(msg.starts_with("--out: ") && msg.contains("empty"), "{msg}");
            let dir = tempfile::tempdir().unwrap();
            assert!(refused(s(dir.path())).contains("is a directory"));
            assert!(refused(&format!("{}/new/", s(dir.path()))).contains("directory"));
            assert!(refused(&format!("{}/..", s(dir.path()))).contains("is a directory"));
        }

        #[test]
        fn output_check_refuses_missing_or_file_parents() {
            let dir = tempfile::tempdir().unwrap();
            let missing = dir.path().join("no/such/fit.json");
            assert!(refused(s(&missing)).contains("does not exist"));
            let file = dir.path().join("file");
            fs::write(&file, "x").unwrap();
            assert!(refused(s(&file.join("fit.json"))).contains("is not a directory"));
            assert!(refused(s(&file.join("sub/fit.json"))).contains("is not a directory"));
            assert_eq!(entries(dir.path()), ["file"]);
        }

        #[test]
        fn output_check_refuses_a_directory_we_cannot_create_files_in() {
            let dir = tempfile::tempdir().unwrap();
            let locked = dir.path().join("locked");
            fs::create_dir(&locked).unwrap();
            fs::set_permissions(&locked, fs::Permissions::from_mode(0o555)).unwrap();
            // Root ignores the mode; /sys refuses even root.
            let path = if fs::File::create(locked.join("probe")).is_err() {
                locked.join("fit.json")
            } else {
                Path::new("/sys/descent-fit.json").to_path_buf()
            };
            let msg = refused(s(&path));
            assert!(msg.contains("cannot create files in directory"), "{msg}");
            fs::set_permissions(&locked, fs::Permissions::from_mode(0o755)).unwrap();
        }

        #[test]
        fn output_check_refuses_read_only_files_and_keeps_them() {
            let dir = tempfile::tempdir().unwrap();
            let ro = dir.path().join("ro.json");
            fs::write(&ro, "keep").unwrap();
            fs::set_permissions(&ro, fs::Permissions::from_mode(0o444)).unwrap();
            assert!(refused(s(&ro)).contains("read-only"));
            assert!(write_atomic(s(&ro), b"new").is_err());
            assert_eq!(fs::read_to_string(&ro).unwrap(), "keep");
            assert_eq!(mode(&ro), 0o444);
            assert_eq!(entries(dir.path()), ["ro.json"]);
        }

        #[test]
        fn output_check_refuses_fifos_sockets_and_devices() {
            let dir = tempfile::tempdir().unwrap();
            let fifo = dir.path().join("fifo");
            let ok = std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap();
            assert!(ok.success());
            let msg = refused(s(&fifo));
            assert!(
                msg.contains("FIFO") && msg.contains("not a regular file"),
                "{msg}"
            );
            assert!(msg.contains("'-'"), "{msg}");
            assert!(write_atomic(s(&fifo), b"x").is_err());
            assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());

            let sock = dir.path().join("sock");
            let _listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
            assert!(refused(s(&sock)).contains("socket"));

            for dev in ["/dev/null", "/dev/full"] {
                let msg = refused(dev);
                assert!(
                    msg.contains("character device") && msg.contains("'-'"),
                    "{msg}"
                );
                assert!(write_atomic(dev, b"x").is_err());
                let ft = fs::metadata(dev).unwrap().file_type();
                assert!(ft.is_char_device(), "{dev} is still a device");
            }
            // Through a symlink the message names the real target.
            let link = dir.path().join("null.json");
            std::os::unix::fs::symlink("/dev/null", &link).unwrap();
            let msg = refused(s(&link));
            assert!(
                msg.contains("'/dev/null'") && msg.contains("character device"),
                "{msg}"
            );
        }

        #[test]
        fn output_stdout_target() {
            let t = check_output("-", "--out").unwrap();
            assert!(matches!(t, OutputTarget::Stdout));
            assert_eq!(t.path(), "-");
            assert!(t.real_path().is_none());
            assert!(t.same_file(&OutputTarget::Stdout));
            write_output(&t, b"").unwrap();
            let mut buf = Vec::new();
            write_to(&mut buf, b"abc").unwrap();
            assert_eq!(buf, b"abc");
        }

        #[test]
        fn output_same_file_sees_through_links() {
            let dir = tempfile::tempdir().unwrap();
            let a = dir.path().join("a.json");
            fs::write(&a, "").unwrap();
            let sym = dir.path().join("sym.json");
            std::os::unix::fs::symlink("a.json", &sym).unwrap();
            let hard = dir.path().join("hard.json");
            fs::hard_link(&a, &hard).unwrap();
            let dotted = format!("{}/./../{}/a.json", s(dir.path()), {
                dir.path().file_name().unwrap().to_str().unwrap()
            });
            let t = |p: &str| check_output(p, "--out").unwrap();
            let ta = t(s(&a));
            for other in [s(&sym), s(&hard), &dotted] {
                assert!(ta.same_file(&t(other)), "{other}");
            }
            assert!(!ta.same_file(&t(s(&dir.path().join("b.json")))));
            assert!(!ta.same_file(&OutputTarget::Stdout));
            // Two dangling links to one new file.
            std::os::unix::fs::symlink("new.json", dir.path().join("l1")).unwrap();
            std::os::unix::fs::symlink("new.json", dir.path().join("l2")).unwrap();
            let l1 = t(s(&dir.path().join("l1")));
            assert!(l1.same_file(&t(s(&dir.path().join("l2")))));
            assert_eq!(
                l1.real_path().unwrap(),
                dir.path().canonicalize().unwrap().join("new.json")
            );
        }

        #[test]
        fn output_writes_through_symlinks() {
            let dir = tempfile::tempdir().unwrap();
            let sub = dir.path().join("sub");
            fs::create_dir(&sub).unwrap();
            let target = sub.join("real.json");
            fs::write(&target, "old").unwrap();
            let link = dir.path().join("link.json");
            std::os::unix::fs::symlink("sub/real.json", &link).unwrap();
            let chain = dir.path().join("chain.json");
            std::os::unix::fs::symlink("link.json", &chain).unwrap();
            write_atomic(s(&chain), b"new").unwrap();
            assert_eq!(fs::read_to_string(&target).unwrap(), "new");
            for l in [&link, &chain] {
                assert!(fs::symlink_metadata(l).unwrap().file_type().is_symlink());
            }
            assert_eq!(fs::read_link(&link).unwrap(), Path::new("sub/real.json"));
            // A dangling link creates its target.
            let dangling = dir.path().join("dangling.json");
            std::os::unix::fs::symlink("sub/created.json", &dangling).unwrap();
            write_atomic(s(&dangling), b"made").unwrap();
            assert_eq!(
                fs::read_to_string(sub.join("created.json")).unwrap(),
                "made"
            );
            assert!(fs::symlink_metadata(&dangling)
                .unwrap()
                .file_type()
                .is_symlink());
            assert_eq!(entries(&sub), ["created.json", "real.json"]);
            // A loop is refused, not followed forever.
            let (x, y) = (dir.path().join("x"), dir.path().join("y"));
            std::os::unix::fs::symlink(&y, &x).unwrap();
            std::os::unix::fs::symlink(&x, &y).unwrap();
            assert!(refused(s(&x)).contains("symbolic links"));
        }

        #[test]
        fn output_keeps_modes_and_new_files_follow_the_umask() {
            let dir = tempfile::tempdir().unwrap();
            // The umask, as std::fs::File::create (mode 0666) sees it.
            let probe = dir.path().join("probe");
            fs::File::create(&probe).unwrap();
            let want_new = mode(&probe);
            let new = dir.path().join("new.json");
            write_atomic(s(&new), b"x").unwrap();
            assert_eq!(mode(&new), want_new);
            assert_eq!(mode(&new), 0o666 & want_new);
            for m in [0o640, 0o666, 0o755, 0o200] {
                let p = dir.path().join(format!("m{m:o}"));
                fs::write(&p, "old").unwrap();
                fs::set_permissions(&p, fs::Permissions::from_mode(m)).unwrap();
                write_atomic(s(&p), b"new").unwrap();
                assert_eq!(mode(&p), m, "{m:o}");
                fs::set_permissions(&p, fs::Permissions::from_mode(0o644)).unwrap();
                assert_eq!(fs::read_to_string(&p).unwrap(), "new");
            }
        }

        #[test]
        fn output_failed_writes_leave_no_temp_file_and_name_the_path() {
            let dir = tempfile::tempdir().unwrap();
            let out = dir.path().join("fit.json");
            let t = check_output(s(&out), "--out").unwrap();
            assert_eq!(
                entries(dir.path()),
                Vec::<String>::new(),
                "the probe is removed"
            );
            // Staged, then the target becomes a non-empty directory: the rename fails.
            let staged = stage_output(&t, b"data").unwrap();
            assert_eq!(entries(dir.path()).len(), 1);
            fs::create_dir(&out).unwrap();
            fs::write(out.join("keep"), "").unwrap();
            let msg = staged.commit().unwrap_err().to_string();
            assert!(msg.starts_with(&format!("--out {}: ", s(&out))), "{msg}");
            assert!(!msg.contains(".descent-"), "{msg}");
            assert_eq!(entries(dir.path()), ["fit.json"]);
            // Changed since the check: refused before any temporary file.
            let msg = write_output(&t, b"data").unwrap_err().to_string();
            assert!(msg.contains("is a directory"), "{msg}");
            assert_eq!(entries(dir.path()), ["fit.json"]);
            // Dropping a staged output leaves nothing.
            let other = check_output(s(&dir.path().join("o.csv")), "--loss-csv").unwrap();
            drop(stage_output(&other, b"x").unwrap());
            assert_eq!(entries(dir.path()), ["fit.json"]);
            // A missing directory names the user's path.
            let gone = dir.path().join("gone/fit.json");
            let msg = write_atomic(s(&gone), b"x").unwrap_err().to_string();
            assert!(
                msg.starts_with(s(&gone)) && msg.contains("does not exist"),
                "{msg}"
            );
        }
    }
}
