//! The loader's limits hold against hostile input: huge files, floods of tiny elements, deep
//! nesting, and conditions built to be deep trees are refused with a diagnostic, quickly and
//! without exhausting the stack.

use idflow_defs::{codes, load, Loaded, MAX_DEPTH, MAX_INPUT_BYTES, MAX_NODES};

const HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
"#;

fn codes_of(loaded: &Loaded) -> Vec<&'static str> {
    loaded.diagnostics.iter().map(|d| d.code).collect()
}

/// A process whose gateway has one flow with `condition` (already XML-escaped).
fn with_condition(condition: &str) -> String {
    format!(
        r#"{HEAD}<bpmn:process id="p" isExecutable="true">
  <bpmn:startEvent id="start" />
  <bpmn:exclusiveGateway id="g" default="other" />
  <bpmn:endEvent id="end" />
  <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="g" />
  <bpmn:sequenceFlow id="cond" sourceRef="g" targetRef="end"><bpmn:conditionExpression>{condition}</bpmn:conditionExpression></bpmn:sequenceFlow>
  <bpmn:sequenceFlow id="other" sourceRef="g" targetRef="end" />
</bpmn:process>
</bpmn:definitions>
"#
    )
}

#[test]
fn a_file_over_the_size_limit_is_refused_before_parsing() {
    let bytes = vec![b' '; MAX_INPUT_BYTES + 1];
    assert_eq!(codes_of(&load("big.bpmn", &bytes)), [codes::TOO_LARGE]);
}

#[test]
fn a_flood_of_elements_is_refused() {
    let body = "<a/>".repeat(MAX_NODES + 1);
    let text = format!("{HEAD}{body}</bpmn:definitions>");
    assert!(
        text.len() < MAX_INPUT_BYTES,
        "the flood fits the byte limit"
    );
    assert_eq!(
        codes_of(&load("flood.bpmn", text.as_bytes())),
        [codes::TOO_LARGE]
    );
}

#[test]
fn nesting_beyond_the_limit_is_refused_at_the_first_level_too_deep() {
    let depth = MAX_DEPTH * 40;
    let text = format!(
        "{HEAD}{}{}</bpmn:definitions>",
        "<a>".repeat(depth),
        "</a>".repeat(depth)
    );
    let loaded = load("deep.bpmn", text.as_bytes());
    assert_eq!(codes_of(&loaded), [codes::TOO_DEEP]);
    let d = &loaded.diagnostics[0];
    // The root is level 1, so the first refused `<a>` is the (MAX_DEPTH)th one after it.
    assert_eq!((d.line, d.column as usize), (3, (MAX_DEPTH - 1) * 3 + 1));
}

#[test]
fn long_and_or_chains_are_refused_without_overflowing_the_stack() {
    for op in ["&amp;&amp;", "||"] {
        let chain = vec!["true"; 200_000].join(&format!(" {op} "));
        let loaded = load("chain.bpmn", with_condition(&chain).as_bytes());
        assert_eq!(codes_of(&loaded), [codes::EXPRESSION_SYNTAX], "{op}");
        assert!(loaded.diagnostics[0].message.contains("too long"));
    }
    let nested = format!("{}true{}", "(".repeat(10_000), ")".repeat(10_000));
    let loaded = load("nested.bpmn", with_condition(&nested).as_bytes());
    assert_eq!(codes_of(&loaded), [codes::EXPRESSION_SYNTAX]);
    let negated = format!("{}true", "!".repeat(3_000));
    let loaded = load("negated.bpmn", with_condition(&negated).as_bytes());
    assert_eq!(codes_of(&loaded), [codes::EXPRESSION_SYNTAX]);
}

#[test]
fn conditions_within_the_limits_load() {
    let chain = vec!["&lt;&lt;processvar.n&gt;&gt; &gt; 1"; 60].join(" &amp;&amp; ");
    let loaded = load("ok.bpmn", with_condition(&chain).as_bytes());
    assert!(loaded.definition.is_some(), "{:?}", loaded.diagnostics);
}

#[test]
fn huge_parameter_and_name_values_are_truncated_in_messages() {
    let long = "x".repeat(100_000);
    let text = format!(
        r#"{HEAD}<bpmn:process id="p" xmlns:idflow="https://idflow.dev/schema/bpmn/1.0">
  <bpmn:startEvent id="start" />
  <bpmn:task id="t"><bpmn:extensionElements><idflow:activity type="{long}" /></bpmn:extensionElements></bpmn:task>
  <bpmn:endEvent id="end" />
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="t" />
  <bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="end" />
</bpmn:process>
</bpmn:definitions>
"#
    );
    let loaded = load("long.bpmn", text.as_bytes());
    assert_eq!(codes_of(&loaded), [codes::UNKNOWN_ACTIVITY_TYPE]);
    assert!(loaded.diagnostics[0].message.len() < 1_000);
}
