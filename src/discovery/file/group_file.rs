//! One target group file: its format, read and parsed as Prometheus reads it,
//! and why it could not be used ([`FileSdError`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::discovery::target_group::TargetGroup;

/// The label naming the file a target came from.
pub const FILEPATH_LABEL: &str = "__meta_filepath";

/// Why a target group file could not be used. Prometheus keeps the groups it read
/// from the file before, and so must the caller.
#[derive(Debug, thiserror::Error)]
pub enum FileSdError {
    #[error("{}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: unsupported file extension (want .json, .yml or .yaml)", path.display())]
    Extension { path: PathBuf },
    #[error("{}: {message}", path.display())]
    Parse { path: PathBuf, message: String },
    /// A `files` pattern that is not valid; `message` names it and says why.
    #[error("{message}")]
    Pattern { path: PathBuf, message: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGroup {
    #[serde(default)]
    targets: Vec<String>,
    #[serde(default)]
    labels: Option<BTreeMap<String, String>>,
}

/// Reads the target groups of `path`.
pub fn read_target_groups(path: &Path) -> Result<Vec<TargetGroup>, FileSdError> {
    let text = std::fs::read_to_string(path).map_err(|source| FileSdError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse_target_groups(path, &text)
}

/// Parses target group file text; `path` decides the format and names the file.
pub fn parse_target_groups(path: &Path, text: &str) -> Result<Vec<TargetGroup>, FileSdError> {
    let parse = |message: String| FileSdError::Parse {
        path: path.to_path_buf(),
        message,
    };
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let groups: Vec<Option<RawGroup>> = match ext.as_deref() {
        Some("json") => serde_json::from_str(text).map_err(|e| parse(e.to_string()))?,
        Some("yml" | "yaml") => {
            if text.trim().is_empty() {
                Vec::new()
            } else {
                serde_saphyr::from_str(text).map_err(|e| parse(e.to_string()))?
            }
        }
        _ => {
            return Err(FileSdError::Extension {
                path: path.to_path_buf(),
            });
        }
    };
    groups
        .into_iter()
        .enumerate()
        .map(|(i, g)| {
            let g = g.ok_or_else(|| parse(format!("target group {i} is null")))?;
            let mut labels = g.labels.unwrap_or_default();
            if let Some(name) = labels.keys().find(|n| n.is_empty()) {
                return Err(parse(format!(
                    "target group {i}: invalid label name {name:?}"
                )));
            }
            labels.insert(FILEPATH_LABEL.to_owned(), path.display().to_string());
            Ok(TargetGroup::from_addresses(
                format!("{}:{i}", path.display()),
                g.targets,
                labels,
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addresses(group: &TargetGroup) -> Vec<&str> {
        group
            .targets
            .iter()
            .map(|t| t[crate::discovery::ADDRESS_LABEL].as_str())
            .collect()
    }

    #[test]
    fn json_and_yaml_groups_get_the_file_path() {
        let json =
            r#"[{"targets": ["a:1", "b:2"], "labels": {"env": "prod"}}, {"targets": ["c:3"]}]"#;
        let groups = parse_target_groups(Path::new("/sd/t.json"), json).unwrap();
        assert_eq!(groups.len(), 2);
        assert_eq!(addresses(&groups[0]), ["a:1", "b:2"]);
        assert_eq!(
            groups[0].targets[0].len(),
            1,
            "the address is a target's only label"
        );
        assert_eq!(
            (groups[0].source.as_str(), groups[1].source.as_str()),
            ("/sd/t.json:0", "/sd/t.json:1")
        );
        assert_eq!(groups[0].labels["env"], "prod");
        assert_eq!(groups[0].labels[FILEPATH_LABEL], "/sd/t.json");
        assert_eq!(groups[1].labels.len(), 1);
        let yaml = "- targets: ['x:9']\n  labels:\n    team: a\n";
        let groups = parse_target_groups(Path::new("t.YAML"), yaml).unwrap();
        assert_eq!(addresses(&groups[0]), ["x:9"]);
        assert_eq!(groups[0].labels["team"], "a");
        assert!(
            parse_target_groups(Path::new("t.yml"), "")
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn bad_files_say_what_and_where() {
        let err = |path: &str, text: &str| {
            parse_target_groups(Path::new(path), text)
                .unwrap_err()
                .to_string()
        };
        assert!(err("t.txt", "[]").contains("unsupported file extension"));
        assert!(err("t.json", "[null]").contains("target group 0 is null"));
        assert!(err("t.json", r#"[{"targets": ["a"], "lables": {}}]"#).contains("lables"));
        assert!(err("t.yml", "- targets: a\n").starts_with("t.yml: "));
        assert!(err("t.json", r#"[{"labels": {"": "x"}}]"#).contains("invalid label name"));
        let missing = read_target_groups(Path::new("/nonexistent/t.json")).unwrap_err();
        assert!(missing.to_string().starts_with("/nonexistent/t.json: "));
    }
}
