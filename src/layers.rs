//! The layer rule of `lib.rs`, checked on the source: every `crate::NAME` path in a module's
//! code (comments and doc links aside) must name a module of the same layer or one below.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The layer table in `lib.rs`'s docs: module name → layer.
fn layers(lib: &str) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for line in lib.lines() {
        let Some(row) = line.strip_prefix("//! | ") else {
            continue;
        };
        let mut cells = row.split('|').map(str::trim);
        let Some(Ok(layer)) = cells.next().map(str::parse::<usize>) else {
            continue;
        };
        for name in cells.next().unwrap_or("").split(',') {
            out.insert(name.trim().trim_matches('`').to_string(), layer);
        }
    }
    out
}

/// The code of a Rust file without its comments and string literals (so a doc link or a
/// message that mentions `crate::x` is not an import).
fn code_only(src: &str) -> String {
    let mut out = String::with_capacity(src.len());
    let b = src.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i..].starts_with(b"//") {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i..].starts_with(b"/*") {
            let end = src[i + 2..].find("*/").map_or(b.len(), |e| i + 2 + e + 2);
            i = end;
        } else if b[i] == b'"' && (i == 0 || b[i - 1] != b'\'') {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else {
            let c = src[i..].chars().next().expect("in bounds");
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// Every `crate::NAME` (and `crate::{A, B}`) in `code`, with the line it starts on.
fn crate_paths(code: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (no, line) in code.lines().enumerate() {
        let mut rest = line;
        while let Some(at) = rest.find("crate::") {
            let before = rest[..at].chars().last();
            rest = &rest[at + "crate::".len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue; // `$crate::` in a macro, or a longer identifier
            }
            if let Some(group) = rest.strip_prefix('{') {
                let end = group.find('}').unwrap_or(group.len());
                for item in group[..end].split(',') {
                    let name: String = item
                        .trim()
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    if !name.is_empty() {
                        out.push((no + 1, name));
                    }
                }
            } else {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                out.push((no + 1, name));
            }
        }
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The violations in the library's sources under `src`: "file:line: module (layer a)
/// uses crate::name (layer b)", plus modules the table does not place.
fn violations(src: &Path) -> Vec<String> {
    let lib = std::fs::read_to_string(src.join("lib.rs")).expect("lib.rs");
    let layer = layers(&lib);
    let mut bad = Vec::new();
    for module in code_only(&lib)
        .lines()
        .filter_map(|l| l.trim().strip_prefix("pub mod "))
    {
        let module = module.trim_end_matches(';');
        if !layer.contains_key(module) {
            bad.push(format!(
                "lib.rs: module `{module}` is in no layer of the table"
            ));
        }
    }
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files.sort();
    for file in files {
        let rel = file.strip_prefix(src).expect("under src");
        let top = rel
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .expect("a file name")
            .trim_end_matches(".rs")
            .to_string();
        // The crate root and the CLI binary (main.rs, cli/) sit above every layer.
        if ["lib", "main", "cli", "layers"].contains(&top.as_str()) {
            continue;
        }
        let Some(&own) = layer.get(&top) else {
            bad.push(format!("{}: module `{top}` is in no layer", rel.display()));
            continue;
        };
        let code = code_only(&std::fs::read_to_string(&file).expect("readable"));
        for (line, name) in crate_paths(&code) {
            match layer.get(&name) {
                Some(&l) if l <= own => {}
                Some(&l) => bad.push(format!(
                    "{}:{line}: `{top}` (layer {own}) uses crate::{name} (layer {l})",
                    rel.display()
                )),
                None => bad.push(format!(
                    "{}:{line}: `{top}` uses crate::{name}, which is no module of the table \
                     (name the module, not a re-export at the crate root)",
                    rel.display()
                )),
            }
        }
    }
    bad
}

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn no_module_imports_from_a_layer_above_its_own() {
    let bad = violations(&src_dir());
    assert!(bad.is_empty(), "layer violations:\n{}", bad.join("\n"));
}

#[test]
fn the_layer_check_sees_an_upward_import() {
    // A copy of the real tree with one upward import added fails, and only for it.
    let dir = std::env::temp_dir().join(format!("descent-layers-{}", std::process::id()));
    let copy = |from: &Path, to: &Path| {
        let mut files = Vec::new();
        rust_files(from, &mut files);
        for f in files {
            let dest = to.join(f.strip_prefix(from).unwrap());
            std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
            std::fs::copy(&f, dest).unwrap();
        }
    };
    copy(&src_dir(), &dir);
    let target = dir.join("model/squared.rs");
    let text = std::fs::read_to_string(&target).unwrap();
    std::fs::write(
        &target,
        format!("{text}\n#[allow(unused_imports)]\nuse crate::fitting::FitRequest;\n"),
    )
    .unwrap();
    let bad = violations(&dir);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert!(
        bad[0].contains("`model` (layer 2) uses crate::fitting (layer 5)"),
        "{}",
        bad[0]
    );
}

#[test]
fn comments_and_strings_are_not_imports() {
    let code = code_only("// crate::fitting\nlet s = \"crate::report\"; use crate::{data, error::Error};\n/* crate::gpu */");
    let names: Vec<String> = crate_paths(&code).into_iter().map(|(_, n)| n).collect();
    assert_eq!(names, ["data", "error"]);
}
