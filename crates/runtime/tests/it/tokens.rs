//! Process tokens: create, list, deactivate; expired, inactive and used-up tokens refused with
//! their reason; 200 racing starts on a token with maxUses = 7 start exactly 7 instances.

use std::sync::{Arc, Barrier};

use crate::common::*;
use idflow_runtime::flows;
use idflow_runtime::{
    InstanceQuery, NewToken, ProcessToken, RuntimeError, TokenKind, TokenRefusal, TokenStatus,
};
use serde_json::json;

fn new_token(name: &str, kind: TokenKind) -> NewToken {
    NewToken {
        name: name.to_string(),
        description: format!("token {name}"),
        process_defn_name: flows::SIX_NODE_NAME.to_string(),
        process_defn_version: None,
        kind,
        parameters: six_node_params(),
        ui_url: Some("https://example.test/start".into()),
    }
}

fn refusal(result: Result<idflow_runtime::InstanceView, RuntimeError>) -> TokenRefusal {
    match result {
        Err(RuntimeError::TokenRefused { reason, .. }) => reason,
        Err(other) => panic!("expected a refusal, got {other}"),
        Ok(v) => panic!("expected a refusal, started {}", v.id),
    }
}

#[test]
fn tokens_are_created_listed_read_and_deactivated() {
    let h = temporary();
    deploy_all(&h.runtime);
    let rt = &h.runtime;
    let a = rt
        .create_token(TENANT, new_token("a", TokenKind::Unlimited))
        .expect("creates");
    let b = rt
        .create_token(
            TENANT,
            new_token("b", TokenKind::CountLimited { max_uses: 3 }),
        )
        .expect("creates");
    assert_eq!(a.id.len(), 26);
    assert!(idflow_ids::is_id(&a.id));
    assert_ne!(a.id, b.id);
    assert_eq!(a.status, TokenStatus::Active);
    assert_eq!(a.uses, 0);
    assert_eq!(a.parameters, six_node_params());
    assert!(
        !format!("{a:?}").contains(&a.id),
        "Debug shows the credential"
    );

    let listed: Vec<ProcessToken> = rt.list_tokens(TENANT).expect("lists");
    assert_eq!(listed, vec![a.clone(), b.clone()]);
    assert!(rt.list_tokens("globex").expect("lists").is_empty());
    assert_eq!(rt.token(TENANT, "b").expect("reads"), b);

    let view = rt.start(&a.id).expect("starts");
    assert_eq!(view.token_name.as_deref(), Some("a"));
    assert_eq!(view.variables["token"], six_node_params());
    assert_eq!(rt.token(TENANT, "a").expect("reads").uses, 1);

    let off = rt.deactivate_token(TENANT, "a").expect("deactivates");
    assert_eq!(off.status, TokenStatus::Inactive);
    assert_eq!(refusal(rt.start(&a.id)), TokenRefusal::Inactive);
    assert_eq!(rt.token(TENANT, "a").expect("reads").uses, 1);
    assert!(matches!(
        rt.deactivate_token(TENANT, "zzz"),
        Err(RuntimeError::UnknownTokenName { .. })
    ));
}

#[test]
fn bad_token_specs_are_refused_naming_the_field() {
    let h = temporary();
    deploy_all(&h.runtime);
    let rt = &h.runtime;
    rt.create_token(TENANT, new_token("taken", TokenKind::Unlimited))
        .expect("creates");
    assert!(matches!(
        rt.create_token(TENANT, new_token("taken", TokenKind::Unlimited)),
        Err(RuntimeError::TokenNameTaken { .. })
    ));
    let cases: Vec<(NewToken, &str)> = vec![
        (new_token("", TokenKind::Unlimited), "name"),
        (new_token("   ", TokenKind::Unlimited), "name"),
        (
            new_token("z", TokenKind::CountLimited { max_uses: 0 }),
            "maxUses",
        ),
        (
            NewToken {
                parameters: json!("x"),
                ..new_token("p", TokenKind::Unlimited)
            },
            "parameters",
        ),
        (
            NewToken {
                description: "d".repeat(5000),
                ..new_token("d", TokenKind::Unlimited)
            },
            "description",
        ),
    ];
    for (spec, field) in cases {
        match rt.create_token(TENANT, spec) {
            Err(RuntimeError::InvalidToken { field: f, .. }) => assert_eq!(f, field),
            other => panic!("{field}: expected InvalidToken, got {other:?}"),
        }
    }
    assert!(matches!(
        rt.create_token(
            TENANT,
            NewToken {
                process_defn_name: "nope".into(),
                ..new_token("n", TokenKind::Unlimited)
            }
        ),
        Err(RuntimeError::UnknownDefinition { .. })
    ));
    assert!(matches!(
        rt.create_token(
            TENANT,
            NewToken {
                process_defn_version: Some(7),
                ..new_token("v", TokenKind::Unlimited)
            }
        ),
        Err(RuntimeError::UnknownDefinition {
            version: Some(7),
            ..
        })
    ));
    assert_eq!(rt.list_tokens(TENANT).expect("lists").len(), 1);
}

#[test]
fn expired_used_up_and_unknown_tokens_are_refused() {
    let h = temporary();
    deploy_all(&h.runtime);
    let rt = &h.runtime;
    let timed = rt
        .create_token(
            TENANT,
            new_token(
                "timed",
                TokenKind::TimeLimited {
                    expires_at_ms: T0 + 60_000,
                },
            ),
        )
        .expect("creates");
    rt.start(&timed.id).expect("before expiry");
    h.clock.advance(60_000);
    assert_eq!(
        refusal(rt.start(&timed.id)),
        TokenRefusal::Expired {
            expired_at_ms: T0 + 60_000
        }
    );

    let counted = rt
        .create_token(
            TENANT,
            new_token("counted", TokenKind::CountLimited { max_uses: 2 }),
        )
        .expect("creates");
    rt.start(&counted.id).expect("first");
    rt.start(&counted.id).expect("second");
    assert_eq!(
        refusal(rt.start(&counted.id)),
        TokenRefusal::UsedUp { max_uses: 2 }
    );
    assert_eq!(rt.token(TENANT, "counted").expect("reads").uses, 2);

    for bad in [
        "",
        "not-a-token",
        "AAAAAAAAAAAAAAAAAAAAAAAAAA",
        &counted.id.to_lowercase(),
    ] {
        assert!(
            matches!(rt.start(bad), Err(RuntimeError::UnknownToken)),
            "{bad:?}"
        );
    }
    let message = RuntimeError::UnknownToken.to_string();
    assert!(!message.contains(&counted.id));
}

#[test]
fn racing_starts_on_a_count_limited_token_start_exactly_max_uses() {
    // On disk, so every start is a durable commit as in production.
    let dir = tempfile::tempdir().expect("tempdir");
    let h = runtime_with(store_at(dir.path()), Arc::new(flows::six_node_script(true)));
    deploy_all(&h.runtime);
    let token = h
        .runtime
        .create_token(
            TENANT,
            new_token("seven", TokenKind::CountLimited { max_uses: 7 }),
        )
        .expect("creates");
    let racers = 200;
    let threads = 16;
    let barrier = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let runtime = Arc::clone(&h.runtime);
            let barrier = Arc::clone(&barrier);
            let id = token.id.clone();
            std::thread::spawn(move || {
                barrier.wait();
                let mut started = Vec::new();
                let mut refused = 0;
                for _ in (t..racers).step_by(threads) {
                    match runtime.start(&id) {
                        Ok(v) => started.push(v.id),
                        Err(RuntimeError::TokenRefused {
                            reason: TokenRefusal::UsedUp { max_uses: 7 },
                            ..
                        }) => refused += 1,
                        Err(other) => panic!("unexpected {other}"),
                    }
                }
                (started, refused)
            })
        })
        .collect();
    let mut started = Vec::new();
    let mut refused = 0;
    for handle in handles {
        let (s, r) = handle.join().expect("thread");
        started.extend(s);
        refused += r;
    }
    assert_eq!(started.len(), 7);
    assert_eq!(refused, racers - 7);
    assert_eq!(h.runtime.token(TENANT, "seven").expect("reads").uses, 7);
    let listed = h
        .runtime
        .list_instances(
            TENANT,
            &InstanceQuery {
                limit: 100,
                ..InstanceQuery::default()
            },
        )
        .expect("lists");
    assert_eq!(listed.items.len(), 7);
    assert!(listed
        .items
        .iter()
        .all(|i| i.token_name.as_deref() == Some("seven")));
}
