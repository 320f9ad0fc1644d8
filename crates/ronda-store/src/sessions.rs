//! People's logins to the web UI: passwords, sessions and per-user
//! wellness preferences.
//!
//! - **Passwords** are hashed with argon2id (RustCrypto's `argon2`, the
//!   OWASP parameters: 19 MiB, 2 passes, 1 lane) and stored as PHC
//!   strings; the clear text is never stored or logged. Verification
//!   compares in constant time, and a login as an unknown or disabled user
//!   verifies against a dummy hash so that it takes as long as a real one.
//! - **Failed logins lock the account**: after [`MAX_FAILED_LOGINS`]
//!   failures in a row it refuses every password, the right one included,
//!   for [`LOCKOUT_MS`]; a success resets the count. A per-account lock,
//!   not a per-address limit, because it holds however many addresses an
//!   attacker has and whichever node answers (the count is in the store).
//! - **Sessions**: the cookie carries 256 random bits; the store keeps only
//!   their SHA-256. A session ends at logout, after [`SESSION_IDLE_MS`]
//!   without a request, [`SESSION_ABSOLUTE_MS`] after login, when its
//!   user's password is set again, and when its user is disabled (a
//!   session of a disabled user is refused and removed at its next use).
//!   Each session has its own CSRF token, the synchronizer token every
//!   form carries.
//! - **Wellness preferences** default to safe: media blurred and in
//!   greyscale until clicked, video muted and paused.
//!
//! Logins, logouts, lockouts, password and preference changes are audited.
//! Two writes are bookkeeping and are not: a session's `last_seen_at`
//! (moved at most once a minute) and the removal of expired sessions.
//! Sessions run on real time, never on the store's (possibly simulated)
//! [`Clock`](crate::Clock).

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::audit::{self, What};
use crate::users::user_named;
use crate::{Actor, Millis, Store, StoreError, User, now_ms};

/// The shortest password accepted, in characters.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// The longest password accepted, in bytes.
pub const MAX_PASSWORD_BYTES: usize = 1024;
/// Failed logins in a row that lock an account.
pub const MAX_FAILED_LOGINS: i64 = 5;
/// How long a locked account stays locked: 15 minutes.
pub const LOCKOUT_MS: Millis = 15 * 60 * 1000;
/// A session unused this long ends: 30 minutes.
pub const SESSION_IDLE_MS: Millis = 30 * 60 * 1000;
/// A session ends this long after login whatever its use: 12 hours.
pub const SESSION_ABSOLUTE_MS: Millis = 12 * 60 * 60 * 1000;
/// `last_seen_at` moves at most this often.
const TOUCH_EVERY_MS: Millis = 60 * 1000;

/// A logged-in person's session.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub id: i64,
    pub user: User,
    /// The synchronizer token every form of this session must carry.
    pub csrf_token: String,
    pub created_at: Millis,
    pub last_seen_at: Millis,
    /// The absolute end (the idle timeout may end it sooner).
    pub expires_at: Millis,
}

impl Session {
    /// The audit log's name for what this session does.
    pub fn actor(&self) -> Actor {
        Actor(format!("user:{}", self.user.name))
    }
}

/// A new session and the secret for its cookie (not stored: shown once).
#[derive(Debug, Clone)]
pub struct NewSession {
    pub secret: String,
    pub session: Session,
}

/// What a login attempt came to.
#[derive(Debug, Clone)]
pub enum Login {
    Success(Box<NewSession>),
    /// Unknown user, disabled user, no password set or a wrong password:
    /// the caller cannot tell which.
    Refused,
    /// Too many failures: no password is tried until `until`.
    Locked {
        until: Millis,
    },
}

/// How a person wants distressing media shown; every field defaults to
/// the safe choice (`true`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WellnessPrefs {
    /// Images and video blurred until clicked.
    pub blur_media: bool,
    /// Images and video in greyscale.
    pub greyscale: bool,
    /// Video starts muted.
    pub mute_video: bool,
    /// Video never plays by itself.
    pub pause_video: bool,
}

impl Default for WellnessPrefs {
    fn default() -> WellnessPrefs {
        WellnessPrefs {
            blur_media: true,
            greyscale: true,
            mute_video: true,
            pause_video: true,
        }
    }
}

fn argon2id() -> Argon2<'static> {
    // OWASP's first choice for argon2id: m = 19 MiB, t = 2, p = 1.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn hash_password(password: &str) -> Result<String, StoreError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt)
        .map_err(|e| StoreError::InvalidInput(format!("no randomness available: {e}")))?;
    let salt = SaltString::encode_b64(&salt)
        .map_err(|e| StoreError::InvalidInput(format!("password salt: {e}")))?;
    argon2id()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| StoreError::InvalidInput(format!("password hashing failed: {e}")))
}

/// Whether `password` matches the PHC string `stored`, in constant time;
/// a damaged hash matches nothing.
fn verify_password(password: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => argon2id()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// A hash that no password is tried against in earnest: logins as unknown
/// users verify against it so that they take as long as real ones.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_password("ronda-dummy-password-never-used").unwrap_or_default())
}

async fn verify_blocking(password: &str, stored: Option<String>) -> Result<bool, StoreError> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || match stored {
        Some(s) => verify_password(&password, &s),
        None => {
            verify_password(&password, dummy_hash());
            false
        }
    })
    .await
    .map_err(|e| StoreError::InvalidInput(format!("password check failed: {e}")))
}

/// Checks a new password against the policy: [`MIN_PASSWORD_CHARS`] to
/// [`MAX_PASSWORD_BYTES`], not the user's name. No composition rules
/// (NIST SP 800-63B): length is what makes a password strong.
pub fn check_password_policy(user_name: &str, password: &str) -> Result<(), StoreError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(StoreError::InvalidInput(format!(
            "a password must have at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(StoreError::InvalidInput(format!(
            "a password must have at most {MAX_PASSWORD_BYTES} bytes"
        )));
    }
    if password.eq_ignore_ascii_case(user_name) {
        return Err(StoreError::InvalidInput(
            "a password must not be the user's name".into(),
        ));
    }
    Ok(())
}

fn random_hex() -> Result<String, StoreError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| StoreError::InvalidInput(format!("no randomness available: {e}")))?;
    Ok(hex::encode(bytes))
}

fn token_hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

fn user_actor(name: &str) -> Actor {
    Actor(format!("user:{name}"))
}

impl Store {
    /// Sets (or replaces) a user's password, clears any lock and ends the
    /// user's sessions, in one audited transaction.
    pub async fn set_password(
        &self,
        user_name: &str,
        password: &str,
        actor: &Actor,
    ) -> Result<(), StoreError> {
        check_password_policy(user_name, password)?;
        let user = self
            .user(user_name)
            .await?
            .ok_or_else(|| StoreError::not_found("user", user_name))?;
        if !user.is_active() {
            return Err(StoreError::InvalidInput(format!(
                "user {user_name:?} is disabled"
            )));
        }
        let password = password.to_owned();
        let hash = tokio::task::spawn_blocking(move || hash_password(&password))
            .await
            .map_err(|e| StoreError::InvalidInput(format!("password hashing failed: {e}")))??;
        let mut tx = self.begin_write().await?;
        let now = now_ms();
        sqlx::query(
            "INSERT INTO user_passwords (user_id, hash, set_at, failed_logins, locked_until) \
             VALUES ($1, $2, $3, 0, NULL) ON CONFLICT (user_id) DO UPDATE SET \
             hash = excluded.hash, set_at = excluded.set_at, failed_logins = 0, \
             locked_until = NULL",
        )
        .bind(user.id)
        .bind(&hash)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let ended = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user.id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let what = What {
            action: "user.password.set",
            record_kind: "user",
            record_id: &user.id.to_string(),
        };
        audit::append(&mut tx, actor, what, json!({ "ended_sessions": ended })).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Tries a login; on success starts a session.
    pub async fn login(&self, user_name: &str, password: &str) -> Result<Login, StoreError> {
        self.login_at(user_name, password, now_ms()).await
    }

    /// [`login`](Self::login) at a given time (for tests of locks and
    /// expiry).
    #[doc(hidden)]
    pub async fn login_at(
        &self,
        user_name: &str,
        password: &str,
        now: Millis,
    ) -> Result<Login, StoreError> {
        if password.len() > MAX_PASSWORD_BYTES || user_name.len() > 64 {
            return Ok(Login::Refused);
        }
        let user = self.user(user_name).await?.filter(User::is_active);
        let Some(user) = user else {
            verify_blocking(password, None).await?;
            return Ok(Login::Refused);
        };
        let row = sqlx::query("SELECT hash, locked_until FROM user_passwords WHERE user_id = $1")
            .bind(user.id)
            .fetch_optional(self.pool())
            .await?;
        let Some(row) = row else {
            verify_blocking(password, None).await?;
            return Ok(Login::Refused);
        };
        let stored: String = row.try_get(0)?;
        let locked_until: Option<Millis> = row.try_get(1)?;
        if let Some(until) = locked_until.filter(|u| *u > now) {
            return Ok(Login::Locked { until });
        }
        let user_id = user.id.to_string();
        if !verify_blocking(password, Some(stored.clone())).await? {
            let mut tx = self.begin_write().await?;
            let failures: i64 = sqlx::query(
                "UPDATE user_passwords SET failed_logins = failed_logins + 1 \
                 WHERE user_id = $1 RETURNING failed_logins",
            )
            .bind(user.id)
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
            let what = What {
                action: "user.login.fail",
                record_kind: "user",
                record_id: &user_id,
            };
            let actor = user_actor(&user.name);
            audit::append(&mut tx, &actor, what, json!({ "failures": failures })).await?;
            if failures >= MAX_FAILED_LOGINS {
                let until = now + LOCKOUT_MS;
                sqlx::query(
                    "UPDATE user_passwords SET failed_logins = 0, locked_until = $1 \
                     WHERE user_id = $2",
                )
                .bind(until)
                .bind(user.id)
                .execute(&mut *tx)
                .await?;
                let what = What {
                    action: "user.lock",
                    record_kind: "user",
                    record_id: &user_id,
                };
                audit::append(&mut tx, &actor, what, json!({ "until": until })).await?;
            }
            tx.commit().await?;
            return Ok(Login::Refused);
        }
        let secret = random_hex()?;
        let csrf_token = random_hex()?;
        let mut tx = self.begin_write().await?;
        // The password may have changed, or the user been disabled, while
        // it was being checked.
        let still = sqlx::query(
            "UPDATE user_passwords SET failed_logins = 0, locked_until = NULL \
             WHERE user_id = $1 AND hash = $2 AND (locked_until IS NULL OR locked_until <= $3) \
             AND EXISTS (SELECT 1 FROM users WHERE id = $1 AND disabled_at IS NULL)",
        )
        .bind(user.id)
        .bind(&stored)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if still == 0 {
            return Ok(Login::Refused);
        }
        // Expired sessions of this user go now rather than linger.
        sqlx::query(
            "DELETE FROM sessions WHERE user_id = $1 AND (expires_at <= $2 OR last_seen_at <= $3)",
        )
        .bind(user.id)
        .bind(now)
        .bind(now - SESSION_IDLE_MS)
        .execute(&mut *tx)
        .await?;
        let expires_at = now + SESSION_ABSOLUTE_MS;
        let id: i64 = sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, last_seen_at, \
             expires_at) VALUES ($1, $2, $3, $4, $4, $5) RETURNING id",
        )
        .bind(token_hash(&secret))
        .bind(user.id)
        .bind(&csrf_token)
        .bind(now)
        .bind(expires_at)
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        let what = What {
            action: "session.create",
            record_kind: "session",
            record_id: &id.to_string(),
        };
        audit::append(
            &mut tx,
            &user_actor(&user.name),
            what,
            json!({ "user_id": user.id }),
        )
        .await?;
        tx.commit().await?;
        Ok(Login::Success(Box::new(NewSession {
            secret,
            session: Session {
                id,
                user,
                csrf_token,
                created_at: now,
                last_seen_at: now,
                expires_at,
            },
        })))
    }

    /// The live session whose cookie secret is `secret`, if any; notes
    /// that it was used.
    pub async fn session(&self, secret: &str) -> Result<Option<Session>, StoreError> {
        self.session_at(secret, now_ms()).await
    }

    /// [`session`](Self::session) at a given time (for tests of expiry).
    #[doc(hidden)]
    pub async fn session_at(
        &self,
        secret: &str,
        now: Millis,
    ) -> Result<Option<Session>, StoreError> {
        if secret.len() != 64 {
            return Ok(None);
        }
        let hash = token_hash(secret);
        let row = sqlx::query(
            "SELECT s.id, u.name, s.csrf_token, s.created_at, s.last_seen_at, s.expires_at \
             FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1",
        )
        .bind(&hash)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let id: i64 = row.try_get(0)?;
        let name: String = row.try_get(1)?;
        let last_seen_at: Millis = row.try_get(4)?;
        let expires_at: Millis = row.try_get(5)?;
        let user = user_named(self.pool(), &name)
            .await?
            .filter(User::is_active);
        let (Some(user), true) = (
            user,
            now < expires_at && now - last_seen_at < SESSION_IDLE_MS,
        ) else {
            sqlx::query("DELETE FROM sessions WHERE id = $1")
                .bind(id)
                .execute(self.pool())
                .await?;
            return Ok(None);
        };
        let mut seen = last_seen_at;
        if now - last_seen_at >= TOUCH_EVERY_MS {
            sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id = $2")
                .bind(now)
                .bind(id)
                .execute(self.pool())
                .await?;
            seen = now;
        }
        Ok(Some(Session {
            id,
            user,
            csrf_token: row.try_get(2)?,
            created_at: row.try_get(3)?,
            last_seen_at: seen,
            expires_at,
        }))
    }

    /// Ends the session whose cookie secret is `secret`; `false` if there
    /// was none.
    pub async fn logout(&self, secret: &str) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "SELECT s.id, s.user_id, u.name FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1",
        )
        .bind(token_hash(secret))
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else { return Ok(false) };
        let id: i64 = row.try_get(0)?;
        let user_id: i64 = row.try_get(1)?;
        let name: String = row.try_get(2)?;
        sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let what = What {
            action: "session.delete",
            record_kind: "session",
            record_id: &id.to_string(),
        };
        audit::append(
            &mut tx,
            &user_actor(&name),
            what,
            json!({ "user_id": user_id }),
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Ends every session of a user (when it is disabled, or its
    /// credentials are in doubt); returns how many there were.
    pub async fn end_sessions(&self, user_name: &str, actor: &Actor) -> Result<u64, StoreError> {
        let mut tx = self.begin_write().await?;
        let user = user_named(&mut *tx, user_name)
            .await?
            .ok_or_else(|| StoreError::not_found("user", user_name))?;
        let ended = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user.id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let what = What {
            action: "user.sessions.end",
            record_kind: "user",
            record_id: &user.id.to_string(),
        };
        audit::append(&mut tx, actor, what, json!({ "ended_sessions": ended })).await?;
        tx.commit().await?;
        Ok(ended)
    }

    /// A user's wellness preferences (the safe defaults until changed).
    pub async fn preferences(&self, user_id: i64) -> Result<WellnessPrefs, StoreError> {
        let row = sqlx::query(
            "SELECT blur_media, greyscale, mute_video, pause_video FROM user_preferences \
             WHERE user_id = $1",
        )
        .bind(user_id)
        .fetch_optional(self.pool())
        .await?;
        let Some(r) = row else {
            return Ok(WellnessPrefs::default());
        };
        Ok(WellnessPrefs {
            blur_media: r.try_get::<i64, _>(0)? != 0,
            greyscale: r.try_get::<i64, _>(1)? != 0,
            mute_video: r.try_get::<i64, _>(2)? != 0,
            pause_video: r.try_get::<i64, _>(3)? != 0,
        })
    }

    /// Replaces a user's wellness preferences.
    pub async fn set_preferences(
        &self,
        user_id: i64,
        prefs: &WellnessPrefs,
        actor: &Actor,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let exists = sqlx::query("SELECT 1 FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(&mut *tx)
            .await?
            .is_some();
        if !exists {
            return Err(StoreError::not_found("user", user_id));
        }
        sqlx::query(
            "INSERT INTO user_preferences (user_id, blur_media, greyscale, mute_video, \
             pause_video, updated_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (user_id) DO UPDATE SET blur_media = excluded.blur_media, \
             greyscale = excluded.greyscale, mute_video = excluded.mute_video, \
             pause_video = excluded.pause_video, updated_at = excluded.updated_at",
        )
        .bind(user_id)
        .bind(i64::from(prefs.blur_media))
        .bind(i64::from(prefs.greyscale))
        .bind(i64::from(prefs.mute_video))
        .bind(i64::from(prefs.pause_video))
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        let what = What {
            action: "user.preferences.update",
            record_kind: "user",
            record_id: &user_id.to_string(),
        };
        audit::append(&mut tx, actor, what, json!(prefs)).await?;
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_to_argon2id_and_verify_only_themselves() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(!h.contains("correct horse"));
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("correct horse batterY", &h));
        assert!(!verify_password("correct horse battery", "not a hash"));
        assert_ne!(h, hash_password("correct horse battery").unwrap(), "salted");
    }

    #[test]
    fn the_policy_wants_length_and_not_the_name() {
        assert!(check_password_policy("alice", "short").is_err());
        assert!(check_password_policy("alice", &"x".repeat(MAX_PASSWORD_BYTES + 1)).is_err());
        assert!(check_password_policy("alicealicealice", "AliceAliceAlice").is_err());
        assert!(check_password_policy("alice", "twelve chars").is_ok());
    }
}
