//! The engine's public vocabulary: instance state, inputs, what the outside must do next, and
//! history events.
//!
//! These are core types: they carry no serde derives. The runtime keeps its own persisted record
//! types and converts (see the runtime crate's `records` module), so the engine can change its
//! internals without breaking stored data.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;

use idflow_defs::{ActivityType, Id};
use idflow_expr::VarPath;
use serde_json::Value;

/// The lifecycle status of an instance (product.md, "Instance statuses").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// Running or resting at a step.
    Active,
    CompletedEndedSuccess,
    /// An end reached through an error path, an error end event, or a FAIL decision.
    CompletedEndedError,
    /// A step timed out or the instance was cancelled.
    CompletedTerminated,
    /// An unhandled error.
    CompletedProcessError,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::Active,
        Status::CompletedEndedSuccess,
        Status::CompletedEndedError,
        Status::CompletedTerminated,
        Status::CompletedProcessError,
    ];

    /// The status as product.md and the API spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "ACTIVE",
            Status::CompletedEndedSuccess => "COMPLETED_ENDED_SUCCESS",
            Status::CompletedEndedError => "COMPLETED_ENDED_ERROR",
            Status::CompletedTerminated => "COMPLETED_TERMINATED",
            Status::CompletedProcessError => "COMPLETED_PROCESS_ERROR",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|st| st.as_str() == s)
    }

    pub fn is_completed(self) -> bool {
        self != Status::Active
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where an instance is in its life, with exactly what each stage has: the armed timers only
/// while it rests at a step, the path mark only once it has started, the outcome or error only
/// once it has ended (and which of them by [`Ending`]). The status is not stored beside it but
/// read from it ([`Lifecycle::status`]), so an instance cannot be `ACTIVE` and ended, hold timers
/// away from a step, or carry an error it did not end with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lifecycle {
    /// Created, `Input::Start` not yet applied.
    NotStarted,
    /// Waiting for the result of the activity at `node` (`Next::RunActivity` was returned).
    AwaitingActivity { node: Id, path_mark: PathMark },
    /// Resting at a step until the end user answers `step_id` or one of its `timers` fires.
    AtStep {
        node: Id,
        step_id: String,
        /// The timers armed by the step's timer boundary events (`Next` does not carry them: the
        /// outside schedules them from here, also after a restart).
        timers: Vec<ArmedTimer>,
        path_mark: PathMark,
    },
    /// Finished. `path_mark` is the mark the walk ended with (what decided a plain end event's
    /// status); nothing reads it afterwards, it is kept so an ended instance's state says what
    /// it always said.
    Ended { ending: Ending, path_mark: PathMark },
}

/// How an instance ended: its completed status with exactly what that status has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// `COMPLETED_ENDED_SUCCESS`, at the end event named `outcome` (else its ID).
    EndedSuccess { outcome: String },
    /// `COMPLETED_ENDED_ERROR`, at the end event named `outcome`: an error end, an error path,
    /// or a FAIL decision.
    EndedError { outcome: String },
    /// `COMPLETED_TERMINATED`: at the end event named `outcome` after a timer fired, or with no
    /// outcome when cancelled or when a fired timer had no outgoing flow.
    Terminated { outcome: Option<String> },
    /// `COMPLETED_PROCESS_ERROR`: an unhandled error, never at an end event.
    ProcessError { error: InstanceError },
}

impl Ending {
    /// The completed status (never [`Status::Active`]).
    pub fn status(&self) -> Status {
        match self {
            Ending::EndedSuccess { .. } => Status::CompletedEndedSuccess,
            Ending::EndedError { .. } => Status::CompletedEndedError,
            Ending::Terminated { .. } => Status::CompletedTerminated,
            Ending::ProcessError { .. } => Status::CompletedProcessError,
        }
    }

    /// The end event's name (else ID), when it ended at one.
    pub fn outcome(&self) -> Option<&str> {
        match self {
            Ending::EndedSuccess { outcome } | Ending::EndedError { outcome } => Some(outcome),
            Ending::Terminated { outcome } => outcome.as_deref(),
            Ending::ProcessError { .. } => None,
        }
    }

    /// The error, when it ended `COMPLETED_PROCESS_ERROR`.
    pub fn error(&self) -> Option<&InstanceError> {
        match self {
            Ending::ProcessError { error } => Some(error),
            _ => None,
        }
    }
}

impl Lifecycle {
    /// `ACTIVE` until ended, then the ending's status.
    pub fn status(&self) -> Status {
        match self {
            Lifecycle::Ended { ending, .. } => ending.status(),
            _ => Status::Active,
        }
    }

    /// The timers armed at the current step: none anywhere else.
    pub fn timers(&self) -> &[ArmedTimer] {
        match self {
            Lifecycle::AtStep { timers, .. } => timers,
            _ => &[],
        }
    }

    /// The path mark (`Normal` before the start).
    pub fn path_mark(&self) -> PathMark {
        match self {
            Lifecycle::NotStarted => PathMark::Normal,
            Lifecycle::AwaitingActivity { path_mark, .. }
            | Lifecycle::AtStep { path_mark, .. }
            | Lifecycle::Ended { path_mark, .. } => *path_mark,
        }
    }

    /// How it ended, once it has.
    pub fn ending(&self) -> Option<&Ending> {
        match self {
            Lifecycle::Ended { ending, .. } => Some(ending),
            _ => None,
        }
    }
}

/// A timer armed by a timer boundary event on the current step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArmedTimer {
    pub timer_id: String,
    /// The timer boundary event's ID.
    pub boundary: Id,
    /// When it is due (Unix ms): arm-time `now_ms` plus the boundary's duration.
    pub due_ms: i64,
}

/// The error an instance ended with (status `COMPLETED_PROCESS_ERROR`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceError {
    /// The node at fault, if any.
    pub node: Option<String>,
    pub message: String,
}

/// Drawn by the runtime when an instance starts (`Input::Start`), from which the engine derives
/// the IDs of the instance's steps ([`StepSeed::step_id`]): unguessable to anyone who has not
/// seen the seed or the step, yet reproduced exactly by a replay (the seed, with its kind, is
/// recorded in `InstanceStarted`). `Debug` does not show it: it predicts every step ID.
///
/// Two kinds, told apart by how they derive step IDs. New instances get [`StepSeed::Blake3`];
/// [`StepSeed::HmacSha256`] stays for instances and histories recorded before it, whose step IDs
/// must come out as recorded.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum StepSeed {
    /// 128 bits; a step ID is the first 128 bits of HMAC-SHA256(seed, `"step"` ‖ index as 8
    /// big-endian bytes).
    HmacSha256([u8; StepSeed::LEN]),
    /// 256 bits, a BLAKE3 key; a step ID is the first 128 bits of BLAKE3's keyed hash of
    /// `"step"` ‖ index as 8 big-endian bytes. BLAKE3's keyed mode is a PRF (a MAC) under a
    /// 256-bit key, at 128-bit security, so a step ID is unpredictable from other step IDs of the
    /// instance without the seed; it costs one compression instead of HMAC-SHA256's four.
    Blake3([u8; StepSeed::KEYED_LEN]),
}

impl StepSeed {
    /// Length of an [`StepSeed::HmacSha256`] seed, in bytes.
    pub const LEN: usize = 16;
    /// Length of a [`StepSeed::Blake3`] seed (a BLAKE3 key), in bytes.
    pub const KEYED_LEN: usize = 32;

    /// A seed of the kind recorded before [`StepSeed::Blake3`] existed.
    pub const fn from_bytes(bytes: [u8; StepSeed::LEN]) -> StepSeed {
        StepSeed::HmacSha256(bytes)
    }

    /// A seed of the kind new instances get.
    pub const fn keyed(key: [u8; StepSeed::KEYED_LEN]) -> StepSeed {
        StepSeed::Blake3(key)
    }

    /// The seed's bytes (16 or 32, by kind).
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            StepSeed::HmacSha256(bytes) => bytes,
            StepSeed::Blake3(key) => key,
        }
    }

    /// The ID of the step presented as event `index`, derived as the seed's kind says, written
    /// like the product's IDs (26 characters of RFC 4648 base32 without padding; URL-safe).
    /// Distinct events give distinct IDs, so a revisited step gets a fresh one.
    pub fn step_id(&self, index: u64) -> String {
        let mut message = [0u8; 12];
        message[..4].copy_from_slice(b"step");
        message[4..].copy_from_slice(&index.to_be_bytes());
        match self {
            StepSeed::HmacSha256(seed) => {
                use hmac::{Hmac, Mac};
                let mut block = [0u8; 64];
                block[..StepSeed::LEN].copy_from_slice(seed);
                // A key shorter than the block is zero-padded by HMAC itself: this is the same
                // MAC, through the constructor that cannot fail.
                let mut mac = <Hmac<sha2::Sha256> as hmac::digest::KeyInit>::new(&block.into());
                mac.update(&message);
                let digest = mac.finalize().into_bytes();
                data_encoding::BASE32_NOPAD.encode(&digest[..16])
            }
            StepSeed::Blake3(key) => {
                let digest = blake3::keyed_hash(key, &message);
                data_encoding::BASE32_NOPAD.encode(&digest.as_bytes()[..16])
            }
        }
    }
}

impl fmt::Debug for StepSeed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StepSeed::HmacSha256(_) => "StepSeed::HmacSha256(<redacted>)",
            StepSeed::Blake3(_) => "StepSeed::Blake3(<redacted>)",
        })
    }
}

/// An instance's whole state. Applying the same inputs to the same state gives the same result.
///
/// `Debug` shows the variables with their secrets masked (see [`crate::redact::masked_variables`]):
/// the real secret values live here but never reach a log line.
#[derive(Clone, PartialEq)]
pub struct Instance {
    pub id: String,
    /// Where step IDs come from, set by `Input::Start`. `None` only for instances (and histories)
    /// recorded before seeds existed, whose steps keep the guessable `{node}-{event index}` IDs so
    /// that they resume and replay as recorded.
    pub step_seed: Option<StepSeed>,
    /// The process variables: a JSON object, `processvar` in expressions. Holds real secret values
    /// (activities and forms need them); [`Instance::secret_paths`] says which.
    pub variables: Value,
    /// Variable paths whose values are secret: redacted in history and API reads.
    pub secret_paths: BTreeSet<VarPath>,
    /// Index of the next history event (= number of events so far).
    pub next_event: u64,
    /// Where it is: status, position, timers, path mark, outcome and error, in one value that
    /// cannot disagree with itself.
    pub lifecycle: Lifecycle,
}

/// Whether the path since the last decider ([`idflow_defs::Role::Decider`]) went through an
/// error boundary or a fired timer: decides between ENDED_SUCCESS, ENDED_ERROR and TERMINATED at
/// a plain end event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PathMark {
    #[default]
    Normal,
    ErrorPath,
    TimedOut,
}

impl Instance {
    /// A fresh instance, before `Input::Start`.
    pub fn new(id: impl Into<String>) -> Instance {
        Instance {
            id: id.into(),
            step_seed: None,
            variables: Value::Object(Default::default()),
            secret_paths: BTreeSet::new(),
            next_event: 0,
            lifecycle: Lifecycle::NotStarted,
        }
    }

    /// `ACTIVE` until ended ([`Lifecycle::status`]).
    pub fn status(&self) -> Status {
        self.lifecycle.status()
    }

    /// The current step's ID, when resting at one.
    pub fn current_step(&self) -> Option<&str> {
        match &self.lifecycle {
            Lifecycle::AtStep { step_id, .. } => Some(step_id),
            _ => None,
        }
    }

    /// The timers armed at the current step ([`Lifecycle::timers`]).
    pub fn timers(&self) -> &[ArmedTimer] {
        self.lifecycle.timers()
    }

    /// The end event's name (else ID), once ended at one ([`Ending::outcome`]).
    pub fn outcome(&self) -> Option<&str> {
        self.lifecycle.ending().and_then(Ending::outcome)
    }

    /// The error it ended with, if it ended `COMPLETED_PROCESS_ERROR` ([`Ending::error`]).
    pub fn error(&self) -> Option<&InstanceError> {
        self.lifecycle.ending().and_then(Ending::error)
    }

    /// The variables with every secret replaced by its commitment marker under `key`: what API
    /// reads and exports show.
    pub fn redacted_variables(&self, key: &crate::redact::MarkerKey) -> Value {
        crate::redact::redact_variables(&self.variables, &self.secret_paths, key)
    }
}

impl fmt::Debug for Instance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Instance")
            .field("id", &self.id)
            .field("step_seed", &self.step_seed)
            .field(
                "variables",
                &crate::redact::masked_variables(&self.variables, &self.secret_paths),
            )
            .field("secret_paths", &self.secret_paths)
            .field("next_event", &self.next_event)
            .field("lifecycle", &self.lifecycle)
            .finish()
    }
}

/// Which definition version an instance runs (recorded in the start event).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefinitionRef {
    pub name: String,
    pub version: u32,
    pub content_hash: String,
}

/// Something that happened outside, fed to [`apply`](crate::apply).
///
/// `Debug` shows an answer's field names only: a step's answer may hold secrets.
#[derive(Clone, PartialEq)]
pub enum Input {
    /// Start the instance: `token` (the process token's parameters, an object) is copied into
    /// `processvar.token`. `step_seed` is where its step IDs come from: the runtime draws a fresh
    /// one for every instance; `None` replays a history recorded before seeds existed.
    Start {
        definition: DefinitionRef,
        token_name: Option<String>,
        token: Value,
        step_seed: Option<StepSeed>,
        now_ms: i64,
    },
    /// The result of the activity the engine asked for.
    ActivityDone {
        node: Id,
        result: ActivityResult,
        now_ms: i64,
    },
    /// The end user's answer to the current step.
    Answer {
        step_id: String,
        data: Value,
        now_ms: i64,
    },
    /// A timer fell due.
    TimerFired { timer_id: String, now_ms: i64 },
    /// Stop the instance (ends `COMPLETED_TERMINATED`).
    Cancel { reason: String, now_ms: i64 },
    /// The outside could not do what `Next` asked (a step's form failed to render: a missing form
    /// variable, say): the instance ends `COMPLETED_PROCESS_ERROR` with this message.
    Abort {
        node: Option<String>,
        message: String,
        now_ms: i64,
    },
}

impl Input {
    pub fn now_ms(&self) -> i64 {
        match self {
            Input::Start { now_ms, .. }
            | Input::ActivityDone { now_ms, .. }
            | Input::Answer { now_ms, .. }
            | Input::TimerFired { now_ms, .. }
            | Input::Cancel { now_ms, .. }
            | Input::Abort { now_ms, .. } => *now_ms,
        }
    }
}

impl fmt::Debug for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Input::Start {
                definition,
                token_name,
                token,
                step_seed,
                now_ms,
            } => f
                .debug_struct("Start")
                .field("definition", definition)
                .field("token_name", token_name)
                .field("token", token)
                .field("step_seed", step_seed)
                .field("now_ms", now_ms)
                .finish(),
            Input::ActivityDone {
                node,
                result,
                now_ms,
            } => f
                .debug_struct("ActivityDone")
                .field("node", node)
                .field("result", result)
                .field("now_ms", now_ms)
                .finish(),
            Input::Answer {
                step_id,
                data,
                now_ms,
            } => f
                .debug_struct("Answer")
                .field("step_id", step_id)
                .field("data", &FieldNames(data))
                .field("now_ms", now_ms)
                .finish(),
            Input::TimerFired { timer_id, now_ms } => f
                .debug_struct("TimerFired")
                .field("timer_id", timer_id)
                .field("now_ms", now_ms)
                .finish(),
            Input::Cancel { reason, now_ms } => f
                .debug_struct("Cancel")
                .field("reason", reason)
                .field("now_ms", now_ms)
                .finish(),
            Input::Abort {
                node,
                message,
                now_ms,
            } => f
                .debug_struct("Abort")
                .field("node", node)
                .field("message", message)
                .field("now_ms", now_ms)
                .finish(),
        }
    }
}

/// Debug view of a value that may hold secrets: an object's keys, else only its JSON type.
struct FieldNames<'v>(&'v Value);

impl fmt::Debug for FieldNames<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Value::Object(map) => {
                let mut set = f.debug_set();
                for key in map.keys() {
                    set.entry(&format_args!("{key}: <elided>"));
                }
                set.finish()
            }
            Value::Null => f.write_str("null"),
            Value::Bool(_) => f.write_str("<boolean elided>"),
            Value::Number(_) => f.write_str("<number elided>"),
            Value::String(_) => f.write_str("<string elided>"),
            Value::Array(_) => f.write_str("<array elided>"),
        }
    }
}

/// A write into the process variables by an activity.
///
/// `Debug` elides the value of a secret write.
#[derive(Clone, PartialEq)]
pub struct VarWrite {
    pub path: VarPath,
    pub value: Value,
    /// Mark the written value secret (a TOTP seed, ...).
    pub secret: bool,
}

impl fmt::Debug for VarWrite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("VarWrite");
        s.field("path", &format_args!("{}", self.path));
        if self.secret {
            s.field("value", &format_args!("<secret elided>"));
        } else {
            s.field("value", &self.value);
        }
        s.field("secret", &self.secret).finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckResult {
    Pass,
    Fail,
}

impl CheckResult {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckResult::Pass => "PASS",
            CheckResult::Fail => "FAIL",
        }
    }
}

/// A check an activity verified, appended to `processvar._checks` as `{name, result, detail}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub name: String,
    pub result: CheckResult,
    pub detail: String,
}

/// What an activity did.
#[derive(Debug, Clone, PartialEq)]
pub enum ActivityResult {
    /// It succeeded; apply the writes and checks, take the normal outgoing flow.
    Completed {
        writes: Vec<VarWrite>,
        checks: Vec<Check>,
    },
    /// An expected failure with an error code (a wrong passcode, a taken external ID): the writes
    /// and checks are applied (typically a FAIL check), then an error boundary for `code` on the
    /// activity is taken; with none, the flow goes on along the normal outgoing flow.
    Refused {
        code: String,
        message: String,
        writes: Vec<VarWrite>,
        checks: Vec<Check>,
    },
    /// An unexpected failure: the instance ends `COMPLETED_PROCESS_ERROR`.
    Failed { message: String },
}

/// The activity's parameters, resolved against the variables and coerced to their catalogue types,
/// under the catalogue's canonical names. Optional parameters without a value are absent.
///
/// These are the real values (a browser response with its SRP proof, a TOTP seed), so `Debug`
/// shows the parameter names only; the history's copy is the redacted one. Each value is shared
/// (an `Arc`) with history's [`RecordedInputs`] when nothing in it is secret, and a constant
/// parameter's with the definition, rather than copied for each.
#[derive(Clone, PartialEq, Default)]
pub struct Inputs(pub Vec<(&'static str, Arc<Value>)>);

impl fmt::Debug for Inputs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut set = f.debug_set();
        for (name, _) in &self.0 {
            set.entry(&format_args!("{name}: <elided>"));
        }
        set.finish()
    }
}

impl Inputs {
    /// Inputs of these values (each in an `Arc` of its own).
    pub fn from_values(values: Vec<(&'static str, Value)>) -> Inputs {
        Inputs(
            values
                .into_iter()
                .map(|(name, value)| (name, Arc::new(value)))
                .collect(),
        )
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.iter().find(|(n, _)| *n == name).map(|(_, v)| &**v)
    }

    /// The parameter as a string, if present and a string.
    pub fn str(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(Value::as_str)
    }
}

/// An activity's parameters as history records them (redacted: a secret is its commitment
/// marker), by name in the order they were resolved; written out as one JSON object of those
/// names (the runtime's records and exports).
///
/// A list rather than a JSON object: the names are the catalogue's own (`&'static str`, borrowed)
/// when the engine resolved them, and a history read back gives them owned. Equality ignores the
/// order, as a JSON object's does, so a history recorded when the catalogue listed parameters
/// otherwise still compares equal.
#[derive(Debug, Clone, Default)]
pub struct RecordedInputs(pub Vec<(Cow<'static, str>, Arc<Value>)>);

impl RecordedInputs {
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| &**v)
    }

    /// As the JSON object history exports show (in order, the last of a name winning).
    pub fn to_json(&self) -> Value {
        Value::Object(
            self.0
                .iter()
                .map(|(n, v)| (n.to_string(), Value::clone(v)))
                .collect(),
        )
    }

    /// From the JSON object a history recorded; `None` when `value` is not an object.
    pub fn from_json(value: Value) -> Option<RecordedInputs> {
        match value {
            Value::Object(map) => Some(RecordedInputs(
                map.into_iter()
                    .map(|(n, v)| (Cow::Owned(n), Arc::new(v)))
                    .collect(),
            )),
            _ => None,
        }
    }
}

impl PartialEq for RecordedInputs {
    fn eq(&self, other: &RecordedInputs) -> bool {
        self.0.len() == other.0.len()
            && self
                .0
                .iter()
                .all(|(n, v)| other.get(n).is_some_and(|o| o == &**v))
    }
}

/// The one thing the outside must do after a transition: every transition ends in exactly one of
/// these, so the outside never has two things to do at once, nor nothing.
///
/// Timers are not in it: the timers armed on a step are part of the instance's state
/// ([`Instance::timers`], from which the outside schedules them, also after a restart), and the
/// history records their arming and cancelling (`TimerArmed`, `TimerCancelled`).
#[derive(Debug, Clone, PartialEq)]
pub enum Next {
    /// Execute this activity and feed back `Input::ActivityDone { node, .. }`.
    RunActivity {
        node: Id,
        activity: ActivityType,
        inputs: Inputs,
    },
    /// The instance now rests at this step (with its timers, if any, armed): show it to the end
    /// user, whose answer comes back as `Input::Answer { step_id, .. }`.
    PresentStep {
        node: Id,
        step_id: String,
        activity: ActivityType,
        inputs: Inputs,
    },
    /// The instance ended with this status.
    Ended { status: Status },
}

/// One entry of an instance's history. Values here are already redacted: secrets appear only as
/// commitment markers (see [`crate::redact`]), so histories can be exported as they are.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEvent {
    pub index: u64,
    pub at_ms: i64,
    pub kind: EventKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum EventKind {
    InstanceStarted {
        instance_id: String,
        definition: DefinitionRef,
        token_name: Option<String>,
        token: Value,
        /// The input's step seed, so a replay derives the same step IDs.
        step_seed: Option<StepSeed>,
    },
    NodeEntered {
        node: Id,
    },
    /// An exclusive gateway chose `flow` (the default flow when `by_default`).
    GatewayChose {
        gateway: Id,
        flow: Id,
        by_default: bool,
    },
    ActivityScheduled {
        node: Id,
        activity: ActivityType,
        inputs: RecordedInputs,
    },
    ActivityCompleted {
        node: Id,
        writes: Vec<RecordedWrite>,
        checks: Vec<Check>,
    },
    ActivityRefused {
        node: Id,
        code: String,
        message: String,
        writes: Vec<RecordedWrite>,
        checks: Vec<Check>,
    },
    ActivityFailed {
        node: Id,
        message: String,
    },
    BoundaryTaken {
        boundary: Id,
        attached_to: Id,
        code: Option<String>,
    },
    StepPresented {
        node: Id,
        step_id: String,
        inputs: RecordedInputs,
    },
    StepAnswered {
        step_id: String,
        data: Value,
    },
    TimerArmed {
        timer_id: String,
        boundary: Id,
        due_ms: i64,
    },
    TimerFired {
        timer_id: String,
    },
    TimerCancelled {
        timer_id: String,
    },
    Cancelled {
        reason: String,
    },
    /// The outside reported that it could not do what `Next` asked (`Input::Abort`).
    Aborted {
        node: Option<String>,
        message: String,
    },
    InstanceEnded {
        status: Status,
        outcome: Option<String>,
        error: Option<InstanceError>,
    },
}

/// A variable write as recorded in history (value redacted when secret).
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedWrite {
    pub path: VarPath,
    pub value: Value,
    pub secret: bool,
}

/// The result of [`apply`](crate::apply): what happened and what the outside must do next.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    pub events: Vec<HistoryEvent>,
    pub next: Next,
}

/// Limits the engine enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest serialized size of an instance's variables, in bytes.
    pub max_variables_bytes: usize,
    /// Most nodes visited in one `apply` (guards against a cycle with no step).
    pub max_steps_per_apply: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_variables_bytes: 256 * 1024,
            max_steps_per_apply: 10_000,
        }
    }
}

/// An input the engine refuses: the state is left exactly as it was. (Failures *inside* the
/// process, such as an unresolved variable, are not errors here: they end the instance
/// `COMPLETED_PROCESS_ERROR` and are recorded in history.)
///
/// Errors do not name the instance: the caller knows which one it applied the input to, and an
/// instance ID (with a step ID) is what lets an end user answer a step, so it must not reach the
/// logs these messages may be written to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    #[error("the instance is {status}, not active")]
    NotActive { status: Status },
    #[error("the instance has already started")]
    AlreadyStarted,
    #[error("the instance has not started")]
    NotStarted,
    /// `step_id` is the one the input named (not the current step's).
    #[error("step '{step_id}' is not the instance's current step")]
    StaleStep { step_id: String },
    #[error("the instance is not waiting for activity '{node}'")]
    UnexpectedActivityResult { node: String },
    #[error("timer '{timer_id}' is not armed on the instance")]
    UnknownTimer { timer_id: String },
    /// `size` is what the serialized variables would have been with the answer stored.
    #[error("the answer to step '{step_id}' would bring the process variables to {size} bytes, over the limit of {limit}")]
    AnswerTooLarge {
        step_id: String,
        size: usize,
        limit: usize,
    },
    #[error("the answer to step '{step_id}' must be a JSON object")]
    AnswerNotObject { step_id: String },
    #[error("definition '{name}' does not match the instance's recorded definition: {reason}")]
    DefinitionMismatch { name: String, reason: String },
}
