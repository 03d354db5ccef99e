//! The runtime's key layout in the store, in one place.
//!
//! | key | value | what |
//! |---|---|---|
//! | `dep/{tenant}/{name}/{version:010}` | [`DeploymentRecord`] | one deployed version |
//! | `dsrc/{tenant}/{name}/{version:010}` | [`SourceRecord`] | its BPMN bytes |
//! | `dhash/{tenant}/{name}/{sha256}` | [`VersionRecord`] | identical content keeps its version |
//! | `dlast/{tenant}/{name}` | u64 counter | the latest version |
//! | `tok/{tenant}/{name}` | [`TokenRecord`] | a process token, its use count inside |
//! | `tokid/{id}` | [`TokenIdRecord`] | the credential an end user presents → its token |
//! | `i/{id}` | [`InstanceRecord`] | an instance's state, with its history (version 2) |
//! | `h/{id}/{first index:016x}` | [`HistoryChunkRecord`] | the events of one transition chain that its instance record does not hold: written before records held history, or moved out of a record past [`HELD_HISTORY_BYTES`] |
//! | `xa/{due}{id}` | empty | the active instances by their earliest armed timer (all ones without one): timers fire from its head, resume scans it |
//! | `xt/{tenant}/{started}{id}` | empty | a tenant's instances, oldest first (paging) |
//! | `xe/{tenant}/{ended}{id}` | empty | a tenant's ended instances, oldest first: what the retention purge reads |
//! | `ret/{tenant}` | [`RetentionRecord`] | the tenant's retention policy |
//! | `st/{tenant}/{name}/{version:010}/started` | u64 counter | instances started (the `statistics` module) |
//! | `st/{tenant}/{name}/{version:010}/ended/{status}` | u64 counter | instances ended with that status |
//! | `st/{tenant}/{name}/{version:010}/arrived/{node}`, `.../left/{node}` | u64 counters | instances that came to rest at step `node`, and that left it |
//! | `meta/statistics` | `1` | the `st/` counters were counted from the instances (a store written before them) |
//! | `meta/ended-index` | `1` | instances ended before the ended index existed have been indexed |
//! | `meta/compact-index-keys` | `1` | the index keys of the text layout (`ia/`, `it/`, `ie/`, below) have been moved to `xa/`, `xt/`, `xe/` |
//! | `iq/{id}` | the active-index key it had | active instances whose record could not be read at start, set aside ([`crate::ResumeReport`]) |
//! | `scr/{id}/{node}` | u64 counter | [`ScriptedActivities`] visit counts (test double only) |
//!
//! Segments are joined by [`idflow_store::key`], which escapes separators, so a tenant or name
//! holding any bytes cannot reach another key. Fixed-width numbers keep keys in numeric order.
//!
//! The three instance indexes (`xa/`, `xt/`, `xe/`) end in a fixed-width binary entry instead
//! of segments: `{due}`, `{started}` and `{ended}` are milliseconds since 1970 as 8 bytes
//! big-endian (so keys sort by time; before 1970 is 0), and `{id}` is the 16 bytes the
//! instance's 26-character ID spells. The entry follows the prefix's last separator unescaped
//! and is always the key's last 24 bytes, so it needs no separator of its own. These keys are
//! written on every start and end, at the growing end of an ordered index, which sled rewrites
//! leaf by leaf: every byte of them counts several times on disk (BENCHMARKS.md, "Compact index
//! keys"). Stores written before held them as text, `ia/{due_ms:016x}/{id}` (`ffffffffffffffff`
//! without a timer), `it/{tenant}/{started_ms:016x}/{id}` and `ie/{tenant}/{ended_ms:016x}/{id}`
//! ([`text`]); [`crate::Runtime::resume`] moves them once (the private `upgrade` module).
//!
//! A transition writes one value for the instance: its record, with this chain's history
//! events appended to those it holds. Keeping an instance's history in one key rather than a
//! key per chain is what keeps the bytes on disk per instance low on sled, which appends every
//! changed key to its log and rewrites a changed key's whole leaf every tenth change
//! (BENCHMARKS.md, "The engine on sled, durable").
//!
//! One index serves both timers and restarts: an active instance has exactly one `xa/` key,
//! written in the same transaction as its state, ordered by when it next needs the runtime. A
//! chain that arms or disarms timers moves the key; an ending chain removes it. That is two
//! writes per instance for both jobs (one when it starts, one when it ends).
//!
//! [`DeploymentRecord`]: crate::records::DeploymentRecord
//! [`SourceRecord`]: crate::records::SourceRecord
//! [`VersionRecord`]: crate::records::VersionRecord
//! [`TokenRecord`]: crate::records::TokenRecord
//! [`TokenIdRecord`]: crate::records::TokenIdRecord
//! [`InstanceRecord`]: crate::records::InstanceRecord
//! [`HistoryChunkRecord`]: crate::records::HistoryChunkRecord
//! [`ScriptedActivities`]: crate::ScriptedActivities
//! [`RetentionRecord`]: crate::retention::RetentionRecord
//! [`HELD_HISTORY_BYTES`]: crate::HELD_HISTORY_BYTES

use idflow_store::{key, prefix};

fn version_segment(version: u32) -> String {
    format!("{version:010}")
}

pub(crate) fn deployment(tenant: &str, name: &str, version: u32) -> Vec<u8> {
    key(&["dep", tenant, name, &version_segment(version)])
}

pub(crate) fn deployments_of_tenant(tenant: &str) -> Vec<u8> {
    prefix(&["dep", tenant])
}

pub(crate) fn deployment_source(tenant: &str, name: &str, version: u32) -> Vec<u8> {
    key(&["dsrc", tenant, name, &version_segment(version)])
}

pub(crate) fn deployment_by_hash(tenant: &str, name: &str, hash: &str) -> Vec<u8> {
    key(&["dhash", tenant, name, hash])
}

pub(crate) fn latest_version(tenant: &str, name: &str) -> Vec<u8> {
    key(&["dlast", tenant, name])
}

pub(crate) fn token(tenant: &str, name: &str) -> Vec<u8> {
    key(&["tok", tenant, name])
}

pub(crate) fn tokens_of_tenant(tenant: &str) -> Vec<u8> {
    prefix(&["tok", tenant])
}

pub(crate) fn token_by_id(id: &str) -> Vec<u8> {
    key(&["tokid", id])
}

pub(crate) fn instance(id: &str) -> Vec<u8> {
    key(&["i", id])
}

pub(crate) fn set_aside(id: &str) -> Vec<u8> {
    key(&["iq", id])
}

pub(crate) fn instance_records() -> Vec<u8> {
    prefix(&["i"])
}

pub(crate) fn history_all() -> Vec<u8> {
    prefix(&["h"])
}

pub(crate) fn history_chunk(id: &str, first_index: u64) -> Vec<u8> {
    key(&["h", id, &format!("{first_index:016x}")])
}

pub(crate) fn history_of(id: &str) -> Vec<u8> {
    prefix(&["h", id])
}

/// Bytes of a time in an index key: milliseconds since 1970 as a big-endian `u64`, so keys
/// sort by time. Times before 1970 are clamped to 0 (a due time in the past is simply due).
const TIME_BYTES: usize = 8;

/// Bytes of an instance ID in an index key: the 16 bytes its 26 characters spell.
const ID_BYTES: usize = 16;

/// What follows an index key's prefix: its time, then its instance ID.
const ENTRY_BYTES: usize = TIME_BYTES + ID_BYTES;

/// The time of an active instance without an armed timer: after every real due time.
const NO_TIMER: u64 = u64::MAX;

/// Key kinds of the three instance indexes (see the table above).
const ACTIVE: &str = "xa";
const LISTING: &str = "xt";
const ENDED: &str = "xe";

/// `prefix` followed by an index entry: `ms` and the ID's 16 bytes, unescaped. An entry has a
/// fixed length and ends the key, so it needs no escaping: whatever the prefix's segments hold
/// (escaped), the entry is the key's last [`ENTRY_BYTES`] bytes.
fn with_entry(mut prefix: Vec<u8>, ms: u64, id: &str) -> Vec<u8> {
    prefix.extend_from_slice(&ms.to_be_bytes());
    // Every ID the runtime indexes is one it made (and every ID a caller names is checked with
    // `is_id` before it reaches a key), so it decodes; anything else would not read back as an
    // entry and is kept as its text rather than lost.
    match data_encoding::BASE32_NOPAD.decode(id.as_bytes()) {
        Ok(bytes) if bytes.len() == ID_BYTES && idflow_ids::is_id(id) => {
            prefix.extend_from_slice(&bytes)
        }
        _ => prefix.extend_from_slice(id.as_bytes()),
    }
    prefix
}

fn time_bytes(ms: i64) -> u64 {
    u64::try_from(ms).unwrap_or(0)
}

/// Reads an index entry (the bytes after its prefix) back: its time and instance ID.
fn parse_entry(entry: &[u8]) -> Option<(u64, String)> {
    if entry.len() != ENTRY_BYTES {
        return None;
    }
    let (time, id) = entry.split_at(TIME_BYTES);
    let time = u64::from_be_bytes(time.try_into().ok()?);
    let id: &[u8; ID_BYTES] = id.try_into().ok()?;
    Some((time, idflow_ids::id_from_bytes(id)))
}

/// Reads a per-tenant index key (`kind/{tenant}/{entry}`) back: tenant, time, instance ID.
fn parse_tenant_entry(kind: &str, key: &[u8]) -> Option<(String, i64, String)> {
    let head = key.get(..key.len().checked_sub(ENTRY_BYTES)?)?;
    let entry = key.get(head.len()..)?;
    let tenant = match idflow_store::segments(head).as_slice() {
        [k, tenant, end] if k.as_slice() == kind.as_bytes() && end.is_empty() => tenant.clone(),
        _ => return None,
    };
    // Only the canonical spelling: a key that escapes differently is not one of ours.
    if prefix(&[kind.as_bytes(), tenant.as_slice()]) != head {
        return None;
    }
    let (time, id) = parse_entry(entry)?;
    Some((
        String::from_utf8(tenant).ok()?,
        i64::try_from(time).ok()?,
        id,
    ))
}

/// The active-index key of instance `id` whose earliest armed timer is due at `due_ms`.
pub(crate) fn active(due_ms: Option<i64>, id: &str) -> Vec<u8> {
    with_entry(active_instances(), due_ms.map_or(NO_TIMER, time_bytes), id)
}

pub(crate) fn active_instances() -> Vec<u8> {
    prefix(&[ACTIVE])
}

/// Reads an active-index key back: the due time (`None` without a timer) and the instance ID.
pub(crate) fn parse_active(key: &[u8]) -> Option<(Option<i64>, String)> {
    let entry = key.strip_prefix(active_instances().as_slice())?;
    let (due, id) = parse_entry(entry)?;
    let due = if due == NO_TIMER {
        None
    } else {
        Some(i64::try_from(due).ok()?)
    };
    Some((due, id))
}

pub(crate) fn tenant_instance(tenant: &str, started_ms: i64, id: &str) -> Vec<u8> {
    with_entry(instances_of_tenant(tenant), time_bytes(started_ms), id)
}

pub(crate) fn instances_of_tenant(tenant: &str) -> Vec<u8> {
    prefix(&[LISTING, tenant])
}

/// Where a tenant's instances started at or after `started_ms` begin in the listing.
pub(crate) fn tenant_instances_from(tenant: &str, started_ms: i64) -> Vec<u8> {
    let mut key = instances_of_tenant(tenant);
    key.extend_from_slice(&time_bytes(started_ms).to_be_bytes());
    key
}

pub(crate) fn all_tenant_instances() -> Vec<u8> {
    prefix(&[LISTING])
}

/// Reads a listing key back: tenant, start time, instance ID.
pub(crate) fn parse_tenant_instance(key: &[u8]) -> Option<(String, i64, String)> {
    parse_tenant_entry(LISTING, key)
}

pub(crate) fn ended(tenant: &str, ended_ms: i64, id: &str) -> Vec<u8> {
    with_entry(ended_of_tenant(tenant), time_bytes(ended_ms), id)
}

pub(crate) fn ended_instances() -> Vec<u8> {
    prefix(&[ENDED])
}

pub(crate) fn ended_of_tenant(tenant: &str) -> Vec<u8> {
    prefix(&[ENDED, tenant])
}

/// Reads an ended-index key back: tenant, when the instance ended, its ID.
pub(crate) fn parse_ended(key: &[u8]) -> Option<(String, i64, String)> {
    parse_tenant_entry(ENDED, key)
}

pub(crate) fn ended_index_marker() -> Vec<u8> {
    key(&["meta", "ended-index"])
}

/// Set once the index keys of the text layout ([`text`]) have been moved to the compact one.
pub(crate) fn compact_index_marker() -> Vec<u8> {
    key(&["meta", "compact-index-keys"])
}

/// An index key as text for messages that may be logged: its time and its instance's
/// [`idflow_ids::log_tag`], never the ID (a capability), whose bytes the key holds; a key that
/// is not a well-formed index key shows its kind and length only.
pub(crate) fn render(key: &[u8]) -> String {
    if let Some((due, id)) = parse_active(key) {
        let due = due.map_or_else(|| "no timer".to_string(), |d| d.to_string());
        return format!("{ACTIVE}/{due}/{}", idflow_ids::log_tag(&id));
    }
    for kind in [LISTING, ENDED] {
        if let Some((tenant, ms, id)) = parse_tenant_entry(kind, key) {
            return format!("{kind}/{tenant}/{ms}/{}", idflow_ids::log_tag(&id));
        }
    }
    let kind = idflow_store::segments(key)
        .first()
        .map(|k| String::from_utf8_lossy(k).into_owned())
        .unwrap_or_default();
    format!(
        "{kind}/… ({} bytes, not a well-formed index key)",
        key.len()
    )
}

/// The instance indexes' text layout, which stores written before the compact one hold until
/// [`crate::Runtime::resume`] moves their keys (`crate::upgrade`): times as 16 hex digits and IDs
/// as their 26 characters, every part a segment of its own.
pub(crate) mod text {
    use idflow_store::{prefix, segments};

    /// A time segment: 16 hex digits.
    const TIME_DIGITS: usize = 16;
    /// The due segment of an active instance without a timer.
    const NO_TIMER: &str = "ffffffffffffffff";

    /// `ia/{due_ms:016x}/{id}`, `ffffffffffffffff` without a timer.
    pub(crate) fn active_instances() -> Vec<u8> {
        prefix(&["ia"])
    }

    /// `it/{tenant}/{started_ms:016x}/{id}`.
    pub(crate) fn all_tenant_instances() -> Vec<u8> {
        prefix(&["it"])
    }

    pub(crate) fn instances_of_tenant(tenant: &str) -> Vec<u8> {
        prefix(&["it", tenant])
    }

    /// `ie/{tenant}/{ended_ms:016x}/{id}`.
    pub(crate) fn ended_instances() -> Vec<u8> {
        prefix(&["ie"])
    }

    fn time(segment: &[u8]) -> Result<i64, &'static str> {
        let text = std::str::from_utf8(segment).map_err(|_| "its time is not text")?;
        if text.len() != TIME_DIGITS {
            return Err("its time is not 16 hex digits");
        }
        i64::from_str_radix(text, 16).map_err(|_| "its time is not 16 hex digits")
    }

    fn id(segment: &[u8]) -> Result<String, &'static str> {
        let id = std::str::from_utf8(segment).map_err(|_| "its instance ID is not text")?;
        if !idflow_ids::is_id(id) {
            return Err("its instance ID is not an ID");
        }
        Ok(id.to_string())
    }

    /// An active-index key of the text layout: the due time (`None` without a timer) and ID.
    pub(crate) fn parse_active(k: &[u8]) -> Result<(Option<i64>, String), &'static str> {
        match segments(k).as_slice() {
            [kind, due, instance] if kind.as_slice() == b"ia" => {
                let due = if due.as_slice() == NO_TIMER.as_bytes() {
                    None
                } else {
                    Some(time(due)?)
                };
                Ok((due, id(instance)?))
            }
            _ => Err("it does not have the three parts ia/due/id"),
        }
    }

    /// A listing (`it`) or ended-index (`ie`) key of the text layout: tenant, time and ID.
    pub(crate) fn parse_tenant_entry(
        kind: &str,
        k: &[u8],
    ) -> Result<(String, i64, String), &'static str> {
        match segments(k).as_slice() {
            [found, tenant, ms, instance] if found.as_slice() == kind.as_bytes() => {
                let tenant =
                    String::from_utf8(tenant.clone()).map_err(|_| "its tenant is not text")?;
                Ok((tenant, time(ms)?, id(instance)?))
            }
            _ => Err("it does not have the four parts kind/tenant/time/id"),
        }
    }

    /// The text-layout keys, as stores written before the compact layout hold them (for tests
    /// of the upgrade).
    #[cfg(test)]
    pub(crate) fn active(due_ms: Option<i64>, id: &str) -> Vec<u8> {
        let due = due_ms.map_or_else(|| NO_TIMER.to_string(), |d| format!("{:016x}", d.max(0)));
        idflow_store::key(&["ia", &due, id])
    }

    #[cfg(test)]
    pub(crate) fn tenant_entry(kind: &str, tenant: &str, ms: i64, id: &str) -> Vec<u8> {
        idflow_store::key(&[kind, tenant, &format!("{:016x}", ms.max(0)), id])
    }
}

/// A statistics counter of one definition version: `what` is `["started"]`,
/// `["ended", status]`, `["arrived", node]` or `["left", node]`.
/// A statistics counter: `st/{tenant}/{name}/{version}/{shard}/{what...}`. The shard (one of
/// [`STATISTICS_SHARDS`], one per runtime) keeps nodes sharing a PostgreSQL store from writing
/// the same counter keys, which SERIALIZABLE would make them take turns on; readers add the
/// shards up.
pub(crate) fn statistic(
    tenant: &str,
    name: &str,
    version: u32,
    shard: u8,
    what: &[&str],
) -> Vec<u8> {
    let version = version_segment(version);
    let shard = format!("{:x}", shard % STATISTICS_SHARDS);
    let mut segments = vec!["st", tenant, name, version.as_str(), shard.as_str()];
    segments.extend_from_slice(what);
    key(&segments)
}

/// How many shards a statistics counter is spread over.
pub(crate) const STATISTICS_SHARDS: u8 = 16;

pub(crate) fn statistics_of_tenant(tenant: &str) -> Vec<u8> {
    prefix(&["st", tenant])
}

pub(crate) fn all_statistics() -> Vec<u8> {
    prefix(&["st"])
}

pub(crate) fn statistics_marker() -> Vec<u8> {
    key(&["meta", "statistics"])
}

pub(crate) fn retention(tenant: &str) -> Vec<u8> {
    key(&["ret", tenant])
}

pub(crate) fn scripted_visits(id: &str, node: &str) -> Vec<u8> {
    key(&["scr", id, node])
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "UGIRW7QN727EIV2XLXG4YH42N4";
    const A: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAA";
    const Z: &str = "7777777777777777777777777Q";

    #[test]
    fn numeric_segments_sort_numerically() {
        assert!(deployment("t", "n", 9) < deployment("t", "n", 10));
        assert!(active(Some(999), Z) < active(Some(1000), A));
        assert!(active(Some(255), Z) < active(Some(256), A));
        assert!(active(Some(i64::MAX - 1), A) < active(None, A));
        assert!(active(Some(i64::MAX), Z) < active(None, A));
        assert!(history_chunk("A", 15) < history_chunk("A", 16));
        assert_eq!(active(Some(-5), A), active(Some(0), A));
        assert!(tenant_instance("t", 255, Z) < tenant_instance("t", 256, A));
        assert!(tenant_instance("t", 7, A) < tenant_instance("t", 7, Z));
        assert!(ended("t", 65_535, Z) < ended("t", 65_536, A));
    }

    #[test]
    fn index_keys_are_compact() {
        // Kind, separator, the entry: 8 bytes of time and 16 of ID.
        assert_eq!(active(Some(1_700_000_000_000), ID).len(), 2 + 2 + 8 + 16);
        assert_eq!(
            tenant_instance("acme", 1_700_000_000_000, ID).len(),
            2 + 2 + 4 + 2 + 8 + 16
        );
        assert_eq!(ended("acme", 0, ID).len(), 2 + 2 + 4 + 2 + 8 + 16);
    }

    #[test]
    fn ended_keys_read_back() {
        for tenant in ["t\0/x", "t", "\0\0", "t\u{ff}"] {
            assert_eq!(
                parse_ended(&ended(tenant, 1_700_000_000_000, ID)),
                Some((tenant.to_string(), 1_700_000_000_000, ID.to_string()))
            );
        }
        // IDs whose bytes hold zeros and separators read back as they were.
        assert_eq!(
            parse_ended(&ended("t", 0, A)),
            Some(("t".to_string(), 0, A.to_string()))
        );
        assert_eq!(parse_ended(&active(Some(5), ID)), None);
        assert_eq!(parse_ended(&tenant_instance("t", 5, ID)), None);
    }

    #[test]
    fn listing_keys_read_back_and_start_where_their_time_does() {
        for (tenant, ms) in [("acme", 1_700_000_000_000), ("a\0\0b", 0), ("", 1)] {
            let key = tenant_instance(tenant, ms, ID);
            assert_eq!(
                parse_tenant_instance(&key),
                Some((tenant.to_string(), ms, ID.to_string()))
            );
            assert!(key.starts_with(&instances_of_tenant(tenant)));
            assert!(key.starts_with(&tenant_instances_from(tenant, ms)));
            assert!(key >= tenant_instances_from(tenant, ms));
            assert!(key < tenant_instances_from(tenant, ms + 1));
        }
        assert_eq!(
            parse_tenant_instance(&tenant_instance("t", -3, ID)),
            Some(("t".to_string(), 0, ID.to_string()))
        );
    }

    #[test]
    fn active_keys_read_back() {
        assert_eq!(
            parse_active(&active(Some(1234), ID)),
            Some((Some(1234), ID.to_string()))
        );
        assert_eq!(
            parse_active(&active(None, ID)),
            Some((None, ID.to_string()))
        );
        assert_eq!(parse_active(&instance(ID)), None);
        assert_eq!(parse_active(&active_instances()), None);
    }

    #[test]
    fn malformed_index_keys_do_not_read_back_or_show_their_bytes() {
        let good = ended("t", 5, ID);
        let mut long = good.clone();
        long.push(1);
        let mut other_kind = good.clone();
        other_kind[1] = b'a';
        // The tenant spelled with a separator the escaping never writes.
        let mut bad_escape = prefix(&["xe"]);
        bad_escape.extend_from_slice(&[b't', 0, 1, 0, 0]);
        bad_escape.extend_from_slice(&good[good.len() - ENTRY_BYTES..]);
        for key in [
            good[..good.len() - 1].to_vec(),
            long,
            other_kind,
            bad_escape,
            prefix(&["xe", "t"]),
            Vec::new(),
        ] {
            assert_eq!(parse_ended(&key), None, "{key:?}");
            assert_eq!(parse_tenant_instance(&key), None, "{key:?}");
            assert_eq!(parse_active(&key), None, "{key:?}");
            let shown = render(&key);
            assert!(shown.contains("not a well-formed index key"), "{shown}");
        }
        // An ended time past `i64::MAX` is not a time the runtime writes.
        let mut huge = prefix(&["xe", "t"]);
        huge.extend_from_slice(&u64::MAX.to_be_bytes());
        huge.extend_from_slice(&[7; ID_BYTES]);
        assert_eq!(parse_ended(&huge), None);
        let mut huge_due = active_instances();
        huge_due.extend_from_slice(&(u64::MAX - 1).to_be_bytes());
        huge_due.extend_from_slice(&[7; ID_BYTES]);
        assert_eq!(parse_active(&huge_due), None);
    }

    #[test]
    fn rendered_index_keys_show_a_log_tag_not_the_id() {
        let tag = idflow_ids::log_tag(ID);
        assert_eq!(render(&active(Some(12), ID)), format!("xa/12/{tag}"));
        assert_eq!(render(&active(None, ID)), format!("xa/no timer/{tag}"));
        assert_eq!(render(&ended("t", 5, ID)), format!("xe/t/5/{tag}"));
        assert_eq!(
            render(&tenant_instance("t", 5, ID)),
            format!("xt/t/5/{tag}")
        );
    }

    #[test]
    fn prefixes_do_not_overlap() {
        let instances = instance_records();
        assert!(!active(None, ID).starts_with(&instances));
        assert!(instance("X").starts_with(&instances));
        assert!(!token_by_id("X").starts_with(&tokens_of_tenant("id")));
        assert!(!deployment("ab", "c", 1).starts_with(&deployments_of_tenant("a")));
        assert!(tenant_instance("t", 5, ID).starts_with(&instances_of_tenant("t")));
        assert!(!tenant_instance("tt", 5, ID).starts_with(&instances_of_tenant("t")));
        assert!(!tenant_instance("t\0", 5, ID).starts_with(&instances_of_tenant("t")));
        assert!(
            tenant_instance("t\0", 5, ID) > idflow_store::after_prefix(&instances_of_tenant("t"))
        );
        for compact in [
            active_instances(),
            all_tenant_instances(),
            ended_instances(),
        ] {
            for old in [
                text::active_instances(),
                text::all_tenant_instances(),
                text::ended_instances(),
            ] {
                assert!(!compact.starts_with(&old) && !old.starts_with(&compact));
            }
        }
    }
}
