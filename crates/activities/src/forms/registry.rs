//! Deployed custom forms: versioned by name per tenant in the store, as their own record types.
//!
//! Deploying a form gives it the next version of its name (1, 2, ...), unless a version with the
//! identical canonical content exists: that version is answered again and nothing is written.
//!
//! Keys: `custom-form/{tenant}/{name}/{version:010}` holds a [`FormRecord`],
//! `custom-form-hash/{tenant}/{name}/{sha256}` a [`FormHashRecord`] (the version with that
//! content), `custom-form-seq/{tenant}/{name}` the last version handed out (a counter).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use idflow_store::{key, prefix, Record, Store, StoreError, Tx};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{FormDefinition, FormInvalid};
use crate::error::FormError;

const FORM: &str = "custom-form";
const FORM_HASH: &str = "custom-form-hash";
const FORM_SEQ: &str = "custom-form-seq";

/// A deployed form version as stored.
#[derive(Serialize, Deserialize)]
struct FormRecord {
    name: String,
    version: u32,
    content_hash: String,
    /// The canonical JSON of the definition ([`FormDefinition::to_json`]).
    definition: Value,
}

impl Record for FormRecord {
    const KIND: &'static str = "custom-form";
    const VERSION: u8 = 1;
}

/// The version that holds a given content hash.
#[derive(Serialize, Deserialize)]
struct FormHashRecord {
    version: u32,
}

impl Record for FormHashRecord {
    const KIND: &'static str = "custom-form-hash";
    const VERSION: u8 = 1;
}

/// The answer to a deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeployedForm {
    pub name: String,
    pub version: u32,
    pub content_hash: String,
    /// False when identical content was already deployed under this version.
    pub created: bool,
}

/// One deployed version, as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormSummary {
    pub name: String,
    pub version: u32,
    pub content_hash: String,
}

fn version_segment(version: u32) -> String {
    format!("{version:010}")
}

fn form_key(tenant: &str, name: &str, version: u32) -> Vec<u8> {
    key(&[FORM, tenant, name, &version_segment(version)])
}

/// Deploys a checked definition inside the caller's transaction.
pub fn deploy_in(
    tx: &Tx<'_>,
    tenant: &str,
    definition: &FormDefinition,
) -> Result<DeployedForm, StoreError> {
    let content_hash = definition.content_hash();
    let hash_key = key(&[FORM_HASH, tenant, &definition.name, &content_hash]);
    if let Some(existing) = tx.get_record::<FormHashRecord>(&hash_key)? {
        return Ok(DeployedForm {
            name: definition.name.clone(),
            version: existing.version,
            content_hash,
            created: false,
        });
    }
    let next = tx.increment(&key(&[FORM_SEQ, tenant, &definition.name]), 1)?;
    let version = u32::try_from(next).map_err(|_| StoreError::Corrupt {
        key: idflow_store::render_key(&key(&[FORM_SEQ, tenant, &definition.name])),
        reason: format!("form version counter {next} is out of range"),
    })?;
    tx.put_record(
        &form_key(tenant, &definition.name, version),
        &FormRecord {
            name: definition.name.clone(),
            version,
            content_hash: content_hash.clone(),
            definition: definition.to_json(),
        },
    )?;
    tx.put_record(&hash_key, &FormHashRecord { version })?;
    Ok(DeployedForm {
        name: definition.name.clone(),
        version,
        content_hash,
        created: true,
    })
}

/// The form `name` at `version`, inside the caller's transaction.
pub fn load_in(
    tx: &Tx<'_>,
    tenant: &str,
    name: &str,
    version: u32,
) -> Result<Option<FormDefinition>, StoreError> {
    let k = form_key(tenant, name, version);
    match tx.get_record::<FormRecord>(&k)? {
        Some(record) => decode(&k, record).map(Some),
        None => Ok(None),
    }
}

/// Forms compiled from stored bytes, by those exact bytes (their store key and their value):
/// a form version never changes, so rendering a step compiles its form's templates once, not on
/// every request. Keyed by content, it cannot serve another store's form of the same name.
type Compiled = HashMap<Vec<u8>, (Vec<u8>, Arc<FormDefinition>)>;

/// How many compiled forms are kept; beyond it the cache starts again (forms are few).
const MAX_COMPILED: usize = 256;

fn compiled() -> &'static Mutex<Compiled> {
    static COMPILED: OnceLock<Mutex<Compiled>> = OnceLock::new();
    COMPILED.get_or_init(|| Mutex::new(HashMap::new()))
}

/// [`load_in`], compiled once per stored form version (see [`Compiled`]).
pub fn load_compiled_in(
    tx: &Tx<'_>,
    tenant: &str,
    name: &str,
    version: u32,
) -> Result<Option<Arc<FormDefinition>>, StoreError> {
    let k = form_key(tenant, name, version);
    let Some(bytes) = tx.get(&k)? else {
        return Ok(None);
    };
    {
        let cache = compiled().lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((stored, definition)) = cache.get(&k) {
            if *stored == bytes {
                return Ok(Some(Arc::clone(definition)));
            }
        }
    }
    let record = idflow_store::decode_record::<FormRecord>(&k, &bytes)?;
    let definition = Arc::new(decode(&k, record)?);
    let mut cache = compiled().lock().unwrap_or_else(PoisonError::into_inner);
    if cache.len() >= MAX_COMPILED {
        cache.clear();
    }
    cache.insert(k, (bytes, Arc::clone(&definition)));
    Ok(Some(definition))
}

/// The latest version of form `name`, inside the caller's transaction.
pub fn latest_version_in(tx: &Tx<'_>, tenant: &str, name: &str) -> Result<Option<u32>, StoreError> {
    let seq_key = key(&[FORM_SEQ, tenant, name]);
    match tx.get(&seq_key)? {
        None => Ok(None),
        Some(bytes) => {
            let raw: [u8; 8] = bytes
                .as_slice()
                .try_into()
                .map_err(|_| StoreError::Corrupt {
                    key: idflow_store::render_key(&seq_key),
                    reason: format!("form version counter has {} bytes, expected 8", bytes.len()),
                })?;
            Ok(u32::try_from(u64::from_be_bytes(raw)).ok())
        }
    }
}

fn decode(k: &[u8], record: FormRecord) -> Result<FormDefinition, StoreError> {
    FormDefinition::from_json(&record.definition).map_err(|e| StoreError::Corrupt {
        key: idflow_store::render_key(k),
        reason: format!("stored form no longer validates: {e}"),
    })
}

/// The forms shipped beside the definitions (`definitions/forms/` of the source tree; the same
/// files are embedded as [`crate::shipped::FORMS`]).
pub fn shipped_forms_dir() -> PathBuf {
    crate::shipped::definitions_dir().join("forms")
}

/// Deploying, reading and listing a tenant's custom forms.
#[derive(Clone)]
pub struct Forms {
    store: Store,
}

impl Forms {
    pub fn new(store: Store) -> Forms {
        Forms { store }
    }

    /// Parses, checks and deploys a form definition (JSON bytes), durably.
    pub fn deploy(&self, tenant: &str, source: &[u8]) -> Result<DeployedForm, FormError> {
        let definition = FormDefinition::parse(source)?;
        Ok(self.deploy_definition(tenant, &definition)?)
    }

    /// Deploys an already checked definition, durably.
    pub fn deploy_definition(
        &self,
        tenant: &str,
        definition: &FormDefinition,
    ) -> Result<DeployedForm, StoreError> {
        self.store.commit(|tx| deploy_in(tx, tenant, definition))
    }

    /// Deploys every `*.json` file of `dir` (in file-name order) for `tenant`. Every file is
    /// checked before anything is deployed: one invalid file deploys none.
    pub fn deploy_dir(&self, tenant: &str, dir: &Path) -> Result<Vec<DeployedForm>, FormError> {
        let io = |path: &Path, e: std::io::Error| FormError::Io {
            path: path.display().to_string(),
            reason: e.to_string(),
        };
        let mut files = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(|e| io(dir, e))? {
            let path = entry.map_err(|e| io(dir, e))?.path();
            if path.extension().is_some_and(|x| x == "json") && path.is_file() {
                files.push(path);
            }
        }
        files.sort();
        let mut definitions = Vec::with_capacity(files.len());
        for path in &files {
            let bytes = std::fs::read(path).map_err(|e| io(path, e))?;
            let definition = FormDefinition::parse(&bytes).map_err(|e| FormError::InvalidFile {
                path: path.display().to_string(),
                source: e,
            })?;
            definitions.push(definition);
        }
        let deployed = self.store.commit(|tx| {
            definitions
                .iter()
                .map(|d| deploy_in(tx, tenant, d))
                .collect::<Result<Vec<_>, StoreError>>()
        })?;
        Ok(deployed)
    }

    /// The form `name` at `version` (the latest when `None`), with its version.
    pub fn get(
        &self,
        tenant: &str,
        name: &str,
        version: Option<u32>,
    ) -> Result<Option<(u32, FormDefinition)>, StoreError> {
        self.store.transact(|tx| {
            let version = match version {
                Some(v) => v,
                None => match latest_version_in(tx, tenant, name)? {
                    Some(v) => v,
                    None => return Ok(None),
                },
            };
            Ok(load_in(tx, tenant, name, version)?.map(|d| (version, d)))
        })
    }

    /// Every deployed version of every form of `tenant`, by name then version.
    pub fn list(&self, tenant: &str) -> Result<Vec<FormSummary>, StoreError> {
        self.store
            .scan_records::<FormRecord>(&prefix(&[FORM, tenant]))
            .map(|r| {
                r.map(|(_, rec)| FormSummary {
                    name: rec.name,
                    version: rec.version,
                    content_hash: rec.content_hash,
                })
            })
            .collect()
    }
}

impl From<FormInvalid> for FormError {
    fn from(e: FormInvalid) -> Self {
        FormError::Invalid(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn form(label: &str) -> Vec<u8> {
        json!({
            "name": "welcome",
            "title": {"text": "Welcome"},
            "components": [{"type": "submit", "elementId": "ok", "uiLabel": label}]
        })
        .to_string()
        .into_bytes()
    }

    #[test]
    fn versions_by_name_per_tenant_and_identical_content_keeps_its_version() {
        let store = Store::temporary().expect("store");
        let forms = Forms::new(store);
        let steps = [
            ("t1", form("OK"), 1, true),
            ("t1", form("OK"), 1, false),
            ("t1", form("Continue"), 2, true),
            ("t1", form("OK"), 1, false),
            ("t2", form("Continue"), 1, true),
        ];
        for (tenant, bytes, version, created) in steps {
            let deployed = forms.deploy(tenant, &bytes).expect("deploys");
            assert_eq!((deployed.version, deployed.created), (version, created));
        }
        let latest = forms.get("t1", "welcome", None).expect("reads");
        assert_eq!(latest.as_ref().map(|(v, _)| *v), Some(2));
        let first = forms.get("t1", "welcome", Some(1)).expect("reads");
        let label = first.and_then(|(_, d)| {
            d.components
                .first()
                .and_then(|c| c.field("uiLabel").cloned())
        });
        assert!(matches!(label, Some(crate::forms::FieldValue::Template(t)) if t.source() == "OK"));
        assert!(forms
            .get("t1", "welcome", Some(3))
            .expect("reads")
            .is_none());
        assert!(forms.get("t3", "welcome", None).expect("reads").is_none());
        let listed: Vec<u32> = forms
            .list("t1")
            .expect("lists")
            .iter()
            .map(|f| f.version)
            .collect();
        assert_eq!(listed, vec![1, 2]);
        assert_eq!(forms.list("t2").expect("lists").len(), 1);
    }

    #[test]
    fn deploys_the_shipped_folder_and_refuses_a_folder_with_one_bad_file() {
        let store = Store::temporary().expect("store");
        let forms = Forms::new(store);
        let deployed = forms
            .deploy_dir("t", &shipped_forms_dir())
            .expect("shipped forms deploy");
        let mut names: Vec<&str> = deployed.iter().map(|d| d.name.as_str()).collect();
        names.sort_unstable();
        assert_eq!(
            names,
            [
                "current-totp",
                "passcode-authentication",
                "passcode-registration",
                "passcode-renewal",
                "totp-registration"
            ]
        );
        for file in &crate::shipped::FORMS {
            let parsed = FormDefinition::parse(file.bytes).expect("embedded form parses");
            assert_eq!(format!("{}.json", parsed.name), file.file_name);
        }

        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("a.json"), form("OK")).expect("write");
        std::fs::write(dir.path().join("b.json"), b"{\"name\": \"b\"}").expect("write");
        let err = forms.deploy_dir("u", dir.path()).expect_err("refused");
        assert!(err.to_string().contains("b.json"), "{err}");
        assert!(err.invalid().is_some());
        assert!(
            forms.list("u").expect("lists").is_empty(),
            "nothing was deployed"
        );
    }
}
