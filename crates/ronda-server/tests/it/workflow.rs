//! The workflow after collection through `/api/v1`: review (claim,
//! decide, the count of the day), referrals and removal orders with their
//! clocks, responses from platforms and by hand, liveness history,
//! group-run providers; and a platform token seeing and answering only
//! its own referrals.

use axum::http::{Method, StatusCode};
use ronda_hash::url::canonicalize;
use ronda_server::ServerConfig;
use ronda_store::{
    Actor, LivenessState, NewItem, NewLivenessCheck, NewUser, PlatformKind, PlatformSpec, Role,
};
use serde_json::{Value, json};

use crate::support::{Reply, Server, call};

/// A user of `role` in organisation `org` (created if needed); returns
/// the token's secret.
async fn user(s: &Server, org: &str, name: &str, role: Role) -> String {
    let actor = Actor::local("test");
    let org_id = match s.store.organisation_by_name(org).await.unwrap() {
        Some(o) => o.id,
        None => s.store.create_organisation(org, &actor).await.unwrap().id,
    };
    let mut u = NewUser::new(name, role);
    u.org_id = Some(org_id);
    s.store.create_user(&u, &actor).await.unwrap();
    s.store
        .create_user_token(name, name, None, &actor)
        .await
        .unwrap()
        .1
}

async fn post_as(s: &Server, secret: &str, path: &str, body: &Value) -> Reply {
    call(
        s.client
            .request(Method::POST, s.url(path))
            .bearer_auth(secret)
            .json(body),
    )
    .await
}

async fn put_as(s: &Server, secret: &str, path: &str, body: &Value) -> Reply {
    call(
        s.client
            .request(Method::PUT, s.url(path))
            .bearer_auth(secret)
            .json(body),
    )
    .await
}

async fn get_as(s: &Server, secret: &str, path: &str) -> Reply {
    call(s.client.get(s.url(path)).bearer_auth(secret)).await
}

async fn platform(s: &Server, name: &str, kind: PlatformKind, domain: &str) -> i64 {
    let mut spec = PlatformSpec::new(name, kind);
    spec.domains = vec![domain.into()];
    spec.tco_contact = Some(format!("tco@{domain}"));
    s.store
        .create_platform(&spec, &Actor::local("test"))
        .await
        .unwrap()
        .id
}

/// An item of organisation `org` on `platform`, straight into the store.
async fn item(s: &Server, org: &str, url: &str, platform: i64) -> i64 {
    let org = s.store.organisation_by_name(org).await.unwrap().unwrap();
    let mut new = NewItem::url(canonicalize(url).unwrap());
    new.org_id = Some(org.id);
    new.platform_id = Some(platform);
    s.store
        .add_item(&new, &Actor::local("test"))
        .await
        .unwrap()
        .item
        .id
}

fn annex_i(reference: &str) -> Value {
    json!({
        "issuing_state": "PT",
        "authority": {
            "type": "law_enforcement",
            "name": "Example Judiciary Police",
            "representative": "Inspector Example",
            "file_number": "PJ-1",
            "contact": "tco@pj.example",
        },
        "issued_at": "2026-03-01T08:00:00Z",
        "reference_number": reference,
        "reasons": ["incites", "threat"],
        "grounds": "The post threatens to commit a terrorist offence.",
        "redress": "Administrative court, within 30 days.",
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn review_refer_order_respond_and_check_through_the_api() {
    let s = Server::start(ServerConfig::default()).await;
    let alice = user(&s, "Unit", "alice", Role::Analyst).await;
    let video_bot = user(&s, "Video Co", "video-bot", Role::Platform).await;
    let files_bot = user(&s, "Files Co", "files-bot", Role::Platform).await;
    let video = platform(&s, "Video", PlatformKind::Video, "video.example").await;
    let files = platform(&s, "Files", PlatformKind::FileHost, "files.example").await;
    let admin = s.secret(Role::Admin).to_owned();
    for (p, org) in [("Video", "Video Co"), ("Files", "Files Co")] {
        let r = put_as(
            &s,
            &admin,
            &format!("/api/v1/platforms/{p}/org"),
            &json!({ "org": org }),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }
    let v1 = item(&s, "Unit", "https://video.example/w/1", video).await;
    let v2 = item(&s, "Unit", "https://video.example/w/2", video).await;
    let f1 = item(&s, "Unit", "https://files.example/f/1", files).await;

    // Review: claim, decide, three times; the count of the day follows.
    let mut decided = Vec::new();
    for _ in 0..3 {
        let r = post_as(
            &s,
            &alice,
            "/api/v1/review/claim",
            &json!({ "lease_seconds": 600 }),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let task = r.json();
        let id = task["item_id"].as_i64().unwrap();
        assert_eq!(task["claimed_by"], "user:alice");
        let r = post_as(
            &s,
            &alice,
            &format!("/api/v1/review/{id}/decide"),
            &json!({ "verdict": "terrorist_content", "reason": "incites", "group": "Group X",
                     "severity": 4, "notes": "alice's notes" }),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        decided.push(id);
    }
    decided.sort_unstable();
    assert_eq!(decided, [v1, v2, f1]);
    let r = post_as(&s, &alice, "/api/v1/review/claim", &json!({})).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let q = get_as(&s, &alice, "/api/v1/review/queue").await.json();
    assert_eq!(q["queue"], json!([]));
    assert_eq!(q["reviewed_today"], 3);
    let r = post_as(
        &s,
        &alice,
        &format!("/api/v1/review/{v1}/decide"),
        &json!({ "verdict": "maybe" }),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    let a = get_as(&s, &alice, &format!("/api/v1/items/{v1}/assessments")).await;
    assert_eq!(a.json()["assessments"][0]["reason"], "incites");

    // Referrals: one per item, never twice.
    let r = post_as(&s, &alice, "/api/v1/referrals", &json!({ "item_id": v1 })).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let rv1 = r.json()["referrals"][0]["id"].as_i64().unwrap();
    assert_eq!(r.json()["referrals"][0]["status"], "draft");
    let r = post_as(&s, &alice, "/api/v1/referrals", &json!({ "item_id": v1 })).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    let r = post_as(&s, &alice, "/api/v1/referrals", &json!({ "item_id": f1 })).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let rf1 = r.json()["referrals"][0]["id"].as_i64().unwrap();
    for id in [rv1, rf1] {
        let r = post_as(
            &s,
            &alice,
            &format!("/api/v1/referrals/{id}/events"),
            &json!({ "event": "send", "note": "pasted into the web form" }),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.json()["status"], "sent");
    }

    // Each platform sees only its own referrals.
    let seen = |r: Reply| -> Vec<i64> {
        r.json()["referrals"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["id"].as_i64().unwrap())
            .collect()
    };
    assert_eq!(
        seen(get_as(&s, &video_bot, "/api/v1/referrals").await),
        [rv1]
    );
    assert_eq!(
        seen(get_as(&s, &files_bot, "/api/v1/referrals").await),
        [rf1]
    );
    assert_eq!(
        seen(get_as(&s, &alice, "/api/v1/referrals").await),
        [rv1, rf1]
    );
    let r = get_as(&s, &files_bot, &format!("/api/v1/referrals/{rv1}")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    let annex_ii = json!({ "kind": "annex_ii", "measure": "removed", "platform_file_ref": "V-9" });
    let r = post_as(
        &s,
        &files_bot,
        &format!("/api/v1/referrals/{rv1}/responses"),
        &annex_ii,
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    // A platform acknowledges or disputes; it does not declare outcomes.
    let r = post_as(
        &s,
        &video_bot,
        &format!("/api/v1/referrals/{rv1}/events"),
        &json!({ "event": "not_removed" }),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    let r = post_as(
        &s,
        &video_bot,
        &format!("/api/v1/referrals/{rv1}/events"),
        &json!({ "event": "acknowledge" }),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = post_as(
        &s,
        &video_bot,
        &format!("/api/v1/referrals/{rv1}/responses"),
        &annex_ii,
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.json()["source"], "platform");
    assert!(r.json()["measure_at"].is_string(), "{}", r.text);
    let d = get_as(&s, &video_bot, &format!("/api/v1/referrals/{rv1}"))
        .await
        .json();
    assert_eq!(d["status"], "removed");
    let events: Vec<&str> = d["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["event"].as_str().unwrap())
        .collect();
    assert_eq!(events, ["create", "send", "acknowledge", "report_removed"]);
    assert!(
        !d.to_string().contains("alice's notes"),
        "notes stay with the unit"
    );
    // Staff enter an answer by hand: an Annex III for Files.
    let r = post_as(
        &s,
        &alice,
        &format!("/api/v1/referrals/{rf1}/responses"),
        &json!({ "kind": "annex_iii", "reason": "manifest_errors",
                 "explanation": "Wrong URL in the package." }),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.json()["source"], "manual");

    // A removal order with its Annex I fields and its clock.
    let r = post_as(
        &s,
        &alice,
        "/api/v1/referrals",
        &json!({ "item_id": v2, "kind": "removal_order", "order": annex_i("RO-7") }),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let order = &r.json()["referrals"][0];
    let ro = order["id"].as_i64().unwrap();
    assert_eq!(
        order["order"]["annex_i"]["issued_at"],
        "2026-03-01T08:00:00Z"
    );
    assert_eq!(
        order["order"]["annex_i"]["addressee_contact"],
        "tco@video.example"
    );
    assert_eq!(order["order"]["deadline"], Value::Null, "not received yet");
    let mut bad = annex_i("RO-8");
    bad["issuing_state"] = json!("XX");
    let r = post_as(
        &s,
        &alice,
        "/api/v1/referrals",
        &json!({ "item_id": v2, "kind": "removal_order", "order": bad }),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert!(r.message().contains("issuing_state"), "{}", r.text);
    let r = post_as(
        &s,
        &alice,
        &format!("/api/v1/referrals/{ro}/events"),
        &json!({ "event": "send" }),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let orders = get_as(&s, &alice, "/api/v1/orders").await.json();
    let o = &orders["orders"][0]["order"];
    assert!(o["deadline"].is_string(), "{o}");
    assert_eq!(
        o["notice_first"], true,
        "Video's first order: 12 hours' notice"
    );
    assert_eq!(o["overdue"], false);
    let overdue = get_as(&s, &alice, "/api/v1/orders?overdue=true")
        .await
        .json();
    assert_eq!(overdue["orders"], json!([]));

    // Liveness history of an item.
    s.store
        .record_liveness_check(
            &NewLivenessCheck {
                item_id: f1,
                referral_id: Some(rf1),
                checked_at: None,
                http_status: Some(410),
                state: LivenessState::Removed,
                evidence_sha256: None,
                detail: Some("410".into()),
            },
            &Actor::local("checker"),
        )
        .await
        .unwrap();
    let l = get_as(&s, &alice, &format!("/api/v1/items/{f1}/liveness")).await;
    assert_eq!(l.status, StatusCode::OK, "{}", l.text);
    let l = l.json();
    assert_eq!(l["checks"][0]["state"], "removed");
    assert!(l["summary"]["first_seen_removed_at"].is_string());
    let d = get_as(&s, &files_bot, &format!("/api/v1/referrals/{rf1}"))
        .await
        .json();
    assert_eq!(d["status"], "removed", "seen removed after its Annex III");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_run_sites_are_referred_to_their_providers_through_the_api() {
    let s = Server::start(ServerConfig::default()).await;
    let alice = user(&s, "Unit", "alice", Role::Analyst).await;
    let site = platform(&s, "Group Site", PlatformKind::GroupRun, "group.example").await;
    platform(&s, "Host Co", PlatformKind::Hosting, "hostco.example").await;
    platform(&s, "CDN Co", PlatformKind::Cdn, "cdnco.example").await;
    for (provider, role) in [("Host Co", "hosting"), ("CDN Co", "cdn")] {
        let r = post_as(
            &s,
            &alice,
            "/api/v1/platforms/Group%20Site/providers",
            &json!({ "provider": provider, "role": role }),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    }
    let r = post_as(
        &s,
        &alice,
        "/api/v1/platforms/Host%20Co/providers",
        &json!({ "provider": "CDN Co", "role": "cdn" }),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    let p = get_as(&s, &alice, "/api/v1/platforms/Group%20Site/providers")
        .await
        .json();
    assert_eq!(p["providers"].as_array().unwrap().len(), 2);
    let r = post_as(
        &s,
        &alice,
        "/api/v1/platforms/Group%20Site/providers/remove",
        &json!({ "provider": "CDN Co", "role": "cdn" }),
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);

    s.store
        .create_campaign(
            &ronda_store::NewCampaign {
                name: "Day".into(),
                starts_at: None,
                ends_at: None,
            },
            &Actor::local("test"),
        )
        .await
        .unwrap();
    let day = s.store.campaign("Day").await.unwrap().unwrap();
    let org = s.store.organisation_by_name("Unit").await.unwrap().unwrap();
    let mut ids = Vec::new();
    for i in 0..2 {
        let mut new = NewItem::url(canonicalize(&format!("https://group.example/p/{i}")).unwrap());
        new.org_id = Some(org.id);
        new.platform_id = Some(site);
        new.campaign_id = Some(day.id);
        ids.push(
            s.store
                .add_item(&new, &Actor::local("test"))
                .await
                .unwrap()
                .item
                .id,
        );
    }
    for id in &ids {
        let r = post_as(
            &s,
            &alice,
            &format!("/api/v1/review/{id}/decide"),
            &json!({ "verdict": "terrorist_content", "reason": "instruction" }),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    }
    let r = post_as(
        &s,
        &alice,
        "/api/v1/referrals",
        &json!({ "campaign": "Day", "queue": true }),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let made = r.json();
    let to: Vec<&str> = made["referrals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["platform"].as_str().unwrap())
        .collect();
    assert_eq!(to, ["Host Co", "Host Co"]);
    assert!(made["referrals"][0]["queued_at"].is_string());
    let again = post_as(
        &s,
        &alice,
        "/api/v1/referrals",
        &json!({ "campaign": "Day" }),
    )
    .await;
    assert_eq!(again.json()["referrals"], json!([]));
    let r = post_as(&s, &alice, "/api/v1/referrals", &json!({})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
}
