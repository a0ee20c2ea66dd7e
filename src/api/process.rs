//! The standard `process_*` metrics, read from `/proc` at scrape time (Linux).
//!
//! Same names and meanings as the Prometheus client libraries: CPU seconds,
//! resident and virtual memory, open and maximum file descriptors, start time.

use std::path::Path;

/// The kernel reports CPU times in `/proc` in units of USER_HZ, which is 100 on
/// every Linux architecture (the Go procfs library makes the same assumption).
const USER_HZ: f64 = 100.0;

/// One reading of the process figures; a field is `None` when its source could not
/// be read (another OS, a restricted `/proc`).
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct ProcessStats {
    pub cpu_seconds: Option<f64>,
    pub resident_memory_bytes: Option<u64>,
    pub virtual_memory_bytes: Option<u64>,
    pub start_time_seconds: Option<f64>,
    pub open_fds: Option<u64>,
    pub max_fds: Option<u64>,
}

/// The fields of `/proc/<pid>/stat` that we use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stat {
    utime_ticks: u64,
    stime_ticks: u64,
    start_ticks: u64,
    vsize_bytes: u64,
}

impl ProcessStats {
    /// Reads the figures of this process.
    pub(super) fn read() -> ProcessStats {
        Self::read_from(Path::new("/proc"))
    }

    fn read_from(proc: &Path) -> ProcessStats {
        let read = |p: &str| std::fs::read_to_string(proc.join(p)).ok();
        let stat = read("self/stat").as_deref().and_then(parse_stat);
        let boot_time = read("stat").as_deref().and_then(parse_boot_time);
        ProcessStats {
            cpu_seconds: stat.map(|s| (s.utime_ticks + s.stime_ticks) as f64 / USER_HZ),
            resident_memory_bytes: read("self/status")
                .as_deref()
                .and_then(|s| parse_status_kb(s, "VmRSS:"))
                .map(|kb| kb * 1024),
            virtual_memory_bytes: stat.map(|s| s.vsize_bytes),
            start_time_seconds: stat
                .zip(boot_time)
                .map(|(s, boot)| boot as f64 + s.start_ticks as f64 / USER_HZ),
            open_fds: std::fs::read_dir(proc.join("self/fd"))
                .ok()
                .map(|dir| dir.count() as u64),
            max_fds: read("self/limits")
                .as_deref()
                .and_then(parse_max_open_files),
        }
    }
}

/// Parses `/proc/<pid>/stat`. The command name (field 2) is in parentheses and may
/// itself contain spaces and parentheses, so fields are counted after the last `)`.
fn parse_stat(text: &str) -> Option<Stat> {
    let after_comm = &text[text.rfind(')')? + 1..];
    // Field 3 (state) is index 0 here, so field n is index n - 3.
    let fields: Vec<&str> = after_comm.split_whitespace().collect();
    let field = |n: usize| fields.get(n - 3)?.parse::<u64>().ok();
    Some(Stat {
        utime_ticks: field(14)?,
        stime_ticks: field(15)?,
        start_ticks: field(22)?,
        vsize_bytes: field(23)?,
    })
}

/// The `kB` value of a line such as `VmRSS:     1948 kB` in `/proc/<pid>/status`.
fn parse_status_kb(text: &str, key: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with(key))?;
    line[key.len()..].split_whitespace().next()?.parse().ok()
}

/// `btime` (boot time, unix seconds) from `/proc/stat`.
fn parse_boot_time(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("btime "))?;
    line["btime ".len()..].trim().parse().ok()
}

/// The soft limit of `Max open files` in `/proc/<pid>/limits`; `None` if unlimited.
fn parse_max_open_files(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_with_awkward_command_name() {
        let text = "8395 (my (odd) cmd) R 8393 8393 5632 0 -1 4194304 97 0 0 0 \
                    250 130 0 0 20 0 1 0 56352 3133440 381 18446744073709551615 0\n";
        assert_eq!(
            parse_stat(text),
            Some(Stat {
                utime_ticks: 250,
                stime_ticks: 130,
                start_ticks: 56352,
                vsize_bytes: 3133440,
            })
        );
        assert_eq!(parse_stat("garbage"), None);
        assert_eq!(parse_stat("1 (x) R 1 2"), None);
    }

    #[test]
    fn parses_status_limits_and_boot_time() {
        let status = "Name:\tcat\nVmSize:\t    3892 kB\nVmRSS:\t    1948 kB\n";
        assert_eq!(parse_status_kb(status, "VmRSS:"), Some(1948));
        assert_eq!(parse_status_kb(status, "VmSwap:"), None);
        let limits = "Limit                     Soft Limit           Hard Limit           Units     \n\
                      Max open files            1024                 524288               files     \n";
        assert_eq!(parse_max_open_files(limits), Some(1024));
        let unlimited =
            "Max open files            unlimited            unlimited            files\n";
        assert_eq!(parse_max_open_files(unlimited), None);
        assert_eq!(
            parse_boot_time("cpu  1 2 3\nbtime 1795609221\n"),
            Some(1795609221)
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn reads_this_process() {
        let stats = ProcessStats::read();
        assert!(stats.resident_memory_bytes.unwrap() > 0);
        assert!(stats.virtual_memory_bytes.unwrap() >= stats.resident_memory_bytes.unwrap());
        assert!(stats.open_fds.unwrap() >= 3);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64();
        let start = stats.start_time_seconds.unwrap();
        assert!(
            start <= now + 1.0 && start > now - 3600.0,
            "{start} vs {now}"
        );
        assert!(stats.cpu_seconds.unwrap() >= 0.0);
    }
}
