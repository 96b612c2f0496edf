//! Column selection shared by CSV and `.npy` input: `--target` and `--features` resolve to
//! column positions before any value is parsed, so only the chosen columns are ever read.
//!
//! A column is named by its header text or by its 1-based position `#N`; an exact name
//! always wins, so a column literally called `#2` stays reachable by name. A name that
//! appears more than once is refused rather than silently taking the first copy.

use crate::error::{Error, Result};
use crate::names::Setting;

/// Columns listed in errors before the list is cut short (wide files would flood a line).
const LISTED_COLUMNS: usize = 40;

/// The resolved choice: 0-based positions into the file's columns.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Selection {
    pub target: Option<usize>,
    pub features: Vec<usize>,
    /// One display name per feature; a name shared with another used column gets its
    /// position appended (`x (#3)`) so reports stay unambiguous.
    pub feature_names: Vec<String>,
}

/// Resolve `target` (a column of this file, when given) and `features` (the raw
/// `--features` text, one CSV record; `None` means every column but the target).
pub(crate) fn select(
    columns: &[String],
    target: Option<&str>,
    features: Option<&str>,
) -> Result<Selection> {
    let target = match target {
        Some(t) => {
            let t = t.trim();
            if t.is_empty() {
                return Err(Error::Config(format!(
                    "{} is empty",
                    Setting::Target.named()
                )));
            }
            Some((t, resolve(columns, t)?))
        }
        None => None,
    };
    let features = match features {
        Some(list) => {
            let items = parse_list(list)?;
            let mut idx = Vec::with_capacity(items.len());
            for item in &items {
                let j = resolve(columns, item)?;
                if let Some(k) = idx.iter().position(|&i| i == j) {
                    return Err(Error::Config(format!(
                        "{} lists column {} twice ('{}' and '{item}')",
                        Setting::Features.named(),
                        describe(columns, j),
                        items[k]
                    )));
                }
                if let Some((name, _)) = target.filter(|&(_, t)| t == j) {
                    return Err(Error::Data(format!(
                        "'{name}' is both the target and a feature"
                    )));
                }
                idx.push(j);
            }
            idx
        }
        None => {
            let idx: Vec<usize> = (0..columns.len())
                .filter(|&j| target.is_none_or(|(_, t)| t != j))
                .collect();
            // The implicit choice must not hide a repeated name: two columns called `x`
            // would both reach the report as `x` (and look identical to the rank check).
            let used: Vec<usize> = idx.iter().copied().chain(target.map(|t| t.1)).collect();
            if let Some(name) = used
                .iter()
                .map(|&j| &columns[j])
                .find(|name| used.iter().filter(|&&j| columns[j] == **name).count() > 1)
            {
                let positions = positions_of(columns, name);
                let example = positions
                    .iter()
                    .rev()
                    .find(|&&j| target.is_none_or(|(_, t)| t != j))
                    .copied()
                    .unwrap_or(positions[0]);
                return Err(Error::Data(format!(
                    "{}; without {features} every column but the target is used, so list \
                     the features with {features}, selecting by position, e.g. '#{}'",
                    repeated(name, &positions),
                    example + 1,
                    features = Setting::Features.named()
                )));
            }
            idx
        }
    };
    if features.is_empty() {
        return Err(Error::Data(
            "no feature columns left besides the target".into(),
        ));
    }
    let used: Vec<usize> = features
        .iter()
        .copied()
        .chain(target.map(|t| t.1))
        .collect();
    let feature_names = features
        .iter()
        .map(|&j| {
            let name = &columns[j];
            if name.is_empty() {
                format!("#{}", j + 1)
            } else if used.iter().filter(|&&i| columns[i] == *name).count() > 1 {
                format!("{name} (#{})", j + 1)
            } else {
                name.clone()
            }
        })
        .collect();
    Ok(Selection {
        target: target.map(|t| t.1),
        features,
        feature_names,
    })
}

/// Split `--features` as one CSV record, so a name containing a comma can be quoted:
/// `--features '"a,b",c'`. Unlike a strict CSV reader, whitespace around an item (quoted
/// or not) is dropped, since that is how people type lists. Empty items are refused.
fn parse_list(list: &str) -> Result<Vec<String>> {
    let mut items = Vec::new();
    let mut item = String::new();
    // `quoting`: inside "..."; `closed`: this item had a quoted part that has ended.
    let (mut quoting, mut closed) = (false, false);
    let mut chars = list.chars().peekable();
    while let Some(c) = chars.next() {
        if quoting {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    item.push('"');
                    chars.next();
                }
                '"' => (quoting, closed) = (false, true),
                _ => item.push(c),
            }
        } else if c == ',' {
            items.push(std::mem::take(&mut item).trim().to_string());
            closed = false;
        } else if closed {
            if !c.is_whitespace() {
                return Err(Error::Config(format!(
                    "{}: unexpected '{c}' after the closing quote of \"{item}\"",
                    Setting::Features.named()
                )));
            }
        } else if c == '"' && item.trim().is_empty() {
            item.clear();
            quoting = true;
        } else {
            item.push(c);
        }
    }
    if quoting {
        return Err(Error::Config(format!(
            "{}: the quote before \"{item}\" is never closed",
            Setting::Features.named()
        )));
    }
    items.push(item.trim().to_string());
    if items.iter().all(String::is_empty) {
        return Err(Error::Config(format!(
            "{} is empty; list feature columns separated by commas, e.g. {} (or leave it out \
             to use every column but the target)",
            Setting::Features.named(),
            Setting::Features.literal("a,b")
        )));
    }
    if let Some(k) = items.iter().position(String::is_empty) {
        return Err(Error::Config(format!(
            "{} has an empty item (item {} of {}); check for a stray comma",
            Setting::Features.named(),
            k + 1,
            items.len()
        )));
    }
    Ok(items)
}

/// One column by exact name, else by `#N`.
fn resolve(columns: &[String], item: &str) -> Result<usize> {
    let positions = positions_of(columns, item);
    match positions.len() {
        1 => return Ok(positions[0]),
        0 => {}
        _ => {
            return Err(Error::Data(format!(
                "{}; select by position, e.g. '#{}'",
                repeated(item, &positions),
                positions[positions.len() - 1] + 1
            )))
        }
    }
    if let Some(n) = item
        .strip_prefix('#')
        .and_then(|n| n.trim().parse::<usize>().ok())
    {
        if (1..=columns.len()).contains(&n) {
            return Ok(n - 1);
        }
        return Err(Error::Data(format!(
            "no column #{n}: positions run from #1 to #{}; the columns are: {}",
            columns.len(),
            column_list(columns)
        )));
    }
    Err(Error::Data(format!(
        "no column '{}'; the columns are: {}",
        printable(item),
        column_list(columns)
    )))
}

fn positions_of(columns: &[String], name: &str) -> Vec<usize> {
    (0..columns.len()).filter(|&j| columns[j] == name).collect()
}

fn repeated(name: &str, positions: &[usize]) -> String {
    let at: Vec<String> = positions.iter().map(|j| format!("#{}", j + 1)).collect();
    format!(
        "column name '{}' appears {} times ({})",
        printable(name),
        positions.len(),
        at.join(", ")
    )
}

/// `#3 "price"`: a name in CSV-style double quotes with its position.
fn describe(columns: &[String], j: usize) -> String {
    format!("#{} {}", j + 1, quoted(&columns[j]))
}

fn quoted(name: &str) -> String {
    format!("\"{}\"", printable(name).replace('"', "\"\""))
}

/// `s` with control characters escaped (`\n`, `\t`, ...): a quoted name or cell may hold
/// a line break, and every error must stay one line.
pub(crate) fn printable(s: &str) -> std::borrow::Cow<'_, str> {
    if s.chars().any(char::is_control) {
        s.chars()
            .map(|c| {
                if c.is_control() {
                    c.escape_default().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect::<String>()
            .into()
    } else {
        s.into()
    }
}

/// `#1 "a,b", #2 "c", #3 "price"`: unambiguous even when names contain commas or spaces.
pub(crate) fn column_list(columns: &[String]) -> String {
    let mut out: Vec<String> = (0..columns.len().min(LISTED_COLUMNS))
        .map(|j| describe(columns, j))
        .collect();
    if columns.len() > LISTED_COLUMNS {
        out.push(format!("... ({} more)", columns.len() - LISTED_COLUMNS));
    }
    out.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn names_positions_and_quoting() {
        let c = cols(&["a,b", "c", "#1", "price"]);
        let s = select(&c, Some("price"), Some(" \"a,b\" , #2")).unwrap();
        assert_eq!((s.target, s.features.clone()), (Some(3), vec![0, 1]));
        // An exact name wins over the position reading.
        let s = select(&c, Some("#4"), Some("#1")).unwrap();
        assert_eq!((s.target, s.features), (Some(3), vec![2]));
        let e = select(&c, Some("cost"), None).unwrap_err().to_string();
        assert!(
            e.contains(
                r##"no column 'cost'; the columns are: #1 "a,b", #2 "c", #3 "#1", #4 "price""##
            ),
            "{e}"
        );
    }

    #[test]
    fn duplicates_are_refused_or_disambiguated() {
        let c = cols(&["x", "y", "x"]);
        let e = select(&c, Some("y"), Some("x")).unwrap_err().to_string();
        assert!(
            e.contains("column name 'x' appears 2 times (#1, #3); select by position, e.g. '#3'")
        );
        let e = select(&c, Some("y"), None).unwrap_err().to_string();
        assert!(e.contains("appears 2 times (#1, #3)"), "{e}");
        let s = select(&c, Some("y"), Some("#1,#3")).unwrap();
        assert_eq!(s.feature_names, ["x (#1)", "x (#3)"]);
        let e = select(&c, Some("y"), Some("#1,x ,#1"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("column name 'x' appears"), "{e}");
        let e = select(&cols(&["a", "b", "y"]), Some("y"), Some("a,#1"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("lists column #1 \"a\" twice"), "{e}");
    }

    #[test]
    fn empty_lists_and_items() {
        let c = cols(&["a", "y"]);
        for bad in ["", " ", ","] {
            let e = select(&c, Some("y"), Some(bad)).unwrap_err().to_string();
            assert!(e.contains("features is empty"), "{bad:?}: {e}");
        }
        for bad in ["\"a", "\"a\"b"] {
            let e = select(&c, Some("y"), Some(bad)).unwrap_err().to_string();
            assert!(e.contains("features: "), "{bad:?}: {e}");
            assert!(!e.contains("--"), "{bad:?}: {e}");
        }
        let s = select(&cols(&["a \"q\"", "y"]), Some("y"), Some(r#" "a ""q""" "#)).unwrap();
        assert_eq!(s.features, [0]);
        let e = select(&c, Some("y"), Some("a,,y")).unwrap_err().to_string();
        assert!(e.contains("empty item (item 2 of 3)"), "{e}");
        let e = select(&c, Some("y"), Some("a,y")).unwrap_err().to_string();
        assert!(e.contains("'y' is both the target and a feature"), "{e}");
        let e = select(&c, Some("#9"), None).unwrap_err().to_string();
        assert!(e.contains("no column #9"), "{e}");
    }
}
