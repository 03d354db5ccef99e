//! `idflow store copy`: a data directory moved into PostgreSQL serves as it did: the same tokens,
//! instances and histories, and the same keys (a token minted from the data directory's key is
//! accepted; the copy's markers are the original's).

use std::process::Command;
use std::time::Duration;

use idflow_server::{open_data_dir, Claims, Config};

const BIN: &str = env!("CARGO_BIN_EXE_idflow");

fn config(data: &std::path::Path, store: Option<String>) -> Config {
    let mut config = Config::new("127.0.0.1:0".parse().expect("address"), data);
    config.store = store;
    config
}

#[test]
fn a_copied_data_directory_serves_from_postgres_as_it_did() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let (tokens, instance, history, minted) = {
        let opened = open_data_dir(&config(&data, None)).expect("opens and seeds the demo");
        let runtime = opened.state.runtime();
        let tokens = runtime.list_tokens("demo").expect("tokens");
        assert!(!tokens.is_empty(), "the demo seeds tokens");
        let started = runtime.start(&tokens[0].id).expect("starts");
        let history = runtime.export_history(&started.id).expect("history");
        let minted = opened
            .state
            .signing_key()
            .mint(&Claims::new(
                "copy test",
                vec!["TNT#demo#*".into()],
                Duration::from_secs(600),
            ))
            .expect("mint");
        (tokens, started.id, history, minted)
    };
    let url = idflow_pgtest::database();
    let out = Command::new(BIN)
        .args(["store", "copy", "--from"])
        .arg(&data)
        .args(["--to", &url])
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("and 2 keys"), "{stdout}");
    assert!(stdout.contains("checked: identical"), "{stdout}");

    let copied = open_data_dir(&config(&dir.path().join("unused"), Some(url.clone())))
        .expect("opens the copy");
    let runtime = copied.state.runtime();
    let copied_tokens = runtime.list_tokens("demo").expect("tokens");
    assert_eq!(
        copied_tokens.iter().map(|t| &t.id).collect::<Vec<_>>(),
        tokens.iter().map(|t| &t.id).collect::<Vec<_>>()
    );
    assert_eq!(
        serde_json::to_value(runtime.export_history(&instance).expect("history")).expect("json"),
        serde_json::to_value(&history).expect("json")
    );
    let claims = copied
        .state
        .signing_key()
        .verify(&minted)
        .expect("the original key");
    assert_eq!(claims.sub, "copy test");
    // The copy runs: a new instance starts on the copied token.
    runtime
        .start(&copied_tokens[0].id)
        .expect("starts on the copy");

    // A second copy into the same database is refused, naming why.
    let again = Command::new(BIN)
        .args(["store", "copy", "--from"])
        .arg(&data)
        .args(["--to", &url])
        .output()
        .expect("runs");
    assert_eq!(again.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains("already holds idflow data"), "{stderr}");
}
