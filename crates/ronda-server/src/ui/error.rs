//! Errors as HTML pages: a status and a message a person can act on.
//! Store errors that are not the caller's fault are logged and shown as a
//! bare "internal error".

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use maud::html;
use ronda_store::StoreError;

/// An error a page answers with.
#[derive(Debug)]
pub(crate) struct UiError {
    pub status: StatusCode,
    pub message: String,
}

pub(crate) type UiResult<T> = Result<T, UiError>;

impl UiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> UiError {
        UiError {
            status,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> UiError {
        UiError::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn not_found(message: impl Into<String>) -> UiError {
        UiError::new(StatusCode::NOT_FOUND, message)
    }

    pub fn forbidden(message: impl Into<String>) -> UiError {
        UiError::new(StatusCode::FORBIDDEN, message)
    }
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        let title = self.status.canonical_reason().unwrap_or("Error").to_owned();
        let page = html! {
            (maud::DOCTYPE)
            html lang="en" {
                head {
                    meta charset="utf-8";
                    title { (title) " · Ronda" }
                    link rel="stylesheet" href=(super::assets::CSS_PATH);
                }
                body {
                    main.error {
                        h1 { (self.status.as_u16()) " " (title) }
                        p.message { (self.message) }
                        p { a href="/ui/" { "Back to the dashboard" } }
                    }
                }
            }
        };
        (self.status, Html(page.into_string())).into_response()
    }
}

impl From<StoreError> for UiError {
    fn from(e: StoreError) -> UiError {
        match &e {
            StoreError::NotFound { .. } => UiError::not_found(e.to_string()),
            StoreError::Conflict { .. } => UiError::new(StatusCode::CONFLICT, e.to_string()),
            StoreError::InvalidInput(m) => UiError::bad_request(m.clone()),
            _ => {
                tracing::error!(error = %e, "store error");
                UiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
            }
        }
    }
}
