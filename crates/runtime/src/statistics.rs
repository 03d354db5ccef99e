//! Live numbers per definition version: instances started, ended by status, and resting at each
//! step — durable counters kept in the store (`st/` keys, see the `keys` module).
//!
//! Every chain updates the counters in its own transaction ([`count_chain`], called by
//! `persist`), so they are exactly as durable and atomic as the instances they count: correct
//! across restarts, and readable by any node that reads the store. All counters only grow
//! (resting = arrived − left), which is what Prometheus counters need, and the retention purge
//! leaves them alone: a purged instance stays counted. A store written before the counters
//! existed is counted once from its instance records when the runtime resumes
//! ([`Runtime::count_statistics_once`]); instances purged before that are not in it.

use std::collections::BTreeMap;

use idflow_engine::Status;
use idflow_store::{StoreError, Tx};

use crate::error::RuntimeError;
use crate::keys;
use crate::records::{InstanceRecord, Prior};
use crate::runtime::Runtime;

/// The numbers of one definition version.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DefinitionStatistics {
    pub name: String,
    pub version: u32,
    /// Instances started.
    pub started: u64,
    /// Instances ended, by status (every completed status, zero included).
    pub ended: Vec<(Status, u64)>,
    /// Steps with instances resting at them now: BPMN node ID and how many.
    pub resting: Vec<(String, u64)>,
}

impl DefinitionStatistics {
    /// Started and not yet ended.
    pub fn active(&self) -> u64 {
        let ended: u64 = self.ended.iter().map(|(_, n)| n).sum();
        self.started.saturating_sub(ended)
    }
}

/// Updates the counters for one chain's change of one instance: `before` is its state before
/// the chain (none for a start), `after` the record written.
pub(crate) fn count_chain(
    tx: &Tx<'_>,
    shard: u8,
    before: Option<&Prior>,
    after: &InstanceRecord,
) -> Result<(), StoreError> {
    let counter = |what: &[&str]| {
        keys::statistic(&after.tenant, &after.definition, after.version, shard, what)
    };
    if before.is_none() {
        tx.increment(&counter(&["started"]), 1)?;
    }
    let was_active = before.is_none_or(|b| b.active);
    let active = after.status == Status::Active.as_str();
    if was_active && !active {
        tx.increment(&counter(&["ended", &after.status]), 1)?;
    }
    let rested = before
        .filter(|b| b.active)
        .and_then(|b| b.step.as_ref())
        .map(|s| s.node.as_str());
    let rests = after
        .step
        .as_ref()
        .filter(|_| active)
        .map(|s| s.node.as_str());
    if rested != rests {
        if let Some(node) = rested {
            tx.increment(&counter(&["left", node]), 1)?;
        }
        if let Some(node) = rests {
            tx.increment(&counter(&["arrived", node]), 1)?;
        }
    }
    Ok(())
}

fn read_counter(key: &[u8], bytes: &[u8]) -> Result<u64, StoreError> {
    let raw: [u8; 8] = bytes.try_into().map_err(|_| StoreError::Corrupt {
        key: idflow_store::render_key(key),
        reason: format!("statistics counter has {} bytes, expected 8", bytes.len()),
    })?;
    Ok(u64::from_be_bytes(raw))
}

/// Counters as read, per (tenant, name, version).
#[derive(Default)]
struct Tally {
    started: u64,
    ended: BTreeMap<String, u64>,
    arrived: BTreeMap<String, u64>,
    left: BTreeMap<String, u64>,
}

impl Tally {
    fn finish(self, name: String, version: u32) -> DefinitionStatistics {
        let ended = Status::ALL
            .into_iter()
            .filter(|s| s.is_completed())
            .map(|s| (s, self.ended.get(s.as_str()).copied().unwrap_or(0)))
            .collect();
        let resting = self
            .arrived
            .iter()
            .map(|(node, arrived)| {
                let left = self.left.get(node).copied().unwrap_or(0);
                (node.clone(), arrived.saturating_sub(left))
            })
            .filter(|(_, n)| *n > 0)
            .collect();
        DefinitionStatistics {
            name,
            version,
            started: self.started,
            ended,
            resting,
        }
    }
}

impl Runtime {
    /// The numbers of every definition version of `tenant` that has started an instance, by
    /// name then version.
    pub fn statistics(&self, tenant: &str) -> Result<Vec<DefinitionStatistics>, RuntimeError> {
        Ok(self
            .read_statistics(&keys::statistics_of_tenant(tenant))?
            .into_iter()
            .map(|(_, stats)| stats)
            .collect())
    }

    /// The numbers of every tenant, by tenant, name, then version (for `/metrics`).
    pub fn all_statistics(&self) -> Result<Vec<(String, DefinitionStatistics)>, RuntimeError> {
        self.read_statistics(&keys::all_statistics())
    }

    fn read_statistics(
        &self,
        prefix: &[u8],
    ) -> Result<Vec<(String, DefinitionStatistics)>, RuntimeError> {
        let mut tallies: BTreeMap<(String, String, u32), Tally> = BTreeMap::new();
        for row in self.store.scan_prefix(prefix) {
            let (key, value) = row?;
            let corrupt = |reason: &str| {
                RuntimeError::Store(StoreError::Corrupt {
                    key: idflow_store::render_key(&key),
                    reason: reason.to_string(),
                })
            };
            let segments: Vec<String> = idflow_store::segments(&key)
                .into_iter()
                .map(|s| String::from_utf8(s).map_err(|_| corrupt("a segment is not UTF-8")))
                .collect::<Result<_, _>>()?;
            let [_, tenant, name, version, _shard, what @ ..] = segments.as_slice() else {
                return Err(corrupt("not a statistics key"));
            };
            let version: u32 = version
                .parse()
                .map_err(|_| corrupt("the version is not a number"))?;
            let n = read_counter(&key, &value)?;
            let tally = tallies
                .entry((tenant.clone(), name.clone(), version))
                .or_default();
            // Each shard holds part of a count: add them up.
            match what {
                [kind] if kind == "started" => tally.started += n,
                [kind, status] if kind == "ended" => {
                    *tally.ended.entry(status.clone()).or_default() += n;
                }
                [kind, node] if kind == "arrived" => {
                    *tally.arrived.entry(node.clone()).or_default() += n;
                }
                [kind, node] if kind == "left" => {
                    *tally.left.entry(node.clone()).or_default() += n;
                }
                _ => return Err(corrupt("not a statistics counter")),
            }
        }
        Ok(tallies
            .into_iter()
            .map(|((tenant, name, version), tally)| (tenant, tally.finish(name, version)))
            .collect())
    }

    /// Counts the statistics from the instance records, once per store (a marker records that
    /// it ran): a store written before the counters existed gets them. Whatever counters exist
    /// then are replaced, so this is exact even if chains ran before it. Called by `resume`,
    /// before anything else runs. Returns how many instances it counted.
    pub(crate) fn count_statistics_once(&self) -> Result<usize, RuntimeError> {
        let marker = keys::statistics_marker();
        if self.store.get(&marker)?.is_some() {
            return Ok(0);
        }
        let mut counters: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
        let mut counted = 0;
        for row in self.store.scan_prefix(&keys::instance_records()) {
            let (key, bytes) = row?;
            // One unreadable record must not stop a start (resume sets active ones aside).
            let Ok(record) = idflow_store::decode_record::<InstanceRecord>(&key, &bytes) else {
                continue;
            };
            counted += 1;
            let counter = |what: &[&str]| {
                keys::statistic(&record.tenant, &record.definition, record.version, 0, what)
            };
            *counters.entry(counter(&["started"])).or_default() += 1;
            if record.status == Status::Active.as_str() {
                if let Some(step) = &record.step {
                    *counters
                        .entry(counter(&["arrived", &step.node]))
                        .or_default() += 1;
                }
            } else {
                *counters
                    .entry(counter(&["ended", &record.status]))
                    .or_default() += 1;
            }
        }
        let stale: Vec<Vec<u8>> = self
            .store
            .scan_prefix(&keys::all_statistics())
            .map(|row| row.map(|(key, _)| key))
            .collect::<Result<_, _>>()?;
        self.commit(|tx| {
            for key in &stale {
                tx.remove(key)?;
            }
            for (key, n) in &counters {
                tx.insert(key, n.to_be_bytes().to_vec())?;
            }
            tx.insert(&marker, vec![1])?;
            Ok(())
        })?;
        Ok(counted)
    }
}
