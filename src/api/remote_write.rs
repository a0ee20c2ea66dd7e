//! `POST /api/v1/write`: the remote-write receiver (protocol 1.0: a snappy
//! block-compressed protobuf `prometheus.WriteRequest`), enabled, as in
//! Prometheus, by `--web.enable-remote-write-receiver`; without it the endpoint
//! answers 404 with Prometheus's message.
//!
//! As Prometheus's handler: a body that does not decompress or decode answers
//! 400 with the reason; the samples of one request are appended in one commit
//! and any refused sample refuses the whole request (nothing of it is stored):
//! out-of-order, out-of-bounds and duplicate samples with 400 so that the sender
//! drops the batch instead of retrying it forever, anything else with 500.
//! Success is 204. Native histograms, which this storage does not hold, refuse
//! the request with 400 naming the series rather than being dropped silently.
//! Exemplars and metadata are ignored, as the TSDB keeps neither.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::state::ApiState;
use crate::model::Labels;
use crate::tsdb::{AppendError, Db};

/// Largest decompressed request accepted (Prometheus sends ~2,000 samples a
/// request by default, well under a megabyte).
const MAX_DECODED: usize = 64 << 20;

/// `POST /api/v1/write`.
pub(super) async fn write(State(state): State<ApiState>, body: Bytes) -> Response {
    if !state.remote_write_enabled() {
        return (
            StatusCode::NOT_FOUND,
            "remote write receiver needs to be enabled with --web.enable-remote-write-receiver\n",
        )
            .into_response();
    }
    let Some(db) = state.storage() else {
        return (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable\n").into_response();
    };
    let result = tokio::task::spawn_blocking(move || receive(&db, &body))
        .await
        .unwrap_or_else(|e| {
            Err((
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("remote write task failed: {e}"),
            ))
        });
    match result {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err((status, why)) => {
            if status == StatusCode::INTERNAL_SERVER_ERROR {
                tracing::error!(error = %why, "Error appending remote write");
            }
            (status, format!("{why}\n")).into_response()
        }
    }
}

fn receive(db: &Db, body: &[u8]) -> Result<(), (StatusCode, String)> {
    let bad = |why: String| (StatusCode::BAD_REQUEST, why);
    let len = snap::raw::decompress_len(body).map_err(|e| bad(format!("snappy: {e}")))?;
    if len > MAX_DECODED {
        return Err(bad(format!(
            "snappy: decoded length {len} exceeds the limit of {MAX_DECODED} bytes"
        )));
    }
    let raw = snap::raw::Decoder::new()
        .decompress_vec(body)
        .map_err(|e| bad(format!("snappy: {e}")))?;
    let series = decode_write_request(&raw).map_err(bad)?;
    let mut app = db.appender();
    for s in &series {
        if s.histograms > 0 {
            app.rollback();
            return Err(bad(format!(
                "series {}: native histogram samples are not supported",
                s.labels
            )));
        }
        for &(t, v) in &s.samples {
            if let Err(e) = app.append(&s.labels, t, v) {
                app.rollback();
                let status = match e {
                    AppendError::OutOfOrder { .. }
                    | AppendError::OutOfBounds { .. }
                    | AppendError::DuplicateTimestamp { .. }
                    | AppendError::EmptyLabels => StatusCode::BAD_REQUEST,
                    _ => StatusCode::INTERNAL_SERVER_ERROR,
                };
                return Err((status, e.to_string()));
            }
        }
    }
    app.commit()
        .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))
}

/// One `TimeSeries` of a request.
#[derive(Debug, PartialEq)]
struct WriteSeries {
    labels: Labels,
    /// `(timestamp ms, value)`.
    samples: Vec<(i64, f64)>,
    /// How many native histogram samples it carried.
    histograms: usize,
}

/// A protobuf reader over one message's bytes; errors name the byte offset in
/// the decompressed request.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    /// Offset of `buf` in the whole request.
    base: usize,
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8], base: usize) -> Reader<'a> {
        Reader { buf, pos: 0, base }
    }

    fn done(&self) -> bool {
        self.pos >= self.buf.len()
    }

    fn err(&self, what: &str) -> String {
        format!("protobuf: {what} at byte {}", self.base + self.pos)
    }

    fn varint(&mut self) -> Result<u64, String> {
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let Some(&b) = self.buf.get(self.pos) else {
                return Err(self.err("truncated varint"));
            };
            self.pos += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err(self.err("varint longer than 10 bytes"))
    }

    fn fixed64(&mut self) -> Result<u64, String> {
        let bytes = self
            .buf
            .get(self.pos..self.pos + 8)
            .ok_or_else(|| self.err("truncated 64-bit field"))?;
        self.pos += 8;
        Ok(u64::from_le_bytes(bytes.try_into().unwrap_or([0; 8])))
    }

    /// A length-delimited field: its bytes and their offset in the request.
    fn bytes(&mut self) -> Result<(&'a [u8], usize), String> {
        let len = usize::try_from(self.varint()?).map_err(|_| self.err("length too large"))?;
        let start = self.pos;
        let end = start
            .checked_add(len)
            .filter(|&e| e <= self.buf.len())
            .ok_or_else(|| self.err("length past the end of the message"))?;
        self.pos = end;
        Ok((&self.buf[start..end], self.base + start))
    }

    /// The next field's number and wire type.
    fn key(&mut self) -> Result<(u64, u8), String> {
        let k = self.varint()?;
        Ok((k >> 3, (k & 7) as u8))
    }

    /// Skips a field of `wire` type.
    fn skip(&mut self, wire: u8) -> Result<(), String> {
        match wire {
            0 => self.varint().map(drop),
            1 => self.fixed64().map(drop),
            2 => self.bytes().map(drop),
            5 => {
                if self.pos + 4 > self.buf.len() {
                    return Err(self.err("truncated 32-bit field"));
                }
                self.pos += 4;
                Ok(())
            }
            w => Err(self.err(&format!("unsupported wire type {w}"))),
        }
    }
}

/// `prometheus.WriteRequest`: its `timeseries` (field 1); metadata (field 3) is
/// skipped.
fn decode_write_request(buf: &[u8]) -> Result<Vec<WriteSeries>, String> {
    let mut r = Reader::new(buf, 0);
    let mut out = Vec::new();
    while !r.done() {
        match r.key()? {
            (1, 2) => {
                let (b, at) = r.bytes()?;
                out.push(decode_series(b, at)?);
            }
            (_, wire) => r.skip(wire)?,
        }
    }
    Ok(out)
}

/// `prometheus.TimeSeries`: labels (1), samples (2), exemplars (3, skipped),
/// histograms (4, counted).
fn decode_series(buf: &[u8], base: usize) -> Result<WriteSeries, String> {
    let mut r = Reader::new(buf, base);
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut samples = Vec::new();
    let mut histograms = 0;
    while !r.done() {
        match r.key()? {
            (1, 2) => {
                let (b, at) = r.bytes()?;
                pairs.push(decode_label(b, at)?);
            }
            (2, 2) => {
                let (b, at) = r.bytes()?;
                samples.push(decode_sample(b, at)?);
            }
            (4, 2) => {
                r.bytes()?;
                histograms += 1;
            }
            (_, wire) => r.skip(wire)?,
        }
    }
    let labels = Labels::new(pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())))
        .map_err(|e| format!("series at byte {base}: {e}"))?;
    Ok(WriteSeries {
        labels,
        samples,
        histograms,
    })
}

/// `prometheus.Label`: name (1), value (2).
fn decode_label(buf: &[u8], base: usize) -> Result<(String, String), String> {
    let mut r = Reader::new(buf, base);
    let (mut name, mut value) = (String::new(), String::new());
    while !r.done() {
        match r.key()? {
            (f @ (1 | 2), 2) => {
                let (b, at) = r.bytes()?;
                let s = std::str::from_utf8(b)
                    .map_err(|e| format!("protobuf: label text at byte {at} is not UTF-8: {e}"))?;
                if f == 1 {
                    name = s.to_owned();
                } else {
                    value = s.to_owned();
                }
            }
            (_, wire) => r.skip(wire)?,
        }
    }
    Ok((name, value))
}

/// `prometheus.Sample`: value (1, double), timestamp (2, int64 ms).
fn decode_sample(buf: &[u8], base: usize) -> Result<(i64, f64), String> {
    let mut r = Reader::new(buf, base);
    let (mut t, mut v) = (0i64, 0f64);
    while !r.done() {
        match r.key()? {
            (1, 1) => v = f64::from_bits(r.fixed64()?),
            // int64: two's complement in a varint.
            (2, 0) => t = r.varint()? as i64,
            (_, wire) => r.skip(wire)?,
        }
    }
    Ok((t, v))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn varint(mut v: u64, out: &mut Vec<u8>) {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }

    fn field(num: u64, bytes: &[u8], out: &mut Vec<u8>) {
        varint(num << 3 | 2, out);
        varint(bytes.len() as u64, out);
        out.extend_from_slice(bytes);
    }

    /// Label pairs and samples of one series to encode.
    type TestSeries<'a> = (&'a [(&'a str, &'a str)], &'a [(i64, f64)]);

    /// A `WriteRequest` encoded by hand, as a sender encodes it.
    fn request(series: &[TestSeries<'_>]) -> Vec<u8> {
        let mut req = Vec::new();
        for (labels, samples) in series {
            let mut ts = Vec::new();
            for (n, v) in *labels {
                let mut l = Vec::new();
                field(1, n.as_bytes(), &mut l);
                field(2, v.as_bytes(), &mut l);
                field(1, &l, &mut ts);
            }
            for &(t, v) in *samples {
                let mut s = vec![0x09];
                s.extend_from_slice(&v.to_bits().to_le_bytes());
                varint(2 << 3, &mut s);
                varint(t as u64, &mut s);
                field(2, &s, &mut ts);
            }
            field(1, &ts, &mut req);
        }
        req
    }

    #[test]
    fn decodes_series_labels_and_samples() {
        let raw = request(&[(
            &[("job", "a"), ("__name__", "up")],
            &[(1000, 1.5), (-2000, f64::INFINITY)],
        )]);
        let got = decode_write_request(&raw).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].labels.to_string(), r#"up{job="a"}"#);
        assert_eq!(got[0].samples, vec![(1000, 1.5), (-2000, f64::INFINITY)]);
    }

    #[test]
    fn bad_bytes_are_errors_with_offsets() {
        let raw = request(&[(&[("__name__", "up")], &[(1000, 1.0)])]);
        for cut in 1..raw.len() {
            let err = decode_write_request(&raw[..cut]).unwrap_err();
            assert!(err.contains("byte"), "{err}");
        }
        let err = decode_write_request(&[0x0a, 0x05, 0x0a]).unwrap_err();
        assert!(err.contains("past the end"), "{err}");
        let err = decode_write_request(&[0x0f]).unwrap_err();
        assert!(err.contains("wire type 7"), "{err}");
    }
}
