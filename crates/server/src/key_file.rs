//! The secret keys: the JWT signing key (`signing.key`) and the marker key (`marker.key`) that
//! history's commitment markers are keyed with. Each is 32 random bytes, created once, read at
//! every start; nothing exports or prints them. With the embedded store they are files of the
//! data directory (mode 0600); with a shared PostgreSQL store they live in the store, so every
//! node signs and checks tokens, and keys markers, alike ([`KeyHome`]).

use std::io::Write;
use std::path::{Path, PathBuf};

use rand::RngCore;

use crate::error::ServerError;

/// Length of every key file, in bytes.
pub const KEY_BYTES: usize = 32;

/// The marker key's file name inside the data directory.
pub const MARKER_KEY_FILE: &str = "marker.key";

/// Where the marker key of `data_dir` lives.
pub fn marker_key_path(data_dir: &Path) -> PathBuf {
    data_dir.join(MARKER_KEY_FILE)
}

/// Where the keys are kept.
#[derive(Clone, Copy)]
pub enum KeyHome<'a> {
    /// Files of the data directory (the embedded store's deployments).
    Dir(&'a Path),
    /// The shared store itself (several nodes on one PostgreSQL database).
    Store(&'a idflow_store::Store),
}

/// Reads the marker key, creating it when the deployment is new (or older than marker keys: its
/// markers made so far are unkeyed, and stay as they are).
pub fn load_or_create_marker_key(
    home: KeyHome<'_>,
) -> Result<idflow_engine::redact::MarkerKey, ServerError> {
    let (bytes, _) = load_or_create_in(home, MARKER_KEY_FILE, "marker key")?;
    Ok(idflow_engine::redact::MarkerKey::from_bytes(bytes))
}

/// Copies the key `file_name` from one home to another (moving a deployment to PostgreSQL);
/// returns whether the source had it. A key already at the destination is an error: the
/// destination would sign or key markers differently.
pub fn copy_key(from: KeyHome<'_>, to: KeyHome<'_>, file_name: &str) -> Result<bool, ServerError> {
    let what = "key";
    let bytes = match from {
        KeyHome::Dir(dir) => match read_key_file(&dir.join(file_name), what)? {
            Some(bytes) => bytes,
            None => return Ok(false),
        },
        KeyHome::Store(store) => {
            match store.get(&idflow_store::key(&["secret-key", file_name]))? {
                Some(bytes) => bytes
                    .as_slice()
                    .try_into()
                    .map_err(|_| ServerError::KeyFile {
                        what,
                        path: format!("{} (secret-key/{file_name})", store.describe()),
                        reason: format!("it holds {} bytes, expected {KEY_BYTES}", bytes.len()),
                    })?,
                None => return Ok(false),
            }
        }
    };
    let KeyHome::Store(store) = to else {
        return Err(ServerError::KeyFile {
            what,
            path: file_name.to_string(),
            reason: "keys are copied into a store only".into(),
        });
    };
    let key = idflow_store::key(&["secret-key", file_name]);
    store.commit(|tx| -> Result<(), ServerError> {
        if tx.get(&key)?.is_some() {
            return Err(ServerError::KeyFile {
                what,
                path: format!("{} (secret-key/{file_name})", store.describe()),
                reason: "the destination has a key of its own already".into(),
            });
        }
        tx.insert(&key, bytes.to_vec())?;
        Ok(())
    })?;
    Ok(true)
}

/// [`load_or_create`] in the data directory, or the same in the shared store (under
/// `secret-key/{file_name}`): the first node to start creates the key in one transaction, and
/// every node that starts at the same time reads that one.
pub(crate) fn load_or_create_in(
    home: KeyHome<'_>,
    file_name: &str,
    what: &'static str,
) -> Result<([u8; KEY_BYTES], bool), ServerError> {
    let store = match home {
        KeyHome::Dir(dir) => return load_or_create(dir, file_name, what),
        KeyHome::Store(store) => store,
    };
    let key = idflow_store::key(&["secret-key", file_name]);
    // Drawn before the transaction, which may run more than once.
    let mut fresh = [0u8; KEY_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut fresh);
    let (bytes, created) = store.commit(|tx| -> Result<_, ServerError> {
        match tx.get(&key)? {
            Some(existing) => Ok((existing, false)),
            None => {
                tx.insert(&key, fresh.to_vec())?;
                Ok((fresh.to_vec(), true))
            }
        }
    })?;
    let array: [u8; KEY_BYTES] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| ServerError::KeyFile {
            what,
            path: format!("{} (secret-key/{file_name})", store.describe()),
            reason: format!(
                "it holds {} bytes, expected exactly {KEY_BYTES}",
                bytes.len()
            ),
        })?;
    Ok((array, created))
}

/// Reads `data_dir/file_name` (a key: `what`, for messages), creating it (32 random bytes, mode
/// 0600) when it does not exist yet. Returns the bytes and whether the file was created now. Two
/// processes racing here end up with the same key: the file appears atomically (hard link of a
/// complete temporary file), and the loser reads the winner's.
pub(crate) fn load_or_create(
    data_dir: &Path,
    file_name: &str,
    what: &'static str,
) -> Result<([u8; KEY_BYTES], bool), ServerError> {
    let path = data_dir.join(file_name);
    match read_key_file(&path, what)? {
        Some(key) => Ok((key, false)),
        None => {
            idflow_store::ensure_private_dir(data_dir)?;
            let created = create_key_file(data_dir, file_name, &path, what)?;
            let key = read_key_file(&path, what)?.ok_or_else(|| ServerError::KeyFile {
                what,
                path: path.display().to_string(),
                reason: "the key file vanished right after it was created".into(),
            })?;
            Ok((key, created))
        }
    }
}

fn read_key_file(path: &Path, what: &'static str) -> Result<Option<[u8; KEY_BYTES]>, ServerError> {
    let fail = |reason: String| ServerError::KeyFile {
        what,
        path: path.display().to_string(),
        reason,
    };
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(fail(format!("cannot read it: {e}"))),
    };
    let array: [u8; KEY_BYTES] = bytes.as_slice().try_into().map_err(|_| {
        fail(format!(
            "it holds {} bytes, expected exactly {KEY_BYTES}",
            bytes.len()
        ))
    })?;
    warn_if_readable_by_others(path, what);
    Ok(Some(array))
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path, what: &'static str) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path) {
        let mode = meta.permissions().mode();
        if mode & 0o077 != 0 {
            tracing::warn!(
                path = %path.display(),
                mode = format!("{:o}", mode & 0o777),
                "the {what} is readable by other users; chmod 600 it"
            );
        }
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_path: &Path, _what: &'static str) {}

/// Writes a new key next to `path` and links it into place. Returns false when another process
/// created the key first.
fn create_key_file(
    data_dir: &Path,
    file_name: &str,
    path: &Path,
    what: &'static str,
) -> Result<bool, ServerError> {
    let fail = |reason: String| ServerError::KeyFile {
        what,
        path: path.display().to_string(),
        reason,
    };
    let mut bytes = [0u8; KEY_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let mut suffix = [0u8; 8];
    rand::rngs::OsRng.fill_bytes(&mut suffix);
    let tmp = data_dir.join(format!(
        ".{file_name}.{:016x}.tmp",
        u64::from_le_bytes(suffix)
    ));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let write = || -> std::io::Result<()> {
        let mut file = options.open(&tmp)?;
        file.write_all(&bytes)?;
        file.sync_all()
    };
    if let Err(e) = write() {
        let _ = std::fs::remove_file(&tmp);
        return Err(fail(format!("cannot write a new key: {e}")));
    }
    let linked = std::fs::hard_link(&tmp, path);
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => {
            // Make the new directory entry durable too.
            if let Ok(dir) = std::fs::File::open(data_dir) {
                let _ = dir.sync_all();
            }
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(fail(format!("cannot put the new key in place: {e}"))),
    }
}
