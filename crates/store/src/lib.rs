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
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sled::transaction::{
    ConflictableTransactionError, TransactionError, TransactionalTree, UnabortableTransactionError,
};

mod codec;
mod durable;
mod pg;
pub use codec::{
    decode_record, encode_plain, encode_record, json_depth, plain_record, Record, MAX_RECORD_DEPTH,
    ZSTD_DICTIONARY_1,
};
pub use durable::{ensure_private_dir, Durability};
pub use pg::serialization_retries;

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

/// Where a store lives: a directory of sled files (the embedded default), or a PostgreSQL
/// database shared by several nodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreLocation {
    Dir(PathBuf),
    /// A `postgres://` (or `postgresql://`) URL.
    Postgres(String),
}

impl StoreLocation {
    /// A PostgreSQL URL, else `dir`.
    pub fn from_url_or(url: Option<&str>, dir: PathBuf) -> StoreLocation {
        match url {
            Some(u) => StoreLocation::Postgres(u.to_string()),
            None => StoreLocation::Dir(dir),
        }
    }

    /// Whether `text` names a PostgreSQL database.
    pub fn is_postgres_url(text: &str) -> bool {
        text.starts_with("postgres://") || text.starts_with("postgresql://")
    }
}

impl std::fmt::Display for StoreLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreLocation::Dir(dir) => write!(f, "{}", dir.display()),
            StoreLocation::Postgres(url) => f.write_str(&pg::redact_url(url)),
        }
    }
}

/// The key-value store: sled (embedded) or PostgreSQL (shared). Cheap to clone; all clones share
/// one database.
#[derive(Clone)]
pub struct Store {
    backend: Backend,
}

#[derive(Clone)]
enum Backend {
    Sled(SledStore),
    Postgres(pg::PgStore),
}

#[derive(Clone)]
struct SledStore {
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

    /// Opens the store at `location`: a sled directory (durable against power loss) or a
    /// PostgreSQL database (its schema migrated to this build's version first).
    pub fn open_at(location: &StoreLocation) -> Result<Store, StoreError> {
        match location {
            StoreLocation::Dir(dir) => Store::open(dir),
            StoreLocation::Postgres(url) => Ok(Store {
                backend: Backend::Postgres(pg::PgStore::open(url)?),
            }),
        }
    }

    /// Opens (or creates) the store in `dir` with the given durability. The directory is
    /// created private (0700) and its files made 0600; a directory that others may write is
    /// refused.
    pub fn open_with(dir: &Path, durability: Durability) -> Result<Store, StoreError> {
        ensure_private_dir(dir)?;
        // No sled compression: sled's zstd halves the bytes per instance but also the durable
        // throughput, since it compresses under the same lock; records are compressed by the
        // codec instead, outside it (BENCHMARKS.md, `bench store`).
        let db = open_when_unlocked(sled::Config::new().path(dir).flush_every_ms(Some(1000)))?;
        let files = durable::Files::open(dir, durability)?;
        let mut sled = SledStore::from_db(db, false)?;
        sled.files = Some(Arc::new(files));
        Ok(Store {
            backend: Backend::Sled(sled),
        })
    }

    /// A store that lives only as long as this value (a dry run, a test, a benchmark).
    pub fn temporary() -> Result<Store, StoreError> {
        let db = sled::Config::new()
            .temporary(true)
            .flush_every_ms(None)
            .open()
            .map_err(io)?;
        Ok(Store {
            backend: Backend::Sled(SledStore::from_db(db, true)?),
        })
    }

    /// Whether this store is thrown away on drop (no durability to wait for).
    pub fn is_temporary(&self) -> bool {
        match &self.backend {
            Backend::Sled(s) => s.temporary,
            Backend::Postgres(_) => false,
        }
    }

    /// Whether several nodes may share this store (PostgreSQL): the runtime then looks for due
    /// timers in the store rather than only in its own memory.
    pub fn is_shared(&self) -> bool {
        matches!(self.backend, Backend::Postgres(_))
    }

    /// Where the store is, fit for messages (a PostgreSQL URL without its password).
    pub fn describe(&self) -> String {
        match &self.backend {
            Backend::Sled(s) if s.temporary => "a temporary store".to_string(),
            Backend::Sled(_) => "a sled store".to_string(),
            Backend::Postgres(p) => p.shown().to_string(),
        }
    }

    /// The schema version of a PostgreSQL store (`None` for sled, whose records carry their own
    /// versions).
    pub fn schema_version(&self) -> Result<Option<i32>, StoreError> {
        match &self.backend {
            Backend::Sled(_) => Ok(None),
            Backend::Postgres(p) => p.schema_version().map(Some),
        }
    }

    /// Runs `f` as one atomic transaction and returns its result. The change is applied but not
    /// yet durable on sled: use [`Store::commit`] when the caller is about to be answered (on
    /// PostgreSQL every transaction is durable when it returns).
    ///
    /// `f` may run several times when concurrent transactions conflict; an `Err` from `f` aborts
    /// the transaction with nothing written.
    pub fn transact<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: Fn(&Tx<'_>) -> Result<T, E>,
        E: From<StoreError>,
    {
        match &self.backend {
            Backend::Sled(s) => s.transact(f),
            Backend::Postgres(p) => p.transact(f),
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
    /// [`Durability::PowerLoss`]) the store's files are synced to the device. PostgreSQL made
    /// each transaction durable when it committed (`synchronous_commit = on`).
    pub fn flush(&self) -> Result<(), StoreError> {
        let Backend::Sled(s) = &self.backend else {
            return Ok(());
        };
        if !s.temporary {
            s.db.flush().map_err(io)?;
        }
        if let Some(files) = &s.files {
            files.sync()?;
        }
        Ok(())
    }

    /// How many times the store has made changes durable since it was opened (sled: syncs of
    /// its files to the device by [`Store::flush`]; PostgreSQL: committed transactions): what a
    /// test reads to see that durability came before an acknowledgement.
    pub fn device_syncs(&self) -> u64 {
        match &self.backend {
            Backend::Sled(s) => s.files.as_ref().map_or(0, |f| f.syncs()),
            Backend::Postgres(p) => p.commits(),
        }
    }

    /// Reads one key outside any transaction (a consistent point-in-time read of that key).
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        match &self.backend {
            Backend::Sled(s) => Ok(s.tree.get(key).map_err(io)?.map(|v| v.to_vec())),
            Backend::Postgres(p) => p.get(key),
        }
    }

    /// Reads and decodes one record outside any transaction.
    pub fn get_record<R: Record>(&self, key: &[u8]) -> Result<Option<R>, StoreError> {
        match self.get(key)? {
            Some(bytes) => decode_record::<R>(key, &bytes).map(Some),
            None => Ok(None),
        }
    }

    /// Every key-value pair whose key starts with `prefix`, in key order.
    pub fn scan_prefix(
        &self,
        prefix: &[u8],
    ) -> Box<dyn Iterator<Item = Result<KeyValue, StoreError>> + '_> {
        match &self.backend {
            Backend::Sled(s) => Box::new(
                s.tree
                    .scan_prefix(prefix)
                    .map(|r| r.map(|(k, v)| (k.to_vec(), v.to_vec())).map_err(io)),
            ),
            Backend::Postgres(p) => Box::new(pg::Scan::new(p, prefix)),
        }
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
        match &self.backend {
            Backend::Sled(s) => {
                let mut out = Vec::new();
                for r in s.tree.range(start.to_vec()..) {
                    let (k, v) = r.map_err(io)?;
                    if !k.starts_with(prefix) || out.len() >= limit {
                        break;
                    }
                    out.push((k.to_vec(), v.to_vec()));
                }
                Ok(out)
            }
            Backend::Postgres(p) => {
                let start = start.max(prefix);
                let end = pg::prefix_end(prefix);
                p.range(
                    start,
                    end.as_deref(),
                    i64::try_from(limit).unwrap_or(i64::MAX),
                )
            }
        }
    }

    /// Bytes the database occupies on disk (0 for a temporary store that never flushed; for
    /// PostgreSQL, the key-value table with its index).
    pub fn size_on_disk(&self) -> Result<u64, StoreError> {
        match &self.backend {
            Backend::Sled(s) => s.db.size_on_disk().map_err(io),
            Backend::Postgres(p) => p.size_on_disk(),
        }
    }

    /// Number of keys under `prefix` (a full scan: for tests, tools and benchmarks).
    pub fn count_prefix(&self, prefix: &[u8]) -> Result<usize, StoreError> {
        let mut n = 0;
        for r in self.scan_prefix(prefix) {
            r?;
            n += 1;
        }
        Ok(n)
    }
}

impl SledStore {
    fn from_db(db: sled::Db, temporary: bool) -> Result<SledStore, StoreError> {
        let tree = db.open_tree(MAIN_TREE).map_err(io)?;
        Ok(SledStore {
            db,
            tree,
            temporary,
            files: None,
        })
    }

    fn transact<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: Fn(&Tx<'_>) -> Result<T, E>,
        E: From<StoreError>,
    {
        let result = self.tree.transaction(|t| {
            let tx = Tx {
                inner: TxInner::Sled {
                    tree: t,
                    conflict: Cell::new(false),
                },
            };
            match f(&tx) {
                Ok(v) => Ok(v),
                Err(_) if tx.conflicted() => Err(ConflictableTransactionError::Conflict),
                Err(e) => Err(ConflictableTransactionError::Abort(e)),
            }
        });
        match result {
            Ok(v) => Ok(v),
            Err(TransactionError::Abort(e)) => Err(e),
            Err(TransactionError::Storage(e)) => Err(io(e).into()),
        }
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
    inner: TxInner<'a>,
}

enum TxInner<'a> {
    Sled {
        tree: &'a TransactionalTree,
        conflict: Cell<bool>,
    },
    Postgres(&'a (dyn pg::TxOps + 'a)),
}

impl<'a> Tx<'a> {
    pub(crate) fn postgres(tx: &'a (dyn pg::TxOps + 'a)) -> Tx<'a> {
        Tx {
            inner: TxInner::Postgres(tx),
        }
    }
}

impl Tx<'_> {
    /// Whether a read or write met a concurrent transaction (the closure will run again).
    fn conflicted(&self) -> bool {
        match &self.inner {
            TxInner::Sled { conflict, .. } => conflict.get(),
            TxInner::Postgres(p) => p.conflicted(),
        }
    }

    fn lift(&self, e: UnabortableTransactionError) -> StoreError {
        match e {
            UnabortableTransactionError::Conflict => {
                if let TxInner::Sled { conflict, .. } = &self.inner {
                    conflict.set(true);
                }
                StoreError::Conflict
            }
            UnabortableTransactionError::Storage(e) => io(e),
        }
    }

    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        match &self.inner {
            TxInner::Sled { tree, .. } => tree
                .get(key)
                .map(|v| v.map(|v| v.to_vec()))
                .map_err(|e| self.lift(e)),
            TxInner::Postgres(p) => p.get(key),
        }
    }

    pub fn insert(&self, key: &[u8], value: Vec<u8>) -> Result<(), StoreError> {
        match &self.inner {
            TxInner::Sled { tree, .. } => tree
                .insert(key, value)
                .map(|_| ())
                .map_err(|e| self.lift(e)),
            TxInner::Postgres(p) => {
                p.insert(key, value);
                Ok(())
            }
        }
    }

    pub fn remove(&self, key: &[u8]) -> Result<(), StoreError> {
        match &self.inner {
            TxInner::Sled { tree, .. } => tree.remove(key).map(|_| ()).map_err(|e| self.lift(e)),
            TxInner::Postgres(p) => {
                p.remove(key);
                Ok(())
            }
        }
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
