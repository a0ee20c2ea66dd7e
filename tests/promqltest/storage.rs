//! A real `tidemark::tsdb::Db` in a temporary directory, loaded as Prometheus's
//! test runner loads its storage: one appender per `load`, committed at the end,
//! rolled back if any sample is refused.

use std::sync::Arc;

use tidemark::model::Labels as TmLabels;
use tidemark::tsdb::{Db, Options};

use super::labels::Labels;

pub struct TestDb {
    // Declared before `dir` so the database closes before its directory goes.
    db: Arc<Db>,
    _dir: tempfile::TempDir,
}

impl TestDb {
    pub fn open() -> Result<TestDb, String> {
        let dir = tempfile::tempdir().map_err(|e| format!("temporary directory: {e}"))?;
        let opts = Options {
            // Scripts load days of data in any order of series: the head must
            // accept all of it (Prometheus's test storage does too).
            chunk_range_ms: 1 << 50,
            retention_ms: 0,
            maintenance_interval: None,
            ..Options::default()
        };
        let db = Db::open(dir.path(), opts).map_err(|e| format!("opening the database: {e}"))?;
        Ok(TestDb {
            db: Arc::new(db),
            _dir: dir,
        })
    }

    pub fn db(&self) -> &Arc<Db> {
        &self.db
    }

    /// Appends all samples in one batch; nothing stays if one is refused.
    pub fn load(&self, series: &[(Labels, Vec<(i64, f64)>)]) -> Result<(), String> {
        let mut app = self.db.appender();
        for (labels, points) in series {
            let tm = to_tidemark(labels)?;
            for &(t, v) in points {
                if let Err(e) = app.append(&tm, t, v) {
                    app.rollback();
                    return Err(e.to_string());
                }
            }
        }
        app.commit().map_err(|e| e.to_string())
    }
}

pub fn to_tidemark(l: &Labels) -> Result<TmLabels, String> {
    TmLabels::new(l.iter()).map_err(|e| format!("labels {l}: {e}"))
}

pub fn from_tidemark(l: &TmLabels) -> Labels {
    let pairs = l
        .iter()
        .map(|x| (x.name.to_owned(), x.value.to_owned()))
        .collect();
    // A tidemark label set is already valid: sorted, unique, no empty values.
    Labels::new(pairs).unwrap_or_default()
}
