//! The activity catalogue of product.md, declared once as data: every activity type, its typed
//! parameters (names and defaults as in the seeds), whether it is a step, and its error codes.
//!
//! The loader checks definitions against this table; the engine reads `is_step` and
//! `secret_answer`; the activities crate implements one handler per entry. Adding an activity is
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

/// One row of the catalogue.
#[derive(Debug)]
pub struct ActivitySpec {
    pub ty: ActivityType,
    /// The value of `type="..."` in `<idflow:activity>`.
    pub key: &'static str,
    /// The name designers see ("Add User").
    pub name: &'static str,
    /// A step: the instance rests here until the end user answers.
    pub is_step: bool,
    /// The end user's answer to this step holds secrets (SRP verifiers, proofs, TOTP codes) and is
    /// marked secret in the variables.
    pub secret_answer: bool,
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
) -> ParamSpec {
    ParamSpec {
        name,
        aliases: &[],
        ty,
        required,
        default,
    }
}

use ParamType::{Integer, String as Str};

const STORE_NAME: ParamSpec = p("Store Name", Str, true, None);
const USER_EXTERNAL_ID: ParamSpec = p("User External ID", Str, false, None);
const USER_ID: ParamSpec = p("User ID", Str, false, None);
const USER_KEY: ParamSpec = p("User Key", Str, true, Some("user1"));
const FORM_NAME: ParamSpec = p("Data form name", Str, true, None);
const FORM_VERSION: ParamSpec = p("Data form version", Integer, true, Some("1"));

macro_rules! form_step_params {
    ($form_key:expr, $reg_param:expr, $reg_default:expr, $component:expr) => {
        &[
            FORM_NAME,
            FORM_VERSION,
            p("Form data Key", Str, true, Some($form_key)),
            p($reg_param, Str, true, Some($reg_default)),
            p("Starting Component ID", Str, true, Some($component)),
            p("UI Component ID", Str, true, Some($component)),
        ]
    };
}

static CATALOGUE: [ActivitySpec; 18] = [
    ActivitySpec {
        ty: ActivityType::AddUser,
        key: "addUser",
        name: "Add User",
        is_step: false,
        secret_answer: false,
        params: &[STORE_NAME, p("User External ID", Str, true, None), USER_KEY],
        error_codes: &["FAILED_TO_ADD_USER", "EXT_ID_NOT_UNIQUE"],
    },
    ActivitySpec {
        ty: ActivityType::GetUser,
        key: "getUser",
        name: "Get User",
        is_step: false,
        secret_answer: false,
        params: &[STORE_NAME, USER_EXTERNAL_ID, USER_ID, USER_KEY],
        error_codes: &["USER_NOT_FOUND"],
    },
    ActivitySpec {
        ty: ActivityType::StartPasscodeRegistration,
        key: "startPasscodeRegistration",
        name: "Start Passcode Registration",
        is_step: false,
        secret_answer: false,
        params: &[
            p("Passcode Registration Key", Str, true, Some("passcodeReg1")),
            p("Passcode Key", Str, true, None),
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
        is_step: true,
        secret_answer: true,
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
        is_step: false,
        secret_answer: false,
        params: &[
            p("Passcode Registration Browser Response", Str, false, None),
            p("Passcode Registration Key", Str, true, Some("passcodeReg1")),
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
        is_step: false,
        secret_answer: false,
        params: &[
            p("Passcode Policy", Str, true, None),
            p("Passcode Renewal Key", Str, true, Some("passcodeRenewal1")),
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
        is_step: true,
        secret_answer: true,
        // The seeds name this form's key parameter "Passcode Authentication Key" (default
        // passcodeRenewal1); "Passcode Renewal Key" is accepted as the name a designer expects.
        params: &[
            FORM_NAME,
            FORM_VERSION,
            p("Form data Key", Str, true, Some("passcodeRenewalForm1")),
            ParamSpec {
                name: "Passcode Authentication Key",
                aliases: &["Passcode Renewal Key"],
                ty: Str,
                required: true,
                default: Some("passcodeRenewal1"),
            },
            p("Starting Component ID", Str, true, Some("passcode-renewal")),
            p("UI Component ID", Str, true, Some("passcode-renewal")),
        ],
        error_codes: &[],
    },
    ActivitySpec {
        ty: ActivityType::CompletePasscodeRenewal,
        key: "completePasscodeRenewal",
        name: "Complete Passcode Renewal",
        is_step: false,
        secret_answer: false,
        params: &[
            p("Passcode Renewal Browser Response", Str, false, None),
            p("Passcode Renewal Key", Str, true, Some("passcodeRenewal1")),
            p("Starting Component ID", Str, true, Some("passcode-verify")),
            p("UI Component ID", Str, true, Some("renewal")),
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
        is_step: false,
        secret_answer: false,
        params: &[
            p(
                "Passcode Authentication Key",
                Str,
                true,
                Some("passcodeAuth1"),
            ),
            p("Passcode Key", Str, true, None),
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
        is_step: true,
        secret_answer: true,
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
        is_step: false,
        secret_answer: false,
        params: &[
            p("Passcode Authentication Browser Response", Str, false, None),
            p(
                "Passcode Authentication Key",
                Str,
                true,
                Some("passcodeAuth1"),
            ),
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
        is_step: false,
        secret_answer: false,
        // The seeds give "passcodeAuth1" as this parameter's default.
        params: &[
            p("Passcode Policy", Str, true, Some("passcodeAuth1")),
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
        is_step: false,
        secret_answer: false,
        params: &[
            p("TOTP Policy", Str, true, None),
            p("TOTP Registration Key", Str, true, Some("totpReg1")),
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
        is_step: true,
        secret_answer: true,
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
        is_step: false,
        secret_answer: false,
        params: &[
            p("TOTP Registration Browser Response", Str, false, None),
            p("TOTP Registration Key", Str, true, Some("totpReg1")),
        ],
        error_codes: &["INVALID_CODE", "SESSION_EXPIRED", "TOTP_ALREADY_REGISTERED"],
    },
    ActivitySpec {
        ty: ActivityType::GetTotp,
        key: "getTotp",
        name: "Get TOTP",
        is_step: false,
        secret_answer: false,
        params: &[
            STORE_NAME,
            p("TOTP Policy", Str, true, None),
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
        is_step: true,
        secret_answer: false,
        params: &[
            FORM_NAME,
            FORM_VERSION,
            p("Form data Key", Str, true, Some("customForm1")),
            p("Starting Component ID", Str, true, Some("custom-data-form")),
            p("UI Component ID", Str, true, Some("custom-data-form")),
        ],
        error_codes: &[],
    },
    ActivitySpec {
        ty: ActivityType::SimpleDecider,
        key: "simpleDecider",
        name: "Simple Decider",
        is_step: false,
        secret_answer: false,
        params: &[
            p("Decision on Any Failure", Str, true, Some("FAIL")),
            p("Derive Decision From", Str, false, None),
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
        assert!(ActivityType::PasscodeRegistrationForm.spec().is_step);
        assert!(!ActivityType::SimpleDecider.spec().is_step);
    }
}
