//! The route modules: identity-store, process manager (bearer token), end user (no token).

pub(crate) mod enduser;
pub(crate) mod identity;
pub(crate) mod process;
