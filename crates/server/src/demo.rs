//! The demo tenant seeded into a new data directory, through the activities crate's helper.
//!
//! A marker key in the store records that the seed completed, so later starts reuse the data as
//! it is (a deactivated demo token stays deactivated). A first start that died half-way seeds
//! again: the helper is idempotent.

use idflow_activities::demo::{seed_demo, DemoOptions};
use idflow_identity::Identity;
use idflow_runtime::Runtime;
use idflow_store::key;

use crate::error::ServerError;

fn marker(tenant: &str) -> Vec<u8> {
    key(&["server", "demo-seeded", tenant])
}

/// Seeds `tenant` unless a previous start did; returns whether it seeded now.
pub(crate) fn seed_if_new(
    runtime: &Runtime,
    identity: &Identity,
    tenant: &str,
) -> Result<bool, ServerError> {
    let store = runtime.store();
    if store.get(&marker(tenant))?.is_some() {
        return Ok(false);
    }
    let seed = seed_demo(runtime, identity, tenant, &DemoOptions::default())
        .map_err(|e| ServerError::Seed(e.to_string()))?;
    store.commit(|tx| tx.insert(&marker(tenant), b"1".to_vec()))?;
    tracing::info!(
        tenant,
        definitions = seed.definitions.len(),
        forms = seed.forms.len(),
        tokens = seed.tokens.len(),
        "demo tenant seeded"
    );
    Ok(true)
}
