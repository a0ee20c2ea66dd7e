//! `tidemark check config FILE...`: loads each configuration file as the server
//! would, like `promtool check config`. Prints `Checking FILE` and ` SUCCESS: …`
//! to stdout, or `  FAILED: …` (file, line, column and key) to stderr. Exit
//! status: 0 when every file is valid, 1 otherwise. What is checked and what is
//! warned about is [`tidemark::config::check`]; this prints it.

use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct CheckConfigArgs {
    /// The configuration files to check.
    #[arg(value_name = "FILE", required = true)]
    files: Vec<PathBuf>,
}

pub fn run(args: &CheckConfigArgs) -> ExitCode {
    let mut failed = false;
    for file in &args.files {
        println!("Checking {}", file.display());
        match tidemark::config::check(file) {
            Ok(report) => {
                for warning in &report.warnings {
                    eprintln!("  WARNING: {warning}");
                }
                println!(
                    " SUCCESS: {} is valid prometheus config file syntax",
                    file.display()
                );
            }
            Err(e) => {
                eprintln!("  FAILED: {e}");
                failed = true;
            }
        }
        println!();
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
