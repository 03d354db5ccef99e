//! Retention of completed instances: each tenant's policy, the index of ended instances, and
//! the purge that removes instances (state and history) once their retention has passed.
//!
//! Anyone holding an unlimited process token can start instances, each a durable record: without
//! a bound the store grows for ever. An instance that ends gets an `xe/{tenant}/{ended}{id}`
//! entry in the same transaction that ends it, so the purge reads the oldest ended instances of
//! each tenant first and stops at the first one still inside the tenant's retention. Active
//! instances are never purged.
//!
//! Why an index of its own, when the listing (`xt/`, in start order, and an instance starts
//! before it ends) could be scanned up to the cut-off instead: every pass would then read again
//! every instance that started before the cut-off and has not ended before it, and an instance
//! resting at a step without a timer stays active for ever. Without the ended index the
//! benchmark's growth on disk is about 1.1 KB per instance instead of 1.6 (BENCHMARKS.md,
//! "Compact index keys"); the purge's cost would grow with every instance ever abandoned.

use idflow_store::{after_prefix, Record, StoreError};
use serde::{Deserialize, Serialize};

use crate::error::RuntimeError;
use crate::keys;
use crate::records::InstanceRecord;
use crate::runtime::Runtime;

const DAY_MS: i64 = 86_400_000;

/// How long a tenant's completed instances (state and history) are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionPolicy {
    /// Days after an instance ended that it is purged; `None` keeps completed instances for
    /// ever.
    pub completed_instance_days: Option<u32>,
}

impl RetentionPolicy {
    /// What a tenant that set no policy gets, like Camunda 7's default history time to live.
    pub const DEFAULT: RetentionPolicy = RetentionPolicy {
        completed_instance_days: Some(180),
    };

    /// The longest a policy may keep instances in days (10 years), so the cut-off time stays
    /// far inside an `i64` of milliseconds.
    pub const MAX_DAYS: u32 = 3660;
}

/// What one [`Runtime::purge_completed`] pass removed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PurgeReport {
    /// Completed instances removed, with their history.
    pub instances: usize,
    /// History chunks removed with them (held in their records, or keys of their own in a
    /// store written before records held them).
    pub history_chunks: usize,
}

/// A tenant's retention policy as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct RetentionRecord {
    #[serde(rename = "d")]
    days: Option<u32>,
}

impl Record for RetentionRecord {
    const KIND: &'static str = "retention-policy";
    const VERSION: u8 = 1;
}

/// Most instances purged in one transaction (and one flush).
const PURGE_BATCH: usize = 64;

impl Runtime {
    /// `tenant`'s retention policy ([`RetentionPolicy::DEFAULT`] when it set none).
    pub fn retention_policy(&self, tenant: &str) -> Result<RetentionPolicy, RuntimeError> {
        Ok(self
            .store
            .get_record::<RetentionRecord>(&keys::retention(tenant))?
            .map_or(RetentionPolicy::DEFAULT, |r| RetentionPolicy {
                completed_instance_days: r.days,
            }))
    }

    /// Sets `tenant`'s retention policy; the next purge applies it.
    pub fn set_retention_policy(
        &self,
        tenant: &str,
        policy: RetentionPolicy,
    ) -> Result<RetentionPolicy, RuntimeError> {
        if let Some(days) = policy.completed_instance_days {
            if days == 0 || days > RetentionPolicy::MAX_DAYS {
                return Err(RuntimeError::InvalidRetention(format!(
                    "completedInstanceDays must be 1 to {} (or null to keep for ever), not {days}",
                    RetentionPolicy::MAX_DAYS
                )));
            }
        }
        let record = RetentionRecord {
            days: policy.completed_instance_days,
        };
        self.commit(|tx| Ok(tx.put_record(&keys::retention(tenant), &record)?))?;
        Ok(policy)
    }

    /// Removes completed instances whose tenant's retention has passed, oldest first, at most
    /// `max` of them in this pass; each batch is one durable transaction.
    pub fn purge_completed(&self, max: usize) -> Result<PurgeReport, RuntimeError> {
        let now = self.clock.now_ms();
        let all = keys::ended_instances();
        let mut report = PurgeReport::default();
        let mut start = all.clone();
        while report.instances < max {
            // The next tenant with ended instances.
            let Some((first, _)) = self.store.scan_from(&all, &start, 1)?.into_iter().next() else {
                break;
            };
            let Some((tenant, _, _)) = keys::parse_ended(&first) else {
                return Err(corrupt(&first, "not an ended-instance key"));
            };
            let group = keys::ended_of_tenant(&tenant);
            start = after_prefix(&group);
            let Some(days) = self.retention_policy(&tenant)?.completed_instance_days else {
                continue;
            };
            let cutoff = now.saturating_sub(i64::from(days) * DAY_MS);
            loop {
                let want = PURGE_BATCH.min(max - report.instances);
                let rows = self.store.scan_from(&group, &group, want)?;
                let mut expired = Vec::with_capacity(rows.len());
                for (key, _) in &rows {
                    let (_, ended, id) = keys::parse_ended(key)
                        .ok_or_else(|| corrupt(key, "not an ended-instance key"))?;
                    if ended >= cutoff {
                        break;
                    }
                    expired.push((key.clone(), id));
                }
                if expired.is_empty() {
                    break;
                }
                let done = expired.len() < want;
                let removed = self.purge_batch(&tenant, &expired)?;
                report.instances += expired.len();
                report.history_chunks += removed;
                if done || report.instances >= max {
                    break;
                }
            }
        }
        Ok(report)
    }

    /// Removes the instances `expired` (their ended-index keys and IDs) of `tenant`, with their
    /// history and listing entries, in one durable transaction. Returns the chunks removed.
    fn purge_batch(
        &self,
        tenant: &str,
        expired: &[(Vec<u8>, String)],
    ) -> Result<usize, RuntimeError> {
        // An ended instance writes nothing more, so its keys can be gathered before the
        // transaction (which cannot scan).
        let mut doomed = Vec::new();
        let mut chunks = 0;
        for (ended_key, id) in expired {
            doomed.push(ended_key.clone());
            let record_key = keys::instance(id);
            let started = match self.store.get_record::<InstanceRecord>(&record_key) {
                Ok(Some(record)) => {
                    chunks += record.history.len();
                    Some(record.started_ms)
                }
                Ok(None) => None,
                // Unreadable: its listing entry is found by scanning for its ID below.
                Err(StoreError::Corrupt { .. } | StoreError::UnsupportedVersion { .. }) => None,
                Err(e) => return Err(e.into()),
            };
            match started {
                Some(started) => doomed.push(keys::tenant_instance(tenant, started, id)),
                None => {
                    for row in self.store.scan_prefix(&keys::instances_of_tenant(tenant)) {
                        let (key, _) = row?;
                        let listed = keys::parse_tenant_instance(&key);
                        if listed.is_some_and(|(_, _, listed)| listed == *id) {
                            doomed.push(key);
                            break;
                        }
                    }
                }
            }
            doomed.push(record_key);
            for row in self.store.scan_prefix(&keys::history_of(id)) {
                let (key, _) = row?;
                doomed.push(key);
                chunks += 1;
            }
        }
        self.commit(|tx| {
            for key in &doomed {
                tx.remove(key)?;
            }
            Ok(())
        })?;
        Ok(chunks)
    }

    /// Indexes instances that ended before the ended index existed (a data directory written by
    /// an older build), once: a marker key records that it ran. Returns how many it indexed.
    pub(crate) fn backfill_ended_index(&self) -> Result<usize, RuntimeError> {
        let marker = keys::ended_index_marker();
        if self.store.get(&marker)?.is_some() {
            return Ok(0);
        }
        let mut indexed = 0;
        let mut batch = Vec::new();
        for row in self.store.scan_prefix(&keys::all_tenant_instances()) {
            let (key, _) = row?;
            let Some((_, _, id)) = keys::parse_tenant_instance(&key) else {
                // As with an unreadable record: nothing to index, and the start goes on.
                tracing::warn!(key = %keys::render(&key), "not a listing key: not indexed");
                continue;
            };
            let record = match self
                .store
                .get_record::<InstanceRecord>(&keys::instance(&id))
            {
                Ok(Some(record)) => record,
                Ok(None) => continue,
                Err(StoreError::Corrupt { .. } | StoreError::UnsupportedVersion { .. }) => continue,
                Err(e) => return Err(e.into()),
            };
            if record.status != idflow_engine::Status::Active.as_str() {
                batch.push(keys::ended(&record.tenant, record.updated_ms, &id));
            }
            if batch.len() >= 1024 {
                indexed += batch.len();
                self.commit(|tx| {
                    for key in &batch {
                        tx.insert(key, Vec::new())?;
                    }
                    Ok(())
                })?;
                batch.clear();
            }
        }
        indexed += batch.len();
        self.commit(|tx| {
            for key in &batch {
                tx.insert(key, Vec::new())?;
            }
            tx.insert(&marker, vec![1])?;
            Ok(())
        })?;
        Ok(indexed)
    }
}

fn corrupt(key: &[u8], reason: &str) -> RuntimeError {
    RuntimeError::Store(StoreError::Corrupt {
        key: keys::render(key),
        reason: reason.to_string(),
    })
}
