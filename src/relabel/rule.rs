//! One relabel rule: the options as written ([`RelabelOptions`]), and the
//! validated rule ([`RelabelConfig`]) that [`RelabelConfig::new`] makes of them with
//! Prometheus's defaults and checks.

use std::fmt;

use super::pattern::RelabelRegex;

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
}
