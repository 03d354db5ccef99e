//! The activities' integration tests, one binary (one link) for all of them: the catalogue's
//! activities end to end, the file-driven flow cases of `tests/flows/`, and the examples' own code.

mod catalogue;
mod examples;
mod flows;
mod passcode_ahead;

// The examples, compiled here so their code is tested (`examples.rs`); declared at the root
// because `#[path]` is relative to the declaring file's directory.
#[path = "../../examples/register_passcode.rs"]
mod register_passcode;
#[path = "../../examples/register_totp.rs"]
mod register_totp;
