//! Parse errors: where (line, column) and what (found, expected).

use std::borrow::Cow;
use std::fmt;

/// Why an exposition was rejected: the line and column (both from 1, the column
/// counted in characters), what was found there and what was expected instead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub column: usize,
    pub found: String,
    pub expected: Cow<'static, str>,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: found {}, expected {}",
            self.line, self.column, self.found, self.expected
        )
    }
}

impl std::error::Error for ParseError {}

/// An error inside one line, before the line number is known: the byte offset in
/// the line, what was expected, and what was found when it is not simply "the input
/// at that offset".
#[derive(Clone, Debug)]
pub(crate) struct LineError {
    pub offset: usize,
    pub expected: Cow<'static, str>,
    pub found: Option<String>,
    /// The line ended inside a quoted string: in the text format the string may
    /// go on over the next line.
    pub unclosed_quote: bool,
}

impl LineError {
    pub(crate) fn new(offset: usize, expected: impl Into<Cow<'static, str>>) -> LineError {
        LineError {
            offset,
            expected: expected.into(),
            found: None,
            unclosed_quote: false,
        }
    }

    pub(crate) fn found(mut self, found: impl Into<String>) -> LineError {
        self.found = Some(found.into());
        self
    }

    /// Places the error in the input: `line` is the text starting at line
    /// `number` (several lines when a quoted string held a newline).
    pub(crate) fn at_line(self, number: usize, line: &str) -> ParseError {
        let offset = self.offset.min(line.len());
        let before = line.get(..offset).unwrap_or(line);
        let (number, column_text) = match before.rfind('\n') {
            Some(i) => (number + before.matches('\n').count(), &before[i + 1..]),
            None => (number, before),
        };
        ParseError {
            line: number,
            column: column_text.chars().count() + 1,
            found: self.found.unwrap_or_else(|| describe(line, offset)),
            expected: self.expected,
        }
    }
}

/// The token at `offset` of `line`, quoted and shortened, or "end of line".
fn describe(line: &str, offset: usize) -> String {
    let rest = line.get(offset..).unwrap_or("");
    if rest.is_empty() || rest.starts_with('\n') {
        return "end of line".to_owned();
    }
    let token: String = rest
        .chars()
        .take_while(|c| !matches!(c, ' ' | '\t' | '\n'))
        .take(24)
        .collect();
    if token.is_empty() {
        let c = rest.chars().next().unwrap_or(' ');
        return format!("{c:?}");
    }
    format!("{token:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_counts_characters_and_names_the_token() {
        let e = LineError::new(7, "a value").at_line(3, "a{é=\"x\"} zz 1");
        assert_eq!(e.line, 3);
        assert_eq!(e.column, 7);
        assert_eq!(e.found, r#""\"}""#);
    }

    #[test]
    fn end_of_line_and_whitespace() {
        let e = LineError::new(3, "a value").at_line(1, "abc");
        assert_eq!(e.found, "end of line");
        assert_eq!(
            e.to_string(),
            "line 1, column 4: found end of line, expected a value"
        );
        let e = LineError::new(1, "a value").at_line(1, "a  1");
        assert_eq!(e.found, "' '");
    }
}
