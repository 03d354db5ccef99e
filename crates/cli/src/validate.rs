//! `idflow validate PATH... [--format text|json]`: loads definition files (folders are searched
//! recursively for `*.bpmn`), prints every diagnostic and a one-line summary.
//!
//! Exit codes: 0 when every file is valid (warnings allowed), 1 when any file has an error (an
//! unreadable path or a folder without definitions counts as one), 2 for usage errors (clap).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use idflow_defs::{codes, load_file, Diagnostic, Loaded, Severity};
use serde::Serialize;

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

/// The outcome for one path: a definition file, or a folder that could not be searched.
#[derive(Serialize)]
struct FileReport {
    path: String,
    valid: bool,
    /// The process id (the definition's name) when the file loaded.
    #[serde(skip_serializing_if = "Option::is_none")]
    process_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_hash: Option<String>,
    diagnostics: Vec<Diagnostic>,
}

#[derive(Serialize, Default)]
struct Summary {
    files: usize,
    valid: usize,
    invalid: usize,
    errors: usize,
    warnings: usize,
}

#[derive(Serialize)]
struct Report {
    files: Vec<FileReport>,
    summary: Summary,
}

pub fn main(args: Args) -> anyhow::Result<ExitCode> {
    let report = validate(&args.paths);
    match args.format {
        Format::Text => print!("{}", render_text(&report)),
        Format::Json => println!("{}", serde_json::to_string_pretty(&report)?),
    }
    Ok(if report.summary.invalid == 0 {
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
    let mut summary = Summary {
        files: files.len(),
        ..Summary::default()
    };
    for file in &files {
        if file.valid {
            summary.valid += 1;
        } else {
            summary.invalid += 1;
        }
        for d in &file.diagnostics {
            match d.severity {
                Severity::Error => summary.errors += 1,
                Severity::Warning => summary.warnings += 1,
            }
        }
    }
    Report { files, summary }
}

fn file_report(path: &Path, loaded: Loaded) -> FileReport {
    FileReport {
        path: path.display().to_string(),
        valid: loaded.definition.is_some(),
        process_id: loaded.definition.as_ref().map(|d| d.process_id.clone()),
        content_hash: loaded.definition.as_ref().map(|d| d.content_hash.clone()),
        diagnostics: loaded.diagnostics,
    }
}

fn path_problem(path: &Path, code: &'static str, message: String) -> FileReport {
    FileReport {
        path: path.display().to_string(),
        valid: false,
        process_id: None,
        content_hash: None,
        diagnostics: vec![Diagnostic {
            severity: Severity::Error,
            code,
            message,
            source: path.display().to_string(),
            line: 1,
            column: 1,
            element_id: None,
        }],
    }
}

fn render_text(report: &Report) -> String {
    let mut out = String::new();
    for file in &report.files {
        out.push_str(&idflow_defs::render_text(&file.diagnostics));
    }
    let s = &report.summary;
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
