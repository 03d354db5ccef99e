//! The PostgreSQL backend: the same ordered key-value surface as sled, over one table, for
//! several `idflow serve` nodes sharing one database.
//!
//! Every key-value pair is a row of `idflow_kv(key bytea primary key, value bytea)`; `bytea`
//! compares bytewise, so key order and prefix scans are sled's. A transaction is a SERIALIZABLE
//! PostgreSQL transaction: reads go to the database (through the transaction's own buffered
//! writes first, so it reads what it wrote), writes are buffered and sent as two statements at
//! the end (one upsert of every written key, one delete of every removed key), and a
//! serialization failure or deadlock runs the closure again, exactly as a sled conflict does.
//! SERIALIZABLE is what makes "exactly once" hold across nodes: two nodes that both read a
//! token's use count, or the same due timer, and both write cannot both commit.
//!
//! Commits are durable when PostgreSQL answers: every connection sets `synchronous_commit = on`
//! (whatever the server's default), so the commit record is flushed to the WAL on disk first.
//!
//! The SQL is plain enough for PostgreSQL-compatible distributed databases (CockroachDB,
//! YugabyteDB): `bytea` keys, `INSERT ... ON CONFLICT DO UPDATE`, `unnest` of arrays,
//! SERIALIZABLE, SQLSTATE 40001 for a retry. `pg_total_relation_size` (used only to report the
//! size) is PostgreSQL's own.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use postgres::error::SqlState;
use postgres::{Client, IsolationLevel, NoTls, Statement};

use crate::StoreError;

/// The schema's versions, applied in order at open: `(version, what it does, SQL)`. A version,
/// once released, never changes; a new one is appended.
const MIGRATIONS: &[(i32, &str, &str)] = &[(
    1,
    "the key-value table",
    "CREATE TABLE IF NOT EXISTS idflow_kv (key bytea PRIMARY KEY, value bytea NOT NULL)",
)];

/// How many times a transaction is retried after serialization failures before it gives up
/// with an I/O error (each retry waits a little longer, up to about a second in all).
const MAX_ATTEMPTS: u32 = 64;

/// Serialization failures retried since the process started, over every PostgreSQL store: what
/// `idflow bench store` reports as the price of several nodes on one database.
static RETRIES: AtomicU64 = AtomicU64::new(0);

/// See [`RETRIES`].
pub fn serialization_retries() -> u64 {
    RETRIES.load(Ordering::Relaxed)
}

/// Connections kept by one node.
const POOL_SIZE: u32 = 16;

/// A pooled connection with its prepared statements (prepared once per connection, so a read is
/// one round trip).
pub(crate) struct Conn {
    client: Client,
    get: Statement,
    scan: Statement,
    upsert: Statement,
    delete: Statement,
}

impl Conn {
    fn connect(url: &str) -> Result<Conn, postgres::Error> {
        let mut client = Client::connect(url, NoTls)?;
        client.batch_execute("SET synchronous_commit = on")?;
        let get = client.prepare("SELECT value FROM idflow_kv WHERE key = $1")?;
        let scan = client.prepare(
            "SELECT key, value FROM idflow_kv WHERE key >= $1 AND ($2::bytea IS NULL OR key < $2) \
             ORDER BY key LIMIT $3",
        )?;
        let upsert = client.prepare(
            "INSERT INTO idflow_kv (key, value) SELECT * FROM unnest($1::bytea[], $2::bytea[]) \
             ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
        )?;
        let delete = client.prepare("DELETE FROM idflow_kv WHERE key = ANY($1::bytea[])")?;
        Ok(Conn {
            client,
            get,
            scan,
            upsert,
            delete,
        })
    }
}

struct Manager {
    url: String,
}

impl r2d2::ManageConnection for Manager {
    type Connection = Conn;
    type Error = postgres::Error;

    fn connect(&self) -> Result<Conn, postgres::Error> {
        Conn::connect(&self.url)
    }

    fn is_valid(&self, conn: &mut Conn) -> Result<(), postgres::Error> {
        conn.client.simple_query("").map(|_| ())
    }

    fn has_broken(&self, conn: &mut Conn) -> bool {
        conn.client.is_closed()
    }
}

/// Runs `f`, which blocks on PostgreSQL, where blocking is allowed. The synchronous client runs
/// its own small async runtime per call, which cannot start on a thread that is driving one; so
/// a call made from an async task (a multi-threaded tokio runtime, as the server's) first tells
/// tokio that this thread blocks (`block_in_place`). A current-thread runtime cannot spare its
/// thread: that call is refused with an error saying so, never a panic.
fn blocking_allowed<T, E: From<StoreError>>(f: impl FnOnce() -> Result<T, E>) -> Result<T, E> {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Err(_) => f(),
        Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        Ok(_) => Err(StoreError::Io(
            "the PostgreSQL store was called from a current-thread async runtime, which it \
             would block: call it from tokio::task::spawn_blocking"
                .into(),
        )
        .into()),
    }
}

/// One node's handle on the database. Cheap to clone.
#[derive(Clone)]
pub(crate) struct PgStore {
    pool: r2d2::Pool<Manager>,
    /// Where the store is, with any password removed: for messages.
    shown: Arc<str>,
    commits: Arc<AtomicU64>,
}

/// The URL without its password, for messages and logs (a `key=value` connection string is not
/// shown at all: it may hold `password=`).
pub(crate) fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (None, _) => "a PostgreSQL connection string".to_string(),
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{user}@{}", &url[..scheme + 3], &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

fn pg_error(shown: &str, e: &postgres::Error) -> StoreError {
    // The driver's message names the failing part (connection refused, authentication, a SQL
    // error with its SQLSTATE); the URL is shown without its password.
    StoreError::Io(format!("PostgreSQL at {shown}: {e}"))
}

fn is_retryable(e: &postgres::Error) -> bool {
    matches!(
        e.code(),
        Some(c) if *c == SqlState::T_R_SERIALIZATION_FAILURE || *c == SqlState::T_R_DEADLOCK_DETECTED
    )
}

impl PgStore {
    /// Connects, and brings the schema up to date (each migration in its own transaction,
    /// serialized across nodes starting at once by an advisory lock).
    pub(crate) fn open(url: &str) -> Result<PgStore, StoreError> {
        blocking_allowed(|| PgStore::open_here(url))
    }

    fn open_here(url: &str) -> Result<PgStore, StoreError> {
        let shown: Arc<str> = redact_url(url).into();
        // The schema first, on a connection of its own: the pool's connections prepare their
        // statements against the table as soon as they open.
        let mut client = Client::connect(url, NoTls).map_err(|e| pg_error(&shown, &e))?;
        migrate(&mut client, &shown)?;
        drop(client);
        let pool = r2d2::Pool::builder()
            .max_size(POOL_SIZE)
            .min_idle(Some(1))
            .connection_timeout(Duration::from_secs(10))
            .build(Manager {
                url: url.to_string(),
            })
            .map_err(|e| StoreError::Io(format!("PostgreSQL at {shown}: {e}")))?;
        Ok(PgStore {
            pool,
            shown,
            commits: Arc::new(AtomicU64::new(0)),
        })
    }

    fn conn(&self) -> Result<r2d2::PooledConnection<Manager>, StoreError> {
        self.pool
            .get()
            .map_err(|e| StoreError::Io(format!("PostgreSQL at {}: {e}", self.shown)))
    }

    fn err(&self, e: &postgres::Error) -> StoreError {
        pg_error(&self.shown, e)
    }

    /// The schema version the database is at.
    pub(crate) fn schema_version(&self) -> Result<i32, StoreError> {
        blocking_allowed(|| self.schema_version_here())
    }

    fn schema_version_here(&self) -> Result<i32, StoreError> {
        let mut conn = self.conn()?;
        let v: Option<i32> = conn
            .client
            .query_one("SELECT max(version) FROM idflow_schema", &[])
            .map_err(|e| self.err(&e))?
            .get(0);
        Ok(v.unwrap_or(0))
    }

    pub(crate) fn commits(&self) -> u64 {
        self.commits.load(Ordering::Acquire)
    }

    /// Runs `f` in a SERIALIZABLE transaction until it commits, fails for a reason other than a
    /// serialization conflict, or has been retried [`MAX_ATTEMPTS`] times.
    pub(crate) fn transact<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: Fn(&crate::Tx<'_>) -> Result<T, E>,
        E: From<StoreError>,
    {
        blocking_allowed(|| self.transact_here(&f))
    }

    fn transact_here<T, E, F>(&self, f: &F) -> Result<T, E>
    where
        F: Fn(&crate::Tx<'_>) -> Result<T, E>,
        E: From<StoreError>,
    {
        let mut conn = self.conn()?;
        let conn = &mut *conn;
        let mut backoff = Duration::from_micros(500);
        for attempt in 1..=MAX_ATTEMPTS {
            let Conn {
                client,
                get,
                upsert,
                delete,
                ..
            } = conn;
            let transaction = client
                .build_transaction()
                .isolation_level(IsolationLevel::Serializable)
                .start()
                .map_err(|e| self.err(&e))?;
            let pg = PgTx {
                transaction: RefCell::new(transaction),
                get,
                writes: RefCell::new(BTreeMap::new()),
                conflict: Cell::new(false),
                shown: &self.shown,
            };
            let outcome = f(&crate::Tx::postgres(&pg));
            match outcome {
                Ok(value) => match pg.finish(upsert, delete) {
                    Ok(()) => {
                        self.commits.fetch_add(1, Ordering::AcqRel);
                        return Ok(value);
                    }
                    Err(e) if is_retryable(&e) => {}
                    Err(e) => return Err(self.err(&e).into()),
                },
                // A read that met a conflict made the closure fail: run it again.
                Err(_) if pg.conflicted() => {}
                Err(e) => return Err(e),
            }
            RETRIES.fetch_add(1, Ordering::Relaxed);
            if attempt < MAX_ATTEMPTS {
                std::thread::sleep(backoff);
                backoff = (backoff * 2).min(Duration::from_millis(50));
            }
        }
        Err(StoreError::Io(format!(
            "PostgreSQL at {}: gave up after {MAX_ATTEMPTS} serialization conflicts in a row",
            self.shown
        ))
        .into())
    }

    pub(crate) fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        blocking_allowed(|| self.get_here(key))
    }

    fn get_here(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let mut conn = self.conn()?;
        let Conn { client, get, .. } = &mut *conn;
        let row = client.query_opt(&*get, &[&key]).map_err(|e| self.err(&e))?;
        Ok(row.map(|r| r.get(0)))
    }

    /// Up to `limit` pairs with `start <= key < end` (no upper bound when `end` is `None`).
    pub(crate) fn range(
        &self,
        start: &[u8],
        end: Option<&[u8]>,
        limit: i64,
    ) -> Result<Vec<crate::KeyValue>, StoreError> {
        blocking_allowed(|| self.range_here(start, end, limit))
    }

    fn range_here(
        &self,
        start: &[u8],
        end: Option<&[u8]>,
        limit: i64,
    ) -> Result<Vec<crate::KeyValue>, StoreError> {
        let mut conn = self.conn()?;
        let Conn { client, scan, .. } = &mut *conn;
        let rows = client
            .query(&*scan, &[&start, &end, &limit])
            .map_err(|e| self.err(&e))?;
        Ok(rows.into_iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    pub(crate) fn size_on_disk(&self) -> Result<u64, StoreError> {
        blocking_allowed(|| self.size_on_disk_here())
    }

    fn size_on_disk_here(&self) -> Result<u64, StoreError> {
        let mut conn = self.conn()?;
        let size: i64 = conn
            .client
            .query_one("SELECT pg_total_relation_size('idflow_kv')", &[])
            .map_err(|e| self.err(&e))?
            .get(0);
        Ok(u64::try_from(size).unwrap_or(0))
    }

    pub(crate) fn shown(&self) -> &str {
        &self.shown
    }
}

/// Applies the migrations this build knows and the database lacks; refuses a database a newer
/// build has migrated further. Nodes starting at once take turns (an advisory lock).
fn migrate(client: &mut Client, shown: &str) -> Result<(), StoreError> {
    let err = |e: postgres::Error| pg_error(shown, &e);
    // The key is arbitrary but fixed: every idflow node takes the same lock.
    const LOCK: i64 = 0x1DF1_0000_0001;
    client
        .execute("SELECT pg_advisory_lock($1)", &[&LOCK])
        .map_err(err)?;
    let result = (|| {
        client
            .batch_execute(
                "CREATE TABLE IF NOT EXISTS idflow_schema \
                 (version integer PRIMARY KEY, description text NOT NULL, \
                  applied_at timestamptz NOT NULL DEFAULT now())",
            )
            .map_err(err)?;
        let newest: Option<i32> = client
            .query_one("SELECT max(version) FROM idflow_schema", &[])
            .map_err(err)?
            .get(0);
        let newest = newest.unwrap_or(0);
        let known = MIGRATIONS.last().map_or(0, |m| m.0);
        if newest > known {
            return Err(StoreError::Io(format!(
                "PostgreSQL at {shown}: the schema is at version {newest}, this build knows \
                 versions up to {known}: run a newer idflow"
            )));
        }
        for (version, description, sql) in MIGRATIONS.iter().filter(|m| m.0 > newest) {
            let mut t = client.transaction().map_err(err)?;
            t.batch_execute(sql).map_err(err)?;
            t.execute(
                "INSERT INTO idflow_schema (version, description) VALUES ($1, $2)",
                &[version, description],
            )
            .map_err(err)?;
            t.commit().map_err(err)?;
        }
        Ok(())
    })();
    client
        .execute("SELECT pg_advisory_unlock($1)", &[&LOCK])
        .map_err(err)?;
    result
}

/// A transaction in progress: the database transaction and the writes buffered for its end.
pub(crate) struct PgTx<'a> {
    transaction: RefCell<postgres::Transaction<'a>>,
    get: &'a Statement,
    /// Key → new value, or `None` for a removal; applied at the end, read first by `get`.
    writes: RefCell<BTreeMap<Vec<u8>, Option<Vec<u8>>>>,
    conflict: Cell<bool>,
    shown: &'a str,
}

/// What a [`crate::Tx`] does on PostgreSQL (a trait so that `Tx` need not name the
/// transaction's borrow of its connection).
pub(crate) trait TxOps {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;
    fn insert(&self, key: &[u8], value: Vec<u8>);
    fn remove(&self, key: &[u8]);
    fn conflicted(&self) -> bool;
}

impl TxOps for PgTx<'_> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        if let Some(written) = self.writes.borrow().get(key) {
            return Ok(written.clone());
        }
        let row = self
            .transaction
            .borrow_mut()
            .query_opt(self.get, &[&key])
            .map_err(|e| self.lift(&e))?;
        Ok(row.map(|r| r.get(0)))
    }

    fn insert(&self, key: &[u8], value: Vec<u8>) {
        self.writes.borrow_mut().insert(key.to_vec(), Some(value));
    }

    fn remove(&self, key: &[u8]) {
        self.writes.borrow_mut().insert(key.to_vec(), None);
    }

    fn conflicted(&self) -> bool {
        self.conflict.get()
    }
}

impl PgTx<'_> {
    fn lift(&self, e: &postgres::Error) -> StoreError {
        if is_retryable(e) {
            self.conflict.set(true);
            StoreError::Conflict
        } else {
            pg_error(self.shown, e)
        }
    }

    /// Sends the buffered writes and commits.
    fn finish(self, upsert: &Statement, delete: &Statement) -> Result<(), postgres::Error> {
        let mut transaction = self.transaction.into_inner();
        let writes = self.writes.into_inner();
        let (mut keys, mut values, mut removed) = (Vec::new(), Vec::new(), Vec::new());
        for (key, value) in writes {
            match value {
                Some(v) => {
                    keys.push(key);
                    values.push(v);
                }
                None => removed.push(key),
            }
        }
        if !keys.is_empty() {
            transaction.execute(upsert, &[&keys, &values])?;
        }
        if !removed.is_empty() {
            transaction.execute(delete, &[&removed])?;
        }
        transaction.commit()
    }
}

/// The smallest key above every key that starts with `prefix` (`None`: no upper bound, the
/// prefix is empty or all 0xFF).
pub(crate) fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xFF {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// A prefix scan read in pages, so a large scan neither holds a connection nor loads everything
/// at once. Each page is its own point-in-time read, as sled's scans are not snapshots either.
pub(crate) struct Scan<'a> {
    store: &'a PgStore,
    next: Vec<u8>,
    end: Option<Vec<u8>>,
    page: std::vec::IntoIter<crate::KeyValue>,
    done: bool,
}

const SCAN_PAGE: i64 = 512;

impl<'a> Scan<'a> {
    pub(crate) fn new(store: &'a PgStore, prefix: &[u8]) -> Scan<'a> {
        Scan {
            store,
            next: prefix.to_vec(),
            end: prefix_end(prefix),
            page: Vec::new().into_iter(),
            done: false,
        }
    }
}

impl Iterator for Scan<'_> {
    type Item = Result<crate::KeyValue, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(item) = self.page.next() {
            return Some(Ok(item));
        }
        if self.done {
            return None;
        }
        match self.store.range(&self.next, self.end.as_deref(), SCAN_PAGE) {
            Ok(rows) => {
                self.done = (rows.len() as i64) < SCAN_PAGE;
                if let Some((last, _)) = rows.last() {
                    // The next page starts just after the last key read.
                    self.next = last.clone();
                    self.next.push(0);
                }
                self.page = rows.into_iter();
                let item = self.page.next();
                if item.is_none() {
                    self.done = true;
                }
                item.map(Ok)
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{prefix_end, redact_url};

    #[test]
    fn prefix_ends_bound_every_key_under_the_prefix() {
        assert_eq!(prefix_end(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(prefix_end(&[1, 0xFF]), Some(vec![2]));
        assert_eq!(prefix_end(&[0xFF, 0xFF]), None);
        assert_eq!(prefix_end(b""), None);
    }

    #[test]
    fn urls_are_shown_without_their_password() {
        assert_eq!(
            redact_url("postgres://idflow:s3cret@db.example:5432/idflow"),
            "postgres://idflow@db.example:5432/idflow"
        );
        assert_eq!(
            redact_url("postgres://db.example/idflow"),
            "postgres://db.example/idflow"
        );
        assert!(!redact_url("postgresql://u:p%40ss@h/d").contains("p%40ss"));
        assert!(!redact_url("host=h password=secret").contains("secret"));
    }
}
