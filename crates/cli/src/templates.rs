//! `idflow templates [--out FILE]`: writes the Camunda Modeler element templates of every
//! activity (generated from the catalogue, see `idflow_defs::templates`) as one JSON array.
//!
//! Put the file in Camunda Modeler's `resources/element-templates` folder; the loader accepts
//! what the templates write as it accepts `<idflow:activity>`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

#[derive(clap::Args)]
pub struct Args {
    /// Where to write the templates (default: standard output).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

pub fn main(args: Args) -> anyhow::Result<ExitCode> {
    let mut json = serde_json::to_string_pretty(&idflow_defs::templates::element_templates())?;
    json.push('\n');
    match &args.out {
        Some(path) => std::fs::write(path, json)
            .with_context(|| format!("writing the element templates to {}", path.display()))?,
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(json.as_bytes())?;
            out.flush()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
