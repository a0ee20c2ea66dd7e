//! Helpers shared by the integration tests. Each test binary includes this module
//! and uses only part of it, hence the `dead_code` allowance.
#![allow(dead_code)]

pub mod node_exporter;
pub mod server;

use std::process::Command;

use tidemark::model::Matcher;
use tidemark::tsdb::Db;

/// Whether outside programs and `../shared` data must be present (CI sets
/// `TIDEMARK_REQUIRE_EXTERNAL=1`): then a missing one fails the test instead of
/// skipping it.
pub fn external_required() -> bool {
    std::env::var_os("TIDEMARK_REQUIRE_EXTERNAL").is_some_and(|v| v == "1")
}

/// `promtool` if it is installed; `None` (with a notice) where it may be missing.
pub fn promtool() -> Option<&'static str> {
    if Command::new("promtool").arg("--version").output().is_ok() {
        return Some("promtool");
    }
    assert!(
        !external_required(),
        "promtool not found and TIDEMARK_REQUIRE_EXTERNAL=1"
    );
    eprintln!("notice: promtool not found; skipping the comparison");
    None
}

/// Series (as text) with their samples (timestamp, value bits).
pub type Dump = Vec<(String, Vec<(i64, u64)>)>;

/// What a query over `[mint, maxt]` returns, every read checked for errors,
/// and read both sample by sample and in one go (`SeriesIter::read_all`),
/// which must agree.
pub fn dump(db: &Db, matchers: &[Matcher], mint: i64, maxt: i64) -> Dump {
    db.querier(mint, maxt)
        .select(matchers)
        .expect("select")
        .map(|s| {
            let mut it = s.iter();
            let v: Vec<(i64, u64)> = it.by_ref().map(|x| (x.t, x.v.to_bits())).collect();
            assert!(it.err().is_none(), "{:?}", it.err());
            let mut all = Vec::new();
            let mut it = s.iter();
            it.read_all(&mut all);
            assert!(it.err().is_none(), "{:?}", it.err());
            let all: Vec<(i64, u64)> = all.iter().map(|&(t, v)| (t, v.to_bits())).collect();
            assert_eq!(all, v, "read_all of {}", s.labels());
            (s.labels().to_string(), v)
        })
        .collect()
}
