//! The [`Runtime`]: the store, the activity handler, the clock, the random source and the cache
//! of parsed definitions, shared by every request (`Send + Sync`, used behind an `Arc`).

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};

use idflow_defs::Definition;
use idflow_engine::redact::MarkerKey;
use idflow_engine::Limits;
use idflow_store::{Store, Tx};

use crate::chains::Combiner;
use crate::durable::GroupCommit;
use crate::error::RuntimeError;
use crate::handler::ActivityHandler;
use crate::ids::RandomSource;
use idflow_clock::{Clock, SystemClock};

/// How a [`Runtime`] is set up.
#[derive(Clone)]
pub struct RuntimeConfig {
    /// Where "now" comes from: [`SystemClock`] in production, a `ManualClock` in tests.
    pub clock: Arc<dyn Clock>,
    /// Seeds the random source (instance IDs, token IDs, activity randomness) for reproducible
    /// runs; `None` seeds it from the operating system.
    pub rng_seed: Option<u64>,
    /// The limits the engine enforces.
    pub limits: Limits,
    /// The key history's commitment markers are keyed with: the data directory's (the server
    /// loads it from there), so markers stay stable for the directory's life. `None` draws one
    /// from the random source: for stores that live no longer than the runtime (`idflow run`,
    /// tests, benchmarks), or that the runtime only reads (`idflow history export`).
    pub marker_key: Option<MarkerKey>,
}

impl Default for RuntimeConfig {
    fn default() -> RuntimeConfig {
        RuntimeConfig {
            clock: Arc::new(SystemClock),
            rng_seed: None,
            limits: Limits::default(),
            marker_key: None,
        }
    }
}

impl fmt::Debug for RuntimeConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RuntimeConfig")
            .field("rng_seed", &self.rng_seed.map(|_| "<fixed>"))
            .field("limits", &self.limits)
            .field("marker_key", &self.marker_key)
            .finish_non_exhaustive()
    }
}

type DefinitionKey = (String, String, u32);

/// Deployments, process tokens, instances and timers on a durable store, around the sans-IO
/// engine. Every state change is one atomic store transaction, durable before the call returns.
pub struct Runtime {
    pub(crate) store: Store,
    pub(crate) handler: Arc<dyn ActivityHandler>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) limits: Limits,
    /// What history's markers are keyed with (never stored, never exported).
    pub(crate) marker_key: MarkerKey,
    pub(crate) random: RandomSource,
    /// A second stream for what guards capabilities and secrets (step seeds, a temporary marker
    /// key): drawing those leaves `random`'s sequence of IDs and activity values as it was, so a
    /// fixed-seed run keeps its IDs.
    pub(crate) seeds: RandomSource,
    definitions: RwLock<HashMap<DefinitionKey, Arc<Definition>>>,
    group: GroupCommit,
    pub(crate) chains: Combiner,
    /// Which shard of the statistics counters this runtime writes (see `keys::statistic`): drawn
    /// from the operating system, not from the seeded streams, so fixed-seed runs keep their IDs.
    pub(crate) statistics_shard: u8,
    /// This node's order for firing a page of due timers on a shared store (drawn at start, so
    /// nodes differ).
    timer_order_keys: std::collections::hash_map::RandomState,
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("temporary_store", &self.store.is_temporary())
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl Runtime {
    /// A runtime on `store`, executing activities through `handler`. Call [`Runtime::resume`]
    /// after opening an existing store.
    pub fn new(store: Store, handler: Arc<dyn ActivityHandler>, config: RuntimeConfig) -> Runtime {
        let random = RandomSource::new(config.rng_seed);
        // Another fixed seed for the second stream: the same one would repeat `random`'s values.
        let seeds = RandomSource::new(config.rng_seed.map(|s| !s.rotate_left(17)));
        let marker_key = config.marker_key.unwrap_or_else(|| {
            let mut bytes = [0u8; MarkerKey::LEN];
            seeds.fill(&mut bytes);
            MarkerKey::from_bytes(bytes)
        });
        Runtime {
            store,
            handler,
            clock: config.clock,
            limits: config.limits,
            marker_key,
            random,
            seeds,
            definitions: RwLock::new(HashMap::new()),
            group: GroupCommit::default(),
            chains: Combiner::default(),
            statistics_shard: rand::random::<u8>() % crate::keys::STATISTICS_SHARDS,
            timer_order_keys: std::collections::hash_map::RandomState::new(),
        }
    }

    /// Where instance `id` falls in this node's order for firing due timers on a shared store.
    pub(crate) fn timer_order(&self, id: &str) -> u64 {
        use std::hash::BuildHasher;
        self.timer_order_keys.hash_one(id)
    }

    /// The store this runtime writes (the identity store and the server share it).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The runtime's clock.
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// How many disk flushes the runtime has made and the time spent in them (group commit
    /// shares one flush between many concurrent transitions; benchmarks report it).
    pub fn flush_stats(&self) -> (u64, std::time::Duration) {
        self.group.flushes()
    }

    /// How many transactions the chain combiner ran and how many chains they held (starts,
    /// answers and cancels share transactions under load); for benchmarks.
    pub fn batch_stats(&self) -> (u64, u64) {
        self.chains.stats()
    }

    /// One atomic transaction, durable before this returns. `f` may run more than once.
    pub(crate) fn commit<T>(
        &self,
        f: impl Fn(&Tx<'_>) -> Result<T, RuntimeError>,
    ) -> Result<T, RuntimeError> {
        let value = self.store.transact(f)?;
        self.wait_durable()?;
        Ok(value)
    }

    /// Returns once everything applied so far is durable (flushes shared between callers).
    pub(crate) fn wait_durable(&self) -> Result<(), RuntimeError> {
        Ok(self.group.wait_durable(&self.store)?)
    }

    pub(crate) fn cached_definition(
        &self,
        tenant: &str,
        name: &str,
        version: u32,
    ) -> Option<Arc<Definition>> {
        self.definitions
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&(tenant.to_string(), name.to_string(), version))
            .cloned()
    }

    pub(crate) fn cache_definition(
        &self,
        tenant: &str,
        name: &str,
        version: u32,
        definition: Arc<Definition>,
    ) -> Arc<Definition> {
        let mut cache = self
            .definitions
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        Arc::clone(
            cache
                .entry((tenant.to_string(), name.to_string(), version))
                .or_insert(definition),
        )
    }
}

/// How much the instances take in the store, counted key by key (the logical size, before the
/// storage engine's own overhead).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InstanceStorage {
    /// Instance records.
    pub instances: u64,
    /// Keys that belong to instances: records, history chunks, the tenant listing, the active
    /// index and the ended index.
    pub keys: u64,
    /// Their key and value bytes.
    pub bytes: u64,
}

impl Runtime {
    /// Counts what instances occupy in the store (a full scan: for benchmarks and tools).
    pub fn instance_storage(&self) -> Result<InstanceStorage, RuntimeError> {
        let mut storage = InstanceStorage::default();
        for (prefix, is_record) in [
            (crate::keys::instance_records(), true),
            (crate::keys::history_all(), false),
            (crate::keys::active_instances(), false),
            (crate::keys::all_tenant_instances(), false),
            (crate::keys::ended_instances(), false),
        ] {
            for row in self.store.scan_prefix(&prefix) {
                let (key, value) = row?;
                storage.keys += 1;
                storage.bytes += (key.len() + value.len()) as u64;
                if is_record {
                    storage.instances += 1;
                }
            }
        }
        Ok(storage)
    }
}
