//! The element templates of `idflow templates` and the loader's reading of what they bind: every
//! template, applied as Camunda Modeler applies it, loads into the same activity as the native
//! `<idflow:activity>` form; mistakes in the template form get the native form's diagnostics.

use idflow_defs::templates::{element_templates, template_id};
use idflow_defs::{catalogue, load, Loaded, NodeKind, CAMUNDA_NS};
use serde_json::Value;

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A process start -> `task` -> end around one task's XML.
fn process(task: &str, tag: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="{CAMUNDA_NS}" xmlns:idflow="https://idflow.dev/schema/bpmn/1.0" id="defs" targetNamespace="https://idflow.dev/test">
  <bpmn:process id="p" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="task"/>
    {task}
    <bpmn:sequenceFlow id="f2" sourceRef="task" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>
"#
    )
    .replace("{tag}", tag)
}

/// The task XML a template writes when applied with `values` (label -> value) over its
/// defaults, as Camunda Modeler 5 does for Camunda 7 bindings.
fn applied(template: &Value, values: &[(&str, &str)]) -> (String, &'static str) {
    let tag = match template["appliesTo"][0].as_str() {
        Some("bpmn:UserTask") => "userTask",
        _ => "serviceTask",
    };
    let mut properties = String::new();
    let mut inputs = String::new();
    for prop in template["properties"].as_array().expect("properties") {
        let binding = &prop["binding"];
        let name = binding["name"].as_str().expect("binding name");
        let value = values
            .iter()
            .find(|(label, _)| Some(*label) == prop["label"].as_str())
            .map(|(_, v)| v.to_string())
            .or_else(|| prop["value"].as_str().map(str::to_owned));
        match binding["type"].as_str() {
            Some("camunda:property") => properties.push_str(&format!(
                r#"<camunda:property name="{}" value="{}"/>"#,
                escape(name),
                escape(value.as_deref().unwrap_or(""))
            )),
            Some("camunda:inputParameter") => {
                if let Some(v) = value {
                    inputs.push_str(&format!(
                        r#"<camunda:inputParameter name="{}">{}</camunda:inputParameter>"#,
                        escape(name),
                        escape(&v)
                    ));
                }
            }
            other => panic!("unexpected binding {other:?}"),
        }
    }
    let id = template["id"].as_str().expect("id");
    (
        format!(
            r#"<bpmn:{tag} id="task" name="t" camunda:modelerTemplate="{id}" camunda:modelerTemplateVersion="1"><bpmn:extensionElements><camunda:properties>{properties}</camunda:properties><camunda:inputOutput>{inputs}</camunda:inputOutput></bpmn:extensionElements></bpmn:{tag}>"#
        ),
        tag,
    )
}

fn loaded(task: &str, tag: &str) -> Loaded {
    load("t.bpmn", process(task, tag).as_bytes())
}

/// The activity's type key and parameters, as a comparable list.
fn activity_of(loaded: &Loaded) -> (String, Vec<(String, String)>) {
    let def = loaded
        .definition
        .as_ref()
        .unwrap_or_else(|| panic!("loads: {:?}", loaded.diagnostics));
    let node = def.node("task").expect("task node");
    match &node.kind {
        NodeKind::Activity(activity) => (
            activity.spec().key.to_string(),
            activity
                .params
                .iter()
                .map(|p| (p.name.to_string(), format!("{:?}", p.value)))
                .collect(),
        ),
        other => panic!("not an activity: {other:?}"),
    }
}

#[test]
fn there_is_one_template_per_activity_with_a_field_per_parameter() {
    let templates = element_templates();
    let list = templates.as_array().expect("an array");
    assert_eq!(list.len(), catalogue().len());
    for (template, spec) in list.iter().zip(catalogue()) {
        assert_eq!(template["id"], template_id(spec.key));
        let props = template["properties"].as_array().expect("properties");
        assert_eq!(props.len(), spec.params.len() + 1, "{}", spec.key);
        assert_eq!(props[0]["value"], spec.key);
        for (prop, param) in props[1..].iter().zip(spec.params) {
            assert_eq!(prop["label"], param.name);
            assert_eq!(prop["binding"]["name"], param.name);
            assert_eq!(prop["value"].as_str(), param.default, "{}", param.name);
            assert_eq!(
                prop["constraints"]["notEmpty"].as_bool().unwrap_or(false),
                param.required
            );
        }
    }
}

#[test]
fn every_template_applied_loads_into_the_same_activity_as_the_native_form() {
    for template in element_templates().as_array().expect("array") {
        let key = template["properties"][0]["value"].as_str().expect("type");
        let spec = catalogue()
            .iter()
            .find(|s| s.key == key)
            .expect("in the catalogue");
        // Required parameters without a default get a process variable.
        let fills: Vec<(&str, String)> = spec
            .params
            .iter()
            .filter(|p| p.required && p.default.is_none())
            .map(|p| {
                (
                    p.name,
                    format!("<<processvar.token.{}>>", p.name.replace(' ', "")),
                )
            })
            .collect();
        let values: Vec<(&str, &str)> = fills.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let (task, tag) = applied(template, &values);
        let from_template = loaded(&task, tag);
        assert!(
            from_template.diagnostics.is_empty(),
            "{key}: {:?}",
            from_template.diagnostics
        );

        let params: String = values
            .iter()
            .map(|(n, v)| {
                format!(
                    r#"<idflow:param name="{}">{}</idflow:param>"#,
                    escape(n),
                    escape(v)
                )
            })
            .collect();
        let native = format!(
            r#"<bpmn:{tag} id="task" name="t"><bpmn:extensionElements><idflow:activity type="{key}">{params}</idflow:activity></bpmn:extensionElements></bpmn:{tag}>"#
        );
        let from_native = loaded(&native, tag);
        assert_eq!(
            activity_of(&from_template),
            activity_of(&from_native),
            "{key}"
        );
    }
}

fn codes(loaded: &Loaded) -> Vec<&'static str> {
    loaded.diagnostics.iter().map(|d| d.code).collect()
}

#[test]
fn mistakes_in_the_template_form_have_the_native_diagnostics() {
    let task = |body: &str| {
        format!(
            r#"<bpmn:serviceTask id="task"><bpmn:extensionElements>{body}</bpmn:extensionElements></bpmn:serviceTask>"#
        )
    };
    let get_user = r#"<camunda:properties><camunda:property name="idflow:activity" value="getUser"/></camunda:properties>"#;

    let missing = loaded(&task(get_user), "serviceTask");
    assert_eq!(codes(&missing), ["MISSING_PARAMETER"]);
    assert!(missing.diagnostics[0].message.contains("Store Name"));

    let unknown = loaded(
        &task(&format!(
            r#"{get_user}<camunda:inputOutput><camunda:inputParameter name="Store">s</camunda:inputParameter><camunda:inputParameter name="Store Name">s</camunda:inputParameter></camunda:inputOutput>"#
        )),
        "serviceTask",
    );
    assert_eq!(codes(&unknown), ["UNKNOWN_PARAMETER"]);

    let nested = loaded(
        &task(&format!(
            r#"{get_user}<camunda:inputOutput><camunda:inputParameter name="Store Name"><camunda:script scriptFormat="js">x</camunda:script></camunda:inputParameter></camunda:inputOutput>"#
        )),
        "serviceTask",
    );
    assert_eq!(codes(&nested), ["MISSING_PARAMETER", "UNKNOWN_EXTENSION"]);

    let typo = loaded(
        &task(
            r#"<camunda:properties><camunda:property name="idflow:activity" value="getUsr"/></camunda:properties>"#,
        ),
        "serviceTask",
    );
    assert_eq!(codes(&typo), ["UNKNOWN_ACTIVITY_TYPE"]);
    assert!(typo.diagnostics[0]
        .message
        .contains("did you mean 'getUser'"));

    let empty = loaded(
        &task(
            r#"<camunda:properties><camunda:property name="idflow:activity" value=" "/></camunda:properties>"#,
        ),
        "serviceTask",
    );
    assert_eq!(codes(&empty), ["MISSING_ATTRIBUTE"]);

    let both = loaded(
        &task(&format!(
            r#"<idflow:activity type="getUser"><idflow:param name="Store Name">s</idflow:param></idflow:activity>{get_user}"#
        )),
        "serviceTask",
    );
    assert_eq!(codes(&both), ["DUPLICATE_ACTIVITY"]);
    assert!(both.diagnostics[0].message.contains("element template"));

    // Camunda properties other than the type, and camunda extensions beside a native activity,
    // are read past.
    let other = loaded(
        &task(
            r#"<camunda:properties><camunda:property name="colour" value="red"/></camunda:properties>"#,
        ),
        "serviceTask",
    );
    assert_eq!(codes(&other), ["MISSING_ACTIVITY"]);
}
