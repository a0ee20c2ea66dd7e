//! The collectors behind `/metrics`: tidemark's own metrics, read at scrape
//! time: head figures from `Db::stats()`, scrape and reload figures, process
//! figures from `/proc`, and the build info. Nothing is copied into long-lived
//! metric objects that could go stale.

use std::fmt;
use std::sync::Arc;

use parking_lot::RwLock;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;

use super::buildinfo::BUILD_INFO;
use super::process::ProcessStats;
use super::slots::{ReloadStatus, ScrapeSlot, StorageSlot};

/// The registry behind `/metrics`, with tidemark's collectors registered.
pub(super) fn registry(
    storage: StorageSlot,
    scrape: ScrapeSlot,
    reload: Arc<RwLock<Option<ReloadStatus>>>,
) -> Registry {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(BuildInfoCollector));
    registry.register_collector(Box::new(TsdbCollector { storage }));
    registry.register_collector(Box::new(ScrapeCollector { scrape, reload }));
    registry.register_collector(Box::new(ProcessCollector));
    registry
}

fn gauge(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    value: impl prometheus_client::encoding::EncodeGaugeValue,
) -> fmt::Result {
    let metric = ConstGauge::new(value);
    metric.encode(encoder.encode_descriptor(name, help, None, metric.metric_type())?)
}

/// `name` without `_total`: the text encoder appends it to counters.
fn counter(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    value: impl prometheus_client::encoding::EncodeCounterValue,
) -> fmt::Result {
    let metric = ConstCounter::new(value);
    metric.encode(encoder.encode_descriptor(name, help, None, metric.metric_type())?)
}

/// `tidemark_build_info{version, revision, branch, os, arch} 1`.
#[derive(Debug)]
struct BuildInfoCollector;

impl Collector for BuildInfoCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> fmt::Result {
        let labels = [
            ("version", BUILD_INFO.version),
            ("revision", BUILD_INFO.revision),
            ("branch", BUILD_INFO.branch),
            ("os", BUILD_INFO.os),
            ("arch", BUILD_INFO.arch),
        ];
        let one = ConstGauge::new(1i64);
        let mut metric = encoder.encode_descriptor(
            "tidemark_build_info",
            "A metric with a constant '1' value labeled by version, revision, branch, os and arch from which tidemark was built.",
            None,
            one.metric_type(),
        )?;
        one.encode(metric.encode_family(&labels)?)
    }
}

/// Head, block and maintenance figures from `Db::stats()`; nothing while storage
/// is not open.
struct TsdbCollector {
    storage: StorageSlot,
}

impl fmt::Debug for TsdbCollector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TsdbCollector").finish_non_exhaustive()
    }
}

impl Collector for TsdbCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> fmt::Result {
        // Take the figures and let go of the lock before encoding.
        let Some(stats) = self.storage.read().as_ref().map(|db| db.stats()) else {
            return Ok(());
        };
        let e = &mut encoder;
        gauge(
            e,
            "tidemark_tsdb_head_series",
            "Total number of series in the head block.",
            stats.head_series,
        )?;
        gauge(
            e,
            "tidemark_tsdb_head_chunks",
            "Total number of chunks in the head block.",
            stats.head_chunks,
        )?;
        counter(
            e,
            "tidemark_tsdb_head_samples_appended",
            "Total number of samples appended to the head since the database was opened.",
            stats.samples_appended,
        )?;
        gauge(
            e,
            "tidemark_tsdb_head_memory_bytes",
            "Estimated heap bytes used by the head block (series, labels, postings, open chunks).",
            stats.head_memory_bytes,
        )?;
        let per_series = if stats.head_series == 0 {
            0.0
        } else {
            stats.head_memory_bytes as f64 / stats.head_series as f64
        };
        gauge(
            e,
            "tidemark_tsdb_head_memory_bytes_per_series",
            "Estimated head memory bytes per series (0 when the head is empty).",
            per_series,
        )?;
        gauge(
            e,
            "tidemark_tsdb_blocks_loaded",
            "Number of persisted blocks open.",
            stats.blocks,
        )?;
        gauge(
            e,
            "tidemark_tsdb_blocks_bytes",
            "Bytes on disk of the persisted blocks.",
            stats.blocks_bytes,
        )?;
        let m = &stats.maintenance;
        counter(
            e,
            "tidemark_tsdb_head_blocks_written",
            "Total number of blocks cut from the head.",
            m.head_blocks,
        )?;
        counter(
            e,
            "tidemark_tsdb_compactions",
            "Total number of compactions that merged blocks.",
            m.compactions,
        )?;
        counter(
            e,
            "tidemark_tsdb_blocks_deleted_by_retention",
            "Total number of blocks deleted by time or size retention.",
            m.blocks_deleted,
        )?;
        counter(
            e,
            "tidemark_tsdb_wal_checkpoints",
            "Total number of WAL checkpoints written.",
            m.wal_checkpoints,
        )
    }
}

/// The scrape manager's counts and how the configuration last loaded.
struct ScrapeCollector {
    scrape: ScrapeSlot,
    reload: Arc<RwLock<Option<ReloadStatus>>>,
}

impl fmt::Debug for ScrapeCollector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScrapeCollector").finish_non_exhaustive()
    }
}

impl Collector for ScrapeCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> fmt::Result {
        let e = &mut encoder;
        if let Some(status) = *self.reload.read() {
            gauge(
                e,
                "tidemark_config_last_reload_successful",
                "Whether the last configuration reload attempt was successful.",
                i64::from(status.successful),
            )?;
            gauge(
                e,
                "tidemark_config_last_reload_success_timestamp_seconds",
                "Timestamp of the last successful configuration reload.",
                status.success_time,
            )?;
        }
        let Some(stats) = self.scrape.read().as_ref().map(|m| m.stats()) else {
            return Ok(());
        };
        counter(
            e,
            "tidemark_target_scrapes",
            "Total number of scrapes, failed ones included.",
            stats.scrapes,
        )?;
        counter(
            e,
            "tidemark_target_scrapes_failed",
            "Total number of scrapes that failed (up was 0).",
            stats.failed_scrapes,
        )?;
        counter(
            e,
            "tidemark_target_scrapes_exceeded_sample_limit",
            "Total number of scrapes that hit the sample limit and were rejected.",
            stats.exceeded_sample_limit,
        )?;
        counter(
            e,
            "tidemark_target_samples_scraped",
            "Total number of samples the targets exposed.",
            stats.samples,
        )?;
        counter(
            e,
            "tidemark_sd_file_read_errors",
            "The number of file_sd_configs file read errors.",
            stats.sd_file_read_errors,
        )?;
        for (name, help, by_job) in [
            (
                "tidemark_target_scrape_pool_targets",
                "Current number of targets in this scrape pool.",
                &stats.targets,
            ),
            (
                "tidemark_target_scrape_pool_dropped_targets",
                "Current number of targets this scrape pool's relabeling dropped.",
                &stats.dropped_targets,
            ),
        ] {
            let family = ConstGauge::new(0i64);
            let mut metric = encoder.encode_descriptor(name, help, None, family.metric_type())?;
            for (job, n) in by_job {
                let labels = [("scrape_job", job.as_str())];
                ConstGauge::new(*n as i64).encode(metric.encode_family(&labels)?)?;
            }
        }
        Ok(())
    }
}

/// The standard `process_*` metrics.
#[derive(Debug)]
struct ProcessCollector;

impl Collector for ProcessCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> fmt::Result {
        let stats = ProcessStats::read();
        let e = &mut encoder;
        if let Some(v) = stats.cpu_seconds {
            counter(
                e,
                "process_cpu_seconds",
                "Total user and system CPU time spent in seconds.",
                v,
            )?;
        }
        if let Some(v) = stats.open_fds {
            gauge(e, "process_open_fds", "Number of open file descriptors.", v)?;
        }
        if let Some(v) = stats.max_fds {
            gauge(
                e,
                "process_max_fds",
                "Maximum number of open file descriptors.",
                v,
            )?;
        }
        if let Some(v) = stats.virtual_memory_bytes {
            gauge(
                e,
                "process_virtual_memory_bytes",
                "Virtual memory size in bytes.",
                v,
            )?;
        }
        if let Some(v) = stats.resident_memory_bytes {
            gauge(
                e,
                "process_resident_memory_bytes",
                "Resident memory size in bytes.",
                v,
            )?;
        }
        if let Some(v) = stats.start_time_seconds {
            gauge(
                e,
                "process_start_time_seconds",
                "Start time of the process since unix epoch in seconds.",
                v,
            )?;
        }
        Ok(())
    }
}
