//! Passcode and TOTP policies: their requirements, their validation, and the check of a candidate
//! passcode against them.
//!
//! The server never sees a passcode, so [`check_passcode`] runs where the passcode is typed: the
//! Rust client calls it before deriving a verifier, and it returns every unmet requirement with its
//! message so a form can show them all at once.
//!
//! # What each requirement means
//!
//! Lengths count Unicode code points (`"é"` is one, whatever its UTF-8 length). Character classes:
//!
//! | class | a character belongs when |
//! |---|---|
//! | digit | `char::is_numeric` (Unicode numbers, ASCII `0-9` among them) |
//! | lower case | `char::is_lowercase` |
//! | upper case | `char::is_uppercase` |
//! | symbol | it is neither alphabetic nor numeric (punctuation, spaces, emoji, ...) |
//!
//! Letters without case (for example CJK ideographs) belong to no class; they count for length.
//!
//! **`characterVariety`** is the minimum number of *different classes* among the four above that
//! the passcode must use (0 to 4). `characterVariety: 3` accepts `"abcDEF123"` and `"abc-DEF"`,
//! and refuses `"abcdef123"` (two classes).
//!
//! `maximumLength: 0` means no maximum. `passcodeHistory` is enforced by the server (see the
//! crate documentation); the client ignores it.
//!
//! Regex rules use the `regex` crate's syntax (linear time, no backtracking blow-up):
//! - each `requiredRegExes` pattern must match somewhere in the passcode;
//! - when `allowedRegExes` is not empty, the whole passcode must match at least one of them;
//! - no `disallowedRegExes` pattern may match anywhere.
//!
//! A rule with an empty pattern is ignored (the seeds show `{"pattern": "", "error": ""}` as a
//! placeholder). A rule with an empty error gets a message naming its pattern.

use std::fmt;

use regex::{Regex, RegexBuilder};

/// One regex rule and the message shown when it is not met.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RegexRule {
    pub pattern: String,
    pub error: String,
}

/// Everything a passcode must satisfy (the seeds' `passcodeRequirements`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasscodeRequirements {
    pub minimum_length: u32,
    /// 0: no maximum.
    pub maximum_length: u32,
    pub digit_count: u32,
    pub symbol_count: u32,
    pub lower_case_count: u32,
    pub upper_case_count: u32,
    /// Minimum number of different character classes used (0-4).
    pub character_variety: u32,
    /// How many previous verifiers are remembered and refused on renewal (the current one is
    /// always refused).
    pub passcode_history: u32,
    pub required_regexes: Vec<RegexRule>,
    pub allowed_regexes: Vec<RegexRule>,
    pub disallowed_regexes: Vec<RegexRule>,
}

impl Default for PasscodeRequirements {
    fn default() -> Self {
        PasscodeRequirements {
            minimum_length: 1,
            maximum_length: 0,
            digit_count: 0,
            symbol_count: 0,
            lower_case_count: 0,
            upper_case_count: 0,
            character_variety: 0,
            passcode_history: 0,
            required_regexes: Vec::new(),
            allowed_regexes: Vec::new(),
            disallowed_regexes: Vec::new(),
        }
    }
}

/// A passcode policy of an identity store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasscodePolicy {
    pub name: String,
    pub requirements: PasscodeRequirements,
    /// Failed proofs in a row (per user, under this policy) that lock the user; 0: never.
    pub max_failed_attempts: u32,
    /// How long a registration, renewal or authentication session stays open.
    pub session_lifetime_seconds: u32,
    /// 0: reaching `max_failed_attempts` sets `LOCKED` (until unlocked). Otherwise it sets
    /// `TEMP_LOCKED` for this many seconds.
    pub temporary_lock_seconds: u32,
}

/// Defaults used when a policy omits a field.
pub const DEFAULT_SESSION_LIFETIME_SECONDS: u32 = 300;
pub const DEFAULT_MAX_FAILED_ATTEMPTS: u32 = 5;

/// The HMAC hash of a TOTP policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TotpAlgorithm {
    Sha1,
    Sha256,
    Sha512,
}

impl TotpAlgorithm {
    /// As in the Key URI format and the API: `SHA1`, `SHA256`, `SHA512`.
    pub fn as_str(self) -> &'static str {
        match self {
            TotpAlgorithm::Sha1 => "SHA1",
            TotpAlgorithm::Sha256 => "SHA256",
            TotpAlgorithm::Sha512 => "SHA512",
        }
    }

    /// Accepts `SHA1` or `SHA-1` and the like, in any case: `SHA`, an optional `-`, the size
    /// ([`TotpAlgorithm::PATTERN`] says the same for the API document).
    pub fn parse(text: &str) -> Option<TotpAlgorithm> {
        let upper = text.to_ascii_uppercase();
        let size = upper.strip_prefix("SHA")?;
        match size.strip_prefix('-').unwrap_or(size) {
            "1" => Some(TotpAlgorithm::Sha1),
            "256" => Some(TotpAlgorithm::Sha256),
            "512" => Some(TotpAlgorithm::Sha512),
            _ => None,
        }
    }

    /// What [`TotpAlgorithm::parse`] accepts, as an ECMA-262 regular expression.
    pub const PATTERN: &'static str = "^[Ss][Hh][Aa]-?(1|256|512)$";
}

impl fmt::Display for TotpAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A TOTP policy of an identity store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpPolicy {
    pub name: String,
    /// Shown by authenticator apps; no `:` (the Key URI label uses it as a separator).
    pub issuer: String,
    pub algorithm: TotpAlgorithm,
    /// 6 or 8.
    pub digits: u32,
    pub period_seconds: u32,
    /// Codes of up to this many time steps before or after the current one are accepted.
    pub accepted_drift_steps: u32,
    /// Failed codes in a row (per user, under this policy) that lock the user; 0: never.
    pub max_failed_attempts: u32,
    /// How long a TOTP registration session stays open.
    pub session_lifetime_seconds: u32,
}

/// Which requirement a passcode missed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requirement {
    MinimumLength,
    MaximumLength,
    DigitCount,
    SymbolCount,
    LowerCaseCount,
    UpperCaseCount,
    CharacterVariety,
    /// The index into `required_regexes`.
    RequiredRegex(usize),
    AllowedRegex,
    /// The index into `disallowed_regexes`.
    DisallowedRegex(usize),
}

/// One unmet requirement and the message to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnmetRequirement {
    pub requirement: Requirement,
    pub message: String,
}

// The limits a policy is validated against; public so that the HTTP server documents exactly
// these bounds.
/// Longest `minimumLength` / `maximumLength`, and the most characters the counts may demand.
pub const MAX_PASSCODE_LENGTH_LIMIT: u32 = 4096;
/// Most previous verifiers `passcodeHistory` may keep.
pub const MAX_HISTORY: u32 = 64;
/// Most rules in each of `requiredRegExes`, `allowedRegExes`, `disallowedRegExes`.
pub const MAX_RULES: usize = 32;
/// Longest rule `pattern`, in characters.
pub const MAX_PATTERN_CHARS: usize = 1024;
/// Longest rule `error`, in characters.
pub const MAX_ERROR_CHARS: usize = 512;
const REGEX_SIZE_LIMIT: usize = 1 << 20;
/// Longest `sessionLifetimeSeconds` (the shortest is 1).
pub const MAX_SESSION_LIFETIME_SECONDS: u32 = 86_400;
/// Longest `temporaryLockSeconds`.
pub const MAX_TEMPORARY_LOCK_SECONDS: u32 = 30 * 86_400;
/// Largest `maxFailedAttempts` (0 never locks).
pub const MAX_FAILED_ATTEMPTS_LIMIT: u32 = 1000;
/// Longest name of a tenant, store or policy, and longest TOTP issuer, in characters.
pub const MAX_NAME_CHARS: usize = 128;
/// Longest TOTP `period`, in seconds (the shortest is 1).
pub const MAX_TOTP_PERIOD_SECONDS: u32 = 300;
/// Most time steps of drift a TOTP policy may accept either way.
pub const MAX_TOTP_DRIFT_STEPS: u32 = 10;

fn compile(pattern: &str, whole: bool) -> Result<Regex, String> {
    let source = if whole {
        format!("^(?:{pattern})$")
    } else {
        pattern.to_string()
    };
    RegexBuilder::new(&source)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| e.to_string())
}

#[derive(Default)]
struct ClassCounts {
    digits: u32,
    symbols: u32,
    lower: u32,
    upper: u32,
}

fn classify(passcode: &str) -> ClassCounts {
    let mut counts = ClassCounts::default();
    for c in passcode.chars() {
        if c.is_numeric() {
            counts.digits += 1;
        } else if c.is_lowercase() {
            counts.lower += 1;
        } else if c.is_uppercase() {
            counts.upper += 1;
        } else if !c.is_alphabetic() {
            counts.symbols += 1;
        }
    }
    counts
}

fn plural(n: u32, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// Checks `passcode` against `requirements` and returns every unmet requirement (empty: the
/// passcode is acceptable). A regex that does not compile is reported as unmet, naming it.
pub fn check_passcode(
    requirements: &PasscodeRequirements,
    passcode: &str,
) -> Vec<UnmetRequirement> {
    let mut unmet = Vec::new();
    let mut miss = |requirement: Requirement, message: String| {
        unmet.push(UnmetRequirement {
            requirement,
            message,
        })
    };
    let length = passcode.chars().count();
    let minimum = requirements.minimum_length.max(1) as usize;
    if length < minimum {
        miss(
            Requirement::MinimumLength,
            format!(
                "the passcode must be at least {} long",
                plural(minimum as u32, "character", "characters")
            ),
        );
    }
    if requirements.maximum_length > 0 && length > requirements.maximum_length as usize {
        miss(
            Requirement::MaximumLength,
            format!(
                "the passcode must be at most {} long",
                plural(requirements.maximum_length, "character", "characters")
            ),
        );
    }
    let counts = classify(passcode);
    let class_rules = [
        (
            Requirement::DigitCount,
            requirements.digit_count,
            counts.digits,
            "digit",
            "digits",
        ),
        (
            Requirement::SymbolCount,
            requirements.symbol_count,
            counts.symbols,
            "symbol",
            "symbols",
        ),
        (
            Requirement::LowerCaseCount,
            requirements.lower_case_count,
            counts.lower,
            "lower-case letter",
            "lower-case letters",
        ),
        (
            Requirement::UpperCaseCount,
            requirements.upper_case_count,
            counts.upper,
            "upper-case letter",
            "upper-case letters",
        ),
    ];
    for (requirement, wanted, found, one, many) in class_rules {
        if found < wanted {
            miss(
                requirement,
                format!(
                    "the passcode must contain at least {}",
                    plural(wanted, one, many)
                ),
            );
        }
    }
    let variety = [counts.digits, counts.symbols, counts.lower, counts.upper]
        .iter()
        .filter(|n| **n > 0)
        .count() as u32;
    if variety < requirements.character_variety {
        miss(
            Requirement::CharacterVariety,
            format!(
                "the passcode must mix at least {} of: digits, symbols, lower-case and upper-case letters",
                plural(requirements.character_variety, "kind", "kinds")
            ),
        );
    }
    for (i, rule) in requirements.required_regexes.iter().enumerate() {
        if rule.pattern.is_empty() {
            continue;
        }
        match compile(&rule.pattern, false) {
            Ok(re) if re.is_match(passcode) => {}
            Ok(_) => miss(
                Requirement::RequiredRegex(i),
                rule_message(rule, "the passcode must match"),
            ),
            Err(e) => miss(
                Requirement::RequiredRegex(i),
                format!("requiredRegExes[{i}] does not compile: {e}"),
            ),
        }
    }
    let allowed: Vec<&RegexRule> = requirements
        .allowed_regexes
        .iter()
        .filter(|r| !r.pattern.is_empty())
        .collect();
    if !allowed.is_empty() {
        let mut matched = false;
        let mut broken = Vec::new();
        for (i, rule) in allowed.iter().enumerate() {
            match compile(&rule.pattern, true) {
                Ok(re) => matched |= re.is_match(passcode),
                Err(e) => broken.push(format!("allowedRegExes[{i}] does not compile: {e}")),
            }
        }
        if !matched {
            let mut messages: Vec<String> = allowed
                .iter()
                .map(|r| rule_message(r, "the passcode must consist of"))
                .collect();
            messages.extend(broken);
            miss(Requirement::AllowedRegex, messages.join("; "));
        }
    }
    for (i, rule) in requirements.disallowed_regexes.iter().enumerate() {
        if rule.pattern.is_empty() {
            continue;
        }
        match compile(&rule.pattern, false) {
            Ok(re) if !re.is_match(passcode) => {}
            Ok(_) => miss(
                Requirement::DisallowedRegex(i),
                rule_message(rule, "the passcode must not match"),
            ),
            Err(e) => miss(
                Requirement::DisallowedRegex(i),
                format!("disallowedRegExes[{i}] does not compile: {e}"),
            ),
        }
    }
    unmet
}

fn rule_message(rule: &RegexRule, lead: &str) -> String {
    if rule.error.is_empty() {
        format!("{lead} /{}/", rule.pattern)
    } else {
        rule.error.clone()
    }
}

/// A name of a tenant, store or policy: 1-128 characters, no control characters.
pub(crate) fn check_name(what: &str, name: &str) -> Result<(), String> {
    let chars = name.chars().count();
    if chars == 0 {
        return Err(format!("{what} is empty"));
    }
    if chars > MAX_NAME_CHARS {
        return Err(format!(
            "{what} is {chars} characters long; at most {MAX_NAME_CHARS} are allowed"
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(format!("{what} contains a control character"));
    }
    Ok(())
}

fn check_rules(field: &str, rules: &[RegexRule], whole: bool) -> Result<(), String> {
    if rules.len() > MAX_RULES {
        return Err(format!(
            "passcodeRequirements.{field} has {} rules; at most {MAX_RULES} are allowed",
            rules.len()
        ));
    }
    for (i, rule) in rules.iter().enumerate() {
        if rule.pattern.chars().count() > MAX_PATTERN_CHARS {
            return Err(format!(
                "passcodeRequirements.{field}[{i}].pattern is longer than {MAX_PATTERN_CHARS} characters"
            ));
        }
        if rule.error.chars().count() > MAX_ERROR_CHARS {
            return Err(format!(
                "passcodeRequirements.{field}[{i}].error is longer than {MAX_ERROR_CHARS} characters"
            ));
        }
        if !rule.pattern.is_empty() {
            compile(&rule.pattern, whole).map_err(|e| {
                format!("passcodeRequirements.{field}[{i}].pattern does not compile: {e}")
            })?;
        }
    }
    Ok(())
}

impl PasscodeRequirements {
    /// Whether the requirements are usable; the error names the field at fault.
    pub fn validate(&self) -> Result<(), String> {
        if self.minimum_length == 0 {
            return Err("passcodeRequirements.minimumLength must be at least 1".into());
        }
        if self.minimum_length > MAX_PASSCODE_LENGTH_LIMIT
            || self.maximum_length > MAX_PASSCODE_LENGTH_LIMIT
        {
            return Err(format!(
                "passcodeRequirements.minimumLength and maximumLength must be at most {MAX_PASSCODE_LENGTH_LIMIT}"
            ));
        }
        if self.maximum_length > 0 && self.maximum_length < self.minimum_length {
            return Err(format!(
                "passcodeRequirements.maximumLength ({}) is below minimumLength ({})",
                self.maximum_length, self.minimum_length
            ));
        }
        let counted = u64::from(self.digit_count)
            + u64::from(self.symbol_count)
            + u64::from(self.lower_case_count)
            + u64::from(self.upper_case_count);
        if self.maximum_length > 0 && counted > u64::from(self.maximum_length) {
            return Err(format!(
                "passcodeRequirements: digitCount + symbolCount + lowerCaseCount + upperCaseCount ({counted}) exceeds maximumLength ({})",
                self.maximum_length
            ));
        }
        if counted > u64::from(MAX_PASSCODE_LENGTH_LIMIT) {
            return Err("passcodeRequirements: the character counts are unsatisfiable".into());
        }
        if self.character_variety > 4 {
            return Err(format!(
                "passcodeRequirements.characterVariety is {}; there are only 4 character classes",
                self.character_variety
            ));
        }
        if self.passcode_history > MAX_HISTORY {
            return Err(format!(
                "passcodeRequirements.passcodeHistory is {}; at most {MAX_HISTORY} are kept",
                self.passcode_history
            ));
        }
        check_rules("requiredRegExes", &self.required_regexes, false)?;
        check_rules("allowedRegExes", &self.allowed_regexes, true)?;
        check_rules("disallowedRegExes", &self.disallowed_regexes, false)?;
        Ok(())
    }
}

fn check_session_lifetime(seconds: u32) -> Result<(), String> {
    if seconds == 0 || seconds > MAX_SESSION_LIFETIME_SECONDS {
        return Err(format!(
            "sessionLifetimeSeconds is {seconds}; it must be between 1 and {MAX_SESSION_LIFETIME_SECONDS}"
        ));
    }
    Ok(())
}

fn check_max_failed_attempts(n: u32) -> Result<(), String> {
    if n > MAX_FAILED_ATTEMPTS_LIMIT {
        return Err(format!(
            "maxFailedAttempts is {n}; at most {MAX_FAILED_ATTEMPTS_LIMIT} (0 never locks)"
        ));
    }
    Ok(())
}

impl PasscodePolicy {
    /// Whether the policy is usable; the error names the field at fault.
    pub fn validate(&self) -> Result<(), String> {
        check_name("name", &self.name)?;
        self.requirements.validate()?;
        check_max_failed_attempts(self.max_failed_attempts)?;
        check_session_lifetime(self.session_lifetime_seconds)?;
        if self.temporary_lock_seconds > MAX_TEMPORARY_LOCK_SECONDS {
            return Err(format!(
                "temporaryLockSeconds is {}; at most {MAX_TEMPORARY_LOCK_SECONDS}",
                self.temporary_lock_seconds
            ));
        }
        Ok(())
    }
}

impl TotpPolicy {
    /// Whether the policy is usable; the error names the field at fault.
    pub fn validate(&self) -> Result<(), String> {
        check_name("name", &self.name)?;
        check_name("issuer", &self.issuer)?;
        if self.issuer.contains(':') {
            return Err("issuer must not contain ':' (the Key URI label separator)".into());
        }
        if self.digits != 6 && self.digits != 8 {
            return Err(format!("digits is {}; it must be 6 or 8", self.digits));
        }
        if !(1..=MAX_TOTP_PERIOD_SECONDS).contains(&self.period_seconds) {
            return Err(format!(
                "period is {} seconds; it must be between 1 and {MAX_TOTP_PERIOD_SECONDS}",
                self.period_seconds
            ));
        }
        if self.accepted_drift_steps > MAX_TOTP_DRIFT_STEPS {
            return Err(format!(
                "acceptedDriftSteps is {}; at most {MAX_TOTP_DRIFT_STEPS}",
                self.accepted_drift_steps
            ));
        }
        check_max_failed_attempts(self.max_failed_attempts)?;
        check_session_lifetime(self.session_lifetime_seconds)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn requirements() -> PasscodeRequirements {
        PasscodeRequirements {
            minimum_length: 6,
            maximum_length: 12,
            digit_count: 1,
            symbol_count: 1,
            lower_case_count: 1,
            upper_case_count: 1,
            character_variety: 1,
            passcode_history: 1,
            required_regexes: vec![RegexRule {
                pattern: String::new(),
                error: String::new(),
            }],
            allowed_regexes: vec![],
            disallowed_regexes: vec![],
        }
    }

    fn unmet(req: &PasscodeRequirements, passcode: &str) -> Vec<Requirement> {
        check_passcode(req, passcode)
            .into_iter()
            .map(|u| u.requirement)
            .collect()
    }

    #[test]
    fn the_seed_example_policy_accepts_a_mixed_passcode() {
        assert!(unmet(&requirements(), "Tr0ub4dor&3").is_empty());
    }

    #[test]
    fn every_unmet_requirement_is_reported() {
        let table: &[(&str, &[Requirement])] = &[
            (
                "ab",
                &[
                    Requirement::MinimumLength,
                    Requirement::DigitCount,
                    Requirement::SymbolCount,
                    Requirement::UpperCaseCount,
                ],
            ),
            ("Abcdefghijk1!x", &[Requirement::MaximumLength]),
            ("ABCDEF1!", &[Requirement::LowerCaseCount]),
            ("abcdef1!", &[Requirement::UpperCaseCount]),
            ("abcDEF!!", &[Requirement::DigitCount]),
            ("abcDEF12", &[Requirement::SymbolCount]),
            // é and É are one code point each: 6 characters, more bytes.
            ("éÉ1!aB", &[]),
            (
                "",
                &[
                    Requirement::MinimumLength,
                    Requirement::DigitCount,
                    Requirement::SymbolCount,
                    Requirement::LowerCaseCount,
                    Requirement::UpperCaseCount,
                    Requirement::CharacterVariety,
                ],
            ),
        ];
        for (passcode, expected) in table {
            assert_eq!(
                unmet(&requirements(), passcode),
                expected.to_vec(),
                "{passcode:?}"
            );
        }
    }

    #[test]
    fn character_variety_counts_classes() {
        let req = PasscodeRequirements {
            character_variety: 3,
            ..PasscodeRequirements::default()
        };
        assert!(unmet(&req, "abcDEF123").is_empty());
        assert!(unmet(&req, "abc-DEF").is_empty());
        assert_eq!(
            unmet(&req, "abcdef123"),
            vec![Requirement::CharacterVariety]
        );
        // Caseless letters belong to no class.
        assert_eq!(unmet(&req, "漢字漢字"), vec![Requirement::CharacterVariety]);
    }

    #[test]
    fn regex_rules_apply_with_their_messages() {
        let req = PasscodeRequirements {
            required_regexes: vec![RegexRule {
                pattern: "[0-9]{2}".into(),
                error: "two digits in a row".into(),
            }],
            allowed_regexes: vec![
                RegexRule {
                    pattern: "[a-z0-9]+".into(),
                    error: "only lower-case letters and digits".into(),
                },
                RegexRule {
                    pattern: "".into(),
                    error: "ignored".into(),
                },
            ],
            disallowed_regexes: vec![RegexRule {
                pattern: "(?i)password".into(),
                error: String::new(),
            }],
            ..PasscodeRequirements::default()
        };
        assert!(unmet(&req, "abc12").is_empty());
        let found = check_passcode(&req, "Abc1");
        let messages: Vec<&str> = found.iter().map(|u| u.message.as_str()).collect();
        assert_eq!(
            messages,
            vec!["two digits in a row", "only lower-case letters and digits"]
        );
        let found = check_passcode(&req, "password12");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].requirement, Requirement::DisallowedRegex(0));
        assert!(found[0].message.contains("(?i)password"));
    }

    #[test]
    fn a_broken_regex_is_reported_not_panicked_on() {
        let req = PasscodeRequirements {
            required_regexes: vec![RegexRule {
                pattern: "(".into(),
                error: "x".into(),
            }],
            ..PasscodeRequirements::default()
        };
        let found = check_passcode(&req, "anything");
        assert_eq!(found.len(), 1);
        assert!(found[0].message.contains("requiredRegExes[0]"));
        assert!(req
            .validate()
            .is_err_and(|e| e.contains("requiredRegExes[0]")));
    }

    #[test]
    fn unusable_policies_are_refused_naming_the_field() {
        let base = PasscodePolicy {
            name: "p".into(),
            requirements: requirements(),
            max_failed_attempts: 3,
            session_lifetime_seconds: 300,
            temporary_lock_seconds: 0,
        };
        assert!(base.validate().is_ok());
        let cases: Vec<(PasscodePolicy, &str)> = vec![
            (
                PasscodePolicy {
                    name: String::new(),
                    ..base.clone()
                },
                "name",
            ),
            (
                PasscodePolicy {
                    requirements: PasscodeRequirements {
                        maximum_length: 3,
                        ..requirements()
                    },
                    ..base.clone()
                },
                "maximumLength",
            ),
            (
                PasscodePolicy {
                    requirements: PasscodeRequirements {
                        character_variety: 5,
                        ..requirements()
                    },
                    ..base.clone()
                },
                "characterVariety",
            ),
            (
                PasscodePolicy {
                    session_lifetime_seconds: 0,
                    ..base.clone()
                },
                "sessionLifetimeSeconds",
            ),
            (
                PasscodePolicy {
                    max_failed_attempts: 5000,
                    ..base.clone()
                },
                "maxFailedAttempts",
            ),
        ];
        for (policy, field) in cases {
            assert!(
                policy.validate().is_err_and(|e| e.contains(field)),
                "{field}"
            );
        }
        let totp = TotpPolicy {
            name: "t".into(),
            issuer: "Acme".into(),
            algorithm: TotpAlgorithm::Sha1,
            digits: 6,
            period_seconds: 30,
            accepted_drift_steps: 1,
            max_failed_attempts: 5,
            session_lifetime_seconds: 300,
        };
        assert!(totp.validate().is_ok());
        assert!(TotpPolicy {
            digits: 7,
            ..totp.clone()
        }
        .validate()
        .is_err_and(|e| e.contains("digits")));
        assert!(TotpPolicy {
            issuer: "a:b".into(),
            ..totp.clone()
        }
        .validate()
        .is_err_and(|e| e.contains("issuer")));
        assert!(TotpPolicy {
            period_seconds: 0,
            ..totp
        }
        .validate()
        .is_err_and(|e| e.contains("period")));
    }
}
