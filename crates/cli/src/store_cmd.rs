//! `idflow store copy` and `idflow store migrate`: moving a deployment from the embedded store to
//! PostgreSQL, and bringing a PostgreSQL schema up to this build's version.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use idflow_server::key_file::{self, KeyHome};
use idflow_store::{Store, StoreError, StoreLocation};

#[derive(clap::Subcommand)]
pub enum Command {
    /// Copy a whole deployment (tenants, identity stores, definitions, forms, tokens, instances,
    /// history, timers and the keys) from a data directory into an empty PostgreSQL database, and
    /// check the copy. The server must not be running on the data directory.
    Copy(CopyArgs),
    /// Create or migrate the PostgreSQL schema to this build's version (`idflow serve --store`
    /// does the same at start).
    Migrate(MigrateArgs),
}

#[derive(clap::Args)]
pub struct CopyArgs {
    /// The data directory to copy from.
    #[arg(long, value_name = "DIR")]
    from: PathBuf,
    /// The PostgreSQL database to copy into; it must hold no idflow data yet.
    #[arg(long, value_name = "URL", value_parser = crate::store_arg::parse_store_url)]
    to: String,
}

#[derive(clap::Args)]
pub struct MigrateArgs {
    /// The PostgreSQL database.
    #[arg(long, env = "IDFLOW_STORE", value_parser = crate::store_arg::parse_store_url)]
    store: String,
}

pub fn main(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Copy(args) => copy(args),
        Command::Migrate(args) => {
            let store = Store::open_at(&StoreLocation::Postgres(args.store.clone()))
                .with_context(|| format!("opening {}", crate::store_arg::shown(&args.store)))?;
            println!(
                "{}: schema at version {}",
                crate::store_arg::shown(&args.store),
                store.schema_version()?.unwrap_or(0)
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Pairs written per transaction.
const BATCH: usize = 1000;

fn copy(args: CopyArgs) -> anyhow::Result<ExitCode> {
    let shown = crate::store_arg::shown(&args.to);
    let store_dir = idflow_server::store_dir(&args.from);
    if !store_dir.is_dir() {
        bail!(
            "{} is not an idflow data directory (it has no store/ folder)",
            args.from.display()
        );
    }
    let from = Store::open(&store_dir).with_context(|| {
        format!(
            "opening the store in {} (is `idflow serve` running on it?)",
            args.from.display()
        )
    })?;
    let to = Store::open_at(&StoreLocation::Postgres(args.to.clone()))
        .with_context(|| format!("opening {shown}"))?;
    if to.scan_prefix(b"").next().is_some() {
        bail!("{shown} already holds idflow data: copy into an empty database");
    }
    let mut batch = Vec::with_capacity(BATCH);
    let (mut pairs, mut bytes) = (0usize, 0usize);
    for pair in from.scan_prefix(b"") {
        let (k, v) = pair?;
        pairs += 1;
        bytes += k.len() + v.len();
        batch.push((k, v));
        if batch.len() == BATCH {
            write(&to, &batch)?;
            batch.clear();
        }
    }
    write(&to, &batch)?;
    // The keys: without them the copy's tokens and markers would not be the original's.
    let signing = key_file::copy_key(
        KeyHome::Dir(&args.from),
        KeyHome::Store(&to),
        idflow_server::auth::SIGNING_KEY_FILE,
    )?;
    let marker = key_file::copy_key(
        KeyHome::Dir(&args.from),
        KeyHome::Store(&to),
        key_file::MARKER_KEY_FILE,
    )?;
    // Check: every pair of the source, in order, and nothing else (the keys aside).
    let mut checked = 0usize;
    let mut copied = to.scan_prefix(b"").filter(
        |r| !matches!(r, Ok((k, _)) if k.starts_with(&idflow_store::prefix(&["secret-key"]))),
    );
    for pair in from.scan_prefix(b"") {
        let original = pair?;
        match copied.next() {
            Some(Ok(copy)) if copy == original => checked += 1,
            Some(Ok((k, _))) => bail!(
                "the copy differs from the source at {}: run the copy again into an empty database",
                idflow_store::render_key(&k)
            ),
            Some(Err(e)) => return Err(e.into()),
            None => bail!("the copy is missing records after {checked}"),
        }
    }
    if copied.next().is_some() {
        bail!("the copy holds more records than the source");
    }
    println!(
        "copied {pairs} records ({bytes} bytes) and {} keys from {} to {shown}; checked: identical",
        usize::from(signing) + usize::from(marker),
        args.from.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn write(to: &Store, batch: &[(Vec<u8>, Vec<u8>)]) -> Result<(), StoreError> {
    if batch.is_empty() {
        return Ok(());
    }
    to.commit(|tx| {
        for (k, v) in batch {
            tx.insert(k, v.clone())?;
        }
        Ok(())
    })
}
