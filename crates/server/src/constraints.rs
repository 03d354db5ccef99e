//! What the server accepts in each constrained value, declared once: a rule is both the check a
//! value passes when it is read and the schema `/openapi.json` shows for it.
//!
//! Path and query parameters are read into the types declared here ([`StoreName`], [`Version`],
//! [`UserPageLimit`], ...), so a value the document forbids is refused at the boundary with
//! `400 INVALID_PARAMETER` naming the parameter. Body fields use the same types in the documented
//! request shapes of `schema.rs`; there the domain crates, whose limits the rules are built from,
//! refuse with their own codes. Patterns are ECMA-262 (the JSON Schema dialect) and keep to the
//! subset Python and Rust's `regex` read the same way; a unit test checks each one against its
//! check.

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{json, Value};
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};

// -- text -----------------------------------------------------------------------------------------

/// A text value: its length in characters (Unicode scalar values, as JSON Schema counts them) and
/// what its characters may be.
pub struct Text {
    pub min_chars: usize,
    pub max_chars: usize,
    /// Says what `chars` checks, for the document (empty: any characters).
    pub pattern: &'static str,
    /// What is wrong with the characters of a value, if anything.
    pub chars: fn(&str) -> Option<String>,
}

impl Text {
    /// Whether `value` passes; the error names it as `what`.
    pub fn check(&self, what: &str, value: &str) -> Result<(), String> {
        let n = value.chars().count();
        if n == 0 && self.min_chars > 0 {
            return Err(format!("{what} is empty"));
        }
        if n < self.min_chars {
            return Err(format!(
                "{what} is {n} characters long; it must have at least {}",
                self.min_chars
            ));
        }
        if n > self.max_chars {
            return Err(format!(
                "{what} is {n} characters long; at most {} are allowed",
                self.max_chars
            ));
        }
        match (self.chars)(value) {
            Some(reason) => Err(format!("{what} {reason}")),
            None => Ok(()),
        }
    }

    pub fn schema(&self) -> Schema {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(self.min_chars))
            .max_length(Some(self.max_chars))
            .pattern((!self.pattern.is_empty()).then_some(self.pattern))
            .into()
    }
}

fn has_control(value: &str) -> bool {
    value.chars().any(char::is_control)
}

fn no_control(value: &str) -> Option<String> {
    has_control(value).then(|| "contains a control character".to_string())
}

fn no_control_nor(value: &str, forbidden: char) -> Option<String> {
    no_control(value).or_else(|| {
        value
            .contains(forbidden)
            .then(|| format!("contains '{forbidden}'"))
    })
}

fn not_blank(value: &str) -> Option<String> {
    no_control(value).or_else(|| {
        value
            .chars()
            .all(char::is_whitespace)
            .then(|| "is blank".to_string())
    })
}

fn an_id(value: &str) -> Option<String> {
    (!idflow_identity::is_id(value)).then(|| {
        format!(
            "is not an ID ({} base32 characters, A-Z and 2-7)",
            idflow_identity::ID_LENGTH
        )
    })
}

/// Any character but a control character.
const NO_CONTROL: &str = r"^[^\x00-\x1F\x7F-\x9F]*$";

/// Any character but a control character, and at least one that is not white space
/// (`char::is_whitespace`: the Unicode White_Space characters).
const NOT_BLANK: &str = r"^[^\x00-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00-\x1F\x7F-\x9F]*$";

/// An ID: 26 base32 characters whose last one carries 3 bits (the 2 padding bits are 0).
const ID: &str = "^[A-Z2-7]{25}[AEIMQUY4]$";

/// A tenant: a name without `#`, which separates the parts of a permission string.
pub const TENANT: Text = Text {
    min_chars: 1,
    max_chars: idflow_identity::policy::MAX_NAME_CHARS,
    pattern: r"^[^\x00-\x1F\x7F-\x9F#]*$",
    chars: |v| no_control_nor(v, '#'),
};

/// A store or policy name.
pub const NAME: Text = Text {
    min_chars: 1,
    max_chars: idflow_identity::policy::MAX_NAME_CHARS,
    pattern: NO_CONTROL,
    chars: no_control,
};

/// A TOTP issuer: a name without `:`, the Key URI's label separator.
pub const ISSUER: Text = Text {
    min_chars: 1,
    max_chars: idflow_identity::policy::MAX_NAME_CHARS,
    pattern: r"^[^\x00-\x1F\x7F-\x9F:]*$",
    chars: |v| no_control_nor(v, ':'),
};

/// A user's external ID.
pub const EXTERNAL_ID: Text = Text {
    min_chars: 1,
    max_chars: idflow_identity::ops::MAX_EXTERNAL_ID_CHARS,
    pattern: NOT_BLANK,
    chars: not_blank,
};

/// A user, session, instance or process token ID.
pub const AN_ID: Text = Text {
    min_chars: idflow_identity::ID_LENGTH,
    max_chars: idflow_identity::ID_LENGTH,
    pattern: ID,
    chars: an_id,
};

/// A definition's name: its BPMN process `id`.
pub const PROCESS_ID: Text = Text {
    min_chars: 1,
    max_chars: idflow_defs::MAX_PROCESS_ID_LEN,
    pattern: "^[A-Za-z_][A-Za-z0-9_.-]*$",
    chars: |v| {
        (!idflow_defs::is_valid_process_id(v)).then(|| {
            "must start with a letter or '_' and hold only ASCII letters, digits, '_', '-' and '.'"
                .to_string()
        })
    },
};

/// A custom form's name.
pub const FORM_NAME: Text = Text {
    min_chars: 1,
    max_chars: idflow_activities::forms::MAX_FORM_NAME_CHARS,
    pattern: idflow_activities::forms::NAME_PATTERN,
    chars: |v| idflow_activities::forms::check_form_name(v).err(),
};

/// A process token's name.
pub const TOKEN_NAME: Text = Text {
    min_chars: 1,
    max_chars: idflow_runtime::MAX_TOKEN_NAME_CHARS,
    pattern: NOT_BLANK,
    chars: not_blank,
};

/// A process token's description.
pub const TOKEN_DESCRIPTION: Text = Text {
    min_chars: 0,
    max_chars: idflow_runtime::MAX_TOKEN_TEXT_CHARS,
    pattern: "",
    chars: |_| None,
};

/// A process token's UI URL.
pub const TOKEN_UI_URL: Text = TOKEN_DESCRIPTION;

/// The display name of a tenant's branding.
pub const DISPLAY_NAME: Text = Text {
    min_chars: 1,
    max_chars: crate::branding::MAX_NAME_CHARS,
    pattern: NOT_BLANK,
    chars: not_blank,
};

/// A branding colour.
pub const COLOUR: Text = Text {
    min_chars: 7,
    max_chars: 7,
    pattern: "^#[0-9A-Fa-f]{6}$",
    chars: |v| crate::branding::rgb("colour", v).err(),
};

/// A branding logo: a `data:` URI of one of the image types, with canonical standard base64
/// (padded, unused bits 0), whole at most `MAX_LOGO_BYTES` long.
pub const LOGO: Text = Text {
    min_chars: 1,
    max_chars: crate::branding::MAX_LOGO_BYTES,
    pattern: r"^data:image/(png|jpeg|gif|webp|svg\+xml);base64,([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{4}|[A-Za-z0-9+/][AQgw]==|[A-Za-z0-9+/]{2}[AEIMQUYcgkosw048]=)$",
    chars: |v| crate::branding::check_logo(v).err(),
};

/// The file name a deployed definition's diagnostics are located in (empty: the default).
pub const FILE_NAME: Text = Text {
    min_chars: 0,
    max_chars: 255,
    pattern: NO_CONTROL,
    chars: no_control,
};

/// The cursor of an instance listing: the start time (16 hex digits) and the instance's ID.
pub const INSTANCE_CURSOR: Text = Text {
    min_chars: 16 + idflow_identity::ID_LENGTH,
    max_chars: 16 + idflow_identity::ID_LENGTH,
    pattern: "^[0-7][0-9a-f]{15}[A-Z2-7]{25}[AEIMQUY4]$",
    chars: |v| {
        let (time, id) = v.split_at_checked(16).unwrap_or((v, ""));
        let time_ok = time.len() == 16
            && time.starts_with(|c: char| ('0'..='7').contains(&c))
            && time
                .chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c));
        (!time_ok || !idflow_identity::is_id(id))
            .then(|| "is not the `next` of a previous page".to_string())
    },
};

/// A passcode rule's `pattern`: any text up to the limit (it must compile, which a schema cannot
/// say).
pub const REGEX_PATTERN: Text = Text {
    min_chars: 0,
    max_chars: idflow_identity::policy::MAX_PATTERN_CHARS,
    pattern: "",
    chars: |_| None,
};

/// A passcode rule's `error` message.
pub const REGEX_ERROR: Text = Text {
    min_chars: 0,
    max_chars: idflow_identity::policy::MAX_ERROR_CHARS,
    pattern: "",
    chars: |_| None,
};

/// Declares a text value type: read through `$rule` (the error names it `$label`), documented
/// with `$rule`'s schema, serialized as the plain string.
macro_rules! text_type {
    ($(#[$meta:meta])* $name:ident, $label:literal, $rule:expr) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&self.0, f)
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(value: String) -> Result<Self, String> {
                $rule.check($label, &value)?;
                Ok($name(value))
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $name::try_from(String::deserialize(d)?).map_err(serde::de::Error::custom)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                self.0.serialize(s)
            }
        }

        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                RefOr::T($rule.schema())
            }
        }

        impl ToSchema for $name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }
        }
    };
}

text_type!(
    /// `{tenantId}`.
    TenantId, "tenantId", TENANT
);
text_type!(
    /// An identity store's name.
    StoreName, "storeName", NAME
);
text_type!(
    /// A passcode or TOTP policy's name.
    PolicyName, "policyName", NAME
);
text_type!(
    /// A TOTP policy's issuer.
    Issuer, "issuer", ISSUER
);
text_type!(
    /// A user's ID.
    UserId, "userId", AN_ID
);
text_type!(
    /// A user's external ID.
    ExternalUserId, "extUserId", EXTERNAL_ID
);
text_type!(
    /// A registration, renewal or authentication session's ID.
    SessionId, "sessionId", AN_ID
);
text_type!(
    /// A process instance's ID.
    InstanceId, "instanceId", AN_ID
);
text_type!(
    /// A definition's name (its BPMN process `id`).
    DefinitionName, "definitionName", PROCESS_ID
);
text_type!(
    /// A custom form's name.
    FormName, "formName", FORM_NAME
);
text_type!(
    /// A process token's name.
    TokenName, "tokenName", TOKEN_NAME
);
text_type!(
    /// A process token's description.
    TokenDescription, "description", TOKEN_DESCRIPTION
);
text_type!(
    /// Where a process token's end user opens it.
    TokenUiUrl, "uiUrl", TOKEN_UI_URL
);
text_type!(
    /// The name shown on a tenant's pages.
    DisplayName, "displayName", DISPLAY_NAME
);
text_type!(
    /// A `#rrggbb` colour.
    Colour, "colour", COLOUR
);
text_type!(
    /// A logo `data:` URI.
    Logo, "logo", LOGO
);
text_type!(
    /// The file name of a deployed definition.
    FileName, "fileName", FILE_NAME
);
text_type!(
    /// A passcode rule's regular expression.
    RegexPattern, "pattern", REGEX_PATTERN
);
text_type!(
    /// A passcode rule's message.
    RegexError, "error", REGEX_ERROR
);
text_type!(
    /// Where an instance listing continues.
    InstanceCursor, "after", INSTANCE_CURSOR
);

// -- integers -------------------------------------------------------------------------------------

/// An integer value's range.
pub struct Int {
    pub min: u64,
    pub max: u64,
}

impl Int {
    pub fn check(&self, what: &str, value: u64) -> Result<(), String> {
        if value < self.min || value > self.max {
            return Err(format!(
                "{what} is {value}; it must be between {} and {}",
                self.min, self.max
            ));
        }
        Ok(())
    }

    pub fn schema(&self, format: KnownFormat) -> Schema {
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .format(Some(SchemaFormat::KnownFormat(format)))
            .minimum(Some(self.min))
            .maximum(Some(self.max))
            .into()
    }
}

/// Declares an integer value type of `$repr` in `$rule`'s range, like [`text_type`].
macro_rules! int_type {
    ($(#[$meta:meta])* $name:ident($repr:ty, $format:ident), $label:literal, $rule:expr) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name($repr);

        impl $name {
            pub fn get(self) -> $repr {
                self.0
            }
        }

        impl TryFrom<u64> for $name {
            type Error = String;
            fn try_from(value: u64) -> Result<Self, String> {
                let rule: Int = $rule;
                rule.check($label, value)?;
                <$repr>::try_from(value)
                    .map($name)
                    .map_err(|_| format!("{} is {value}; it is too large", $label))
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $name::try_from(u64::deserialize(d)?).map_err(serde::de::Error::custom)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                self.0.serialize(s)
            }
        }

        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                let rule: Int = $rule;
                RefOr::T(rule.schema(KnownFormat::$format))
            }
        }

        impl ToSchema for $name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }
        }
    };
}

use idflow_identity::policy as limits;

int_type!(
    /// A definition or form version: 1, 2, 3...
    Version(u32, Int64), "version", Int { min: 1, max: u32::MAX as u64 }
);
int_type!(
    /// Users per page.
    UserPageLimit(usize, Int32), "limit", Int { min: 1, max: idflow_identity::MAX_PAGE_SIZE as u64 }
);
int_type!(
    /// Instances per page.
    InstancePageLimit(usize, Int32), "limit", Int { min: 1, max: idflow_runtime::MAX_PAGE as u64 }
);
int_type!(
    /// `passcodeRequirements.minimumLength`.
    MinimumLength(u32, Int32), "minimumLength",
    Int { min: 1, max: limits::MAX_PASSCODE_LENGTH_LIMIT as u64 }
);
int_type!(
    /// `passcodeRequirements.maximumLength` (0: none) and the character counts.
    CharacterCount(u32, Int32), "count",
    Int { min: 0, max: limits::MAX_PASSCODE_LENGTH_LIMIT as u64 }
);
int_type!(
    /// `passcodeRequirements.characterVariety`: of the 4 classes, how many must be used.
    CharacterVariety(u32, Int32), "characterVariety", Int { min: 0, max: 4 }
);
int_type!(
    /// `passcodeRequirements.passcodeHistory`.
    PasscodeHistory(u32, Int32), "passcodeHistory", Int { min: 0, max: limits::MAX_HISTORY as u64 }
);
int_type!(
    /// `maxFailedAttempts` of a policy (0 never locks).
    MaxFailedAttempts(u32, Int32), "maxFailedAttempts",
    Int { min: 0, max: limits::MAX_FAILED_ATTEMPTS_LIMIT as u64 }
);
int_type!(
    /// `sessionLifetimeSeconds` of a policy.
    SessionLifetimeSeconds(u32, Int32), "sessionLifetimeSeconds",
    Int { min: 1, max: limits::MAX_SESSION_LIFETIME_SECONDS as u64 }
);
int_type!(
    /// `temporaryLockSeconds` of a passcode policy (0: locks until unlocked).
    TemporaryLockSeconds(u32, Int32), "temporaryLockSeconds",
    Int { min: 0, max: limits::MAX_TEMPORARY_LOCK_SECONDS as u64 }
);
int_type!(
    /// A TOTP policy's `period`, in seconds.
    TotpPeriod(u32, Int32), "period", Int { min: 1, max: limits::MAX_TOTP_PERIOD_SECONDS as u64 }
);
int_type!(
    /// A TOTP policy's `acceptedDriftSteps`.
    DriftSteps(u32, Int32), "acceptedDriftSteps",
    Int { min: 0, max: limits::MAX_TOTP_DRIFT_STEPS as u64 }
);
int_type!(
    /// Days a completed instance is kept.
    RetentionDays(u32, Int32), "completedInstanceDays",
    Int { min: 1, max: idflow_runtime::RetentionPolicy::MAX_DAYS as u64 }
);

/// The largest `maxUses`: JSON clients commonly read numbers as signed 64-bit.
pub const MAX_USES: u64 = i64::MAX as u64;

int_type!(
    /// A count-limited process token's `maxUses`.
    MaxUses(u64, Int64), "maxUses", Int { min: 1, max: MAX_USES }
);

// -- choices --------------------------------------------------------------------------------------

/// Declares a value type that is one of `$values` (strings or numbers), like [`text_type`].
macro_rules! choice_type {
    ($(#[$meta:meta])* $name:ident($repr:ty), $label:literal, $values:expr, $type:expr) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $name($repr);

        impl $name {
            pub fn get(&self) -> &$repr {
                &self.0
            }

            pub fn into_inner(self) -> $repr {
                self.0
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let value = <$repr>::deserialize(d)?;
                let allowed: Vec<Value> = $values.into_iter().map(|v| json!(v)).collect();
                if allowed.contains(&json!(value)) {
                    Ok($name(value))
                } else {
                    let listed: Vec<String> = allowed.iter().map(Value::to_string).collect();
                    Err(serde::de::Error::custom(format!(
                        "{} is {}; it must be one of {}",
                        $label,
                        json!(value),
                        listed.join(", ")
                    )))
                }
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                self.0.serialize(s)
            }
        }

        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                RefOr::T(
                    ObjectBuilder::new()
                        .schema_type($type)
                        .enum_values(Some($values))
                        .into(),
                )
            }
        }

        impl ToSchema for $name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }
        }
    };
}

choice_type!(
    /// An instance status to filter a listing by.
    InstanceStatus(String), "status",
    idflow_engine::Status::ALL.map(|s| s.as_str()), Type::String
);
choice_type!(
    /// The status a new user may be given.
    NewUserStatus(String), "status",
    [
        idflow_identity::UserStatus::Active,
        idflow_identity::UserStatus::PendingActive,
        idflow_identity::UserStatus::Disabled,
    ]
    .map(|s| s.as_str()),
    Type::String
);
choice_type!(
    /// A TOTP policy's code length.
    TotpDigits(u32), "digits", [6u32, 8], Type::Integer
);
choice_type!(
    /// A process token's kind.
    TokenType(String), "type",
    [
        TOKEN_UNLIMITED,
        TOKEN_COUNT_LIMITED,
        TOKEN_TIME_LIMITED,
    ],
    Type::String
);

/// The process token kinds, as the API spells them.
pub const TOKEN_UNLIMITED: &str = "UNLIMITED";
pub const TOKEN_COUNT_LIMITED: &str = "MULTI_USE_COUNT_LIMITED";
pub const TOKEN_TIME_LIMITED: &str = "MULTI_USE_TIME_LIMITED";

/// A TOTP policy's hash algorithm, as `TotpAlgorithm::parse` reads it (`SHA1`, `sha-256`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpAlgorithmName(String);

impl TotpAlgorithmName {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for TotpAlgorithmName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = String::deserialize(d)?;
        match idflow_identity::TotpAlgorithm::parse(&value) {
            Some(_) => Ok(TotpAlgorithmName(value)),
            None => Err(serde::de::Error::custom(format!(
                "algorithm is {value:?}; it must be SHA1, SHA256 or SHA512"
            ))),
        }
    }
}

impl Serialize for TotpAlgorithmName {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl PartialSchema for TotpAlgorithmName {
    fn schema() -> RefOr<Schema> {
        RefOr::T(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(idflow_identity::TotpAlgorithm::PATTERN))
                .into(),
        )
    }
}

impl ToSchema for TotpAlgorithmName {}

/// An RFC 3339 timestamp, as `parse_timestamp` reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timestamp(String);

impl Timestamp {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = String::deserialize(d)?;
        match idflow_identity::wire::parse_timestamp(&value) {
            Some(_) => Ok(Timestamp(value)),
            None => Err(serde::de::Error::custom(format!(
                "{value:?} is not an RFC 3339 timestamp"
            ))),
        }
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl PartialSchema for Timestamp {
    fn schema() -> RefOr<Schema> {
        RefOr::T(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
                .into(),
        )
    }
}

impl ToSchema for Timestamp {}

#[cfg(test)]
mod tests {
    use super::*;

    /// Strings at the edges of every character class the patterns describe.
    fn corpus() -> Vec<String> {
        let mut corpus: Vec<String> = [
            "",
            "a",
            "demo",
            "Demo Store",
            " ",
            "  \t",
            "a b",
            " a",
            "a ",
            "#",
            "a#b",
            ":",
            "a:b",
            "\u{0}",
            "a\u{1f}",
            "\u{7f}",
            "\u{9f}x",
            "\u{a0}",
            "\u{a0}x",
            "\u{1680}",
            "\u{2000}",
            "\u{200a}",
            "\u{200b}",
            "\u{2028}",
            "\u{2029}",
            "\u{202f}",
            "\u{205f}",
            "\u{3000}",
            "\u{feff}",
            "\u{85}",
            "x\n",
            "\n",
            "é",
            "日本",
            "🙂",
            "_a",
            "a.b-c_d",
            "-a",
            ".a",
            "1a",
            "a/b",
            "a%2Fb",
            "UGIRW7QN727EIV2XLXG4YH42N4",
            "UGIRW7QN727EIV2XLXG4YH42N5",
            "ugirw7qn727eiv2xlxg4yh42n4",
            "AAAAAAAAAAAAAAAAAAAAAAAAAA",
            "AAAAAAAAAAAAAAAAAAAAAAAAAB",
            "AAAAAAAAAAAAAAAAAAAAAAAAA4",
            "7777777777777777777777777Y",
            "0000018c1f2a3b4cUGIRW7QN727EIV2XLXG4YH42N4",
            "8000018c1f2a3b4cUGIRW7QN727EIV2XLXG4YH42N4",
            "0000018C1F2A3B4CUGIRW7QN727EIV2XLXG4YH42N4",
            "-000018c1f2a3b4cUGIRW7QN727EIV2XLXG4YH42N4",
            "SHA1",
            "sha-256",
            "Sha512",
            "SHA-1",
            "SHA--1",
            "SHA384",
            "MD5",
            "#0b5394",
            "#0B5394",
            "#0b539",
            "#0b53944",
            "0b5394",
            "#0g5394",
            "data:image/png;base64,iVBORw0KGgo=",
            "data:image/png;base64,iVBORw0KGgp=",
            "data:image/png;base64,iVBORw0KGg==",
            "data:image/png;base64,iVBORw0KGw==",
            "data:image/png;base64,iVBORw0K",
            "data:image/png;base64,",
            "data:image/png;base64,iVB",
            "data:image/bmp;base64,iVBORw0K",
            "data:image/svg+xml;base64,PHN2Zy8+",
            "data:image/svg+xml;base64,PHN2Zy8+\n",
            "data:text/plain;base64,aGk=",
        ]
        .map(String::from)
        .to_vec();
        for c in [
            '\u{0}', '\u{1f}', '\u{20}', '\u{7f}', '\u{9f}', '\u{a0}', '\u{3000}',
        ] {
            corpus.push(format!("ok{c}ok"));
        }
        corpus
    }

    #[track_caller]
    fn pattern_agrees(rule: &Text, name: &str) {
        let regex = regex::Regex::new(rule.pattern).expect("pattern compiles");
        for value in corpus() {
            let by_pattern = regex.is_match(&value);
            let by_check = (rule.chars)(&value).is_none();
            assert_eq!(
                by_pattern, by_check,
                "{name}: pattern and check disagree on {value:?}"
            );
        }
    }

    #[test]
    fn every_pattern_says_what_its_check_accepts() {
        pattern_agrees(&TENANT, "TENANT");
        pattern_agrees(&NAME, "NAME");
        pattern_agrees(&ISSUER, "ISSUER");
        pattern_agrees(&EXTERNAL_ID, "EXTERNAL_ID");
        pattern_agrees(&AN_ID, "AN_ID");
        pattern_agrees(&PROCESS_ID, "PROCESS_ID");
        pattern_agrees(&FORM_NAME, "FORM_NAME");
        pattern_agrees(&TOKEN_NAME, "TOKEN_NAME");
        pattern_agrees(&FILE_NAME, "FILE_NAME");
        pattern_agrees(&INSTANCE_CURSOR, "INSTANCE_CURSOR");
        pattern_agrees(&DISPLAY_NAME, "DISPLAY_NAME");
        pattern_agrees(&COLOUR, "COLOUR");
        pattern_agrees(&LOGO, "LOGO");
        let algorithm =
            regex::Regex::new(idflow_identity::TotpAlgorithm::PATTERN).expect("compiles");
        for value in corpus() {
            assert_eq!(
                algorithm.is_match(&value),
                idflow_identity::TotpAlgorithm::parse(&value).is_some(),
                "algorithm: {value:?}"
            );
        }
    }

    #[test]
    fn every_white_space_character_is_in_the_not_blank_pattern() {
        // The pattern spells out Unicode White_Space; a character Rust counts as white space but
        // the pattern lets through would make the document promise what the check refuses.
        let regex = regex::Regex::new(NOT_BLANK).expect("compiles");
        for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
            let value = c.to_string();
            assert_eq!(
                regex.is_match(&value),
                not_blank(&value).is_none(),
                "U+{:04X}",
                c as u32
            );
        }
    }

    #[test]
    fn lengths_are_counted_in_characters() {
        assert!(NAME.check("name", &"é".repeat(128)).is_ok());
        assert_eq!(
            NAME.check("storeName", &"é".repeat(129)),
            Err("storeName is 129 characters long; at most 128 are allowed".into())
        );
        assert_eq!(
            NAME.check("storeName", ""),
            Err("storeName is empty".into())
        );
        assert!(FILE_NAME.check("fileName", "").is_ok());
    }
}
