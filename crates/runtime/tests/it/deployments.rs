//! Deployments: versions per tenant, identical content keeps its version, invalid files carry
//! their diagnostics, instances stay on the version they started with.

use crate::common::*;
use idflow_runtime::flows;
use idflow_runtime::RuntimeError;
use serde_json::json;

/// The two-steps flow with its end renamed: same process ID, different content.
fn two_steps_variant(end_name: &str) -> Vec<u8> {
    String::from_utf8(flows::TWO_STEPS.to_vec())
        .expect("utf-8")
        .replace("name=\"Done\"", &format!("name=\"{end_name}\""))
        .into_bytes()
}

#[test]
fn versions_count_up_and_identical_content_keeps_its_version() {
    let h = temporary();
    let rt = &h.runtime;
    let first = rt
        .deploy(TENANT, "two.bpmn", flows::TWO_STEPS)
        .expect("deploys");
    assert_eq!(
        (first.name.as_str(), first.version, first.created),
        ("two-steps", 1, true)
    );
    let again = rt
        .deploy(TENANT, "again.bpmn", flows::TWO_STEPS)
        .expect("deploys");
    assert_eq!((again.version, again.created), (1, false));
    let v2 = rt
        .deploy(TENANT, "v2.bpmn", &two_steps_variant("Finished"))
        .expect("deploys");
    assert_eq!((v2.version, v2.created), (2, true));
    let v3 = rt
        .deploy(TENANT, "v3.bpmn", &two_steps_variant("Over"))
        .expect("deploys");
    assert_eq!(v3.version, 3);
    // Redeploying version 2's content gives 2 back, not 4.
    let back = rt
        .deploy(TENANT, "v2-again.bpmn", &two_steps_variant("Finished"))
        .expect("deploys");
    assert_eq!((back.version, back.created), (2, false));
    assert_eq!(
        rt.latest_version(TENANT, "two-steps").expect("reads"),
        Some(3)
    );

    // Another tenant counts on its own.
    let other = rt
        .deploy("globex", "two.bpmn", &two_steps_variant("Over"))
        .expect("deploys");
    assert_eq!((other.version, other.created), (1, true));

    let listed = rt.list_definitions(TENANT).expect("lists");
    assert_eq!(
        listed
            .iter()
            .map(|d| (d.name.as_str(), d.version))
            .collect::<Vec<_>>(),
        [("two-steps", 1), ("two-steps", 2), ("two-steps", 3)]
    );
    assert_eq!(listed[0].source_label, "two.bpmn");
    assert_eq!(listed[0].content_hash.len(), 64);
    assert_ne!(listed[0].content_hash, listed[1].content_hash);
    assert_eq!(
        rt.definition_source(TENANT, "two-steps", 2)
            .expect("source"),
        two_steps_variant("Finished")
    );
    assert_eq!(
        rt.definition_source(TENANT, "two-steps", 1)
            .expect("source"),
        flows::TWO_STEPS
    );

    let (latest, version) = rt.definition(TENANT, "two-steps", None).expect("latest");
    assert_eq!(version, 3);
    assert_eq!(latest.content_hash, listed[2].content_hash);
    let (v1, _) = rt.definition(TENANT, "two-steps", Some(1)).expect("v1");
    assert_eq!(v1.content_hash, listed[0].content_hash);
    assert!(matches!(
        rt.definition(TENANT, "two-steps", Some(9)),
        Err(RuntimeError::UnknownDefinition {
            version: Some(9),
            ..
        })
    ));
    assert!(matches!(
        rt.definition_source(TENANT, "two-steps", 9),
        Err(RuntimeError::UnknownDefinition { .. })
    ));
}

#[test]
fn an_invalid_file_is_refused_with_located_diagnostics() {
    let h = temporary();
    let broken = String::from_utf8(flows::TWO_STEPS.to_vec())
        .expect("utf-8")
        .replace("targetRef=\"done\"", "targetRef=\"nowhere\"");
    let err = h
        .runtime
        .deploy(TENANT, "broken.bpmn", broken.as_bytes())
        .expect_err("invalid");
    match &err {
        RuntimeError::InvalidDefinition {
            source_label,
            diagnostics,
        } => {
            assert_eq!(source_label, "broken.bpmn");
            assert!(diagnostics.0.iter().any(|d| d.is_error()));
            assert!(diagnostics.0.iter().all(|d| d.source == "broken.bpmn"));
            assert!(err.to_string().contains("nowhere"), "{err}");
        }
        other => panic!("expected InvalidDefinition, got {other}"),
    }
    for garbage in [&b""[..], b"not xml at all", &[0xff, 0xfe, 0x00]] {
        assert!(matches!(
            h.runtime.deploy(TENANT, "g.bpmn", garbage),
            Err(RuntimeError::InvalidDefinition { .. })
        ));
    }
    assert!(h
        .runtime
        .list_definitions(TENANT)
        .expect("lists")
        .is_empty());
}

#[test]
fn instances_stay_on_the_version_they_started_with() {
    let h = temporary();
    let rt = &h.runtime;
    rt.deploy(TENANT, "v1.bpmn", flows::TWO_STEPS).expect("v1");
    let old = rt
        .start_definition(TENANT, "two-steps", None, json!({}))
        .expect("starts");
    rt.deploy(TENANT, "v2.bpmn", &two_steps_variant("Finished"))
        .expect("v2");
    let new = rt
        .start_definition(TENANT, "two-steps", None, json!({}))
        .expect("starts");
    assert_eq!(old.definition.version, 1);
    assert_eq!(new.definition.version, 2);

    let finish = |id: &str| answer_to_the_end(rt, &rt.instance(id).expect("reads"), json!({}));
    assert_eq!(finish(&old.id).outcome.as_deref(), Some("Done"));
    assert_eq!(finish(&new.id).outcome.as_deref(), Some("Finished"));
    let pinned = rt
        .start_definition(TENANT, "two-steps", Some(1), json!({}))
        .expect("starts");
    assert_eq!(pinned.definition.version, 1);
}
