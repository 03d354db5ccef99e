//! `idflow validate PATH... [--format text|json]`: loads definition files (folders are searched
//! recursively for `*.bpmn`), prints every diagnostic and a one-line summary.
//!
//! Exit codes: 0 when every file is valid (warnings allowed), 1 when any file has an error (an
//! unreadable path or a folder without definitions counts as one), 2 for usage errors (clap).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use idflow_defs::{codes, load_file, Diagnostic, Loaded, Severity};
use idflow_server::{FileReportBody, ValidationReport};

#[derive(clap::Args)]
pub struct Args {
    /// Definition files, or folders searched recursively for *.bpmn files.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// How to print the diagnostics: one per line, or one JSON document for tools.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// The outcome for one path: a definition file, or a folder that could not be searched (no
/// definition, one diagnostic).
struct Checked {
    path: String,
    loaded: Loaded,
}

/// Every path's outcome, and the report the JSON format prints (the validation route's answer:
/// one type for both, so they cannot drift apart).
struct Report {
    checked: Vec<Checked>,
    json: ValidationReport,
}

pub fn main(args: Args) -> anyhow::Result<ExitCode> {
    let report = validate(&args.paths);
    match args.format {
        Format::Text => print!("{}", render_text(&report)),
        Format::Json => println!("{}", serde_json::to_string_pretty(&report.json)?),
    }
    Ok(if report.json.summary.invalid == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn validate(paths: &[PathBuf]) -> Report {
    let mut files = Vec::new();
    let mut seen = HashSet::new();
    for path in paths {
        if path.is_dir() {
            match idflow_defs::find_definition_files(path) {
                Ok(found) if found.is_empty() => files.push(path_problem(
                    path,
                    codes::NO_DEFINITIONS,
                    "the folder holds no *.bpmn file".into(),
                )),
                Ok(found) => {
                    for file in found {
                        if seen.insert(file.clone()) {
                            files.push(file_report(&file, load_file(&file)));
                        }
                    }
                }
                Err(e) => files.push(path_problem(path, codes::READ_ERROR, e.to_string())),
            }
        } else if seen.insert(path.clone()) {
            // load_file turns a missing or unreadable file into a READ_ERROR diagnostic.
            files.push(file_report(path, load_file(path)));
        }
    }
    let json = ValidationReport::new(
        files
            .iter()
            .map(|c| FileReportBody::new(c.path.clone(), &c.loaded))
            .collect(),
    );
    Report {
        checked: files,
        json,
    }
}

fn file_report(path: &Path, loaded: Loaded) -> Checked {
    Checked {
        path: path.display().to_string(),
        loaded,
    }
}

fn path_problem(path: &Path, code: &'static str, message: String) -> Checked {
    file_report(
        path,
        Loaded {
            definition: None,
            diagnostics: vec![Diagnostic {
                severity: Severity::Error,
                code,
                message,
                source: path.display().to_string(),
                line: 1,
                column: 1,
                element_id: None,
            }],
        },
    )
}

fn render_text(report: &Report) -> String {
    let mut out = String::new();
    for file in &report.checked {
        out.push_str(&idflow_defs::render_text(&file.loaded.diagnostics));
    }
    let s = &report.json.summary;
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    out.push_str(&format!(
        "{} checked: {} valid, {} invalid ({}, {})\n",
        plural(s.files, "file"),
        s.valid,
        s.invalid,
        plural(s.errors, "error"),
        plural(s.warnings, "warning"),
    ));
    out
}
