//! [`success`]: the envelope of every successful answer of the API, the
//! counterpart of [`ApiError`]'s.

use super::error::ApiError;

/// `{"status":"success","data":…}`, with `"warnings"` when there are any.
pub(super) fn success(data: impl serde::Serialize, warnings: &[&str]) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    #[derive(serde::Serialize)]
    struct Envelope<'a, T> {
        status: &'static str,
        data: T,
        #[serde(skip_serializing_if = "<[&str]>::is_empty")]
        warnings: &'a [&'a str],
    }
    match serde_json::to_string(&Envelope {
        status: "success",
        data,
        warnings,
    }) {
        Ok(body) => (
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response(),
        Err(e) => {
            ApiError::internal(format!("error marshaling json response: {e}")).into_response()
        }
    }
}
