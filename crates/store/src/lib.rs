//! The only crate that knows sled: an ordered, transactional key-value store with versioned records.
//!
//! Every other crate sees a [`Store`] of byte keys and versioned [`Record`] values, and changes it
//! only inside [`Store::transact`] / [`Store::commit`]: a closure that reads and writes through a
//! [`Tx`], applied all at once or not at all. The closure may run more than once (optimistic
//! concurrency: a conflicting writer makes it retry), so it must not have side effects outside the
//! transaction. This is the whole surface a second backend (PostgreSQL, SERIALIZABLE transactions
//! over one `kv(key bytea primary key, value bytea)` table) has to provide.
//!
//! Keys are built with [`key`]: segments joined so that no segment can forge another's boundary,
//! and a key's segments are always a prefix-scannable path (`["user", tenant, store, id]`).

use std::cell::Cell;
use std::path::Path;
use std::sync::Arc;

use sled::transaction::{
    ConflictableTransactionError, TransactionError, TransactionalTree, UnabortableTransactionError,
};

mod codec;
mod durable;
pub use codec::{decode_record, encode_record, json_depth, Record, MAX_RECORD_DEPTH};
pub use durable::{ensure_private_dir, Durability};

/// What went wrong below the domain: I/O, corruption, an unreadable record version.
/// Expected outcomes (a taken name, a wrong passcode) are never a `StoreError`.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("storage I/O failed: {0}")]
    Io(String),
    #[error("stored record under key {key} is corrupt: {reason}")]
    Corrupt { key: String, reason: String },
    #[error(
        "stored {kind} record has version {found}, this build reads versions up to {supported}"
    )]
    UnsupportedVersion {
        kind: &'static str,
        found: u8,
        supported: u8,
    },
    #[error("could not encode {kind} record: {reason}")]
    Encode { kind: &'static str, reason: String },
    /// A concurrent transaction touched the same keys; [`Store::transact`] retries on its own and
    /// never returns this to its caller.
    #[error("transaction conflict")]
    Conflict,
    /// The store's directory is not private to this user (others could read or change it).
    #[error("{path} is unsafe: {reason}")]
    Unsafe { path: String, reason: String },
}

/// The embedded key-value store. Cheap to clone; all clones share one database.
#[derive(Clone)]
pub struct Store {
    db: sled::Db,
    tree: sled::Tree,
    temporary: bool,
    /// The files to sync after sled's own flush (none for a temporary store).
    files: Option<Arc<durable::Files>>,
}

const MAIN_TREE: &[u8] = b"idflow";

impl Store {
    /// Opens (or creates) the store in `dir`, durable against power loss: see [`Durability`].
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        Self::open_with(dir, Durability::PowerLoss)
    }

    /// Opens (or creates) the store in `dir` with the given durability. The directory is
    /// created private (0700) and its files made 0600; a directory that others may write is
    /// refused.
    pub fn open_with(dir: &Path, durability: Durability) -> Result<Store, StoreError> {
        ensure_private_dir(dir)?;
        // No compression: sled's zstd halves the bytes per instance but also the durable
        // throughput, since it compresses under the same lock (BENCHMARKS.md, `bench store`).
        let db = open_when_unlocked(sled::Config::new().path(dir).flush_every_ms(Some(1000)))?;
        let files = durable::Files::open(dir, durability)?;
        let mut store = Self::from_db(db, false)?;
        store.files = Some(Arc::new(files));
        Ok(store)
    }

    /// A store that lives only as long as this value (a dry run, a test, a benchmark).
    pub fn temporary() -> Result<Store, StoreError> {
        let db = sled::Config::new()
            .temporary(true)
            .flush_every_ms(None)
            .open()
            .map_err(io)?;
        Self::from_db(db, true)
    }

    fn from_db(db: sled::Db, temporary: bool) -> Result<Store, StoreError> {
        let tree = db.open_tree(MAIN_TREE).map_err(io)?;
        Ok(Store {
            db,
            tree,
            temporary,
            files: None,
        })
    }

    /// Whether this store is thrown away on drop (no durability to wait for).
    pub fn is_temporary(&self) -> bool {
        self.temporary
    }

    /// Runs `f` as one atomic transaction and returns its result. The change is applied but not
    /// yet durable: use [`Store::commit`] when the caller is about to be answered.
    ///
    /// `f` may run several times when concurrent transactions conflict; an `Err` from `f` aborts
    /// the transaction with nothing written.
    pub fn transact<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: Fn(&Tx<'_>) -> Result<T, E>,
        E: From<StoreError>,
    {
        let result = self.tree.transaction(|t| {
            let tx = Tx {
                tree: t,
                conflict: Cell::new(false),
            };
            match f(&tx) {
                Ok(v) => Ok(v),
                Err(_) if tx.conflict.get() => Err(ConflictableTransactionError::Conflict),
                Err(e) => Err(ConflictableTransactionError::Abort(e)),
            }
        });
        match result {
            Ok(v) => Ok(v),
            Err(TransactionError::Abort(e)) => Err(e),
            Err(TransactionError::Storage(e)) => Err(io(e).into()),
        }
    }

    /// [`Store::transact`], then waits until the change is durable on disk. This is the call to
    /// use before acknowledging a state change to anyone. Each call flushes on its own: callers
    /// with many concurrent commits batch them first (see the runtime's group commit).
    pub fn commit<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: Fn(&Tx<'_>) -> Result<T, E>,
        E: From<StoreError>,
    {
        let v = self.transact(f)?;
        self.flush()?;
        Ok(v)
    }

    /// Waits until everything written so far is durable: sled writes its log out, then (for
    /// [`Durability::PowerLoss`]) the store's files are synced to the device.
    pub fn flush(&self) -> Result<(), StoreError> {
        if !self.temporary {
            self.db.flush().map_err(io)?;
        }
        if let Some(files) = &self.files {
            files.sync()?;
        }
        Ok(())
    }

    /// How many times [`Store::flush`] has synced the store's files to the device since it was
    /// opened: what a test reads to see that a sync came before an acknowledgement.
    pub fn device_syncs(&self) -> u64 {
        self.files.as_ref().map_or(0, |f| f.syncs())
    }

    /// Reads one key outside any transaction (a consistent point-in-time read of that key).
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.tree.get(key).map_err(io)?.map(|v| v.to_vec()))
    }

    /// Reads and decodes one record outside any transaction.
    pub fn get_record<R: Record>(&self, key: &[u8]) -> Result<Option<R>, StoreError> {
        match self.tree.get(key).map_err(io)? {
            Some(bytes) => decode_record::<R>(key, &bytes).map(Some),
            None => Ok(None),
        }
    }

    /// Every key-value pair whose key starts with `prefix`, in key order.
    pub fn scan_prefix(
        &self,
        prefix: &[u8],
    ) -> impl Iterator<Item = Result<(Vec<u8>, Vec<u8>), StoreError>> + '_ {
        self.tree
            .scan_prefix(prefix)
            .map(|r| r.map(|(k, v)| (k.to_vec(), v.to_vec())).map_err(io))
    }

    /// Every record whose key starts with `prefix`, decoded, in key order.
    pub fn scan_records<R: Record>(
        &self,
        prefix: &[u8],
    ) -> impl Iterator<Item = KeyedRecord<R>> + '_ {
        self.scan_prefix(prefix).map(|r| {
            let (k, v) = r?;
            let rec = decode_record::<R>(&k, &v)?;
            Ok((k, rec))
        })
    }

    /// Key-value pairs from `start` (inclusive) under `prefix`, at most `limit` of them: paging.
    pub fn scan_from(
        &self,
        prefix: &[u8],
        start: &[u8],
        limit: usize,
    ) -> Result<Vec<KeyValue>, StoreError> {
        let mut out = Vec::new();
        for r in self.tree.range(start.to_vec()..) {
            let (k, v) = r.map_err(io)?;
            if !k.starts_with(prefix) || out.len() >= limit {
                break;
            }
            out.push((k.to_vec(), v.to_vec()));
        }
        Ok(out)
    }

    /// Bytes the database occupies on disk (0 for a temporary store that never flushed).
    pub fn size_on_disk(&self) -> Result<u64, StoreError> {
        self.db.size_on_disk().map_err(io)
    }

    /// Number of keys under `prefix` (a full scan: for tests, tools and benchmarks).
    pub fn count_prefix(&self, prefix: &[u8]) -> Result<usize, StoreError> {
        let mut n = 0;
        for r in self.tree.scan_prefix(prefix) {
            r.map_err(io)?;
            n += 1;
        }
        Ok(n)
    }
}

/// How long [`Store::open`] waits for the lock on a store another handle is still closing.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

/// Opens sled, waiting up to [`LOCK_WAIT`] for its file lock: a store dropped a moment ago
/// releases the lock only when sled's background threads have let go of it, so an immediate
/// reopen (a restart, a command run right after `idflow serve` stopped) would fail by chance.
/// A store that stays locked (another process has it open) is refused with sled's message.
fn open_when_unlocked(config: sled::Config) -> Result<sled::Db, StoreError> {
    let deadline = std::time::Instant::now() + LOCK_WAIT;
    loop {
        match config.open() {
            Ok(db) => return Ok(db),
            // sled reports the lock as an untyped I/O error; its text is the only sign.
            Err(sled::Error::Io(e))
                if e.to_string().contains("could not acquire lock")
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(25));
            }
            Err(e) => return Err(io(e)),
        }
    }
}

/// A raw key and value.
pub type KeyValue = (Vec<u8>, Vec<u8>);

/// One item of [`Store::scan_records`]: the key and its decoded record.
pub type KeyedRecord<R> = Result<(Vec<u8>, R), StoreError>;

/// A transaction's view of the store: reads see its own writes; nothing is visible to others
/// until the whole transaction commits.
pub struct Tx<'a> {
    tree: &'a TransactionalTree,
    conflict: Cell<bool>,
}

impl Tx<'_> {
    fn lift(&self, e: UnabortableTransactionError) -> StoreError {
        match e {
            UnabortableTransactionError::Conflict => {
                self.conflict.set(true);
                StoreError::Conflict
            }
            UnabortableTransactionError::Storage(e) => io(e),
        }
    }

    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.tree
            .get(key)
            .map(|v| v.map(|v| v.to_vec()))
            .map_err(|e| self.lift(e))
    }

    pub fn insert(&self, key: &[u8], value: Vec<u8>) -> Result<(), StoreError> {
        self.tree
            .insert(key, value)
            .map(|_| ())
            .map_err(|e| self.lift(e))
    }

    pub fn remove(&self, key: &[u8]) -> Result<(), StoreError> {
        self.tree.remove(key).map(|_| ()).map_err(|e| self.lift(e))
    }

    pub fn contains(&self, key: &[u8]) -> Result<bool, StoreError> {
        Ok(self.get(key)?.is_some())
    }

    pub fn get_record<R: Record>(&self, key: &[u8]) -> Result<Option<R>, StoreError> {
        match self.get(key)? {
            Some(bytes) => decode_record::<R>(key, &bytes).map(Some),
            None => Ok(None),
        }
    }

    pub fn put_record<R: Record>(&self, key: &[u8], record: &R) -> Result<(), StoreError> {
        self.insert(key, encode_record(record)?)
    }

    /// Reads a big-endian u64 counter (0 when absent), adds `by`, writes it back, returns the new value.
    pub fn increment(&self, key: &[u8], by: u64) -> Result<u64, StoreError> {
        let current = match self.get(key)? {
            Some(b) => {
                u64::from_be_bytes(b.as_slice().try_into().map_err(|_| StoreError::Corrupt {
                    key: render_key(key),
                    reason: format!("counter has {} bytes, expected 8", b.len()),
                })?)
            }
            None => 0,
        };
        let next = current.saturating_add(by);
        self.insert(key, next.to_be_bytes().to_vec())?;
        Ok(next)
    }
}

/// Builds a key from path segments. A segment may hold any bytes: NUL is escaped, so
/// `key(&["a\0", "b"])` and `key(&["a", "\0b"])` differ and neither starts with `prefix(&["a"])`
/// unless its first segment really is `a`.
pub fn key<S: AsRef<[u8]>>(segments: &[S]) -> Vec<u8> {
    let mut out = Vec::with_capacity(segments.iter().map(|s| s.as_ref().len() + 2).sum());
    for (i, s) in segments.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(&[0, 0]);
        }
        push_escaped(&mut out, s.as_ref());
    }
    out
}

/// The prefix shared by every key whose first segments are `segments`.
pub fn prefix<S: AsRef<[u8]>>(segments: &[S]) -> Vec<u8> {
    let mut out = key(segments);
    out.extend_from_slice(&[0, 0]);
    out
}

/// The last segment of a key built by [`key`], unescaped.
pub fn last_segment(key: &[u8]) -> Vec<u8> {
    let mut start = 0;
    let mut i = 0;
    while i + 1 < key.len() {
        if key[i] == 0 {
            if key[i + 1] == 0 {
                start = i + 2;
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    let mut out = Vec::with_capacity(key.len() - start);
    let mut j = start;
    while j < key.len() {
        if key[j] == 0 && j + 1 < key.len() && key[j + 1] == 0xFF {
            out.push(0);
            j += 2;
        } else {
            out.push(key[j]);
            j += 1;
        }
    }
    out
}

/// Every segment of a key built by [`key`], unescaped, in order.
pub fn segments(key: &[u8]) -> Vec<Vec<u8>> {
    let mut out = vec![Vec::new()];
    let mut i = 0;
    while i < key.len() {
        match (key[i], key.get(i + 1)) {
            (0, Some(0)) => {
                out.push(Vec::new());
                i += 2;
            }
            (0, Some(0xFF)) => {
                if let Some(segment) = out.last_mut() {
                    segment.push(0);
                }
                i += 2;
            }
            (b, _) => {
                if let Some(segment) = out.last_mut() {
                    segment.push(b);
                }
                i += 1;
            }
        }
    }
    out
}

/// The smallest key after every key that starts with `prefix` (a prefix built by [`prefix`]):
/// where a scan resumes to skip the rest of a group.
pub fn after_prefix(prefix: &[u8]) -> Vec<u8> {
    let mut out = prefix.to_vec();
    // A prefix ends in the separator `0 0`; every key under it continues with a segment byte or
    // the escape `0 FF`, both above `0 0` and below `0 1`.
    if let Some(last) = out.last_mut() {
        *last = 1;
    }
    out
}

fn push_escaped(out: &mut Vec<u8>, s: &[u8]) {
    for &b in s {
        if b == 0 {
            out.extend_from_slice(&[0, 0xFF]);
        } else {
            out.push(b);
        }
    }
}

/// A key as text for error messages (segments joined by `/`). Error messages reach logs, and
/// a segment that is one of the product's IDs may be a capability (an instance ID lets its end
/// user answer a step, a session ID completes an authentication), so such a segment is shown as
/// its [`idflow_ids::log_tag`]: `i/#1a2b3c4d`, not `i/<instance ID>`.
pub fn render_key(key: &[u8]) -> String {
    let mut out = String::with_capacity(key.len());
    for (i, segment) in segments(key).iter().enumerate() {
        if i > 0 {
            out.push('/');
        }
        let text = String::from_utf8_lossy(segment);
        if idflow_ids::is_id(&text) {
            out.push_str(&idflow_ids::log_tag(&text));
        } else {
            out.push_str(&text.replace('\0', ""));
        }
    }
    out
}

fn io(e: impl std::fmt::Display) -> StoreError {
    StoreError::Io(e.to_string())
}

#[cfg(test)]
mod tests;
