//! `ronda admin user` and `ronda admin token create --user`, as an
//! administrator runs them: users created, listed (table and JSON lines)
//! and disabled, tokens made for them, and clear refusals.

use std::process::Output;

use crate::{json_lines, ronda};

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs `ronda admin ARGS --data-dir DATA` and checks that it succeeded.
fn admin_ok(data: &str, args: &[&str]) -> Output {
    let out = admin(data, args);
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    out
}

fn admin(data: &str, args: &[&str]) -> Output {
    let mut all = vec!["admin"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--data-dir", data]);
    ronda(&all, b"")
}

/// Runs `ronda admin ARGS`, which must fail with exit code 2 and say `why`.
fn admin_refused(data: &str, args: &[&str], why: &str) {
    let out = admin(data, args);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
    assert!(stderr(&out).contains(why), "{args:?}: {}", stderr(&out));
}

#[test]
fn users_are_created_listed_given_tokens_and_disabled() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data").display().to_string();

    admin_refused(
        &data,
        &[
            "user", "create", "ana", "--role", "analyst", "--org", "Unit",
        ],
        "organisation \"Unit\" not found",
    );
    admin_ok(&data, &["org", "create", "Unit"]);
    admin_ok(
        &data,
        &[
            "user",
            "create",
            "ana",
            "--role",
            "analyst",
            "--org",
            "Unit",
            "--display-name",
            "Ana Lyst",
        ],
    );
    admin_ok(&data, &["user", "create", "root", "--role", "admin"]);
    admin_refused(
        &data,
        &["user", "create", "ana", "--role", "reviewer"],
        "user \"ana\" already exists",
    );
    admin_refused(
        &data,
        &["user", "create", "bob", "--role", "overlord"],
        "unknown role",
    );
    admin_refused(
        &data,
        &["user", "create", "Bob Smith", "--role", "analyst"],
        "invalid user name",
    );

    let out = admin_ok(&data, &["user", "list"]);
    let table = String::from_utf8_lossy(&out.stdout).into_owned();
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3, "{table}");
    assert!(lines[0].starts_with("NAME"), "{table}");
    for word in ["ana", "analyst", "Unit", "Ana Lyst", "active"] {
        assert!(lines[1].contains(word), "{word} missing: {table}");
    }
    assert!(lines[2].starts_with("root"), "{table}");

    let out = admin_ok(&data, &["user", "list", "--json"]);
    let users = json_lines(&out);
    assert_eq!(users.len(), 2);
    assert_eq!(users[0]["name"], "ana");
    assert_eq!(users[0]["role"], "analyst");
    assert_eq!(users[0]["org_name"], "Unit");
    assert_eq!(users[0]["disabled_at"], serde_json::Value::Null);

    // A token for the user takes its role; another role is refused.
    let out = admin_ok(
        &data,
        &["token", "create", "--user", "ana", "--label", "laptop"],
    );
    let secret = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(secret.starts_with("ronda_"), "{secret}");
    admin_ok(
        &data,
        &["token", "create", "--user", "ana", "--role", "analyst"],
    );
    admin_refused(
        &data,
        &["token", "create", "--user", "ana", "--role", "admin"],
        "has role analyst",
    );
    admin_refused(
        &data,
        &["token", "create", "--user", "nobody"],
        "user \"nobody\" not found",
    );
    admin_refused(
        &data,
        &["token", "create", "--user", "ana", "--org", "Unit"],
        "--org",
    );
    admin_refused(&data, &["token", "create"], "--role");
    let out = admin_ok(&data, &["token", "list"]);
    let tokens = json_lines(&out);
    assert_eq!(tokens.len(), 2);
    assert!(tokens.iter().all(|t| t["user_id"] == users[0]["id"]));
    assert!(tokens.iter().all(|t| t["role"] == "analyst"));
    assert!(!String::from_utf8_lossy(&out.stdout).contains(&secret));

    // Disabling revokes every token of the user.
    let out = admin_ok(&data, &["user", "disable", "ana"]);
    assert!(
        stderr(&out).contains("revoked 2 token(s)"),
        "{}",
        stderr(&out)
    );
    let tokens = json_lines(&admin_ok(&data, &["token", "list"]));
    assert!(
        tokens.iter().all(|t| t["revoked_at"].is_i64()),
        "{tokens:?}"
    );
    admin_refused(&data, &["user", "disable", "ana"], "already disabled");
    admin_refused(
        &data,
        &["user", "disable", "nobody"],
        "user \"nobody\" not found",
    );
    admin_refused(&data, &["token", "create", "--user", "ana"], "is disabled");
    let out = admin_ok(&data, &["user", "list"]);
    let table = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        table.lines().nth(1).is_some_and(|l| l.contains("disabled")),
        "{table}"
    );

    let out = admin_ok(&data, &["audit", "verify"]);
    assert!(
        stderr(&out).contains("audit chain intact"),
        "{}",
        stderr(&out)
    );
}
