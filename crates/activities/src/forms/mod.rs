//! Custom data forms: JSON definitions, validated when deployed, versioned by name per tenant,
//! rendered against an instance's variables into plain JSON that any UI can draw.
//!
//! # The form definition format
//!
//! This is the one place the JSON field names are documented. Names are camelCase and mirror the
//! seeds' designer properties ("Element ID" → `elementId`, "QR Content" → `qrContent`, "Size" →
//! `size`, "UI Label" → `uiLabel`, "Default Value" → `defaultValue`).
//!
//! ```json
//! {
//!   "name": "current-totp",
//!   "title": { "text": "Your authenticator app", "subtitle": "Scan the code again" },
//!   "components": [
//!     { "type": "qrCode", "elementId": "totp-qr",
//!       "qrContent": "{{processvar._identityStore.currentTOTP.qrCodeString}}", "size": 256 },
//!     { "type": "link", "elementId": "totp-link", "uiLabel": "Open in your app",
//!       "defaultValue": "{{processvar._identityStore.currentTOTP.qrCodeString}}" },
//!     { "type": "copy", "elementId": "totp-secret", "uiLabel": "Copy the secret",
//!       "defaultValue": "{{processvar._identityStore.currentTOTP.secret}}" },
//!     { "type": "submit", "elementId": "done", "uiLabel": "Done" }
//!   ],
//!   "submitButton": { "elementId": "continue", "uiLabel": "Continue" }
//! }
//! ```
//!
//! | field | meaning |
//! |---|---|
//! | `name` | required; 1–100 characters of `A-Z a-z 0-9 . _ -`, starting with a letter or digit; forms are versioned under it |
//! | `title` | required; `{ "text": template, "subtitle"?: template }`, or a string as shorthand for `{ "text": ... }` |
//! | `components` | required; an array (at most 100) of components, drawn in order |
//! | `submitButton` | optional; `{ "elementId"?: id (default `submit`), "uiLabel": template }` |
//!
//! A form needs a way to be answered: a `submitButton`, or at least one `submit` component.
//!
//! Components (every one has `"type"` and a required `"elementId"`, unique within the form,
//! 1–64 characters of `A-Z a-z 0-9 . _ -`):
//!
//! | `type` | fields |
//! |---|---|
//! | `text` | `uiLabel` (template, required), `required` (boolean, default `false`), `defaultValue` (template), `placeholder` (template) |
//! | `passcode` | `uiLabel` (template, required), `required` (boolean, default `false`): a masked input |
//! | `qrCode` | `qrContent` (template, required), `size` (pixels, 64–1024, default 256) |
//! | `link` | `uiLabel` (template, required), `defaultValue` (template, required): the link's target |
//! | `copy` | `uiLabel` (template, required), `defaultValue` (template, required): the text a copy button copies |
//! | `paragraph` | `text` (template, required): text shown as it is |
//! | `submit` (alias `submitButton`) | `uiLabel` (template, required) |
//!
//! Unknown fields are refused (a misspelt `qrContnt` is an error, not a silently empty code), and
//! every error names the component (`components[2] (qrCode "totp-qr")`) and the field.
//!
//! # Templates
//!
//! Every string field marked *template* may hold `{{processvar.path}}` substitutions (Handlebars,
//! strict; `processvar` in any case, so `{{processVar.x}}` works; array items as
//! `{{processvar.list.[0]}}`). Only substitutions (and `{{! comments }}`) are allowed: helpers,
//! blocks and partials are refused at deploy time, as is invalid Handlebars syntax. At render
//! time a path that does not resolve, or resolves to an object, an array or `null`, is an error
//! naming the path: never an empty string. Nothing is HTML-escaped: the output is JSON, and the
//! UI that draws it escapes for its medium.
//!
//! # Rendered output
//!
//! [`FormDefinition::render`] answers the definition with every template replaced by its text,
//! plus `"version"`, and, on each `qrCode` component, `"svg"`: the content drawn as a standalone
//! SVG document. The rendered values may include secrets the form asked for (the current-TOTP
//! form shows the TOTP secret): it goes to the end user, never to logs.
//!
//! ```json
//! { "name": "current-totp", "version": 1, "title": { "text": "Your authenticator app" },
//!   "components": [ { "type": "qrCode", "elementId": "totp-qr",
//!                     "qrContent": "otpauth://totp/...", "size": 256, "svg": "<?xml ...</svg>" }, ... ],
//!   "submitButton": { "elementId": "continue", "uiLabel": "Continue" } }
//! ```

mod registry;
mod template;

use std::collections::HashSet;
use std::fmt;

use idflow_expr::json_kind;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

pub use registry::{
    deploy_in, latest_version_in, load_compiled_in, load_in, shipped_forms_dir, DeployedForm,
    FormSummary, Forms,
};
pub use template::{TemplateRenderError, TemplateSyntaxError, TextTemplate, MAX_TEMPLATE_BYTES};

use idflow_identity::qr;

/// Largest form definition accepted, in bytes.
pub const MAX_FORM_BYTES: usize = 256 * 1024;
/// Most components in one form.
pub const MAX_COMPONENTS: usize = 100;
/// `size` of a `qrCode` component when not given.
pub const DEFAULT_QR_SIZE: u32 = 256;

/// Why a form definition was refused. The message names the form, the component and the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormInvalid {
    #[error("the form definition is {len} bytes, over the limit of {max}")]
    TooLarge { len: usize, max: usize },
    #[error("the form definition is not valid JSON: {reason}")]
    NotJson { reason: String },
    #[error("form {form}: {location}: {reason}")]
    Invalid {
        /// The form's name, or `(unnamed)`.
        form: String,
        /// Where: `name`, `title.text`, `components[2] (qrCode "totp-qr") field size`, ...
        location: String,
        reason: String,
    },
}

/// Why a deployed form could not be rendered for an instance. The message names the form, the
/// component, the field and (through [`TemplateRenderError`]) the variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("form {form} version {version}: {location}: {reason}")]
pub struct FormRenderError {
    pub form: String,
    pub version: u32,
    pub location: String,
    pub reason: String,
}

/// The kinds of component a form can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ComponentKind {
    Text,
    Passcode,
    QrCode,
    Link,
    Copy,
    Paragraph,
    Submit,
}

impl ComponentKind {
    const ALL: [ComponentKind; 7] = [
        ComponentKind::Text,
        ComponentKind::Passcode,
        ComponentKind::QrCode,
        ComponentKind::Link,
        ComponentKind::Copy,
        ComponentKind::Paragraph,
        ComponentKind::Submit,
    ];

    /// The `type` as written in definitions.
    pub fn as_str(self) -> &'static str {
        match self {
            ComponentKind::Text => "text",
            ComponentKind::Passcode => "passcode",
            ComponentKind::QrCode => "qrCode",
            ComponentKind::Link => "link",
            ComponentKind::Copy => "copy",
            ComponentKind::Paragraph => "paragraph",
            ComponentKind::Submit => "submit",
        }
    }

    fn parse(text: &str) -> Option<ComponentKind> {
        if text == "submitButton" {
            return Some(ComponentKind::Submit);
        }
        ComponentKind::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// The fields of this kind besides `type` and `elementId`.
    fn fields(self) -> &'static [FieldSpec] {
        match self {
            ComponentKind::Text => &TEXT_FIELDS,
            ComponentKind::Passcode => &PASSCODE_FIELDS,
            ComponentKind::QrCode => &QR_CODE_FIELDS,
            ComponentKind::Link | ComponentKind::Copy => &LINK_FIELDS,
            ComponentKind::Paragraph => &PARAGRAPH_FIELDS,
            ComponentKind::Submit => &SUBMIT_FIELDS,
        }
    }
}

const UI_LABEL: FieldSpec = FieldSpec::template("uiLabel", true);
const REQUIRED: FieldSpec = FieldSpec {
    name: "required",
    ty: FieldType::Bool { default: false },
    required: false,
};
static TEXT_FIELDS: [FieldSpec; 4] = [
    UI_LABEL,
    REQUIRED,
    FieldSpec::template("defaultValue", false),
    FieldSpec::template("placeholder", false),
];
static PASSCODE_FIELDS: [FieldSpec; 2] = [UI_LABEL, REQUIRED];
static QR_CODE_FIELDS: [FieldSpec; 2] = [
    FieldSpec::template("qrContent", true),
    FieldSpec {
        name: "size",
        ty: FieldType::Size {
            default: DEFAULT_QR_SIZE,
        },
        required: false,
    },
];
static LINK_FIELDS: [FieldSpec; 2] = [UI_LABEL, FieldSpec::template("defaultValue", true)];
static PARAGRAPH_FIELDS: [FieldSpec; 1] = [FieldSpec::template("text", true)];
static SUBMIT_FIELDS: [FieldSpec; 1] = [UI_LABEL];

impl fmt::Display for ComponentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy)]
struct FieldSpec {
    name: &'static str,
    ty: FieldType,
    required: bool,
}

#[derive(Debug, Clone, Copy)]
enum FieldType {
    Template,
    Bool { default: bool },
    Size { default: u32 },
}

impl FieldSpec {
    const fn template(name: &'static str, required: bool) -> FieldSpec {
        FieldSpec {
            name,
            ty: FieldType::Template,
            required,
        }
    }
}

/// A field's checked value.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    Template(TextTemplate),
    Bool(bool),
    Size(u32),
}

/// One component of a form.
#[derive(Debug, Clone, PartialEq)]
pub struct Component {
    pub kind: ComponentKind,
    pub element_id: String,
    /// The fields of its kind that have a value (given or default), in the kind's field order.
    pub fields: Vec<(&'static str, FieldValue)>,
}

impl Component {
    pub fn field(&self, name: &str) -> Option<&FieldValue> {
        self.fields.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    fn describe(&self, index: usize) -> String {
        format!(
            "components[{index}] ({} \"{}\")",
            self.kind, self.element_id
        )
    }
}

/// The form's title.
#[derive(Debug, Clone, PartialEq)]
pub struct Title {
    pub text: TextTemplate,
    pub subtitle: Option<TextTemplate>,
}

/// The form-level submit button.
#[derive(Debug, Clone, PartialEq)]
pub struct SubmitButton {
    pub element_id: String,
    pub ui_label: TextTemplate,
}

/// A checked form definition.
#[derive(Debug, Clone, PartialEq)]
pub struct FormDefinition {
    pub name: String,
    pub title: Title,
    pub components: Vec<Component>,
    pub submit_button: Option<SubmitButton>,
}

impl FormDefinition {
    /// Parses and checks a definition. Never panics on any input.
    pub fn parse(source: &[u8]) -> Result<FormDefinition, FormInvalid> {
        if source.len() > MAX_FORM_BYTES {
            return Err(FormInvalid::TooLarge {
                len: source.len(),
                max: MAX_FORM_BYTES,
            });
        }
        let value: Value = serde_json::from_slice(source).map_err(|e| FormInvalid::NotJson {
            reason: e.to_string(),
        })?;
        FormDefinition::from_json(&value)
    }

    /// Checks a definition already parsed as JSON.
    pub fn from_json(value: &Value) -> Result<FormDefinition, FormInvalid> {
        let Value::Object(map) = value else {
            return Err(invalid(
                "(unnamed)",
                "(root)",
                "a form definition must be a JSON object",
            ));
        };
        let form_name = match map.get("name") {
            Some(Value::String(n)) => n.clone(),
            _ => "(unnamed)".to_string(),
        };
        let fail = |location: &str, reason: String| invalid(&form_name, location, reason);

        for key in map.keys() {
            if !["name", "title", "components", "submitButton"].contains(&key.as_str()) {
                return Err(fail(
                    key,
                    "unknown field; a form has name, title, components and submitButton"
                        .to_string(),
                ));
            }
        }
        let name = match map.get("name") {
            Some(Value::String(n)) => n.clone(),
            Some(other) => {
                return Err(fail(
                    "name",
                    format!("must be a string, not {}", json_kind(other)),
                ))
            }
            None => return Err(fail("name", "is required".to_string())),
        };
        check_form_name(&name).map_err(|reason| fail("name", reason))?;

        let title = match map.get("title") {
            Some(Value::String(text)) => Title {
                text: compile(text).map_err(|e| fail("title", e.to_string()))?,
                subtitle: None,
            },
            Some(Value::Object(t)) => {
                for key in t.keys() {
                    if key != "text" && key != "subtitle" {
                        return Err(fail(
                            &format!("title.{key}"),
                            "unknown field; a title has text and subtitle".to_string(),
                        ));
                    }
                }
                Title {
                    text: match t.get("text") {
                        Some(Value::String(s)) => {
                            compile(s).map_err(|e| fail("title.text", e.to_string()))?
                        }
                        Some(other) => {
                            return Err(fail(
                                "title.text",
                                format!("must be a string, not {}", json_kind(other)),
                            ))
                        }
                        None => return Err(fail("title.text", "is required".to_string())),
                    },
                    subtitle: match t.get("subtitle") {
                        Some(Value::String(s)) => {
                            Some(compile(s).map_err(|e| fail("title.subtitle", e.to_string()))?)
                        }
                        Some(other) => {
                            return Err(fail(
                                "title.subtitle",
                                format!("must be a string, not {}", json_kind(other)),
                            ))
                        }
                        None => None,
                    },
                }
            }
            Some(other) => {
                return Err(fail(
                    "title",
                    format!("must be an object or a string, not {}", json_kind(other)),
                ))
            }
            None => return Err(fail("title", "is required".to_string())),
        };

        let raw_components = match map.get("components") {
            Some(Value::Array(items)) => items,
            Some(other) => {
                return Err(fail(
                    "components",
                    format!("must be an array, not {}", json_kind(other)),
                ))
            }
            None => return Err(fail("components", "is required".to_string())),
        };
        if raw_components.len() > MAX_COMPONENTS {
            return Err(fail(
                "components",
                format!(
                    "has {} components, over the limit of {MAX_COMPONENTS}",
                    raw_components.len()
                ),
            ));
        }
        let mut element_ids = HashSet::new();
        let mut components = Vec::with_capacity(raw_components.len());
        for (index, raw) in raw_components.iter().enumerate() {
            let component =
                parse_component(index, raw).map_err(|(loc, reason)| fail(&loc, reason))?;
            if !element_ids.insert(component.element_id.clone()) {
                return Err(fail(
                    &component.describe(index),
                    format!(
                        "elementId \"{}\" is used by an earlier component",
                        component.element_id
                    ),
                ));
            }
            components.push(component);
        }

        let submit_button = match map.get("submitButton") {
            None | Some(Value::Null) => None,
            Some(Value::Object(b)) => {
                for key in b.keys() {
                    if key != "elementId" && key != "uiLabel" {
                        return Err(fail(
                            &format!("submitButton field {key}"),
                            "unknown field; a submit button has elementId and uiLabel".to_string(),
                        ));
                    }
                }
                let element_id = match b.get("elementId") {
                    Some(Value::String(id)) => id.clone(),
                    Some(other) => {
                        return Err(fail(
                            "submitButton field elementId",
                            format!("must be a string, not {}", json_kind(other)),
                        ))
                    }
                    None => "submit".to_string(),
                };
                check_name(&element_id, MAX_ELEMENT_ID_CHARS)
                    .map_err(|reason| fail("submitButton field elementId", reason))?;
                if !element_ids.insert(element_id.clone()) {
                    return Err(fail(
                        "submitButton field elementId",
                        format!("\"{element_id}\" is already used by a component"),
                    ));
                }
                let ui_label = match b.get("uiLabel") {
                    Some(Value::String(s)) => {
                        compile(s).map_err(|e| fail("submitButton field uiLabel", e.to_string()))?
                    }
                    Some(other) => {
                        return Err(fail(
                            "submitButton field uiLabel",
                            format!("must be a string, not {}", json_kind(other)),
                        ))
                    }
                    None => {
                        return Err(fail(
                            "submitButton field uiLabel",
                            "is required".to_string(),
                        ))
                    }
                };
                Some(SubmitButton {
                    element_id,
                    ui_label,
                })
            }
            Some(other) => {
                return Err(fail(
                    "submitButton",
                    format!("must be an object, not {}", json_kind(other)),
                ))
            }
        };
        if submit_button.is_none() && !components.iter().any(|c| c.kind == ComponentKind::Submit) {
            return Err(fail(
                "submitButton",
                "the form cannot be answered: give a submitButton or a component of type submit"
                    .to_string(),
            ));
        }
        Ok(FormDefinition {
            name,
            title,
            components,
            submit_button,
        })
    }

    /// The definition in canonical JSON (field order fixed, defaults filled in): what is stored
    /// and what the content hash is computed over.
    pub fn to_json(&self) -> Value {
        let mut out = Map::new();
        out.insert("name".into(), Value::String(self.name.clone()));
        out.insert(
            "title".into(),
            title_json(&self.title, |t| Ok::<_, ()>(t.source().to_string())).unwrap_or(Value::Null),
        );
        out.insert(
            "components".into(),
            Value::Array(
                self.components
                    .iter()
                    .map(|c| {
                        component_json(c, |t| Ok::<_, ()>(t.source().to_string()))
                            .unwrap_or(Value::Null)
                    })
                    .collect(),
            ),
        );
        if let Some(b) = &self.submit_button {
            out.insert(
                "submitButton".into(),
                submit_json(b, b.ui_label.source().to_string()),
            );
        }
        Value::Object(out)
    }

    /// Hex SHA-256 of the canonical JSON: identical content, identical hash.
    pub fn content_hash(&self) -> String {
        let bytes = serde_json::to_vec(&self.to_json()).unwrap_or_default();
        let digest = Sha256::digest(&bytes);
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Renders the form (deployed as `version`) against an instance's variables.
    pub fn render(&self, version: u32, variables: &Value) -> Result<Value, FormRenderError> {
        let fail = |location: String, reason: String| FormRenderError {
            form: self.name.clone(),
            version,
            location,
            reason,
        };
        let mut out = Map::new();
        out.insert("name".into(), Value::String(self.name.clone()));
        out.insert("version".into(), Value::from(version));
        let title = title_json(&self.title, |t| t.render(variables))
            .map_err(|(field, e)| fail(format!("title.{field}"), e.to_string()))?;
        out.insert("title".into(), title);
        let mut components = Vec::with_capacity(self.components.len());
        for (index, component) in self.components.iter().enumerate() {
            let mut rendered =
                component_json(component, |t| t.render(variables)).map_err(|(field, e)| {
                    fail(
                        format!("{} field {field}", component.describe(index)),
                        e.to_string(),
                    )
                })?;
            if component.kind == ComponentKind::QrCode {
                let content = rendered
                    .get("qrContent")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let size = match component.field("size") {
                    Some(FieldValue::Size(s)) => *s,
                    _ => DEFAULT_QR_SIZE,
                };
                let svg = qr::svg(content, size).map_err(|e| {
                    fail(
                        format!("{} field qrContent", component.describe(index)),
                        e.to_string(),
                    )
                })?;
                if let Value::Object(m) = &mut rendered {
                    m.insert("svg".into(), Value::String(svg));
                }
            }
            components.push(rendered);
        }
        out.insert("components".into(), Value::Array(components));
        if let Some(b) = &self.submit_button {
            let label = b
                .ui_label
                .render(variables)
                .map_err(|e| fail("submitButton field uiLabel".to_string(), e.to_string()))?;
            out.insert("submitButton".into(), submit_json(b, label));
        }
        Ok(Value::Object(out))
    }
}

fn title_json<E>(
    title: &Title,
    mut text: impl FnMut(&TextTemplate) -> Result<String, E>,
) -> Result<Value, (&'static str, E)> {
    let mut out = Map::new();
    out.insert(
        "text".into(),
        Value::String(text(&title.text).map_err(|e| ("text", e))?),
    );
    if let Some(sub) = &title.subtitle {
        out.insert(
            "subtitle".into(),
            Value::String(text(sub).map_err(|e| ("subtitle", e))?),
        );
    }
    Ok(Value::Object(out))
}

fn component_json<E>(
    component: &Component,
    mut text: impl FnMut(&TextTemplate) -> Result<String, E>,
) -> Result<Value, (&'static str, E)> {
    let mut out = Map::new();
    out.insert("type".into(), Value::String(component.kind.as_str().into()));
    out.insert(
        "elementId".into(),
        Value::String(component.element_id.clone()),
    );
    for (name, value) in &component.fields {
        let v = match value {
            FieldValue::Template(t) => Value::String(text(t).map_err(|e| (*name, e))?),
            FieldValue::Bool(b) => Value::Bool(*b),
            FieldValue::Size(s) => Value::from(*s),
        };
        out.insert((*name).into(), v);
    }
    Ok(Value::Object(out))
}

fn submit_json(button: &SubmitButton, label: String) -> Value {
    let mut out = Map::new();
    out.insert("elementId".into(), Value::String(button.element_id.clone()));
    out.insert("uiLabel".into(), Value::String(label));
    Value::Object(out)
}

fn parse_component(index: usize, raw: &Value) -> Result<Component, (String, String)> {
    let here = format!("components[{index}]");
    let Value::Object(map) = raw else {
        return Err((here, format!("must be an object, not {}", json_kind(raw))));
    };
    let kind_text = match map.get("type") {
        Some(Value::String(t)) => t.as_str(),
        Some(other) => {
            return Err((
                format!("{here} field type"),
                format!("must be a string, not {}", json_kind(other)),
            ))
        }
        None => return Err((format!("{here} field type"), "is required".to_string())),
    };
    let Some(component_kind) = ComponentKind::parse(kind_text) else {
        let known: Vec<_> = ComponentKind::ALL.iter().map(|k| k.as_str()).collect();
        return Err((
            format!("{here} field type"),
            format!(
                "unknown component type \"{kind_text}\"; known: {}",
                known.join(", ")
            ),
        ));
    };
    let element_id = match map.get("elementId") {
        Some(Value::String(id)) => id.clone(),
        Some(other) => {
            return Err((
                format!("{here} ({component_kind}) field elementId"),
                format!("must be a string, not {}", json_kind(other)),
            ))
        }
        None => {
            return Err((
                format!("{here} ({component_kind}) field elementId"),
                "is required".to_string(),
            ))
        }
    };
    let here = format!("{here} ({component_kind} \"{element_id}\")");
    check_name(&element_id, MAX_ELEMENT_ID_CHARS)
        .map_err(|r| (format!("{here} field elementId"), r))?;
    let specs = component_kind.fields();
    for key in map.keys() {
        if key != "type" && key != "elementId" && !specs.iter().any(|s| s.name == key) {
            let allowed: Vec<_> = specs.iter().map(|s| s.name).collect();
            return Err((
                format!("{here} field {key}"),
                format!(
                    "unknown field for a {component_kind} component; it has elementId, {}",
                    allowed.join(", ")
                ),
            ));
        }
    }
    let mut fields = Vec::with_capacity(specs.len());
    for spec in specs {
        let at = || format!("{here} field {}", spec.name);
        let value = match (map.get(spec.name), spec.ty) {
            (None, _) if spec.required => return Err((at(), "is required".to_string())),
            (None, FieldType::Template) => continue,
            (None, FieldType::Bool { default }) => FieldValue::Bool(default),
            (None, FieldType::Size { default }) => FieldValue::Size(default),
            (Some(Value::String(s)), FieldType::Template) => {
                FieldValue::Template(compile(s).map_err(|e| (at(), e.to_string()))?)
            }
            (Some(Value::Bool(b)), FieldType::Bool { .. }) => FieldValue::Bool(*b),
            (Some(Value::Number(n)), FieldType::Size { .. }) => {
                match n.as_u64().and_then(|s| u32::try_from(s).ok()) {
                    Some(s) if (qr::MIN_SIZE..=qr::MAX_SIZE).contains(&s) => FieldValue::Size(s),
                    _ => {
                        return Err((
                            at(),
                            format!(
                                "{n} is not a size in pixels from {} to {}",
                                qr::MIN_SIZE,
                                qr::MAX_SIZE
                            ),
                        ))
                    }
                }
            }
            (Some(other), ty) => {
                let expected = match ty {
                    FieldType::Template => "a string",
                    FieldType::Bool { .. } => "a boolean",
                    FieldType::Size { .. } => "a whole number of pixels",
                };
                return Err((
                    at(),
                    format!("must be {expected}, not {}", json_kind(other)),
                ));
            }
        };
        fields.push((spec.name, value));
    }
    Ok(Component {
        kind: component_kind,
        element_id,
        fields,
    })
}

fn compile(text: &str) -> Result<TextTemplate, TemplateSyntaxError> {
    TextTemplate::compile(text)
}

/// Names and element IDs: 1 to `max` characters of `A-Z a-z 0-9 . _ -`, starting with a letter
/// or a digit (so they are safe in keys, URLs and HTML IDs).
/// Longest form name, in characters.
pub const MAX_FORM_NAME_CHARS: usize = 100;
/// Longest element ID, in characters.
const MAX_ELEMENT_ID_CHARS: usize = 64;
/// What `check_name` accepts, as an ECMA-262 regular expression (lengths apart).
pub const NAME_PATTERN: &str = "^[A-Za-z0-9][A-Za-z0-9._-]*$";

/// A JSON Schema (2020-12) of what [`FormDefinition::from_json`] accepts, generated from the
/// same component table, for the API document. What a schema cannot say: every template must
/// compile, and element IDs must be unique within the form.
pub fn definition_json_schema() -> Value {
    let name = |max: usize| serde_json::json!({"type": "string", "minLength": 1, "maxLength": max, "pattern": NAME_PATTERN});
    let template =
        serde_json::json!({"type": "string", "description": "A template (`<<processvar.x>>`)."});
    let components: Vec<Value> = ComponentKind::ALL
        .iter()
        .map(|kind| {
            let mut types = vec![Value::from(kind.as_str())];
            if *kind == ComponentKind::Submit {
                types.push(Value::from("submitButton"));
            }
            let mut properties = Map::new();
            properties.insert("type".into(), serde_json::json!({ "enum": types }));
            properties.insert("elementId".into(), name(MAX_ELEMENT_ID_CHARS));
            let mut required = vec![Value::from("type"), Value::from("elementId")];
            for spec in kind.fields() {
                let schema = match spec.ty {
                    FieldType::Template => template.clone(),
                    FieldType::Bool { default } => {
                        serde_json::json!({"type": "boolean", "default": default})
                    }
                    FieldType::Size { default } => serde_json::json!({
                        "type": "integer", "minimum": qr::MIN_SIZE, "maximum": qr::MAX_SIZE,
                        "default": default
                    }),
                };
                properties.insert(spec.name.into(), schema);
                if spec.required {
                    required.push(Value::from(spec.name));
                }
            }
            serde_json::json!({
                "type": "object", "title": kind.as_str(), "properties": properties,
                "required": required, "additionalProperties": false
            })
        })
        .collect();
    serde_json::json!({
        "type": "object",
        "description": "A custom form definition. Beyond this schema, every template must compile and element IDs must be unique within the form.",
        "required": ["name", "title", "components"],
        "additionalProperties": false,
        "properties": {
            "name": name(MAX_FORM_NAME_CHARS),
            "title": {"oneOf": [template, {
                "type": "object", "required": ["text"], "additionalProperties": false,
                "properties": {"text": template, "subtitle": template}
            }]},
            "components": {"type": "array", "maxItems": MAX_COMPONENTS, "items": {"oneOf": components}},
            "submitButton": {"oneOf": [{"type": "null"}, {
                "type": "object", "required": ["uiLabel"], "additionalProperties": false,
                "properties": {"elementId": name(MAX_ELEMENT_ID_CHARS), "uiLabel": template}
            }]}
        }
    })
}

/// Whether `name` is usable as a form's name (it is a path segment of the API): 1 to
/// [`MAX_FORM_NAME_CHARS`] ASCII letters, digits, '.', '_' and '-', starting with a letter or digit.
pub fn check_form_name(name: &str) -> Result<(), String> {
    check_name(name, MAX_FORM_NAME_CHARS)
}

fn check_name(name: &str, max: usize) -> Result<(), String> {
    if name.is_empty() {
        return Err("must not be empty".to_string());
    }
    if name.chars().count() > max {
        return Err(format!("is longer than {max} characters"));
    }
    if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err(format!("\"{name}\" must start with a letter or a digit"));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err(format!(
            "\"{name}\" contains {bad:?}; use letters, digits, '.', '_' and '-'"
        ));
    }
    Ok(())
}

fn invalid(form: &str, location: &str, reason: impl Into<String>) -> FormInvalid {
    FormInvalid::Invalid {
        form: form.to_string(),
        location: location.to_string(),
        reason: reason.into(),
    }
}

#[cfg(test)]
mod tests;
