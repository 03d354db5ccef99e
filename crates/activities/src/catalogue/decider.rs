//! Simple Decider: turns the instance's checks (or a value it is pointed at) into
//! `processvar._decision`, where gateway conditions route on it.

use idflow_defs::{DECISION_FAIL, DECISION_VARIABLE};
use idflow_engine::ActivityResult;
use idflow_expr::json_kind;
use serde_json::Value;

use super::common::{failed, put, Flow, Run};

/// The decisions a decider can reach.
const DECISIONS: [&str; 3] = ["PASS", DECISION_FAIL, "REVIEW"];

/// `PASS`, `FAIL` or `REVIEW` (any case, surrounding spaces ignored), canonical upper case.
fn parse_decision(text: &str) -> Option<&'static str> {
    let trimmed = text.trim();
    DECISIONS
        .into_iter()
        .find(|d| d.eq_ignore_ascii_case(trimmed))
}

/// Simple Decider as the seeds' product defines it:
///
/// 1. "Derive Decision From", when it has a (non-empty) value, is the decision; anything but
///    PASS, FAIL or REVIEW fails the instance with a message saying what it held.
/// 2. Otherwise, if any check in `processvar._checks` has result FAIL, the decision is "Decision
///    on Any Failure" (PASS, FAIL or REVIEW; default FAIL).
/// 3. Otherwise PASS.
pub(crate) fn decide(run: &Run<'_, '_>) -> Flow<ActivityResult> {
    let derived = match run.inputs.get("Derive Decision From") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s)) => match parse_decision(s) {
            Some(d) => Some(d),
            None => {
                return Err(failed(format!(
                    "Simple Decider: \"Derive Decision From\" must be PASS, FAIL or REVIEW, but it is {s:?}"
                )))
            }
        },
        Some(other) => {
            return Err(failed(format!(
                "Simple Decider: \"Derive Decision From\" must be PASS, FAIL or REVIEW, but it is {}",
                json_kind(other)
            )))
        }
    };
    let decision = match derived {
        Some(d) => d,
        None => {
            let on_failure = run.required_text("Decision on Any Failure")?;
            let on_failure = parse_decision(&on_failure).ok_or_else(|| {
                failed(format!(
                    "Simple Decider: \"Decision on Any Failure\" must be PASS, FAIL or REVIEW, but it is {on_failure:?}"
                ))
            })?;
            let checks = match run.variables().get("_checks") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(items)) => items.clone(),
                Some(other) => {
                    return Err(failed(format!(
                        "Simple Decider: processvar._checks must be a list of checks, but it is {}",
                        json_kind(other)
                    )))
                }
            };
            let any_failed = checks
                .iter()
                .any(|c| c.get("result").and_then(Value::as_str) == Some("FAIL"));
            if any_failed {
                on_failure
            } else {
                "PASS"
            }
        }
    };
    Ok(ActivityResult::Completed {
        writes: vec![put(
            &[DECISION_VARIABLE],
            Value::String(decision.to_string()),
        )],
        checks: Vec::new(),
    })
}
