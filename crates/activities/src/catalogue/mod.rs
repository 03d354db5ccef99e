//! Every activity of the catalogue (`idflow_defs::catalogue`) as a real [`ActivityHandler`]:
//! [`Catalogue`] runs them against the identity core inside the runtime's transaction, so an
//! activity's identity writes and the instance's transition commit together.
//!
//! # Outputs
//!
//! | activity | writes |
//! |---|---|
//! | Add User, Get User | `processvar.<User Key>`: the user as the API shows it |
//! | any activity with user refs | `processvar.<User Key>` when it looked the user up (see below) |
//! | Start Passcode Registration / Renewal / Authentication | `processvar.<key>`: `passcodeRequirements`, `algorithmInfo` (with `serverPublicKey` for renewal and authentication), `sessionId`, plus `storeName`, `policyName`, `userId`, `status: STARTED` |
//! | Complete Passcode Registration / Renewal / Authentication | `processvar.<key>.status` (`COMPLETED`, or `FAILED` with `errorCode`), `.user`, and `.m2` (renewal, authentication) |
//! | Deregister Passcode | `processvar.<User Key>`: the updated user |
//! | Start TOTP Registration | `processvar.<key>`: `sessionId`, `qrCodeString`, `secret`, `issuer`, `algorithm`, `digits`, `period`, `qrCodeSvg`, plus `storeName`, `policyName`, `userId`, `status: STARTED` |
//! | Complete TOTP Registration | `processvar.<key>.status`, `.user` (as the passcode Complete activities) |
//! | Get TOTP | `processvar._identityStore.currentTOTP`: `qrCodeString`, `secret`, `issuer`, `algorithm`, `digits`, `period`, `qrCodeSvg` |
//! | Simple Decider | `processvar._decision`: `PASS`, `FAIL` or `REVIEW` |
//!
//! Values carrying a TOTP seed (`secret`, `qrCodeString`, `qrCodeSvg`) are written marked secret.
//! The form steps render views, see [`steps`](self::steps).
//!
//! # The user-reference rule
//!
//! If `processvar.<User Key>` already holds a user (an object with an `id`), that user is used.
//! Otherwise "User ID" is looked up, else "User External ID", and the user found is stored under
//! the user key for later activities. With none of them, the activity raises `USER_NOT_FOUND`
//! with a message saying which parameters were missing.
//!
//! # Error codes and checks
//!
//! An activity raises exactly its catalogue error codes, as `ActivityResult::Refused`. Identity
//! refusals the catalogue names differently are mapped (a used-up session is `SESSION_EXPIRED`;
//! a malformed SRP proof is `VERIFICATION_FAILED`; undecodable registration data is
//! `INVALID_REGISTRATION_DATA`; a disabled user is `USER_LOCKED`; a missing policy, for
//! Deregister Passcode and Get TOTP, is `PASSCODE_NOT_REGISTERED` / `TOTP_NOT_REGISTERED`; any
//! failure to add a user other than a taken external ID is `FAILED_TO_ADD_USER`). A refusal with
//! no catalogue code (a store that does not exist, say: a misconfigured flow) fails the instance
//! (`COMPLETED_PROCESS_ERROR`) with the identity's message.
//!
//! Only the activities that *verify* something record checks in `processvar._checks`: Complete
//! Passcode Registration, Renewal and Authentication and Complete TOTP Registration append
//! `{name, result: PASS, detail}` on success, and `{name, result: FAIL, detail: "<CODE>: ..."}`
//! on an expected verification failure (`VERIFICATION_FAILED`, `PASSCODE_IN_HISTORY`,
//! `INVALID_CODE`, `SESSION_EXPIRED`, `USER_LOCKED`, `INVALID_REGISTRATION_DATA`).
//!
//! Look-up and precondition refusals (`USER_NOT_FOUND`, `EXT_ID_NOT_UNIQUE`,
//! `FAILED_TO_ADD_USER`, `POLICY_NOT_FOUND`, `PASSCODE_ALREADY_REGISTERED`,
//! `PASSCODE_NOT_REGISTERED`, `TOTP_ALREADY_REGISTERED`, `TOTP_NOT_REGISTERED`, and a
//! `USER_LOCKED` raised by a Start activity) raise their code *without* a FAIL check: they are
//! routing facts, not failed verifications. The shipped registration flow routes
//! `EXT_ID_NOT_UNIQUE` from Add User to Get User and then succeeds; a FAIL check there would make
//! its Simple Decider fail a registration that worked.
//!
//! Store failures propagate as `Err` (the runtime aborts or retries the transaction); nothing an
//! end user sends can panic a handler: unusable answers are refusals naming the field at fault,
//! and messages never quote verifiers, proofs or codes.

mod browser;
mod common;
mod decider;
mod passcode;
pub mod steps;
mod totp;
mod users;

use idflow_defs::ActivityType;
use idflow_engine::{ActivityResult, Inputs};
use idflow_runtime::{ActivityContext, ActivityHandler, Prepared};
use idflow_store::{Store, StoreError, Tx};
use serde_json::Value;

use common::{finish, Run};
use passcode::Session;

/// The activity catalogue. Stateless: everything it reads and writes goes through the
/// transaction it is handed (identity records and deployed custom forms live in the same store
/// as the runtime's instances).
#[derive(Debug, Clone, Copy, Default)]
pub struct Catalogue;

impl Catalogue {
    pub fn new() -> Catalogue {
        Catalogue
    }
}

impl ActivityHandler for Catalogue {
    fn run(
        &self,
        tx: &Tx<'_>,
        ctx: &ActivityContext<'_>,
        activity: ActivityType,
        inputs: &Inputs,
    ) -> Result<ActivityResult, StoreError> {
        let run = Run {
            tx,
            ctx,
            activity,
            inputs,
        };
        finish(match activity {
            ActivityType::AddUser => users::add_user(&run),
            ActivityType::GetUser => users::get_user(&run),
            ActivityType::StartPasscodeRegistration => passcode::start(&run, Session::Registration),
            ActivityType::CompletePasscodeRegistration => {
                passcode::complete(&run, Session::Registration)
            }
            ActivityType::StartPasscodeRenewal => passcode::start(&run, Session::Renewal),
            ActivityType::CompletePasscodeRenewal => passcode::complete(&run, Session::Renewal),
            ActivityType::StartPasscodeAuthentication => {
                passcode::start(&run, Session::Authentication)
            }
            ActivityType::CompletePasscodeAuthentication => {
                passcode::complete(&run, Session::Authentication)
            }
            ActivityType::DeregisterPasscode => passcode::deregister(&run),
            ActivityType::StartTotpRegistration => totp::start_registration(&run),
            ActivityType::CompleteTotpRegistration => totp::complete_registration(&run),
            ActivityType::GetTotp => totp::get_totp(&run),
            ActivityType::SimpleDecider => decider::decide(&run),
            ActivityType::PasscodeRegistrationForm
            | ActivityType::PasscodeRenewalForm
            | ActivityType::PasscodeAuthenticationForm
            | ActivityType::TotpRegistrationForm
            | ActivityType::CustomDataForm => Ok(ActivityResult::Failed {
                message: format!(
                    "{} is a step: it is presented to the end user, not run",
                    activity.spec().name
                ),
            }),
        })
    }

    fn render_step(
        &self,
        tx: &Tx<'_>,
        ctx: &ActivityContext<'_>,
        activity: ActivityType,
        inputs: &Inputs,
    ) -> Result<Result<Value, String>, StoreError> {
        if !activity.spec().is_step() {
            return Ok(Err(format!(
                "{} is not a step and has no page to render",
                activity.spec().name
            )));
        }
        steps::render(tx, ctx.tenant(), ctx.variables(), activity, inputs)
    }

    /// The SRP proofs' exponentiations (`S = (A*v^u)^b`) of Complete Passcode Authentication
    /// and Renewal, done before their transaction so that they hold no lock.
    fn prepares(&self, activity: ActivityType) -> bool {
        matches!(
            activity,
            ActivityType::CompletePasscodeAuthentication | ActivityType::CompletePasscodeRenewal
        )
    }

    fn prepare(
        &self,
        store: &Store,
        ctx: &ActivityContext<'_>,
        activity: ActivityType,
        inputs: &Inputs,
    ) -> Option<Prepared> {
        match activity {
            ActivityType::CompletePasscodeAuthentication => {
                passcode::prepare(store, ctx, inputs, Session::Authentication)
            }
            ActivityType::CompletePasscodeRenewal => {
                passcode::prepare(store, ctx, inputs, Session::Renewal)
            }
            _ => None,
        }
    }

    /// The server's SRP ephemeral of Start Passcode Authentication and Renewal (`b` and `g^b`,
    /// the expensive half of the session's `B`), drawn and computed before the chain's
    /// transaction so that it holds no lock; inside, the activity computes only `k*v + g^b`.
    fn works_ahead(&self, activity: ActivityType) -> bool {
        matches!(
            activity,
            ActivityType::StartPasscodeAuthentication | ActivityType::StartPasscodeRenewal
        )
    }

    fn work_ahead(&self, ctx: &ActivityContext<'_>, activity: ActivityType) -> Option<Prepared> {
        if !self.works_ahead(activity) {
            return None;
        }
        Some(Box::new(passcode::entropy_ahead(ctx)))
    }
}
