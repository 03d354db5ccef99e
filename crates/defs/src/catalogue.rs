//! The activity catalogue of product.md, declared once as data: every activity type, its typed
//! parameters (names and defaults as in the seeds), whether it is a step, and its error codes.
//!
//! The loader checks definitions against this table; the engine reads each activity's [`Role`]
//! (and names no activity); the activities crate implements one handler per entry. Adding an activity is
//! adding a row here and a handler there.

/// The type of a parameter's value once resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ParamType {
    String,
    Integer,
    Boolean,
    ListString,
}

impl ParamType {
    pub fn as_str(self) -> &'static str {
        match self {
            ParamType::String => "STRING",
            ParamType::Integer => "INTEGER",
            ParamType::Boolean => "BOOLEAN",
            ParamType::ListString => "LIST_STRING",
        }
    }
}

/// One input parameter of an activity.
#[derive(Debug)]
pub struct ParamSpec {
    /// The name exactly as in the seeds' tables ("Store Name", "User Key", ...).
    pub name: &'static str,
    /// Other names accepted in definition files for the same parameter (seed quirks).
    pub aliases: &'static [&'static str],
    pub ty: ParamType,
    pub required: bool,
    /// The default, as the text a designer would have typed (`user1`, `1`, `FAIL`).
    pub default: Option<&'static str>,
    /// What the parameter means, for designers (after the seeds' tables).
    pub description: &'static str,
}

/// Every activity type idflow runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ActivityType {
    AddUser,
    GetUser,
    StartPasscodeRegistration,
    PasscodeRegistrationForm,
    CompletePasscodeRegistration,
    StartPasscodeRenewal,
    PasscodeRenewalForm,
    CompletePasscodeRenewal,
    StartPasscodeAuthentication,
    PasscodeAuthenticationForm,
    CompletePasscodeAuthentication,
    DeregisterPasscode,
    StartTotpRegistration,
    TotpRegistrationForm,
    CompleteTotpRegistration,
    GetTotp,
    CustomDataForm,
    SimpleDecider,
}

/// What the engine does with an activity: the one place where the engine's behaviour depends on
/// an activity's type, so the engine names no activity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Runs, returns its result, and the flow goes on.
    Task,
    /// A task that decides the flow's outcome: it writes its decision at [`DECISION_VARIABLE`],
    /// and completing it starts a fresh path (an error boundary taken or a timer fired before it
    /// no longer decides the end status; its decision does, see [`DECISION_FAIL`]).
    Decider,
    /// The instance rests here until the end user answers.
    Step(StepSpec),
}

/// What the engine needs to know of a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StepSpec {
    /// The parameter whose value names where the answer is stored under `processvar`.
    pub answer_key: &'static str,
    /// The end user's answer holds secrets (SRP verifiers, proofs, TOTP codes) and is marked
    /// secret in the variables.
    pub secret_answer: bool,
}

/// Where a [`Role::Decider`] writes its decision: `processvar._decision`.
pub const DECISION_VARIABLE: &str = "_decision";

/// The decision that ends a flow `COMPLETED_ENDED_ERROR` at a plain end event.
pub const DECISION_FAIL: &str = "FAIL";

/// The parameter of the form steps that names where their answer is stored.
const FORM_DATA_KEY_PARAM: &str = "Form data Key";

const FORM_STEP: Role = Role::Step(StepSpec {
    answer_key: FORM_DATA_KEY_PARAM,
    secret_answer: false,
});

const FORM_STEP_SECRET_ANSWER: Role = Role::Step(StepSpec {
    answer_key: FORM_DATA_KEY_PARAM,
    secret_answer: true,
});

/// One row of the catalogue.
#[derive(Debug)]
pub struct ActivitySpec {
    pub ty: ActivityType,
    /// The value of `type="..."` in `<idflow:activity>`.
    pub key: &'static str,
    /// The name designers see ("Add User").
    pub name: &'static str,
    /// What the activity does, for designers.
    pub description: &'static str,
    /// What the engine does with it.
    pub role: Role,
    pub params: &'static [ParamSpec],
    /// The error codes it can raise to an error boundary.
    pub error_codes: &'static [&'static str],
}

impl ActivityType {
    pub const ALL: [ActivityType; 18] = [
        ActivityType::AddUser,
        ActivityType::GetUser,
        ActivityType::StartPasscodeRegistration,
        ActivityType::PasscodeRegistrationForm,
        ActivityType::CompletePasscodeRegistration,
        ActivityType::StartPasscodeRenewal,
        ActivityType::PasscodeRenewalForm,
        ActivityType::CompletePasscodeRenewal,
        ActivityType::StartPasscodeAuthentication,
        ActivityType::PasscodeAuthenticationForm,
        ActivityType::CompletePasscodeAuthentication,
        ActivityType::DeregisterPasscode,
        ActivityType::StartTotpRegistration,
        ActivityType::TotpRegistrationForm,
        ActivityType::CompleteTotpRegistration,
        ActivityType::GetTotp,
        ActivityType::CustomDataForm,
        ActivityType::SimpleDecider,
    ];

    pub fn spec(self) -> &'static ActivitySpec {
        // CATALOGUE is in the same order as the enum.
        &CATALOGUE[self as usize]
    }

    /// Looks an activity up by its `type="..."` key (exact match).
    pub fn from_key(key: &str) -> Option<ActivityType> {
        CATALOGUE.iter().find(|s| s.key == key).map(|s| s.ty)
    }

    pub fn key(self) -> &'static str {
        self.spec().key
    }
}

impl ActivitySpec {
    /// A step: the instance rests here until the end user answers.
    pub fn is_step(&self) -> bool {
        self.step().is_some()
    }

    /// What the engine needs to know of it, when it is a step.
    pub fn step(&self) -> Option<&StepSpec> {
        match &self.role {
            Role::Step(step) => Some(step),
            Role::Task | Role::Decider => None,
        }
    }

    /// The parameter with this name or alias.
    pub fn param(&self, name: &str) -> Option<&'static ParamSpec> {
        self.params
            .iter()
            .find(|p| p.name == name || p.aliases.contains(&name))
    }

    pub fn raises(&self, code: &str) -> bool {
        self.error_codes.contains(&code)
    }
}

/// Every activity, in [`ActivityType`] order.
pub fn catalogue() -> &'static [ActivitySpec] {
    &CATALOGUE
}

const fn p(
    name: &'static str,
    ty: ParamType,
    required: bool,
    default: Option<&'static str>,
    description: &'static str,
) -> ParamSpec {
    ParamSpec {
        name,
        aliases: &[],
        ty,
        required,
        default,
        description,
    }
}

use ParamType::{Integer, String as Str};

const STORE_NAME: ParamSpec = p(
    "Store Name",
    Str,
    true,
    None,
    "The Identity Store containing the policy and the user.",
);
const USER_EXTERNAL_ID: ParamSpec = p(
    "User External ID",
    Str,
    false,
    None,
    "If given, identifies the user by this external ID.",
);
const USER_ID: ParamSpec = p(
    "User ID",
    Str,
    false,
    None,
    "If given, identifies the user by this ID.",
);
const USER_KEY: ParamSpec = p(
    "User Key",
    Str,
    true,
    Some("user1"),
    "The reference key for the user in this flow: a user obtained earlier under this key is used; otherwise the user found by User ID or User External ID is stored under it.",
);
const FORM_NAME: ParamSpec = p(
    "Data form name",
    Str,
    true,
    None,
    "The custom form shown to the end user at this step.",
);
const FORM_VERSION: ParamSpec = p(
    "Data form version",
    Integer,
    true,
    Some("1"),
    "Which version of the custom form is shown.",
);
const FORM_DATA_KEY: &str =
    "A unique identifier of this form's data among the flow's custom forms.";
const STARTING_COMPONENT: &str = "The name of the step sent to the UI.";
const UI_COMPONENT: &str = "The name of the screen the UI uses.";

macro_rules! form_step_params {
    ($form_key:expr, $reg_param:expr, $reg_default:expr, $component:expr) => {
        &[
            FORM_NAME,
            FORM_VERSION,
            p(
                FORM_DATA_KEY_PARAM,
                Str,
                true,
                Some($form_key),
                FORM_DATA_KEY,
            ),
            p(
                $reg_param,
                Str,
                true,
                Some($reg_default),
                "The key of the attempt this form answers (as given to the Start activity).",
            ),
            p(
                "Starting Component ID",
                Str,
                true,
                Some($component),
                STARTING_COMPONENT,
            ),
            p("UI Component ID", Str, true, Some($component), UI_COMPONENT),
        ]
    };
}

static CATALOGUE: [ActivitySpec; 18] = [
    ActivitySpec {
        ty: ActivityType::AddUser,
        key: "addUser",
        name: "Add User",
        description: "Adds a user with an external ID to an Identity Store and keeps it under the User Key.",
        role: Role::Task,
        params: &[STORE_NAME, p("User External ID", Str, true, None, "The external ID of the new user (unique in the store)."), USER_KEY],
        error_codes: &["FAILED_TO_ADD_USER", "EXT_ID_NOT_UNIQUE"],
    },
    ActivitySpec {
        ty: ActivityType::GetUser,
        key: "getUser",
        name: "Get User",
        description: "Finds a user of an Identity Store by ID or external ID and keeps it under the User Key.",
        role: Role::Task,
        params: &[STORE_NAME, USER_EXTERNAL_ID, USER_ID, USER_KEY],
        error_codes: &["USER_NOT_FOUND"],
    },
    ActivitySpec {
        ty: ActivityType::StartPasscodeRegistration,
        key: "startPasscodeRegistration",
        name: "Start Passcode Registration",
        description: "Begins registering a passcode for a user: the policy's requirements and SRP parameters for the form.",
        role: Role::Task,
        params: &[
            p("Passcode Registration Key", Str, true, Some("passcodeReg1"), "The key of the passcode registration attempt."),
            p("Passcode Key", Str, true, None, "The passcode policy of the store that the passcode must follow."),
            STORE_NAME,
            USER_EXTERNAL_ID,
            USER_ID,
            USER_KEY,
        ],
        error_codes: &[
            "USER_NOT_FOUND",
            "POLICY_NOT_FOUND",
            "PASSCODE_ALREADY_REGISTERED",
        ],
    },
    ActivitySpec {
        ty: ActivityType::PasscodeRegistrationForm,
        key: "passcodeRegistrationForm",
        name: "Passcode Registration Form",
        description: "The step where the end user chooses a passcode; the browser sends only an SRP verifier.",
        role: FORM_STEP_SECRET_ANSWER,
        params: form_step_params!(
            "passcodeRegForm1",
            "Passcode Registration Key",
            "passcodeReg1",
            "passcode-registration"
        ),
        error_codes: &[],
    },
    ActivitySpec {
        ty: ActivityType::CompletePasscodeRegistration,
        key: "completePasscodeRegistration",
        name: "Complete Passcode Registration",
        description: "Stores the verifier the registration form sent and ends the attempt.",
        role: Role::Task,
        params: &[
            p("Passcode Registration Browser Response", Str, false, None, "The browser's answer to the registration form (the SRP verifier), usually <<processvar...>> of the form's data; absent: the form's answer in this flow."),
            p("Passcode Registration Key", Str, true, Some("passcodeReg1"), "The key of the passcode registration attempt."),
        ],
        error_codes: &[
            "INVALID_REGISTRATION_DATA",
            "SESSION_EXPIRED",
            "PASSCODE_IN_HISTORY",
        ],
    },
    ActivitySpec {
        ty: ActivityType::StartPasscodeRenewal,
        key: "startPasscodeRenewal",
        name: "Start Passcode Renewal",
        description: "Begins renewing a user's passcode: SRP parameters to prove the current one and the policy for the new one.",
        role: Role::Task,
        params: &[
            p("Passcode Policy", Str, true, None, "The passcode policy name."),
            p("Passcode Renewal Key", Str, true, Some("passcodeRenewal1"), "The key of the passcode renewal attempt."),
            STORE_NAME,
            USER_EXTERNAL_ID,
            USER_ID,
            USER_KEY,
        ],
        error_codes: &[
            "USER_NOT_FOUND",
            "POLICY_NOT_FOUND",
            "PASSCODE_NOT_REGISTERED",
            "USER_LOCKED",
        ],
    },
    ActivitySpec {
        ty: ActivityType::PasscodeRenewalForm,
        key: "passcodeRenewalForm",
        name: "Passcode Renewal Form",
        description: "The step where the end user proves the current passcode and chooses a new one.",
        role: FORM_STEP_SECRET_ANSWER,
        // The seeds name this form's key parameter "Passcode Authentication Key" (default
        // passcodeRenewal1); "Passcode Renewal Key" is accepted as the name a designer expects.
        params: &[
            FORM_NAME,
            FORM_VERSION,
            p(FORM_DATA_KEY_PARAM, Str, true, Some("passcodeRenewalForm1"), "A unique identifier of this form's data among the flow's custom forms."),
            ParamSpec {
                name: "Passcode Authentication Key",
                aliases: &["Passcode Renewal Key"],
                ty: Str,
                required: true,
                default: Some("passcodeRenewal1"),
                    description: "The key of the passcode renewal attempt this form answers.",
            },
            p("Starting Component ID", Str, true, Some("passcode-renewal"), "The name of the step sent to the UI."),
            p("UI Component ID", Str, true, Some("passcode-renewal"), "The name of the screen the UI uses."),
        ],
        error_codes: &[],
    },
    ActivitySpec {
        ty: ActivityType::CompletePasscodeRenewal,
        key: "completePasscodeRenewal",
        name: "Complete Passcode Renewal",
        description: "Checks the proof of the current passcode and stores the new verifier.",
        role: Role::Task,
        params: &[
            p("Passcode Renewal Browser Response", Str, false, None, "The browser's answer to the renewal form (proof of the current passcode and the new verifier); absent: the form's answer in this flow."),
            p("Passcode Renewal Key", Str, true, Some("passcodeRenewal1"), "The key of the passcode renewal attempt."),
            p("Starting Component ID", Str, true, Some("passcode-verify"), "The name of the step sent to the UI."),
            p("UI Component ID", Str, true, Some("renewal"), "The name of the screen the UI uses."),
        ],
        error_codes: &[
            "VERIFICATION_FAILED",
            "PASSCODE_IN_HISTORY",
            "USER_LOCKED",
            "SESSION_EXPIRED",
            "INVALID_REGISTRATION_DATA",
        ],
    },
    ActivitySpec {
        ty: ActivityType::StartPasscodeAuthentication,
        key: "startPasscodeAuthentication",
        name: "Start Passcode Authentication",
        description: "Begins a passcode authentication: the SRP challenge for the form.",
        role: Role::Task,
        params: &[
            p("Passcode Authentication Key", Str, true, Some("passcodeAuth1"), "The key of the passcode authentication attempt."),
            p("Passcode Key", Str, true, None, "The passcode policy of the store that the passcode must follow."),
            STORE_NAME,
            USER_EXTERNAL_ID,
            USER_ID,
            USER_KEY,
        ],
        error_codes: &[
            "USER_NOT_FOUND",
            "POLICY_NOT_FOUND",
            "PASSCODE_NOT_REGISTERED",
            "USER_LOCKED",
        ],
    },
    ActivitySpec {
        ty: ActivityType::PasscodeAuthenticationForm,
        key: "passcodeAuthenticationForm",
        name: "Passcode Authentication Form",
        description: "The step where the end user proves the passcode (SRP-6a; the passcode never leaves the device).",
        role: FORM_STEP_SECRET_ANSWER,
        params: form_step_params!(
            "passcodeAuthForm1",
            "Passcode Authentication Key",
            "passcodeAuth1",
            "passcode-authentication"
        ),
        error_codes: &[],
    },
    ActivitySpec {
        ty: ActivityType::CompletePasscodeAuthentication,
        key: "completePasscodeAuthentication",
        name: "Complete Passcode Authentication",
        description: "Checks the end user's proof and records a check in processvar._checks.",
        role: Role::Task,
        params: &[
            p("Passcode Authentication Browser Response", Str, false, None, "The browser's answer to the authentication form (the SRP proof); absent: the form's answer in this flow."),
            p("Passcode Authentication Key", Str, true, Some("passcodeAuth1"), "The key of the passcode authentication attempt."),
        ],
        error_codes: &[
            "VERIFICATION_FAILED",
            "USER_LOCKED",
            "PASSCODE_NOT_REGISTERED",
            "SESSION_EXPIRED",
        ],
    },
    ActivitySpec {
        ty: ActivityType::DeregisterPasscode,
        key: "deregisterPasscode",
        name: "Deregister Passcode",
        description: "Removes a user's passcode of a policy.",
        role: Role::Task,
        // The seeds give "passcodeAuth1" as this parameter's default.
        params: &[
            p("Passcode Policy", Str, true, Some("passcodeAuth1"), "The passcode policy name."),
            STORE_NAME,
            USER_EXTERNAL_ID,
            USER_ID,
            USER_KEY,
        ],
        error_codes: &["USER_NOT_FOUND", "PASSCODE_NOT_REGISTERED"],
    },
    ActivitySpec {
        ty: ActivityType::StartTotpRegistration,
        key: "startTotpRegistration",
        name: "Start TOTP Registration",
        description: "Creates a TOTP secret for a user and its QR code for the form.",
        role: Role::Task,
        params: &[
            p("TOTP Policy", Str, true, None, "The TOTP policy name."),
            p("TOTP Registration Key", Str, true, Some("totpReg1"), "The key of the TOTP registration attempt."),
            STORE_NAME,
            USER_EXTERNAL_ID,
            USER_ID,
            USER_KEY,
        ],
        error_codes: &[
            "USER_NOT_FOUND",
            "POLICY_NOT_FOUND",
            "TOTP_ALREADY_REGISTERED",
        ],
    },
    ActivitySpec {
        ty: ActivityType::TotpRegistrationForm,
        key: "totpRegistrationForm",
        name: "TOTP Registration Form",
        description: "The step where the end user scans the QR code and types the first code.",
        role: FORM_STEP_SECRET_ANSWER,
        params: form_step_params!(
            "totpRegForm1",
            "TOTP Registration Key",
            "totpReg1",
            "totp-registration"
        ),
        error_codes: &[],
    },
    ActivitySpec {
        ty: ActivityType::CompleteTotpRegistration,
        key: "completeTotpRegistration",
        name: "Complete TOTP Registration",
        description: "Checks the first code and registers the TOTP.",
        role: Role::Task,
        params: &[
            p("TOTP Registration Browser Response", Str, false, None, "The browser's answer to the TOTP form (the first code); absent: the form's answer in this flow."),
            p("TOTP Registration Key", Str, true, Some("totpReg1"), "The key of the TOTP registration attempt."),
        ],
        error_codes: &["INVALID_CODE", "SESSION_EXPIRED", "TOTP_ALREADY_REGISTERED"],
    },
    ActivitySpec {
        ty: ActivityType::GetTotp,
        key: "getTotp",
        name: "Get TOTP",
        description: "Reads a user's registered TOTP (QR code string and secret) into processvar._identityStore.currentTOTP.",
        role: Role::Task,
        params: &[
            STORE_NAME,
            p("TOTP Policy", Str, true, None, "The TOTP policy name."),
            USER_EXTERNAL_ID,
            USER_ID,
            USER_KEY,
        ],
        error_codes: &["USER_NOT_FOUND", "TOTP_NOT_REGISTERED"],
    },
    ActivitySpec {
        ty: ActivityType::CustomDataForm,
        key: "customDataForm",
        name: "Custom Data Form",
        description: "Shows a custom form to the end user and keeps the answer under the Form data Key.",
        role: FORM_STEP,
        params: &[
            FORM_NAME,
            FORM_VERSION,
            p(FORM_DATA_KEY_PARAM, Str, true, Some("customForm1"), "A unique identifier of this form's data among the flow's custom forms."),
            p("Starting Component ID", Str, true, Some("custom-data-form"), "The name of the step sent to the UI."),
            p("UI Component ID", Str, true, Some("custom-data-form"), "The name of the screen the UI uses."),
        ],
        error_codes: &[],
    },
    ActivitySpec {
        ty: ActivityType::SimpleDecider,
        key: "simpleDecider",
        name: "Simple Decider",
        description: "Decides PASS, FAIL or REVIEW from the flow's checks into processvar._decision.",
        role: Role::Decider,
        params: &[
            p("Decision on Any Failure", Str, true, Some("FAIL"), "The decision (PASS, FAIL or REVIEW) when any check of the flow failed."),
            p("Derive Decision From", Str, false, None, "When given, the decision itself (PASS, FAIL or REVIEW, often <<processvar...>>) instead of the checks."),
        ],
        error_codes: &[],
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_is_in_enum_order_and_keys_are_unique() {
        for (i, ty) in ActivityType::ALL.iter().enumerate() {
            assert_eq!(CATALOGUE[i].ty, *ty, "row {i} out of order");
            assert_eq!(ActivityType::from_key(ty.key()), Some(*ty));
        }
        let mut keys: Vec<_> = CATALOGUE.iter().map(|s| s.key).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), CATALOGUE.len());
    }

    #[test]
    fn defaults_follow_the_seeds() {
        let reg = ActivityType::StartPasscodeRegistration.spec();
        assert_eq!(
            reg.param("Passcode Registration Key").unwrap().default,
            Some("passcodeReg1")
        );
        assert_eq!(reg.param("User Key").unwrap().default, Some("user1"));
        let form = ActivityType::PasscodeRenewalForm.spec();
        assert_eq!(
            form.param("Passcode Renewal Key").unwrap().name,
            "Passcode Authentication Key"
        );
        assert_eq!(
            ActivityType::DeregisterPasscode
                .spec()
                .param("Passcode Policy")
                .unwrap()
                .default,
            Some("passcodeAuth1")
        );
        assert!(ActivityType::PasscodeRegistrationForm.spec().is_step());
        assert!(!ActivityType::SimpleDecider.spec().is_step());
    }

    #[test]
    fn every_step_stores_its_answer_under_a_required_text_parameter() {
        for spec in catalogue() {
            if let Some(step) = spec.step() {
                let param = spec.param(step.answer_key);
                assert!(
                    param.is_some_and(|p| p.required && p.ty == ParamType::String),
                    "{}: no required text parameter '{}'",
                    spec.name,
                    step.answer_key
                );
            }
        }
    }
}
