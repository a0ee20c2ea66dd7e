//! The layers of docs/architecture.md, checked against the code: each top-level
//! module of the library may import only the modules listed for it here, all of
//! them on lower floors. A new import that runs up a layer (or sideways) fails
//! this test, naming the file and line; if the new edge is right, the table here
//! and the one in docs/architecture.md change together.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

/// Each module and what it may import, bottom floor first.
const LAYERS: &[(&str, &[&str])] = &[
    ("model", &[]),
    ("exposition", &["model"]),
    ("relabel", &["model"]),
    ("tsdb", &["model"]),
    ("import", &["model", "exposition", "tsdb"]),
    ("promql", &["model", "tsdb"]),
    ("config", &["model", "relabel"]),
    ("discovery", &["model", "config"]),
    (
        "scrape",
        &[
            "model",
            "exposition",
            "relabel",
            "tsdb",
            "config",
            "discovery",
        ],
    ),
    (
        "api",
        &["model", "exposition", "tsdb", "promql", "config", "scrape"],
    ),
    (
        "server",
        &["model", "tsdb", "promql", "config", "scrape", "api"],
    ),
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The `.rs` files of a module: `src/NAME.rs` or everything under `src/NAME/`.
fn files(name: &str) -> Vec<PathBuf> {
    let file = src().join(format!("{name}.rs"));
    if file.is_file() {
        return vec![file];
    }
    let mut out = Vec::new();
    let mut dirs = vec![src().join(name)];
    while let Some(dir) = dirs.pop() {
        for entry in fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The crate modules a line of code names as `crate::NAME`, comments left out
/// (documentation links are not imports).
fn named_modules(line: &str) -> Vec<&str> {
    let code = line.split("//").next().unwrap_or("");
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        let after = &rest[i + "crate::".len()..];
        let end = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        // `$crate::` in a macro is not a module of ours.
        if !rest[..i].ends_with('$') {
            out.push(&after[..end]);
        }
        rest = &after[end..];
    }
    out
}

#[test]
fn every_module_imports_only_from_the_layers_below_it() {
    let known: BTreeSet<&str> = LAYERS.iter().map(|(m, _)| *m).collect();
    let mut wrong = Vec::new();
    for (module, allowed) in LAYERS {
        let files = files(module);
        assert!(!files.is_empty(), "no source files for module {module}");
        for file in files {
            let text = fs::read_to_string(&file).expect("read source file");
            for (n, line) in text.lines().enumerate() {
                for used in named_modules(line) {
                    if used != *module && known.contains(used) && !allowed.contains(&used) {
                        wrong.push(format!(
                            "{}:{}: {module} imports {used}",
                            file.strip_prefix(src()).unwrap_or(&file).display(),
                            n + 1
                        ));
                    }
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports outside the layers of docs/architecture.md:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn every_module_of_the_library_has_a_floor() {
    let lib = fs::read_to_string(src().join("lib.rs")).expect("read lib.rs");
    let declared: BTreeSet<&str> = lib
        .lines()
        .filter_map(|l| l.trim().strip_prefix("pub mod "))
        .map(|l| l.trim_end_matches(';'))
        .collect();
    let layered: BTreeSet<&str> = LAYERS.iter().map(|(m, _)| *m).collect();
    assert_eq!(
        declared, layered,
        "lib.rs's modules and the layer table differ"
    );
}

#[test]
fn the_check_sees_an_import_and_skips_comments() {
    assert_eq!(
        named_modules("use crate::tsdb::{Db, Options}; // crate::api"),
        ["tsdb"]
    );
    assert_eq!(
        named_modules("    let x = crate::model::parse_duration(s)?;"),
        ["model"]
    );
    assert!(named_modules("//! See [`Db`](crate::tsdb::Db).").is_empty());
    assert!(named_modules("    $crate::foo!()").is_empty());
}
