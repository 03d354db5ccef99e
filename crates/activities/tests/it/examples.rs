//! Runs the examples' own code (the same functions their `main` prints), so the examples are
//! known to work.

use crate::{register_passcode, register_totp};

#[test]
fn the_passcode_registration_example_registers_a_passcode() {
    let done =
        register_passcode::register_passcode("Example passcode 1").expect("the example runs");
    assert_eq!(done.status, "COMPLETED_ENDED_SUCCESS");
    assert_eq!(done.outcome.as_deref(), Some("Passcode registered"));
    assert_eq!(done.user.external_id, "alice@example.com");
    assert_eq!(done.user.registered_passcodes.len(), 1);
    assert_eq!(done.user.registered_passcodes[0].policy_name, "default");
    // The example's policy asks for a digit: the client refuses a passcode without one before
    // anything reaches the server.
    let refused = register_passcode::register_passcode("no digits here");
    assert!(refused.is_err());
}

#[test]
fn the_totp_example_shows_the_registered_uri_again() {
    let done = register_totp::register_totp().expect("the example runs");
    assert_eq!(done.registration_status, "COMPLETED_ENDED_SUCCESS");
    assert_eq!(done.current_status, "COMPLETED_ENDED_SUCCESS");
    assert!(
        done.current_uri.starts_with("otpauth://totp/"),
        "{}",
        done.current_uri
    );
    assert_eq!(done.current_uri, done.registered_uri);
    assert_eq!(done.current_secret, done.registered_secret);
}
