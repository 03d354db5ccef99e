//! Timers and restarts: firing due timers (each its own durable chain), the polling thread, and
//! [`Runtime::resume`] after opening a store.
//!
//! Both read the active index (`xa/{earliest due}{instance}`, see the `keys` module), which is
//! written in the same transaction as the state that armed or disarmed a timer: after a restart
//! it already orders every active instance by its next timer, so nothing needs re-arming;
//! `resume` still checks every active instance against it and repairs any difference.

use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use idflow_engine::{Input, Status};
use idflow_ids::log_tag;

use idflow_store::StoreError;

use crate::chains::Action;
use crate::error::RuntimeError;
use crate::instances::active_key;
use crate::keys;
use crate::records::{InstanceRecord, PositionRecord};
use crate::runtime::Runtime;

/// What one [`Runtime::fire_due_timers`] pass did. `Debug` (which the server logs) shows the
/// instances' log tags, not their IDs.
#[derive(Default)]
pub struct FiredTimers {
    /// Instances a timer fired on, in firing order (an instance appears once per timer).
    pub fired: Vec<String>,
    /// Index entries that no longer matched their instance (already fired, ended), corrected.
    pub stale: usize,
    /// Instances whose due timer could not be fired, with why; they stay indexed and are
    /// retried next pass.
    pub failed: Vec<(String, RuntimeError)>,
}

/// What [`Runtime::resume`] found and did. `Debug` (which the server logs) shows the instances'
/// log tags, not their IDs.
#[derive(Default)]
pub struct ResumeReport {
    /// Active instances found.
    pub active: usize,
    /// Of those, resting at a step (the normal case).
    pub at_step: usize,
    /// Instances found half-way through a chain (impossible with atomic commits), ended
    /// `COMPLETED_PROCESS_ERROR`, or index entries that contradicted their instance, with what
    /// was wrong.
    pub repaired: Vec<(String, String)>,
    /// Active instances whose record could not be read (corrupt, or written by a newer
    /// build), with why: moved to the set-aside index (`iq/`), everything else goes on.
    pub set_aside: Vec<(String, String)>,
    /// Instances that ended before the retention index existed, indexed now (once per data
    /// directory).
    pub ended_indexed: usize,
    /// Instances counted into the statistics counters now (once per data directory written
    /// before the counters existed).
    pub statistics_counted: usize,
    /// Index keys of the text layout moved to the compact one (once per data directory
    /// written before it; see the private `upgrade` module).
    pub index_keys_moved: usize,
    /// Index keys of the text layout that do not parse (rendered for messages, with why): left
    /// where they were, which nothing reads any more.
    pub index_keys_left: Vec<(String, String)>,
    /// Timers that were due and fired during resume.
    pub timers_fired: FiredTimers,
}

/// An active-index entry: its key, the instance's earliest due time (`None` without a timer),
/// the instance ID.
type DueEntry = (Vec<u8>, Option<i64>, String);

/// Longest pause between two polls of the timer thread.
const MAX_POLL: Duration = Duration::from_millis(500);

/// Most timers one pass fires (a pass is bounded even if timers keep falling due).
const MAX_PER_PASS: usize = 10_000;

/// Due timers read at once. On a shared store each node fires a page in its own order, so
/// nodes working through one backlog mostly take different timers instead of colliding on
/// the earliest (SERIALIZABLE keeps a collision exactly-once; spreading saves the retries).
const DUE_PAGE: usize = 64;

/// The due time and instance ID an active-index key holds.
fn parse_active_key(key: &[u8]) -> Result<(Option<i64>, String), RuntimeError> {
    keys::parse_active(key).ok_or_else(|| {
        RuntimeError::Store(StoreError::Corrupt {
            key: keys::render(key),
            reason: "not an active-index key".to_string(),
        })
    })
}

impl Runtime {
    /// Fires every timer due at the clock's current time, each in its own durable transaction:
    /// earliest first on a store of this node's own; on a shared store, a page of due timers at
    /// a time in an order of this node's (see [`Runtime::timer_order`]).
    pub fn fire_due_timers(&self) -> Result<FiredTimers, RuntimeError> {
        let now = self.clock.now_ms();
        let mut report = FiredTimers::default();
        let mut failed_ids: Vec<String> = Vec::new();
        let mut start = keys::active_instances();
        while report.fired.len() + report.stale < MAX_PER_PASS {
            let mut page = self.due_page(&start, now)?;
            let Some(last_key) = page.last().map(|(key, _)| key.clone()) else {
                break;
            };
            page.retain(|(_, id)| !failed_ids.contains(id));
            if self.store.is_shared() {
                page.sort_by_key(|(_, id)| self.timer_order(id));
            }
            let before = report.fired.len() + report.stale;
            for (key, id) in page {
                if report.fired.len() + report.stale >= MAX_PER_PASS {
                    break;
                }
                match self.fire_one(&key, &id, now) {
                    Ok(true) => report.fired.push(id),
                    Ok(false) => report.stale += 1,
                    Err(e) => {
                        tracing::warn!(instance = %log_tag(&id), error = %e, "a due timer could not fire");
                        failed_ids.push(id.clone());
                        report.failed.push((id, e));
                    }
                }
            }
            // Fired entries moved (or went), so the next page starts where this one did and
            // finds timers that fell due again; a page of nothing but failures is passed over.
            if report.fired.len() + report.stale == before {
                start = last_key;
                start.push(0);
            }
        }
        Ok(report)
    }

    /// Up to [`DUE_PAGE`] active-index entries at or after `start` that are due at `now`, in
    /// key order (earliest due first), with their instance IDs.
    fn due_page(&self, start: &[u8], now: i64) -> Result<Vec<(Vec<u8>, String)>, RuntimeError> {
        let mut page = Vec::new();
        for (key, _) in self
            .store
            .scan_from(&keys::active_instances(), start, DUE_PAGE)?
        {
            let (due, id) = parse_active_key(&key)?;
            if due.is_none_or(|d| d > now) {
                break;
            }
            page.push((key, id));
        }
        Ok(page)
    }

    /// The first active-index entry at or after `start`.
    fn next_due_entry(&self, start: &[u8]) -> Result<Option<DueEntry>, RuntimeError> {
        let prefix = keys::active_instances();
        let Some((key, _)) = self.store.scan_from(&prefix, start, 1)?.into_iter().next() else {
            return Ok(None);
        };
        let (due, id) = parse_active_key(&key)?;
        Ok(Some((key, due, id)))
    }

    /// The due time of the earliest armed timer, if any.
    pub fn next_timer_due(&self) -> Result<Option<i64>, RuntimeError> {
        Ok(self
            .next_due_entry(&keys::active_instances())?
            .and_then(|(_, due, _)| due))
    }

    /// Fires the earliest due timer of instance `id`, whose index entry is `index_key`;
    /// `false` when the entry was stale (and is now corrected).
    fn fire_one(&self, index_key: &[u8], id: &str, now: i64) -> Result<bool, RuntimeError> {
        let instance_key = keys::instance(id);
        let definition = match self.store.get_record::<InstanceRecord>(&instance_key)? {
            Some(record) => Some(self.definition_of(&record)?),
            None => None,
        };
        self.commit(|tx| {
            if !tx.contains(index_key)? {
                // Fired or moved by someone else since the scan.
                return Ok(false);
            }
            let record = tx.get_record::<InstanceRecord>(&instance_key)?;
            let expected = active_key(id, record.as_ref());
            let due = record.as_ref().and_then(|r| {
                r.timers
                    .iter()
                    .filter(|t| t.due <= now)
                    .min_by_key(|t| t.due)
                    .map(|t| t.timer_id.clone())
            });
            let (Some(record), Some(definition), Some(timer_id), true) = (
                record,
                &definition,
                due,
                expected.as_deref() == Some(index_key),
            ) else {
                if expected.as_deref() == Some(index_key) {
                    return Err(RuntimeError::Inconsistent(format!(
                        "instance {} is indexed as due but has no due timer",
                        log_tag(id)
                    )));
                }
                // The entry does not describe the instance: put the right one in its place.
                tx.remove(index_key)?;
                if let Some(right) = &expected {
                    tx.insert(right, Vec::new())?;
                }
                return Ok(false);
            };
            let meta = record.meta();
            let mut record = record;
            let held = std::mem::take(&mut record.history);
            let (mut instance, prior) = record.into_engine(id, &instance_key)?;
            let input = Input::TimerFired {
                timer_id,
                now_ms: now,
            };
            let driven =
                self.drive(tx, definition, &meta, &mut instance, input, now, None, None)?;
            // `persist` moves the index entry to the next timer, or removes it at the end.
            let last_answer = prior.last_answer.clone();
            self.persist(
                tx,
                &instance_key,
                Some(&prior),
                held,
                instance,
                &meta,
                driven,
                now,
                last_answer,
            )?;
            Ok(true)
        })
    }

    /// Checks the store after a start: every active instance must rest at a step (a chain is
    /// committed whole, so anything else means the store was damaged) and have the one index
    /// entry its state calls for; then due timers fire.
    pub fn resume(&self) -> Result<ResumeReport, RuntimeError> {
        // First: everything below reads the indexes in the compact layout.
        let upgrade = self.compact_index_keys()?;
        let mut report = ResumeReport {
            index_keys_moved: upgrade.moved,
            index_keys_left: upgrade.left,
            // Before any chain below: those count themselves on top of what this counts.
            statistics_counted: self.count_statistics_once()?,
            ..ResumeReport::default()
        };
        let mut entries = Vec::new();
        for row in self.store.scan_prefix(&keys::active_instances()) {
            let (key, _) = row?;
            match keys::parse_active(&key) {
                Some((_, id)) => entries.push((key, id)),
                None => {
                    report
                        .repaired
                        .push((keys::render(&key), "not an active-index key".into()));
                    self.commit(|tx| tx.remove(&key).map_err(RuntimeError::from))?;
                }
            }
        }
        for (key, id) in entries {
            let instance_key = keys::instance(&id);
            // A record whose lifecycle fields disagree is as unreadable as a damaged one: the
            // engine cannot take it, so repairing it below would fail.
            let read = self
                .store
                .get_record::<InstanceRecord>(&instance_key)
                .and_then(|record| match record {
                    Some(r) => r.checked_lifecycle(&instance_key).map(|_| Some(r)),
                    None => Ok(None),
                });
            let record = match read {
                Ok(record) => record,
                Err(e @ (StoreError::Corrupt { .. } | StoreError::UnsupportedVersion { .. })) => {
                    // One unreadable record must not stop the start: take it out of the active
                    // index (so no timer retries it forever) into the set-aside index, which
                    // keeps the entry it had, and go on with the others.
                    self.commit(|tx| {
                        tx.remove(&key)?;
                        tx.insert(&keys::set_aside(&id), key.clone())?;
                        Ok::<_, RuntimeError>(())
                    })?;
                    tracing::error!(error = %e, "an active instance's record cannot be read: set aside");
                    report.set_aside.push((id.clone(), e.to_string()));
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            let expected = active_key(&id, record.as_ref());
            if expected.as_deref() != Some(key.as_slice()) {
                let what = match &record {
                    None => "indexed as active but missing".to_string(),
                    Some(r) if r.status != Status::Active.as_str() => {
                        format!("ended ({}) but indexed as active", r.status)
                    }
                    Some(_) => "indexed under the wrong timer".to_string(),
                };
                report.repaired.push((id.clone(), what));
                self.commit(|tx| {
                    tx.remove(&key)?;
                    if let Some(right) = &expected {
                        tx.insert(right, Vec::new())?;
                    }
                    Ok(())
                })?;
                if expected.is_none() {
                    continue;
                }
            }
            let Some(record) = record else { continue };
            report.active += 1;
            match &record.position {
                PositionRecord::AtStep { .. } => report.at_step += 1,
                PositionRecord::AwaitingActivity { node } => {
                    let message = format!(
                        "the runtime stopped while activity '{node}' was running; its result is unknown"
                    );
                    tracing::error!(instance = %log_tag(&id), %message, "repairing a half-advanced instance");
                    let op = self.advance_op(
                        &id,
                        Action::Abort {
                            node: Some(node.clone()),
                            message: message.clone(),
                        },
                    )?;
                    self.commit(|tx| self.execute(tx, &op))?;
                    report.repaired.push((id.clone(), message));
                }
                other => {
                    report
                        .repaired
                        .push((id.clone(), format!("active instance at {other:?}")));
                }
            }
        }
        report.ended_indexed = self.backfill_ended_index()?;
        report.timers_fired = self.fire_due_timers()?;
        Ok(report)
    }

    /// Starts a thread that fires due timers until the returned handle is stopped or dropped.
    pub fn spawn_timer_thread(self: &Arc<Self>) -> TimerThread {
        self.spawn_timer_thread_every(MAX_POLL)
    }

    /// [`Runtime::spawn_timer_thread`] polling at most every `poll`.
    pub fn spawn_timer_thread_every(self: &Arc<Self>, poll: Duration) -> TimerThread {
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let runtime = Arc::clone(self);
        let signal = Arc::clone(&stop);
        let handle = std::thread::Builder::new()
            .name("idflow-timers".into())
            .spawn(move || loop {
                if let Err(e) = runtime.fire_due_timers() {
                    tracing::error!(error = %e, "timer pass failed");
                }
                let wait = match runtime.next_timer_due() {
                    Ok(Some(due)) => {
                        let until = due.saturating_sub(runtime.now_ms()).max(1);
                        Duration::from_millis(u64::try_from(until).unwrap_or(1)).min(poll)
                    }
                    _ => poll,
                };
                let (lock, cvar) = &*signal;
                let stopped = lock.lock().unwrap_or_else(PoisonError::into_inner);
                let (stopped, _) = cvar
                    .wait_timeout_while(stopped, wait, |s| !*s)
                    .unwrap_or_else(PoisonError::into_inner);
                if *stopped {
                    return;
                }
            });
        match handle {
            Ok(handle) => TimerThread {
                stop,
                handle: Some(handle),
            },
            Err(e) => {
                tracing::error!(error = %e, "could not start the timer thread");
                TimerThread { stop, handle: None }
            }
        }
    }
}

/// The timer thread; stops (and joins) on [`TimerThread::stop`] or drop.
pub struct TimerThread {
    stop: Arc<(Mutex<bool>, Condvar)>,
    handle: Option<JoinHandle<()>>,
}

impl TimerThread {
    /// Whether the thread is running.
    pub fn is_running(&self) -> bool {
        self.handle.as_ref().is_some_and(|h| !h.is_finished())
    }

    /// Stops the thread and waits for it.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        let (lock, cvar) = &*self.stop;
        *lock.lock().unwrap_or_else(PoisonError::into_inner) = true;
        cvar.notify_all();
        if let Some(handle) = self.handle.take() {
            if handle.join().is_err() {
                tracing::error!("the timer thread panicked");
            }
        }
    }
}

impl Drop for TimerThread {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// `(instance ID, what)` pairs as Debug shows them: the IDs as log tags (a resume also
/// reports malformed index keys, already rendered for messages, in the ID's place).
struct Tagged<'a, T>(&'a [(String, T)]);

impl<T: std::fmt::Debug> std::fmt::Debug for Tagged<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = |id: &String| {
            if idflow_ids::is_id(id) {
                log_tag(id)
            } else {
                id.clone()
            }
        };
        f.debug_list()
            .entries(self.0.iter().map(|(id, what)| (shown(id), what)))
            .finish()
    }
}

impl std::fmt::Debug for FiredTimers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Destructured, so a new field cannot be left out (or shown with its IDs) unnoticed.
        let FiredTimers {
            fired,
            stale,
            failed,
        } = self;
        let fired: Vec<String> = fired.iter().map(|id| log_tag(id)).collect();
        f.debug_struct("FiredTimers")
            .field("fired", &fired)
            .field("stale", stale)
            .field("failed", &Tagged(failed))
            .finish()
    }
}

impl std::fmt::Debug for ResumeReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ResumeReport {
            active,
            at_step,
            repaired,
            set_aside,
            ended_indexed,
            statistics_counted,
            index_keys_moved,
            index_keys_left,
            timers_fired,
        } = self;
        f.debug_struct("ResumeReport")
            .field("active", active)
            .field("at_step", at_step)
            .field("repaired", &Tagged(repaired))
            .field("set_aside", &Tagged(set_aside))
            .field("ended_indexed", ended_indexed)
            .field("statistics_counted", statistics_counted)
            .field("index_keys_moved", index_keys_moved)
            .field("index_keys_left", index_keys_left)
            .field("timers_fired", timers_fired)
            .finish()
    }
}

impl std::fmt::Debug for TimerThread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TimerThread")
            .field("running", &self.is_running())
            .finish()
    }
}
