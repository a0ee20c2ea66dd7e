//! Relabeling: rewriting a label set by a list of rules, as Prometheus's
//! `relabel_configs` (targets) and `metric_relabel_configs` (scraped samples) do.
//!
//! A [`RelabelConfig`] is one validated rule, built from the options as written
//! ([`RelabelOptions`]) by [`RelabelConfig::new`], which applies Prometheus's defaults
//! and checks. [`relabel`] runs a list of rules over a [`Labels`]: each rule either
//! keeps the set (possibly changed) or drops it, and the first drop ends the run.
//!
//! The semantics follow Prometheus's `model/relabel` package, with UTF-8 label names
//! (Prometheus 3's default): the rule's *value* is its source labels' values joined by
//! the separator (an absent label is `""`); regexes are fully anchored (`^(?s:…)$`);
//! replacements expand `$1`, `${1}`, `$name`, `${name}` and `$$` as Go's
//! `Regexp.ExpandString` does; setting a label to `""` deletes it.

use std::fmt;

use md5::{Digest, Md5};

use crate::model::{Labels, LabelsError};

/// Regexes larger than this when compiled are refused (as for matchers).
const REGEX_SIZE_LIMIT: usize = 4 << 20;

/// What a rule does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Action {
    /// Sets `target_label` to the expanded `replacement` when the regex matches the value.
    #[default]
    Replace,
    /// Drops the set unless the regex matches the value.
    Keep,
    /// Drops the set when the regex matches the value.
    Drop,
    /// Drops the set unless the value equals `target_label`'s value.
    KeepEqual,
    /// Drops the set when the value equals `target_label`'s value.
    DropEqual,
    /// Sets `target_label` to the MD5 of the value modulo `modulus`.
    HashMod,
    /// Copies every label whose name matches to the name the replacement expands to.
    LabelMap,
    /// Removes every label whose name matches.
    LabelDrop,
    /// Removes every label whose name does not match.
    LabelKeep,
    /// Sets `target_label` to the value in lower case.
    Lowercase,
    /// Sets `target_label` to the value in upper case.
    Uppercase,
}

impl Action {
    /// The name used in configuration files.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Replace => "replace",
            Action::Keep => "keep",
            Action::Drop => "drop",
            Action::KeepEqual => "keepequal",
            Action::DropEqual => "dropequal",
            Action::HashMod => "hashmod",
            Action::LabelMap => "labelmap",
            Action::LabelDrop => "labeldrop",
            Action::LabelKeep => "labelkeep",
            Action::Lowercase => "lowercase",
            Action::Uppercase => "uppercase",
        }
    }

    /// Parses an action name; case-insensitive, as in Prometheus.
    pub fn parse(name: &str) -> Option<Action> {
        const ALL: [Action; 11] = [
            Action::Replace,
            Action::Keep,
            Action::Drop,
            Action::KeepEqual,
            Action::DropEqual,
            Action::HashMod,
            Action::LabelMap,
            Action::LabelDrop,
            Action::LabelKeep,
            Action::Lowercase,
            Action::Uppercase,
        ];
        let lower = name.to_lowercase();
        ALL.into_iter().find(|a| a.as_str() == lower)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Default `separator`.
pub const DEFAULT_SEPARATOR: &str = ";";
/// Default `regex`.
pub const DEFAULT_REGEX: &str = "(.*)";
/// Default `replacement`.
pub const DEFAULT_REPLACEMENT: &str = "$1";

/// A compiled, fully anchored relabel regex that remembers its pattern as written.
///
/// The syntax is Rust's `regex`, which is RE2's (Go's) but for one difference
/// shared with label matchers: `\d`, `\w`, `\s` and `\b` are Unicode-aware here and
/// ASCII-only in Go, so `\d` also matches, say, Arabic-Indic digits.
#[derive(Clone)]
pub struct RelabelRegex {
    pattern: String,
    re: regex::Regex,
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

/// The options of one rule as written; `None` is "not set".
///
/// Which options were set matters beyond their values: `keepequal` and `dropequal`
/// refuse any `regex`, even `(.*)`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RelabelOptions {
    pub source_labels: Option<Vec<String>>,
    pub separator: Option<String>,
    pub regex: Option<String>,
    pub modulus: Option<u64>,
    pub target_label: Option<String>,
    pub replacement: Option<String>,
    pub action: Option<String>,
}

/// One validated relabel rule, defaults applied.
#[derive(Debug, Clone, PartialEq)]
pub struct RelabelConfig {
    /// Labels whose values, joined by `separator`, form the value the rule looks at.
    pub source_labels: Vec<String>,
    /// Between the source labels' values (default `;`).
    pub separator: String,
    /// Matched against the value, or against label names for `labelmap`, `labeldrop`
    /// and `labelkeep` (default `(.*)`).
    pub regex: RelabelRegex,
    /// For `hashmod`: the hash is taken modulo this (never 0 for `hashmod`).
    pub modulus: u64,
    /// The label written (`replace` may use captures in it) or compared.
    pub target_label: String,
    /// What `replace` writes and the name `labelmap` writes to (default `$1`).
    pub replacement: String,
    /// What the rule does (default `replace`).
    pub action: Action,
}

/// Why a rule was refused; [`RelabelConfigError::key`] names the option at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RelabelConfigError {
    #[error("unknown relabel action {0:?}")]
    UnknownAction(String),
    #[error("{0:?} is not a valid label name")]
    InvalidSourceLabel(String),
    #[error("invalid regex {pattern:?}: {reason}")]
    InvalidRegex { pattern: String, reason: String },
    #[error("relabel configuration for hashmod requires non-zero modulus")]
    ModulusRequired,
    #[error("relabel configuration for {0} action requires 'target_label' value")]
    TargetLabelRequired(Action),
    #[error("'replacement' can not be set for {0} action")]
    ReplacementNotAllowed(Action),
    #[error("{replacement:?} is invalid 'replacement' for {action} action")]
    InvalidReplacement { replacement: String, action: Action },
    #[error("{0} action requires only 'source_labels' and `target_label`, and no other fields")]
    OnlySourceAndTarget(Action),
    #[error("{0} action requires only 'regex', and no other fields")]
    OnlyRegex(Action),
}

impl RelabelConfigError {
    /// The option the error is about, for locating it in the file.
    pub fn key(&self) -> &'static str {
        match self {
            RelabelConfigError::UnknownAction(_)
            | RelabelConfigError::OnlySourceAndTarget(_)
            | RelabelConfigError::OnlyRegex(_) => "action",
            RelabelConfigError::InvalidSourceLabel(_) => "source_labels",
            RelabelConfigError::InvalidRegex { .. } => "regex",
            RelabelConfigError::ModulusRequired => "modulus",
            RelabelConfigError::TargetLabelRequired(_) => "target_label",
            RelabelConfigError::ReplacementNotAllowed(_)
            | RelabelConfigError::InvalidReplacement { .. } => "replacement",
        }
    }
}

impl RelabelConfig {
    /// Applies the defaults to `options` and validates the rule with Prometheus's
    /// checks (`relabel.Config.Validate`, UTF-8 label names).
    pub fn new(options: RelabelOptions) -> Result<RelabelConfig, RelabelConfigError> {
        use RelabelConfigError as E;
        let action = match &options.action {
            None => Action::Replace,
            Some(name) => Action::parse(name).ok_or_else(|| E::UnknownAction(name.clone()))?,
        };
        if let Some(name) = options
            .source_labels
            .iter()
            .flatten()
            .find(|n| n.is_empty())
        {
            return Err(E::InvalidSourceLabel(name.clone()));
        }
        let regex =
            RelabelRegex::new(options.regex.as_deref().unwrap_or(DEFAULT_REGEX)).map_err(|e| {
                E::InvalidRegex {
                    pattern: options.regex.clone().unwrap_or_default(),
                    reason: e.to_string(),
                }
            })?;
        let modulus = options.modulus.unwrap_or(0);
        let target_label = options.target_label.clone().unwrap_or_default();
        let separator = options
            .separator
            .clone()
            .unwrap_or_else(|| DEFAULT_SEPARATOR.to_string());
        let replacement = options
            .replacement
            .clone()
            .unwrap_or_else(|| DEFAULT_REPLACEMENT.to_string());
        // Prometheus tells "set" from "default" by value, except for the regex.
        let replacement_set = replacement != DEFAULT_REPLACEMENT;
        let separator_set = separator != DEFAULT_SEPARATOR;

        use Action::*;
        if action == HashMod && modulus == 0 {
            return Err(E::ModulusRequired);
        }
        let needs_target = matches!(
            action,
            Replace | HashMod | Lowercase | Uppercase | KeepEqual | DropEqual
        );
        if needs_target && target_label.is_empty() {
            return Err(E::TargetLabelRequired(action));
        }
        // With UTF-8 names any non-empty name is valid, `${1}` templates included, so
        // the only invalid target left is the empty one refused above.
        if matches!(action, Lowercase | Uppercase | KeepEqual | DropEqual) && replacement_set {
            return Err(E::ReplacementNotAllowed(action));
        }
        if action == LabelMap && replacement.is_empty() {
            return Err(E::InvalidReplacement {
                replacement,
                action,
            });
        }
        if matches!(action, KeepEqual | DropEqual)
            && (options.regex.is_some() || modulus != 0 || separator_set || replacement_set)
        {
            return Err(E::OnlySourceAndTarget(action));
        }
        if matches!(action, LabelDrop | LabelKeep)
            && (options.source_labels.is_some()
                || !target_label.is_empty()
                || modulus != 0
                || separator_set
                || replacement_set)
        {
            return Err(E::OnlyRegex(action));
        }
        Ok(RelabelConfig {
            source_labels: options.source_labels.unwrap_or_default(),
            separator,
            regex,
            modulus,
            target_label,
            replacement,
            action,
        })
    }

    /// Applies the rule; false when it drops the set.
    fn apply(&self, b: &mut Builder<'_>) -> bool {
        let value = self
            .source_labels
            .iter()
            .map(|n| b.get(n))
            .collect::<Vec<_>>()
            .join(&self.separator);
        match self.action {
            Action::Drop => return !self.regex.is_match(&value),
            Action::Keep => return self.regex.is_match(&value),
            Action::DropEqual => return b.get(&self.target_label) != value,
            Action::KeepEqual => return b.get(&self.target_label) == value,
            Action::Replace => {
                // No match, no change.
                if let Some(caps) = self.regex.re.captures(&value) {
                    let target = expand(&self.regex.re, &caps, &self.target_label);
                    // The only invalid UTF-8 label name; Prometheus skips the rule.
                    if !target.is_empty() {
                        let value = expand(&self.regex.re, &caps, &self.replacement);
                        b.set(&target, value);
                    }
                }
            }
            Action::Lowercase => b.set(&self.target_label, map_chars(&value, lower_char)),
            Action::Uppercase => b.set(&self.target_label, map_chars(&value, upper_char)),
            Action::HashMod => {
                let hash = Md5::digest(value.as_bytes());
                // Prometheus uses the last 8 bytes, big-endian, to stay compatible
                // with its earlier versions.
                let mut tail = [0u8; 8];
                tail.copy_from_slice(&hash[8..]);
                let bucket = u64::from_be_bytes(tail) % self.modulus;
                b.set(&self.target_label, bucket.to_string());
            }
            Action::LabelMap => {
                for (name, value) in b.snapshot() {
                    if let Some(caps) = self.regex.re.captures(&name) {
                        // The regex is anchored, so replacing every match replaces
                        // the whole name by the expansion.
                        let new_name = expand(&self.regex.re, &caps, &self.replacement);
                        b.set(&new_name, value);
                    }
                }
            }
            Action::LabelDrop => {
                for (name, _) in b.snapshot() {
                    if self.regex.is_match(&name) {
                        b.del(&name);
                    }
                }
            }
            Action::LabelKeep => {
                for (name, _) in b.snapshot() {
                    if !self.regex.is_match(&name) {
                        b.del(&name);
                    }
                }
            }
        }
        true
    }
}

/// Runs `configs` over `labels` in order.
///
/// `Ok(None)` when a rule dropped the set. An error when the result is not a valid
/// label set, which only a `labelmap` whose replacement expands to an empty name can
/// cause; Prometheus refuses such a target or sample, and so must the caller.
pub fn relabel(labels: &Labels, configs: &[RelabelConfig]) -> Result<Option<Labels>, LabelsError> {
    let mut b = Builder::new(labels);
    for config in configs {
        if !config.apply(&mut b) {
            return Ok(None);
        }
    }
    b.labels().map(Some)
}

/// Changes to a label set, kept as Prometheus's `labels.Builder` keeps them: the
/// base set, labels added or changed (in the order first set) and names deleted.
/// The order matters where `labelmap` maps two names to one: the last one wins, and
/// Prometheus visits unchanged labels by name first, then the added ones.
struct Builder<'a> {
    base: &'a Labels,
    add: Vec<(String, String)>,
    del: Vec<String>,
}

impl<'a> Builder<'a> {
    fn new(base: &'a Labels) -> Builder<'a> {
        Builder {
            base,
            add: Vec::new(),
            del: Vec::new(),
        }
    }

    /// The value of `name`; `""` when absent.
    fn get(&self, name: &str) -> &str {
        if let Some((_, v)) = self.add.iter().find(|(n, _)| n == name) {
            return v;
        }
        if self.del.iter().any(|n| n == name) {
            return "";
        }
        self.base.get(name).unwrap_or("")
    }

    /// Sets `name`; an empty value deletes it (an empty label is no label).
    fn set(&mut self, name: &str, value: String) {
        if value.is_empty() {
            return self.del(name);
        }
        match self.add.iter_mut().find(|(n, _)| n == name) {
            Some((_, v)) => *v = value,
            None => self.add.push((name.to_string(), value)),
        }
    }

    fn del(&mut self, name: &str) {
        self.add.retain(|(n, _)| n != name);
        self.del.push(name.to_string());
    }

    /// The current labels in Prometheus's visiting order, copied so that the caller
    /// may change the builder while walking them.
    fn snapshot(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self
            .base
            .iter()
            .filter(|l| {
                !self.del.iter().any(|n| n == l.name) && !self.add.iter().any(|(n, _)| n == l.name)
            })
            .map(|l| (l.name.to_string(), l.value.to_string()))
            .collect();
        out.extend(self.add.iter().cloned());
        out
    }

    fn labels(&self) -> Result<Labels, LabelsError> {
        Labels::new(self.snapshot())
    }
}

/// Expands `template` with the captures of a match, by the rules of Go's
/// `Regexp.ExpandString`: `$$` is `$`; `$name` takes the longest run of letters,
/// digits and `_`; `${name}` delimits it; a name of digits without a leading zero
/// is a group number, anything else a group name; an unknown or unmatched group
/// expands to nothing; a `$` not followed by a valid name is kept as is.
fn expand(re: &regex::Regex, caps: &regex::Captures<'_>, template: &str) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(dollar) = rest.find('$') {
        out.push_str(&rest[..dollar]);
        rest = &rest[dollar + 1..];
        if let Some(after) = rest.strip_prefix('$') {
            out.push('$');
            rest = after;
            continue;
        }
        let Some((name, after)) = template_name(rest) else {
            out.push('$');
            continue;
        };
        rest = after;
        let group = match group_number(name) {
            Some(i) => caps.get(i),
            None => re
                .capture_names()
                .position(|n| n == Some(name))
                .and_then(|i| caps.get(i)),
        };
        if let Some(m) = group {
            out.push_str(m.as_str());
        }
    }
    out.push_str(rest);
    out
}

/// The name after a `$` (bare or in braces) and the text after it; `None` when
/// there is no valid name.
fn template_name(s: &str) -> Option<(&str, &str)> {
    let (braced, body) = match s.strip_prefix('{') {
        Some(body) => (true, body),
        None => (false, s),
    };
    let len = body
        .char_indices()
        .find(|&(_, c)| !(c.is_alphabetic() || c.is_numeric() || c == '_'))
        .map_or(body.len(), |(i, _)| i);
    if len == 0 {
        return None;
    }
    let name = &body[..len];
    if braced {
        let after = body[len..].strip_prefix('}')?;
        Some((name, after))
    } else {
        Some((name, &body[len..]))
    }
}

/// A group number as Go reads it: ASCII digits, no leading zero, below 10^8.
fn group_number(name: &str) -> Option<usize> {
    if name.len() > 1 && name.starts_with('0') {
        return None;
    }
    let mut n: usize = 0;
    for b in name.bytes() {
        if !b.is_ascii_digit() || n >= 100_000_000 {
            return None;
        }
        n = n * 10 + usize::from(b - b'0');
    }
    Some(n)
}

fn map_chars(s: &str, f: fn(char) -> char) -> String {
    s.chars().map(f).collect()
}

/// Go's `unicode.ToLower`: one character to one, no context. Rust's full mappings
/// give one character for all but `İ`, whose simple lower case is `i`.
fn lower_char(c: char) -> char {
    let mut m = c.to_lowercase();
    match (m.next(), m.next()) {
        (Some(l), None) => l,
        _ if c == '\u{130}' => 'i',
        _ => c,
    }
}

/// Go's `unicode.ToUpper`: one character to one. Where Rust's full mapping is
/// several characters (`ß` → `SS`, ligatures) Go has no simple mapping and keeps
/// the character; so do we. (Greek letters with a iota subscript, `ᾳ`, are the
/// exception: Go maps them to their title-case form, we keep them.)
fn upper_char(c: char) -> char {
    let mut m = c.to_uppercase();
    match (m.next(), m.next()) {
        (Some(u), None) => u,
        _ => c,
    }
}

#[cfg(test)]
mod tests;
