//! Byte sizes as Prometheus writes them in flags and configuration
//! (`--storage.tsdb.retention.size=512MB`, `body_size_limit: 10MiB`): a number and
//! a unit, repeated (`1GB512MB`). Units are powers of 1024 whether or not they
//! carry the `i`: `B`, `KB`/`KiB`, `MB`/`MiB`, `GB`/`GiB`, `TB`/`TiB`, `PB`/`PiB`,
//! `EB`/`EiB`. A bare `0` is zero.

/// Why a size did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid size {input:?}: {reason}")]
pub struct BytesError {
    input: String,
    reason: String,
}

fn unit(name: &str) -> Option<u64> {
    let power = match name {
        "B" => 0,
        "KB" | "KiB" => 1,
        "MB" | "MiB" => 2,
        "GB" | "GiB" => 3,
        "TB" | "TiB" => 4,
        "PB" | "PiB" => 5,
        "EB" | "EiB" => 6,
        _ => return None,
    };
    Some(1024u64.pow(power))
}

/// Parses a size such as `512MB` into bytes.
pub fn parse_bytes(text: &str) -> Result<u64, BytesError> {
    let fail = |reason: String| BytesError {
        input: text.to_owned(),
        reason,
    };
    if text == "0" {
        return Ok(0);
    }
    if text.is_empty() {
        return Err(fail("empty".to_owned()));
    }
    let mut rest = text;
    let mut total: f64 = 0.0;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| fail(format!("{rest:?} has no unit (B, KB, MB, GB, TB, PB, EB)")))?;
        let (num, tail) = rest.split_at(num_len);
        let n: f64 = num
            .parse()
            .map_err(|_| fail(format!("{num:?} is not a number")))?;
        let unit_len = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (name, tail) = tail.split_at(unit_len);
        let scale = unit(name).ok_or_else(|| {
            fail(format!(
                "unknown unit {name:?} (B, KB, MB, GB, TB, PB, EB, or KiB … EiB)"
            ))
        })?;
        total += n * scale as f64;
        rest = tail;
    }
    if !total.is_finite() || total >= u64::MAX as f64 {
        return Err(fail("too large".to_owned()));
    }
    Ok(total as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_are_powers_of_1024_with_or_without_i() {
        assert_eq!(parse_bytes("0"), Ok(0));
        assert_eq!(parse_bytes("100B"), Ok(100));
        assert_eq!(parse_bytes("512MB"), Ok(512 << 20));
        assert_eq!(parse_bytes("512MiB"), Ok(512 << 20));
        assert_eq!(parse_bytes("1GB512MB"), Ok((1 << 30) + (512 << 20)));
        assert_eq!(parse_bytes("1.5KB"), Ok(1536));
        assert_eq!(parse_bytes("2EB"), Ok(2 << 60));
    }

    #[test]
    fn bad_sizes_say_what_is_wrong() {
        for bad in ["", "10", "10 MB", "10mb", "MB", "1..2MB", "20EB", "-1B"] {
            let err = parse_bytes(bad).unwrap_err().to_string();
            assert!(err.contains(&format!("{bad:?}")), "{err}");
        }
    }
}
