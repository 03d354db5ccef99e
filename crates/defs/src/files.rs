//! Definition files on disk: loading one (read errors become diagnostics) and finding every
//! `*.bpmn` under a folder.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::diagnostic::{codes, Diagnostic, Severity};
use crate::loader::{load, Loaded};
use crate::xml::MAX_INPUT_BYTES;
use crate::DefsError;

/// Folders nested deeper than this are not searched (a guard against symlink loops).
const MAX_FOLDER_DEPTH: usize = 32;

/// Loads the definition file at `path`; the path as given is the diagnostics' source. A file
/// that cannot be read, or is too large, gives one error diagnostic.
pub fn load_file(path: &Path) -> Loaded {
    let source = path.display().to_string();
    match read_bounded(path) {
        Ok(bytes) => load(&source, &bytes),
        Err((code, message)) => Loaded {
            definition: None,
            diagnostics: vec![Diagnostic {
                severity: Severity::Error,
                code,
                message,
                source,
                line: 1,
                column: 1,
                element_id: None,
            }],
        },
    }
}

/// Reads at most one byte more than the loader accepts, so a huge file is refused without
/// reading it all.
fn read_bounded(path: &Path) -> Result<Vec<u8>, (&'static str, String)> {
    let read_error = |e: std::io::Error| (codes::READ_ERROR, format!("cannot read the file: {e}"));
    let file = fs::File::open(path).map_err(read_error)?;
    if file.metadata().map_err(read_error)?.is_dir() {
        return Err((
            codes::READ_ERROR,
            "is a folder, not a definition file".into(),
        ));
    }
    let limit = u64::try_from(MAX_INPUT_BYTES)
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    let mut bytes = Vec::new();
    file.take(limit)
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    if bytes.len() > MAX_INPUT_BYTES {
        return Err((
            codes::TOO_LARGE,
            format!("the file is larger than the {MAX_INPUT_BYTES} bytes a definition may have"),
        ));
    }
    Ok(bytes)
}

/// Every `*.bpmn` file (extension in any case) under `dir`, recursively, sorted. Hidden files
/// and folders (`.git`) are skipped.
pub fn find_definition_files(dir: &Path) -> Result<Vec<PathBuf>, DefsError> {
    let mut found = Vec::new();
    walk(dir, 0, &mut found)?;
    found.sort();
    Ok(found)
}

fn walk(dir: &Path, depth: usize, found: &mut Vec<PathBuf>) -> Result<(), DefsError> {
    let io = |e| DefsError::Io {
        path: dir.to_path_buf(),
        source: e,
    };
    if depth > MAX_FOLDER_DEPTH {
        return Ok(());
    }
    for entry in fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        // Follows symlinks; the depth bound stops loops.
        let metadata = fs::metadata(&path).map_err(|e| DefsError::Io {
            path: path.clone(),
            source: e,
        })?;
        if metadata.is_dir() {
            walk(&path, depth + 1, found)?;
        } else if path
            .extension()
            .is_some_and(|ext| ext.eq_ignore_ascii_case("bpmn"))
        {
            found.push(path);
        }
    }
    Ok(())
}
