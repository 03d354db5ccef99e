//! The passcode activities: Start / Complete Passcode Registration, Renewal and Authentication,
//! and Deregister Passcode, over the identity core's SRP-6a operations.

use idflow_engine::{ActivityResult, Inputs};
use idflow_identity::model::UserRef;
use idflow_identity::ops::{self, Entropy, PreparedProof};
use idflow_identity::wire;
use idflow_identity::{Refusal, RefusalCode};
use idflow_runtime::{ActivityContext, Prepared};
use idflow_store::Store;
use serde_json::Value;

use super::browser::{self, RenewalProblem};
use super::common::{failed, put, Flow, Run};

/// The three passcode sessions, which differ in their parameter names and identity calls.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Session {
    Registration,
    Renewal,
    Authentication,
}

impl Session {
    /// The parameter holding the session's key under `processvar`.
    fn key_param(self) -> &'static str {
        match self {
            Session::Registration => "Passcode Registration Key",
            Session::Renewal => "Passcode Renewal Key",
            Session::Authentication => "Passcode Authentication Key",
        }
    }

    /// The parameter naming the passcode policy (the seeds call it differently per activity).
    fn policy_param(self) -> &'static str {
        match self {
            Session::Registration | Session::Authentication => "Passcode Key",
            Session::Renewal => "Passcode Policy",
        }
    }

    fn browser_param(self) -> &'static str {
        match self {
            Session::Registration => "Passcode Registration Browser Response",
            Session::Renewal => "Passcode Renewal Browser Response",
            Session::Authentication => "Passcode Authentication Browser Response",
        }
    }

    fn start_name(self) -> &'static str {
        match self {
            Session::Registration => "Start Passcode Registration",
            Session::Renewal => "Start Passcode Renewal",
            Session::Authentication => "Start Passcode Authentication",
        }
    }
}

/// Start Passcode Registration / Renewal / Authentication: opens an identity session and writes
/// its answer (`passcodeRequirements`, `algorithmInfo`, `sessionId`) under the session key, with
/// `storeName`, `policyName`, `userId` and `status: STARTED` for the Complete activity and the UI.
pub(crate) fn start(run: &Run<'_, '_>, session: Session) -> Flow<ActivityResult> {
    let key = run.required_text(session.key_param())?;
    let policy = run.required_text(session.policy_param())?;
    let store = run.required_text("Store Name")?;
    let (user, user_write) = run.resolve_user(&store)?;
    let writes: Vec<_> = user_write.into_iter().collect();
    // An authentication's or renewal's `g^b`, computed before the transaction when the runtime
    // worked ahead for this chain (its first such activity); else everything is drawn now. A
    // retried transaction uses the same `b` again: the attempt that failed stored nothing and
    // answered no one, so `b` still serves one session.
    let entropy = match session {
        Session::Registration => None,
        Session::Renewal | Session::Authentication => run.ctx.ahead::<Entropy>().cloned(),
    }
    .unwrap_or_else(|| run.entropy());
    let (tx, tenant, now) = (run.tx, run.tenant(), run.now_ms());
    let reference = UserRef::Id(&user.id);
    let started = match session {
        Session::Registration => {
            ops::start_passcode_registration(tx, tenant, &store, reference, &policy, now, &entropy)
        }
        Session::Renewal => {
            ops::start_passcode_renewal(tx, tenant, &store, reference, &policy, now, &entropy)
        }
        Session::Authentication => ops::start_passcode_authentication(
            tx, tenant, &store, reference, &policy, now, &entropy,
        ),
    };
    match run.op(started)? {
        Ok(answer) => {
            let value = started_session_value(wire::to_value(&answer), store, policy, &user.id);
            let mut writes = writes;
            writes.push(put(&[&key], value));
            Ok(ActivityResult::Completed {
                writes,
                checks: Vec::new(),
            })
        }
        Err(refusal) => Err(run.refused(refusal, writes)),
    }
}

/// The randomness of a Start Passcode Authentication or Renewal drawn before its chain's
/// transaction, with the server's `g^b` computed from it (see
/// [`idflow_runtime::ActivityHandler::work_ahead`]).
pub(crate) fn entropy_ahead(ctx: &ActivityContext<'_>) -> Entropy {
    let mut bytes = [0u8; Entropy::LEN];
    ctx.random_bytes(&mut bytes);
    Entropy::from_bytes(bytes).with_server_ephemeral()
}

/// The user and the server's proof `M2` from a completed authentication or renewal.
fn user_and_m2(proof: wire::PasscodeProofResponse) -> (wire::User, Option<String>) {
    (proof.user, Some(proof.algorithm_info.parameters.m2))
}

/// What a Start activity writes under `processvar.<key>`: the identity store's answer with
/// `storeName`, `policyName`, `userId` and `status: STARTED` added, for the Complete activity
/// ([`started_session`] reads it back) and the UI.
pub(crate) fn started_session_value(
    mut answer: Value,
    store: String,
    policy: String,
    user_id: &str,
) -> Value {
    if let Value::Object(map) = &mut answer {
        map.insert("storeName".into(), Value::String(store));
        map.insert("policyName".into(), Value::String(policy));
        map.insert("userId".into(), Value::String(user_id.to_owned()));
        map.insert("status".into(), Value::String("STARTED".into()));
    }
    answer
}

/// The policy a Start activity wrote under `processvar.<key>`, for a Complete activity's
/// message (`(unknown)` if the variable was changed since).
pub(crate) fn started_policy(run: &Run<'_, '_>, key: &str) -> String {
    run.variables()
        .get(key)
        .and_then(|h| h.get("policyName"))
        .and_then(Value::as_str)
        .unwrap_or("(unknown)")
        .to_string()
}

/// The session a Start activity wrote under `processvar.<key>`: its ID and store.
pub(crate) fn started_session(
    run: &Run<'_, '_>,
    key: &str,
    start_name: &str,
) -> Flow<(String, String)> {
    let held = run.variables().get(key);
    let field = |name: &str| {
        held.and_then(|h| h.get(name))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    match (field("sessionId"), field("storeName")) {
        (Some(session_id), Some(store)) => Ok((session_id, store)),
        _ => Err(failed(format!(
            "{}: processvar.{key} holds no started session (no sessionId and storeName): \
             run {start_name} with the same key first",
            run.name()
        ))),
    }
}

/// Complete Passcode Renewal / Authentication before their transaction: the SRP keys of the
/// session the Start activity wrote under the key and the proof in the browser response,
/// computed outside the store's lock from a read outside any transaction
/// ([`ops::prepare_passcode_proof`]). `None` when anything is missing: `complete` then finds
/// out and answers as usual.
pub(crate) fn prepare(
    db: &Store,
    ctx: &ActivityContext<'_>,
    inputs: &Inputs,
    session: Session,
) -> Option<Prepared> {
    let key = match inputs.get(session.key_param())? {
        Value::String(key) => key,
        _ => return None,
    };
    let held = ctx.variables().get(key.as_str())?;
    let session_id = held.get("sessionId")?.as_str()?;
    let store = held.get("storeName")?.as_str()?;
    let answer = inputs.get(session.browser_param());
    let data = match session {
        Session::Registration => return None,
        Session::Renewal => {
            browser::renewal(answer, session.browser_param())
                .ok()?
                .srp_verification_data
        }
        Session::Authentication => {
            browser::authentication(answer, session.browser_param())
                .ok()?
                .srp_verification_data
        }
    };
    let prepared = ops::prepare_passcode_proof(db, ctx.tenant(), store, session_id, &data)?;
    Some(Box::new(prepared))
}

/// Complete Passcode Registration / Renewal / Authentication: reads the end user's answer from
/// the "... Browser Response" parameter and the session from `processvar.<key>.sessionId`, and
/// completes the session. Success appends a PASS check and writes `status: COMPLETED` and the
/// user (and, for renewal and authentication, the server's proof `m2`) under the key.
pub(crate) fn complete(run: &Run<'_, '_>, session: Session) -> Flow<ActivityResult> {
    let key = run.required_text(session.key_param())?;
    let (session_id, store) = started_session(run, &key, session.start_name())?;
    let answer = run.inputs.get(session.browser_param());
    let param = session.browser_param();
    let (tx, tenant, now) = (run.tx, run.tenant(), run.now_ms());
    let unusable = |code: RefusalCode, reason: String| {
        run.refused_at(Refusal::new(code, reason), Vec::new(), Some(&key))
    };
    let done = match session {
        Session::Registration => {
            let request = browser::registration(answer, param)
                .map_err(|r| unusable(RefusalCode::InvalidRegistrationData, r))?;
            ops::complete_passcode_registration(tx, tenant, &store, &session_id, &request, now)
                .map(|done| done.map(|envelope| (envelope.user, None)))
        }
        Session::Renewal => {
            let request = browser::renewal(answer, param).map_err(|problem| match problem {
                RenewalProblem::Registration(r) => {
                    unusable(RefusalCode::InvalidRegistrationData, r)
                }
                RenewalProblem::Verification(r) => unusable(RefusalCode::VerificationFailed, r),
            })?;
            ops::complete_passcode_renewal_prepared(
                tx,
                tenant,
                &store,
                &session_id,
                &request,
                now,
                run.ctx.prepared::<PreparedProof>(),
            )
            .map(|done| done.map(user_and_m2))
        }
        Session::Authentication => {
            let request = browser::authentication(answer, param)
                .map_err(|r| unusable(RefusalCode::VerificationFailed, r))?;
            ops::complete_passcode_authentication_prepared(
                tx,
                tenant,
                &store,
                &session_id,
                &request,
                now,
                run.ctx.prepared::<PreparedProof>(),
            )
            .map(|done| done.map(user_and_m2))
        }
    };
    let (user, m2) = match run.op(done)? {
        Ok(done) => done,
        Err(refusal) => return Err(run.refused_at(refusal, Vec::new(), Some(&key))),
    };
    let policy = started_policy(run, &key);
    let detail = match session {
        Session::Registration => format!(
            "passcode registered under policy {policy:?} for user {}",
            user.id
        ),
        Session::Renewal => format!(
            "passcode renewed under policy {policy:?} for user {}",
            user.id
        ),
        Session::Authentication => {
            format!(
                "passcode verified under policy {policy:?} for user {}",
                user.id
            )
        }
    };
    let mut writes = vec![
        put(&[&key, "status"], Value::String("COMPLETED".into())),
        put(&[&key, "user"], wire::to_value(&user)),
    ];
    if let Some(m2) = m2 {
        writes.push(put(&[&key, "m2"], Value::String(m2)));
    }
    Ok(ActivityResult::Completed {
        writes,
        checks: vec![run.pass(detail)],
    })
}

/// Deregister Passcode: removes the user's passcode under the policy and stores the updated user
/// under the user key.
pub(crate) fn deregister(run: &Run<'_, '_>) -> Flow<ActivityResult> {
    let policy = run.required_text("Passcode Policy")?;
    let store = run.required_text("Store Name")?;
    let user_key = run.required_text("User Key")?;
    let (user, user_write) = run.resolve_user(&store)?;
    let done = ops::deregister_passcode(
        run.tx,
        run.tenant(),
        &store,
        UserRef::Id(&user.id),
        &policy,
        run.now_ms(),
    );
    match run.op(done)? {
        Ok(envelope) => Ok(ActivityResult::Completed {
            writes: vec![put(&[&user_key], wire::to_value(&envelope.user))],
            checks: Vec::new(),
        }),
        Err(refusal) => Err(run.refused(refusal, user_write.into_iter().collect())),
    }
}
