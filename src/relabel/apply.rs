//! What each [`Action`] does to a label set, as Prometheus's `relabel.Process`
//! does it.

use md5::{Digest, Md5};

use super::builder::Builder;
use super::expand::expand;
use super::rule::{Action, RelabelConfig};

impl RelabelConfig {
    /// Applies the rule; false when it drops the set.
    pub(super) fn apply(&self, b: &mut Builder<'_>) -> bool {
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

pub(super) fn map_chars(s: &str, f: fn(char) -> char) -> String {
    s.chars().map(f).collect()
}

/// Go's `unicode.ToLower`: one character to one, no context. Rust's full mappings
/// give one character for all but `İ`, whose simple lower case is `i`.
pub(super) fn lower_char(c: char) -> char {
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
pub(super) fn upper_char(c: char) -> char {
    let mut m = c.to_uppercase();
    match (m.next(), m.next()) {
        (Some(u), None) => u,
        _ => c,
    }
}
