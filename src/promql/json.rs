//! A [`Value`] in the JSON form of Prometheus's HTTP API, byte for byte as
//! Prometheus writes it: `{"resultType":…,"result":…}` with timestamps as numbers
//! of seconds carrying exactly the milliseconds there are (`1435781451.781`,
//! `1.500`, `7`), sample values as strings in Go's shortest form (`"1"`,
//! `"1e-07"`, `"+Inf"`), and strings escaped as Go's encoder escapes them
//! (including `<`, `>`, `&`, U+2028 and U+2029).
//!
//! Written by hand into one `String` rather than through `serde_json::Value`:
//! a range query answer can hold millions of points, and building a tree of
//! them first would double the memory the answer takes.

use std::fmt::Write as _;

use super::value::{Point, QueryResult, Value};
use crate::model::Labels;
use crate::model::float::write_json;

/// Appends `{"resultType":…,"result":…}` for `value` to `out`.
pub fn write_data(value: &Value, out: &mut String) {
    out.push_str("{\"resultType\":\"");
    match value {
        Value::Scalar { t, v } => {
            out.push_str("scalar\",\"result\":");
            write_point(*t, *v, out);
        }
        Value::String { t, v } => {
            out.push_str("string\",\"result\":[");
            write_timestamp(*t, out);
            out.push(',');
            write_string(v, out);
            out.push(']');
        }
        Value::Vector(samples) => {
            out.push_str("vector\",\"result\":[");
            for (i, s) in samples.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str("{\"metric\":");
                write_labels(&s.labels, out);
                out.push_str(",\"value\":");
                write_point(s.t, s.v, out);
                out.push('}');
            }
            out.push(']');
        }
        Value::Matrix(series) => {
            out.push_str("matrix\",\"result\":[");
            for (i, s) in series.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str("{\"metric\":");
                write_labels(&s.labels, out);
                out.push_str(",\"values\":[");
                for (j, Point { t, v }) in s.points.iter().enumerate() {
                    if j > 0 {
                        out.push(',');
                    }
                    write_point(*t, *v, out);
                }
                out.push_str("]}");
            }
            out.push(']');
        }
    }
    out.push('}');
}

/// The whole success answer of a query: `{"status":"success","data":…}` with
/// `"warnings"` and `"infos"` when there are any.
pub fn response(r: &QueryResult) -> String {
    let mut out = String::with_capacity(256);
    out.push_str("{\"status\":\"success\",\"data\":");
    write_data(&r.value, &mut out);
    for (key, list) in [("warnings", &r.warnings), ("infos", &r.infos)] {
        if list.is_empty() {
            continue;
        }
        out.push_str(",\"");
        out.push_str(key);
        out.push_str("\":[");
        for (i, w) in list.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_string(w, &mut out);
        }
        out.push(']');
    }
    out.push('}');
    out
}

/// The JSON text of `value` (see [`write_data`]).
pub fn data_json(value: &Value) -> String {
    let mut out = String::new();
    write_data(value, &mut out);
    out
}

/// `[t,"v"]`.
fn write_point(t: i64, v: f64, out: &mut String) {
    out.push('[');
    write_timestamp(t, out);
    out.push_str(",\"");
    write_json(v, out);
    out.push_str("\"]");
}

/// `{"name":"value",…}` in label order.
fn write_labels(labels: &Labels, out: &mut String) {
    out.push('{');
    for (i, l) in labels.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_string(l.name, out);
        out.push(':');
        write_string(l.value, out);
    }
    out.push('}');
}

/// Milliseconds as seconds: the whole seconds, then `.` and all three digits of
/// the milliseconds when there are any (Prometheus does not trim `1.500`).
pub fn write_timestamp(t: i64, out: &mut String) {
    let abs = t.unsigned_abs();
    if t < 0 {
        out.push('-');
    }
    let _ = write!(out, "{}", abs / 1000);
    let frac = abs % 1000;
    if frac != 0 {
        let _ = write!(out, ".{frac:03}");
    }
}

/// A JSON string as Go's `encoding/json` writes it (HTML-safe).
pub fn write_string(s: &str, out: &mut String) {
    out.push('"');
    let mut start = 0;
    for (i, c) in s.char_indices() {
        let escape: Option<&str> = match c {
            '"' => Some("\\\""),
            '\\' => Some("\\\\"),
            '\n' => Some("\\n"),
            '\r' => Some("\\r"),
            '\t' => Some("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => None,
            c if (c as u32) < 0x20 => None,
            _ => continue,
        };
        out.push_str(&s[start..i]);
        match escape {
            Some(e) => out.push_str(e),
            None => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
        }
        start = i + c.len_utf8();
    }
    out.push_str(&s[start..]);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::promql::{Sample, Series};

    fn ts(t: i64) -> String {
        let mut s = String::new();
        write_timestamp(t, &mut s);
        s
    }

    #[test]
    fn timestamps_keep_three_digits_of_milliseconds() {
        assert_eq!(ts(1_435_781_451_781), "1435781451.781");
        assert_eq!(ts(1500), "1.500");
        assert_eq!(ts(1050), "1.050");
        assert_eq!(ts(1001), "1.001");
        assert_eq!(ts(7000), "7");
        assert_eq!(ts(0), "0");
        assert_eq!(ts(-1500), "-1.500");
        assert_eq!(ts(-5), "-0.005");
        assert_eq!(ts(i64::MIN), "-9223372036854775.808");
    }

    #[test]
    fn strings_escaped_as_go() {
        let mut s = String::new();
        write_string("a\"b\\c\nd<e>&\u{1}\u{2028}é", &mut s);
        assert_eq!(s, r#""a\"b\\c\nd\u003ce\u003e\u0026\u0001\u2028é""#);
    }

    #[test]
    fn shapes_of_each_value_type() {
        let labels = Labels::new([("__name__", "up"), ("job", "a")]).unwrap();
        assert_eq!(
            data_json(&Value::Scalar { t: 4000, v: 2.0 }),
            r#"{"resultType":"scalar","result":[4,"2"]}"#
        );
        assert_eq!(
            data_json(&Value::String {
                t: 1,
                v: "x".into()
            }),
            r#"{"resultType":"string","result":[0.001,"x"]}"#
        );
        assert_eq!(
            data_json(&Value::Vector(vec![])),
            r#"{"resultType":"vector","result":[]}"#
        );
        assert_eq!(
            data_json(&Value::Vector(vec![Sample {
                labels: labels.clone(),
                t: 1_435_781_451_781,
                v: 1.0
            }])),
            r#"{"resultType":"vector","result":[{"metric":{"__name__":"up","job":"a"},"value":[1435781451.781,"1"]}]}"#
        );
        assert_eq!(
            data_json(&Value::Matrix(vec![Series {
                labels: Labels::empty(),
                points: vec![
                    Point { t: 0, v: 1.0 },
                    Point {
                        t: 15_000,
                        v: f64::NAN
                    }
                ],
            }])),
            r#"{"resultType":"matrix","result":[{"metric":{},"values":[[0,"1"],[15,"NaN"]]}]}"#
        );
        assert_eq!(
            response(&QueryResult {
                value: Value::Scalar { t: 0, v: 1.0 },
                warnings: vec!["w".into()],
                infos: vec![],
            }),
            r#"{"status":"success","data":{"resultType":"scalar","result":[0,"1"]},"warnings":["w"]}"#
        );
        // The output is valid JSON.
        let text = data_json(&Value::Vector(vec![Sample {
            labels: Labels::new([("a", "\u{0}\"<")]).unwrap(),
            t: -1,
            v: -1e-9,
        }]));
        let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed["result"][0]["metric"]["a"], "\u{0}\"<");
        assert_eq!(parsed["result"][0]["value"][1], "-1e-09");
    }
}
