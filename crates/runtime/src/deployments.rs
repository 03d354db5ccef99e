//! Deployments: per tenant, a definition's name is its process ID and its versions are 1, 2, 3…;
//! deploying identical content (same SHA-256) keeps the existing version.

use std::sync::Arc;

use idflow_defs::Definition;

use crate::error::{Diagnostics, RuntimeError};
use crate::keys;
use crate::records::{DeploymentRecord, SourceRecord, VersionRecord};
use crate::runtime::Runtime;

/// The answer to a deploy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployment {
    /// The process ID.
    pub name: String,
    pub version: u32,
    /// `false` when identical content was already deployed (the version is the existing one).
    pub created: bool,
}

/// One deployed version, as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentInfo {
    pub name: String,
    pub version: u32,
    /// Hex SHA-256 of the file's bytes.
    pub content_hash: String,
    /// The process `name` attribute, if any.
    pub process_name: Option<String>,
    /// The file name or label it was deployed from.
    pub source_label: String,
    pub deployed_at_ms: i64,
}

impl DeploymentInfo {
    fn from_record(r: DeploymentRecord) -> DeploymentInfo {
        DeploymentInfo {
            name: r.name,
            version: r.version,
            content_hash: r.content_hash,
            process_name: r.process_name,
            source_label: r.source_label,
            deployed_at_ms: r.deployed_at_ms,
        }
    }
}

/// Parses `bytes` into a definition, or the diagnostics that keep it from loading.
fn parse(source_label: &str, bytes: &[u8]) -> Result<Definition, RuntimeError> {
    let loaded = idflow_defs::load(source_label, bytes);
    match loaded.definition {
        Some(definition) => Ok(definition),
        None => Err(RuntimeError::InvalidDefinition {
            source_label: source_label.to_string(),
            diagnostics: Diagnostics(loaded.diagnostics),
        }),
    }
}

impl Runtime {
    /// Deploys a BPMN file in `tenant` under its process ID. An invalid file is
    /// [`RuntimeError::InvalidDefinition`] with every diagnostic; identical content answers the
    /// version it already has (`created: false`).
    pub fn deploy(
        &self,
        tenant: &str,
        source_label: &str,
        bytes: &[u8],
    ) -> Result<Deployment, RuntimeError> {
        let definition = Arc::new(parse(source_label, bytes)?);
        let name = definition.process_id.clone();
        let hash = definition.content_hash.clone();
        let now = self.clock.now_ms();
        let source = SourceRecord::new(bytes);
        let deployment = self.commit(|tx| {
            let by_hash = keys::deployment_by_hash(tenant, &name, &hash);
            if let Some(existing) = tx.get_record::<VersionRecord>(&by_hash)? {
                return Ok(Deployment {
                    name: name.clone(),
                    version: existing.version,
                    created: false,
                });
            }
            let next = tx.increment(&keys::latest_version(tenant, &name), 1)?;
            let version = u32::try_from(next).map_err(|_| {
                RuntimeError::Inconsistent(format!("definition '{name}' has run out of versions"))
            })?;
            tx.put_record(&by_hash, &VersionRecord { version })?;
            tx.put_record(
                &keys::deployment(tenant, &name, version),
                &DeploymentRecord {
                    name: name.clone(),
                    version,
                    content_hash: hash.clone(),
                    process_name: definition.name.clone(),
                    source_label: source_label.to_string(),
                    deployed_at_ms: now,
                },
            )?;
            tx.put_record(&keys::deployment_source(tenant, &name, version), &source)?;
            Ok(Deployment {
                name: name.clone(),
                version,
                created: true,
            })
        })?;
        if deployment.created {
            self.cache_definition(tenant, &name, deployment.version, definition);
        }
        Ok(deployment)
    }

    /// The latest deployed version of `name`, if any.
    pub fn latest_version(&self, tenant: &str, name: &str) -> Result<Option<u32>, RuntimeError> {
        let key = keys::latest_version(tenant, name);
        match self.store.get(&key)? {
            None => Ok(None),
            Some(bytes) => {
                let raw: [u8; 8] = bytes.as_slice().try_into().map_err(|_| {
                    RuntimeError::Store(idflow_store::StoreError::Corrupt {
                        key: idflow_store::render_key(&key),
                        reason: format!("version counter has {} bytes", bytes.len()),
                    })
                })?;
                let version = u32::try_from(u64::from_be_bytes(raw)).map_err(|_| {
                    RuntimeError::Inconsistent(format!("definition '{name}' version overflow"))
                })?;
                Ok(Some(version).filter(|v| *v > 0))
            }
        }
    }

    /// The parsed definition `name` at `version` (the latest when `None`), with the version it
    /// resolved to. Parsed once per runtime and cached.
    pub fn definition(
        &self,
        tenant: &str,
        name: &str,
        version: Option<u32>,
    ) -> Result<(Arc<Definition>, u32), RuntimeError> {
        let unknown = || RuntimeError::UnknownDefinition {
            tenant: tenant.to_string(),
            name: name.to_string(),
            version,
        };
        let version = match version {
            Some(v) => v,
            None => self.latest_version(tenant, name)?.ok_or_else(unknown)?,
        };
        if let Some(def) = self.cached_definition(tenant, name, version) {
            return Ok((def, version));
        }
        let record = self
            .store
            .get_record::<DeploymentRecord>(&keys::deployment(tenant, name, version))?
            .ok_or_else(unknown)?;
        let bytes = self.definition_source(tenant, name, version)?;
        let definition = parse(&record.source_label, &bytes).map_err(|e| {
            // It loaded when deployed: a refusal now means the loader changed under stored data.
            RuntimeError::Inconsistent(format!(
                "deployed definition '{name}' version {version} no longer loads: {e}"
            ))
        })?;
        if definition.content_hash != record.content_hash {
            return Err(RuntimeError::Inconsistent(format!(
                "deployed definition '{name}' version {version} has changed content"
            )));
        }
        Ok((
            self.cache_definition(tenant, name, version, Arc::new(definition)),
            version,
        ))
    }

    /// Every deployed version in `tenant`, by name then version.
    pub fn list_definitions(&self, tenant: &str) -> Result<Vec<DeploymentInfo>, RuntimeError> {
        self.store
            .scan_records::<DeploymentRecord>(&keys::deployments_of_tenant(tenant))
            .map(|r| Ok(DeploymentInfo::from_record(r?.1)))
            .collect()
    }

    /// One deployed version's description.
    pub fn deployment_info(
        &self,
        tenant: &str,
        name: &str,
        version: u32,
    ) -> Result<DeploymentInfo, RuntimeError> {
        self.store
            .get_record::<DeploymentRecord>(&keys::deployment(tenant, name, version))?
            .map(DeploymentInfo::from_record)
            .ok_or_else(|| RuntimeError::UnknownDefinition {
                tenant: tenant.to_string(),
                name: name.to_string(),
                version: Some(version),
            })
    }

    /// The BPMN bytes of a deployed version, exactly as deployed.
    pub fn definition_source(
        &self,
        tenant: &str,
        name: &str,
        version: u32,
    ) -> Result<Vec<u8>, RuntimeError> {
        let key = keys::deployment_source(tenant, name, version);
        let record = self
            .store
            .get_record::<SourceRecord>(&key)?
            .ok_or_else(|| RuntimeError::UnknownDefinition {
                tenant: tenant.to_string(),
                name: name.to_string(),
                version: Some(version),
            })?;
        Ok(record.bytes(&key)?)
    }
}
