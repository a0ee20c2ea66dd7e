//! Request parameters as Prometheus reads them (Go's `r.ParseForm`): the values
//! of a form-encoded POST body first, then those of the URL query; repeated keys
//! (`match[]`) keep every value. Plus the parsing of times, limits and `match[]`
//! with Prometheus's defaults and error messages.

use axum::extract::{FromRequest, Request};
use axum::http::{Method, header};

use super::error::{ApiError, ErrorType};
use super::selector::parse_selector;
use crate::model::{Matcher, float};

/// Most bytes of a form body read.
const MAX_FORM_BYTES: usize = 10 << 20;

/// Prometheus's lowest and highest API times, in milliseconds (the
/// `minTime`/`maxTime` of `web/api/v1`: the range Go's time can format).
pub const MIN_TIME_MS: i64 = (-9_223_372_036_854_775 + 62_135_596_801) * 1000;
pub const MAX_TIME_MS: i64 = (9_223_372_036_854_775 - 62_135_596_801) * 1000 + 999;

/// How Go formats those two bounds; accepted as times too.
const MIN_TIME_TEXT: &str = "-292273086-05-16T16:47:06Z";
const MAX_TIME_TEXT: &str = "292277025-08-18T07:12:54.999999999Z";

/// The form values of a request, in Go's order.
#[derive(Debug, Default, Clone)]
pub struct Form {
    pairs: Vec<(String, String)>,
}

impl Form {
    /// From a URL query and, for a POST or PUT with a form content type, its body.
    pub fn parse(query: Option<&str>, body: Option<&[u8]>) -> Form {
        let mut pairs: Vec<(String, String)> = Vec::new();
        if let Some(body) = body {
            pairs.extend(
                form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())),
            );
        }
        if let Some(q) = query {
            pairs.extend(
                form_urlencoded::parse(q.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())),
            );
        }
        Form { pairs }
    }

    /// The first value of `key`, `""` if absent (Go's `FormValue`).
    pub fn value(&self, key: &str) -> &str {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map_or("", |(_, v)| v.as_str())
    }

    /// Every value of `key`.
    pub fn values(&self, key: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// Parameter `name` as a time in milliseconds, `default` when empty.
    pub fn time(&self, name: &str, default: i64) -> Result<i64, ApiError> {
        let v = self.value(name);
        if v.is_empty() {
            return Ok(default);
        }
        parse_time(v)
            .map_err(|e| invalid_param(name, &format!("Invalid time value for '{name}': {e}")))
    }

    /// Parameter `name` as a duration in nanoseconds (Prometheus's API
    /// `parseDuration`), `None` when empty; the error is `invalid parameter`.
    pub fn duration(&self, name: &str) -> Result<Option<i64>, ApiError> {
        let v = self.value(name);
        if v.is_empty() {
            return Ok(None);
        }
        parse_duration(v)
            .map(Some)
            .map_err(|e| invalid_param(name, &e))
    }

    /// `limit`: 0 (the default) means none; negative or not a number is refused.
    pub fn limit(&self, name: &str) -> Result<usize, ApiError> {
        let v = self.value(name);
        if v.is_empty() {
            return Ok(0);
        }
        let n: i64 = v.parse().map_err(|_| {
            invalid_param(
                name,
                &format!("strconv.Atoi: parsing {v:?}: invalid syntax"),
            )
        })?;
        usize::try_from(n).map_err(|_| invalid_param(name, "limit must be non-negative"))
    }

    /// Fails unless there is a `match[]` (checked first, as Prometheus does,
    /// before the other parameters are read).
    pub fn require_match(&self) -> Result<(), ApiError> {
        if self.values("match[]").is_empty() {
            return Err(ApiError::new(
                ErrorType::BadData,
                "no match[] parameter provided",
            ));
        }
        Ok(())
    }

    /// The `match[]` selectors; each must have a matcher that does not match `""`.
    pub fn matcher_sets(&self) -> Result<Vec<Vec<Matcher>>, ApiError> {
        self.values("match[]")
            .into_iter()
            .map(|s| parse_selector(s).map_err(|e| invalid_param("match[]", &e.to_string())))
            .collect()
    }
}

/// `invalid parameter "<name>": <why>`, `bad_data`.
pub fn invalid_param(name: &str, why: &str) -> ApiError {
    ApiError::new(
        ErrorType::BadData,
        format!("invalid parameter {name:?}: {why}"),
    )
}

impl<S: Send + Sync> FromRequest<S> for Form {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Form, ApiError> {
        let query = req.uri().query().map(str::to_owned);
        let is_form = matches!(*req.method(), Method::POST | Method::PUT | Method::PATCH)
            && req
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| {
                    v.split(';').next().is_some_and(|t| {
                        t.trim()
                            .eq_ignore_ascii_case("application/x-www-form-urlencoded")
                    })
                });
        if !is_form {
            return Ok(Form::parse(query.as_deref(), None));
        }
        let body = axum::body::to_bytes(req.into_body(), MAX_FORM_BYTES)
            .await
            .map_err(|e| {
                ApiError::new(
                    ErrorType::BadData,
                    format!("error parsing form values: {e}"),
                )
            })?;
        let _ = state;
        Ok(Form::parse(query.as_deref(), Some(&body)))
    }
}

/// A time as Prometheus takes it: unix seconds as a float (rounded to the
/// millisecond), RFC3339 with optional fraction, or the two bound texts.
/// Values beyond the millisecond range saturate.
pub fn parse_time(s: &str) -> Result<i64, String> {
    let cannot = || format!("cannot parse {s:?} to a valid timestamp");
    if let Some(f) = float::parse(s) {
        if f.is_nan() {
            return Err(cannot());
        }
        let secs = f.trunc();
        let frac = ((f - secs) * 1000.0).round();
        return Ok((secs * 1000.0 + frac) as i64);
    }
    match s {
        MIN_TIME_TEXT => return Ok(MIN_TIME_MS),
        MAX_TIME_TEXT => return Ok(MAX_TIME_MS),
        _ => {}
    }
    parse_rfc3339(s).ok_or_else(cannot)
}

/// A duration as Prometheus's API takes it, in nanoseconds: float seconds
/// (`"15"`, `"0.5"`, negative allowed) or a Prometheus duration (`"1m30s"`).
pub fn parse_duration(s: &str) -> Result<i64, String> {
    if let Some(secs) = float::parse(s) {
        let ns = secs * 1e9;
        if ns.is_nan() {
            return Err(format!("cannot parse {s:?} to a valid duration"));
        }
        // i64::MAX as f64 rounds up to 2^63, so `>=` catches it.
        if ns >= i64::MAX as f64 || ns < i64::MIN as f64 {
            return Err(format!(
                "cannot parse {s:?} to a valid duration. It overflows int64"
            ));
        }
        return Ok(ns as i64);
    }
    match crate::model::parse_duration(s) {
        Ok(d) => i64::try_from(d.as_nanos())
            .map_err(|_| format!("cannot parse {s:?} to a valid duration")),
        Err(_) => Err(format!("cannot parse {s:?} to a valid duration")),
    }
}

/// RFC 3339 (`2006-01-02T15:04:05.999999999Z07:00`) to milliseconds.
fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        if !part.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        part.parse().ok()
    };
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, min, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || min > 59
        || sec > 59
    {
        return None;
    }
    let mut i = 19;
    let mut millis = 0i64;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start || i - start > 9 {
            return None;
        }
        let frac = &s[start..i];
        let padded = format!("{frac:0<3}");
        millis = padded[..3].parse().ok()?;
    }
    let offset_secs = match b.get(i) {
        Some(b'Z') if i + 1 == b.len() => 0,
        Some(&sign @ (b'+' | b'-')) if i + 6 == b.len() && b[i + 3] == b':' => {
            let (h, m) = (num(i + 1..i + 3)?, num(i + 4..i + 6)?);
            if h > 23 || m > 59 {
                return None;
            }
            let o = h * 3600 + m * 60;
            if sign == b'-' { -o } else { o }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + min * 60 + sec - offset_secs;
    Some(secs * 1000 + millis)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_parse_as_prometheus() {
        assert_eq!(parse_time("1700000000"), Ok(1_700_000_000_000));
        assert_eq!(parse_time("1700000000.1234"), Ok(1_700_000_000_123));
        assert_eq!(parse_time("-1.5"), Ok(-1500));
        assert_eq!(parse_time("1e3"), Ok(1_000_000));
        // Grafana's exemplar probe: milliseconds sent as seconds.
        assert_eq!(parse_time("1700000000000"), Ok(1_700_000_000_000_000));
        assert_eq!(parse_time("1e300"), Ok(i64::MAX));
        assert_eq!(
            parse_time("2015-07-01T20:10:51.781Z"),
            Ok(1_435_781_451_781)
        );
        assert_eq!(
            parse_time("2015-07-01T22:10:51+02:00"),
            Ok(1_435_781_451_000)
        );
        assert_eq!(parse_time("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(parse_time(MIN_TIME_TEXT), Ok(MIN_TIME_MS));
        assert_eq!(parse_time(MAX_TIME_TEXT), Ok(MAX_TIME_MS));
        for bad in [
            "x",
            "",
            "2015-13-01T00:00:00Z",
            "2015-02-29T00:00:00Z",
            "0x10",
            "NaN",
            "2015-07-01 20:10:51Z",
        ] {
            assert_eq!(
                parse_time(bad),
                Err(format!("cannot parse {bad:?} to a valid timestamp"))
            );
        }
    }

    #[test]
    fn durations_parse_as_prometheus() {
        assert_eq!(parse_duration("15"), Ok(15_000_000_000));
        assert_eq!(parse_duration("0.5"), Ok(500_000_000));
        assert_eq!(parse_duration("-1"), Ok(-1_000_000_000));
        assert_eq!(parse_duration("1m30s"), Ok(90_000_000_000));
        assert_eq!(parse_duration("1ms"), Ok(1_000_000));
        assert_eq!(parse_duration("0"), Ok(0));
        assert_eq!(
            parse_duration("1.5m"),
            Err("cannot parse \"1.5m\" to a valid duration".into())
        );
        assert_eq!(
            parse_duration("1e10"),
            Err("cannot parse \"1e10\" to a valid duration. It overflows int64".into())
        );
        assert!(parse_duration("NaN").is_err());
        assert!(parse_duration("").is_err());
        let e = Form::parse(Some("step=x"), None)
            .duration("step")
            .unwrap_err();
        assert_eq!(
            e.message,
            "invalid parameter \"step\": cannot parse \"x\" to a valid duration"
        );
        assert_eq!(Form::parse(None, None).duration("step").unwrap(), None);
    }

    #[test]
    fn form_reads_body_then_query() {
        let f = Form::parse(Some("match[]=b&start=2&x=1"), Some(b"match[]=a&start=1"));
        assert_eq!(f.values("match[]"), vec!["a", "b"]);
        assert_eq!(f.value("start"), "1");
        assert_eq!(f.value("nope"), "");
        assert_eq!(f.time("start", 0).unwrap(), 1000);
        let e = Form::parse(Some("start=x"), None)
            .time("start", 0)
            .unwrap_err();
        assert_eq!(
            e.message,
            "invalid parameter \"start\": Invalid time value for 'start': cannot parse \"x\" to a valid timestamp"
        );
        let e = Form::parse(Some("limit=-1"), None)
            .limit("limit")
            .unwrap_err();
        assert_eq!(
            e.message,
            "invalid parameter \"limit\": limit must be non-negative"
        );
    }
}
