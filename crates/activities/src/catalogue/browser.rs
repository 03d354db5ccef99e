//! The end user's answers to the SRP and TOTP pages, read from a "... Browser Response"
//! parameter into the identity API's request types.
//!
//! Accepted shapes: the api.md complete-request object itself, the same object wrapped as
//! `{"browserResponse": {...}}` (the whole form answer), or either as JSON text. Messages name
//! the missing or mistyped field and never quote a value (they are verifiers and proofs).

use idflow_expr::json_kind;
use idflow_identity::wire::{
    CompletePasscodeAuthenticationRequest, CompletePasscodeRegistrationRequest,
    CompletePasscodeRenewalRequest, SrpRegistrationData, SrpVerificationData,
};
use serde_json::{Map, Value};

/// The answer object, unwrapped from `browserResponse` and parsed from text where needed.
fn answer_object(value: Option<&Value>, param: &str) -> Result<Map<String, Value>, String> {
    let value = match value {
        None | Some(Value::Null) => {
            return Err(format!(
                "no browser response: parameter \"{param}\" has no value"
            ))
        }
        Some(v) => v,
    };
    let mut current = parse_if_text(value, param)?;
    // Unwrap `browserResponse` (possibly itself JSON text) at most twice: a form answer whose
    // field holds the page's own `{"browserResponse": ...}`.
    for _ in 0..2 {
        match current.get("browserResponse") {
            Some(inner) => current = parse_if_text(inner, "browserResponse")?,
            None => break,
        }
    }
    Ok(current)
}

fn parse_if_text(value: &Value, what: &str) -> Result<Map<String, Value>, String> {
    match value {
        Value::Object(map) => Ok(map.clone()),
        Value::String(text) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(map)) => Ok(map),
            Ok(other) => Err(format!(
                "{what} must be a JSON object, but its text holds {}",
                json_kind(&other)
            )),
            Err(_) => Err(format!("{what} is text that is not a JSON object")),
        },
        other => Err(format!(
            "{what} must be a JSON object, not {}",
            json_kind(other)
        )),
    }
}

fn string_field(map: &Map<String, Value>, object: &str, field: &str) -> Result<String, String> {
    let Some(inner) = map.get(object) else {
        return Err(format!("{object} is missing"));
    };
    let Value::Object(inner) = inner else {
        return Err(format!(
            "{object} must be an object, not {}",
            json_kind(inner)
        ));
    };
    match inner.get(field) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        Some(Value::String(_)) => Err(format!("{object}.{field} is empty")),
        Some(other) => Err(format!(
            "{object}.{field} must be a base64 string, not {}",
            json_kind(other)
        )),
        None => Err(format!("{object}.{field} is missing")),
    }
}

fn registration_data(map: &Map<String, Value>) -> Result<SrpRegistrationData, String> {
    Ok(SrpRegistrationData {
        verifier: string_field(map, "srpRegistrationData", "verifier")?,
    })
}

fn verification_data(map: &Map<String, Value>) -> Result<SrpVerificationData, String> {
    Ok(SrpVerificationData {
        a: string_field(map, "srpVerificationData", "a")?,
        m1: string_field(map, "srpVerificationData", "m1")?,
    })
}

/// `{"srpRegistrationData": {"verifier"}}`.
pub(crate) fn registration(
    value: Option<&Value>,
    param: &str,
) -> Result<CompletePasscodeRegistrationRequest, String> {
    let map = answer_object(value, param)?;
    Ok(CompletePasscodeRegistrationRequest {
        srp_registration_data: registration_data(&map)?,
    })
}

/// Which part of a renewal answer is unusable: the new passcode's registration data, or the
/// proof of the old one. They map to different error codes.
pub(crate) enum RenewalProblem {
    Registration(String),
    Verification(String),
}

/// `{"srpRegistrationData": {"verifier"}, "srpVerificationData": {"a", "m1"}}`.
pub(crate) fn renewal(
    value: Option<&Value>,
    param: &str,
) -> Result<CompletePasscodeRenewalRequest, RenewalProblem> {
    let map = answer_object(value, param).map_err(RenewalProblem::Verification)?;
    let verification = verification_data(&map).map_err(RenewalProblem::Verification)?;
    let registration = registration_data(&map).map_err(RenewalProblem::Registration)?;
    Ok(CompletePasscodeRenewalRequest {
        srp_registration_data: registration,
        srp_verification_data: verification,
    })
}

/// `{"srpVerificationData": {"a", "m1"}}`.
pub(crate) fn authentication(
    value: Option<&Value>,
    param: &str,
) -> Result<CompletePasscodeAuthenticationRequest, String> {
    let map = answer_object(value, param)?;
    Ok(CompletePasscodeAuthenticationRequest {
        srp_verification_data: verification_data(&map)?,
    })
}

/// `{"code": "123456"}` (a bare code as text is accepted too).
pub(crate) fn totp_code(value: Option<&Value>, param: &str) -> Result<String, String> {
    if let Some(Value::String(text)) = value {
        let trimmed = text.trim();
        if !trimmed.is_empty() && trimmed.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(trimmed.to_string());
        }
    }
    let map = answer_object(value, param)?;
    match map.get("code") {
        Some(Value::String(code)) => Ok(code.trim().to_string()),
        Some(Value::Number(n)) => Ok(n.to_string()),
        Some(other) => Err(format!(
            "code must be a string of digits, not {}",
            json_kind(other)
        )),
        None => Err("code is missing".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn accepts_the_request_with_or_without_the_wrapper_and_as_text() {
        let bare = json!({"srpRegistrationData": {"verifier": "dmVyaWZpZXI="}});
        let wrapped = json!({"browserResponse": bare.clone()});
        let text = Value::String(bare.to_string());
        let wrapped_text = json!({"browserResponse": bare.to_string()});
        for input in [bare, wrapped, text, wrapped_text] {
            let parsed = registration(Some(&input), "P").map(|r| r.srp_registration_data.verifier);
            assert_eq!(parsed.as_deref(), Ok("dmVyaWZpZXI="), "{input}");
        }
    }

    #[test]
    fn unusable_answers_name_the_field_without_quoting_values() {
        let secret = "c2VjcmV0LXZlcmlmaWVy";
        let cases = [
            (None, "no browser response"),
            (Some(json!(3)), "not a number"),
            (Some(json!("not json")), "not a JSON object"),
            (Some(json!({})), "srpRegistrationData is missing"),
            (
                Some(json!({"srpRegistrationData": secret})),
                "srpRegistrationData must be an object",
            ),
            (
                Some(json!({"srpRegistrationData": {}})),
                "srpRegistrationData.verifier is missing",
            ),
            (
                Some(json!({"srpRegistrationData": {"verifier": 7}})),
                "must be a base64 string",
            ),
        ];
        for (input, needle) in cases {
            let err = registration(input.as_ref(), "P").err().unwrap_or_default();
            assert!(err.contains(needle), "{input:?}: {err}");
            assert!(!err.contains(secret), "{err}");
        }
        let renewal_cases = [
            (json!({"srpRegistrationData": {"verifier": "dg=="}}), false),
            (
                json!({"srpVerificationData": {"a": "YQ==", "m1": "bQ=="}}),
                true,
            ),
        ];
        for (input, registration_at_fault) in renewal_cases {
            match renewal(Some(&input), "P") {
                Err(RenewalProblem::Registration(_)) => assert!(registration_at_fault, "{input}"),
                Err(RenewalProblem::Verification(_)) => assert!(!registration_at_fault, "{input}"),
                Ok(_) => panic!("{input} accepted"),
            }
        }
    }

    #[test]
    fn totp_codes_come_wrapped_bare_or_as_digits() {
        let cases = [
            (json!({"browserResponse": {"code": "123456"}}), Ok("123456")),
            (json!({"code": "012345"}), Ok("012345")),
            (json!("654321"), Ok("654321")),
            (json!({"code": 42}), Ok("42")),
            (json!({"browserResponse": {}}), Err("code is missing")),
            (json!({"code": []}), Err("an array")),
        ];
        for (input, want) in cases {
            let got = totp_code(Some(&input), "P");
            match want {
                Ok(code) => assert_eq!(got.as_deref(), Ok(code), "{input}"),
                Err(needle) => {
                    let err = got.err().unwrap_or_default();
                    assert!(err.contains(needle), "{input}: {err}");
                }
            }
        }
    }
}
