//! Camunda Modeler element templates generated from the catalogue: one template per activity
//! type, so designers who use the desktop Modeler get the same typed fields as idflow's own
//! designer. `idflow templates` writes them; the loader reads what they bind (see
//! [`crate::activity`]'s module documentation) as an alternative to `<idflow:activity>`.
//!
//! The templates are Camunda 7 templates (`@camunda/element-templates-json-schema`): a Hidden
//! property binds the type to `<camunda:property name="idflow:activity">`, and each parameter
//! binds to a `<camunda:inputParameter name="{seed name}">`. Required parameters are `notEmpty`
//! (those with a default start with it), INTEGER ones carry a pattern that also admits
//! `<<processvar...>>` and `${...}`.

use serde_json::{json, Value};

use crate::activity::TEMPLATE_TYPE_PROPERTY;
use crate::catalogue::{catalogue, ActivitySpec, ParamSpec, ParamType};

/// The JSON schema the templates follow.
pub const TEMPLATE_SCHEMA: &str =
    "https://unpkg.com/@camunda/element-templates-json-schema/resources/schema.json";

/// The prefix of every template's `id` (`dev.idflow.addUser`).
pub const TEMPLATE_ID_PREFIX: &str = "dev.idflow.";

/// Bumped whenever the catalogue changes what a template writes.
pub const TEMPLATE_VERSION: u32 = 1;

/// The template ID of an activity type key.
pub fn template_id(key: &str) -> String {
    format!("{TEMPLATE_ID_PREFIX}{key}")
}

/// Every activity's template, in catalogue order: the JSON array Camunda Modeler loads from its
/// `resources/element-templates` folder.
pub fn element_templates() -> Value {
    Value::Array(catalogue().iter().map(template).collect())
}

fn template(spec: &ActivitySpec) -> Value {
    // Steps are user tasks (the end user answers them); the rest are service tasks.
    let applies_to = if spec.is_step() {
        "bpmn:UserTask"
    } else {
        "bpmn:ServiceTask"
    };
    let mut description = spec.description.to_string();
    if !spec.error_codes.is_empty() {
        description.push_str(&format!(
            " Error codes for an error boundary: {}.",
            spec.error_codes.join(", ")
        ));
    }
    let mut properties = vec![json!({
        "type": "Hidden",
        "value": spec.key,
        "binding": { "type": "camunda:property", "name": TEMPLATE_TYPE_PROPERTY },
    })];
    properties.extend(spec.params.iter().map(property));
    json!({
        "$schema": TEMPLATE_SCHEMA,
        "name": format!("idflow: {}", spec.name),
        "id": template_id(spec.key),
        "version": TEMPLATE_VERSION,
        "description": description,
        "appliesTo": [applies_to],
        "properties": properties,
    })
}

fn property(param: &ParamSpec) -> Value {
    let mut description = format!("{} ({}", param.description, param.ty.as_str());
    description.push_str(if param.required {
        ", required"
    } else {
        ", optional"
    });
    if let Some(default) = param.default {
        description.push_str(&format!(", default {default}"));
    }
    description
        .push_str("). <<processvar.path>> takes a process variable; ${...} a typed literal.");
    let mut prop = json!({
        "label": param.name,
        "description": description,
        "type": "String",
        "binding": { "type": "camunda:inputParameter", "name": param.name },
    });
    if let Some(default) = param.default {
        prop["value"] = json!(default);
    }
    let mut constraints = serde_json::Map::new();
    if param.required {
        constraints.insert("notEmpty".into(), json!(true));
    }
    if param.ty == ParamType::Integer {
        constraints.insert(
            "pattern".into(),
            json!({
                "value": r"^\s*(-?[0-9]+|<<[^<>]+>>|\$\{.*\})\s*$",
                "message": "A whole number, a <<processvar...>> or a ${...} literal.",
            }),
        );
    }
    if param.ty == ParamType::Boolean {
        constraints.insert(
            "pattern".into(),
            json!({
                "value": r"^\s*(true|false|<<[^<>]+>>|\$\{.*\})\s*$",
                "message": "true, false, a <<processvar...>> or a ${...} literal.",
            }),
        );
    }
    if !constraints.is_empty() {
        prop["constraints"] = Value::Object(constraints);
    }
    prop
}
