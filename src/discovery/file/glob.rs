//! The file patterns of `file_sd_configs`, matched as Go's `filepath.Glob`
//! matches them, because Prometheus configurations are written against Go's
//! rules.
//!
//! A pattern is a directory path without pattern characters, then a file name
//! that may hold them:
//!
//! - `*` matches any run of characters other than `/`, `?` any one of them;
//! - `[a-cx]` matches one character of the class, `[^a-c]` one outside it
//!   (`^` only: Go does not take `!` as negation); a class is never empty, and
//!   `-` or `]` inside it must be escaped;
//! - `\c` matches `c` itself, so `\*` is a literal star.
//!
//! Dot files are not special (Go's `*` matches `.hidden.json`). Escapes are the
//! Unix ones; on Windows Go takes `\` as a separator instead.
//!
//! Prometheus accepts `?` and `[` in the directory part too and globs it; we
//! reject pattern characters there, so one directory listing answers a
//! pattern and a typo in a directory name is a configuration error rather
//! than a silent empty match.

use std::path::{Path, PathBuf};

/// File name suffixes Prometheus accepts, in the exact spellings its
/// validation accepts (`.Json` is rejected there, so here too).
const SUFFIXES: [&str; 6] = [".json", ".yml", ".yaml", ".JSON", ".YML", ".YAML"];

/// Characters that make Go's `Glob` treat a path as a pattern (Unix).
const META: [char; 4] = ['*', '?', '[', '\\'];

/// Checks that `p` is a usable `file_sd_configs` file pattern: UTF-8, a file
/// name ending in `.json`, `.yml` or `.yaml`, pattern characters only in the
/// file name, and a well-formed pattern there.
///
/// The configuration loader calls this so a bad pattern fails the load, as it
/// does in Prometheus, instead of matching nothing at run time. The message
/// starts as Prometheus's does (`path name "…" is not valid for file
/// discovery`) and then says why.
pub fn validate_pattern(p: &Path) -> Result<(), String> {
    Pattern::parse(p).map(|_| ())
}

/// A validated pattern, ready to be expanded against the file system.
#[derive(Debug, Clone)]
pub(crate) struct Pattern {
    /// The pattern as configured; a pattern without pattern characters is
    /// returned as is when the file exists, as Go does.
    raw: PathBuf,
    /// The directory to list, cleaned as Go's `Join` cleans it, so the paths
    /// produced (and `__meta_filepath`) read as Prometheus's do.
    dir: PathBuf,
    /// `None` for a literal path.
    name: Option<NamePattern>,
}

impl Pattern {
    /// Parses and validates `p` (see [`validate_pattern`]).
    pub(crate) fn parse(p: &Path) -> Result<Pattern, String> {
        let invalid = |why: &str| {
            format!(
                "path name {:?} is not valid for file discovery: {why}",
                p.display().to_string()
            )
        };
        let text = p.to_str().ok_or_else(|| invalid("it is not UTF-8"))?;
        let (dir, file) = match text.rfind('/') {
            Some(i) => (&text[..=i], &text[i + 1..]),
            None => ("", text),
        };
        if !SUFFIXES.iter().any(|s| file.ends_with(s)) {
            return Err(invalid("the file name must end in .json, .yml or .yaml"));
        }
        if dir.contains(META) {
            return Err(invalid(
                "pattern characters (*, ?, [, \\) are allowed only in the file name",
            ));
        }
        let name = if file.contains(META) {
            Some(NamePattern::parse(file).map_err(|e| invalid(&e))?)
        } else {
            None
        };
        Ok(Pattern {
            raw: p.to_path_buf(),
            dir: PathBuf::from(clean_dir(dir)),
            name,
        })
    }

    /// The existing paths the pattern matches, sorted by name. File system
    /// errors (a missing or unreadable directory) mean no matches, as in Go:
    /// the directory may appear later, and the next poll will see it.
    pub(crate) fn expand(&self) -> Vec<PathBuf> {
        let Some(name) = &self.name else {
            return match std::fs::symlink_metadata(&self.raw) {
                Ok(_) => vec![self.raw.clone()],
                Err(_) => Vec::new(),
            };
        };
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut names: Vec<_> = entries
            .filter_map(|e| e.ok())
            .map(|e| e.file_name())
            .filter(|n| name.matches(&n.to_string_lossy()))
            .collect();
        names.sort();
        names
            .into_iter()
            .map(|n| {
                if self.dir == Path::new(".") {
                    PathBuf::from(n)
                } else {
                    self.dir.join(n)
                }
            })
            .collect()
    }
}

/// Go's `cleanGlobPath` then `Clean` of a pattern's directory part (`"a/./b/"`
/// → `"a/b"`, `""` → `"."`), which Go applies to the paths `Glob` returns.
fn clean_dir(dir: &str) -> String {
    let rooted = dir.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in dir.split('/') {
        match part {
            "" | "." => {}
            ".." => match parts.last() {
                Some(&last) if last != ".." => {
                    parts.pop();
                }
                _ if rooted => {}
                _ => parts.push(".."),
            },
            part => parts.push(part),
        }
    }
    let joined = parts.join("/");
    if rooted {
        format!("/{joined}")
    } else if joined.is_empty() {
        ".".to_owned()
    } else {
        joined
    }
}

/// One matching step of a file name pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    /// `*`: any run of non-`/` characters.
    Star,
    /// `?`: one non-`/` character.
    Any,
    /// A literal character (escaped or not).
    Char(char),
    /// `[…]`: one character in (or, negated, outside) the inclusive ranges.
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
}

/// A file name pattern, parsed once so a syntax error is found when the
/// configuration is loaded, not when some file name happens to reach it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NamePattern {
    tokens: Vec<Token>,
}

impl NamePattern {
    /// Parses Go `path.Match` syntax; the error says what is wrong.
    pub(crate) fn parse(pattern: &str) -> Result<NamePattern, String> {
        let mut tokens = Vec::new();
        let mut chars = pattern.chars().peekable();
        while let Some(c) = chars.next() {
            let token = match c {
                // Consecutive stars match what one does; keep one.
                '*' if tokens.last() == Some(&Token::Star) => continue,
                '*' => Token::Star,
                '?' => Token::Any,
                '\\' => Token::Char(
                    chars
                        .next()
                        .ok_or_else(|| format!("{pattern:?} ends with a lone backslash"))?,
                ),
                '[' => {
                    let negated = chars.next_if_eq(&'^').is_some();
                    let mut ranges = Vec::new();
                    loop {
                        if !ranges.is_empty() && chars.next_if_eq(&']').is_some() {
                            break;
                        }
                        let lo = class_char(&mut chars, pattern)?;
                        let hi = if chars.next_if_eq(&'-').is_some() {
                            class_char(&mut chars, pattern)?
                        } else {
                            lo
                        };
                        // Go accepts a reversed range (`[z-a]`); it matches nothing.
                        ranges.push((lo, hi));
                    }
                    Token::Class { negated, ranges }
                }
                c => Token::Char(c),
            };
            tokens.push(token);
        }
        Ok(NamePattern { tokens })
    }

    /// Whether the pattern matches all of `name`.
    ///
    /// Runs the pattern as a small automaton (the set of token positions
    /// reachable so far), so the cost is bounded by name length × pattern
    /// length whatever the stars, with no backtracking.
    pub(crate) fn matches(&self, name: &str) -> bool {
        let n = self.tokens.len();
        let mut current = vec![false; n + 1];
        current[0] = true;
        self.skip_stars(&mut current);
        for c in name.chars() {
            let mut next = vec![false; n + 1];
            for (i, token) in self.tokens.iter().enumerate() {
                if !current[i] {
                    continue;
                }
                match token {
                    Token::Star => next[i] |= c != '/',
                    Token::Any => next[i + 1] |= c != '/',
                    Token::Char(l) => next[i + 1] |= *l == c,
                    Token::Class { negated, ranges } => {
                        let inside = ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi);
                        next[i + 1] |= inside != *negated;
                    }
                }
            }
            self.skip_stars(&mut next);
            if !next.contains(&true) {
                return false;
            }
            current = next;
        }
        current[n]
    }

    /// A star may match nothing: whoever stands before one also stands after it.
    fn skip_stars(&self, states: &mut [bool]) {
        for (i, token) in self.tokens.iter().enumerate() {
            if states[i] && *token == Token::Star {
                states[i + 1] = true;
            }
        }
    }
}

/// One (possibly escaped) character of a class, as Go's `getEsc` reads it.
fn class_char(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    pattern: &str,
) -> Result<char, String> {
    match chars.next() {
        None => Err(format!("{pattern:?} has an unclosed character class")),
        Some(']') => Err(format!(
            "{pattern:?} has an empty character class or range (escape ']' as '\\]')"
        )),
        Some('-') => Err(format!(
            "{pattern:?} has a '-' that starts no range (escape it as '\\-')"
        )),
        Some('\\') => chars
            .next()
            .ok_or_else(|| format!("{pattern:?} has an unclosed character class")),
        Some(c) => Ok(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_patterns_match_as_go_path_match() {
        // (pattern, name, matches): cases follow Go's documented semantics.
        let table = [
            ("abc", "abc", true),
            ("abc", "abd", false),
            ("*", "abc", true),
            ("*", "", true),
            ("*", ".hidden", true),
            ("*c", "abc", true),
            ("a*", "a", true),
            ("a*", "ab/c", false),
            ("a*/b", "abc/b", true),
            ("a*b*c*d*e*", "axbxcxdxexxx", true),
            ("a*b*c*d*e*/f", "axbxcxdxe/f", true),
            ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", false),
            ("a*b?c*x", "abxbbxdbxebxczzx", true),
            ("a*b?c*x", "abxbbxdbxebxczzy", false),
            ("*.json", "targets.json", true),
            ("*.json", "targets.json.bak", false),
            ("*.json", ".json", true),
            ("node-*.yml", "node-a.yml", true),
            ("node-*.yml", "nodes.yml", false),
            ("a?c", "abc", true),
            ("a?c", "ac", false),
            ("a?c", "a/c", false),
            ("?", "é", true),
            ("[a-c]x", "bx", true),
            ("[a-c]x", "dx", false),
            ("[abc]", "b", true),
            ("[^a-c]x", "dx", true),
            ("[^a-c]x", "ax", false),
            ("[^a]", "a", false),
            ("[!a]", "!", true),
            ("[!a]", "b", false),
            ("[a-cx-z]", "y", true),
            ("[z-a]", "m", false),
            ("[\\-]", "-", true),
            ("[x\\-]", "x", true),
            ("[\\]a]", "]", true),
            ("[é-ü]", "ö", true),
            ("\\*", "*", true),
            ("\\*", "a", false),
            ("\\?", "?", true),
            ("\\[a]", "[a]", true),
            ("a\\.json", "a.json", true),
            ("*x", "xxx", true),
            ("**x", "abx", true),
        ];
        for (pattern, name, want) in table {
            let p = NamePattern::parse(pattern)
                .unwrap_or_else(|e| panic!("{pattern:?} should parse: {e}"));
            assert_eq!(p.matches(name), want, "{pattern:?} against {name:?}");
        }
    }

    #[test]
    fn malformed_name_patterns_are_errors() {
        for pattern in [
            "[", "[]", "[^]", "[]a]", "[a", "[a-", "[a-]", "[-a]", "[a-b-c]", "a\\", "[\\", "[x\\",
        ] {
            assert!(
                NamePattern::parse(pattern).is_err(),
                "{pattern:?} should be rejected"
            );
        }
    }

    #[test]
    fn patterns_are_validated_as_prometheus_does() {
        for ok in [
            "/sd/targets.json",
            "/sd/*.json",
            "/sd/*.yml",
            "/sd/node-?.YAML",
            "sd/[a-c]*.JSON",
            "*.yaml",
            "/sd/a\\*b.json",
        ] {
            assert_eq!(validate_pattern(Path::new(ok)), Ok(()), "{ok}");
        }
        let err = |p: &str| validate_pattern(Path::new(p)).unwrap_err();
        assert!(
            err("/sd/*.txt")
                .starts_with(r#"path name "/sd/*.txt" is not valid for file discovery"#)
        );
        assert!(err("/sd/*.Json").contains("must end in .json"));
        assert!(err("/sd/*").contains("must end in .json"));
        assert!(err("/sd/").contains("must end in .json"));
        assert!(err("/sd/*/t.json").contains("only in the file name"));
        assert!(err("/s?/t.json").contains("only in the file name"));
        assert!(err("/sd/[a.json").contains("unclosed character class"));
        assert!(err("/sd/[].json").contains("empty character class"));
    }

    #[test]
    fn directories_are_cleaned_as_go_joins_them() {
        assert_eq!(clean_dir(""), ".");
        assert_eq!(clean_dir("/"), "/");
        assert_eq!(clean_dir("/etc/sd/"), "/etc/sd");
        assert_eq!(clean_dir("/etc/./sd//"), "/etc/sd");
        assert_eq!(clean_dir("/etc/x/../sd/"), "/etc/sd");
        assert_eq!(clean_dir("/../sd/"), "/sd");
        assert_eq!(clean_dir("./sd/"), "sd");
        assert_eq!(clean_dir("../../sd/"), "../../sd");
        assert_eq!(clean_dir("a/../"), ".");
    }

    #[test]
    fn expansion_lists_matching_files_in_name_order() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["b.json", "a.json", "c.yml", "a.json.bak", ".h.json"] {
            std::fs::write(dir.path().join(name), "[]").unwrap();
        }
        let pattern = |p: &str| Pattern::parse(&dir.path().join(p)).unwrap();
        let names = |paths: Vec<PathBuf>| -> Vec<String> {
            paths
                .iter()
                .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
                .collect()
        };
        assert_eq!(
            names(pattern("*.json").expand()),
            [".h.json", "a.json", "b.json"]
        );
        assert_eq!(names(pattern("[^.]*.json").expand()), ["a.json", "b.json"]);
        assert_eq!(
            pattern("a.json").expand(),
            [dir.path().join("a.json")],
            "a literal path comes back as written"
        );
        assert!(pattern("z.json").expand().is_empty());
        assert!(pattern("missing/*.json").expand().is_empty());
        let dotted = Pattern::parse(&dir.path().join("./x/../*.yml")).unwrap();
        assert_eq!(dotted.expand(), [dir.path().join("c.yml")]);
    }
}
