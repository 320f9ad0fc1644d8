//! Errors as HTTP answers: `{"message": ...}` with a status, the shape HMA
//! uses and the native API keeps.

use axum::Json;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ronda_store::StoreError;
use serde_json::json;

/// An error a handler answers with.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, message)
    }

    /// A request that does not have the fields or types the route needs
    /// (HMA answers these 422 through its request models).
    pub fn unprocessable(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "message": self.message }))).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match &e {
            StoreError::NotFound { .. } => ApiError::not_found(e.to_string()),
            StoreError::Conflict { .. } => ApiError::new(StatusCode::CONFLICT, e.to_string()),
            StoreError::InvalidInput(m) => ApiError::bad_request(m.clone()),
            _ => {
                tracing::error!(error = %e, "store error");
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal store error")
            }
        }
    }
}

/// Axum's own rejections (bad JSON, wrong content type, bad path or query)
/// in the `{"message"}` shape.
pub fn rejection(r: impl std::fmt::Display + IntoResponse) -> ApiError {
    let message = r.to_string();
    let status = r.into_response().status();
    ApiError::new(status, message)
}

/// Every error answer is `{"message": ...}`, including those made outside
/// the handlers (body limits, path and query rejections, timeouts), except
/// on the plain-text health routes.
pub async fn json_errors(req: Request, next: Next) -> Response {
    let health = req.uri().path().starts_with("/status");
    let response = next.run(req).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if health || is_json || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 64 * 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
        .unwrap_or_default();
    let message = if text.is_empty() {
        status
            .canonical_reason()
            .unwrap_or("error")
            .to_ascii_lowercase()
    } else {
        text
    };
    let mut fixed = ApiError::new(status, message).into_response();
    for (k, v) in parts.headers.iter() {
        if k != header::CONTENT_TYPE && k != header::CONTENT_LENGTH {
            fixed.headers_mut().insert(k.clone(), v.clone());
        }
    }
    fixed
}
