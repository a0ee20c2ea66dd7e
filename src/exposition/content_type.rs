//! The media type of a `Content-Type` header, read as Go's `mime.ParseMediaType`
//! reads it (Prometheus picks its parser with that): a header it would refuse
//! names no format.

/// The media type, lowercased, or `None` when the header does not parse: not
/// `type[/subtype]` tokens, a parameter that is not `key=value` (value a token or
/// a quoted string), or one key given twice with different values.
pub(crate) fn media_type(header: &str) -> Option<String> {
    let (media, mut params) = match header.find(';') {
        Some(i) => (&header[..i], &header[i..]),
        None => (header, ""),
    };
    let media = media.trim();
    let (kind, subtype) = match media.split_once('/') {
        Some((k, s)) => (k, Some(s)),
        None => (media, None),
    };
    if !is_token(kind) || subtype.is_some_and(|s| !is_token(s)) {
        return None;
    }
    let mut seen: Vec<(String, String)> = Vec::new();
    loop {
        params = params.trim_start();
        if params.is_empty() || params.trim_end() == ";" {
            break;
        }
        let rest = params.strip_prefix(';')?.trim_start();
        let key_end = rest.find(|c: char| !is_token_char(c)).unwrap_or(rest.len());
        let key = rest[..key_end].to_ascii_lowercase();
        let rest = rest[key_end..].trim_start().strip_prefix('=')?.trim_start();
        let (value, rest) = param_value(rest)?;
        if key.is_empty() {
            return None;
        }
        if let Some((_, v)) = seen.iter().find(|(k, _)| *k == key) {
            if *v != value {
                return None;
            }
        } else {
            seen.push((key, value));
        }
        params = rest;
    }
    Some(media.to_ascii_lowercase())
}

/// A parameter value (token or quoted string) and what follows it.
fn param_value(s: &str) -> Option<(String, &str)> {
    if let Some(body) = s.strip_prefix('"') {
        let mut value = String::new();
        let mut chars = body.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => return Some((value, &body[i + 1..])),
                '\\' => value.push(chars.next()?.1),
                c => value.push(c),
            }
        }
        return None;
    }
    let end = s.find(|c: char| !is_token_char(c)).unwrap_or(s.len());
    (end > 0).then(|| (s[..end].to_owned(), &s[end..]))
}

fn is_token(s: &str) -> bool {
    !s.is_empty() && s.chars().all(is_token_char)
}

/// RFC 2045 token characters: visible ASCII but the specials.
fn is_token_char(c: char) -> bool {
    c.is_ascii_graphic() && !"()<>@,;:\\\"/[]?=".contains(c)
}
