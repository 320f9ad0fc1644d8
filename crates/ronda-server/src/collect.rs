//! Capture: turning a submitted URL (and, optionally, the file the analyst
//! saw there) into a deconflicted item. The one path for the API and the
//! CLI: fetch SSRF-safely when no file is given, archive the bytes in the
//! blob store, hash them, assign the platform, match the signals against
//! the banks, and record the item ([`Store::add_item`] deconflicts).
//!
//! Logs carry ids and hashes, never the URL's content or the note.

use ronda_fetch::{FetchError, Fetcher};
use ronda_hash::url::{CanonicalUrl, canonicalize};
use ronda_hash::{Signal, digest};
use ronda_media::signals::{ContentSignals, ContentType, HashOptions, hash_bytes};
use ronda_store::{Actor, AddedItem, BlobStore, ItemMatch, NewItem, Store, StoreError};

use crate::hashing::PDQ_QUALITY_THRESHOLD;
use crate::matcher::{Matcher, now_ms};

/// Everything a capture needs; borrowed from the server's state or set up
/// by a command.
#[derive(Debug, Clone, Copy)]
pub struct Capturer<'a> {
    pub store: &'a Store,
    /// Where captured bytes are archived; `None`: hashed, not kept.
    pub blobs: Option<&'a BlobStore>,
    pub fetcher: &'a Fetcher,
    pub matcher: &'a Matcher,
    pub hash: HashOptions,
    /// PDQ match radius.
    pub pdq_radius: u32,
}

/// One submission.
#[derive(Debug, Clone, Default)]
pub struct Submission {
    pub url: String,
    /// The file the analyst captured; `None`: fetch the URL.
    pub bytes: Option<Vec<u8>>,
    pub campaign_id: Option<i64>,
    pub note: Option<String>,
    pub org_id: Option<i64>,
    pub user_id: Option<i64>,
}

/// What a capture recorded.
#[derive(Debug, Clone)]
pub struct Captured {
    pub added: AddedItem,
    /// Why no content was captured, when none was (the URL answered an
    /// error, or could not be reached): the item is recorded all the same.
    pub capture_error: Option<String>,
}

/// Why a submission was not recorded.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("invalid url: {0}")]
    InvalidUrl(String),
    /// The fetch policy refuses the URL (a private address, a bad scheme).
    #[error("the url may not be fetched: {0}")]
    Refused(FetchError),
    #[error("the captured file is empty")]
    Empty,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("capture failed: {0}")]
    Internal(String),
}

/// The content half of a capture: type, bytes' SHA-256 and content signals.
struct Content {
    content_type: ContentType,
    sha256: ronda_hash::Sha256Digest,
    signals: Vec<Signal>,
    dihedral: Option<[ronda_hash::PdqHash; 8]>,
}

/// Hashes captured bytes; bytes that do not decode as what they look like
/// are still identified by their digests.
fn content_of(bytes: &[u8], options: &HashOptions) -> Content {
    match hash_bytes(bytes, None, options) {
        Ok(s) => content_signals(&s),
        Err(e) => {
            tracing::info!(error = %e, "captured bytes did not decode; keeping their digests");
            let sha256 = digest::sha256(bytes);
            Content {
                content_type: ContentType::File,
                sha256,
                signals: vec![Signal::Md5(digest::md5(bytes)), Signal::Sha256(sha256)],
                dihedral: None,
            }
        }
    }
}

fn content_signals(s: &ContentSignals) -> Content {
    let mut signals = vec![Signal::Md5(s.md5), Signal::Sha256(s.sha256)];
    let mut dihedral = None;
    if let Some(img) = &s.image
        && img.pdq.quality >= PDQ_QUALITY_THRESHOLD
    {
        signals.push(Signal::Pdq(img.pdq.hash));
        dihedral = img.dihedral.as_ref().map(|d| d.hashes());
    }
    if s.content_type == ContentType::Video {
        signals.push(Signal::VideoMd5(s.md5));
    }
    if let Some(t) = &s.text {
        signals.push(Signal::TextSha256(t.signals.normalized_sha256));
    }
    Content {
        content_type: s.content_type,
        sha256: s.sha256,
        signals,
        dihedral,
    }
}

/// Bank entries that match `content`: active entries of enabled banks, PDQ
/// within the radius (over the image's 8 dihedral variants when known).
fn bank_matches(matcher: &Matcher, content: &Content, radius: u32) -> Vec<ItemMatch> {
    let now = now_ms();
    let mut out: Vec<ItemMatch> = Vec::new();
    let mut keep = |signal_type, hits: Vec<crate::matcher::Hit>| {
        for h in hits {
            let bank_ok = matcher.bank(h.meta.bank_id).is_some_and(|b| b.enabled);
            if !h.meta.is_active(now) || !bank_ok {
                continue;
            }
            if !out
                .iter()
                .any(|m| m.entry_id == h.entry_id && m.signal_type == signal_type)
            {
                out.push(ItemMatch {
                    entry_id: h.entry_id,
                    bank_id: h.meta.bank_id,
                    signal_type,
                    distance: h.distance,
                });
            }
        }
    };
    for s in &content.signals {
        let hits = match (s, &content.dihedral) {
            (Signal::Pdq(_), Some(needles)) => matcher.lookup_dihedral(needles, radius),
            _ => matcher.lookup(s, radius),
        };
        keep(s.signal_type(), hits);
    }
    out
}

impl Capturer<'_> {
    /// Captures and records one submission as `actor`.
    pub async fn capture(
        &self,
        submission: Submission,
        actor: &Actor,
    ) -> Result<Captured, CaptureError> {
        let url = submission.url.trim();
        let canonical: CanonicalUrl =
            canonicalize(url).map_err(|e| CaptureError::InvalidUrl(e.to_string()))?;
        let mut capture_error = None;
        let bytes = match submission.bytes {
            Some(b) if b.is_empty() => return Err(CaptureError::Empty),
            Some(b) => Some(b),
            // The URL as given: the canonical form is for comparing (it
            // may, for one, say https where the site speaks http).
            None => match self.fetcher.get(url).await {
                Ok(f) if f.is_success() && !f.body.is_empty() => Some(f.body.to_vec()),
                Ok(f) => {
                    capture_error = Some(format!("the url answered {}", f.status));
                    None
                }
                Err(e) if e.is_refused() || matches!(e, FetchError::InvalidUrl { .. }) => {
                    return Err(CaptureError::Refused(e));
                }
                Err(e) => {
                    capture_error = Some(format!("the url could not be fetched: {e}"));
                    None
                }
            },
        };
        let mut new = NewItem::url(canonical.clone());
        new.url = url.to_owned();
        new.campaign_id = submission.campaign_id;
        new.note = submission.note;
        new.org_id = submission.org_id;
        new.user_id = submission.user_id;
        if let Some(bytes) = bytes {
            let options = HashOptions {
                dihedral: true,
                ..self.hash
            };
            let blobs = self.blobs.cloned();
            let content = tokio::task::spawn_blocking(move || {
                if let Some(blobs) = &blobs {
                    blobs.put(&bytes)?;
                }
                Ok::<_, StoreError>(content_of(&bytes, &options))
            })
            .await
            .map_err(|_| CaptureError::Internal("the hashing task failed".into()))??;
            new.matches = bank_matches(self.matcher, &content, self.pdq_radius);
            new.blob_sha256 = Some(content.sha256);
            new.content_type = Some(content.content_type.as_str().to_owned());
            new.signals = content.signals;
        }
        new.platform_id = self.store.platform_for_url(&canonical).await?.map(|p| p.id);
        let added = self.store.add_item(&new, actor).await?;
        tracing::info!(
            item_id = added.item.id,
            sha256 = added.item.blob_sha256.as_deref().unwrap_or("-"),
            platform_id = added.item.platform_id,
            duplicate_of = added.item.duplicate_of,
            matches = added.item.matches.len(),
            "captured item"
        );
        Ok(Captured {
            added,
            capture_error,
        })
    }
}
