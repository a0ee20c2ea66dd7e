//! `--log.level` and `--log.format`: tracing to stderr as logfmt (like Prometheus's
//! `time=… level=INFO msg="…" key=value` lines) or as JSON.

use std::fmt;

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// `--log.level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogLevel {
    Debug,
    Info,
    Warn,
    Error,
}

/// `--log.format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Logfmt,
    Json,
}

/// The logging flags every subcommand takes.
#[derive(Debug, Clone, clap::Args)]
pub struct LogArgs {
    /// Only log messages with the given severity or above.
    #[arg(long = "log.level", value_enum, default_value_t = LogLevel::Info, global = true)]
    pub level: LogLevel,
    /// Output format of log messages.
    #[arg(long = "log.format", value_enum, default_value_t = LogFormat::Logfmt, global = true)]
    pub format: LogFormat,
}

/// Installs the global subscriber. Logs go to stderr.
pub fn init(args: &LogArgs) {
    let level = match args.level {
        LogLevel::Debug => tracing::Level::DEBUG,
        LogLevel::Info => tracing::Level::INFO,
        LogLevel::Warn => tracing::Level::WARN,
        LogLevel::Error => tracing::Level::ERROR,
    };
    let builder = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr);
    match args.format {
        LogFormat::Logfmt => builder.event_format(Logfmt).init(),
        LogFormat::Json => builder.json().flatten_event(true).init(),
    }
}

/// `time=2025-01-02T03:04:05.678Z level=INFO source=tidemark::server msg="…" k=v`.
struct Logfmt;

impl<S, N> FormatEvent<S, N> for Logfmt
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        writer.write_str("time=")?;
        SystemTime.format_time(&mut writer)?;
        write!(writer, " level={} source={}", meta.level(), meta.target())?;
        let mut fields = Fields::default();
        event.record(&mut fields);
        if let Some(message) = &fields.message {
            writer.write_str(" msg=")?;
            write_value(&mut writer, message)?;
        }
        for (key, value) in &fields.rest {
            write!(writer, " {key}=")?;
            write_value(&mut writer, value)?;
        }
        writer.write_char('\n')
    }
}

#[derive(Default)]
struct Fields {
    message: Option<String>,
    rest: Vec<(&'static str, String)>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.push(field, value.to_string());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.push(field, format!("{value:?}"));
    }
}

impl Fields {
    fn push(&mut self, field: &Field, value: String) {
        if field.name() == "message" {
            self.message = Some(value);
        } else {
            self.rest.push((field.name(), value));
        }
    }
}

/// Writes `value` bare when it is a simple token, quoted and escaped otherwise.
fn write_value(writer: &mut Writer<'_>, value: &str) -> fmt::Result {
    let bare = !value.is_empty()
        && !value
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '"' | '=' | '\\'));
    if bare {
        writer.write_str(value)
    } else {
        writer.write_char('"')?;
        for c in value.chars() {
            match c {
                '"' => writer.write_str("\\\"")?,
                '\\' => writer.write_str("\\\\")?,
                '\n' => writer.write_str("\\n")?,
                c if c.is_control() => write!(writer, "{}", c.escape_default())?,
                c => writer.write_char(c)?,
            }
        }
        writer.write_char('"')
    }
}
