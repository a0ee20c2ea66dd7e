//! [`RelabelRegex`]: a rule's regex pattern, compiled anchored.

use std::fmt;

/// Regexes larger than this when compiled are refused (as for matchers).
const REGEX_SIZE_LIMIT: usize = 4 << 20;

/// A compiled, fully anchored relabel regex that remembers its pattern as written.
///
/// The syntax is Rust's `regex`, which is RE2's (Go's) but for one difference
/// shared with label matchers: `\d`, `\w`, `\s` and `\b` are Unicode-aware here and
/// ASCII-only in Go, so `\d` also matches, say, Arabic-Indic digits.
#[derive(Clone)]
pub struct RelabelRegex {
    pattern: String,
    pub(super) re: regex::Regex,
}

impl RelabelRegex {
    /// Compiles `pattern` anchored at both ends, with `.` matching newlines
    /// (`^(?s:pattern)$`), as Prometheus does.
    pub fn new(pattern: &str) -> Result<RelabelRegex, regex::Error> {
        let re = regex::RegexBuilder::new(&format!("^(?s:{pattern})$"))
            .size_limit(REGEX_SIZE_LIMIT)
            .build()?;
        Ok(RelabelRegex {
            pattern: pattern.to_string(),
            re,
        })
    }

    /// The pattern as written, without the anchors.
    pub fn as_str(&self) -> &str {
        &self.pattern
    }

    /// Whether the whole of `text` matches.
    pub fn is_match(&self, text: &str) -> bool {
        self.re.is_match(text)
    }
}

impl PartialEq for RelabelRegex {
    fn eq(&self, other: &Self) -> bool {
        self.pattern == other.pattern
    }
}

impl fmt::Debug for RelabelRegex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.pattern)
    }
}
