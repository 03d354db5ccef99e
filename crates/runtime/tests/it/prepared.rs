//! Work prepared before an answer's transaction (`ActivityHandler::prepare`): the runtime
//! rehearses the answer outside the transaction and hands what the handler prepared to the run
//! of the activity the answer leads to, and to no other.

use std::sync::{Arc, Mutex};

use idflow_defs::ActivityType;
use idflow_engine::{ActivityResult, Inputs, Status, VarWrite};
use idflow_expr::VarPath;
use idflow_runtime::{flows, ActivityContext, ActivityHandler, Prepared, ScriptedActivities};
use idflow_store::{Store, StoreError, Tx};
use serde_json::{json, Value};

use crate::common::*;

/// The six-node script, but the decider prepares: `prepare` notes what the rehearsal showed it,
/// `run` notes what it was handed.
struct Preparing {
    script: ScriptedActivities,
    prepared: Mutex<Vec<String>>,
    handed: Mutex<Vec<(String, Option<String>)>>,
}

impl ActivityHandler for Preparing {
    fn run(
        &self,
        tx: &Tx<'_>,
        ctx: &ActivityContext<'_>,
        activity: ActivityType,
        inputs: &Inputs,
    ) -> Result<ActivityResult, StoreError> {
        let handed = ctx.prepared::<String>().cloned();
        self.handed
            .lock()
            .expect("lock")
            .push((ctx.node().to_string(), handed));
        if activity != ActivityType::SimpleDecider {
            return self.script.run(tx, ctx, activity, inputs);
        }
        Ok(ActivityResult::Completed {
            writes: vec![VarWrite {
                path: VarPath::keys(&["_decision"]),
                value: json!("PASS"),
                secret: false,
            }],
            checks: Vec::new(),
        })
    }

    fn render_step(
        &self,
        tx: &Tx<'_>,
        ctx: &ActivityContext<'_>,
        activity: ActivityType,
        inputs: &Inputs,
    ) -> Result<Result<Value, String>, StoreError> {
        self.script.render_step(tx, ctx, activity, inputs)
    }

    fn prepares(&self, activity: ActivityType) -> bool {
        activity == ActivityType::SimpleDecider
    }

    fn prepare(
        &self,
        _store: &Store,
        ctx: &ActivityContext<'_>,
        _activity: ActivityType,
        _inputs: &Inputs,
    ) -> Option<Prepared> {
        let seen = format!("{} saw {}", ctx.node(), ctx.variables()["details"]);
        self.prepared.lock().expect("lock").push(seen.clone());
        Some(Box::new(seen))
    }
}

#[test]
fn an_answer_is_rehearsed_and_its_next_activity_handed_the_prepared_work() {
    let handler = Arc::new(Preparing {
        script: flows::six_node_script(true),
        prepared: Mutex::new(Vec::new()),
        handed: Mutex::new(Vec::new()),
    });
    let h = runtime_with(temporary_store(), handler.clone());
    deploy_all(&h.runtime);
    let started = h
        .runtime
        .start_definition(TENANT, flows::SIX_NODE_NAME, None, six_node_params())
        .expect("starts");
    let step = started.step.clone().expect("rests at the form");
    // A start is not rehearsed: Add User ran with nothing prepared.
    assert!(handler.prepared.lock().expect("lock").is_empty());

    let done = h
        .runtime
        .answer(&started.id, &step.step_id, json!({"colour": "blue"}))
        .expect("answers");
    assert_eq!(done.status, Status::CompletedEndedSuccess);
    let expected = r#"decide saw {"colour":"blue"}"#.to_string();
    assert_eq!(
        *handler.prepared.lock().expect("lock"),
        vec![expected.clone()]
    );
    assert_eq!(
        *handler.handed.lock().expect("lock"),
        vec![
            ("addUser".to_string(), None),
            ("decide".to_string(), Some(expected)),
        ]
    );

    // A stale answer is rehearsed against nothing: the instance rests at no step.
    let stale = h
        .runtime
        .answer(&started.id, "not-the-step", json!({"colour": "red"}));
    assert!(stale.is_err());
    assert_eq!(handler.prepared.lock().expect("lock").len(), 1);
}
