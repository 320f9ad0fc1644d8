//! The simulated internet: one HTTP server on loopback that answers for
//! every platform by its `Host` header, serving the posts that are up and
//! the platform's "removed" answer for those taken down; referral intake by
//! API (`POST /ronda/referrals`, honouring `Idempotency-Key`) and web form
//! (`POST /report-abuse`); and an SMTP sink for platforms reached by e-mail.
//!
//! A platform decides what to do with a referral when it receives it, from
//! its behaviour and the post's draws in the [`World`]: whether it removes,
//! and after how long. Removals then happen on the simulated clock.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use ronda_store::{Clock, Millis, PlatformKind};
use serde::Deserialize;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use crate::content;
use crate::world::{ContentKind, MINUTE, RemovedAs, World};

/// The notice page platforms that answer `200` show for removed content.
pub const NOTICE: &str = "This content is no longer available";

/// A referral or order as a platform received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub platform: usize,
    pub at: Millis,
    pub order: bool,
    pub reference: String,
    pub posts: Vec<usize>,
    pub via: &'static str,
}

/// A removal a platform carried out (or will, at `at`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Removal {
    pub post: usize,
    pub at: Millis,
    /// It answered a removal order.
    pub order: bool,
}

#[derive(Debug, Default)]
struct SimState {
    /// Planned and done removals, by post: the earliest wins.
    removals: HashMap<usize, Removal>,
    /// When the group-run site goes dark (a provider acted).
    site_down_at: Option<Millis>,
    received: Vec<Received>,
    idempotency_keys: HashSet<(usize, String)>,
}

/// The simulated internet, shared by its servers and the driver.
#[derive(Debug)]
pub struct Internet {
    world: Arc<World>,
    clock: Clock,
    by_host: HashMap<String, usize>,
    by_url: HashMap<(usize, String), Vec<usize>>,
    pictures: Mutex<HashMap<usize, Bytes>>,
    state: Mutex<SimState>,
}

impl Internet {
    pub fn new(world: Arc<World>, clock: Clock) -> Internet {
        let by_host = world
            .platforms
            .iter()
            .enumerate()
            .map(|(i, p)| (p.host.clone(), i))
            .collect();
        let mut by_url: HashMap<(usize, String), Vec<usize>> = HashMap::new();
        for (i, p) in world.posts.iter().enumerate() {
            by_url
                .entry((p.platform, p.path.clone()))
                .or_default()
                .push(i);
        }
        Internet {
            world,
            clock,
            by_host,
            by_url,
            pictures: Mutex::default(),
            state: Mutex::default(),
        }
    }

    pub fn world(&self) -> &World {
        &self.world
    }

    /// Whether a post is up at `now`.
    pub fn is_up(&self, post: usize, now: Millis) -> bool {
        let p = &self.world.posts[post];
        if p.posted_at > now {
            return false;
        }
        let state = self.lock();
        if self.world.platforms[p.platform].kind == PlatformKind::GroupRun
            && state.site_down_at.is_some_and(|t| t <= now)
        {
            return false;
        }
        state.removals.get(&post).is_none_or(|r| r.at > now)
    }

    /// Everything received so far, in order.
    pub fn received(&self) -> Vec<Received> {
        self.lock().received.clone()
    }

    /// Removals carried out at or before `now`.
    pub fn removals_until(&self, now: Millis) -> Vec<Removal> {
        let mut out: Vec<Removal> = self
            .lock()
            .removals
            .values()
            .filter(|r| r.at <= now)
            .copied()
            .collect();
        out.sort_by_key(|r| (r.at, r.post));
        out
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SimState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Finds the posts a referral names, by URL (any port).
    fn posts_named(&self, platform: usize, urls: &[String]) -> Vec<usize> {
        let mut out = Vec::new();
        for u in urls {
            let Ok(parsed) = u.parse::<Uri>() else {
                continue;
            };
            let Some(host) = parsed.host().map(str::to_ascii_lowercase) else {
                continue;
            };
            let Some(&on) = self.by_host.get(&host) else {
                continue;
            };
            // Providers of the group-run site receive the site's URLs.
            if on != platform && !self.world.platforms[on].providers.contains(&platform) {
                continue;
            }
            if let Some(posts) = self.by_url.get(&(on, parsed.path().to_owned())) {
                out.extend(posts);
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// A platform receives a referral or order: it decides at once what it
    /// will do, and when.
    pub fn receive(
        &self,
        platform: usize,
        order: bool,
        reference: &str,
        urls: &[String],
        via: &'static str,
    ) -> bool {
        let now = self.clock.now();
        let posts = self.posts_named(platform, urls);
        let mut state = self.lock();
        if !state
            .idempotency_keys
            .insert((platform, reference.to_owned()))
        {
            return false;
        }
        let p = &self.world.platforms[platform];
        let b = &p.behaviour;
        for &post in &posts {
            let draw = &self.world.posts[post];
            let removes = if order {
                // Orders are binding: all but the platforms that never act.
                b.removes > 0.0 && draw.fate < 0.97
            } else {
                draw.fate < b.removes
            };
            if !removes {
                continue;
            }
            let minutes = if order {
                if draw.fate < b.orders_on_time * 0.97 {
                    5.0 + 50.0 * (draw.delay_draw.abs().min(3.0) / 3.0)
                } else {
                    65.0 + 240.0 * (draw.delay_draw.abs().min(3.0) / 3.0)
                }
            } else {
                b.median_minutes * (b.sigma * draw.delay_draw).exp()
            };
            let at = now + (minutes.max(1.0) * MINUTE as f64) as Millis;
            let removal = Removal { post, at, order };
            let is_provider = matches!(
                p.kind,
                PlatformKind::Hosting | PlatformKind::Registrar | PlatformKind::Cdn
            );
            if is_provider && self.world.platforms[draw.platform].kind == PlatformKind::GroupRun {
                state.site_down_at = Some(state.site_down_at.map_or(at, |t| t.min(at)));
            }
            let slot = state.removals.entry(post).or_insert(removal);
            if removal.at < slot.at {
                *slot = removal;
            }
        }
        state.received.push(Received {
            platform,
            at: now,
            order,
            reference: reference.to_owned(),
            posts,
            via,
        });
        true
    }

    fn picture(&self, content: usize) -> Bytes {
        let mut cache = self.pictures.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .entry(content)
            .or_insert_with(|| Bytes::from(content::picture(self.world.contents[content].seed)))
            .clone()
    }

    /// Answers one request to the simulated internet.
    fn answer(
        &self,
        method: &Method,
        host: &str,
        uri: &Uri,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Response {
        let Some(&platform) = self.by_host.get(host) else {
            return (StatusCode::MISDIRECTED_REQUEST, "no such host").into_response();
        };
        let path = uri.path();
        if method == Method::POST && path == "/ronda/referrals" {
            return self.api_referral(platform, headers, body);
        }
        if method == Method::POST && path == "/report-abuse" {
            return self.form_referral(platform, body);
        }
        if method != Method::GET && method != Method::HEAD {
            return StatusCode::METHOD_NOT_ALLOWED.into_response();
        }
        let now = self.clock.now();
        let posts = self
            .by_url
            .get(&(platform, path.to_owned()))
            .cloned()
            .unwrap_or_default();
        let Some(&post) = posts
            .iter()
            .find(|&&p| self.world.posts[p].posted_at <= now)
        else {
            return (StatusCode::NOT_FOUND, "not found").into_response();
        };
        if !self.is_up(post, now) {
            return match self.world.platforms[platform].removed_as {
                RemovedAs::NotFound => (StatusCode::NOT_FOUND, "not found").into_response(),
                RemovedAs::Gone => (StatusCode::GONE, "gone").into_response(),
                RemovedAs::NoticePage => (
                    [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                    format!("<!doctype html><html><body><h1>{NOTICE}</h1></body></html>"),
                )
                    .into_response(),
            };
        }
        let c = self.world.posts[post].content;
        match self.world.contents[c].kind {
            ContentKind::Picture => {
                ([(header::CONTENT_TYPE, "image/png")], self.picture(c)).into_response()
            }
            ContentKind::Text => (
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                content::page(self.world.contents[c].seed),
            )
                .into_response(),
        }
    }

    fn api_referral(&self, platform: usize, headers: &HeaderMap, body: &[u8]) -> Response {
        // The package as Ronda's store prepares it (`ronda_package: 1`).
        #[derive(Deserialize)]
        struct Package {
            kind: String,
            item: PackageItem,
        }
        #[derive(Deserialize)]
        struct PackageItem {
            url: String,
        }
        let Some(key) = headers
            .get("idempotency-key")
            .and_then(|v| v.to_str().ok())
            .filter(|k| !k.is_empty())
        else {
            return (StatusCode::BAD_REQUEST, "Idempotency-Key header required").into_response();
        };
        let Ok(package) = serde_json::from_slice::<Package>(body) else {
            return (StatusCode::UNPROCESSABLE_ENTITY, "not a referral package").into_response();
        };
        let order = package.kind == "removal_order";
        let fresh = self.receive(platform, order, key, &[package.item.url], "api");
        let status = if fresh {
            StatusCode::ACCEPTED
        } else {
            StatusCode::OK
        };
        (
            status,
            axum::Json(serde_json::json!({ "received": true, "reference": key })),
        )
            .into_response()
    }

    fn form_referral(&self, platform: usize, body: &[u8]) -> Response {
        let fields: BTreeMap<String, String> = url_decoded_pairs(body);
        let (Some(reference), Some(urls)) = (fields.get("reference"), fields.get("urls")) else {
            return (StatusCode::BAD_REQUEST, "reference and urls required").into_response();
        };
        let urls: Vec<String> = urls.split_whitespace().map(str::to_owned).collect();
        let order = fields.get("kind").is_some_and(|k| k == "removal_order");
        self.receive(platform, order, reference, &urls, "web_form");
        (StatusCode::OK, "Thank you, your report was received.").into_response()
    }

    /// One e-mail delivered to the SMTP sink: the platform is the
    /// recipient's domain (`abuse@<host>`), the URLs are those in the body,
    /// and the reference is the `Ref:` line.
    fn receive_mail(&self, recipients: &[String], data: &str) {
        let reference = data
            .lines()
            .find_map(|l| l.trim().strip_prefix("Ref:"))
            .map(|r| r.trim().to_owned())
            .unwrap_or_default();
        let order = data.lines().any(|l| l.trim() == "Kind: removal_order");
        let urls: Vec<String> = data
            .split_whitespace()
            .filter(|w| w.starts_with("http://") || w.starts_with("https://"))
            .map(str::to_owned)
            .collect();
        for r in recipients {
            let domain = r.rsplit('@').next().unwrap_or("").trim_end_matches('>');
            if let Some(&platform) = self.by_host.get(&domain.to_ascii_lowercase()) {
                self.receive(platform, order, &reference, &urls, "email");
            }
        }
    }
}

fn url_decoded_pairs(body: &[u8]) -> BTreeMap<String, String> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

async fn handle(
    State(net): State<Arc<Internet>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("")
        .split(':')
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    net.answer(&method, &host, &uri, &headers, &body)
}

/// Serves the simulated web on `listener` until the task is dropped.
pub async fn serve_web(net: Arc<Internet>, listener: TcpListener) -> std::io::Result<()> {
    let app = Router::new().fallback(handle).with_state(net);
    axum::serve(listener, app).await
}

/// Most bytes one e-mail may carry.
const MAX_MAIL: usize = 1024 * 1024;

/// Serves the SMTP sink on `listener`: enough of RFC 5321 for one client
/// that sends plain messages (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP,
/// QUIT).
pub async fn serve_smtp(net: Arc<Internet>, listener: TcpListener) -> std::io::Result<()> {
    loop {
        let (stream, _) = listener.accept().await?;
        let net = net.clone();
        tokio::spawn(async move {
            if let Err(e) = smtp_session(net, stream).await {
                tracing::debug!(error = %e, "demo smtp session ended");
            }
        });
    }
}

async fn smtp_session(net: Arc<Internet>, stream: tokio::net::TcpStream) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 mail.example ESMTP demo\r\n").await?;
    let mut recipients: Vec<String> = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let upper = line.trim_end().to_ascii_uppercase();
        if upper.starts_with("EHLO") {
            write
                .write_all(b"250-mail.example\r\n250 SIZE 1048576\r\n")
                .await?;
        } else if upper.starts_with("HELO") || upper.starts_with("NOOP") {
            write.write_all(b"250 OK\r\n").await?;
        } else if upper.starts_with("MAIL FROM") {
            recipients.clear();
            write.write_all(b"250 OK\r\n").await?;
        } else if upper.starts_with("RCPT TO") {
            let addr = line.trim_end()[8..].trim().trim_start_matches(':').trim();
            recipients.push(addr.trim_matches(['<', '>']).to_owned());
            write.write_all(b"250 OK\r\n").await?;
        } else if upper == "DATA" {
            write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
            let mut data = String::new();
            loop {
                line.clear();
                if lines.read_line(&mut line).await? == 0 {
                    return Ok(());
                }
                if line.trim_end() == "." {
                    break;
                }
                if data.len() + line.len() > MAX_MAIL {
                    write.write_all(b"552 message too large\r\n").await?;
                    return Ok(());
                }
                data.push_str(line.strip_prefix('.').unwrap_or(&line));
            }
            net.receive_mail(&recipients, &data);
            write.write_all(b"250 OK queued\r\n").await?;
        } else if upper == "RSET" {
            recipients.clear();
            write.write_all(b"250 OK\r\n").await?;
        } else if upper == "QUIT" {
            write.write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else {
            write.write_all(b"502 command not implemented\r\n").await?;
        }
    }
}

/// Binds the web and SMTP sinks on loopback and starts them; returns their
/// addresses.
pub async fn start(net: Arc<Internet>) -> std::io::Result<(SocketAddr, SocketAddr)> {
    let web = TcpListener::bind("127.0.0.1:0").await?;
    let smtp = TcpListener::bind("127.0.0.1:0").await?;
    let addrs = (web.local_addr()?, smtp.local_addr()?);
    tokio::spawn(serve_web(net.clone(), web));
    tokio::spawn(serve_smtp(net, smtp));
    Ok(addrs)
}
