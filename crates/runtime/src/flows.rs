//! Definition files shipped with the runtime for benchmarks, tests and `idflow run` examples,
//! with the scripted activity results that drive them.

use idflow_engine::{ActivityResult, VarWrite};
use idflow_expr::VarPath;
use serde_json::json;

use crate::handler::ScriptedActivities;

/// The six-node flow of the benchmarks: start, Add User, a Custom Data Form step (`details`),
/// Simple Decider, an exclusive gateway (`_decision == "PASS"`), end `Approved` (else
/// `Rejected`). Expects token parameters `store` and `externalId`.
pub const SIX_NODE: &[u8] = include_bytes!("../flows/six-node.bpmn");

/// Its process ID.
pub const SIX_NODE_NAME: &str = "six-node";

/// A step (`ask`) with a `PT5M` timer boundary: answered it ends `Answered`, timed out `Too slow`.
pub const TIMED_STEP: &[u8] = include_bytes!("../flows/timed-step.bpmn");

/// Two steps in a row (`first`, `second`), then `Done`.
pub const TWO_STEPS: &[u8] = include_bytes!("../flows/two-steps.bpmn");

/// Scripted results for [`SIX_NODE`] on every visit: Add User writes `user1`, the decider
/// writes `_decision` (`PASS` when `approve`, else `FAIL`).
pub fn six_node_script(approve: bool) -> ScriptedActivities {
    ScriptedActivities::new()
        .on_every_visit(
            "addUser",
            ActivityResult::Completed {
                writes: vec![VarWrite {
                    path: VarPath::keys(&["user1"]),
                    value: json!({"externalId": "bench-user", "status": "ACTIVE"}),
                    secret: false,
                }],
                checks: Vec::new(),
            },
        )
        .on_every_visit(
            "decide",
            ActivityResult::Completed {
                writes: vec![VarWrite {
                    path: VarPath::keys(&["_decision"]),
                    value: json!(if approve { "PASS" } else { "FAIL" }),
                    secret: false,
                }],
                checks: Vec::new(),
            },
        )
}
