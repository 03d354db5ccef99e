//! The server's SRP ephemeral worked ahead of a flow's chain (`ActivityHandler::work_ahead`):
//! Start Passcode Authentication and Renewal take `b` and `g^b` computed before the transaction,
//! the session's `B` is the one that `b` makes (the client's full exchange succeeds and `M2`
//! verifies), each session draws its own, and without the work ahead the flows still run.

use std::sync::{Arc, Mutex};

use idflow_activities::Catalogue;
use idflow_defs::ActivityType;
use idflow_engine::{ActivityResult, Inputs};
use idflow_identity::{client, wire, Entropy};
use idflow_runtime::{ActivityContext, ActivityHandler, InstanceView, Prepared};
use idflow_store::{Store, StoreError, Tx};
use idflow_testkit::demo_world::{passcode_start, World};
use serde_json::{json, Value};

const PASSCODE: &str = "Tr0ub4dor&3";

/// The catalogue, noting what it worked ahead and what each Start activity was handed; with
/// `ahead` false it works ahead for nothing (the old path: everything inside the transaction).
struct Noting {
    catalogue: Catalogue,
    ahead: bool,
    log: Mutex<Vec<String>>,
}

impl Noting {
    fn world(ahead: bool) -> (World, Arc<Noting>) {
        let noting = Arc::new(Noting {
            catalogue: Catalogue::new(),
            ahead,
            log: Mutex::new(Vec::new()),
        });
        let world = World::with_handler(noting.clone());
        (world, noting)
    }

    fn take_log(&self) -> Vec<String> {
        std::mem::take(&mut *self.log.lock().expect("lock"))
    }
}

impl ActivityHandler for Noting {
    fn run(
        &self,
        tx: &Tx<'_>,
        ctx: &ActivityContext<'_>,
        activity: ActivityType,
        inputs: &Inputs,
    ) -> Result<ActivityResult, StoreError> {
        if self.catalogue.works_ahead(activity) {
            let handed = ctx.ahead::<Entropy>().map(Entropy::has_server_ephemeral);
            self.log
                .lock()
                .expect("lock")
                .push(format!("run {} handed g^b: {handed:?}", ctx.node()));
        }
        self.catalogue.run(tx, ctx, activity, inputs)
    }

    fn render_step(
        &self,
        tx: &Tx<'_>,
        ctx: &ActivityContext<'_>,
        activity: ActivityType,
        inputs: &Inputs,
    ) -> Result<Result<Value, String>, StoreError> {
        self.catalogue.render_step(tx, ctx, activity, inputs)
    }

    fn prepares(&self, activity: ActivityType) -> bool {
        self.catalogue.prepares(activity)
    }

    fn prepare(
        &self,
        store: &Store,
        ctx: &ActivityContext<'_>,
        activity: ActivityType,
        inputs: &Inputs,
    ) -> Option<Prepared> {
        self.catalogue.prepare(store, ctx, activity, inputs)
    }

    fn works_ahead(&self, activity: ActivityType) -> bool {
        self.ahead && self.catalogue.works_ahead(activity)
    }

    fn work_ahead(&self, ctx: &ActivityContext<'_>, activity: ActivityType) -> Option<Prepared> {
        let work = self.catalogue.work_ahead(ctx, activity)?;
        let computed = work
            .downcast_ref::<Entropy>()
            .is_some_and(Entropy::has_server_ephemeral);
        self.log
            .lock()
            .expect("lock")
            .push(format!("ahead {} g^b: {computed}", ctx.node()));
        Some(work)
    }
}

/// `B` of the session the instance's step shows.
fn server_public(instance: &InstanceView) -> String {
    let start = passcode_start(instance);
    start
        .algorithm_info
        .parameters
        .server_public_key
        .expect("B in the step's data")
}

/// The server's answer to the proof, from the completed session's variable.
fn proof_response(instance: &InstanceView, session_id: &str) -> wire::PasscodeProofResponse {
    let holder = instance
        .variables
        .as_object()
        .and_then(|vars| vars.values().find(|v| v["sessionId"] == session_id))
        .expect("the session's variable");
    assert_eq!(holder["status"], "COMPLETED", "{holder}");
    wire::PasscodeProofResponse {
        algorithm_info: wire::ProofAlgorithmInfo {
            kind: "SRP".into(),
            parameters: wire::ProofParameters {
                hash_algorithm: "SHA-256".into(),
                m2: holder["m2"].as_str().expect("m2").to_string(),
            },
        },
        user: serde_json::from_value(holder["user"].clone()).expect("user"),
    }
}

/// Answers the authentication form with the right passcode: the server accepts `M1` (its `S`,
/// from the `b` it stored, is the client's, from `B`) and the client accepts `M2`.
fn authenticate(world: &mut World, instance: &InstanceView) {
    let start = passcode_start(instance);
    let proof = client::authenticate(&start, PASSCODE, &mut world.rng).expect("client");
    let response = answer_with_proof(world, instance, &start, json!(proof.request()));
    assert_eq!(proof.verify_server(&response), Ok(()), "M2 verifies");
}

/// Answers the renewal form with the current passcode and a new one: the server accepts the
/// proof made against its `B` and the client accepts `M2`.
fn renew(world: &mut World, instance: &InstanceView) {
    let start = passcode_start(instance);
    let proof =
        client::renew(&start, PASSCODE, "C0rrectHorse", &mut world.rng).expect("the client renews");
    let response = answer_with_proof(world, instance, &start, json!(proof.request()));
    assert_eq!(proof.verify_server(&response), Ok(()), "M2 verifies");
}

/// Answers the SRP form of `start` with the client's `request`: the flow must end in success,
/// and the server's answer to the proof (with its `M2`) is returned for the client to check.
fn answer_with_proof(
    world: &mut World,
    instance: &InstanceView,
    start: &wire::PasscodeSessionStart,
    request: Value,
) -> wire::PasscodeProofResponse {
    let done = world.answer(instance, json!({ "browserResponse": request }));
    assert_eq!(
        done.status.as_str(),
        "COMPLETED_ENDED_SUCCESS",
        "{:?}",
        done.error
    );
    proof_response(&done, &start.session_id)
}

#[test]
fn a_flow_started_by_a_token_authenticates_with_g_to_the_b_computed_before_its_transaction() {
    let (mut world, noting) = Noting::world(true);
    world.add_user("alice");
    world.register_passcode("alice", PASSCODE);
    noting.take_log();

    let first = world.start("passcode-authentication", World::parameters("alice", None));
    let second = world.start("passcode-authentication", World::parameters("alice", None));
    // Get User runs first; the start's chain still reaches Start Passcode Authentication, so
    // its ephemeral was computed before the transaction, and handed to it.
    let log = noting.take_log();
    assert_eq!(log.len(), 4, "{log:?}");
    assert!(
        log[0].starts_with("ahead ") && log[0].ends_with("g^b: true"),
        "{log:?}"
    );
    assert!(log[1].ends_with("handed g^b: Some(true)"), "{log:?}");
    assert_eq!(
        log[2..],
        log[..2],
        "the second start: the same, its own work"
    );
    assert_ne!(
        server_public(&first),
        server_public(&second),
        "two sessions never share b"
    );
    authenticate(&mut world, &second);
    authenticate(&mut world, &first);
}

#[test]
fn a_renewal_flow_takes_its_ephemeral_ahead_too() {
    let (mut world, noting) = Noting::world(true);
    world.add_user("alice");
    world.register_passcode("alice", PASSCODE);
    noting.take_log();
    let instance = world.start("passcode-renewal", World::parameters("alice", None));
    let log = noting.take_log();
    assert_eq!(log.len(), 2, "{log:?}");
    assert!(log[1].ends_with("handed g^b: Some(true)"), "{log:?}");
    renew(&mut world, &instance);
}

#[test]
fn without_work_ahead_the_start_activity_computes_g_to_the_b_itself() {
    let (mut world, noting) = Noting::world(false);
    world.add_user("alice");
    world.register_passcode("alice", PASSCODE);
    let first = world.start("passcode-authentication", World::parameters("alice", None));
    let second = world.start("passcode-authentication", World::parameters("alice", None));
    let log = noting.take_log();
    assert_eq!(log.len(), 2, "nothing worked ahead: {log:?}");
    assert!(
        log.iter().all(|l| l.ends_with("handed g^b: None")),
        "{log:?}"
    );
    assert_ne!(server_public(&first), server_public(&second));
    authenticate(&mut world, &first);
    authenticate(&mut world, &second);
}

#[test]
fn a_registration_flow_works_nothing_ahead_for_the_renewal_only_an_error_leads_to() {
    let (mut world, noting) = Noting::world(true);
    // A new user: Add User, Start Passcode Registration, the form. No g^b anywhere.
    let new = world.start("passcode-registration", World::parameters("bob", None));
    assert!(new.step.is_some());
    assert_eq!(noting.take_log(), Vec::<String>::new());

    // An already registered user: Start Passcode Registration's error leads to Start Passcode
    // Renewal, which computes its g^b inside the transaction; its B still serves the proof.
    world.add_user("alice");
    world.register_passcode("alice", PASSCODE);
    let renewing = world.start("passcode-registration", World::parameters("alice", None));
    let log = noting.take_log();
    assert_eq!(log.len(), 1, "{log:?}");
    assert!(log[0].ends_with("handed g^b: None"), "{log:?}");
    renew(&mut world, &renewing);
}
