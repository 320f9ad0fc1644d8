//! The web UI over HTTP: login and logout, the session cookie's flags,
//! CSRF refusals, roles and organisations on every page, escaping of what
//! users typed, and the headers of pages and captured media.

use std::collections::HashMap;

use axum::http::{Method, StatusCode, header};
use ronda_server::ServerConfig;
use ronda_store::{Actor, NewUser, Role, WellnessPrefs};

use crate::support::{Reply, Server, call};

pub const PASSWORD: &str = "correct horse battery staple";

/// A server whose captures are archived, and the directory holding them.
pub async fn start() -> (Server, tempfile::TempDir) {
    let blobs = tempfile::tempdir().unwrap();
    let config = ServerConfig {
        blob_dir: Some(blobs.path().to_path_buf()),
        ..ServerConfig::default()
    };
    (Server::start(config).await, blobs)
}

/// Creates a user with [`PASSWORD`], in organisation `org` (created if
/// new) when given.
pub async fn person(s: &Server, name: &str, role: Role, org: Option<&str>) -> i64 {
    let actor = Actor::local("test");
    let mut user = NewUser::new(name, role);
    if let Some(org) = org {
        let o = match s.store.organisation_by_name(org).await.unwrap() {
            Some(o) => o,
            None => s.store.create_organisation(org, &actor).await.unwrap(),
        };
        user.org_id = Some(o.id);
    }
    let u = s.store.create_user(&user, &actor).await.unwrap();
    s.store.set_password(name, PASSWORD, &actor).await.unwrap();
    u.id
}

/// A generated picture (a gradient with a few bars), as PNG.
pub fn png(seed: u8) -> Vec<u8> {
    let img = image::RgbImage::from_fn(96, 64, |x, y| {
        let bar = if (x / 12 + u32::from(seed)) % 3 == 0 {
            200
        } else {
            30
        };
        image::Rgb([(x * 2) as u8 ^ seed, (y * 3) as u8, bar])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// A person's browser, as far as HTTP goes: cookies kept, redirects not
/// followed (so that tests see them).
pub struct Browser<'a> {
    pub s: &'a Server,
    client: reqwest::Client,
    pub cookies: HashMap<String, String>,
}

/// The value of the hidden `csrf` field in a page.
pub fn csrf_of(html: &str) -> String {
    let at = html
        .find("name=\"csrf\" value=\"")
        .unwrap_or_else(|| panic!("no csrf field in {html}"));
    let rest = &html[at + "name=\"csrf\" value=\"".len()..];
    rest[..rest.find('"').unwrap()].to_owned()
}

impl<'a> Browser<'a> {
    pub fn new(s: &'a Server) -> Browser<'a> {
        let client = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Browser {
            s,
            client,
            cookies: HashMap::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub async fn send(&mut self, rb: reqwest::RequestBuilder) -> Reply {
        let rb = if self.cookies.is_empty() {
            rb
        } else {
            rb.header(header::COOKIE, self.cookie_header())
        };
        let r = call(rb).await;
        for v in r.headers.get_all(header::SET_COOKIE) {
            let v = v.to_str().unwrap();
            let (pair, attrs) = v.split_once(';').unwrap_or((v, ""));
            let (k, val) = pair.split_once('=').unwrap();
            if attrs.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_owned(), val.to_owned());
            }
        }
        r
    }

    pub async fn get(&mut self, path: &str) -> Reply {
        let rb = self.client.get(self.s.url(path));
        self.send(rb).await
    }

    pub async fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> Reply {
        let rb = self
            .client
            .request(Method::POST, self.s.url(path))
            .form(fields);
        self.send(rb).await
    }

    pub async fn post_multipart(
        &mut self,
        path: &str,
        parts: &[crate::support::Part<'_>],
    ) -> Reply {
        let (content_type, body) = crate::support::multipart(parts);
        let rb = self
            .client
            .post(self.s.url(path))
            .header(header::CONTENT_TYPE, content_type)
            .body(body);
        self.send(rb).await
    }

    /// Logs in through the form; panics unless it worked.
    pub async fn login(&mut self, name: &str) {
        let r = self.try_login(name, PASSWORD).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
        assert!(self.cookies.contains_key("ronda_session"));
    }

    pub async fn try_login(&mut self, name: &str, password: &str) -> Reply {
        let form = self.get("/ui/login").await;
        assert_eq!(form.status, StatusCode::OK, "{}", form.text);
        let token = csrf_of(&form.text);
        self.post_form(
            "/ui/login",
            &[("csrf", &token), ("name", name), ("password", password)],
        )
        .await
    }

    /// The CSRF token of the session (read from a page's logout form).
    pub async fn csrf(&mut self) -> String {
        let r = self.get("/ui/preferences").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        csrf_of(&r.text)
    }

    /// Submits an item with its captured file through the web form (no
    /// fetch: the tests reach no other host); returns its id.
    pub async fn submit(&mut self, url: &str, note: &str, file: &[u8]) -> i64 {
        let token = self.csrf().await;
        let parts: Vec<crate::support::Part<'_>> = vec![
            ("csrf", None, token.as_bytes()),
            ("url", None, url.as_bytes()),
            ("campaign", None, b""),
            ("note", None, note.as_bytes()),
            ("file", Some("capture.png"), file),
        ];
        let r = self.post_multipart("/ui/items", &parts).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
        let to = r.header("location").unwrap();
        to.trim_start_matches("/ui/items/")
            .split('?')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_sets_a_strict_cookie_and_logout_ends_the_session() {
    let (s, _blobs) = start().await;
    person(&s, "alice", Role::Analyst, Some("Org A")).await;
    let mut b = Browser::new(&s);

    let root = b.get("/").await;
    assert!(root.status.is_redirection());
    assert_eq!(root.header("location"), Some("/ui/"));
    let r = b.get("/ui/items?q=x").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        r.header("location"),
        Some("/ui/login?next=%2Fui%2Fitems%3Fq%3Dx")
    );

    // A wrong password: refused, no session, the password not echoed.
    let r = b.try_login("alice", "not the password at all").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.text.contains("Wrong user name or password"));
    assert!(!r.text.contains("not the password at all"));
    assert!(!b.cookies.contains_key("ronda_session"));
    // An unknown user reads the same.
    let r = b.try_login("mallory", PASSWORD).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.text.contains("Wrong user name or password"));

    // The login form wants its own token (login CSRF).
    let mut other = Browser::new(&s);
    let r = other
        .post_form(
            "/ui/login",
            &[("csrf", "x"), ("name", "alice"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert!(!other.cookies.contains_key("ronda_session"));

    let r = b.try_login("alice", PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    assert_eq!(r.header("location"), Some("/ui/"));
    let cookie = r
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with("ronda_session="))
        .unwrap();
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/;"] {
        assert!(cookie.contains(flag), "{flag} missing from {cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain HTTP: {cookie}");

    let page = b.get("/ui/").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains("Dashboard") && page.text.contains("alice"));
    let csp = page.header("content-security-policy").unwrap();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(page.header("x-frame-options"), Some("DENY"));
    assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(page.header("cache-control"), Some("no-store"));
    assert!(
        page.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );

    // Logout needs the token too; then the old cookie opens nothing.
    let old = b.cookies["ronda_session"].clone();
    let r = b.post_form("/ui/logout", &[("csrf", "wrong")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let token = b.csrf().await;
    let r = b.post_form("/ui/logout", &[("csrf", &token)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.header("location"), Some("/ui/login"));
    assert!(
        !b.cookies.contains_key("ronda_session"),
        "the cookie is cleared"
    );
    b.cookies.insert("ronda_session".into(), old);
    let r = b.get("/ui/").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(r.header("location").unwrap().starts_with("/ui/login"));

    // Behind a TLS proxy the cookie is Secure.
    let mut tls = Browser::new(&s);
    let form = tls.get("/ui/login").await;
    let token = csrf_of(&form.text);
    let rb = tls
        .client
        .post(s.url("/ui/login"))
        .header("x-forwarded-proto", "https")
        .form(&[
            ("csrf", token.as_str()),
            ("name", "alice"),
            ("password", PASSWORD),
        ]);
    let r = tls.send(rb).await;
    let cookie = r.header("set-cookie").unwrap();
    assert!(cookie.contains("; Secure"), "{cookie}");

    // The API is unchanged: unknown paths answer its JSON 404.
    let r = s.get("/api/v1/nope", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.is_message(), "{}", r.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_wrong_passwords_lock_the_login() {
    let (s, _blobs) = start().await;
    person(&s, "bob", Role::Reviewer, None).await;
    let mut b = Browser::new(&s);
    for _ in 0..ronda_store::MAX_FAILED_LOGINS {
        let r = b.try_login("bob", "wrong wrong wrong").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    let r = b.try_login("bob", PASSWORD).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text);
    assert!(r.text.contains("locked until"));
    assert!(!b.cookies.contains_key("ronda_session"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_without_the_session_token_are_refused() {
    let (s, _blobs) = start().await;
    person(&s, "admin", Role::Admin, None).await;
    person(&s, "carol", Role::Analyst, Some("Org A")).await;
    let mut admin = Browser::new(&s);
    admin.login("admin").await;
    let mut carol = Browser::new(&s);
    carol.login("carol").await;
    let carol_token = carol.csrf().await;
    let admin_token = admin.csrf().await;
    assert_ne!(carol_token, admin_token, "one token per session");

    // Every URL-encoded POST page refuses a form without the token, with
    // another session's, or with a wrong one, before its handler runs.
    for (method, path, _) in ronda_server::ui::page_specs() {
        if method != Method::POST || path == "/ui/items" {
            continue;
        }
        let path = path.replace("{name}", "nowhere");
        for token in [None, Some("0".repeat(64)), Some(carol_token.clone())] {
            let mut fields = vec![("blur_media", "on")];
            if let Some(t) = &token {
                fields.push(("csrf", t));
            }
            let r = admin.post_form(&path, &fields).await;
            assert_eq!(
                r.status,
                StatusCode::FORBIDDEN,
                "{path} with {token:?}: {}",
                r.text
            );
            assert!(r.text.contains("security token"), "{}", r.text);
        }
    }
    // The right token goes through.
    let r = admin
        .post_form(
            "/ui/preferences",
            &[("csrf", &admin_token), ("greyscale", "on")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let admin_id = s.store.user("admin").await.unwrap().unwrap().id;
    let prefs = s.store.preferences(admin_id).await.unwrap();
    assert_eq!(
        prefs,
        WellnessPrefs {
            blur_media: false,
            greyscale: true,
            mute_video: false,
            pause_video: false,
        }
    );

    // The upload form: no token, or a wrong one, and nothing is recorded.
    let png = png(1);
    for token in [None, Some(admin_token.as_str())] {
        let mut parts: Vec<crate::support::Part<'_>> = Vec::new();
        if let Some(t) = token {
            parts.push(("csrf", None, t.as_bytes()));
        }
        parts.push(("url", None, b"https://video.example/watch/1"));
        parts.push(("file", Some("x.png"), &png));
        let r = carol.post_multipart("/ui/items", &parts).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    }
    let items = s
        .store
        .list_items(&Default::default(), ronda_store::ItemViewer::Everyone)
        .await
        .unwrap();
    assert!(items.is_empty(), "a forged form recorded {items:?}");
    // A JSON body is not a form.
    let rb = carol
        .client
        .post(s.url("/ui/preferences"))
        .json(&serde_json::json!({ "csrf": carol_token }));
    let r = carol.send(rb).await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_follow_roles_and_organisations() {
    let (s, _blobs) = start().await;
    for (name, role, org) in [
        ("admin", Role::Admin, None),
        ("ann", Role::Analyst, Some("Org A")),
        ("ben", Role::Analyst, Some("Org B")),
        ("rita", Role::Reviewer, Some("Org A")),
        ("pat", Role::Platform, Some("Video Inc")),
        ("audrey", Role::Auditor, None),
    ] {
        person(&s, name, role, org).await;
    }
    s.store
        .create_platform(
            &ronda_store::PlatformSpec::new("Video", ronda_store::PlatformKind::Video),
            &Actor::local("test"),
        )
        .await
        .unwrap();
    let mut ann = Browser::new(&s);
    ann.login("ann").await;
    let a_item = ann
        .submit(
            "https://video.example/watch/a",
            "ann's private note",
            &png(4),
        )
        .await;
    let mut ben = Browser::new(&s);
    ben.login("ben").await;
    ben.submit("https://files.example/b", "ben's note", &png(2))
        .await;

    // Every page, with every role: 403 exactly for roles it does not list.
    let people = [
        (Role::Admin, "admin"),
        (Role::Analyst, "ann"),
        (Role::Reviewer, "rita"),
        (Role::Platform, "pat"),
        (Role::Auditor, "audrey"),
    ];
    for (role, name) in people {
        let mut b = Browser::new(&s);
        b.login(name).await;
        for (method, path, roles) in ronda_server::ui::page_specs() {
            if method != Method::GET {
                continue;
            }
            let path = path
                .replace("{id}", &a_item.to_string())
                .replace("{name}", "Video");
            let r = b.get(&path).await;
            if roles.contains(&role) {
                assert_ne!(r.status, StatusCode::FORBIDDEN, "{role} {path}: {}", r.text);
                assert_ne!(r.status, StatusCode::SEE_OTHER, "{role} {path}");
            } else {
                assert_eq!(r.status, StatusCode::FORBIDDEN, "{role} {path}: {}", r.text);
            }
        }
        // The navigation offers only what the role may open.
        let home = b.get("/ui/").await;
        assert_eq!(
            home.text.contains("href=\"/ui/items/new\""),
            [Role::Admin, Role::Analyst].contains(&role),
            "{role}"
        );
        assert_eq!(
            home.text.contains("href=\"/ui/items\""),
            role != Role::Platform,
            "{role}"
        );
    }

    // Organisations: ben sees neither ann's item nor its note; the auditor
    // and the administrator see both, and never change anything.
    let r = ben.get(&format!("/ui/items/{a_item}")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = ben.get(&format!("/ui/items/{a_item}/media")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let list = ben.get("/ui/items").await;
    assert!(list.text.contains("files.example/b"));
    assert!(!list.text.contains("video.example/watch/a"));
    let r = ann.get(&format!("/ui/items/{a_item}")).await;
    assert!(r.text.contains("ann&#39;s private note") || r.text.contains("ann's private note"));
    let mut audrey = Browser::new(&s);
    audrey.login("audrey").await;
    let r = audrey.get(&format!("/ui/items/{a_item}")).await;
    assert_eq!(r.status, StatusCode::OK);
    let list = audrey.get("/ui/items").await;
    assert!(list.text.contains("files.example/b") && list.text.contains("video.example/watch/a"));
    let token = audrey.csrf().await;
    let r = audrey
        .post_form(
            "/ui/platforms/Video",
            &[("csrf", &token), ("kind", "social"), ("channel", "manual")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // An analyst edits a platform through the form.
    let token = ann.csrf().await;
    let r = ann
        .post_form(
            "/ui/platforms/Video",
            &[
                ("csrf", &token),
                ("kind", "video"),
                ("domains", "video.example\nvids.example"),
                ("channel", "email"),
                ("target", "abuse@video.example"),
                ("status_codes", "404, 410"),
                ("language", "de"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let p = s.store.platform("Video").await.unwrap().unwrap();
    assert_eq!(p.spec.domains, ["video.example", "vids.example"]);
    assert_eq!(p.spec.removal.status_codes, [404, 410]);
    assert_eq!(
        p.spec.channel.target.as_deref(),
        Some("abuse@video.example")
    );
    let r = ann.get("/ui/platforms/Video").await;
    assert!(r.text.contains("abuse@video.example"));

    // Search and filters.
    let r = audrey.get("/ui/items?q=FILES.example").await;
    assert!(r.text.contains("files.example/b") && !r.text.contains("video.example/watch/a"));
    let r = audrey.get("/ui/items?org=Org+A").await;
    assert!(!r.text.contains("files.example/b") && r.text.contains("video.example/watch/a"));
    let r = audrey.get("/ui/items?platform=Nowhere").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let home = audrey.get("/ui/").await;
    assert!(home.text.contains("id=\"count-items\">2<"), "{}", home.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_users_type_comes_out_escaped() {
    let (s, _blobs) = start().await;
    person(&s, "dan", Role::Analyst, Some("Org <i>D</i>")).await;
    let mut b = Browser::new(&s);
    b.login("dan").await;
    let note = "<script>alert('x')</script> & \"quotes\"";
    let id = b
        .submit("https://forum.example/t?a=<b>x</b>", note, &png(5))
        .await;
    let r = b.get(&format!("/ui/items/{id}")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(!r.text.contains("<script>alert"), "{}", r.text);
    assert!(r.text.contains("&lt;script&gt;alert"), "{}", r.text);
    assert!(!r.text.contains("<b>x</b>") && !r.text.contains("<i>D</i>"));
    assert!(r.text.contains("&lt;i&gt;D&lt;/i&gt;"));
    let list = b.get("/ui/items").await;
    assert!(!list.text.contains("<b>x</b>"));
    // A page that names a missing record escapes the name.
    let r = b.get("/ui/platforms/%3Cscript%3Ex").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(!r.text.contains("<script>x") && r.text.contains("&lt;script&gt;x"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn captured_media_is_blurred_and_served_with_safe_headers() {
    let (s, _blobs) = start().await;
    person(&s, "eve", Role::Analyst, Some("Org E")).await;
    person(&s, "fay", Role::Analyst, Some("Org F")).await;
    let mut b = Browser::new(&s);
    b.login("eve").await;
    let picture = png(3);
    let id = b.submit("https://images.example/p/1", "", &picture).await;
    let page = b.get(&format!("/ui/items/{id}?submitted=true")).await;
    assert!(page.text.contains("Submitted."));
    assert!(
        page.text.contains("class=\"media blur grey\""),
        "blurred and grey by default: {}",
        page.text
    );
    assert!(
        page.text
            .contains(&format!("href=\"/ui/items/{id}?reveal=true\""))
    );
    let revealed = b.get(&format!("/ui/items/{id}?reveal=true")).await;
    assert!(
        revealed.text.contains("class=\"media grey\""),
        "{}",
        revealed.text
    );

    let media = b.get(&format!("/ui/items/{id}/media")).await;
    assert_eq!(media.status, StatusCode::OK);
    assert_eq!(media.header("content-type"), Some("image/png"));
    assert_eq!(media.header("content-disposition"), Some("inline"));
    assert_eq!(media.header("x-content-type-options"), Some("nosniff"));
    let csp = media.header("content-security-policy").unwrap();
    assert!(
        csp.starts_with("default-src 'none'") && csp.contains("sandbox"),
        "{csp}"
    );
    let rb = b.client.get(s.url(&format!("/ui/items/{id}/media")));
    let rb = rb.header(header::COOKIE, b.cookie_header());
    let bytes = rb.send().await.unwrap().bytes().await.unwrap();
    assert_eq!(bytes.as_ref(), picture.as_slice());

    // Without a session: the login page; another organisation: not found.
    let mut stranger = Browser::new(&s);
    let r = stranger.get(&format!("/ui/items/{id}/media")).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let mut fay = Browser::new(&s);
    fay.login("fay").await;
    let r = fay.get(&format!("/ui/items/{id}/media")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // Preferences change how it is shown, for this person only.
    let token = b.csrf().await;
    let r = b
        .post_form("/ui/preferences", &[("csrf", &token), ("mute_video", "on")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = b.get(&format!("/ui/items/{id}")).await;
    assert!(page.text.contains("class=\"media\""), "{}", page.text);
    let prefs = b.get("/ui/preferences").await;
    assert!(
        prefs
            .text
            .contains("name=\"mute_video\" value=\"on\" checked")
    );
    assert!(
        !prefs
            .text
            .contains("name=\"blur_media\" value=\"on\" checked")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn review_and_referral_pages_keep_organisations_apart() {
    let (s, _blobs) = start().await;
    person(&s, "ann", Role::Analyst, Some("Org A")).await;
    person(&s, "rita", Role::Reviewer, Some("Org A")).await;
    person(&s, "ben", Role::Analyst, Some("Org B")).await;
    let mut video = ronda_store::PlatformSpec::new("Video", ronda_store::PlatformKind::Video);
    video.domains = vec!["video.example".into()];
    s.store
        .create_platform(&video, &Actor::local("test"))
        .await
        .unwrap();
    let mut ann = Browser::new(&s);
    ann.login("ann").await;
    let id = ann
        .submit(
            "https://video.example/watch/r1",
            "<b>ann's note</b>",
            &png(5),
        )
        .await;
    let mut rita = Browser::new(&s);
    rita.login("rita").await;
    let mut ben = Browser::new(&s);
    ben.login("ben").await;
    let rita_token = rita.csrf().await;
    let ben_token = ben.csrf().await;

    // The queue: Org A's reviewer sees the item, Org B's analyst does not.
    let q = rita.get("/ui/review").await;
    assert_eq!(q.status, StatusCode::OK, "{}", q.text);
    assert!(q.text.contains("video.example/watch/r1"), "{}", q.text);
    assert!(q.text.contains("Reviewed today: <strong>0</strong>"));
    let q = ben.get("/ui/review").await;
    assert!(!q.text.contains("video.example/watch/r1"), "{}", q.text);

    // Org B can neither claim, open nor decide it.
    let r = ben
        .post_form("/ui/review/claim", &[("csrf", &ben_token)])
        .await;
    assert_eq!(r.header("location"), Some("/ui/review?empty=true"));
    let r = ben.get(&format!("/ui/review/{id}")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    let decide = format!("/ui/review/{id}/decide");
    let r = ben
        .post_form(
            &decide,
            &[("csrf", &ben_token), ("verdict", "not_terrorist_content")],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    let r = ben
        .post_form(&format!("/ui/review/{id}/release"), &[("csrf", &ben_token)])
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);

    // Org A's reviewer claims it and sees the note escaped.
    let r = rita
        .post_form("/ui/review/claim", &[("csrf", &rita_token)])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    assert_eq!(
        r.header("location"),
        Some(format!("/ui/review/{id}").as_str())
    );
    let page = rita.get(&format!("/ui/review/{id}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(
        page.text.contains("&lt;b&gt;ann's note&lt;/b&gt;"),
        "{}",
        page.text
    );
    assert!(!page.text.contains("<b>ann's note"));
    assert!(page.text.contains("data-key=\"t\""));
    assert!(
        page.text
            .contains(&format!("href=\"/ui/review/{id}?reveal=true\"")),
        "{}",
        page.text
    );
    assert!(
        page.text.contains("class=\"media blur grey\""),
        "{}",
        page.text
    );

    // A bad decision is refused and changes nothing; a good one counts.
    let r = rita
        .post_form(&decide, &[("csrf", &rita_token), ("verdict", "maybe")])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    let r = rita
        .post_form(
            &decide,
            &[
                ("csrf", &rita_token),
                ("verdict", "terrorist_content"),
                ("reason", "incites"),
                ("group", "<i>Group X</i>"),
                ("severity", "4"),
                ("notes", ""),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    assert_eq!(
        r.header("location"),
        Some(format!("/ui/review?decided={id}").as_str())
    );
    let q = rita.get("/ui/review").await;
    assert!(
        q.text.contains("Reviewed today: <strong>1</strong>"),
        "{}",
        q.text
    );

    // The item page offers the analyst (not the reviewer) a referral.
    let item = ann.get(&format!("/ui/items/{id}")).await;
    assert!(
        item.text.contains("action=\"/ui/referrals\""),
        "{}",
        item.text
    );
    let item = rita.get(&format!("/ui/items/{id}")).await;
    assert!(!item.text.contains("action=\"/ui/referrals\""));
    let r = rita
        .post_form(
            "/ui/referrals",
            &[("csrf", &rita_token), ("item_id", &id.to_string())],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let ann_token = ann.csrf().await;
    let r = ann
        .post_form(
            "/ui/referrals",
            &[("csrf", &ann_token), ("item_id", &id.to_string())],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let to = r.header("location").unwrap().to_owned();
    assert!(to.starts_with("/ui/referrals/"), "{to}");
    let rid: i64 = to.trim_start_matches("/ui/referrals/").parse().unwrap();
    // Org B's analyst cannot refer Org A's item either.
    let r = ben
        .post_form(
            "/ui/referrals",
            &[("csrf", &ben_token), ("item_id", &id.to_string())],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);

    let list = ann.get("/ui/referrals").await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    assert!(list.text.contains(&format!("href=\"/ui/referrals/{rid}\"")));
    let detail = ann.get(&to).await;
    assert!(detail.text.contains("id=\"mark-sent\""), "{}", detail.text);
    assert!(
        detail
            .text
            .contains("<dd id=\"referral-status\">draft</dd>"),
        "{}",
        detail.text
    );

    // Org B sees none of it.
    let list = ben.get("/ui/referrals").await;
    assert!(!list.text.contains(&format!("href=\"/ui/referrals/{rid}\"")));
    let r = ben.get(&to).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = ben
        .post_form(&format!("{to}/sent"), &[("csrf", &ben_token)])
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);

    // Marked sent by hand, then answered by hand (Annex II).
    let r = ann
        .post_form(&format!("{to}/sent"), &[("csrf", &ann_token)])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let detail = ann.get(&to).await;
    assert!(detail.text.contains("<dd id=\"referral-status\">sent</dd>"));
    let r = ann
        .post_form(
            &format!("{to}/responses"),
            &[
                ("csrf", &ann_token),
                ("kind", "annex_ii"),
                ("measure", "removed"),
                ("platform_file_ref", "<script>x</script>"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let detail = ann.get(&to).await;
    assert!(
        detail
            .text
            .contains("<dd id=\"referral-status\">removed</dd>")
    );
    assert!(detail.text.contains("&lt;script&gt;x&lt;/script&gt;"));
    assert!(!detail.text.contains("<script>x"));
    let list = ann.get("/ui/referrals?status=removed&kind=referral").await;
    assert!(list.text.contains(&format!("href=\"/ui/referrals/{rid}\"")));
    let r = ann.get("/ui/referrals?status=nonsense").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removal_orders_show_their_clock_and_overdue_ones_stand_out() {
    use ronda_store::{
        Authority, AuthorityType, Clock, ItemViewer, NewAssessment, NewReferral, ReferralKind,
        RemovalOrderSpec, TcoReason, Verdict,
    };
    let dir = tempfile::tempdir().unwrap();
    let blobs = tempfile::tempdir().unwrap();
    let start_ms = jiff::Timestamp::now().as_millisecond();
    let store = ronda_store::Store::open(None, dir.path())
        .await
        .unwrap()
        .with_clock(Clock::manual(start_ms));
    let tokens = crate::support::make_tokens(&store).await;
    let config = ServerConfig {
        blob_dir: Some(blobs.path().to_path_buf()),
        ..ServerConfig::default()
    };
    let s = Server::on_store(store, tokens, config, Some(dir)).await;
    person(&s, "ann", Role::Analyst, Some("Org A")).await;
    let mut video = ronda_store::PlatformSpec::new("Video", ronda_store::PlatformKind::Video);
    video.domains = vec!["video.example".into()];
    video.tco_contact = Some("tco@video.example".into());
    let test = Actor::local("test");
    s.store.create_platform(&video, &test).await.unwrap();
    let mut ann = Browser::new(&s);
    ann.login("ann").await;
    let id = ann
        .submit("https://video.example/watch/o1", "", &png(6))
        .await;
    let mut decision = NewAssessment::new(Verdict::TerroristContent);
    decision.reason = Some(TcoReason::Incites);
    s.store
        .decide_review(id, &decision, ItemViewer::Everyone, &test)
        .await
        .unwrap();
    let order = RemovalOrderSpec {
        issuing_state: "BE".into(),
        authority: Authority {
            kind: AuthorityType::LawEnforcement,
            name: "Example Police".into(),
            representative: "Inspector Example".into(),
            file_number: "EP-1".into(),
            contact: "tco@police.example".into(),
        },
        addressee: None,
        addressee_contact: None,
        issued_at: start_ms,
        reference_number: "RO-1".into(),
        urls: Vec::new(),
        identifiers: Vec::new(),
        reasons: vec![TcoReason::Incites],
        grounds: "It incites to commit terrorist offences.".into(),
        non_disclosure: false,
        non_disclosure_until: None,
        cross_border: false,
        host_member_state: None,
        redress: "Court of first instance, within two months.".into(),
    };
    let made = s
        .store
        .create_referrals(
            &NewReferral {
                item_id: id,
                platform_id: None,
                kind: ReferralKind::RemovalOrder,
                order: Some(order),
                emergency: false,
                queue: false,
            },
            ItemViewer::Everyone,
            &test,
        )
        .await
        .unwrap();
    let rid = made[0].id;
    let token = ann.csrf().await;
    let r = ann
        .post_form(&format!("/ui/referrals/{rid}/sent"), &[("csrf", &token)])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);

    // Received now: the first order to this host comes with 12 hours'
    // notice, then an hour to act; counted down, not highlighted.
    let list = ann.get("/ui/referrals?kind=removal_order").await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    assert!(
        list.text.contains("<h1>Removal orders</h1>"),
        "{}",
        list.text
    );
    assert!(list.text.contains("13 h 00 min left"), "{}", list.text);
    assert!(list.text.contains("class=\"clock\" data-deadline="));
    assert!(!list.text.contains("class=\"overdue\""));

    // Past the deadline (a new session: the old one has expired).
    s.store.clock().advance((13 * 60 + 5) * 60_000);
    let mut ann = Browser::new(&s);
    ann.login("ann").await;
    let list = ann.get("/ui/referrals?kind=removal_order").await;
    assert!(list.text.contains("class=\"overdue\""), "{}", list.text);
    assert!(list.text.contains("5 min 00 s overdue"), "{}", list.text);
    let detail = ann.get(&format!("/ui/referrals/{rid}")).await;
    assert!(
        detail.text.contains("5 min 00 s overdue"),
        "{}",
        detail.text
    );
    // Voluntary referrals only: the order is not there.
    let list = ann.get("/ui/referrals?kind=referral").await;
    assert!(!list.text.contains(&format!("href=\"/ui/referrals/{rid}\"")));
}
