//! `idflow history ...`: instance histories in a data directory. `export` writes them in the
//! documented export format (`idflow_runtime::HistoryExport`): one `<instance>.json` per
//! instance, secrets already replaced by commitment markers, the definition's BPMN embedded, so
//! each file replays on its own with `idflow replay`.

use std::fs;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use idflow_activities::Catalogue;
use idflow_runtime::{HistoryExport, Runtime, RuntimeConfig};
use idflow_store::Store;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Export instance histories as JSON: one `<instance>.json` per instance into --out, or one
    /// history to stdout.
    Export(ExportArgs),
}

#[derive(clap::Args)]
pub struct ExportArgs {
    /// The data directory (as `idflow serve` uses it; the server must not be running on it).
    #[arg(long, env = "IDFLOW_DATA", default_value = "./idflow-data")]
    data: PathBuf,
    /// The PostgreSQL store, when the servers use one (`--store` of `idflow serve`).
    #[arg(long, env = "IDFLOW_STORE", value_parser = crate::store_arg::parse_store_url)]
    store: Option<String>,
    /// Only instances of this tenant.
    #[arg(long)]
    tenant: Option<String>,
    /// Only these instances (repeatable); default: every instance (of --tenant).
    #[arg(long = "instance", value_name = "ID")]
    instances: Vec<String>,
    /// Write `<instance>.json` files into this folder (created if needed). Without it exactly
    /// one history is written to stdout.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

pub fn main(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Export(args) => export(args),
    }
}

fn export(args: ExportArgs) -> anyhow::Result<ExitCode> {
    let store = match &args.store {
        Some(url) => Store::open_at(&idflow_store::StoreLocation::Postgres(url.clone()))
            .with_context(|| format!("opening {}", crate::store_arg::shown(url)))?,
        None => {
            let store_dir = idflow_server::store_dir(&args.data);
            if !store_dir.is_dir() {
                anyhow::bail!(
                    "{} is not an idflow data directory (it has no store/ folder)",
                    args.data.display()
                );
            }
            Store::open(&store_dir).with_context(|| {
                format!(
                    "opening the store in {} (is `idflow serve` running on it?)",
                    args.data.display()
                )
            })?
        }
    };
    // Nothing runs: the runtime only reads instances and their histories (no resume, so no
    // timer fires because of an export).
    let runtime = Runtime::new(store, Arc::new(Catalogue::new()), RuntimeConfig::default());
    let ids = if args.instances.is_empty() {
        runtime.instance_ids(args.tenant.as_deref())?
    } else {
        args.instances.clone()
    };
    if ids.is_empty() {
        anyhow::bail!(
            "no instances{} in {}",
            args.tenant
                .as_deref()
                .map(|t| format!(" of tenant '{t}'"))
                .unwrap_or_default(),
            args.data.display()
        );
    }
    let mut exports = Vec::with_capacity(ids.len());
    for id in &ids {
        let export = runtime
            .export_history(id)
            .with_context(|| format!("exporting the history of instance {id}"))?;
        if let Some(tenant) = &args.tenant {
            if export.tenant != *tenant {
                anyhow::bail!(
                    "instance {id} belongs to tenant '{}', not '{tenant}'",
                    export.tenant
                );
            }
        }
        exports.push(export);
    }
    match &args.out {
        Some(dir) => {
            fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            for export in &exports {
                let path = dir.join(format!("{}.json", export.instance));
                fs::write(&path, to_json(export)?)
                    .with_context(|| format!("writing {}", path.display()))?;
            }
            eprintln!("exported {} histories into {}", exports.len(), dir.display());
        }
        None => match exports.as_slice() {
            [only] => {
                let mut out = std::io::stdout().lock();
                out.write_all(to_json(only)?.as_bytes())
                    .context("writing to stdout")?;
            }
            several => anyhow::bail!(
                "{} histories match: give --out DIR (one <instance>.json each) or a single --instance",
                several.len()
            ),
        },
    }
    Ok(ExitCode::SUCCESS)
}

fn to_json(export: &HistoryExport) -> anyhow::Result<String> {
    let mut text = serde_json::to_string_pretty(export).context("encoding a history")?;
    text.push('\n');
    Ok(text)
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::process::ExitCode;
    use std::sync::Arc;

    use idflow_activities::{seed_demo, Catalogue, DemoOptions};
    use idflow_identity::Identity;
    use idflow_runtime::{Runtime, RuntimeConfig};
    use idflow_store::Store;

    use super::{export, ExportArgs};

    /// A data directory with the demo tenant and two finished instances (the demo user does not
    /// exist, so both flows end at once); their IDs.
    fn data_dir(dir: &Path) -> Vec<String> {
        let store = Store::open(&idflow_server::store_dir(dir)).expect("store");
        let identity = Identity::with_system_clock(store.clone());
        let runtime = Runtime::new(store, Arc::new(Catalogue::new()), RuntimeConfig::default());
        let seed = seed_demo(&runtime, &identity, "demo", &DemoOptions::default()).expect("demo");
        let mut ids = Vec::new();
        for token in seed.tokens.iter().filter(|t| {
            t.process_defn_name == "passcode-deregistration"
                || t.process_defn_name == "current-totp"
        }) {
            ids.push(runtime.start(&token.id).expect("starts").id);
        }
        ids
    }

    fn args(
        data: &Path,
        tenant: Option<&str>,
        instances: &[&str],
        out: Option<&Path>,
    ) -> ExportArgs {
        ExportArgs {
            data: data.to_path_buf(),
            store: None,
            tenant: tenant.map(String::from),
            instances: instances.iter().map(|s| s.to_string()).collect(),
            out: out.map(Path::to_path_buf),
        }
    }

    #[test]
    fn exports_one_self_contained_history_per_instance_that_replays() {
        let dir = tempfile::tempdir().expect("temp dir");
        let ids = data_dir(dir.path());
        let out = dir.path().join("exported");
        let code = export(args(dir.path(), Some("demo"), &[], Some(&out))).expect("exports");
        assert_eq!(code, ExitCode::SUCCESS);
        let report = idflow_replay::replay_dir(&out, &idflow_replay::Against::Recorded)
            .expect("the exports can be read");
        assert!(report.all_replayed(), "{report}");
        let mut exported: Vec<String> = report
            .reports
            .iter()
            .filter_map(|r| r.instance.clone())
            .collect();
        exported.sort();
        let mut want = ids.clone();
        want.sort();
        assert_eq!(exported, want);
        for id in &ids {
            let text = std::fs::read_to_string(out.join(format!("{id}.json"))).expect("file");
            let export = idflow_runtime::HistoryExport::from_json(text.as_bytes()).expect("reads");
            assert_eq!(export.tenant, "demo");
            assert!(export.definition.is_some(), "the definition is embedded");
        }
    }

    #[test]
    fn refuses_what_it_cannot_export_with_a_clear_message() {
        let dir = tempfile::tempdir().expect("temp dir");
        let ids = data_dir(dir.path());
        let empty = tempfile::tempdir().expect("temp dir");
        let first = ids.first().map(String::as_str).unwrap_or_default();
        let cases: Vec<(&str, ExportArgs, &str)> = vec![
            (
                "not a data directory",
                args(empty.path(), None, &[], None),
                "is not an idflow data directory",
            ),
            (
                "several to stdout",
                args(dir.path(), None, &[], None),
                "2 histories match",
            ),
            (
                "another tenant's instance",
                args(dir.path(), Some("acme"), &[first], None),
                "belongs to tenant 'demo', not 'acme'",
            ),
            (
                "an unknown instance",
                args(dir.path(), None, &["NOSUCHINSTANCE"], None),
                // The runtime's message shows the ID's log tag; the command names the ID it
                // was given.
                "exporting the history of instance NOSUCHINSTANCE: no process instance #",
            ),
            (
                "a tenant without instances",
                args(dir.path(), Some("acme"), &[], None),
                "no instances of tenant 'acme'",
            ),
        ];
        for (what, args, needle) in cases {
            let err = export(args)
                .err()
                .map(|e| format!("{e:#}"))
                .unwrap_or_else(|| panic!("{what}: exported"));
            assert!(err.contains(needle), "{what}: {err}");
        }
        // One instance to stdout is fine.
        assert_eq!(
            export(args(dir.path(), None, &[first], None)).expect("exports"),
            ExitCode::SUCCESS
        );
    }
}
