//! The `tidemark` command: a thin shell over the library.
//!
//! With no subcommand it runs the server, with Prometheus's flag names
//! (`--config.file`, `--storage.tsdb.path`, `--web.listen-address`, …). Each
//! subcommand is a variant of [`Command`] with its own `Args` struct and module;
//! adding one is a variant, a module and a match arm. With a subcommand, every flag
//! (`--log.*` included) goes after its name: the server's top-level flags must not
//! be silently ignored, and clap's conflict check counts global flags too.

// Submodules live in src/bin/tidemark/ (a binary root finds modules beside it).
#[path = "tidemark/bench_write.rs"]
mod bench_write;
#[path = "tidemark/check_config.rs"]
mod check_config;
#[path = "tidemark/check_metrics.rs"]
mod check_metrics;
#[path = "tidemark/import.rs"]
mod import;
#[path = "tidemark/logging.rs"]
mod logging;
#[path = "tidemark/query.rs"]
mod query;
#[path = "tidemark/server.rs"]
mod server;
#[path = "tidemark/tsdb_analyze.rs"]
mod tsdb_analyze;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "tidemark",
    version,
    about = "A Prometheus-class monitoring engine: scraping, an embedded time-series database, PromQL over the Prometheus HTTP API.",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(flatten)]
    log: logging::LogArgs,
    /// The server's flags, when no subcommand is given.
    #[command(flatten)]
    server: server::ServerArgs,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server (the default when no subcommand is given).
    Server(server::ServerArgs),
    /// Benchmarks, comparable with promtool's.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Checks, like promtool's.
    #[command(subcommand)]
    Check(CheckCommand),
    /// Backfill: write blocks from a file of samples.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Evaluate a PromQL expression against a data directory.
    Query(query::QueryArgs),
    /// Tools for the blocks of a data directory, like `promtool tsdb`.
    #[command(subcommand)]
    Tsdb(TsdbCommand),
}

#[derive(Debug, Subcommand)]
enum TsdbCommand {
    /// Show what a block holds: counts, bytes per sample by chunk encoding, and
    /// the label sets with the highest cardinality.
    Analyze(tsdb_analyze::AnalyzeArgs),
}

#[derive(Debug, Subcommand)]
enum ImportCommand {
    /// Write blocks from an OpenMetrics file of timestamped samples, as
    /// `promtool tsdb create-blocks-from openmetrics` does.
    Openmetrics(import::OpenMetricsArgs),
}

#[derive(Debug, Subcommand)]
enum CheckCommand {
    /// Load configuration files as the server would and report what is wrong
    /// (file, line, key). Exit status: 0 all valid, 1 otherwise.
    Config(check_config::CheckConfigArgs),
    /// Read an exposition on stdin; report parse errors and lint problems.
    /// Exit status: 0 clean, 1 lint problems only, 2 a parse error.
    Metrics(check_metrics::CheckMetricsArgs),
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
    /// Ingest label sets into a fresh database as `promtool tsdb bench write` does.
    Write(bench_write::BenchWriteArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init(&cli.log);
    let result = match cli.command {
        None => server::run(cli.server),
        Some(Command::Server(args)) => server::run(args),
        Some(Command::Bench(BenchCommand::Write(args))) => bench_write::run(&args),
        Some(Command::Import(ImportCommand::Openmetrics(args))) => import::run_openmetrics(&args),
        Some(Command::Tsdb(TsdbCommand::Analyze(args))) => tsdb_analyze::run(&args),
        Some(Command::Query(args)) => query::run(&args),
        // Its exit status says what it found, so it maps its own.
        Some(Command::Check(CheckCommand::Metrics(args))) => return check_metrics::run(&args),
        Some(Command::Check(CheckCommand::Config(args))) => return check_config::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err:#}");
            ExitCode::FAILURE
        }
    }
}
