//! Instances: start (with a process token or directly), answer, cancel, read, list, history.
//!
//! One call is one *chain*: the input (a start, an answer, a timer, a cancel) is applied, each
//! `RunActivity` command is executed through the handler and fed back as `ActivityDone`, each
//! `PresentStep` is rendered, until the engine rests at a step or ends. The whole chain — engine
//! transitions, activity effects, instance state, history, timer index, token use — is written
//! in one store transaction (shared with concurrent chains, see the `chains` module), durable
//! before the call returns. Chains are described as data ([`ChainOp`]) and executed against the
//! state read inside the transaction, so of two racing answers to a step exactly one applies;
//! the other gets the engine's `StaleStep`.

use std::collections::{BTreeSet, VecDeque};
use std::fmt;
use std::sync::Arc;

use idflow_defs::{ActivityType, Definition, NodeKind};
use idflow_engine::redact::{canonical_json, masked_variables, redact_variables};
use idflow_engine::{
    apply, DefinitionRef, HistoryEvent, Input, Instance, InstanceError, Next, Status, StepSeed,
};
use idflow_expr::VarPath;
use idflow_ids::log_tag;
use idflow_store::{StoreError, Tx};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::chains::{Action, ChainOp, Outcome, PreparedWork, TokenUse, Written};
use crate::error::RuntimeError;
use crate::export::{ExportedDefinition, HistoryExport, HISTORY_FORMAT, HISTORY_VERSION};
use crate::handler::{ActivityContext, Prepared};
use crate::keys;
use crate::records::{
    activity_of, AnswerDigestRecord, HeldChunk, HistoryChunkRecord, InstanceHeader, InstanceMeta,
    InstanceRecord, PositionRecord, Prior, StepViewRecord, TokenIdRecord, TokenRecord,
};
use crate::runtime::Runtime;

/// A deployed definition version.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DefinitionKey {
    pub name: String,
    pub version: u32,
}

/// The step an instance rests at, with the view rendered for the end user.
#[derive(Clone, PartialEq)]
pub struct StepView {
    /// What the end user answers (`POST .../steps/{step_id}`); unique per presentation.
    pub step_id: String,
    /// The step's BPMN node ID.
    pub node: String,
    pub activity: ActivityType,
    /// The rendered view (a form may show a secret, such as a TOTP seed to enrol).
    pub view: Value,
}

impl fmt::Debug for StepView {
    // The view may carry a secret the end user must see; Debug does not. The step ID is what
    // answers the step: Debug shows its log tag.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StepView")
            .field("step_id", &log_tag(&self.step_id))
            .field("node", &self.node)
            .field("activity", &self.activity)
            .field("view", &"<not shown>")
            .finish()
    }
}

/// An instance as callers see it. `variables` holds real secret values (for the end user's
/// forms); API reads use [`Runtime::redacted_variables`].
#[derive(Clone, PartialEq)]
pub struct InstanceView {
    pub id: String,
    pub tenant: String,
    pub definition: DefinitionKey,
    /// The process token it was started with.
    pub token_name: Option<String>,
    pub status: Status,
    /// The end event's name (else ID) once ended.
    pub outcome: Option<String>,
    /// The error it ended with (`COMPLETED_PROCESS_ERROR`).
    pub error: Option<InstanceError>,
    /// The step it rests at, while `ACTIVE`.
    pub step: Option<StepView>,
    pub variables: Value,
    pub secret_paths: BTreeSet<VarPath>,
    pub started_at_ms: i64,
    pub updated_at_ms: i64,
}

impl InstanceView {
    fn from_record(
        id: &str,
        key: &[u8],
        record: InstanceRecord,
    ) -> Result<InstanceView, StoreError> {
        let status = record.status(key)?;
        let secret_paths = record.secret_path_set(key)?;
        let step = match record.step {
            Some(s) => Some(StepView {
                activity: activity_of(key, &s.activity)?,
                step_id: s.step_id,
                node: s.node,
                view: s.view,
            }),
            None => None,
        };
        Ok(InstanceView {
            id: id.to_string(),
            tenant: record.tenant,
            definition: DefinitionKey {
                name: record.definition,
                version: record.version,
            },
            token_name: record.token_name,
            status,
            outcome: record.outcome,
            error: record.error.as_ref().map(|e| e.to_engine()),
            step,
            variables: record.variables,
            secret_paths,
            started_at_ms: record.started_ms,
            updated_at_ms: record.updated_ms,
        })
    }
}

impl fmt::Debug for InstanceView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The ID is a capability (with the step ID it answers the step): its log tag only.
        f.debug_struct("InstanceView")
            .field("id", &log_tag(&self.id))
            .field("tenant", &self.tenant)
            .field("definition", &self.definition)
            .field("token_name", &self.token_name)
            .field("status", &self.status)
            .field("outcome", &self.outcome)
            .field("error", &self.error)
            .field("step", &self.step)
            .field(
                "variables",
                &masked_variables(&self.variables, &self.secret_paths),
            )
            .field("started_at_ms", &self.started_at_ms)
            .field("updated_at_ms", &self.updated_at_ms)
            .finish()
    }
}

/// One line of an instance listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceSummary {
    pub id: String,
    pub definition: DefinitionKey,
    pub token_name: Option<String>,
    pub status: Status,
    pub outcome: Option<String>,
    pub started_at_ms: i64,
    pub updated_at_ms: i64,
}

/// Which instances to list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceQuery {
    /// Only instances with this status.
    pub status: Option<Status>,
    /// Only instances of this definition name.
    pub definition: Option<String>,
    /// Only instances started at or after this time (Unix ms).
    pub started_after_ms: Option<i64>,
    /// Only instances started before this time (Unix ms).
    pub started_before_ms: Option<i64>,
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
    /// Page size (1 to [`MAX_PAGE`]).
    pub limit: usize,
}

impl Default for InstanceQuery {
    fn default() -> InstanceQuery {
        InstanceQuery {
            status: None,
            definition: None,
            started_after_ms: None,
            started_before_ms: None,
            after: None,
            limit: 50,
        }
    }
}

/// Largest page [`Runtime::list_instances`] answers.
pub const MAX_PAGE: usize = 1000;

/// A page of instances, oldest first; `next` continues after the last one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstancePage {
    pub items: Vec<InstanceSummary>,
    pub next: Option<String>,
    /// Instances in the scanned range whose stored record could not be read (left out).
    pub unreadable: usize,
}

impl Written {
    pub(crate) fn into_view(self) -> Result<InstanceView, RuntimeError> {
        let key = keys::instance(&self.id);
        Ok(InstanceView::from_record(&self.id, &key, self.record)?)
    }
}

/// What one chain did.
pub(crate) struct Driven {
    events: Vec<HistoryEvent>,
    /// The view of the step presented in this chain, if it is where the instance rests.
    step: Option<StepViewRecord>,
}

/// Hex of the first 16 bytes of SHA-256 over the canonical JSON of an answer.
fn answer_digest(data: &Value) -> String {
    let digest = Sha256::digest(canonical_json(data).as_bytes());
    data_encoding::HEXLOWER.encode(&digest[..16])
}

fn unknown_instance(id: &str) -> RuntimeError {
    RuntimeError::UnknownInstance { id: id.to_string() }
}

/// How much history (bytes of JSON) an instance record holds before it moves that history into
/// chunk keys of its own (`h/{id}/...`), in the transaction that crosses it. An instance that
/// lives long and changes often would otherwise rewrite its whole past on every transition; a
/// short flow (the benchmark's holds about 1.1 KB) never reaches it.
pub const HELD_HISTORY_BYTES: usize = 8 * 1024;

/// The active-index key instance `id` should have in the state `record`: keyed by its earliest
/// armed timer while it is active, none once it has ended (see the `keys` module).
pub(crate) fn active_key(id: &str, record: Option<&InstanceRecord>) -> Option<Vec<u8>> {
    let record = record.filter(|r| r.status == Status::Active.as_str())?;
    Some(keys::active(record.timers.iter().map(|t| t.due).min(), id))
}

impl Runtime {
    /// `view`'s variables with every secret replaced by its commitment marker
    /// (`secret:hmac-sha256:...`, keyed with this runtime's marker key), as history and API
    /// reads show them.
    pub fn redacted_variables(&self, view: &InstanceView) -> Value {
        redact_variables(&view.variables, &view.secret_paths, &self.marker_key)
    }

    /// Starts an instance with the process token whose credential is `token_id`, consuming one
    /// use in the same transaction. Refused tokens answer [`RuntimeError::TokenRefused`].
    pub fn start(&self, token_id: &str) -> Result<InstanceView, RuntimeError> {
        if !idflow_ids::is_id(token_id) {
            return Err(RuntimeError::UnknownToken);
        }
        let entry = self
            .store
            .get_record::<TokenIdRecord>(&keys::token_by_id(token_id))?
            .ok_or(RuntimeError::UnknownToken)?;
        let token_key = keys::token(&entry.tenant, &entry.name);
        let token = self
            .store
            .get_record::<TokenRecord>(&token_key)?
            .filter(|t| t.id == token_id)
            .ok_or(RuntimeError::UnknownToken)?;
        let now = self.clock.now_ms();
        // Refused early without a transaction; the transaction checks again.
        if let Some(reason) = token.refusal(now) {
            return Err(RuntimeError::TokenRefused {
                name: token.name,
                reason,
            });
        }
        let (definition, version) = self.definition(
            &entry.tenant,
            &token.process_defn_name,
            token.process_defn_version,
        )?;
        let id = self.random.new_id();
        let ahead = self.work_ahead(&definition, &definition.start().id, &entry.tenant, &id, now);
        self.submit(ChainOp::Start {
            definition,
            meta: InstanceMeta {
                tenant: entry.tenant.clone(),
                definition: token.process_defn_name.clone(),
                version,
                token_name: Some(token.name.clone()),
                started_ms: now,
            },
            id,
            step_seed: self.seeds.step_seed(),
            parameters: token.parameters,
            token: Some(TokenUse {
                key: token_key,
                credential: token_id.to_string(),
            }),
            now,
            ahead,
        })
    }

    /// Starts an instance of `name` (the latest version when `version` is `None`) without a
    /// token: `parameters` (a JSON object) become `processvar.token`. For `idflow run`, tests
    /// and benchmarks.
    pub fn start_definition(
        &self,
        tenant: &str,
        name: &str,
        version: Option<u32>,
        parameters: Value,
    ) -> Result<InstanceView, RuntimeError> {
        if !parameters.is_object() {
            return Err(RuntimeError::ParametersNotObject);
        }
        let (definition, version) = self.definition(tenant, name, version)?;
        let now = self.clock.now_ms();
        let id = self.random.new_id();
        let ahead = self.work_ahead(&definition, &definition.start().id, tenant, &id, now);
        self.submit(ChainOp::Start {
            definition,
            meta: InstanceMeta {
                tenant: tenant.to_string(),
                definition: name.to_string(),
                version,
                token_name: None,
                started_ms: now,
            },
            id,
            step_seed: self.seeds.step_seed(),
            parameters,
            token: None,
            now,
            ahead,
        })
    }

    /// Answers step `step_id` of instance `instance_id` with the end user's `data` (a JSON
    /// object). A step that is no longer current is the engine's `StaleStep`; the same answer
    /// (same step, same data) sent again is applied once and answered with the current view.
    pub fn answer(
        &self,
        instance_id: &str,
        step_id: &str,
        data: Value,
    ) -> Result<InstanceView, RuntimeError> {
        let digest = answer_digest(&data);
        let (mut op, outside) = self.advance_op_at(
            instance_id,
            Action::Answer {
                step_id: step_id.to_string(),
                data,
                digest,
            },
        )?;
        if let PositionRecord::AtStep { node, step_id: at } = &outside.position {
            self.rehearse(&mut op, node);
            // An answer to another step is refused (or a repeat): nothing to work ahead for.
            if let ChainOp::Advance {
                id,
                definition,
                now,
                ahead,
                ..
            } = &mut op
            {
                if at == step_id {
                    *ahead = self.work_ahead(definition, node, &outside.tenant, id, *now);
                }
            }
        }
        self.submit(op)
    }

    /// Before a chain's transaction: when an activity the handler works ahead for can be
    /// reached from node `from` (the start event, or the step being answered) without passing
    /// a step, asks the handler for that work now, on this thread, with no lock held (see the
    /// handler module). The walk follows every flow a gateway might take and stops at steps
    /// (where the chain rests) and ends. It does not follow error boundaries: a path that only
    /// an activity's error leads to (the registration flow's renewal of an already registered
    /// passcode) would otherwise cost the work on every chain, and there the activity does it
    /// inside the transaction as before. One piece of work is asked for, which the chain hands
    /// to the first activity of that kind it runs; a gateway branch not taken wastes it,
    /// outside the lock.
    fn work_ahead(
        &self,
        definition: &Definition,
        from: &str,
        tenant: &str,
        id: &str,
        now: i64,
    ) -> Option<Prepared> {
        let handler = &self.handler;
        let mut seen: Vec<&str> = vec![from];
        let mut queue: VecDeque<&str> = VecDeque::new();
        queue.push_back(from);
        while let Some(at) = queue.pop_front() {
            for target in definition.outgoing(at).map(|flow| flow.target.as_str()) {
                if seen.contains(&target) {
                    continue;
                }
                seen.push(target);
                let Some(node) = definition.node(target) else {
                    continue;
                };
                match &node.kind {
                    NodeKind::Activity(a) if a.spec().is_step() => {}
                    NodeKind::Activity(a) if handler.works_ahead(a.activity_type) => {
                        let variables = Value::Null;
                        let ctx = ActivityContext {
                            tenant,
                            instance_id: id,
                            node: &node.id,
                            step_id: None,
                            now_ms: now,
                            variables: &variables,
                            random: &self.random,
                            prepared: None,
                            ahead: None,
                        };
                        return handler.work_ahead(&ctx, a.activity_type);
                    }
                    NodeKind::EndEvent => {}
                    _ => queue.push_back(target),
                }
            }
        }
        None
    }

    /// Before an answer's transaction: when the step the instance was at (`at`) leads straight
    /// to an activity the handler prepares, applies the answer with the engine to a copy of the instance read outside any
    /// transaction and, if the first thing it leads to is such an activity, lets the handler do
    /// that activity's expensive work now, on this thread, with no lock held (see the handler
    /// module). Anything unexpected (the instance moved on, a record that does not read) just
    /// leaves the work to the transaction.
    fn rehearse(&self, op: &mut ChainOp, at: &str) {
        let ChainOp::Advance {
            id,
            definition,
            action: Action::Answer { step_id, data, .. },
            now,
            prepared,
            ..
        } = op
        else {
            return;
        };
        let handler = &self.handler;
        let wanted = definition.outgoing(at).any(|flow| {
            matches!(
                definition.node(&flow.target).map(|n| &n.kind),
                Some(idflow_defs::NodeKind::Activity(a)) if handler.prepares(a.activity_type)
            )
        });
        if !wanted {
            return;
        }
        let key = keys::instance(id);
        let Ok(Some(record)) = self.store.get_record::<InstanceRecord>(&key) else {
            return;
        };
        let meta = record.meta();
        let Ok((mut instance, _)) = record.into_engine(id, &key) else {
            return;
        };
        let input = Input::Answer {
            step_id: step_id.clone(),
            data: data.clone(),
            now_ms: *now,
        };
        let Ok(transition) = apply(
            definition,
            &mut instance,
            input,
            &self.limits,
            &self.marker_key,
        ) else {
            return;
        };
        let Next::RunActivity {
            node,
            activity,
            inputs,
        } = transition.next
        else {
            return;
        };
        if !handler.prepares(activity) {
            return;
        }
        let ctx = ActivityContext {
            tenant: &meta.tenant,
            instance_id: &instance.id,
            node: &node,
            step_id: None,
            now_ms: *now,
            variables: &instance.variables,
            random: &self.random,
            prepared: None,
            ahead: None,
        };
        if let Some(work) = handler.prepare(&self.store, &ctx, activity, &inputs) {
            *prepared = Some(PreparedWork {
                node: node.to_string(),
                work,
            });
        }
    }

    /// Cancels an active instance: it ends `COMPLETED_TERMINATED`, its timers disarmed.
    pub fn cancel(&self, instance_id: &str, reason: &str) -> Result<InstanceView, RuntimeError> {
        let op = self.advance_op(
            instance_id,
            Action::Cancel {
                reason: reason.to_string(),
            },
        )?;
        self.submit(op)
    }

    /// The chain that feeds `action` to an existing instance, with its definition resolved.
    pub(crate) fn advance_op(
        &self,
        instance_id: &str,
        action: Action,
    ) -> Result<ChainOp, RuntimeError> {
        self.advance_op_at(instance_id, action).map(|(op, _)| op)
    }

    /// [`Runtime::advance_op`], with the instance's header (tenant, position) as it was read.
    fn advance_op_at(
        &self,
        instance_id: &str,
        action: Action,
    ) -> Result<(ChainOp, InstanceHeader), RuntimeError> {
        if !idflow_ids::is_id(instance_id) {
            return Err(unknown_instance(instance_id));
        }
        let outside = self
            .store
            .get_record::<InstanceHeader>(&keys::instance(instance_id))?
            .ok_or_else(|| unknown_instance(instance_id))?;
        // An instance never changes definition, so resolving it outside the transaction is safe.
        let (definition, _) =
            self.definition(&outside.tenant, &outside.definition, Some(outside.version))?;
        let op = ChainOp::Advance {
            id: instance_id.to_string(),
            definition,
            action,
            now: self.clock.now_ms(),
            prepared: None,
            ahead: None,
        };
        Ok((op, outside))
    }

    /// Runs one chain inside `tx`. An expected refusal (see [`RuntimeError::is_failure`]) is
    /// returned before anything was written, so a refused chain can share a transaction with
    /// others (see the `chains` module).
    pub(crate) fn execute(&self, tx: &Tx<'_>, op: &ChainOp) -> Result<Written, RuntimeError> {
        match op {
            ChainOp::Start {
                definition,
                meta,
                id,
                step_seed,
                parameters,
                token,
                now,
                ahead,
            } => {
                let consumed = match token {
                    None => None,
                    Some(token_use) => {
                        let record = tx
                            .get_record::<TokenRecord>(&token_use.key)?
                            .filter(|t| t.id == token_use.credential)
                            .ok_or(RuntimeError::UnknownToken)?;
                        if let Some(reason) = record.refusal(*now) {
                            return Err(RuntimeError::TokenRefused {
                                name: record.name,
                                reason,
                            });
                        }
                        Some((token_use, record))
                    }
                };
                let parameters = consumed
                    .as_ref()
                    .map_or_else(|| parameters.clone(), |(_, t)| t.parameters.clone());
                let view = self.start_in(
                    tx,
                    definition,
                    meta,
                    id,
                    *step_seed,
                    parameters,
                    *now,
                    ahead.as_ref(),
                )?;
                if let Some((token_use, mut record)) = consumed {
                    record.uses += 1;
                    tx.put_record(&token_use.key, &record)?;
                }
                Ok(view)
            }
            ChainOp::Advance {
                id,
                definition,
                action,
                now,
                prepared,
                ahead,
            } => {
                let key = keys::instance(id);
                let record = tx
                    .get_record::<InstanceRecord>(&key)?
                    .ok_or_else(|| unknown_instance(id))?;
                if let Action::Answer {
                    step_id, digest, ..
                } = action
                {
                    let at_that_step = matches!(
                        &record.position,
                        PositionRecord::AtStep { step_id: current, .. } if current == step_id
                    );
                    let duplicate = !at_that_step
                        && record
                            .last_answer
                            .as_ref()
                            .is_some_and(|a| a.step_id == *step_id && a.digest == *digest);
                    if duplicate {
                        return Ok(Written {
                            id: id.clone(),
                            record,
                        });
                    }
                }
                let meta = record.meta();
                let mut record = record;
                let held = std::mem::take(&mut record.history);
                let (mut instance, prior) = record.into_engine(id, &key)?;
                let (input, answered) = match action {
                    Action::Answer {
                        step_id,
                        data,
                        digest,
                    } => (
                        Input::Answer {
                            step_id: step_id.clone(),
                            data: data.clone(),
                            now_ms: *now,
                        },
                        Some(AnswerDigestRecord {
                            step_id: step_id.clone(),
                            digest: digest.clone(),
                        }),
                    ),
                    Action::Cancel { reason } => (
                        Input::Cancel {
                            reason: reason.clone(),
                            now_ms: *now,
                        },
                        None,
                    ),
                    Action::Abort { node, message } => (
                        Input::Abort {
                            node: node.clone(),
                            message: message.clone(),
                            now_ms: *now,
                        },
                        None,
                    ),
                };
                let driven = self.drive(
                    tx,
                    definition,
                    &meta,
                    &mut instance,
                    input,
                    *now,
                    prepared.as_ref(),
                    ahead.as_ref(),
                )?;
                let last_answer = answered.or_else(|| prior.last_answer.clone());
                let written = self.persist(
                    tx,
                    &key,
                    Some(&prior),
                    held,
                    instance,
                    &meta,
                    driven,
                    *now,
                    last_answer,
                )?;
                Ok(Written {
                    id: id.clone(),
                    record: written,
                })
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn start_in(
        &self,
        tx: &Tx<'_>,
        definition: &Definition,
        meta: &InstanceMeta,
        id: &str,
        step_seed: StepSeed,
        parameters: Value,
        now: i64,
        ahead: Option<&Prepared>,
    ) -> Result<Written, RuntimeError> {
        let key = keys::instance(id);
        // 128 bits from the OS-seeded source do not collide; a fixed seed (tests, dry runs)
        // repeats its IDs on every run, so only then is the store asked (a lookup per start).
        if self.random.is_seeded() && tx.contains(&key)? {
            return Err(RuntimeError::Inconsistent(format!(
                "instance ID {} is already taken: a fixed random seed repeats IDs across runs on one store",
                log_tag(id)
            )));
        }
        let mut instance = Instance::new(id);
        let input = Input::Start {
            definition: DefinitionRef {
                name: meta.definition.clone(),
                version: meta.version,
                content_hash: definition.content_hash.clone(),
            },
            token_name: meta.token_name.clone(),
            token: parameters,
            step_seed: Some(step_seed),
            now_ms: now,
        };
        let driven = self.drive(tx, definition, meta, &mut instance, input, now, None, ahead)?;
        tx.insert(&keys::tenant_instance(&meta.tenant, now, id), Vec::new())?;
        let record = self.persist(
            tx,
            &key,
            None,
            Vec::new(),
            instance,
            meta,
            driven,
            now,
            None,
        )?;
        Ok(Written {
            id: id.to_string(),
            record,
        })
    }

    /// Runs one chain from `input` until the instance rests or ends. Any engine refusal of the
    /// first input aborts the transaction (nothing changes); a refusal of a follow-up input is a
    /// broken engine contract. `prepared` goes to the first activity run, if it is its node;
    /// `ahead` to the first activity run that the handler works ahead for.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn drive(
        &self,
        tx: &Tx<'_>,
        definition: &Definition,
        meta: &InstanceMeta,
        instance: &mut Instance,
        input: Input,
        now: i64,
        prepared: Option<&PreparedWork>,
        ahead: Option<&Prepared>,
    ) -> Result<Driven, RuntimeError> {
        let mut prepared = prepared;
        let mut ahead = ahead;
        let mut events = Vec::new();
        let mut input = input;
        let mut applied = 0usize;
        let step = loop {
            applied += 1;
            if applied > self.limits.max_steps_per_apply {
                // A cycle of activities without a step would never rest: stop it as an error.
                let node = match &input {
                    Input::ActivityDone { node, .. } => Some(node.to_string()),
                    _ => None,
                };
                input = Input::Abort {
                    node,
                    message: format!(
                        "more than {} activities ran without reaching a step or an end",
                        self.limits.max_steps_per_apply
                    ),
                    now_ms: now,
                };
            }
            let first = applied == 1;
            let transition = apply(definition, instance, input, &self.limits, &self.marker_key)
                .map_err(|e| {
                    if first {
                        RuntimeError::Engine(e)
                    } else {
                        RuntimeError::Inconsistent(format!(
                            "the engine refused the runtime's follow-up input: {e}"
                        ))
                    }
                })?;
            events.extend(transition.events);
            let ctx = |node, step_id| ActivityContext {
                tenant: &meta.tenant,
                instance_id: &instance.id,
                node,
                step_id,
                now_ms: now,
                variables: &instance.variables,
                random: &self.random,
                prepared: None,
                ahead: None,
            };
            // Armed timers are indexed from the state after the chain (see `persist`).
            input = match transition.next {
                Next::RunActivity {
                    node,
                    activity,
                    inputs,
                } => {
                    let mut activity_ctx = ctx(&node, None);
                    // Only the first activity of the chain was rehearsed.
                    activity_ctx.prepared = prepared
                        .take()
                        .filter(|p| p.node == node)
                        .map(|p| &*p.work as &(dyn std::any::Any + Send));
                    // Handed to one activity only: it may hold secrets drawn for one use.
                    if self.handler.works_ahead(activity) {
                        activity_ctx.ahead =
                            ahead.take().map(|w| &**w as &(dyn std::any::Any + Send));
                    }
                    let result = self.handler.run(tx, &activity_ctx, activity, &inputs)?;
                    Input::ActivityDone {
                        node,
                        result,
                        now_ms: now,
                    }
                }
                Next::PresentStep {
                    node,
                    step_id,
                    activity,
                    inputs,
                } => {
                    let step = ctx(&node, Some(&step_id));
                    match self.handler.render_step(tx, &step, activity, &inputs)? {
                        Ok(view) => {
                            break Some(StepViewRecord {
                                step_id,
                                node: node.to_string(),
                                activity: activity.key().to_string(),
                                view,
                            })
                        }
                        Err(message) => Input::Abort {
                            node: Some(node.to_string()),
                            message,
                            now_ms: now,
                        },
                    }
                }
                Next::Ended { .. } => break None,
            };
        };
        Ok(Driven { events, step })
    }

    /// Writes the outcome of a chain: timer index changes, the active and ended indexes, and
    /// the instance record holding its history (`held`, the chunks the record held before, and
    /// this chain's events as one more): one value per transition.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn persist(
        &self,
        tx: &Tx<'_>,
        key: &[u8],
        before: Option<&Prior>,
        held: Vec<HeldChunk>,
        instance: Instance,
        meta: &InstanceMeta,
        driven: Driven,
        now: i64,
        last_answer: Option<AnswerDigestRecord>,
    ) -> Result<InstanceRecord, RuntimeError> {
        let id = instance.id.clone();
        let expected_first = before.map_or(0, |b| b.next_event);
        let mut history = held;
        if let Some(chunk) = HistoryChunkRecord::new(driven.events) {
            let last = chunk.events.last().map_or(chunk.first, |e| e.index);
            if chunk.first != expected_first || last + 1 != instance.next_event {
                return Err(RuntimeError::Inconsistent(format!(
                    "history of instance {} would not be contiguous: events {}..={last} after {expected_first}, next {}",
                    log_tag(&id),
                    chunk.first, instance.next_event
                )));
            }
            history.push(HeldChunk::new(&chunk, key)?);
        }
        if history.iter().map(HeldChunk::len).sum::<usize>() > HELD_HISTORY_BYTES {
            // The record is rewritten whole on every transition: a long history moves to keys of
            // its own, which readers take before what the record holds.
            for held in history.drain(..) {
                let chunk = held.chunk(key)?;
                tx.put_record(&keys::history_chunk(&id, chunk.first), &chunk)?;
            }
        }
        // The step view stays while the instance rests at the same step (a cancelled timer
        // or a no-op does not re-render it).
        let step = driven.step.or_else(|| {
            before
                .and_then(|b| b.step.clone())
                .filter(|s| instance.current_step() == Some(s.step_id.as_str()))
        });
        let mut record = InstanceRecord::from_engine_owned(instance, meta, now, step, last_answer);
        record.history = history;

        let old_index = before
            .filter(|b| b.active)
            .map(|b| keys::active(b.earliest_due, &id));
        let new_index = active_key(&id, Some(&record));
        if old_index != new_index {
            if let Some(old) = &old_index {
                tx.remove(old)?;
            }
            if let Some(new) = &new_index {
                tx.insert(new, Vec::new())?;
            }
        }
        let was_active = before.is_none_or(|b| b.active);
        if was_active && new_index.is_none() {
            // It ended in this chain: from now on the retention purge may reach it.
            tx.insert(
                &keys::ended(&record.tenant, record.updated_ms, &id),
                Vec::new(),
            )?;
        }
        crate::statistics::count_chain(tx, self.statistics_shard, before, &record)?;
        tx.put_record(key, &record)?;
        Ok(record)
    }

    /// The instance `id` as it is now.
    pub fn instance(&self, id: &str) -> Result<InstanceView, RuntimeError> {
        if !idflow_ids::is_id(id) {
            return Err(unknown_instance(id));
        }
        let key = keys::instance(id);
        let record = self
            .store
            .get_record::<InstanceRecord>(&key)?
            .ok_or_else(|| unknown_instance(id))?;
        Ok(InstanceView::from_record(id, &key, record)?)
    }

    /// Every history event of instance `id`, in order (values already redacted).
    pub fn history(&self, id: &str) -> Result<Vec<HistoryEvent>, RuntimeError> {
        let record = self.instance_record(id)?;
        let mut events = Vec::with_capacity(usize::try_from(record.next_event).unwrap_or(0));
        for chunk in self.history_chunks(id, &record)? {
            let expected = events.len() as u64;
            if chunk.first != expected {
                return Err(RuntimeError::Inconsistent(format!(
                    "history of instance {} has a gap: chunk starts at {} after {expected} events",
                    log_tag(id),
                    chunk.first
                )));
            }
            events.extend(chunk.events);
        }
        if events.len() as u64 != record.next_event {
            return Err(RuntimeError::Inconsistent(format!(
                "instance {} counts {} history events, {} are stored",
                log_tag(id),
                record.next_event,
                events.len()
            )));
        }
        Ok(events)
    }

    /// Every history chunk of instance `id` (whose record is `record`), in order: those under
    /// `h/{id}/...` keys (written before instance records held their history), then those the
    /// record holds.
    fn history_chunks(
        &self,
        id: &str,
        record: &InstanceRecord,
    ) -> Result<Vec<HistoryChunkRecord>, RuntimeError> {
        let mut chunks = Vec::new();
        for chunk in self
            .store
            .scan_records::<HistoryChunkRecord>(&keys::history_of(id))
        {
            chunks.push(chunk?.1);
        }
        let key = keys::instance(id);
        for held in &record.history {
            chunks.push(held.chunk(&key)?);
        }
        Ok(chunks)
    }

    /// The instance's history in the documented export format (see the `records` module), with
    /// the BPMN file of the definition version it ran embedded, so the export replays on its own.
    /// Values are already redacted: an export never holds a secret.
    pub fn export_history(&self, id: &str) -> Result<HistoryExport, RuntimeError> {
        let record = self.instance_record(id)?;
        let mut events = Vec::new();
        for chunk in self.history_chunks(id, &record)? {
            events.extend(chunk.exported());
        }
        let info = self.deployment_info(&record.tenant, &record.definition, record.version)?;
        let source = self.definition_source(&record.tenant, &record.definition, record.version)?;
        Ok(HistoryExport {
            format: HISTORY_FORMAT.to_string(),
            version: HISTORY_VERSION,
            instance: id.to_string(),
            tenant: record.tenant,
            events,
            definition: Some(ExportedDefinition::new(
                &info.name,
                info.version,
                &info.content_hash,
                &source,
            )),
        })
    }

    /// The IDs of every instance, of one tenant or of all, in key order (a full scan: for tools
    /// such as `idflow history export`, which read a data directory without resuming it: a
    /// tenant's instances still listed in the text layout, which resume would move, come after
    /// those in the compact one).
    pub fn instance_ids(&self, tenant: Option<&str>) -> Result<Vec<String>, RuntimeError> {
        let mut ids = Vec::new();
        let Some(tenant) = tenant else {
            for row in self.store.scan_prefix(&keys::instance_records()) {
                let (key, _) = row?;
                let id = String::from_utf8(idflow_store::last_segment(&key)).map_err(|_| {
                    RuntimeError::Store(StoreError::Corrupt {
                        key: idflow_store::render_key(&key),
                        reason: "instance ID is not UTF-8".to_string(),
                    })
                })?;
                ids.push(id);
            }
            return Ok(ids);
        };
        for row in self.store.scan_prefix(&keys::instances_of_tenant(tenant)) {
            let (key, _) = row?;
            ids.push(listed_id(&key)?.1);
        }
        for row in self
            .store
            .scan_prefix(&keys::text::instances_of_tenant(tenant))
        {
            let (key, _) = row?;
            let (_, _, id) = keys::text::parse_tenant_entry("it", &key).map_err(|why| {
                RuntimeError::Store(StoreError::Corrupt {
                    key: idflow_store::render_key(&key),
                    reason: format!("not a listing key of the text layout: {why}"),
                })
            })?;
            ids.push(id);
        }
        Ok(ids)
    }

    fn instance_record(&self, id: &str) -> Result<InstanceRecord, RuntimeError> {
        if !idflow_ids::is_id(id) {
            return Err(unknown_instance(id));
        }
        self.store
            .get_record::<InstanceRecord>(&keys::instance(id))?
            .ok_or_else(|| unknown_instance(id))
    }

    /// A page of `tenant`'s instances, oldest first. Pass the answer's `next` as `after` for the
    /// following page.
    pub fn list_instances(
        &self,
        tenant: &str,
        query: &InstanceQuery,
    ) -> Result<InstancePage, RuntimeError> {
        if query.limit == 0 || query.limit > MAX_PAGE {
            return Err(RuntimeError::InvalidQuery(format!(
                "limit must be 1 to {MAX_PAGE}, not {}",
                query.limit
            )));
        }
        let prefix = keys::instances_of_tenant(tenant);
        let mut start = match &query.after {
            None => prefix.clone(),
            Some(cursor) => {
                let (started, id) = parse_cursor(cursor)?;
                let mut k = keys::tenant_instance(tenant, started, id);
                // Strictly after the cursor's own key.
                k.push(0);
                k
            }
        };
        // The listing is ordered by start time: a lower bound is a seek, an upper bound the end.
        if let Some(from) = query.started_after_ms {
            let seek = keys::tenant_instances_from(tenant, from);
            if seek > start {
                start = seek;
            }
        }
        let before = query.started_before_ms;
        let mut items = Vec::new();
        let mut unreadable = 0;
        let mut last_cursor = None;
        let batch = query.limit.max(64);
        'scan: loop {
            let rows = self.store.scan_from(&prefix, &start, batch)?;
            let exhausted = rows.len() < batch;
            for (key, _) in &rows {
                let (_, id) = listed_id(key)?;
                let record_key = keys::instance(&id);
                let readable = self
                    .store
                    .get_record::<InstanceRecord>(&record_key)
                    .and_then(|record| {
                        let status = record.as_ref().map(|r| r.status(&record_key)).transpose()?;
                        Ok(record.zip(status))
                    });
                let (record, status) = match readable {
                    Ok(Some(pair)) => pair,
                    Ok(None) => {
                        return Err(RuntimeError::Inconsistent(
                            "the tenant index names an instance that does not exist".to_string(),
                        ))
                    }
                    // One unreadable record must not hide the others: it is counted, not listed.
                    Err(StoreError::Corrupt { .. } | StoreError::UnsupportedVersion { .. }) => {
                        unreadable += 1;
                        continue;
                    }
                    Err(e) => return Err(e.into()),
                };
                if before.is_some_and(|b| record.started_ms >= b) {
                    // Everything further started later still.
                    return Ok(InstancePage {
                        items,
                        next: None,
                        unreadable,
                    });
                }
                let wanted = query.status.is_none_or(|s| s == status)
                    && query
                        .definition
                        .as_ref()
                        .is_none_or(|d| *d == record.definition);
                if wanted {
                    if items.len() == query.limit {
                        break 'scan;
                    }
                    last_cursor = Some(format!("{:016x}{id}", record.started_ms.max(0)));
                    items.push(InstanceSummary {
                        id,
                        definition: DefinitionKey {
                            name: record.definition.clone(),
                            version: record.version,
                        },
                        token_name: record.token_name.clone(),
                        status,
                        outcome: record.outcome.clone(),
                        started_at_ms: record.started_ms,
                        updated_at_ms: record.updated_ms,
                    });
                }
            }
            match rows.last() {
                Some((key, _)) if !exhausted => {
                    start = key.clone();
                    start.push(0);
                }
                _ => {
                    // Nothing further: no next page.
                    return Ok(InstancePage {
                        items,
                        next: None,
                        unreadable,
                    });
                }
            }
        }
        Ok(InstancePage {
            items,
            next: last_cursor,
            unreadable,
        })
    }

    /// The parsed definition an instance runs.
    pub(crate) fn definition_of(
        &self,
        record: &InstanceRecord,
    ) -> Result<Arc<Definition>, RuntimeError> {
        Ok(self
            .definition(&record.tenant, &record.definition, Some(record.version))?
            .0)
    }
}

/// The start time and instance ID a listing key holds.
fn listed_id(key: &[u8]) -> Result<(i64, String), RuntimeError> {
    let (_, started, id) = keys::parse_tenant_instance(key).ok_or_else(|| {
        RuntimeError::Store(StoreError::Corrupt {
            key: keys::render(key),
            reason: "not a listing key".to_string(),
        })
    })?;
    Ok((started, id))
}

fn parse_cursor(cursor: &str) -> Result<(i64, &str), RuntimeError> {
    let bad = || {
        RuntimeError::InvalidQuery(format!(
            "`after` is not a cursor from this listing: {cursor:?}"
        ))
    };
    let (hex, id) = (
        cursor.get(..16).ok_or_else(bad)?,
        cursor.get(16..).ok_or_else(bad)?,
    );
    let started = i64::from_str_radix(hex, 16).map_err(|_| bad())?;
    if !idflow_ids::is_id(id) {
        return Err(bad());
    }
    Ok((started, id))
}

impl Runtime {
    /// Runs `op` as one durable chain, possibly in a transaction shared with concurrent chains.
    pub(crate) fn submit(&self, op: ChainOp) -> Result<InstanceView, RuntimeError> {
        self.chains.run(op, |ops| self.run_batch(ops))?.into_view()
    }

    /// Runs a batch of chains in one transaction and one flush; on a failure, each chain alone.
    fn run_batch(&self, ops: &[ChainOp]) -> Vec<Outcome> {
        if let [op] = ops {
            return vec![self.commit(|tx| self.execute(tx, op))];
        }
        let applied = self.store.transact(|tx| {
            let mut outcomes = Vec::with_capacity(ops.len());
            for op in ops {
                match self.execute(tx, op) {
                    Ok(written) => outcomes.push(Ok(written)),
                    Err(refusal) if !refusal.is_failure() => outcomes.push(Err(refusal)),
                    Err(failure) => return Err(failure),
                }
            }
            Ok(outcomes)
        });
        match applied {
            Ok(outcomes) => match self.wait_durable() {
                Ok(()) => outcomes,
                Err(e) => {
                    let reason = e.to_string();
                    ops.iter()
                        .map(|_| Err(RuntimeError::Store(StoreError::Io(reason.clone()))))
                        .collect()
                }
            },
            Err(failure) => {
                tracing::warn!(error = %failure, chains = ops.len(), "batch failed; running its chains one by one");
                ops.iter()
                    .map(|op| self.commit(|tx| self.execute(tx, op)))
                    .collect()
            }
        }
    }
}
