//! `tidemark check config FILE...`: loads each configuration file as the server
//! would, like `promtool check config`. Prints `Checking FILE` and ` SUCCESS: …`
//! to stdout, or `  FAILED: …` (file, line, column and key) to stderr. Exit
//! status: 0 when every file is valid, 1 otherwise.

use std::path::PathBuf;
use std::process::ExitCode;

use tidemark::config::Config;

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
        match Config::load(file) {
            Ok(config) => {
                for key in &config.unsupported_keys {
                    eprintln!("  WARNING: {key} is accepted but has no effect in this version");
                }
                if !config.rule_files.is_empty() {
                    // Said out loud rather than reported as checked: there is no
                    // rule evaluation yet to check them against.
                    eprintln!(
                        "  WARNING: rule_files are not checked: this version does not evaluate rules ({})",
                        config.rule_files.join(", ")
                    );
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
