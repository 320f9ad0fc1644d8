//! The Transparency Database client against a loopback fake of the
//! database: the fake checks the bearer token, applies the same validation
//! (`ronda_compliance::sor::validate_request`) and the database's `puid`
//! rules, answers 201 or 422 in the database's shapes, and records every
//! request; switches make it fail with 503, lose its answer after
//! creating, or refuse one `puid` on a field the local rules accept.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use ronda_compliance::Statement;
use ronda_compliance::sor::build::{
    Found, Measure, TcoReason, TerroristContentDecision, terrorist_content,
};
use ronda_compliance::sor::{AutomatedDecision, ContentType, statement_key, validate_request};
use ronda_compliance::{Date, validate_value};
use ronda_fetch::{FetchPolicy, Fetcher};
use ronda_server::dsa::{DsaClient, DsaError, DsaSettings, Outcome};
use serde_json::{Value, json};

const TOKEN: &str = "X|test-token";

#[derive(Default)]
struct Db {
    /// Calls received, authorised or not.
    calls: u32,
    /// Every request body, as received (also those refused).
    requests: Vec<Value>,
    /// Created statements by `puid`.
    created: BTreeMap<String, Value>,
    /// Answer this many calls with 503 before looking at them.
    fail_next: u32,
    /// Create this many calls' statements, then answer 500 (a lost answer).
    lose_answer_next: u32,
    /// A stricter rule than the local one: refuse this `puid` on this field.
    refuse: Option<(String, String)>,
}

type Shared = Arc<Mutex<Db>>;

fn unprocessable(body: Value) -> (StatusCode, axum::Json<Value>) {
    (StatusCode::UNPROCESSABLE_ENTITY, axum::Json(body))
}

async fn statements(
    State(db): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, axum::Json<Value>) {
    db.lock().unwrap().calls += 1;
    let authorised = headers.get("authorization").and_then(|v| v.to_str().ok())
        == Some(&format!("Bearer {TOKEN}"));
    if !authorised {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"message": "Unauthenticated."})),
        );
    }
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let mut db = db.lock().unwrap();
    db.requests.push(body.clone());
    if db.fail_next > 0 {
        db.fail_next -= 1;
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({"message": "busy"})),
        );
    }
    let statements = match validate_request(&body) {
        Ok(s) => s.to_vec(),
        Err(errors) => return unprocessable(json!({ "errors": errors })),
    };
    if let Some((puid, field)) = db.refuse.clone() {
        let errors: serde_json::Map<String, Value> = statements
            .iter()
            .enumerate()
            .filter(|(_, s)| s["puid"] == puid.as_str())
            .map(|(i, _)| {
                (
                    statement_key(i),
                    json!({ field.clone(): ["refused by the fake"] }),
                )
            })
            .collect();
        if !errors.is_empty() {
            return unprocessable(json!({ "errors": errors }));
        }
    }
    let puids: Vec<String> = statements
        .iter()
        .map(|s| s["puid"].as_str().unwrap().to_owned())
        .collect();
    let mut existing: Vec<&String> = puids
        .iter()
        .enumerate()
        .filter(|(i, p)| db.created.contains_key(*p) || puids[..*i].contains(p))
        .map(|(_, p)| p)
        .collect();
    existing.dedup();
    if !existing.is_empty() {
        let message = "The platform identifier(s) are not all unique within this call.";
        return unprocessable(json!({
            "message": message,
            "errors": {"puid": [message], "existing_puids": existing},
        }));
    }
    let mut out = Vec::new();
    for (s, puid) in statements.iter().zip(&puids) {
        let mut created = s.clone();
        let n = db.created.len();
        created["uuid"] = json!(format!("uuid-{n}"));
        db.created.insert(puid.clone(), created.clone());
        out.push(created);
    }
    if db.lose_answer_next > 0 {
        db.lose_answer_next -= 1;
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            axum::Json(json!({"message": "oops"})),
        );
    }
    (
        StatusCode::CREATED,
        axum::Json(json!({ "statements": out })),
    )
}

struct Fake {
    db: Shared,
    base: String,
    handle: tokio::task::JoinHandle<()>,
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.handle.abort();
    }
}

impl Fake {
    async fn start() -> Fake {
        let db: Shared = Arc::default();
        let app = Router::new()
            .route("/api/v1/statements", post(statements))
            .with_state(db.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let handle = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Fake {
            db,
            base: format!("http://{addr}"),
            handle,
        }
    }

    fn client_with(&self, token: &str, policy: FetchPolicy) -> DsaClient {
        let mut settings = DsaSettings::new(&self.base, token);
        settings.max_attempts = 3;
        settings.first_backoff = Duration::from_millis(5);
        settings.max_backoff = Duration::from_millis(20);
        DsaClient::new(Fetcher::new(policy).unwrap(), settings).unwrap()
    }

    fn client(&self) -> DsaClient {
        let loopback: ronda_fetch::IpCidr = "127.0.0.1/32".parse().unwrap();
        self.client_with(TOKEN, FetchPolicy::default().allow(loopback))
    }

    fn db(&self) -> std::sync::MutexGuard<'_, Db> {
        self.db.lock().unwrap()
    }

    /// The `puid`s of every statement the fake received, request by request.
    fn received(&self) -> Vec<Vec<String>> {
        self.db()
            .requests
            .iter()
            .map(|r| {
                r["statements"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| s["puid"].as_str().unwrap().to_owned())
                    .collect()
            })
            .collect()
    }
}

fn statement(puid: &str) -> Statement {
    let decision = TerroristContentDecision {
        puid: puid.into(),
        measure: Measure::Removed,
        found: Found::OwnInitiative,
        reasons: vec![TcoReason::Instruction],
        content_types: vec![ContentType::Video],
        content_date: Date::parse("2026-05-01").unwrap(),
        decided_on: Date::parse("2026-05-01").unwrap(),
        automated_detection: true,
        automated_decision: AutomatedDecision::Partially,
        content_language: None,
        account_type: None,
        facts: None,
    };
    terrorist_content(&decision).unwrap().statement
}

fn statements_named(prefix: &str, n: usize) -> Vec<Statement> {
    (0..n)
        .map(|i| statement(&format!("{prefix}-{i}")))
        .collect()
}

#[tokio::test]
async fn statements_go_in_batches_of_at_most_100_and_each_is_created() {
    let fake = Fake::start().await;
    let input = statements_named("b", 250);
    let outcomes = fake.client().submit(&input).await;
    assert_eq!(outcomes.len(), 250);
    for (i, o) in outcomes.iter().enumerate() {
        assert!(
            matches!(o, Outcome::Created { uuid: Some(_) }),
            "{i}: {o:?}"
        );
    }
    let sizes: Vec<usize> = fake.received().iter().map(Vec::len).collect();
    assert_eq!(sizes, [100, 100, 50]);
    assert_eq!(fake.db().created.len(), 250);
    // What arrived is exactly what was built.
    assert_eq!(
        fake.db().created["b-7"]["decision_facts"],
        input[7].decision_facts.as_str()
    );
}

#[tokio::test]
async fn a_statement_that_fails_validation_is_never_sent() {
    let fake = Fake::start().await;
    let mut input = statements_named("v", 5);
    input[1].decision_facts = "   ".into();
    input[2].illegal_content_legal_ground = None;
    input[3].puid = "v-0".into(); // a duplicate of an earlier puid
    let outcomes = fake.client().submit(&input).await;
    let Outcome::Invalid(e) = &outcomes[1] else {
        panic!("{:?}", outcomes[1])
    };
    assert!(e.contains("decision_facts"), "{e:?}");
    let Outcome::Invalid(e) = &outcomes[2] else {
        panic!("{:?}", outcomes[2])
    };
    assert!(e.contains("illegal_content_legal_ground"), "{e:?}");
    let Outcome::Invalid(e) = &outcomes[3] else {
        panic!("{:?}", outcomes[3])
    };
    assert!(e.contains("puid"), "{e:?}");
    assert!(outcomes[0].is_done() && outcomes[4].is_done());
    assert_eq!(fake.received(), [["v-0", "v-4"]]);
    // Everything the fake received passes the database's rules.
    for request in &fake.db().requests {
        for s in request["statements"].as_array().unwrap() {
            assert!(validate_value(s).is_empty());
        }
    }

    // A submission with nothing valid makes no call at all.
    let fake = Fake::start().await;
    let outcomes = fake.client().submit(&input[1..3]).await;
    assert!(outcomes.iter().all(|o| matches!(o, Outcome::Invalid(_))));
    assert!(fake.db().requests.is_empty());
}

#[tokio::test]
async fn a_422_is_reported_per_field_and_the_rest_is_sent_again() {
    let fake = Fake::start().await;
    fake.db().refuse = Some(("r-3".into(), "decision_facts".into()));
    let input = statements_named("r", 6);
    let outcomes = fake.client().submit(&input).await;
    let Outcome::Rejected(errors) = &outcomes[3] else {
        panic!("{:?}", outcomes[3])
    };
    assert_eq!(errors.fields().collect::<Vec<_>>(), ["decision_facts"]);
    assert_eq!(errors.get("decision_facts"), ["refused by the fake"]);
    for i in [0, 1, 2, 4, 5] {
        assert!(matches!(outcomes[i], Outcome::Created { .. }), "{i}");
    }
    // The whole call was refused, then sent again without r-3.
    let received = fake.received();
    assert_eq!(received.len(), 2);
    assert_eq!(received[0].len(), 6);
    assert_eq!(received[1], ["r-0", "r-1", "r-2", "r-4", "r-5"]);
    assert!(!fake.db().created.contains_key("r-3"));
}

#[tokio::test]
async fn server_errors_are_retried_with_back_off() {
    let fake = Fake::start().await;
    fake.db().fail_next = 2;
    let outcomes = fake.client().submit(&statements_named("s", 3)).await;
    assert!(
        outcomes
            .iter()
            .all(|o| matches!(o, Outcome::Created { .. }))
    );
    assert_eq!(fake.received().len(), 3);

    // Past the last attempt the statements are failed, not lost or doubled.
    let fake = Fake::start().await;
    fake.db().fail_next = 10;
    let outcomes = fake.client().submit(&statements_named("s", 3)).await;
    for o in &outcomes {
        let Outcome::Failed { http_status, error } = o else {
            panic!("{o:?}")
        };
        assert_eq!(*http_status, Some(503));
        assert!(error.contains("3 attempts"), "{error}");
    }
    assert_eq!(fake.received().len(), 3);
    assert!(fake.db().created.is_empty());
}

#[tokio::test]
async fn a_lost_answer_is_recognised_on_retry_without_duplicates() {
    let fake = Fake::start().await;
    // The database already has one of them from an earlier run.
    fake.client().submit(&[statement("l-9")]).await;
    fake.db().lose_answer_next = 1;
    let mut input = statements_named("l", 4);
    input.push(statement("l-9"));
    let outcomes = fake.client().submit(&input).await;
    // The first call is refused because l-9 exists; the second creates
    // l-0..l-3 but its answer is lost (500); the retry learns that they exist.
    assert!(
        outcomes.iter().all(|o| *o == Outcome::AlreadyPresent),
        "{outcomes:?}"
    );
    assert_eq!(fake.db().created.len(), 5);
    assert_eq!(fake.received().len(), 1 + 3);
}

#[tokio::test]
async fn other_answers_and_refused_addresses_fail_without_retrying() {
    let fake = Fake::start().await;
    let loopback: ronda_fetch::IpCidr = "127.0.0.1/32".parse().unwrap();
    let wrong = fake.client_with("X|wrong", FetchPolicy::default().allow(loopback));
    let outcomes = wrong.submit(&statements_named("w", 2)).await;
    assert!(outcomes.iter().all(|o| matches!(
        o,
        Outcome::Failed {
            http_status: Some(401),
            ..
        }
    )));
    assert_eq!(fake.db().calls, 1, "a 401 is not retried");
    assert!(fake.db().created.is_empty());

    // Without the loopback allowance the SSRF policy refuses the address:
    // at once for an IP address, and at connection time for a name that
    // resolves to one; nothing reaches the fake, nothing is retried.
    let settings = DsaSettings::new(&fake.base, TOKEN);
    let refused = DsaClient::new(Fetcher::new(FetchPolicy::default()).unwrap(), settings);
    assert!(
        matches!(refused, Err(DsaError::BadUrl { .. })),
        "{refused:?}"
    );
    let port = fake.base.rsplit(':').next().unwrap();
    let policy = FetchPolicy::default().host("tdb.test", ["127.0.0.1".parse().unwrap()]);
    let settings = DsaSettings::new(format!("http://tdb.test:{port}"), TOKEN);
    let blocked = DsaClient::new(Fetcher::new(policy).unwrap(), settings).unwrap();
    let outcomes = blocked.submit(&statements_named("w", 2)).await;
    for o in &outcomes {
        let Outcome::Failed { http_status, error } = o else {
            panic!("{o:?}")
        };
        assert_eq!(*http_status, None);
        assert!(error.contains("refused"), "{error}");
    }
    assert_eq!(fake.db().calls, 1, "only the 401 call arrived");
}
