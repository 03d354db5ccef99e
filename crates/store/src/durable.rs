//! Power-loss durability and privacy of the store's files: what sled's own flush does not do.
//!
//! sled 0.34 writes its log with `sync_file_range` on Linux, which neither writes the file's
//! metadata nor flushes the device's write cache, and it never syncs the blob files it writes
//! for large nodes or the directory entries of new files. A commit acknowledged after sled's
//! flush alone can vanish when the power goes. [`Files::sync`] runs after every flush: it makes
//! each file that appeared since the last sync private (0600) and syncs it, syncs the directories
//! whose entries changed, then `fdatasync`s the log file. One call covers every transaction sled
//! flushed before it, so the runtime's group commit pays it once per batch.

use std::collections::HashSet;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use crate::StoreError;

/// How far a flushed commit survives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// Survives power loss: after sled's flush the files are synced to the device.
    #[default]
    PowerLoss,
    /// Survives a crash of the process only (sled's own flush): kept to measure what the sync
    /// costs (`idflow bench store`), never the default.
    ProcessCrash,
}

/// The store's files, as the sync after a flush sees them.
pub(crate) struct Files {
    durability: Durability,
    dir: PathBuf,
    /// sled's log: the file every transaction is appended to.
    log: File,
    /// Files already made private and synced; a new one (a blob, a snapshot) is synced once.
    known: Mutex<HashSet<PathBuf>>,
    syncs: AtomicU64,
}

impl Files {
    /// Takes stock of a freshly opened store in `dir`: makes every file private and syncs it
    /// and the directories once, so what an earlier run left is durable too.
    pub(crate) fn open(dir: &Path, durability: Durability) -> Result<Files, StoreError> {
        let log_path = dir.join("db");
        let log = File::open(&log_path).map_err(|e| io_at(&log_path, e))?;
        let files = Files {
            durability,
            dir: dir.to_path_buf(),
            log,
            known: Mutex::new(HashSet::new()),
            syncs: AtomicU64::new(0),
        };
        files.take_stock(true)?;
        Ok(files)
    }

    pub(crate) fn syncs(&self) -> u64 {
        self.syncs.load(Ordering::Acquire)
    }

    /// Syncs what sled's flush left in the page cache (see the module's comment).
    pub(crate) fn sync(&self) -> Result<(), StoreError> {
        if self.durability == Durability::ProcessCrash {
            return Ok(());
        }
        self.take_stock(false)?;
        self.log
            .sync_data()
            .map_err(|e| io_at(&self.dir.join("db"), e))?;
        self.syncs.fetch_add(1, Ordering::AcqRel);
        Ok(())
    }

    /// Makes private and syncs every file not seen before, then syncs each directory that
    /// gained one (or every directory, when `all`).
    fn take_stock(&self, all: bool) -> Result<(), StoreError> {
        let mut known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        for dir in [self.dir.clone(), self.dir.join("blobs")] {
            let mut changed = all;
            let entries = match std::fs::read_dir(&dir) {
                Ok(entries) => entries,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(io_at(&dir, e)),
            };
            if all {
                // sled creates its blob directory with the process's umask.
                make_dir_private(&dir).map_err(|e| io_at(&dir, e))?;
            }
            for entry in entries {
                let entry = entry.map_err(|e| io_at(&dir, e))?;
                let path = entry.path();
                let is_file = entry.file_type().map(|t| t.is_file()).unwrap_or(false);
                if !is_file || known.contains(&path) {
                    continue;
                }
                match make_private_and_sync(&path) {
                    Ok(()) => {}
                    // sled removed it (a collected blob) between the listing and the sync.
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(io_at(&path, e)),
                }
                known.insert(path);
                changed = true;
            }
            if changed {
                sync_dir(&dir).map_err(|e| io_at(&dir, e))?;
            }
        }
        // Forget files sled has removed, so the set does not grow without bound.
        if known.len() > 1024 {
            known.retain(|p| p.exists());
        }
        Ok(())
    }
}

fn make_private_and_sync(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    File::open(path)?.sync_all()
}

fn make_dir_private(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

fn io_at(path: &Path, e: std::io::Error) -> StoreError {
    StoreError::Io(format!("{}: {e}", path.display()))
}

/// Creates `dir` (and its parents) when missing, private to this user (0700), and refuses a
/// directory that others may write (they could replace what it holds). An existing directory
/// that others may only read is made private.
pub fn ensure_private_dir(dir: &Path) -> Result<(), StoreError> {
    let unsafe_dir = |reason: String| StoreError::Unsafe {
        path: dir.display().to_string(),
        reason,
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
        if !dir.exists() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|e| io_at(dir, e))?;
        }
        let meta = std::fs::metadata(dir).map_err(|e| io_at(dir, e))?;
        if !meta.is_dir() {
            return Err(unsafe_dir("it is not a directory".into()));
        }
        let mode = meta.mode() & 0o777;
        if mode & 0o022 != 0 {
            return Err(unsafe_dir(format!(
                "its mode is {mode:03o}: other users may write to it; make it private with `chmod 700 {}`",
                dir.display()
            )));
        }
        if mode & 0o077 != 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
                .map_err(|e| io_at(dir, e))?;
        }
    }
    #[cfg(not(unix))]
    {
        std::fs::create_dir_all(dir).map_err(|e| io_at(dir, e))?;
        let _ = unsafe_dir;
    }
    Ok(())
}
