//! The route modules: identity-store, process manager (bearer token), end user (no token),
//! branding (set with a bearer token, read by the end user's pages), the designer's (catalogue,
//! validation, form preview, sign-in).

pub(crate) mod branding;
pub(crate) mod designer;
pub(crate) mod enduser;
pub(crate) mod identity;
pub(crate) mod process;
