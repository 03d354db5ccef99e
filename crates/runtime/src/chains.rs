//! Chains as data ([`ChainOp`]: a start, an answer, a cancel) and how concurrent ones are
//! combined: they share one store transaction and one flush. Executing one is `instances`' job
//! (`Runtime::execute`, `Runtime::run_batch`); this module knows neither the runtime nor
//! instances, so imports run one way (runtime → chains ← instances).
//!
//! The store serializes transactions (sled runs each under a global lock, exclusive with its
//! flush), so a chain's cost is dominated by per-transaction and per-flush overhead, not by the
//! chain itself. Callers therefore queue their chain ([`ChainOp`]) and one of them, the leader,
//! takes up to [`MAX_BATCH`] queued chains, runs them one after another inside a single
//! transaction, flushes once, and hands every caller its own result; then it passes the lead to
//! the first caller still queued, if any. Only the callers concerned are woken.
//!
//! Each chain stays atomic and isolated:
//! - chains in a batch see each other's writes in order, exactly as if committed one by one
//!   (two answers to one step: the second is stale, as it would be alone);
//! - an expected refusal (a stale step, a used-up token) happens before its chain wrote
//!   anything, so it does not disturb the others;
//! - a failure (storage, a broken invariant) aborts the whole batch, which is then re-run one
//!   chain per transaction, so only the failing chain fails;
//! - nobody is answered before the batch's flush succeeded.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use idflow_defs::Definition;
use idflow_engine::StepSeed;
use serde_json::Value;

use crate::error::RuntimeError;
use crate::records::{InstanceMeta, InstanceRecord};

/// Most chains in one transaction: bounds how long one transaction holds the store.
pub(crate) const MAX_BATCH: usize = 128;

/// What a chain gives its caller.
pub(crate) type Outcome = Result<Written, RuntimeError>;

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Where one caller waits.
enum SlotState {
    Waiting,
    /// This caller is to lead the next batch.
    Lead,
    Done(Box<Outcome>),
}

struct Slot {
    state: Mutex<SlotState>,
    changed: Condvar,
}

impl Slot {
    fn set(&self, state: SlotState) {
        *lock(&self.state) = state;
        self.changed.notify_one();
    }

    /// Waits until the slot is no longer `Waiting` and takes what it holds.
    fn wait(&self) -> SlotState {
        let mut state = lock(&self.state);
        while matches!(*state, SlotState::Waiting) {
            state = self
                .changed
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
        std::mem::replace(&mut *state, SlotState::Waiting)
    }
}

#[derive(Default)]
struct Queue {
    pending: VecDeque<(ChainOp, Arc<Slot>)>,
    /// A caller holds the lead (is running a batch or has been told to).
    leading: bool,
    batches: u64,
    chains: u64,
}

/// The queue of chains waiting for a transaction.
#[derive(Default)]
pub(crate) struct Combiner {
    queue: Mutex<Queue>,
}

impl Combiner {
    /// Batches run and chains in them (for benchmarks).
    pub(crate) fn stats(&self) -> (u64, u64) {
        let queue = lock(&self.queue);
        (queue.batches, queue.chains)
    }

    /// Gives the lead to the first queued caller, or gives it up when nobody waits.
    fn pass_lead(&self, queue: &mut Queue) {
        match queue.pending.front() {
            Some((_, next)) => next.set(SlotState::Lead),
            None => queue.leading = false,
        }
    }
}

/// A batch taken from the queue: if the leader unwinds before delivering, every caller in it
/// is answered with a failure and the lead is passed on, so nobody waits forever.
struct Batch<'a> {
    combiner: &'a Combiner,
    slots: Vec<Arc<Slot>>,
    delivered: bool,
}

impl Drop for Batch<'_> {
    fn drop(&mut self) {
        if self.delivered {
            return;
        }
        for slot in &self.slots {
            slot.set(SlotState::Done(Box::new(Err(RuntimeError::Inconsistent(
                "the batch running this chain was interrupted".to_string(),
            )))));
        }
        let mut queue = lock(&self.combiner.queue);
        self.combiner.pass_lead(&mut queue);
    }
}

impl Combiner {
    /// Runs `op` as one durable chain, possibly in a transaction shared with concurrent chains:
    /// queues it, and whoever holds the lead runs a batch with `run_batch` (one outcome per
    /// chain, in order).
    pub(crate) fn run(
        &self,
        op: ChainOp,
        run_batch: impl Fn(&[ChainOp]) -> Vec<Outcome>,
    ) -> Outcome {
        let slot = Arc::new(Slot {
            state: Mutex::new(SlotState::Waiting),
            changed: Condvar::new(),
        });
        {
            let mut queue = lock(&self.queue);
            queue.pending.push_back((op, Arc::clone(&slot)));
            if !queue.leading {
                queue.leading = true;
                *lock(&slot.state) = SlotState::Lead;
            }
        }
        loop {
            match slot.wait() {
                SlotState::Done(outcome) => return *outcome,
                SlotState::Lead => self.lead(&run_batch),
                SlotState::Waiting => {}
            }
        }
    }

    /// Runs one batch from the head of the queue and passes the lead on.
    fn lead(&self, run_batch: &impl Fn(&[ChainOp]) -> Vec<Outcome>) {
        let (ops, slots): (Vec<ChainOp>, Vec<Arc<Slot>>) = {
            let mut queue = lock(&self.queue);
            let take = queue.pending.len().min(MAX_BATCH);
            queue.batches += 1;
            queue.chains += take as u64;
            queue.pending.drain(..take).unzip()
        };
        let mut batch = Batch {
            combiner: self,
            slots,
            delivered: false,
        };
        let outcomes = run_batch(&ops);
        for (slot, outcome) in batch.slots.iter().zip(outcomes) {
            slot.set(SlotState::Done(Box::new(outcome)));
        }
        batch.delivered = true;
        let mut queue = lock(&self.queue);
        self.pass_lead(&mut queue);
    }
}

/// One durable chain, as data: what a start, an answer or a cancel does to the store. Built
/// outside the transaction (definitions resolved, IDs drawn, time read) so that
/// `Runtime::execute` (in `instances`) only reads and writes the store, any number of times.
pub(crate) enum ChainOp {
    Start {
        definition: Arc<Definition>,
        meta: InstanceMeta,
        id: String,
        /// Where the new instance's step IDs come from (drawn with its ID).
        step_seed: StepSeed,
        /// The start parameters (a token's are re-read inside the transaction).
        parameters: Value,
        token: Option<TokenUse>,
        now: i64,
        /// Work done for the first activity the chain runs that the handler works ahead for
        /// (see the handler module).
        ahead: Option<crate::handler::Prepared>,
    },
    Advance {
        id: String,
        definition: Arc<Definition>,
        action: Action,
        now: i64,
        /// Work done for the first activity the rehearsal saw the action lead to (see the
        /// handler module).
        prepared: Option<PreparedWork>,
        /// As a start's `ahead`.
        ahead: Option<crate::handler::Prepared>,
    },
}

/// What `ActivityHandler::prepare` computed before the transaction, for one node.
pub(crate) struct PreparedWork {
    pub(crate) node: String,
    pub(crate) work: crate::handler::Prepared,
}

/// The token a start consumes.
pub(crate) struct TokenUse {
    pub(crate) key: Vec<u8>,
    pub(crate) credential: String,
}

/// What happens to an existing instance.
pub(crate) enum Action {
    Answer {
        step_id: String,
        data: Value,
        digest: String,
    },
    Cancel {
        reason: String,
    },
    /// The runtime could not do what the engine asked (resume found a chain cut short).
    Abort {
        node: Option<String>,
        message: String,
    },
}

/// An instance as one chain left it: its record, before it becomes an `InstanceView` (built by
/// the caller, outside the transaction).
pub(crate) struct Written {
    pub(crate) id: String,
    pub(crate) record: InstanceRecord,
}
