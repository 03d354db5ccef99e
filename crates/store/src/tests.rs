//! Unit tests of the store: keys, records, transactions, durability across reopen.

use super::*;
use serde::Deserialize;
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

#[test]
fn aborted_transaction_writes_nothing() {
    let store = Store::temporary().unwrap();
    let r: Result<(), TestError> = store.transact(|tx| {
        tx.insert(b"a", b"1".to_vec())?;
        Err(TestError::Taken)
    });
    assert!(matches!(r, Err(TestError::Taken)));
    assert_eq!(store.get(b"a").unwrap(), None);
}

#[test]
fn concurrent_unique_claims_yield_exactly_one_winner() {
    let store = Store::temporary().unwrap();
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
    assert_eq!(wins.load(Ordering::SeqCst), 1);
}

#[test]
fn committed_data_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
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
    let store = Store::open(dir.path()).unwrap();
    let t: Thing = store.get_record(&key(&["thing", "1"])).unwrap().unwrap();
    assert_eq!(t.name, "kept");
    let all: Vec<_> = store
        .scan_records::<Thing>(&prefix(&["thing"]))
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(store.get(b"counter").unwrap().unwrap(), 5u64.to_be_bytes());
}
