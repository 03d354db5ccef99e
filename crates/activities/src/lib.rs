//! The idflow activity catalogue implemented against the identity store, and custom data forms.
//!
//! - [`Catalogue`]: every activity of `idflow_defs::catalogue` as a real
//!   [`idflow_runtime::ActivityHandler`] (outputs, error codes and checks documented in
//!   [`catalogue`]).
//! - [`forms`]: custom form definitions (format documented there), versioned per tenant, rendered
//!   with `{{processvar.path}}` templates into plain JSON.
//! - [`shipped`]: the shipped definitions and forms, embedded; [`seed_demo`]: a demo tenant.

pub mod catalogue;
pub mod demo;
mod error;
pub mod forms;
pub mod shipped;

pub use catalogue::Catalogue;
pub use demo::{seed_demo, DemoOptions, DemoSeed, SeedError};
pub use error::FormError;
