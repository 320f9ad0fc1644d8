//! Users through the API: an administrator creates one, makes it a token,
//! the token works and the audit log names the user, and disabling the
//! user shuts its tokens out.

use axum::http::{Method, StatusCode};
use ronda_server::ServerConfig;
use ronda_store::{Actor, Role};
use serde_json::json;

use crate::support::{Reply, Server, call};

/// A request with a given bearer secret (not one of the per-role tokens).
async fn as_secret(s: &Server, method: Method, path: &str, secret: &str) -> Reply {
    call(s.client.request(method, s.url(path)).bearer_auth(secret)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_makes_a_user_whose_token_is_audited_by_name_until_disabled() {
    let s = Server::start(ServerConfig::default()).await;
    let org = s
        .store
        .create_organisation("Referral Unit", &Actor::local("test"))
        .await
        .unwrap();

    let r = s
        .post_json(
            "/api/v1/users",
            Role::Admin,
            &json!({ "name": "ana", "role": "analyst", "display_name": "Ana", "org_id": org.id }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let user = r.json();
    assert_eq!(
        (
            &user["name"],
            &user["role"],
            &user["org_id"],
            &user["org"],
            &user["active"]
        ),
        (
            &json!("ana"),
            &json!("analyst"),
            &json!(org.id),
            &json!("Referral Unit"),
            &json!(true)
        )
    );
    assert_eq!(user["disabled_at"], json!(null));

    // Clear refusals: a taken name, an unknown organisation or role, a bad name.
    for (body, status) in [
        (
            json!({ "name": "ana", "role": "admin" }),
            StatusCode::CONFLICT,
        ),
        (
            json!({ "name": "bob", "role": "analyst", "org_id": org.id + 100 }),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({ "name": "bob", "role": "overlord" }),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({ "name": "Bob Smith", "role": "analyst" }),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let r = s.post_json("/api/v1/users", Role::Admin, &body).await;
        assert_eq!(r.status, status, "{body}: {}", r.text);
        assert!(r.is_message(), "{}", r.text);
    }

    // A token for the user takes the user's role and organisation.
    let r = s
        .post_json(
            "/api/v1/tokens",
            Role::Admin,
            &json!({ "label": "ana-laptop", "user": "ana" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let created = r.json();
    let token_id = created["token"]["id"].as_i64().unwrap();
    assert_eq!(created["token"]["user_id"], user["id"]);
    assert_eq!(created["token"]["role"], "analyst");
    assert_eq!(created["token"]["org_id"], json!(org.id));
    let secret = created["secret"].as_str().unwrap().to_owned();
    for (body, status) in [
        (
            json!({ "label": "x", "user": "ana", "role": "admin" }),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({ "label": "x", "user": "ana", "org_id": org.id }),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({ "label": "x", "user": "nobody" }),
            StatusCode::BAD_REQUEST,
        ),
        (json!({ "label": "x" }), StatusCode::UNPROCESSABLE_ENTITY),
    ] {
        let r = s.post_json("/api/v1/tokens", Role::Admin, &body).await;
        assert_eq!(r.status, status, "{body}: {}", r.text);
    }

    // The token works, as the user, and what it does is the user's doing.
    let r = as_secret(&s, Method::GET, "/api/v1/whoami", &secret).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let me = r.json();
    assert_eq!(
        (&me["role"], &me["token_id"]),
        (&json!("analyst"), &json!(token_id))
    );
    assert_eq!(me["user"]["name"], "ana");
    let r = call(
        s.client
            .post(s.url("/api/v1/banks"))
            .bearer_auth(&secret)
            .json(&json!({ "name": "ANA_BANK" })),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    // An analyst manages no users.
    let r = as_secret(&s, Method::GET, "/api/v1/users", &secret).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    let events = s
        .get("/api/v1/audit?limit=1000", Some(Role::Admin))
        .await
        .json();
    let bank_event = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "bank.create")
        .expect("a bank.create event");
    assert_eq!(bank_event["actor"], "user:ana");
    // Service tokens keep their own name.
    let admin_token = s.token_id(Role::Admin);
    let user_event = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "user.create")
        .expect("a user.create event");
    assert_eq!(user_event["actor"], format!("token:{admin_token}"));

    // Disabling the user revokes its token; this node refuses it at once.
    let r = s
        .post_json("/api/v1/users/ana/disable", Role::Admin, &json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let done = r.json();
    assert_eq!(done["revoked_tokens"], json!([token_id]));
    assert_eq!(done["user"]["active"], false);
    let r = as_secret(&s, Method::GET, "/api/v1/whoami", &secret).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);

    let r = s
        .post_json("/api/v1/users/ana/disable", Role::Admin, &json!({}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    let r = s
        .post_json("/api/v1/users/nobody/disable", Role::Admin, &json!({}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    let r = s
        .post_json(
            "/api/v1/tokens",
            Role::Admin,
            &json!({ "label": "again", "user": "ana" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);

    let listed = s.get("/api/v1/users", Some(Role::Admin)).await.json();
    let users = listed["users"].as_array().unwrap();
    assert_eq!(users.len(), 1);
    assert_eq!(users[0]["name"], "ana");
    assert_eq!(users[0]["active"], false);
    assert!(users[0]["disabled_at"].is_string());

    let v = s
        .get("/api/v1/audit/verify", Some(Role::Auditor))
        .await
        .json();
    assert_eq!(v["first_bad_seq"], json!(null), "{v}");
}
