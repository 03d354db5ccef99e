//! Moves a store's instance index keys from the text layout (`ia/`, `it/`, `ie/`: hex times and
//! ID text) to the compact one (`xa/`, `xt/`, `xe/`: binary times and IDs), once per store, when
//! [`Runtime::resume`] opens it.
//!
//! Why move rather than read both: every reader of these indexes (listing pages with their
//! cursors, due timers, the retention purge) scans one range in key order. Two layouts would
//! mean merging two ranges everywhere, for ever; moving once keeps one layout and one range. An
//! index key holds nothing but its parts, so moving it loses nothing: each batch removes the old
//! keys and inserts their compact twins in one durable transaction, and a start interrupted
//! part-way finds the rest still under the old prefixes next time. A key of the old layout that
//! does not parse is left where it is (nothing reads there any more) and reported with why.

use crate::error::RuntimeError;
use crate::keys::{self, text};
use crate::runtime::Runtime;

/// Old keys moved in one transaction.
const BATCH: usize = 1024;

/// What one upgrade did.
#[derive(Debug, Default)]
pub(crate) struct IndexUpgrade {
    /// Keys moved to the compact layout.
    pub(crate) moved: usize,
    /// Keys of the text layout that do not parse, rendered for messages, with why: left in
    /// place.
    pub(crate) left: Vec<(String, String)>,
}

/// The compact twin of a text-layout key, or why there is none.
type Convert = fn(&[u8]) -> Result<Vec<u8>, &'static str>;

fn active(key: &[u8]) -> Result<Vec<u8>, &'static str> {
    let (due, id) = text::parse_active(key)?;
    Ok(keys::active(due, &id))
}

fn listing(key: &[u8]) -> Result<Vec<u8>, &'static str> {
    let (tenant, started, id) = text::parse_tenant_entry("it", key)?;
    Ok(keys::tenant_instance(&tenant, started, &id))
}

fn ended(key: &[u8]) -> Result<Vec<u8>, &'static str> {
    let (tenant, ended, id) = text::parse_tenant_entry("ie", key)?;
    Ok(keys::ended(&tenant, ended, &id))
}

impl Runtime {
    /// Moves every index key of the text layout to the compact one, unless the store's marker
    /// says this was done.
    pub(crate) fn compact_index_keys(&self) -> Result<IndexUpgrade, RuntimeError> {
        let marker = keys::compact_index_marker();
        let mut report = IndexUpgrade::default();
        if self.store.get(&marker)?.is_some() {
            return Ok(report);
        }
        let layouts: [(Vec<u8>, Convert); 3] = [
            (text::active_instances(), active),
            (text::all_tenant_instances(), listing),
            (text::ended_instances(), ended),
        ];
        for (prefix, convert) in layouts {
            let mut start = prefix.clone();
            loop {
                let rows = self.store.scan_from(&prefix, &start, BATCH)?;
                let Some((last, _)) = rows.last() else { break };
                let mut moves = Vec::with_capacity(rows.len());
                for (key, _) in &rows {
                    match convert(key) {
                        Ok(compact) => moves.push((key.clone(), compact)),
                        Err(why) => {
                            let shown = idflow_store::render_key(key);
                            tracing::warn!(key = %shown, why, "an index key of the text layout does not parse: left in place");
                            report.left.push((shown, why.to_string()));
                        }
                    }
                }
                // Keys left in place stay in the range: the next page starts after this one.
                start = last.clone();
                start.push(0);
                if !moves.is_empty() {
                    self.commit(|tx| {
                        for (old, compact) in &moves {
                            tx.remove(old)?;
                            tx.insert(compact, Vec::new())?;
                        }
                        Ok(())
                    })?;
                    report.moved += moves.len();
                }
                if rows.len() < BATCH {
                    break;
                }
            }
        }
        self.commit(|tx| Ok(tx.insert(&marker, vec![1])?))?;
        if report.moved > 0 {
            tracing::info!(
                moved = report.moved,
                "instance index keys moved to the compact layout"
            );
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "UGIRW7QN727EIV2XLXG4YH42N4";

    #[test]
    fn text_keys_convert_to_their_compact_twins() {
        assert_eq!(
            active(&text::active(Some(1234), ID)),
            Ok(keys::active(Some(1234), ID))
        );
        assert_eq!(active(&text::active(None, ID)), Ok(keys::active(None, ID)));
        assert_eq!(
            listing(&text::tenant_entry("it", "t\0/x", 5, ID)),
            Ok(keys::tenant_instance("t\0/x", 5, ID))
        );
        assert_eq!(
            ended(&text::tenant_entry("ie", "t", 1_700_000_000_000, ID)),
            Ok(keys::ended("t", 1_700_000_000_000, ID))
        );
    }

    #[test]
    fn malformed_text_keys_say_why() {
        use idflow_store::key;
        let cases: [(Vec<u8>, Convert, &str); 6] = [
            (key(&["ia", "zz", ID]), active, "16 hex digits"),
            (key(&["ia", "0000000000000001"]), active, "three parts"),
            (
                key(&[b"ia".as_slice(), b"0000000000000001", b"\xff\xfe"]),
                active,
                "not text",
            ),
            (
                key(&["it", "t", "0000000000000001", "not-an-id"]),
                listing,
                "not an ID",
            ),
            (
                key(&[
                    b"ie".as_slice(),
                    b"\xff",
                    b"0000000000000001",
                    ID.as_bytes(),
                ]),
                ended,
                "tenant is not text",
            ),
            (key(&["ie", "t", ID]), ended, "four parts"),
        ];
        for (key, convert, why) in cases {
            let err = convert(&key).expect_err("malformed");
            assert!(err.contains(why), "{err} for {key:?}");
        }
    }
}
