//! The UI's stylesheet and script, compiled into the binary.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

pub(crate) const CSS_PATH: &str = "/ui/assets/ronda.css";
pub(crate) const JS_PATH: &str = "/ui/assets/ronda.js";

const CSS: &str = include_str!("assets/ronda.css");
const JS: &str = include_str!("assets/ronda.js");

pub(crate) async fn serve(Path(name): Path<String>) -> Response {
    let (body, content_type) = match name.as_str() {
        "ronda.css" => (CSS, "text/css; charset=utf-8"),
        "ronda.js" => (JS, "text/javascript; charset=utf-8"),
        _ => return super::error::UiError::not_found("no such asset").into_response(),
    };
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        body,
    )
        .into_response()
}
