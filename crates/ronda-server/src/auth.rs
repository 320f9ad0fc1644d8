//! Bearer-token authentication and per-route role checks.
//!
//! Every route in [`crate::routes`] declares the roles it accepts; the
//! guard answers 401 without a valid token and 403 with a token whose role
//! is not among them. Lookups of a token are cached for a few seconds so
//! that the hot matching routes do not hit the database per request; a
//! revoked token, or one of a disabled user, stops working within that
//! time. A token that belongs to a user makes the user the audit log's
//! actor (`user:<name>`, see [`Principal::actor`]).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ronda_store::{Principal, Role, Store};
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::error::ApiError;

/// How long a token lookup is trusted.
pub const CACHE_TTL: Duration = Duration::from_secs(2);

/// A token lookup's answer and when it was made.
type Cached = (Option<Principal>, Instant);

#[derive(Debug, Default)]
pub struct TokenCache {
    // Keyed by the SHA-256 of the secret, so the secret is not kept around.
    entries: Mutex<HashMap<[u8; 32], Cached>>,
}

impl TokenCache {
    pub async fn authenticate(
        &self,
        store: &Store,
        secret: &str,
    ) -> Result<Option<Principal>, ApiError> {
        let key: [u8; 32] = Sha256::digest(secret.as_bytes()).into();
        {
            let cache = self.entries.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((p, at)) = cache.get(&key)
                && at.elapsed() < CACHE_TTL
            {
                return Ok(p.clone());
            }
        }
        let principal = store.authenticate(secret).await?;
        let mut cache = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() > 10_000 {
            cache.retain(|_, (_, at)| at.elapsed() < CACHE_TTL);
            // A flood of distinct bad tokens must not grow it without bound.
            if cache.len() > 10_000 {
                cache.clear();
            }
        }
        cache.insert(key, (principal.clone(), Instant::now()));
        Ok(principal)
    }

    /// Drops the cached lookup of a token, so that this node refuses it as
    /// soon as it is revoked.
    pub fn forget_token(&self, token_id: i64) {
        let mut cache = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        cache.retain(|_, (p, _)| p.as_ref().is_none_or(|p| p.token_id != token_id));
    }

    /// Drops the cached lookups of a user's tokens, so that this node
    /// refuses them as soon as the user is disabled.
    pub fn forget_user(&self, user_id: i64) {
        let mut cache = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        cache.retain(|_, (p, _)| {
            p.as_ref()
                .and_then(|p| p.user.as_ref())
                .is_none_or(|u| u.id != user_id)
        });
    }
}

/// The state of one guarded route: the app and the roles it accepts.
#[derive(Clone)]
pub struct Guard {
    pub state: AppState,
    pub roles: &'static [Role],
}

fn unauthorized(message: &str) -> Response {
    let mut r = ApiError::new(StatusCode::UNAUTHORIZED, message).into_response();
    r.headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    r
}

pub async fn guard(State(g): State<Guard>, mut req: Request, next: Next) -> Response {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return unauthorized("missing bearer token");
    };
    let Some(secret) = value.to_str().ok().and_then(|v| {
        v.strip_prefix("Bearer ")
            .or_else(|| v.strip_prefix("bearer "))
    }) else {
        return unauthorized("the Authorization header must be \"Bearer <token>\"");
    };
    let principal = match g
        .state
        .tokens
        .authenticate(&g.state.store, secret.trim())
        .await
    {
        Ok(Some(p)) => p,
        Ok(None) => return unauthorized("invalid or revoked token"),
        Err(e) => return e.into_response(),
    };
    if !g.roles.contains(&principal.role) {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            format!("role {} may not use this route", principal.role),
        )
        .into_response();
    }
    req.extensions_mut().insert(principal);
    next.run(req).await
}
