//! The definitions and custom forms shipped in `definitions/`, embedded in the binary so
//! `idflow serve` and `idflow run` can deploy them from anywhere.

use std::path::{Path, PathBuf};

/// A shipped file: its file name and content.
#[derive(Debug, Clone, Copy)]
pub struct ShippedFile {
    pub file_name: &'static str,
    pub bytes: &'static [u8],
}

macro_rules! shipped {
    ($dir:literal: $($name:literal),* $(,)?) => {
        [$(ShippedFile {
            file_name: $name,
            bytes: include_bytes!(concat!("../../../definitions/", $dir, $name)),
        }),*]
    };
}

/// The shipped BPMN definitions (process IDs as their file names).
pub const DEFINITIONS: [ShippedFile; 6] = shipped!("":
    "passcode-registration.bpmn",
    "passcode-renewal.bpmn",
    "passcode-authentication.bpmn",
    "passcode-deregistration.bpmn",
    "totp-registration.bpmn",
    "current-totp.bpmn",
);

/// The shipped custom forms, one per form step of the shipped definitions.
pub const FORMS: [ShippedFile; 5] = shipped!("forms/":
    "passcode-registration.json",
    "passcode-renewal.json",
    "passcode-authentication.json",
    "totp-registration.json",
    "current-totp.json",
);

/// The process ID of a shipped definition (its file name without `.bpmn`).
pub fn process_id(file: &ShippedFile) -> &'static str {
    file.file_name
        .strip_suffix(".bpmn")
        .unwrap_or(file.file_name)
}

/// `definitions/` of the source tree (where the shipped files live).
pub fn definitions_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("..")
        .join("definitions")
}
