//! Authentication and the role of every route.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::http::{Method, StatusCode, header};
use ronda_hash::{Signal, SignalType};
use ronda_server::{ServerConfig, route_specs};
use ronda_store::{Actor, NewBank, NewEntry, NewUser, Role};

use crate::support::{BRIDGE, Reply, Server, call};

/// Ids and names that the route table's path parameters are replaced with.
struct Fixture {
    entry_id: i64,
    token_id: i64,
    user_name: String,
}

const BANK: &str = "TEST_BANK";

/// Makes sure `TEST_BANK` and its entry exist (an earlier request may have
/// deleted them) and, for token routes, creates a token to revoke; for
/// user routes, a user to disable.
async fn fixture(s: &Server, path: &str) -> Fixture {
    let actor = Actor::local("test");
    let bank = match s.store.bank(BANK).await.unwrap() {
        Some(b) => b,
        None => s
            .store
            .create_bank(&NewBank::named(BANK), &actor)
            .await
            .unwrap(),
    };
    let mut entry = NewEntry::from_signal(Signal::parse(SignalType::Pdq, BRIDGE).unwrap());
    entry.external_id = Some("fixture".to_owned());
    let (entry, _) = s.store.add_entry(&bank, &entry, &actor).await.unwrap();
    let token_id = if path.contains("/tokens/") {
        s.store
            .create_token("victim", Role::Platform, None, &actor)
            .await
            .unwrap()
            .0
            .id
    } else {
        0
    };
    let user_name = if path.contains("/users/") {
        static USERS: AtomicU64 = AtomicU64::new(0);
        let name = format!("victim-{}", USERS.fetch_add(1, Ordering::Relaxed));
        s.store
            .create_user(&NewUser::new(name.as_str(), Role::Reviewer), &actor)
            .await
            .unwrap();
        name
    } else {
        String::new()
    };
    Fixture {
        entry_id: entry.id,
        token_id,
        user_name,
    }
}

fn concrete(path: &str, f: &Fixture) -> String {
    let id = if path.contains("/tokens/") {
        f.token_id
    } else {
        f.entry_id
    };
    let name = if path.contains("/users/") {
        &f.user_name
    } else {
        BANK
    };
    path.replace("{name}", name)
        .replace("{id}", &id.to_string())
}

async fn request(s: &Server, method: &Method, path: &str, auth: Option<&str>) -> Reply {
    let mut rb = s.client.request(method.clone(), s.url(path));
    if let Some(a) = auth {
        rb = rb.header(header::AUTHORIZATION, a);
    }
    if ![Method::GET, Method::DELETE].contains(method) {
        rb = rb
            .header(header::CONTENT_TYPE, "application/json")
            .body("{}");
    }
    call(rb).await
}

fn is_401(r: &Reply) -> bool {
    r.status == StatusCode::UNAUTHORIZED
        && r.header("www-authenticate") == Some("Bearer")
        && r.is_message()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_checks_the_token_and_the_role() {
    let s = Server::start(ServerConfig::default()).await;
    let specs = route_specs();
    assert!(specs.len() >= 40, "only {} routes", specs.len());
    let mut failures = Vec::new();
    for spec in &specs {
        let public = spec.roles.is_empty();
        let f = fixture(&s, spec.path).await;
        let path = concrete(spec.path, &f);
        let r = request(&s, &spec.method, &path, None).await;
        let what = format!("{} {}", spec.method, spec.path);
        if public {
            if matches!(r.status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) {
                failures.push(format!(
                    "{what} is public but answered {} without a token",
                    r.status
                ));
            }
        } else if !is_401(&r) {
            failures.push(format!(
                "{what} without a token: expected 401 with WWW-Authenticate: Bearer and {{\"message\"}}, got {} {:?} {}",
                r.status,
                r.header("www-authenticate"),
                r.text
            ));
        }
        for role in Role::ALL {
            let f = fixture(&s, spec.path).await;
            let path = concrete(spec.path, &f);
            let auth = format!("Bearer {}", s.secret(role));
            let r = request(&s, &spec.method, &path, Some(&auth)).await;
            let allowed = public || spec.roles.contains(&role);
            if allowed {
                if matches!(r.status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN)
                    || r.status.is_server_error()
                {
                    failures.push(format!(
                        "{what} as {role} (allowed): got {} {}",
                        r.status, r.text
                    ));
                }
            } else if r.status != StatusCode::FORBIDDEN || !r.is_message() {
                failures.push(format!(
                    "{what} as {role} (not allowed): expected 403 {{\"message\"}}, got {} {}",
                    r.status, r.text
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_route_table_keeps_the_invariants() {
    let specs = route_specs();
    let mut seen = std::collections::HashSet::new();
    for spec in &specs {
        assert!(
            seen.insert((spec.method.clone(), spec.path)),
            "{} {} is declared twice",
            spec.method,
            spec.path
        );
        // Every mutating request is authenticated.
        if spec.method != Method::GET {
            assert!(
                !spec.roles.is_empty(),
                "{} {} needs no token",
                spec.method,
                spec.path
            );
        }
        // Auditors only read.
        if spec.roles.contains(&Role::Auditor) {
            assert_eq!(
                spec.method,
                Method::GET,
                "auditors may {} {}",
                spec.method,
                spec.path
            );
        }
        // Token and user management is for administrators only.
        if spec.path.starts_with("/api/v1/tokens") || spec.path.starts_with("/api/v1/users") {
            assert_eq!(
                spec.roles,
                ronda_server::ADMIN,
                "{} {}",
                spec.method,
                spec.path
            );
        }
    }
    // Only health, metrics and the OpenAPI document are public.
    let mut public: Vec<&str> = specs
        .iter()
        .filter(|s| s.roles.is_empty())
        .map(|s| s.path)
        .collect();
    public.sort_unstable();
    assert_eq!(
        public,
        [
            "/api/v1/openapi.json",
            "/metrics",
            "/status",
            "/status/live"
        ]
    );
    // The HMA routes of PRODUCT.md are all there.
    for (method, path) in [
        (Method::GET, "/h/hash"),
        (Method::POST, "/h/hash"),
        (Method::GET, "/m/raw_lookup"),
        (Method::GET, "/m/lookup"),
        (Method::POST, "/m/lookup"),
        (Method::POST, "/m/compare"),
        (Method::GET, "/m/index/status"),
        (Method::GET, "/c/banks"),
        (Method::POST, "/c/banks"),
        (Method::GET, "/c/bank/{name}"),
        (Method::PUT, "/c/bank/{name}"),
        (Method::DELETE, "/c/bank/{name}"),
        (Method::POST, "/c/bank/{name}/content"),
        (Method::POST, "/c/bank/{name}/signal"),
        (Method::GET, "/c/bank/{name}/content/{id}"),
        (Method::PUT, "/c/bank/{name}/content/{id}"),
        (Method::DELETE, "/c/bank/{name}/content/{id}"),
        (Method::GET, "/status"),
        (Method::GET, "/status/live"),
    ] {
        assert!(
            specs.iter().any(|s| s.method == method && s.path == path),
            "{method} {path} is missing"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_credentials_are_401() {
    let s = Server::start(ServerConfig::default()).await;
    let zeros = format!("Bearer ronda_{}", "0".repeat(64));
    let basic = "Basic dXNlcjpwYXNzd29yZA==";
    for auth in [
        None,
        Some(zeros.as_str()),
        Some("Bearer not-a-token"),
        Some("Bearer "),
        Some("Bearer"),
        Some(basic),
        Some(""),
    ] {
        for (method, path) in [(Method::GET, "/c/banks"), (Method::POST, "/c/banks")] {
            let r = request(&s, &method, path, auth).await;
            assert!(
                is_401(&r),
                "{method} {path} with {auth:?}: {} {:?} {}",
                r.status,
                r.headers,
                r.text
            );
        }
    }
    // The scheme is case-insensitive (RFC 7235).
    let lower = format!("bearer {}", s.secret(Role::Auditor));
    let r = request(&s, &Method::GET, "/c/banks", Some(&lower)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_token_is_refused() {
    let s = Server::start(ServerConfig::default()).await;
    let actor = Actor::local("test");
    // Revoked before it was ever used: refused at once.
    let (info, secret) = s
        .store
        .create_token("short-lived", Role::Admin, None, &actor)
        .await
        .unwrap();
    s.store.revoke_token(info.id, &actor).await.unwrap();
    let auth = format!("Bearer {secret}");
    let r = request(&s, &Method::GET, "/c/banks", Some(&auth)).await;
    assert!(is_401(&r), "{} {}", r.status, r.text);

    // Revoked after use: refused once the 2 s cache has expired.
    let (info, secret) = s
        .store
        .create_token("in-use", Role::Admin, None, &actor)
        .await
        .unwrap();
    let auth = format!("Bearer {secret}");
    let r = request(&s, &Method::GET, "/c/banks", Some(&auth)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    s.store.revoke_token(info.id, &actor).await.unwrap();
    let took = eventually!(Duration::from_millis(3500), {
        is_401(&request(&s, &Method::GET, "/c/banks", Some(&auth)).await)
    });
    assert!(took.is_some(), "a revoked token still works after 3.5 s");

    // Revoked through the API after use: refused at once by this node.
    let (info, secret) = s
        .store
        .create_token("api-revoked", Role::Analyst, None, &actor)
        .await
        .unwrap();
    let auth = format!("Bearer {secret}");
    let r = request(&s, &Method::GET, "/c/banks", Some(&auth)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = s
        .delete(&format!("/api/v1/tokens/{}", info.id), Some(Role::Admin))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let r = request(&s, &Method::GET, "/c/banks", Some(&auth)).await;
    assert!(is_401(&r), "{} {}", r.status, r.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_routes_need_no_token() {
    let s = Server::start(ServerConfig::default()).await;
    for path in [
        "/status",
        "/status/live",
        "/metrics",
        "/api/v1/openapi.json",
    ] {
        let r = s.get(path, None).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whoami_names_the_caller() {
    let s = Server::start(ServerConfig::default()).await;
    for role in Role::ALL {
        let r = s.get("/api/v1/whoami", Some(role)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let v = r.json();
        assert_eq!(v["role"], role.as_str());
        assert_eq!(v["token_id"], s.token_id(role));
        assert!(!r.text.contains(s.secret(role)), "whoami shows the secret");
    }
}
