//! What wraps every response: gzip when the client accepts it (as Prometheus's
//! web handlers do), and the request duration histogram by handler and code
//! (`tidemark_http_request_duration_seconds`, Prometheus's
//! `prometheus_http_request_duration_seconds`).

use std::io::Write as _;
use std::time::Instant;

use axum::body::{Body, to_bytes};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;

use super::error::ApiError;

/// Labels of the duration histogram.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct HandlerCode {
    pub handler: String,
    pub code: String,
}

/// The histogram family; buckets as Prometheus's.
pub(super) type Durations = Family<HandlerCode, Histogram, fn() -> Histogram>;

pub(super) fn durations() -> Durations {
    Family::new_with_constructor(|| {
        Histogram::new([0.1, 0.2, 0.4, 1.0, 3.0, 8.0, 20.0, 60.0, 120.0])
    })
}

/// Times a request to a known route; `handler` is its route pattern.
pub(super) async fn measure(
    State(durations): State<Durations>,
    req: Request,
    next: Next,
) -> Response {
    let handler = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "other".to_string(), |p| p.as_str().to_string());
    let started = Instant::now();
    let response = next.run(req).await;
    durations
        .get_or_create(&HandlerCode {
            handler,
            code: response.status().as_u16().to_string(),
        })
        .observe(started.elapsed().as_secs_f64());
    response
}

/// Most bytes of a response body compressed.
const MAX_BODY: usize = 1 << 30;

/// Gzips the response when the request's `Accept-Encoding` allows gzip.
pub(super) async fn gzip(req: Request, next: Next) -> Response {
    let wants =
        req.method() != Method::HEAD && accepts_gzip(req.headers().get(header::ACCEPT_ENCODING));
    let response = next.run(req).await;
    if !wants || response.headers().contains_key(header::CONTENT_ENCODING) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = match to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(e) => return ApiError::internal(format!("reading response body: {e}")).into_response(),
    };
    let mut enc = flate2::write::GzEncoder::new(
        Vec::with_capacity(bytes.len() / 4 + 64),
        flate2::Compression::fast(),
    );
    let compressed = match enc.write_all(&bytes).and_then(|()| enc.finish()) {
        Ok(c) => c,
        Err(e) => return ApiError::internal(format!("compressing response: {e}")).into_response(),
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    parts
        .headers
        .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    parts
        .headers
        .append(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    Response::from_parts(parts, Body::from(compressed))
}

/// Whether an `Accept-Encoding` value lists gzip (or `*`) without `q=0`.
fn accepts_gzip(value: Option<&HeaderValue>) -> bool {
    let Some(v) = value.and_then(|v| v.to_str().ok()) else {
        return false;
    };
    v.split(',').any(|item| {
        let mut parts = item.split(';');
        let coding = parts.next().unwrap_or("").trim();
        let zero = parts.any(|p| {
            let p = p.trim();
            p.strip_prefix("q=")
                .is_some_and(|q| q.trim().parse::<f64>().is_ok_and(|q| q == 0.0))
        });
        (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !zero
    })
}

#[cfg(test)]
mod tests {
    use super::accepts_gzip;
    use axum::http::HeaderValue;

    #[test]
    fn accept_encoding() {
        let a = |s: &'static str| accepts_gzip(Some(&HeaderValue::from_static(s)));
        assert!(a("gzip"));
        assert!(a("deflate, gzip;q=0.8"));
        assert!(a("*"));
        assert!(!a("gzip;q=0"));
        assert!(!a("br"));
        assert!(!accepts_gzip(None));
    }
}
