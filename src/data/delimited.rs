//! Delimited text (CSV, semicolons, tabs, ...) with a header: the delimiter is detected
//! from the header unless given, and only the selected columns of each record are parsed.
//!
//! Line numbers in errors are the file's own. The csv crate alone gets them wrong: a
//! record's position is taken before blank lines are skipped and before the `\n` of a
//! `\r\n` pair is consumed. So the rows pass through [`LineEnds`], which turns every line
//! ending into one `\n` and every blank line into a one-space line; the reader then skips
//! nothing, and each record's starting line is exact.

use super::select::{printable, select, Selection};
use super::table::{InputSpec, Loaded, SourceInfo};
use super::Dataset;
use crate::error::{Error, Result};
use crate::names::Setting;
use ndarray::{Array1, Array2};
use std::io::{self, BufRead, Cursor, Read};

/// Delimiters tried when none is given, in order of preference on a tie.
const CANDIDATES: [u8; 4] = [b',', b';', b'\t', b'|'];

/// `--delimiter`: `,` `;` `|`, `tab` or `\t`, or any other single ASCII character except
/// the quote and line breaks.
pub fn parse_delimiter(s: &str) -> Result<u8> {
    match s {
        "tab" | "\\t" | "\t" => Ok(b'\t'),
        _ if s.len() == 1 && s.is_ascii() && !matches!(s, "\"" | "\n" | "\r") => {
            Ok(s.as_bytes()[0])
        }
        _ => Err(Error::Config(format!(
            "{} must be one ASCII character such as , ; | or 'tab', not '{s}'",
            Setting::Delimiter.named()
        ))),
    }
}

/// Count each candidate delimiter outside double quotes; the most frequent wins, and a
/// header with none of them (a single column) is read as comma-separated.
fn detect_delimiter(header: &[u8]) -> u8 {
    let counts = count_outside_quotes(header);
    let mut best = (b',', 0);
    for (&c, &n) in CANDIDATES.iter().zip(&counts) {
        if n > best.1 {
            best = (c, n);
        }
    }
    best.0
}

fn count_outside_quotes(header: &[u8]) -> [usize; 4] {
    let mut counts = [0; 4];
    let mut quoted = false;
    for &b in header {
        if b == b'"' {
            quoted = !quoted;
        } else if !quoted {
            if let Some(k) = CANDIDATES.iter().position(|&c| c == b) {
                counts[k] += 1;
            }
        }
    }
    counts
}

/// The header record's bytes (several physical lines if a quoted name spans them),
/// without a UTF-8 byte-order mark and ending in a plain `\n`, plus the number of blank
/// lines before it. The rest stays in `source`.
fn header_bytes(source: &mut impl BufRead, display: &str) -> Result<(Vec<u8>, u64)> {
    let mut head = Vec::new();
    let mut blank = 0;
    loop {
        let read = source
            .read_until(b'\n', &mut head)
            .map_err(|e| Error::io(display, e))?;
        if read == 0 {
            break;
        }
        let text = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&head);
        if text.iter().all(u8::is_ascii_whitespace) {
            blank += 1;
            head.clear();
            continue;
        }
        if head.iter().filter(|&&b| b == b'"').count() % 2 == 0 {
            break;
        }
    }
    if head.starts_with(b"\xEF\xBB\xBF") {
        head.drain(..3);
    }
    if head.ends_with(b"\r\n") {
        head.truncate(head.len() - 2);
        head.push(b'\n');
    }
    Ok((head, blank))
}

/// Read CSV `source` (a file or stdin) for `spec`.
pub(crate) fn load_csv(
    spec: &InputSpec,
    mut source: impl BufRead,
    display: &str,
) -> Result<Loaded> {
    if spec.target_file.is_some() {
        return Err(Error::Config(format!(
            "{} is for .npy data; {display} is read as CSV, so name the target column with {}",
            Setting::TargetFile.named(),
            Setting::Target.named()
        )));
    }
    let Some(target) = spec.target.as_deref() else {
        return Err(Error::Config(format!(
            "CSV input needs {} naming the target column",
            Setting::Target.named()
        )));
    };
    let given = spec.delimiter.as_deref().map(parse_delimiter).transpose()?;
    let (head, blank) = header_bytes(&mut source, display)?;
    let delimiter = given.unwrap_or_else(|| detect_delimiter(&head));
    let rows = LineEnds::new(source, delimiter);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .delimiter(delimiter)
        .trim(csv::Trim::All)
        // Widths are checked here, so blank lines can be told apart from short rows.
        .flexible(true)
        .from_reader(Cursor::new(&head).chain(rows));
    let columns: Vec<String> = reader
        .byte_headers()
        .map_err(|e| Error::Data(format!("{display}: {e}")))?
        .iter()
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    if columns.is_empty() || columns.iter().all(String::is_empty) {
        return Err(Error::Data(format!("{display} is empty (no header row)")));
    }
    if columns.len() == 1 {
        wrong_delimiter_hint(&head, delimiter, display)?;
    }
    let sel = select(&columns, Some(target), spec.features.as_deref())?;
    let t = sel.target.expect("CSV selection has a target");
    let cells = Cells {
        display,
        columns: &columns,
        delimiter,
        detected: given.is_none(),
        blank,
    };
    // Only the selected columns are kept: memory follows the numbers the fit uses.
    let mut x: Vec<f64> = Vec::new();
    let mut y: Vec<f64> = Vec::new();
    let mut record = csv::ByteRecord::new();
    while let Some(line) = cells.next(&mut reader, &mut record)? {
        y.push(cells.parse(&record, t, line)?);
        for &j in &sel.features {
            x.push(cells.parse(&record, j, line)?);
        }
    }
    if y.is_empty() {
        return Err(Error::Data(format!(
            "{display} has a header but no data rows"
        )));
    }
    let rows = y.len();
    let Selection {
        features,
        feature_names,
        ..
    } = sel;
    let x = Array2::from_shape_vec((rows, features.len()), x)
        .map_err(|e| Error::Data(e.to_string()))?;
    Ok(Loaded {
        dataset: Dataset::with_names(x, Array1::from_vec(y), feature_names)?,
        source: SourceInfo {
            path: spec.data.clone(),
            format: "csv",
            delimiter: Some(char::from(delimiter)),
            delimiter_detected: given.is_none(),
            rows,
            columns: columns.len(),
        },
        target: target.trim().to_string(),
    })
}

/// A header that reads as one column but holds another likely delimiter was split with
/// the wrong one (usually a given `--delimiter`); say which would work.
fn wrong_delimiter_hint(head: &[u8], used: u8, display: &str) -> Result<()> {
    let counts = count_outside_quotes(head);
    let other = CANDIDATES
        .iter()
        .zip(counts)
        .filter(|&(&c, n)| c != used && n > 0)
        .max_by_key(|&(_, n)| n)
        .map(|(&c, _)| c);
    let Some(c) = other else {
        return Ok(());
    };
    let text = String::from_utf8_lossy(head);
    let text = text.trim();
    let shown: String = text.chars().take(80).collect();
    let more = if shown.len() < text.len() { "..." } else { "" };
    Err(Error::Data(format!(
        "{display}: split on {}, the header is a single column but it contains {}; use {} \
         (header: {}{more})",
        delimiter_name(used),
        delimiter_name(c),
        // Quoted as a shell word: the delimiter is only ever given on the command line.
        Setting::Delimiter.literal(if c == b'\t' {
            "'tab'".to_string()
        } else {
            format!("'{}'", char::from(c))
        }),
        printable(&shown),
    )))
}

fn delimiter_name(d: u8) -> String {
    match d {
        b'\t' => "tabs".into(),
        _ => format!("'{}'", char::from(d)),
    }
}

/// Context for reading records and turning their selected fields into numbers.
struct Cells<'a> {
    display: &'a str,
    columns: &'a [String],
    delimiter: u8,
    detected: bool,
    /// Blank lines before the header, which the reader never saw.
    blank: u64,
}

impl Cells<'_> {
    /// The next data record and the line it starts on; blank lines are skipped and
    /// records of the wrong width refused.
    fn next<R: Read>(
        &self,
        reader: &mut csv::Reader<R>,
        record: &mut csv::ByteRecord,
    ) -> Result<Option<u64>> {
        let display = self.display;
        loop {
            let more = reader.read_byte_record(record).map_err(|e| {
                let line = e.position().map_or(0, |p| p.line()) + self.blank;
                match e.kind() {
                    csv::ErrorKind::Io(err) => Error::io(display, err),
                    _ => Error::Data(format!("{display}: line {line}: {e}")),
                }
            })?;
            if !more {
                return Ok(None);
            }
            let line = record.position().map_or(0, |p| p.line()) + self.blank;
            // A blank line reaches here as one empty field (see `LineEnds`).
            if record.len() == 1 && record[0].is_empty() {
                continue;
            }
            let (len, expected) = (record.len(), self.columns.len());
            if len != expected {
                // Only a guessed, non-comma delimiter is worth questioning here.
                let hint = if self.detected && self.delimiter != b',' {
                    format!(
                        " (fields split on {}, detected from the header; set another with {})",
                        delimiter_name(self.delimiter),
                        Setting::Delimiter.named()
                    )
                } else {
                    String::new()
                };
                return Err(Error::Data(format!(
                    "{display}: line {line} has {len} fields but the header has \
                     {expected}{hint}"
                )));
            }
            return Ok(Some(line));
        }
    }

    /// Field `j` of `record` as a finite number.
    fn parse(&self, record: &csv::ByteRecord, j: usize, line: u64) -> Result<f64> {
        let (display, column) = (self.display, printable(&self.columns[j]));
        let raw = &record[j];
        let cell = String::from_utf8_lossy(raw);
        let cell = printable(&cell);
        let v: f64 = std::str::from_utf8(raw)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| {
                let hint = if cell.replace(',', ".").parse::<f64>().is_ok() {
                    "; use '.' as the decimal separator"
                } else {
                    ""
                };
                Error::Data(format!(
                    "{display}: line {line}, column '{column}': '{cell}' is not a number{hint}"
                ))
            })?;
        if !v.is_finite() {
            return Err(Error::Data(format!(
                "{display}: line {line}, column '{column}': {cell} is not finite"
            )));
        }
        Ok(v)
    }
}

/// Normalises line endings outside quoted fields: `\r\n` and a lone `\r` become `\n`,
/// and an empty line becomes `" \n"`, which the reader returns as one empty field instead
/// of skipping it uncounted. Quoted fields pass through untouched; the quote tracking
/// follows the csv crate's rules (a quote opens a field only at its start, `""` escapes).
struct LineEnds<R> {
    inner: R,
    state: LineState,
}

struct LineState {
    delimiter: u8,
    quoted: bool,
    /// Just saw a quote that closes a quoted field, unless the next byte is `"` too.
    closing: bool,
    field_start: bool,
    line_start: bool,
    /// A `\r` whose line break is emitted once the next byte shows it is not `\r\n`.
    cr: bool,
}

impl<R: BufRead> LineEnds<R> {
    fn new(inner: R, delimiter: u8) -> Self {
        LineEnds {
            inner,
            state: LineState {
                delimiter,
                quoted: false,
                closing: false,
                field_start: true,
                line_start: true,
                cr: false,
            },
        }
    }
}

impl LineState {
    /// Emit a line break into `out` (room for two bytes is guaranteed by the caller).
    fn newline(&mut self, out: &mut [u8]) -> usize {
        let blank = self.line_start;
        (self.line_start, self.field_start, self.closing) = (true, true, false);
        if blank {
            out[..2].copy_from_slice(b" \n");
            2
        } else {
            out[0] = b'\n';
            1
        }
    }

    /// Translate `b` into `out`, returning the bytes written (at most three).
    fn byte(&mut self, b: u8, out: &mut [u8]) -> usize {
        if self.quoted {
            if b == b'"' {
                (self.quoted, self.closing) = (false, true);
            }
            out[0] = b;
            return 1;
        }
        if self.closing && b == b'"' {
            // `""` inside a quoted field: still quoted.
            (self.quoted, self.closing) = (true, false);
            out[0] = b;
            return 1;
        }
        self.closing = false;
        let mut n = 0;
        if self.cr {
            self.cr = false;
            n = self.newline(out);
            if b == b'\n' {
                return n;
            }
        }
        match b {
            b'\r' => self.cr = true,
            b'\n' => n += self.newline(&mut out[n..]),
            _ => {
                if b == b'"' && self.field_start {
                    self.quoted = true;
                }
                self.field_start = b == self.delimiter;
                self.line_start = false;
                out[n] = b;
                n += 1;
            }
        }
        n
    }
}

impl<R: BufRead> Read for LineEnds<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.len() < 3 {
            // The csv reader's buffer is large; a tiny one is never asked for.
            return Err(io::Error::other("read buffer too small"));
        }
        loop {
            let input = self.inner.fill_buf()?;
            let state = &mut self.state;
            if input.is_empty() {
                // End of input: a pending `\r` still ends its line.
                if state.cr {
                    state.cr = false;
                    return Ok(state.newline(out));
                }
                return Ok(0);
            }
            let (mut used, mut n) = (0, 0);
            for &b in input {
                if n + 3 > out.len() {
                    break;
                }
                used += 1;
                n += state.byte(b, &mut out[n..]);
            }
            self.inner.consume(used);
            // Only a lone `\r` was consumed: read on rather than signal the end.
            if n > 0 {
                return Ok(n);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiter_detection() {
        assert_eq!(detect_delimiter(b"a,b,c\n"), b',');
        assert_eq!(detect_delimiter(b"\"a,b\";\"c,d\";e\n"), b';');
        assert_eq!(detect_delimiter(b"a\tb\tc\n"), b'\t');
        assert_eq!(detect_delimiter(b"a|b\n"), b'|');
        assert_eq!(detect_delimiter(b"price\n"), b',');
        assert_eq!(parse_delimiter("tab").unwrap(), b'\t');
        assert_eq!(parse_delimiter("\\t").unwrap(), b'\t');
        assert_eq!(parse_delimiter(":").unwrap(), b':');
        assert!(parse_delimiter("ab").is_err());
        assert!(parse_delimiter("é").is_err());
        assert!(parse_delimiter("\"").is_err());
    }

    #[test]
    fn header_spanning_lines_bom_and_blank_lines() {
        let mut src = Cursor::new(b"\n \r\n\xEF\xBB\xBF\"a\nb\",c\r\n1,2\n".to_vec());
        assert_eq!(
            header_bytes(&mut src, "t").unwrap(),
            (b"\"a\nb\",c\n".to_vec(), 2)
        );
        let mut rest = String::new();
        src.read_to_string(&mut rest).unwrap();
        assert_eq!(rest, "1,2\n");
    }

    fn normalised(input: &[u8], chunk: usize) -> Vec<u8> {
        // A small BufReader capacity exercises state carried across reads.
        let inner = io::BufReader::with_capacity(chunk, input);
        let mut out = Vec::new();
        let mut reader = LineEnds::new(inner, b',');
        let mut buf = [0u8; 5];
        loop {
            let n = reader.read(&mut buf).unwrap();
            if n == 0 {
                return out;
            }
            out.extend_from_slice(&buf[..n]);
        }
    }

    #[test]
    fn line_ends_are_normalised_outside_quotes() {
        for chunk in [1, 2, 3, 64] {
            assert_eq!(normalised(b"1,2\r\n\r\n3,4\r", chunk), b"1,2\n \n3,4\n");
            assert_eq!(normalised(b"\n1\r2\n\n", chunk), b" \n1\n2\n \n");
            assert_eq!(
                normalised(b"\"a\r\n\n\"\"b\",1\n\n", chunk),
                b"\"a\r\n\n\"\"b\",1\n \n"
            );
            // A quote inside an unquoted field is a plain character, as for the csv crate.
            assert_eq!(normalised(b"5\"\n\n6\n", chunk), b"5\"\n \n6\n");
        }
    }
}
