//! Integration tests: a real client against loopback servers. No test
//! reaches beyond loopback; refused addresses are refused before any
//! connection is attempted.

mod server;

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use ronda_fetch::{BlockReason, Embedding, FetchError, FetchPolicy, Fetcher};
use server::TestServer;

const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

fn loopback_allowed() -> FetchPolicy {
    FetchPolicy::default().allow(Ipv4Addr::LOCALHOST)
}

fn fetcher(policy: FetchPolicy) -> Fetcher {
    Fetcher::new(policy).expect("client builds")
}

#[track_caller]
fn assert_blocked(
    result: Result<ronda_fetch::Fetched, FetchError>,
    want_addr: IpAddr,
) -> BlockReason {
    match result {
        Err(FetchError::Blocked { addr, reason, .. }) => {
            assert_eq!(addr, want_addr);
            reason
        }
        other => panic!("expected Blocked({want_addr}), got {other:?}"),
    }
}

#[tokio::test]
async fn plain_fetch_with_loopback_allowed() {
    let srv = TestServer::start().await;
    let got = fetcher(loopback_allowed())
        .get(&srv.url("/ok"))
        .await
        .expect("fetch succeeds");
    assert_eq!(got.status, 200);
    assert!(got.is_success());
    assert_eq!(&got.body[..], b"hello");
    assert_eq!(
        got.content_type.as_deref(),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(got.final_url.as_str(), srv.url("/ok"));
    assert!(got.redirects.is_empty());
    assert_eq!(got.remote_addr, Some(srv.addr));
    assert_eq!(
        got.headers.get("content-length").map(|v| v.as_bytes()),
        Some(&b"5"[..])
    );
    // Debug shows the size, never the bytes.
    let debug = format!("{got:?}");
    assert!(
        debug.contains("body_len: 5") && !debug.contains("hello"),
        "{debug}"
    );
}

#[tokio::test]
async fn loopback_refused_by_default() {
    let srv = TestServer::start().await;
    let url = srv.url("/ok");
    let err = fetcher(FetchPolicy::default()).get(&url).await;
    let reason = assert_blocked(err, LOCALHOST);
    assert_eq!(reason, BlockReason::Loopback);

    let err = fetcher(FetchPolicy::default())
        .get(&url)
        .await
        .expect_err("refused");
    assert!(err.is_refused());
    let msg = err.to_string();
    assert!(msg.contains(&url) && msg.contains("loopback"), "{msg}");
}

#[tokio::test]
async fn post_sends_headers_and_body_under_the_same_checks() {
    use ronda_fetch::header::{HeaderMap, HeaderName, HeaderValue};
    let srv = TestServer::start().await;
    let mut headers = HeaderMap::new();
    headers.insert(
        HeaderName::from_static("idempotency-key"),
        HeaderValue::from_static("k-1"),
    );
    let got = fetcher(loopback_allowed())
        .post(
            &srv.url("/echo-post"),
            headers.clone(),
            b"{\"a\":1}".to_vec(),
        )
        .await
        .expect("post succeeds");
    assert_eq!(got.status, 202);
    assert_eq!(&got.body[..], b"k-1:{\"a\":1}");
    // A redirect is the answer, not followed.
    let got = fetcher(loopback_allowed())
        .post(&srv.redirect_to("/ok"), HeaderMap::new(), Vec::new())
        .await
        .expect("a redirect is a result");
    assert_eq!(got.status, 302);
    assert!(got.redirects.is_empty());
    // Loopback is refused by default, as for GET.
    let err = fetcher(FetchPolicy::default())
        .post(&srv.url("/echo-post"), headers, Vec::new())
        .await
        .expect_err("refused");
    assert!(err.is_refused());
}

#[tokio::test]
async fn non_success_status_is_a_result() {
    let srv = TestServer::start().await;
    let got = fetcher(loopback_allowed())
        .get(&srv.url("/missing"))
        .await
        .expect("a 404 is still a response");
    assert_eq!(got.status, 404);
    assert!(!got.is_success());
    assert_eq!(&got.body[..], b"gone");
}

#[tokio::test]
async fn user_agent_is_sent() {
    let srv = TestServer::start().await;
    let got = fetcher(loopback_allowed())
        .get(&srv.url("/echo-ua"))
        .await
        .expect("fetch succeeds");
    assert_eq!(&got.body[..], ronda_fetch::DEFAULT_USER_AGENT.as_bytes());

    let mut policy = loopback_allowed();
    policy.user_agent = "ronda-test/1".to_owned();
    let got = fetcher(policy)
        .get(&srv.url("/echo-ua"))
        .await
        .expect("fetch succeeds");
    assert_eq!(&got.body[..], b"ronda-test/1");
}

#[tokio::test]
async fn redirect_is_followed_and_reported() {
    let srv = TestServer::start().await;
    let start = srv.redirect_to("/ok");
    let got = fetcher(loopback_allowed())
        .get(&start)
        .await
        .expect("fetch succeeds");
    assert_eq!(got.status, 200);
    assert_eq!(&got.body[..], b"hello");
    assert_eq!(got.final_url.as_str(), srv.url("/ok"));
    assert_eq!(got.redirects.len(), 1);
    assert_eq!(got.redirects[0].as_str(), start);
}

#[tokio::test]
async fn redirect_to_a_blocked_address_is_refused() {
    let srv = TestServer::start().await;
    let f = fetcher(loopback_allowed());

    // Another loopback address, not on the allow-list (and listening nowhere).
    let target = format!("http://127.0.0.2:{}/ok", srv.port());
    let err = f.get(&srv.redirect_to(&target)).await;
    let reason = assert_blocked(err, "127.0.0.2".parse().expect("valid"));
    assert_eq!(reason, BlockReason::Loopback);

    // The cloud metadata service.
    let err = f
        .get(&srv.redirect_to("http://169.254.169.254/latest/meta-data/"))
        .await;
    let reason = assert_blocked(err, "169.254.169.254".parse().expect("valid"));
    assert_eq!(reason, BlockReason::LinkLocal);

    // The error names the hop that was refused, not the first URL.
    let err = f
        .get(&srv.redirect_to("http://10.1.2.3/"))
        .await
        .expect_err("refused");
    assert!(err.to_string().contains("http://10.1.2.3/"), "{err}");

    // A private address by a numeric trick, through a redirect.
    let err = f.get(&srv.redirect_to("http://0xa000001/")).await;
    assert_blocked(err, "10.0.0.1".parse().expect("valid"));
}

#[tokio::test]
async fn redirect_to_another_scheme_is_refused() {
    let srv = TestServer::start().await;
    let f = fetcher(loopback_allowed());
    for target in [
        "file:///etc/passwd",
        "ftp://127.0.0.1/x",
        "gopher://127.0.0.1:6379/_INFO",
    ] {
        let err = f.get(&srv.redirect_to(target)).await;
        assert!(
            matches!(err, Err(FetchError::BadScheme { .. })),
            "{target}: {err:?}"
        );
    }
}

#[tokio::test]
async fn redirect_loop_is_capped() {
    let srv = TestServer::start().await;
    let err = fetcher(loopback_allowed())
        .get(&srv.url("/loop"))
        .await
        .expect_err("loop must end");
    match &err {
        FetchError::TooManyRedirects { url, limit } => {
            assert_eq!(*limit, 5);
            assert_eq!(url.as_str(), srv.url("/loop"));
        }
        other => panic!("expected TooManyRedirects, got {other:?}"),
    }
    // The first request and five followed redirects, no more.
    assert_eq!(srv.hits(), 6);
    assert!(err.to_string().contains("after 5 redirects"), "{err}");
}

#[tokio::test]
async fn redirect_limit_is_configurable() {
    let srv = TestServer::start().await;
    let mut policy = loopback_allowed();
    policy.max_redirects = 0;
    let f = fetcher(policy);
    let err = f.get(&srv.redirect_to("/ok")).await;
    assert!(
        matches!(err, Err(FetchError::TooManyRedirects { limit: 0, .. })),
        "{err:?}"
    );
    // No redirect, no problem.
    f.get(&srv.url("/ok")).await.expect("direct fetch succeeds");
}

#[tokio::test]
async fn body_over_the_cap_by_content_length() {
    let srv = TestServer::start().await;
    let mut policy = loopback_allowed();
    policy.max_body_bytes = 1000;
    let err = fetcher(policy).get(&srv.url("/big")).await;
    match err {
        Err(FetchError::TooLarge { limit, url }) => {
            assert_eq!(limit, 1000);
            assert_eq!(url.as_str(), srv.url("/big"));
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
}

#[tokio::test]
async fn body_over_the_cap_while_streaming() {
    let srv = TestServer::start().await;
    let mut policy = loopback_allowed();
    policy.max_body_bytes = 100_000;
    let err = fetcher(policy).get(&srv.url("/big-chunked")).await;
    assert!(
        matches!(err, Err(FetchError::TooLarge { limit: 100_000, .. })),
        "{err:?}"
    );

    // The same body under a cap it fits.
    let mut policy = loopback_allowed();
    policy.max_body_bytes = 1 << 20;
    let got = fetcher(policy)
        .get(&srv.url("/big-chunked"))
        .await
        .expect("fits exactly");
    assert_eq!(got.body.len(), 1 << 20);
}

#[tokio::test]
async fn body_cap_is_inclusive() {
    let srv = TestServer::start().await;
    let mut policy = loopback_allowed();
    policy.max_body_bytes = 5;
    fetcher(policy)
        .get(&srv.url("/ok"))
        .await
        .expect("5 bytes fit a 5-byte cap");
    let mut policy = loopback_allowed();
    policy.max_body_bytes = 4;
    let err = fetcher(policy).get(&srv.url("/ok")).await;
    assert!(matches!(err, Err(FetchError::TooLarge { .. })), "{err:?}");
}

#[tokio::test]
async fn slow_server_times_out() {
    let srv = TestServer::start().await;
    let mut policy = loopback_allowed();
    policy.total_timeout = Duration::from_millis(300);
    let started = Instant::now();
    let err = fetcher(policy).get(&srv.url("/slow")).await;
    assert!(
        matches!(&err, Err(FetchError::Timeout { limit, .. }) if *limit == Duration::from_millis(300)),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn slow_body_times_out() {
    let srv = TestServer::start().await;
    let mut policy = loopback_allowed();
    policy.total_timeout = Duration::from_millis(500);
    let started = Instant::now();
    let err = fetcher(policy).get(&srv.url("/trickle")).await;
    assert!(matches!(err, Err(FetchError::Timeout { .. })), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn hostname_localhost_is_refused() {
    let srv = TestServer::start().await;
    let err = fetcher(FetchPolicy::default())
        .get(&format!("http://localhost:{}/ok", srv.port()))
        .await;
    match err {
        Err(FetchError::Blocked { addr, reason, .. }) => {
            assert!(addr.is_loopback(), "{addr}");
            assert_eq!(reason, BlockReason::Loopback);
        }
        other => panic!("expected Blocked, got {other:?}"),
    }
}

/// Spellings of a loopback address that a naive string check would miss.
/// The port is the live server's, so a fetch that got through would succeed.
fn numeric_tricks(port: u16) -> Vec<(String, IpAddr)> {
    let lo = LOCALHOST;
    let zero = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
    vec![
        (format!("http://2130706433:{port}/ok"), lo),
        (format!("http://0x7f.1:{port}/ok"), lo),
        (format!("http://0x7f000001:{port}/ok"), lo),
        (format!("http://0177.0.0.1:{port}/ok"), lo),
        (format!("http://127.1:{port}/ok"), lo),
        (format!("http://127.000.000.001:{port}/ok"), lo),
        (format!("http://0:{port}/ok"), zero),
        (format!("http://0.0.0.0:{port}/ok"), zero),
        (
            format!("http://[::ffff:127.0.0.1]:{port}/ok"),
            "::ffff:127.0.0.1".parse().expect("valid"),
        ),
        (
            format!("http://[::ffff:7f00:1]:{port}/ok"),
            "::ffff:127.0.0.1".parse().expect("valid"),
        ),
        (
            format!("http://[::1]:{port}/ok"),
            "::1".parse().expect("valid"),
        ),
        (
            format!("http://[::]:{port}/ok"),
            "::".parse().expect("valid"),
        ),
        (
            format!("http://[64:ff9b::7f00:1]:{port}/ok"),
            "64:ff9b::7f00:1".parse().expect("valid"),
        ),
        (format!("https://2130706433:{port}/ok"), lo),
        (format!("HTTP://0X7F.1:{port}/ok"), lo),
    ]
}

#[tokio::test]
async fn numeric_tricks_are_refused() {
    let srv = TestServer::start().await;
    // Refused by default, and also when some other loopback address is allowed.
    for policy in [
        FetchPolicy::default(),
        FetchPolicy::default().allow(Ipv4Addr::new(127, 0, 0, 2)),
    ] {
        let f = fetcher(policy);
        for (url, addr) in numeric_tricks(srv.port()) {
            assert_blocked(f.get(&url).await, addr);
            assert!(
                matches!(f.check_url(&url), Err(FetchError::Blocked { .. })),
                "{url}"
            );
        }
    }
}

#[tokio::test]
async fn mapped_forms_report_the_inner_address() {
    let err = fetcher(FetchPolicy::default())
        .get("http://[::ffff:169.254.169.254]/")
        .await;
    let reason = assert_blocked(err, "::ffff:169.254.169.254".parse().expect("valid"));
    assert_eq!(
        reason,
        BlockReason::Embedded(Embedding::Mapped, Ipv4Addr::new(169, 254, 169, 254))
    );
}

#[tokio::test]
async fn host_table_names_are_checked_and_used() {
    let srv = TestServer::start().await;
    // An allowed entry: the request goes to the listed address, with the name as Host.
    let policy = loopback_allowed().host("Platform-7.test", [LOCALHOST]);
    let url = format!("http://platform-7.test:{}/echo-host", srv.port());
    let got = fetcher(policy).get(&url).await.expect("fetch succeeds");
    assert_eq!(
        got.body,
        format!("platform-7.test:{}", srv.port()).as_bytes()
    );
    assert_eq!(got.remote_addr, Some(srv.addr));

    // A refused entry: no connection is attempted.
    let policy = FetchPolicy::default().host("intranet.test", ["10.0.0.7".parse().expect("valid")]);
    let err = fetcher(policy).get("http://intranet.test/").await;
    let reason = assert_blocked(err, "10.0.0.7".parse().expect("valid"));
    assert_eq!(reason, BlockReason::Private);
}

#[tokio::test]
async fn refused_answers_are_filtered_out() {
    let srv = TestServer::start().await;
    // One refused and one allowed answer: only the allowed one is connected to.
    let policy = loopback_allowed().host(
        "mixed.test",
        ["192.168.7.7".parse().expect("valid"), LOCALHOST],
    );
    let got = fetcher(policy)
        .get(&format!("http://mixed.test:{}/ok", srv.port()))
        .await
        .expect("fetch succeeds");
    assert_eq!(got.remote_addr, Some(srv.addr));

    // Nothing allowed: the first refused address is named.
    let policy = FetchPolicy::default().host(
        "private.test",
        [
            "192.168.7.7".parse().expect("valid"),
            "fd00::7".parse().expect("valid"),
        ],
    );
    let err = fetcher(policy).get("http://private.test/").await;
    assert_blocked(err, "192.168.7.7".parse().expect("valid"));

    // An empty answer.
    let policy = FetchPolicy::default().host("empty.test", []);
    let err = fetcher(policy).get("http://empty.test/").await;
    assert!(matches!(err, Err(FetchError::NoAddress { .. })), "{err:?}");
}

#[tokio::test]
async fn redirect_to_a_refused_name_is_refused() {
    let srv = TestServer::start().await;
    let policy =
        loopback_allowed().host("metadata.test", ["169.254.169.254".parse().expect("valid")]);
    let err = fetcher(policy)
        .get(&srv.redirect_to("http://metadata.test/latest/"))
        .await;
    let reason = assert_blocked(err, "169.254.169.254".parse().expect("valid"));
    assert_eq!(reason, BlockReason::LinkLocal);
}

#[tokio::test]
async fn bad_input_is_an_error_not_a_panic() {
    let f = fetcher(FetchPolicy::default());
    let cases = [
        "",
        "not a url",
        "/relative/path",
        "http://",
        "http://[::1",
        "http://256.256.256.256/",
        "http://example.com:99999/",
        "file:///etc/passwd",
        "ftp://example.com/",
        "javascript:alert(1)",
        "data:text/plain,hi",
        "mailto:a@example.com",
        "http://\u{0}/",
        "http://a b/",
    ];
    for input in cases {
        let err = f.get(input).await.expect_err(input);
        assert!(
            matches!(
                err,
                FetchError::InvalidUrl { .. }
                    | FetchError::BadScheme { .. }
                    | FetchError::NoHost { .. }
            ),
            "{input:?}: {err:?}"
        );
        assert!(!err.to_string().is_empty());
    }
}

#[tokio::test]
async fn connection_failure_names_the_url() {
    // Bind and drop to get a loopback port that nobody listens on.
    let port = {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        l.local_addr().expect("addr").port()
    };
    let url = format!("http://127.0.0.1:{port}/");
    let err = fetcher(loopback_allowed())
        .get(&url)
        .await
        .expect_err("refused connection");
    assert!(matches!(err, FetchError::Http { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains(&url), "{msg}");
    assert!(msg.to_lowercase().contains("refused"), "{msg}");
    assert!(!err.is_refused());
}
