//! `ApiError`: every error the HTTP layer answers, as Prometheus's JSON envelope
//! `{"status":"error","errorType":…,"error":…}`.

use axum::http::{Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

/// The `errorType` of an error response, as Prometheus names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorType {
    BadData,
    Execution,
    Canceled,
    Timeout,
    Internal,
    NotFound,
    Unavailable,
}

impl ErrorType {
    /// The JSON string, e.g. `"bad_data"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorType::BadData => "bad_data",
            ErrorType::Execution => "execution",
            ErrorType::Canceled => "canceled",
            ErrorType::Timeout => "timeout",
            ErrorType::Internal => "internal",
            ErrorType::NotFound => "not_found",
            ErrorType::Unavailable => "unavailable",
        }
    }

    /// The HTTP status Prometheus answers with for this type.
    pub fn status(self) -> StatusCode {
        match self {
            ErrorType::BadData => StatusCode::BAD_REQUEST,
            ErrorType::Execution => StatusCode::UNPROCESSABLE_ENTITY,
            // 499 is nginx's "client closed request", as in Prometheus.
            ErrorType::Canceled => StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST),
            ErrorType::Timeout | ErrorType::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorType::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorType::NotFound => StatusCode::NOT_FOUND,
        }
    }
}

/// An error answer: status, `errorType` and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub error_type: ErrorType,
    pub message: String,
}

impl ApiError {
    /// An error with the status that belongs to `error_type`.
    pub fn new(error_type: ErrorType, message: impl Into<String>) -> ApiError {
        ApiError {
            status: error_type.status(),
            error_type,
            message: message.into(),
        }
    }

    /// `internal` (500).
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorType::Internal, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        // Field order as Prometheus writes it.
        #[derive(serde::Serialize)]
        struct Body<'a> {
            status: &'static str,
            #[serde(rename = "errorType")]
            error_type: &'static str,
            error: &'a str,
        }
        let body = serde_json::to_string(&Body {
            status: "error",
            error_type: self.error_type.as_str(),
            error: &self.message,
        })
        .unwrap_or_default();
        (
            self.status,
            [(header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response()
    }
}

/// Fallback for unknown paths: 404 `not_found`.
pub(super) async fn not_found(uri: Uri) -> ApiError {
    ApiError::new(
        ErrorType::NotFound,
        format!("path {} not found", uri.path()),
    )
}

/// Fallback for a known path with a wrong method: 405 (Grafana retries with GET
/// only on 405 or 400). axum adds the `Allow` header.
pub(super) async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError {
        status: StatusCode::METHOD_NOT_ALLOWED,
        error_type: ErrorType::BadData,
        message: format!("method {method} not allowed for {}", uri.path()),
    }
}
