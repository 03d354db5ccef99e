//! Add User and Get User.

use idflow_engine::ActivityResult;
use idflow_identity::model::UserStatus;
use idflow_identity::ops;

use super::common::{put, user_json, Flow, Run};

/// Add User: a new ACTIVE user with the given external ID, stored under the user key.
pub(crate) fn add_user(run: &Run<'_, '_>) -> Flow<ActivityResult> {
    let store = run.required_text("Store Name")?;
    let external_id = run.required_text("User External ID")?;
    let user_key = run.required_text("User Key")?;
    let added = ops::add_user(
        run.tx,
        run.tenant(),
        &store,
        &external_id,
        UserStatus::Active,
        run.now_ms(),
        &run.entropy(),
    );
    match run.op(added)? {
        Ok(user) => Ok(ActivityResult::Completed {
            writes: vec![put(&[&user_key], user_json(&user))],
            checks: Vec::new(),
        }),
        Err(refusal) => Err(run.refused(refusal, Vec::new())),
    }
}

/// Get User: the user named by the user-reference rule, read fresh and stored under the user key
/// (also when the key already held it: Get User is how a flow refreshes its copy).
pub(crate) fn get_user(run: &Run<'_, '_>) -> Flow<ActivityResult> {
    let store = run.required_text("Store Name")?;
    let user_key = run.required_text("User Key")?;
    let (user, _) = run.resolve_user(&store)?;
    Ok(ActivityResult::Completed {
        writes: vec![put(&[&user_key], user_json(&user))],
        checks: Vec::new(),
    })
}
