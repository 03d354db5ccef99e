//! Group commit: many concurrent transactions share one flush to disk.
//!
//! Every state change is made durable before its caller is answered. A flush (fsync) costs far
//! more than a transaction, so when many clients commit at once, one of them (the leader)
//! flushes on behalf of everyone whose transaction was already applied, and the others wait for
//! that flush instead of starting their own. A transaction applied while a flush is running
//! waits for the next one: a flush only covers writes that were in memory when it began.

use std::sync::{Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use idflow_store::{Store, StoreError};

#[derive(Default)]
struct State {
    /// Tickets handed out: one per transaction that needs durability, taken after it applied.
    issued: u64,
    /// Every ticket up to this one is durable.
    durable: u64,
    /// A leader is flushing right now.
    flushing: bool,
    /// Flushes performed and the time spent in them (for benchmarks).
    flushes: u64,
    flush_nanos: u64,
}

/// Shares flushes between concurrent committers of one store.
#[derive(Default)]
pub(crate) struct GroupCommit {
    state: Mutex<State>,
    flushed: Condvar,
}

impl GroupCommit {
    /// Returns once everything applied to `store` before this call is durable.
    pub(crate) fn wait_durable(&self, store: &Store) -> Result<(), StoreError> {
        if store.is_temporary() {
            return Ok(());
        }
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.issued += 1;
        let ticket = state.issued;
        loop {
            if state.durable >= ticket {
                return Ok(());
            }
            if !state.flushing {
                // Become the leader: this flush covers every ticket issued so far, since each
                // was taken after its transaction had applied.
                state.flushing = true;
                let covers = state.issued;
                drop(state);
                let began = Instant::now();
                let result = store.flush();
                let took = u64::try_from(began.elapsed().as_nanos()).unwrap_or(u64::MAX);
                state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
                state.flushing = false;
                if result.is_ok() {
                    state.durable = state.durable.max(covers);
                    state.flushes += 1;
                    state.flush_nanos = state.flush_nanos.saturating_add(took);
                }
                self.flushed.notify_all();
                // On failure the leader reports it; a waiter becomes the next leader and
                // tries again, so nobody is told "durable" without a successful flush.
                result?;
            } else {
                state = self
                    .flushed
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
            }
        }
    }

    /// How many flushes have been performed, and the time spent in them.
    pub(crate) fn flushes(&self) -> (u64, Duration) {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        (state.flushes, Duration::from_nanos(state.flush_nanos))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn concurrent_committers_share_flushes_and_all_return() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        let group = Arc::new(GroupCommit::default());
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let store = store.clone();
                let group = Arc::clone(&group);
                std::thread::spawn(move || {
                    for i in 0..25u32 {
                        let key = idflow_store::key(&["g", &t.to_string(), &i.to_string()]);
                        store
                            .transact(|tx| tx.insert(&key, vec![1]))
                            .expect("transact");
                        group.wait_durable(&store).expect("durable");
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("thread");
        }
        let (flushes, _) = group.flushes();
        assert!(flushes >= 1);
        assert!(flushes <= 200, "{flushes} flushes for 200 commits");
        assert_eq!(
            store
                .count_prefix(&idflow_store::prefix(&["g"]))
                .expect("count"),
            200
        );
    }
}
