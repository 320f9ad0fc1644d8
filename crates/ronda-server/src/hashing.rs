//! Turning uploads and URLs into signals, with HMA's content types
//! (`photo`, `video`) and signal-type selection.

use axum::body::Bytes;
use axum::extract::Multipart;
use axum::http::StatusCode;
use ronda_hash::{PdqHash, Signal, SignalType};
use ronda_media::signals::{ContentType, hash_bytes};

use crate::AppState;
use crate::error::ApiError;

/// PDQ hashes of lower quality are not trusted (HMA answers an empty hash).
pub const PDQ_QUALITY_THRESHOLD: u8 = 50;

/// The content types HMA clients name, and the signal types each offers
/// (the first is the default selection).
pub fn signal_types_of(content_type: ContentType) -> &'static [SignalType] {
    match content_type {
        ContentType::Photo => &[SignalType::Pdq, SignalType::Md5, SignalType::Sha256],
        ContentType::Video => &[SignalType::VideoMd5, SignalType::Sha256],
        ContentType::Text | ContentType::File => &[],
    }
}

pub fn default_types(content_type: ContentType) -> Vec<SignalType> {
    signal_types_of(content_type)
        .iter()
        .take(1)
        .copied()
        .collect()
}

/// `photo` or `video`, as HMA names them.
pub fn parse_content_type(name: &str) -> Result<ContentType, ApiError> {
    match name {
        "photo" => Ok(ContentType::Photo),
        "video" => Ok(ContentType::Video),
        other => Err(ApiError::bad_request(format!(
            "no such content_type: '{other}'"
        ))),
    }
}

/// The `types` parameter: comma-separated signal type names, each offered
/// by the content type.
pub fn select_types(
    content_type: ContentType,
    types: Option<&str>,
) -> Result<Vec<SignalType>, ApiError> {
    let Some(types) = types else {
        return Ok(default_types(content_type));
    };
    let mut out = Vec::new();
    for name in types.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let t = name
            .parse::<SignalType>()
            .ok()
            .filter(|t| signal_types_of(content_type).contains(t))
            .ok_or_else(|| {
                ApiError::bad_request(format!("signal type '{name}' doesn't exist or is disabled"))
            })?;
        if !out.contains(&t) {
            out.push(t);
        }
    }
    if out.is_empty() {
        return Err(ApiError::bad_request("empty signal type selection"));
    }
    Ok(out)
}

/// What hashing produced: per signal type, the value (empty for a PDQ of
/// too low quality, as HMA does), and the dihedral PDQ hashes if computed.
#[derive(Debug, Clone)]
pub struct Hashed {
    pub values: Vec<(SignalType, String)>,
    pub signals: Vec<Signal>,
    pub dihedral: Option<[PdqHash; 8]>,
    pub pdq_quality: Option<u8>,
}

/// Hashes `bytes` as `content_type` on a blocking thread.
pub async fn hash_upload(
    state: &AppState,
    bytes: Bytes,
    content_type: ContentType,
    types: Vec<SignalType>,
    dihedral: bool,
) -> Result<Hashed, ApiError> {
    let mut options = state.config.hash;
    options.dihedral = dihedral;
    let result =
        tokio::task::spawn_blocking(move || hash_bytes(&bytes, Some(content_type), &options))
            .await
            .map_err(|_| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "hashing failed"))?;
    let signals =
        result.map_err(|e| ApiError::bad_request(format!("could not hash the upload: {e}")))?;
    let mut out = Hashed {
        values: Vec::new(),
        signals: Vec::new(),
        dihedral: None,
        pdq_quality: None,
    };
    for t in types {
        let signal = match t {
            SignalType::Pdq => {
                let Some(img) = &signals.image else { continue };
                out.pdq_quality = Some(img.pdq.quality);
                if let Some(d) = &img.dihedral {
                    out.dihedral = Some(d.hashes());
                }
                if img.pdq.quality < PDQ_QUALITY_THRESHOLD {
                    out.values.push((t, String::new()));
                    continue;
                }
                Signal::Pdq(img.pdq.hash)
            }
            SignalType::Md5 => Signal::Md5(signals.md5),
            SignalType::VideoMd5 => Signal::VideoMd5(signals.md5),
            SignalType::Sha256 => Signal::Sha256(signals.sha256),
            _ => continue,
        };
        out.values.push((t, signal.value()));
        out.signals.push(signal);
    }
    Ok(out)
}

/// Fetches `url` under the server's SSRF policy; the content type comes
/// from `content_type` or the response's `Content-Type`.
pub async fn fetch_for_hashing(
    state: &AppState,
    url: &str,
    content_type: Option<&str>,
) -> Result<(Bytes, ContentType), ApiError> {
    let fetched = state.fetcher.get(url).await.map_err(|e| {
        if e.is_refused() || matches!(e, ronda_fetch::FetchError::InvalidUrl { .. }) {
            ApiError::bad_request("Invalid or unsafe URL provided")
        } else if matches!(e, ronda_fetch::FetchError::TooLarge { .. }) {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "Content too large")
        } else {
            ApiError::bad_request(format!("Failed to fetch URL: {e}"))
        }
    })?;
    if !fetched.is_success() {
        return Err(ApiError::bad_request(format!(
            "Failed to fetch URL: {} answered {}",
            fetched.final_url, fetched.status
        )));
    }
    let content_type = match content_type {
        Some(name) => parse_content_type(name)?,
        None => {
            let ct = fetched.content_type.clone().unwrap_or_default();
            if ct.starts_with("image") {
                ContentType::Photo
            } else if ct.starts_with("video") {
                ContentType::Video
            } else {
                return Err(ApiError::bad_request(format!(
                    "unsupported url ContentType: '{ct}', if you know the expected type, \
                     provide it with the content_type query param"
                )));
            }
        }
    };
    Ok((fetched.body, content_type))
}

/// A multipart upload: exactly one file, whose field name is its content
/// type, plus any text fields (returned by name).
pub struct Upload {
    pub content_type: ContentType,
    pub bytes: Bytes,
    pub fields: Vec<(String, String)>,
}

pub async fn read_upload(mut multipart: Multipart) -> Result<Upload, ApiError> {
    let mut file: Option<(String, Bytes)> = None;
    let mut fields = Vec::new();
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| ApiError::new(e.status(), e.body_text()))?
    {
        let name = field.name().unwrap_or("").to_owned();
        let is_file = field.file_name().is_some();
        let data = field
            .bytes()
            .await
            .map_err(|e| ApiError::new(e.status(), e.body_text()))?;
        if is_file {
            if file.is_some() {
                return Err(ApiError::bad_request("Only one file allowed per request"));
            }
            file = Some((name, data));
        } else {
            let text = String::from_utf8(data.to_vec())
                .map_err(|_| ApiError::bad_request(format!("form field {name} is not UTF-8")))?;
            fields.push((name, text));
        }
    }
    let Some((name, bytes)) = file else {
        return Err(ApiError::bad_request(
            "Missing multipart/form-data file upload",
        ));
    };
    Ok(Upload {
        content_type: parse_content_type(&name)?,
        bytes,
        fields,
    })
}

/// Parses a signal as HMA does on its routes: PDQ must be 64 lower-case hex
/// digits exactly; MD5s are trimmed and lower-cased first.
pub fn parse_hma_signal(type_name: &str, value: &str) -> Result<Signal, ApiError> {
    let t: SignalType = type_name
        .parse()
        .map_err(|_| ApiError::bad_request(format!("No such SignalType '{type_name}'")))?;
    let invalid = |why: String| ApiError::bad_request(format!("invalid signal: {why}"));
    match t {
        SignalType::Pdq => {
            if value.len() != 64
                || !value
                    .bytes()
                    .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
            {
                return Err(invalid("invalid PDQ hash".into()));
            }
            Signal::parse(t, value).map_err(|_| invalid("invalid PDQ hash".into()))
        }
        SignalType::Md5 | SignalType::VideoMd5 => {
            let v = value.trim().to_ascii_lowercase();
            Signal::parse(t, &v).map_err(|_| invalid(format!("'{value}' is not a valid MD5 hash")))
        }
        _ => Signal::parse(t, value).map_err(|e| invalid(e.to_string())),
    }
}
