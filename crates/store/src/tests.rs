//! Unit tests of the store: keys, records, transactions, durability across reopen.

use super::*;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Thing {
    name: String,
}
impl Record for Thing {
    const KIND: &'static str = "thing";
    const VERSION: u8 = 2;
    fn upgrade(version: u8, json: serde_json::Value) -> Result<Self, String> {
        match version {
            1 => Ok(Thing {
                name: json["label"].as_str().ok_or("no label")?.to_string(),
            }),
            _ => Err("unknown".into()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
enum TestError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("taken")]
    Taken,
}

#[test]
fn keys_cannot_forge_boundaries() {
    assert_ne!(key(&["a\0", "b"]), key(&["a", "\0b"]));
    assert!(!key(&["a\0", "b"]).starts_with(&prefix(&["a"])));
    assert!(key(&["a", "b"]).starts_with(&prefix(&["a"])));
    assert_eq!(last_segment(&key(&["x", "y\0z"])), b"y\0z");
    assert_eq!(last_segment(&key(&["only"])), b"only");
    assert_eq!(
        segments(&key(&["ie", "t\0x", "17"])),
        vec![b"ie".to_vec(), b"t\0x".to_vec(), b"17".to_vec()]
    );
    let group = prefix(&["ie", "t"]);
    let next = after_prefix(&group);
    assert!(key(&["ie", "t", "zzz"]) < next);
    assert!(key(&["ie", "t\0", "a"]) > next);
    assert!(key(&["ie", "tt", "a"]) > next);
}

#[test]
fn rendered_keys_show_ids_as_log_tags_only() {
    let id = "UGIRW7QN727EIV2XLXG4YH42N4";
    let rendered = render_key(&key(&["h", id, "0000000000000003"]));
    assert_eq!(
        rendered,
        format!("h/{}/0000000000000003", idflow_ids::log_tag(id))
    );
    assert!(!rendered.contains(id), "{rendered}");
    // Other segments are shown as they are (NUL bytes dropped), a trailing empty one too.
    assert_eq!(
        render_key(&key(&["dep", "acme", "flow\0x"])),
        "dep/acme/flowx"
    );
    assert_eq!(render_key(&prefix(&["tok", "acme"])), "tok/acme/");
    // Lowercase or short look-alikes are no IDs: shown in full.
    assert_eq!(
        render_key(&key(&["n", "ugirw7qn727eiv2xlxg4yh42n4"])),
        "n/ugirw7qn727eiv2xlxg4yh42n4"
    );
}

#[test]
fn records_round_trip_and_upgrade() {
    let t = Thing { name: "n".into() };
    let bytes = encode_record(&t).unwrap();
    assert_eq!(bytes[0], 2);
    assert_eq!(decode_record::<Thing>(b"k", &bytes).unwrap(), t);
    let mut old = vec![1u8];
    old.extend_from_slice(br#"{"label":"old"}"#);
    assert_eq!(decode_record::<Thing>(b"k", &old).unwrap().name, "old");
    let mut future = vec![9u8];
    future.extend_from_slice(b"{}");
    assert!(matches!(
        decode_record::<Thing>(b"k", &future),
        Err(StoreError::UnsupportedVersion { found: 9, .. })
    ));
    assert!(matches!(
        decode_record::<Thing>(b"k", b""),
        Err(StoreError::Corrupt { .. })
    ));
    assert!(matches!(
        decode_record::<Thing>(b"k", b"\x02{nope"),
        Err(StoreError::Corrupt { .. })
    ));
}

/// A record long enough to be compressed, shaped like the runtime's.
fn long_thing() -> Thing {
    Thing {
        name: r#"{"t":"acme","d":"registration","v":3,"s":"ACTIVE","x":{"processvar":{"token":{"storeName":"people","externalId":"alice"}}}}"#
            .repeat(4),
    }
}

#[test]
fn long_records_are_compressed_and_read_back() {
    let t = long_thing();
    let bytes = encode_record(&t).unwrap();
    let plain = encode_plain(&t).unwrap();
    assert_eq!(bytes[0], ZSTD_DICTIONARY_1);
    assert_eq!(bytes[1], 2, "the record's version follows the format byte");
    assert!(
        bytes.len() * 3 < plain.len(),
        "{} of {}",
        bytes.len(),
        plain.len()
    );
    assert_eq!(decode_record::<Thing>(b"k", &bytes).unwrap(), t);
    assert_eq!(plain_record(b"k", &bytes).unwrap(), plain);
    // The same record as every store before compression held it reads the same.
    assert_eq!(plain[0], 2);
    assert_eq!(decode_record::<Thing>(b"k", &plain).unwrap(), t);
    assert_eq!(plain_record(b"k", &plain).unwrap(), plain);
    // A short one stays plain.
    let short = encode_record(&Thing { name: "n".into() }).unwrap();
    assert_eq!(short, b"\x02{\"name\":\"n\"}");
    // An older version inside a compressed value is upgraded like a plain one.
    #[derive(Serialize, Deserialize)]
    struct ThingV1 {
        label: String,
    }
    impl Record for ThingV1 {
        const KIND: &'static str = "thing";
        const VERSION: u8 = 1;
    }
    let old = encode_record(&ThingV1 {
        label: "old ".repeat(50),
    })
    .unwrap();
    assert_eq!(&old[..2], &[ZSTD_DICTIONARY_1, 1]);
    assert_eq!(
        decode_record::<Thing>(b"k", &old).unwrap().name,
        "old ".repeat(50)
    );
}

/// Bytes the first build with compression wrote for `long_thing()`: the dictionary of format
/// byte 0xc1 must read them for as long as stores may hold them.
const COMPRESSED_FIXTURE: &str = "c10228b52ffd6467017d030064037b5c22745c223a5c2261636d655c222c5c2264726567697374726174696f6e765c223a332c5c2273785c223a7b5c5c227d7d7d7d227d12fcc29a113b845bec18cf219797675d932b4f0400e014dd2e24e19c266acc0b7da1cab188aa4c3a2282dfd9afb13ffe924824c2412003b4f89db8";

#[test]
fn records_compressed_by_the_first_build_read_back() {
    let bytes = from_hex(COMPRESSED_FIXTURE);
    assert_eq!(decode_record::<Thing>(b"k", &bytes).unwrap(), long_thing());
}

fn from_hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn damaged_compressed_records_are_refused_as_corrupt() {
    let t = long_thing();
    let bytes = encode_record(&t).unwrap();
    // Every truncation and every flipped byte is an error, never a panic or another record.
    for len in 0..bytes.len() {
        assert!(
            decode_record::<Thing>(b"k", &bytes[..len]).is_err(),
            "cut at {len}"
        );
        assert!(plain_record(b"k", &bytes[..len]).is_err(), "cut at {len}");
    }
    for i in 0..bytes.len() {
        for flip in [0x01u8, 0x80, 0xff] {
            let mut damaged = bytes.clone();
            damaged[i] ^= flip;
            assert!(
                decode_record::<Thing>(b"k", &damaged).is_err(),
                "byte {i} flipped by {flip:#x}"
            );
        }
    }
    // A frame header claiming an enormous size is refused before anything is allocated.
    let mut huge = vec![ZSTD_DICTIONARY_1, 2, 0x28, 0xb5, 0x2f, 0xfd, 0xe0];
    huge.extend_from_slice(&(1u64 << 40).to_le_bytes());
    huge.extend_from_slice(&[0; 16]);
    match decode_record::<Thing>(b"user/x", &huge) {
        Err(StoreError::Corrupt { key, reason }) => {
            assert_eq!(key, "user/x");
            assert!(reason.contains("over the limit"), "{reason}");
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
    match decode_record::<Thing>(b"k", &[ZSTD_DICTIONARY_1, 2, 1, 2, 3]) {
        Err(StoreError::Corrupt { reason, .. }) => {
            assert!(reason.contains("zstd frame"), "{reason}")
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

/// Opens one test store (again).
type Opener = Box<dyn Fn() -> Store>;

/// The backends every behavioural test runs on, each with a way to open the same store again:
/// sled in a temporary directory, and a fresh database on the test PostgreSQL server.
fn backends() -> Vec<(&'static str, Opener)> {
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let url = idflow_pgtest::database();
    vec![
        (
            "sled",
            Box::new(move || Store::open(dir.path()).unwrap()) as Opener,
        ),
        (
            "postgres",
            Box::new(move || Store::open_at(&StoreLocation::Postgres(url.clone())).unwrap()),
        ),
    ]
}

#[test]
fn aborted_transaction_writes_nothing() {
    for (name, open) in backends() {
        let store = open();
        let r: Result<(), TestError> = store.transact(|tx| {
            tx.insert(b"a", b"1".to_vec())?;
            assert_eq!(
                tx.get(b"a")?,
                Some(b"1".to_vec()),
                "{name}: reads its own write"
            );
            Err(TestError::Taken)
        });
        assert!(matches!(r, Err(TestError::Taken)), "{name}");
        assert_eq!(store.get(b"a").unwrap(), None, "{name}");
    }
}

#[test]
fn a_transaction_reads_its_own_writes_and_removals() {
    for (name, open) in backends() {
        let store = open();
        store
            .commit(|tx| -> Result<(), StoreError> {
                tx.insert(b"kept", b"1".to_vec())?;
                tx.insert(b"gone", b"2".to_vec())?;
                Ok(())
            })
            .unwrap();
        store
            .commit(|tx| -> Result<(), StoreError> {
                tx.remove(b"gone")?;
                assert_eq!(tx.get(b"gone")?, None, "{name}");
                tx.insert(b"kept", b"3".to_vec())?;
                assert_eq!(tx.increment(b"n", 2)?, 2, "{name}");
                assert_eq!(tx.increment(b"n", 2)?, 4, "{name}");
                assert_eq!(tx.get(b"kept")?, Some(b"3".to_vec()), "{name}");
                Ok(())
            })
            .unwrap();
        assert_eq!(store.get(b"gone").unwrap(), None, "{name}");
        assert_eq!(store.get(b"kept").unwrap(), Some(b"3".to_vec()), "{name}");
        assert_eq!(store.get(b"n").unwrap(), Some(4u64.to_be_bytes().to_vec()));
    }
}

#[test]
fn concurrent_unique_claims_yield_exactly_one_winner() {
    for (name, open) in backends() {
        let store = open();
        let wins = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..32)
            .map(|i| {
                let store = store.clone();
                let wins = wins.clone();
                std::thread::spawn(move || {
                    let r: Result<(), TestError> = store.transact(|tx| {
                        if tx.contains(b"claim")? {
                            return Err(TestError::Taken);
                        }
                        tx.insert(b"claim", format!("{i}").into_bytes())?;
                        Ok(())
                    });
                    if r.is_ok() {
                        wins.fetch_add(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(wins.load(Ordering::SeqCst), 1, "{name}");
    }
}

#[test]
fn concurrent_increments_are_never_lost() {
    for (name, open) in backends() {
        let store = open();
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let store = store.clone();
                std::thread::spawn(move || {
                    for _ in 0..25 {
                        store
                            .commit(|tx| tx.increment(b"count", 1).map(|_| ()))
                            .unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(
            store.get(b"count").unwrap(),
            Some(200u64.to_be_bytes().to_vec()),
            "{name}"
        );
    }
}

#[test]
fn committed_data_survives_reopen() {
    for (name, open) in backends() {
        {
            let store = open();
            store
                .commit(|tx| -> Result<(), StoreError> {
                    tx.put_record(
                        &key(&["thing", "1"]),
                        &Thing {
                            name: "kept".into(),
                        },
                    )?;
                    tx.increment(b"counter", 5)?;
                    Ok(())
                })
                .unwrap();
        }
        let store = open();
        let t: Thing = store.get_record(&key(&["thing", "1"])).unwrap().unwrap();
        assert_eq!(t.name, "kept", "{name}");
        let all: Vec<_> = store
            .scan_records::<Thing>(&prefix(&["thing"]))
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(all.len(), 1, "{name}");
        assert_eq!(store.get(b"counter").unwrap().unwrap(), 5u64.to_be_bytes());
    }
}

#[test]
fn scans_and_pages_follow_key_order_on_every_backend() {
    for (name, open) in backends() {
        let store = open();
        // More keys than one PostgreSQL scan page, segments with NUL and 0xFF bytes, and
        // neighbours just outside the prefix on both sides.
        let mut expected = Vec::new();
        store
            .commit(|tx| -> Result<(), StoreError> {
                for i in 0..1200u32 {
                    tx.insert(&key(&[b"g".as_slice(), &i.to_be_bytes()]), vec![1])?;
                }
                tx.insert(&key(&[b"g".as_slice(), b"\xff\xff"]), vec![2])?;
                tx.insert(&key(&[b"g".as_slice(), b"a\0b"]), vec![3])?;
                tx.insert(&key(&["f", "z"]), vec![9])?;
                tx.insert(&key(&["h", "a"]), vec![9])?;
                tx.insert(&key(&["g\0", "a"]), vec![9])?;
                Ok(())
            })
            .unwrap();
        for i in 0..1200u32 {
            expected.push(key(&[b"g".as_slice(), &i.to_be_bytes()]));
        }
        expected.push(key(&[b"g".as_slice(), b"\xff\xff"]));
        expected.push(key(&[b"g".as_slice(), b"a\0b"]));
        expected.sort();
        let scanned: Vec<Vec<u8>> = store
            .scan_prefix(&prefix(&["g"]))
            .map(|r| r.map(|(k, _)| k))
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(scanned, expected, "{name}");
        assert_eq!(store.count_prefix(&prefix(&["g"])).unwrap(), 1202, "{name}");
        let page = store
            .scan_from(&prefix(&["g"]), &expected[600], 10)
            .unwrap();
        let keys: Vec<_> = page.into_iter().map(|(k, _)| k).collect();
        assert_eq!(keys, expected[600..610].to_vec(), "{name}");
        let tail = store
            .scan_from(&prefix(&["g"]), &expected[1200], 10)
            .unwrap();
        assert_eq!(tail.len(), 2, "{name}: stops at the end of the prefix");
    }
}

#[test]
fn postgres_schema_is_migrated_once_and_a_newer_one_is_refused() {
    let url = idflow_pgtest::database();
    let location = StoreLocation::Postgres(url.clone());
    // Several nodes starting at once all see the schema at this build's version.
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let location = location.clone();
            std::thread::spawn(move || Store::open_at(&location).map(|s| s.schema_version()))
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap().unwrap().unwrap(), Some(1));
    }
    let mut client = ::postgres::Client::connect(&url, ::postgres::NoTls).unwrap();
    client
        .execute(
            "INSERT INTO idflow_schema (version, description) VALUES (99, 'from the future')",
            &[],
        )
        .unwrap();
    let refused = Store::open_at(&location).err().expect("refused");
    assert!(refused.to_string().contains("version 99"), "{refused}");
}

#[test]
fn postgres_errors_name_the_server_without_its_password() {
    let refused = Store::open_at(&StoreLocation::Postgres(
        "postgres://idflow:hunter2@127.0.0.1:1/idflow?connect_timeout=2".into(),
    ))
    .err()
    .expect("nothing listens on port 1");
    let message = refused.to_string();
    assert!(message.contains("127.0.0.1:1"), "{message}");
    assert!(!message.contains("hunter2"), "{message}");
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Doc {
    body: serde_json::Value,
}
impl Record for Doc {
    const KIND: &'static str = "doc";
    const VERSION: u8 = 1;
}

fn nested(depth: usize) -> serde_json::Value {
    let mut v = serde_json::json!(1);
    for _ in 0..depth {
        v = serde_json::json!({ "a": v });
    }
    v
}

#[test]
fn a_record_too_deep_to_read_back_is_refused_when_written() {
    let store = Store::temporary().unwrap();
    let k = key(&["doc", "deep"]);
    // 127 levels of answer inside the record's own object: serde_json could not read it back.
    let deep = Doc { body: nested(127) };
    let err = store
        .commit(|tx| tx.put_record(&k, &deep).map_err(TestError::from))
        .unwrap_err();
    let TestError::Store(StoreError::Encode { kind, reason }) = err else {
        panic!("expected an encode error, got {err:?}");
    };
    assert_eq!(kind, "doc");
    assert!(reason.contains("over the limit of 100"), "{reason}");
    assert_eq!(store.get(&k).unwrap(), None, "nothing was written");
    // At the limit it is written and read back.
    let ok = Doc {
        body: nested(MAX_RECORD_DEPTH - 1),
    };
    store
        .commit(|tx| tx.put_record(&k, &ok).map_err(TestError::from))
        .unwrap();
    assert_eq!(store.get_record::<Doc>(&k).unwrap(), Some(ok));
}

#[test]
fn json_depth_ignores_brackets_in_strings() {
    assert_eq!(json_depth(b"1"), 0);
    assert_eq!(json_depth(br#"{"a":[1,{"b":"[[[{{"}]}"#), 3);
    assert_eq!(json_depth(br#"["\"[", ["x"]]"#), 2);
    // A backslash as the last byte, an unterminated string: nothing after the quote counts.
    assert_eq!(json_depth(br#"[["\"#), 2);
    assert_eq!(json_depth(br#"[{"a\"[[[["#), 2);
}

/// The plain reading of the rule `json_depth` implements, a byte at a time: strings skipped,
/// a backslash escaping the byte after it, an unterminated string running to the end.
fn depth_byte_by_byte(json: &[u8]) -> usize {
    let (mut depth, mut deepest, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for &b in json {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// The nesting of a parsed value, counted on the tree.
fn value_depth(v: &serde_json::Value) -> usize {
    match v {
        serde_json::Value::Array(items) => 1 + items.iter().map(value_depth).max().unwrap_or(0),
        serde_json::Value::Object(map) => 1 + map.values().map(value_depth).max().unwrap_or(0),
        _ => 0,
    }
}

mod depth {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// On any bytes, valid JSON or not, the skipping scan agrees with the byte-at-a-time one.
        #[test]
        fn json_depth_agrees_with_a_byte_at_a_time_scan(
            bytes in prop::collection::vec(
                prop_oneof![
                    4 => prop::sample::select(b"\"\\[]{}".to_vec()),
                    1 => any::<u8>(),
                ],
                0..200,
            )
        ) {
            prop_assert_eq!(json_depth(&bytes), depth_byte_by_byte(&bytes));
        }

        /// On JSON serde_json writes, it is the depth of the tree.
        #[test]
        fn json_depth_is_the_nesting_of_the_value(body in round_trip::value()) {
            let text = serde_json::to_vec(&body).unwrap();
            prop_assert_eq!(json_depth(&text), value_depth(&body));
        }
    }
}

mod round_trip {
    use super::*;
    use proptest::prelude::*;

    pub(super) fn value() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(serde_json::Value::from),
            "[\\PC\"\\\\{}\\[\\]]{0,8}".prop_map(serde_json::Value::from),
        ];
        leaf.prop_recursive(160, 400, 3, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..3).prop_map(serde_json::Value::from),
                prop::collection::vec(("[a-z\"\\[{]{0,3}", inner), 0..3)
                    .prop_map(|kv| serde_json::Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    fn deep_chain() -> impl Strategy<Value = serde_json::Value> {
        (0usize..140, any::<bool>()).prop_map(|(depth, arrays)| {
            let mut v = serde_json::json!("leaf");
            for _ in 0..depth {
                v = if arrays {
                    serde_json::json!([v])
                } else {
                    serde_json::json!({ "k": v })
                };
            }
            v
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// Whatever the store accepts to write, it reads back equal; what it refuses is too deep.
        #[test]
        fn the_store_reads_back_everything_it_writes(
            body in prop_oneof![value(), deep_chain()]
        ) {
            let doc = Doc { body };
            match encode_record(&doc) {
                Ok(bytes) => {
                    let back: Doc = decode_record(b"doc", &bytes).expect("decodes");
                    prop_assert_eq!(back, doc);
                }
                Err(StoreError::Encode { .. }) => {
                    let text = serde_json::to_vec(&doc).unwrap();
                    prop_assert!(json_depth(&text) > MAX_RECORD_DEPTH);
                }
                Err(other) => prop_assert!(false, "unexpected {other}"),
            }
        }
    }
}

#[cfg(unix)]
mod files {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &std::path::Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            }
            out.push(p);
        }
    }

    #[test]
    fn a_new_store_is_private_to_its_user() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("data").join("store");
        let store = Store::open(&dir).unwrap();
        // A large value goes to one of sled's blob files: it must be private too.
        // Incompressible (a plain record), so it stays large.
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let noise: String = (0..600_000)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                char::from(b'!' + (state % 90) as u8)
            })
            .filter(|c| *c != '"' && *c != '\\')
            .collect();
        let big = Doc {
            body: serde_json::Value::String(noise),
        };
        store
            .commit(|tx| tx.put_record(&key(&["big"]), &big).map_err(TestError::from))
            .unwrap();
        assert_eq!(mode(&dir), 0o700);
        let mut paths = Vec::new();
        walk(&dir, &mut paths);
        assert!(paths.len() >= 2, "{paths:?}");
        for p in paths {
            let want = if p.is_dir() { 0o700 } else { 0o600 };
            assert_eq!(mode(&p), want, "{}", p.display());
        }
    }

    #[test]
    fn a_store_directory_others_may_write_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("store");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        let err = Store::open(&dir).err().expect("refused");
        assert!(
            matches!(&err, StoreError::Unsafe { reason, .. } if reason.contains("777")),
            "{err}"
        );
        // One others may only read is made private and opens.
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        Store::open(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
    }

    #[test]
    fn every_commit_syncs_the_device_before_it_returns() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(&tmp.path().join("store")).unwrap();
        let before = store.device_syncs();
        store
            .commit(|tx| tx.insert(b"k", b"v".to_vec()).map_err(TestError::from))
            .unwrap();
        assert_eq!(store.device_syncs(), before + 1);
        // A store opened for the crash-only benchmark skips the sync.
        drop(store);
        let crash_only =
            Store::open_with(&tmp.path().join("store"), Durability::ProcessCrash).unwrap();
        crash_only
            .commit(|tx| tx.insert(b"k2", b"v".to_vec()).map_err(TestError::from))
            .unwrap();
        assert_eq!(crash_only.device_syncs(), 0);
        // Nor does a temporary store, which has no device.
        let temporary = Store::temporary().unwrap();
        temporary
            .commit(|tx| tx.insert(b"k", b"v".to_vec()).map_err(TestError::from))
            .unwrap();
        assert_eq!(temporary.device_syncs(), 0);
    }
}

#[test]
fn postgres_may_be_called_from_async_tasks_and_a_current_thread_runtime_gets_an_error() {
    let location = StoreLocation::Postgres(idflow_pgtest::database());
    let store = Store::open_at(&location).unwrap();
    let multi = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let read = multi.block_on({
        let store = store.clone();
        async move {
            tokio::spawn(async move {
                store
                    .commit(|tx| tx.insert(b"async", b"1".to_vec()))
                    .unwrap();
                store.get(b"async").unwrap()
            })
            .await
            .unwrap()
        }
    });
    assert_eq!(read, Some(b"1".to_vec()));
    let single = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let refused = single.block_on(async { store.get(b"async") });
    let message = refused.expect_err("refused, not a panic").to_string();
    assert!(message.contains("spawn_blocking"), "{message}");
}
