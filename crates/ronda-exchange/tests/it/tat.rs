//! The TAT client against the loopback fake: paging, deletes, per-entry
//! errors, failures mid-way, resuming from a checkpoint, credentials.

use std::collections::BTreeSet;
use std::time::Duration;

use ronda_exchange::tat::{CHECKPOINT_PARAM, TatLimits};
use ronda_exchange::{Credentials, Error, Ideology, Page, SignalType, TatClient};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::fake_tat::{Fake, Fault, PASSWORD, USER, seven_entries};

fn client(fake: &Fake) -> TatClient {
    TatClient::new(&fake.base, Credentials::new(USER, PASSWORD)).unwrap()
}

/// Everything after a failure must be free of secrets.
fn assert_no_secrets(e: &Error) {
    let shown = format!("{e} {e:?}");
    assert!(!shown.contains(PASSWORD), "{shown}");
    assert!(!shown.contains("tok-"), "{shown}");
}

/// Fetches pages until the end or the first error.
async fn drain(client: &mut TatClient, checkpoint: Option<&str>) -> (Vec<Page>, Option<Error>) {
    let mut pages = client.pages(checkpoint);
    let mut got = Vec::new();
    loop {
        match pages.next_page().await {
            Ok(Some(page)) => got.push(page),
            Ok(None) => return (got, None),
            Err(e) => return (got, Some(e)),
        }
    }
}

fn ids(pages: &[Page]) -> Vec<String> {
    pages
        .iter()
        .flat_map(|p| &p.records)
        .map(|r| match r {
            Ok(rec) => rec.external_id.clone().unwrap(),
            Err(e) => e.id.clone().unwrap(),
        })
        .collect()
}

#[tokio::test]
async fn lists_three_pages_with_deletes_and_bad_entries() {
    let fake = Fake::start(seven_entries()).await;
    let mut client = client(&fake);
    let (pages, err) = drain(&mut client, None).await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(pages.len(), 3);
    assert_eq!(
        pages.iter().map(|p| p.records.len()).collect::<Vec<_>>(),
        [3, 3, 1]
    );
    assert_eq!(
        ids(&pages),
        ["2819", "2820", "2821", "2822", "2823", "2824", "2825"]
    );
    assert_eq!(pages[0].count, Some(7));
    assert!(pages[2].next.is_none());
    assert_eq!(pages[0].next.as_ref(), Some(&pages[1].url));
    let checkpoints: Vec<_> = pages
        .iter()
        .map(|p| p.checkpoint.clone().unwrap())
        .collect();
    assert_eq!(
        checkpoints,
        ["1704903861,2821", "1704903864,2824", "1704903865,2825"]
    );

    let records: Vec<_> = pages.iter().flat_map(|p| p.records.iter()).collect();
    let ok = |i: usize| records[i].as_ref().unwrap();
    assert_eq!(ok(0).signal.signal_type(), SignalType::VideoMd5);
    assert_eq!(ok(0).ideology, Some(Ideology::Islamist));
    assert_eq!(ok(1).ideology, Some(Ideology::FarRight));
    assert_eq!(ok(2).signal.signal_type(), SignalType::Pdq);
    assert_eq!(ok(2).file_type.as_deref(), Some("gif"));
    // The withdrawn entry comes through, marked, so the bank can drop it.
    assert!(ok(3).deleted);
    assert_eq!(ok(3).signal.signal_type(), SignalType::Md5);
    assert_eq!(
        records
            .iter()
            .filter(|r| r.as_ref().is_ok_and(|r| r.deleted))
            .count(),
        1
    );
    // SHA512 has no signal type: that entry alone is an error.
    let bad = records[4].as_ref().unwrap_err();
    assert_eq!(
        bad.to_string(),
        "tat entry 2823: unsupported algorithm \"SHA512\""
    );
    assert_eq!(ok(5).signal.signal_type(), SignalType::Sha256);
    assert_eq!(
        ok(6).created_on,
        Some("2025-03-03T23:05:22.587Z".parse().unwrap())
    );
    assert_eq!(
        ok(6).updated_on,
        Some("2024-01-10T16:24:25Z".parse().unwrap())
    );

    // One login, three pages, each with the bearer token, the first asking
    // for ascending order and no checkpoint.
    assert_eq!(fake.logins(), 1);
    let requests = fake.requests();
    assert_eq!(requests.len(), 3);
    assert!(requests.iter().all(|(_, auth)| auth == "Bearer tok-1"));
    assert_eq!(requests[0].0.get("order").map(String::as_str), Some("asc"));
    assert!(!requests[0].0.contains_key(CHECKPOINT_PARAM));
}

#[tokio::test]
async fn after_the_last_page_there_is_nothing() {
    let fake = Fake::start(seven_entries()).await;
    let mut client = client(&fake);
    let mut pages = client.pages(None);
    for _ in 0..3 {
        assert!(pages.next_page().await.unwrap().is_some());
    }
    assert!(pages.next_page().await.unwrap().is_none());
    assert!(pages.next_page().await.unwrap().is_none());
    assert_eq!(pages.fetched(), 3);
    assert_eq!(pages.checkpoint(), Some("1704903865,2825"));
    assert_eq!(fake.requests().len(), 3);
}

#[tokio::test]
async fn a_failure_mid_way_then_a_resume_from_the_last_checkpoint_completes() {
    let fake = Fake::start(seven_entries()).await;
    fake.fault(3, Fault::ServerError);
    let mut client = client(&fake);

    // First run: page 1 is committed, page 2 fails.
    let (pages, err) = drain(&mut client, None).await;
    assert_eq!(pages.len(), 1);
    let err = err.expect("page 2 fails");
    assert!(
        matches!(&err, Error::Status { status, .. } if status.as_u16() == 500),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(
        message.starts_with("http 500 Internal Server Error from http://127.0.0.1:"),
        "{message}"
    );
    assert!(message.contains("/api/hash-list/v2/all?"), "{message}");
    assert_no_secrets(&err);
    let saved = pages[0].checkpoint.clone().unwrap();

    // Second run, from the saved checkpoint: the rest, nothing twice.
    let (rest, err) = drain(&mut client, Some(&saved)).await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(rest.len(), 2);
    let mut all = ids(&pages);
    all.extend(ids(&rest));
    assert_eq!(
        all,
        ["2819", "2820", "2821", "2822", "2823", "2824", "2825"]
    );
    let unique: BTreeSet<_> = all.iter().collect();
    assert_eq!(unique.len(), 7);
    // The resume asked for what came after the checkpoint.
    let requests = fake.requests();
    let resumed = &requests[2].0;
    assert_eq!(resumed.get(CHECKPOINT_PARAM), Some(&saved));
    assert_eq!(
        rest.last().unwrap().checkpoint.as_deref(),
        Some("1704903865,2825")
    );
}

#[tokio::test]
async fn a_truncated_page_is_a_json_error_and_retrying_it_continues() {
    let fake = Fake::start(seven_entries()).await;
    fake.fault(3, Fault::Truncated);
    let mut client = client(&fake);
    let mut pages = client.pages(None);
    let first = pages.next_page().await.unwrap().unwrap();
    let err = pages.next_page().await.unwrap_err();
    match &err {
        Error::Json { url, message } => {
            assert!(url.as_str().contains("offset=3"), "{url}");
            assert!(message.contains("EOF"), "{message}");
        }
        other => panic!("expected a json error, got {other:?}"),
    }
    assert!(
        err.to_string()
            .starts_with("malformed json from http://127.0.0.1:")
    );
    assert_no_secrets(&err);
    // Nothing moved: the same page again, then the rest.
    assert_eq!(pages.checkpoint(), first.checkpoint.as_deref());
    let second = pages.next_page().await.unwrap().unwrap();
    assert_eq!(ids(&[second]), ["2822", "2823", "2824"]);
    assert_eq!(pages.next_page().await.unwrap().unwrap().records.len(), 1);
    assert!(pages.next_page().await.unwrap().is_none());
}

#[tokio::test]
async fn wrong_credentials_are_a_clear_error() {
    let fake = Fake::start(seven_entries()).await;
    let mut client = TatClient::new(&fake.base, Credentials::new(USER, "wrong-password")).unwrap();
    let err = client.authenticate().await.unwrap_err();
    assert!(matches!(&err, Error::Auth { status, .. } if status.as_u16() == 400));
    let message = err.to_string();
    assert!(
        message.starts_with("tat authentication failed at http://127.0.0.1:"),
        "{message}"
    );
    assert!(message.contains("/token-auth/tcap/: http 400"), "{message}");
    assert!(!message.contains("wrong-password"), "{message}");
    // Listing with bad credentials fails the same way, before any page.
    let (pages, err) = drain(&mut client, None).await;
    assert!(pages.is_empty());
    assert!(matches!(err, Some(Error::Auth { .. })));
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn an_expired_token_means_one_more_login() {
    let fake = Fake::start(seven_entries()).await;
    fake.fault(3, Fault::ExpireTokens);
    let mut client = client(&fake);
    let (pages, err) = drain(&mut client, None).await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(ids(&pages).len(), 7);
    assert_eq!(fake.logins(), 2);
    let auths: Vec<_> = fake.requests().into_iter().map(|(_, a)| a).collect();
    assert_eq!(
        auths,
        [
            "Bearer tok-1",
            "Bearer tok-1",
            "Bearer tok-2",
            "Bearer tok-2"
        ]
    );
}

#[tokio::test]
async fn a_next_link_to_another_host_is_refused() {
    let fake = Fake::start(seven_entries()).await;
    fake.fault(0, Fault::ForeignNext);
    let mut client = client(&fake);
    let (pages, err) = drain(&mut client, None).await;
    assert!(pages.is_empty());
    let err = err.unwrap();
    assert!(matches!(err, Error::ForeignNext { .. }), "{err:?}");
    assert!(
        err.to_string()
            .starts_with("next page https://evil.example/"),
        "{err}"
    );
}

#[tokio::test]
async fn limits_bound_bodies_pages_and_time() {
    let fake = Fake::start(seven_entries()).await;
    let creds = || Credentials::new(USER, PASSWORD);

    let small = TatLimits {
        max_body_bytes: 200,
        ..TatLimits::default()
    };
    let mut c = TatClient::with_limits(&fake.base, creds(), small).unwrap();
    let (_, err) = drain(&mut c, None).await;
    assert!(
        matches!(&err, Some(Error::TooLarge { limit: 200, .. })),
        "{err:?}"
    );

    let two_pages = TatLimits {
        max_pages: 2,
        ..TatLimits::default()
    };
    let mut c = TatClient::with_limits(&fake.base, creds(), two_pages).unwrap();
    let (pages, err) = drain(&mut c, None).await;
    assert_eq!(pages.len(), 2);
    assert!(
        matches!(err, Some(Error::TooManyPages { limit: 2 })),
        "{err:?}"
    );

    fake.fault(0, Fault::Slow(Duration::from_secs(5)));
    let quick = TatLimits {
        timeout: Duration::from_millis(300),
        ..TatLimits::default()
    };
    let mut c = TatClient::with_limits(&fake.base, creds(), quick).unwrap();
    let started = std::time::Instant::now();
    let (_, err) = drain(&mut c, None).await;
    assert!(started.elapsed() < Duration::from_secs(4));
    let err = err.unwrap();
    assert!(
        matches!(&err, Error::Http { source, .. } if source.is_timeout()),
        "{err:?}"
    );
    assert!(
        err.to_string().starts_with("request to http://127.0.0.1:"),
        "{err}"
    );
}

/// A raw HTTP server that logs anyone in and answers every GET with
/// `page`, then closes the connection; for what axum will not send.
async fn raw_server(page: &'static [u8]) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                // Read the whole request, head and body, so that closing
                // the socket sends a FIN, not a reset.
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                loop {
                    if let Some(end) = request.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&request[..end]).to_ascii_lowercase();
                        let length: usize = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .map_or(0, |v| v.trim().parse().unwrap());
                        if request.len() >= end + 4 + length {
                            break;
                        }
                    }
                    let n = socket.read(&mut buf).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    request.extend_from_slice(&buf[..n]);
                }
                let response: &[u8] = if request.starts_with(b"POST") {
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 17\r\nConnection: close\r\n\r\n{\"token\": \"tok\"}\n"
                } else {
                    page
                };
                let _ = socket.write_all(response).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    base
}

/// The connection closes before `Content-Length` bytes arrive.
#[tokio::test]
async fn a_body_cut_off_mid_way_is_an_http_error() {
    let base = raw_server(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 5000\r\nConnection: close\r\n\r\n{\"count\": 7, \"next\": null, \"results\": [",
    )
    .await;
    let mut client = TatClient::new(&base, Credentials::new(USER, PASSWORD)).unwrap();
    let (pages, err) = drain(&mut client, None).await;
    assert!(pages.is_empty());
    let err = err.unwrap();
    assert!(matches!(err, Error::Http { .. }), "{err:?}");
    assert!(
        err.to_string().contains("/api/hash-list/v2/all?order=asc"),
        "{err}"
    );
    assert_no_secrets(&err);
}

/// Without a `Content-Length` the limit is enforced while reading.
#[tokio::test]
async fn a_body_of_unannounced_size_is_cut_at_the_limit() {
    static PAGE: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    let page = PAGE.get_or_init(|| {
        let mut page =
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n"
                .to_vec();
        page.extend_from_slice(b"{\"count\": 0, \"next\": null, \"results\": [], \"pad\": \"");
        page.extend(std::iter::repeat_n(b'x', 100_000));
        page.extend_from_slice(b"\"}");
        page
    });
    let base = raw_server(page).await;
    let limits = TatLimits {
        max_body_bytes: 10_000,
        ..TatLimits::default()
    };
    let mut client =
        TatClient::with_limits(&base, Credentials::new(USER, PASSWORD), limits).unwrap();
    let (_, err) = drain(&mut client, None).await;
    assert!(
        matches!(&err, Some(Error::TooLarge { limit: 10_000, .. })),
        "{err:?}"
    );
    // And the same body is fine under a larger limit: the limit, not the
    // shape, refused it.
    let mut client = TatClient::new(&base, Credentials::new(USER, PASSWORD)).unwrap();
    let (pages, err) = drain(&mut client, None).await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(pages.len(), 1);
}
