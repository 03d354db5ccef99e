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
//! | `ia/{due_ms:016x}/{id}` | empty | the active instances by their earliest armed timer (`ffffffffffffffff` without one): timers fire from its head, resume scans it |
//! | `it/{tenant}/{started_ms:016x}/{id}` | empty | a tenant's instances, oldest first (paging) |
//! | `ie/{tenant}/{ended_ms:016x}/{id}` | empty | a tenant's ended instances, oldest first: what the retention purge reads |
//! | `ret/{tenant}` | [`RetentionRecord`] | the tenant's retention policy |
//! | `st/{tenant}/{name}/{version:010}/started` | u64 counter | instances started (the `statistics` module) |
//! | `st/{tenant}/{name}/{version:010}/ended/{status}` | u64 counter | instances ended with that status |
//! | `st/{tenant}/{name}/{version:010}/arrived/{node}`, `.../left/{node}` | u64 counters | instances that came to rest at step `node`, and that left it |
//! | `meta/statistics` | `1` | the `st/` counters were counted from the instances (a store written before them) |
//! | `meta/ended-index` | `1` | instances ended before the `ie/` index existed have been indexed |
//! | `iq/{id}` | the `ia/` key it had | active instances whose record could not be read at start, set aside ([`crate::ResumeReport`]) |
//! | `scr/{id}/{node}` | u64 counter | [`ScriptedActivities`] visit counts (test double only) |
//!
//! Segments are joined by [`idflow_store::key`], which escapes separators, so a tenant or name
//! holding any bytes cannot reach another key. Fixed-width numbers keep keys in numeric order.
//!
//! A transition writes one value for the instance: its record, with this chain's history
//! events appended to those it holds. Keeping an instance's history in one key rather than a
//! key per chain is what keeps the bytes on disk per instance low on sled, which appends every
//! changed key to its log and rewrites a changed key's whole leaf every tenth change
//! (BENCHMARKS.md, "The engine on sled, durable").
//!
//! One index serves both timers and restarts: an active instance has exactly one `ia/` key,
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

/// Times before 1970 are clamped to 0: a due time in the past is simply due.
fn time_segment(ms: i64) -> String {
    format!("{:016x}", ms.max(0))
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

pub(crate) fn tenant_listings() -> Vec<u8> {
    prefix(&["it"])
}

pub(crate) fn history_chunk(id: &str, first_index: u64) -> Vec<u8> {
    key(&["h", id, &format!("{first_index:016x}")])
}

pub(crate) fn history_of(id: &str) -> Vec<u8> {
    prefix(&["h", id])
}

/// The due segment of an active instance without an armed timer: after every real due time.
const NO_TIMER: &str = "ffffffffffffffff";

/// The active-index key of instance `id` whose earliest armed timer is due at `due_ms`.
pub(crate) fn active(due_ms: Option<i64>, id: &str) -> Vec<u8> {
    let due = due_ms.map_or_else(|| NO_TIMER.to_string(), time_segment);
    key(&["ia", &due, id])
}

pub(crate) fn active_instances() -> Vec<u8> {
    prefix(&["ia"])
}

/// Reads an active-index key back: the due time (`None` without a timer) and the instance ID.
pub(crate) fn parse_active(key: &[u8]) -> Option<(Option<i64>, String)> {
    let rest = key.strip_prefix(active_instances().as_slice())?;
    let (due, rest) = (rest.get(..16)?, rest.get(16..)?);
    let id = rest.strip_prefix(&[0u8, 0][..])?;
    let due = std::str::from_utf8(due).ok()?;
    let due = if due == NO_TIMER {
        None
    } else {
        Some(i64::from_str_radix(due, 16).ok()?)
    };
    Some((due, String::from_utf8(id.to_vec()).ok()?))
}

pub(crate) fn tenant_instance(tenant: &str, started_ms: i64, id: &str) -> Vec<u8> {
    key(&["it", tenant, &time_segment(started_ms), id])
}

pub(crate) fn instances_of_tenant(tenant: &str) -> Vec<u8> {
    prefix(&["it", tenant])
}

/// Where a tenant's instances started at or after `started_ms` begin in the listing.
pub(crate) fn tenant_instances_from(tenant: &str, started_ms: i64) -> Vec<u8> {
    prefix(&["it", tenant, &time_segment(started_ms)])
}

pub(crate) fn all_tenant_instances() -> Vec<u8> {
    prefix(&["it"])
}

pub(crate) fn ended(tenant: &str, ended_ms: i64, id: &str) -> Vec<u8> {
    key(&["ie", tenant, &time_segment(ended_ms), id])
}

pub(crate) fn ended_instances() -> Vec<u8> {
    prefix(&["ie"])
}

pub(crate) fn ended_of_tenant(tenant: &str) -> Vec<u8> {
    prefix(&["ie", tenant])
}

/// Reads an ended-index key back: when the instance ended and its ID.
pub(crate) fn parse_ended(key: &[u8]) -> Option<(i64, String)> {
    let segments = idflow_store::segments(key);
    let [kind, _tenant, ended, id] = segments.as_slice() else {
        return None;
    };
    if kind.as_slice() != b"ie" {
        return None;
    }
    let ended = i64::from_str_radix(std::str::from_utf8(ended).ok()?, 16).ok()?;
    Some((ended, String::from_utf8(id.clone()).ok()?))
}

pub(crate) fn ended_index_marker() -> Vec<u8> {
    key(&["meta", "ended-index"])
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

    #[test]
    fn numeric_segments_sort_numerically() {
        assert!(deployment("t", "n", 9) < deployment("t", "n", 10));
        assert!(active(Some(999), "B") < active(Some(1000), "A"));
        assert!(active(Some(i64::MAX - 1), "A") < active(None, "A"));
        assert!(history_chunk("A", 15) < history_chunk("A", 16));
        assert_eq!(active(Some(-5), "A"), active(Some(0), "A"));
    }

    #[test]
    fn ended_keys_read_back() {
        let id = "UGIRW7QN727EIV2XLXG4YH42N4";
        assert_eq!(
            parse_ended(&ended("t\0/x", 1_700_000_000_000, id)),
            Some((1_700_000_000_000, id.to_string()))
        );
        assert!(ended("t", 5, "B") < ended("t", 6, "A"));
        assert_eq!(parse_ended(&active(Some(5), id)), None);
    }

    #[test]
    fn active_keys_read_back() {
        let id = "UGIRW7QN727EIV2XLXG4YH42N4";
        assert_eq!(
            parse_active(&active(Some(1234), id)),
            Some((Some(1234), id.to_string()))
        );
        assert_eq!(
            parse_active(&active(None, id)),
            Some((None, id.to_string()))
        );
        assert_eq!(parse_active(&instance(id)), None);
        assert_eq!(parse_active(&active_instances()), None);
    }

    #[test]
    fn prefixes_do_not_overlap() {
        let instances = instance_records();
        assert!(!active(None, "X").starts_with(&instances));
        assert!(instance("X").starts_with(&instances));
        assert!(!token_by_id("X").starts_with(&tokens_of_tenant("id")));
        assert!(!deployment("ab", "c", 1).starts_with(&deployments_of_tenant("a")));
        assert!(tenant_instance("t", 5, "X").starts_with(&instances_of_tenant("t")));
    }
}
