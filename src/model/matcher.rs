//! Label matchers: `=`, `!=`, `=~`, `!~`.

use std::fmt;

/// Upper bound on the compiled size of one matcher regex, so a hostile query cannot
/// make us build an enormous automaton.
const REGEX_SIZE_LIMIT: usize = 4 << 20;

/// The four matcher operators of PromQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MatchType {
    Equal,
    NotEqual,
    RegexMatch,
    RegexNoMatch,
}

impl MatchType {
    fn as_str(self) -> &'static str {
        match self {
            MatchType::Equal => "=",
            MatchType::NotEqual => "!=",
            MatchType::RegexMatch => "=~",
            MatchType::RegexNoMatch => "!~",
        }
    }
}

/// Why a matcher could not be built.
#[derive(Debug, Clone, thiserror::Error)]
pub enum MatcherError {
    #[error("invalid regular expression {pattern:?} in matcher for label {name:?}: {reason}")]
    InvalidRegex {
        name: String,
        pattern: String,
        reason: String,
    },
}

/// Selects series by one label.
///
/// Regexes are fully anchored, as in Prometheus: `a=~"fo."` matches `foo` but not
/// `xfoo` or `foox`, and `.` matches a newline too (the pattern is compiled as
/// `^(?s:…)$`). A label that is absent has the value `""` for matching, so
/// `{a=""}` selects series without `a` and `{a=~".*"}` selects every series.
#[derive(Clone)]
pub struct Matcher {
    name: String,
    value: String,
    kind: MatchType,
    re: Option<regex::Regex>,
}

impl Matcher {
    /// Builds a matcher, compiling the regex for `=~` and `!~`.
    pub fn new(
        kind: MatchType,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> Result<Matcher, MatcherError> {
        let (name, value) = (name.into(), value.into());
        let re = match kind {
            MatchType::Equal | MatchType::NotEqual => None,
            MatchType::RegexMatch | MatchType::RegexNoMatch => Some(
                regex::RegexBuilder::new(&format!("^(?s:{value})$"))
                    .size_limit(REGEX_SIZE_LIMIT)
                    .build()
                    .map_err(|e| MatcherError::InvalidRegex {
                        name: name.clone(),
                        pattern: value.clone(),
                        reason: e.to_string(),
                    })?,
            ),
        };
        Ok(Matcher {
            name,
            value,
            kind,
            re,
        })
    }

    /// `name="value"`.
    pub fn equal(name: impl Into<String>, value: impl Into<String>) -> Matcher {
        Matcher {
            name: name.into(),
            value: value.into(),
            kind: MatchType::Equal,
            re: None,
        }
    }

    /// `name!="value"`.
    pub fn not_equal(name: impl Into<String>, value: impl Into<String>) -> Matcher {
        Matcher {
            name: name.into(),
            value: value.into(),
            kind: MatchType::NotEqual,
            re: None,
        }
    }

    /// `name=~"pattern"`.
    pub fn regex(
        name: impl Into<String>,
        pattern: impl Into<String>,
    ) -> Result<Matcher, MatcherError> {
        Matcher::new(MatchType::RegexMatch, name, pattern)
    }

    /// `name!~"pattern"`.
    pub fn not_regex(
        name: impl Into<String>,
        pattern: impl Into<String>,
    ) -> Result<Matcher, MatcherError> {
        Matcher::new(MatchType::RegexNoMatch, name, pattern)
    }

    /// The label name this matcher looks at.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The value or pattern as written.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// The operator.
    pub fn kind(&self) -> MatchType {
        self.kind
    }

    /// Whether a label value (`""` for an absent label) satisfies the matcher.
    pub fn matches(&self, v: &str) -> bool {
        match (self.kind, &self.re) {
            (MatchType::Equal, _) => v == self.value,
            (MatchType::NotEqual, _) => v != self.value,
            (MatchType::RegexMatch, Some(re)) => re.is_match(v),
            (MatchType::RegexNoMatch, Some(re)) => !re.is_match(v),
            // Regex kinds are only built with a compiled regex.
            (MatchType::RegexMatch | MatchType::RegexNoMatch, None) => false,
        }
    }
}

impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}{:?}", self.name, self.kind.as_str(), self.value)
    }
}

impl fmt::Debug for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regex_is_fully_anchored() {
        let m = Matcher::regex("a", "fo.").unwrap();
        assert!(m.matches("foo"));
        assert!(!m.matches("xfoo"));
        assert!(!m.matches("foox"));
        let alt = Matcher::regex("a", "b|c").unwrap();
        assert!(alt.matches("b") && alt.matches("c") && !alt.matches("bc"));
    }

    #[test]
    fn dot_matches_newline() {
        assert!(Matcher::regex("a", "x.y").unwrap().matches("x\ny"));
    }

    #[test]
    fn absent_label_is_empty_string() {
        assert!(Matcher::equal("a", "").matches(""));
        assert!(Matcher::regex("a", ".*").unwrap().matches(""));
        assert!(!Matcher::regex("a", ".+").unwrap().matches(""));
        assert!(Matcher::not_regex("a", "x").unwrap().matches(""));
        assert!(!Matcher::not_equal("a", "").matches(""));
    }

    #[test]
    fn invalid_regex_names_label_and_pattern() {
        let err = Matcher::regex("job", "a(").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("job") && msg.contains("a("), "{msg}");
    }

    #[test]
    fn display_matches_promql_syntax() {
        assert_eq!(
            Matcher::not_regex("a", "x").unwrap().to_string(),
            r#"a!~"x""#
        );
    }
}
