//! `tidemark check metrics`: reads an exposition on stdin, reports parse errors
//! (line, column) and promlint's lint problems, like `promtool check metrics`.
//!
//! The input is streamed: read in pieces of whole lines, each parsed and linted
//! and then dropped, so memory holds one piece (or the longest record, which a
//! quoted string left open makes the rest of the input) plus the per-family lint
//! state and one hash per series. Problems go to stderr, one per line
//! (`<metric> <problem>`, sorted, as promtool prints them). Exit status: 0 clean,
//! 1 lint problems only, 2 a parse error (or stdin unreadable).

use std::io::{self, BufWriter, Read, Write};
use std::process::ExitCode;

use clap::ValueEnum;
use tidemark::exposition::{Format, Mode, ParseError, ParseState, Parser, lint::Linter};

#[derive(Debug, clap::Args)]
pub struct CheckMetricsArgs {
    /// Exposition format of the input.
    #[arg(
        long = "format",
        id = "exposition_format",
        value_name = "FORMAT",
        value_enum,
        default_value_t = FormatArg::Text
    )]
    format: FormatArg,
    /// Validate beyond the syntax: OpenMetrics's rules (families, grouping,
    /// histogram structure, value ranges), or for the text format the rules of
    /// Prometheus's exposition library that promtool applies.
    #[arg(long)]
    strict: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum FormatArg {
    /// Prometheus text format 0.0.4.
    Text,
    /// OpenMetrics 1.0 text format.
    Openmetrics,
}

/// Bytes read and parsed at a time; a longer line grows the buffer.
const PIECE: usize = 1 << 20;
/// Parse errors printed before the rest are only counted.
const MAX_ERRORS_SHOWN: u64 = 100;

pub fn run(args: &CheckMetricsArgs) -> ExitCode {
    let format = match args.format {
        FormatArg::Text => Format::Text,
        FormatArg::Openmetrics => Format::OpenMetrics,
    };
    let mode = if args.strict {
        Mode::Strict
    } else {
        Mode::Lenient
    };
    let stderr = io::stderr();
    let mut report = Report {
        out: BufWriter::new(stderr.lock()),
        errors: 0,
    };
    let mut linter = Linter::new(format);
    if let Err(e) = check(io::stdin().lock(), format, mode, &mut linter, &mut report) {
        report.line(format_args!("error reading stdin: {e}"));
        let _ = report.out.flush();
        return ExitCode::from(2);
    }
    if report.errors > MAX_ERRORS_SHOWN {
        let more = report.errors - MAX_ERRORS_SHOWN;
        report.line(format_args!("… and {more} more parse errors"));
    }
    let problems = linter.finish();
    for p in &problems {
        for _ in 0..p.count {
            report.line(format_args!("{} {}", p.metric, p.text));
        }
    }
    let _ = report.out.flush();
    ExitCode::from(match (report.errors, problems.len()) {
        (0, 0) => 0,
        (0, _) => 1,
        _ => 2,
    })
}

struct Report<W: Write> {
    out: W,
    errors: u64,
}

impl<W: Write> Report<W> {
    fn line(&mut self, args: std::fmt::Arguments<'_>) {
        // A closed stderr leaves nothing to report to; the exit status still tells.
        let _ = writeln!(self.out, "{args}");
    }

    fn error(&mut self, e: &ParseError) {
        self.errors += 1;
        if self.errors <= MAX_ERRORS_SHOWN {
            self.line(format_args!("parse error: {e}"));
        }
    }
}

/// Reads `input` to the end in pieces of whole lines, parsing and linting each.
fn check<R: Read, W: Write>(
    mut input: R,
    format: Format,
    mode: Mode,
    linter: &mut Linter,
    report: &mut Report<W>,
) -> io::Result<()> {
    let mut buf = vec![0u8; PIECE];
    let mut filled = 0;
    let mut state = ParseState::new(format, mode);
    loop {
        let mut eof = false;
        while filled < buf.len() {
            match input.read(&mut buf[filled..]) {
                Ok(0) => {
                    eof = true;
                    break;
                }
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if eof {
            let mut parser = Parser::last_piece(&buf[..filled], state);
            lint_entries(&mut parser, linter, report);
            return Ok(());
        }
        // Parse up to the last complete line; the rest waits for more input, and
        // so does a record the parser could not finish in this piece.
        let cut = memchr::memrchr(b'\n', &buf[..filled]).map_or(0, |i| i + 1);
        let mut parser = Parser::piece(&buf[..cut], state);
        lint_entries(&mut parser, linter, report);
        let consumed = parser.consumed();
        state = parser.into_state();
        if consumed == 0 {
            // One record longer than the buffer: make room for it.
            buf.resize(buf.len() * 2, 0);
        }
        buf.copy_within(consumed..filled, 0);
        filled -= consumed;
    }
}

fn lint_entries<W: Write>(parser: &mut Parser<'_>, linter: &mut Linter, report: &mut Report<W>) {
    for entry in parser {
        match entry {
            Ok(entry) => linter.entry(&entry),
            Err(e) => report.error(&e),
        }
    }
}
