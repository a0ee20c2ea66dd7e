//! Pieces: parsing a stream in pieces gives what parsing it whole gives.

use super::*;

/// Parses `input` in pieces cut at `cuts` (byte offsets, each just after a `\n`).
fn in_pieces(
    input: &[u8],
    cuts: &[usize],
    format: Format,
    mode: Mode,
) -> (Vec<Result<E, ParseError>>, usize) {
    let mut state = ParseState::new(format, mode);
    let mut out = Vec::new();
    let mut start = 0;
    for &end in cuts.iter().chain(std::iter::once(&input.len())) {
        let mut p = Parser::piece(&input[start..end], state);
        out.extend(p.by_ref().map(|r| r.map(|e| own(&e))));
        state = p.into_state();
        start = end;
    }
    if let Err(e) = state.finish() {
        out.push(Err(e));
    }
    (out, state.lines())
}

#[test]
fn pieces_match_the_whole() {
    let inputs: [&[u8]; 7] = [
        b"# HELP a x\n# TYPE a counter\na_total{b=\"1\"} 1 100\nbad{ 1\n\na_total{b=\"2\"} 2\n",
        b"# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_count 2\n\
          h_sum 3\n# EOF\n",
        b"# TYPE h histogram\nh_bucket{le=\"1\"} 1\n# TYPE g gauge\ng 1 # {a=\"b\"} 1\n# EOF",
        b"a 1\nb caf\xe9\nc 3\n# EOF\nd 4",
        b"# HELP f x\n# HELP f y\nf 1 \nf{a=\"\\z\"} 2\nf 3",
        b"a{x=\"1\"} 1\na{x=\"2\"} 1\na{x=\"1\"} 2\n",
        b"# TYPE s summary\ns{quantile=\"0.5\"} 1\n\ns_count 1\ns_sum 1\n# EOF\n",
    ];
    let mut failures = Vec::new();
    for input in inputs {
        let boundaries: Vec<usize> = input
            .iter()
            .enumerate()
            .filter(|&(i, &b)| b == b'\n' && i + 1 < input.len())
            .map(|(i, _)| i + 1)
            .collect();
        let mut splits: Vec<Vec<usize>> = vec![vec![], boundaries.clone()];
        splits.extend(boundaries.iter().map(|&b| vec![b]));
        for format in [TEXT, OM] {
            for mode in [LENIENT, STRICT] {
                let mut whole_parser = Parser::new(input, format, mode);
                let whole: Vec<_> = whole_parser.by_ref().map(|r| r.map(|e| own(&e))).collect();
                let whole_lines = whole_parser.into_state().lines();
                for cuts in &splits {
                    let (pieces, lines) = in_pieces(input, cuts, format, mode);
                    if pieces != whole || lines != whole_lines {
                        failures.push(format!(
                            "{format:?}/{mode:?} {:?} cut at {cuts:?}:\n   pieces {pieces:?} \
                             ({lines} lines)\n   whole  {whole:?} ({whole_lines} lines)",
                            show(input)
                        ));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
