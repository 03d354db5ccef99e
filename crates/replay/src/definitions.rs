//! The definitions histories are replayed against: a folder of BPMN files indexed by process ID
//! and content hash, one given file, or the copy embedded in a history.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use idflow_defs::Definition;
use idflow_runtime::ExportedDefinition;
use sha2::{Digest, Sha256};

use crate::error::{Refusal, ReplayError};

/// A definition that loaded, and where it came from.
#[derive(Debug, Clone)]
pub struct SourcedDefinition {
    /// The file's path as given, or `<history>#definition` for an embedded copy.
    pub source: String,
    pub definition: Arc<Definition>,
}

/// The first error of a file that does not load, with the count of the others.
fn summary(loaded: idflow_defs::Loaded) -> Result<Definition, String> {
    loaded.into_result().map_err(|invalid| invalid.to_string())
}

/// Loads one definition file; a file that does not load is a [`ReplayError`] (the replay was
/// asked to use it and cannot).
pub fn load_file(path: &Path) -> Result<SourcedDefinition, ReplayError> {
    let definition = summary(idflow_defs::load_file(path)).map_err(|summary| {
        ReplayError::InvalidDefinition {
            path: path.to_path_buf(),
            summary,
        }
    })?;
    Ok(SourcedDefinition {
        source: path.display().to_string(),
        definition: Arc::new(definition),
    })
}

/// Every `*.bpmn` file under a folder (recursively), loaded once.
#[derive(Debug)]
pub struct DefinitionDir {
    dir: PathBuf,
    loaded: Vec<SourcedDefinition>,
    /// Files that do not load: their path and first error. They are only reported when a
    /// history needs a definition the folder does not otherwise have.
    broken: Vec<(String, String)>,
}

/// What a folder offers for one history.
pub enum DirMatch<'d> {
    /// A file with the recorded name and content hash: the recorded version itself.
    Recorded(&'d SourcedDefinition),
    /// The folder's only definition of that name, with other content: a changed definition.
    Changed(&'d SourcedDefinition),
}

impl DefinitionDir {
    pub fn load(dir: &Path) -> Result<DefinitionDir, ReplayError> {
        let mut loaded = Vec::new();
        let mut broken = Vec::new();
        for path in idflow_defs::find_definition_files(dir)? {
            let source = path.display().to_string();
            match summary(idflow_defs::load_file(&path)) {
                Ok(definition) => loaded.push(SourcedDefinition {
                    source,
                    definition: Arc::new(definition),
                }),
                Err(first_error) => broken.push((source, first_error)),
            }
        }
        Ok(DefinitionDir {
            dir: dir.to_path_buf(),
            loaded,
            broken,
        })
    }

    /// The definition to replay a history of `name` recorded with `content_hash` against.
    pub fn find(&self, name: &str, content_hash: &str) -> Result<DirMatch<'_>, Refusal> {
        let same_name: Vec<&SourcedDefinition> = self
            .loaded
            .iter()
            .filter(|d| d.definition.process_id == name)
            .collect();
        if let Some(exact) = same_name
            .iter()
            .find(|d| d.definition.content_hash == content_hash)
        {
            return Ok(DirMatch::Recorded(exact));
        }
        match same_name.as_slice() {
            [only] => Ok(DirMatch::Changed(only)),
            [] => {
                let mut message = format!(
                    "{} holds no definition with process ID '{name}'",
                    self.dir.display()
                );
                if !self.broken.is_empty() {
                    message.push_str(&format!(
                        "; {} file(s) there do not load: {}",
                        self.broken.len(),
                        self.broken
                            .iter()
                            .map(|(file, error)| format!("{file}: {error}"))
                            .collect::<Vec<_>>()
                            .join("; ")
                    ));
                }
                Err(Refusal::DefinitionNotFound(message))
            }
            several => Err(Refusal::DefinitionNotFound(format!(
                "{} files in {} define '{name}' and none has the recorded content hash {content_hash}: {}; pass the one to replay against with --definition",
                several.len(),
                self.dir.display(),
                several
                    .iter()
                    .map(|d| d.source.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }
}

/// Parses the definitions embedded in histories, once per content: a corpus of many histories
/// of one flow parses its BPMN once.
#[derive(Debug, Default)]
pub struct EmbeddedCache {
    by_hash: Mutex<HashMap<String, Arc<Definition>>>,
}

impl EmbeddedCache {
    /// The embedded definition of the history labelled `label`, checked against the content
    /// hash it claims.
    pub fn load(
        &self,
        label: &str,
        embedded: &ExportedDefinition,
    ) -> Result<SourcedDefinition, Refusal> {
        let source = format!("{label}#definition");
        let bytes = embedded.bytes().map_err(|reason| {
            Refusal::Inconsistent(format!("the embedded definition: {reason}"))
        })?;
        let hash = hex_sha256(&bytes);
        if hash != embedded.hash {
            return Err(Refusal::Inconsistent(format!(
                "the embedded definition's content hashes to {hash}, not to the recorded {}: it was edited",
                embedded.hash
            )));
        }
        let cached = self
            .by_hash
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&hash)
            .cloned();
        let definition = match cached {
            Some(definition) => definition,
            None => {
                let definition =
                    summary(idflow_defs::load(&source, &bytes)).map_err(|summary| {
                        Refusal::DefinitionInvalid {
                            source_label: source.clone(),
                            summary,
                        }
                    })?;
                let definition = Arc::new(definition);
                self.by_hash
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .insert(hash, Arc::clone(&definition));
                definition
            }
        };
        if definition.process_id != embedded.name {
            return Err(Refusal::Inconsistent(format!(
                "the embedded definition defines process '{}', not the recorded '{}'",
                definition.process_id, embedded.name
            )));
        }
        Ok(SourcedDefinition { source, definition })
    }
}

fn hex_sha256(bytes: &[u8]) -> String {
    data_encoding::HEXLOWER.encode(&Sha256::digest(bytes))
}
