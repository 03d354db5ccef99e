//! The shipped definitions (`definitions/*.bpmn`): each loads without a diagnostic, follows its
//! design (which error leads where, timers, the decision), reads its inputs from the process
//! token, and has a diagram a modeler can show: every element drawn, no overlapping shapes,
//! orthogonal edges that start and end on their elements and cross no other shape, left to right.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use idflow_defs::{ActivityType, Definition, NodeKind};
use idflow_expr::ParamExpr;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;
use serde_json::json;

fn definitions_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../definitions")
}

const SHIPPED: &[&str] = &[
    "current-totp",
    "passcode-authentication",
    "passcode-deregistration",
    "passcode-registration",
    "passcode-renewal",
    "totp-registration",
];

fn load_shipped(name: &str) -> (Definition, Vec<u8>) {
    let path = definitions_dir().join(format!("{name}.bpmn"));
    let loaded = idflow_defs::load_file(&path);
    assert_eq!(
        loaded.diagnostics,
        Vec::new(),
        "{name}:\n{}",
        idflow_defs::render_text(&loaded.diagnostics)
    );
    let definition = loaded.definition.expect("no diagnostics, so a definition");
    (definition, std::fs::read(&path).expect("readable"))
}

#[test]
fn exactly_the_six_flows_are_shipped_each_named_by_its_process_id() {
    let files = idflow_defs::find_definition_files(&definitions_dir()).expect("definitions/");
    let stems: Vec<String> = files
        .iter()
        .map(|p| p.file_stem().expect("stem").to_string_lossy().into_owned())
        .collect();
    assert_eq!(stems, SHIPPED);
    for name in SHIPPED {
        let (d, _) = load_shipped(name);
        assert_eq!(d.process_id, *name);
        assert!(d.name.is_some(), "{name} has a display name");
        for node in d.nodes() {
            assert!(node.name.is_some(), "{name}: '{}' has a name", node.id);
        }
    }
}

/// The questions the engine asks of a node it holds (by its position) answer as those asked by
/// ID, also for a node or flow of another copy of the definition (looked up by ID).
#[test]
fn questions_asked_of_a_node_answer_as_those_asked_by_its_id() {
    for name in SHIPPED {
        let (d, _) = load_shipped(name);
        let copy = d.clone();
        for asked in [&d, &copy] {
            for node in d.nodes() {
                let ids = |flows: Vec<&idflow_defs::Flow>| -> Vec<String> {
                    flows.iter().map(|f| f.id.to_string()).collect()
                };
                assert_eq!(
                    ids(asked.outgoing_from(node).collect()),
                    ids(d.outgoing(&node.id).collect()),
                    "{name}: flows out of '{}'",
                    node.id
                );
                let boundaries: Vec<&str> =
                    asked.boundaries_on(node).map(|b| b.id.as_str()).collect();
                let by_id: Vec<&str> = d.boundaries(&node.id).map(|b| b.id.as_str()).collect();
                assert_eq!(boundaries, by_id, "{name}: boundaries on '{}'", node.id);
                assert_eq!(
                    asked.is_error_end_node(node),
                    d.is_error_end(&node.id),
                    "{name}: '{}' an error end",
                    node.id
                );
            }
            for flow in d.flows() {
                assert_eq!(
                    asked.target(flow).map(|n| n.id.as_str()),
                    Some(flow.target.as_str()),
                    "{name}: target of '{}'",
                    flow.id
                );
            }
        }
    }
}

/// How the design says one element leads to the next.
#[derive(Debug, Clone, Copy)]
enum Via {
    /// The only sequence flow out of it.
    Flow,
    /// Its error boundary event for this code.
    Error(&'static str),
    /// Its timer boundary event of this many minutes.
    TimerMinutes(u64),
    /// The gateway's conditional flow, taken when `_decision` is PASS.
    Pass,
    /// The gateway's default flow.
    Otherwise,
}

fn next(d: &Definition, from: &str, via: Via) -> String {
    let only = |id: &str| -> String {
        let targets: Vec<_> = d.outgoing(id).map(|f| f.target.clone()).collect();
        assert_eq!(targets.len(), 1, "{}: '{id}' has one way out", d.process_id);
        targets.into_iter().next().unwrap_or_default()
    };
    match via {
        Via::Flow => only(from),
        Via::Error(code) => {
            let boundary = d
                .boundaries(from)
                .find(|b| matches!(&b.kind, NodeKind::ErrorBoundary { error_code: Some(c), .. } if c == code))
                .unwrap_or_else(|| panic!("{}: '{from}' catches {code}", d.process_id));
            only(&boundary.id)
        }
        Via::TimerMinutes(minutes) => {
            let boundary = d
                .boundaries(from)
                .find(|b| matches!(&b.kind, NodeKind::TimerBoundary { duration_ms, .. } if *duration_ms == minutes * 60_000))
                .unwrap_or_else(|| panic!("{}: '{from}' has a {minutes} minute timer", d.process_id));
            only(&boundary.id)
        }
        Via::Pass | Via::Otherwise => {
            let NodeKind::ExclusiveGateway { default_flow } = &d.node(from).expect("gateway").kind
            else {
                panic!("{}: '{from}' is a gateway", d.process_id);
            };
            let pass = json!({"_decision": "PASS"});
            let fail = json!({"_decision": "FAIL"});
            let flows: Vec<_> = d.outgoing(from).collect();
            match via {
                Via::Pass => {
                    let f = flows
                        .iter()
                        .find(|f| {
                            f.condition
                                .as_ref()
                                .is_some_and(|c| c.eval(&pass) == Ok(true))
                        })
                        .expect("a flow taken on PASS");
                    assert_eq!(f.condition.as_ref().map(|c| c.eval(&fail)), Some(Ok(false)));
                    f.target.clone()
                }
                _ => {
                    let default = default_flow.as_deref().expect("a default flow");
                    d.flow(default).expect("default flow").target.clone()
                }
            }
        }
    }
}

/// A design: the activity of each task, each step along the flow, which ends are error ends.
struct Design {
    name: &'static str,
    activities: &'static [(&'static str, ActivityType)],
    paths: &'static [(&'static str, Via, &'static str)],
    error_ends: &'static [&'static str],
    plain_ends: &'static [&'static str],
    forms: &'static [(&'static str, &'static str)],
}

const DECISION: [(&str, Via, &str); 3] = [
    ("decide", Via::Flow, "decision"),
    ("decision", Via::Pass, "SUCCESS"),
    ("decision", Via::Otherwise, "endFailed"),
];

fn designs() -> Vec<Design> {
    use ActivityType as A;
    vec![
        Design {
            name: "passcode-registration",
            activities: &[
                ("addUser", A::AddUser),
                ("getUser", A::GetUser),
                ("startRegistration", A::StartPasscodeRegistration),
                ("registrationForm", A::PasscodeRegistrationForm),
                ("completeRegistration", A::CompletePasscodeRegistration),
                ("startRenewal", A::StartPasscodeRenewal),
                ("renewalForm", A::PasscodeRenewalForm),
                ("completeRenewal", A::CompletePasscodeRenewal),
                ("decide", A::SimpleDecider),
            ],
            paths: &[
                ("start", Via::Flow, "addUser"),
                ("addUser", Via::Flow, "startRegistration"),
                ("addUser", Via::Error("EXT_ID_NOT_UNIQUE"), "getUser"),
                ("getUser", Via::Flow, "startRegistration"),
                (
                    "addUser",
                    Via::Error("FAILED_TO_ADD_USER"),
                    "endUserNotAdded",
                ),
                ("startRegistration", Via::Flow, "registrationForm"),
                (
                    "startRegistration",
                    Via::Error("PASSCODE_ALREADY_REGISTERED"),
                    "startRenewal",
                ),
                ("startRenewal", Via::Flow, "renewalForm"),
                (
                    "startRenewal",
                    Via::Error("USER_LOCKED"),
                    "endRenewalUserLocked",
                ),
                ("renewalForm", Via::Flow, "completeRenewal"),
                ("completeRenewal", Via::Flow, "decide"),
                ("registrationForm", Via::TimerMinutes(15), "endTimedOut"),
                ("registrationForm", Via::Flow, "completeRegistration"),
                ("completeRegistration", Via::Flow, "decide"),
            ],
            error_ends: &["endUserNotAdded", "endRenewalUserLocked", "endFailed"],
            plain_ends: &["endRegistered", "endTimedOut"],
            forms: &[
                ("registrationForm", "passcode-registration"),
                ("renewalForm", "passcode-renewal"),
            ],
        },
        Design {
            name: "passcode-renewal",
            activities: &[
                ("getUser", A::GetUser),
                ("startRenewal", A::StartPasscodeRenewal),
                ("renewalForm", A::PasscodeRenewalForm),
                ("completeRenewal", A::CompletePasscodeRenewal),
                ("startRegistration", A::StartPasscodeRegistration),
                ("registrationForm", A::PasscodeRegistrationForm),
                ("completeRegistration", A::CompletePasscodeRegistration),
                ("decide", A::SimpleDecider),
            ],
            paths: &[
                ("start", Via::Flow, "getUser"),
                ("getUser", Via::Error("USER_NOT_FOUND"), "endUserNotFound"),
                ("getUser", Via::Flow, "startRenewal"),
                (
                    "startRenewal",
                    Via::Error("PASSCODE_NOT_REGISTERED"),
                    "startRegistration",
                ),
                ("startRegistration", Via::Flow, "registrationForm"),
                ("registrationForm", Via::Flow, "completeRegistration"),
                ("completeRegistration", Via::Flow, "decide"),
                ("startRenewal", Via::Flow, "renewalForm"),
                (
                    "startRenewal",
                    Via::Error("USER_LOCKED"),
                    "endRenewalUserLocked",
                ),
                ("renewalForm", Via::TimerMinutes(15), "endTimedOut"),
                ("renewalForm", Via::Flow, "completeRenewal"),
                ("completeRenewal", Via::Flow, "decide"),
            ],
            error_ends: &["endUserNotFound", "endRenewalUserLocked", "endFailed"],
            plain_ends: &["endRenewed", "endTimedOut"],
            forms: &[
                ("renewalForm", "passcode-renewal"),
                ("registrationForm", "passcode-registration"),
            ],
        },
        Design {
            name: "passcode-authentication",
            activities: &[
                ("getUser", A::GetUser),
                ("startAuthentication", A::StartPasscodeAuthentication),
                ("authenticationForm", A::PasscodeAuthenticationForm),
                ("completeAuthentication", A::CompletePasscodeAuthentication),
                ("decide", A::SimpleDecider),
            ],
            paths: &[
                ("start", Via::Flow, "getUser"),
                ("getUser", Via::Flow, "startAuthentication"),
                ("getUser", Via::Error("USER_NOT_FOUND"), "endUserNotFound"),
                (
                    "startAuthentication",
                    Via::Error("PASSCODE_NOT_REGISTERED"),
                    "endNoPasscode",
                ),
                (
                    "startAuthentication",
                    Via::Error("USER_LOCKED"),
                    "endLocked",
                ),
                ("startAuthentication", Via::Flow, "authenticationForm"),
                ("authenticationForm", Via::TimerMinutes(15), "endTimedOut"),
                ("authenticationForm", Via::Flow, "completeAuthentication"),
                ("completeAuthentication", Via::Flow, "decide"),
            ],
            error_ends: &["endUserNotFound", "endNoPasscode", "endLocked", "endFailed"],
            plain_ends: &["endAuthenticated", "endTimedOut"],
            forms: &[("authenticationForm", "passcode-authentication")],
        },
        Design {
            name: "passcode-deregistration",
            activities: &[
                ("getUser", A::GetUser),
                ("deregister", A::DeregisterPasscode),
            ],
            paths: &[
                ("start", Via::Flow, "getUser"),
                ("getUser", Via::Flow, "deregister"),
                ("getUser", Via::Error("USER_NOT_FOUND"), "endUserNotFound"),
                (
                    "deregister",
                    Via::Error("PASSCODE_NOT_REGISTERED"),
                    "endNoPasscode",
                ),
                ("deregister", Via::Flow, "endDeregistered"),
            ],
            error_ends: &["endUserNotFound", "endNoPasscode"],
            plain_ends: &["endDeregistered"],
            forms: &[],
        },
        Design {
            name: "totp-registration",
            activities: &[
                ("getUser", A::GetUser),
                ("startTotpRegistration", A::StartTotpRegistration),
                ("totpForm", A::TotpRegistrationForm),
                ("completeTotpRegistration", A::CompleteTotpRegistration),
                ("decide", A::SimpleDecider),
            ],
            paths: &[
                ("start", Via::Flow, "getUser"),
                ("getUser", Via::Flow, "startTotpRegistration"),
                ("getUser", Via::Error("USER_NOT_FOUND"), "endUserNotFound"),
                (
                    "startTotpRegistration",
                    Via::Error("TOTP_ALREADY_REGISTERED"),
                    "endAlreadyRegistered",
                ),
                ("startTotpRegistration", Via::Flow, "totpForm"),
                ("totpForm", Via::TimerMinutes(10), "endTimedOut"),
                ("totpForm", Via::Flow, "completeTotpRegistration"),
                ("completeTotpRegistration", Via::Flow, "decide"),
            ],
            error_ends: &["endUserNotFound", "endAlreadyRegistered", "endFailed"],
            plain_ends: &["endRegistered", "endTimedOut"],
            forms: &[("totpForm", "totp-registration")],
        },
        Design {
            name: "current-totp",
            activities: &[
                ("getUser", A::GetUser),
                ("getTotp", A::GetTotp),
                ("showCurrentTotp", A::CustomDataForm),
            ],
            paths: &[
                ("start", Via::Flow, "getUser"),
                ("getUser", Via::Flow, "getTotp"),
                ("getUser", Via::Error("USER_NOT_FOUND"), "endUserNotFound"),
                ("getTotp", Via::Error("TOTP_NOT_REGISTERED"), "endNoTotp"),
                ("getTotp", Via::Flow, "showCurrentTotp"),
                ("showCurrentTotp", Via::Flow, "endShown"),
            ],
            error_ends: &["endUserNotFound", "endNoTotp"],
            plain_ends: &["endShown"],
            forms: &[("showCurrentTotp", "current-totp")],
        },
    ]
}

#[test]
fn each_flow_follows_its_design() {
    for design in designs() {
        let (d, _) = load_shipped(design.name);
        for (id, ty) in design.activities {
            let NodeKind::Activity(activity) = &d
                .node(id)
                .unwrap_or_else(|| panic!("{}: '{id}'", design.name))
                .kind
            else {
                panic!("{}: '{id}' is an activity", design.name);
            };
            assert_eq!(activity.activity_type, *ty, "{}: '{id}'", design.name);
        }
        let uses_decider = design
            .activities
            .iter()
            .any(|(_, t)| *t == ActivityType::SimpleDecider);
        let decision: &[(&str, Via, &str)] = if uses_decider { &DECISION } else { &[] };
        let success = design.plain_ends.first().copied().unwrap_or_default();
        for (from, via, to) in design.paths.iter().chain(decision) {
            let to = if *to == "SUCCESS" { success } else { to };
            assert_eq!(
                next(&d, from, *via),
                to,
                "{}: {from} --{via:?}-->",
                design.name
            );
        }
        let ends: Vec<&str> = d
            .nodes()
            .filter(|n| matches!(n.kind, NodeKind::EndEvent))
            .map(|n| n.id.as_str())
            .collect();
        let mut expected_ends: Vec<&str> = design
            .error_ends
            .iter()
            .chain(design.plain_ends)
            .copied()
            .collect();
        let mut actual_ends = ends.clone();
        expected_ends.sort_unstable();
        actual_ends.sort_unstable();
        assert_eq!(actual_ends, expected_ends, "{}", design.name);
        for end in design.error_ends {
            assert!(
                d.is_error_end(end),
                "{}: '{end}' is an error end",
                design.name
            );
        }
        for end in design.plain_ends {
            assert!(
                !d.is_error_end(end),
                "{}: '{end}' is not an error end",
                design.name
            );
        }
        for (form, form_name) in design.forms {
            let NodeKind::Activity(a) = &d.node(form).expect("form").kind else {
                panic!("form")
            };
            assert!(a.spec().is_step());
            assert_eq!(
                a.param("Data form name"),
                Some(&ParamExpr::Text(form_name.to_string()))
            );
            assert_eq!(
                a.param("Data form version"),
                Some(&ParamExpr::Literal(json!(1)))
            );
        }
    }
}

#[test]
fn inputs_come_from_the_process_token() {
    let token_inputs = [
        "processvar.token.storeName",
        "processvar.token.externalId",
        "processvar.token.passcodePolicy",
        "processvar.token.totpPolicy",
    ];
    for name in SHIPPED {
        let (d, _) = load_shipped(name);
        for node in d.nodes() {
            let NodeKind::Activity(a) = &node.kind else {
                continue;
            };
            if a.spec().param("Store Name").is_some() {
                assert_eq!(
                    a.param("Store Name").map(ToString::to_string).as_deref(),
                    Some("<<processvar.token.storeName>>"),
                    "{name}: '{}'",
                    node.id
                );
            }
            for param in &a.params {
                for path in param.value.paths() {
                    let path = path.to_string();
                    if path.starts_with("processvar.token") {
                        assert!(token_inputs.contains(&path.as_str()), "{name}: {path}");
                    }
                }
            }
        }
    }
    let (d, _) = load_shipped("current-totp");
    let NodeKind::Activity(form) = &d.node("showCurrentTotp").expect("form").kind else {
        panic!()
    };
    assert_eq!(
        form.param("Form data Key"),
        Some(&ParamExpr::Text("ShowCurrentTOTP".into()))
    );
    let NodeKind::Activity(get_user) = &d.node("getUser").expect("getUser").kind else {
        panic!()
    };
    assert_eq!(
        get_user.param("User Key"),
        Some(&ParamExpr::Text("user1".into()))
    );
}

#[derive(Debug, Clone, Copy)]
struct Rect {
    x: f64,
    y: f64,
    w: f64,
    h: f64,
}

impl Rect {
    fn overlaps(&self, o: &Rect) -> bool {
        self.x < o.x + o.w && o.x < self.x + self.w && self.y < o.y + o.h && o.y < self.y + self.h
    }
    fn on_border(&self, (px, py): (f64, f64)) -> bool {
        let inside = px >= self.x - 1.0
            && px <= self.x + self.w + 1.0
            && py >= self.y - 1.0
            && py <= self.y + self.h + 1.0;
        let near_edge = (px - self.x).abs() <= 1.0
            || (px - self.x - self.w).abs() <= 1.0
            || (py - self.y).abs() <= 1.0
            || (py - self.y - self.h).abs() <= 1.0;
        inside && near_edge
    }
    /// Whether an axis-parallel segment passes through the inside of the rectangle.
    fn crossed_by(&self, (ax, ay): (f64, f64), (bx, by): (f64, f64)) -> bool {
        let inner = Rect {
            x: self.x + 1.0,
            y: self.y + 1.0,
            w: self.w - 2.0,
            h: self.h - 2.0,
        };
        let (x0, x1) = (ax.min(bx), ax.max(bx));
        let (y0, y1) = (ay.min(by), ay.max(by));
        x0 < inner.x + inner.w
            && inner.x < x1.max(x0 + 0.5)
            && y0 < inner.y + inner.h
            && inner.y < y1.max(y0 + 0.5)
    }
}

/// A file's BPMNDI: shapes (element id → bounds) and edges (element id → waypoints).
struct Diagram {
    shapes: HashMap<String, Rect>,
    edges: HashMap<String, Vec<(f64, f64)>>,
}

fn diagram(bytes: &[u8]) -> Diagram {
    const DI: &[u8] = b"http://www.omg.org/spec/BPMN/20100524/DI";
    const DC: &[u8] = b"http://www.omg.org/spec/DD/20100524/DC";
    const DD_DI: &[u8] = b"http://www.omg.org/spec/DD/20100524/DI";
    let mut reader = NsReader::from_reader(bytes);
    let mut shapes = HashMap::new();
    let mut edges: HashMap<String, Vec<(f64, f64)>> = HashMap::new();
    let mut current: Option<(bool, String)> = None; // (is shape, element)
    let mut in_label = false;
    let attr = |e: &quick_xml::events::BytesStart<'_>, name: &str| -> String {
        e.try_get_attribute(name)
            .ok()
            .flatten()
            .map(|a| String::from_utf8_lossy(&a.value).into_owned())
            .unwrap_or_default()
    };
    let num = |e: &quick_xml::events::BytesStart<'_>, name: &str| -> f64 {
        attr(e, name)
            .parse()
            .unwrap_or_else(|_| panic!("numeric {name}"))
    };
    loop {
        match reader.read_event().expect("well-formed") {
            Event::Eof => break,
            Event::Start(e) | Event::Empty(e) => {
                let (ns, local) = reader.resolve_element(e.name());
                let ns = match ns {
                    ResolveResult::Bound(n) => n.into_inner().to_vec(),
                    _ => Vec::new(),
                };
                match (ns.as_slice(), local.as_ref()) {
                    (DI, b"BPMNShape") => current = Some((true, attr(&e, "bpmnElement"))),
                    (DI, b"BPMNEdge") => current = Some((false, attr(&e, "bpmnElement"))),
                    (DI, b"BPMNLabel") => in_label = true,
                    (DC, b"Bounds") if !in_label => {
                        if let Some((true, id)) = &current {
                            shapes.insert(
                                id.clone(),
                                Rect {
                                    x: num(&e, "x"),
                                    y: num(&e, "y"),
                                    w: num(&e, "width"),
                                    h: num(&e, "height"),
                                },
                            );
                        }
                    }
                    (DD_DI, b"waypoint") => {
                        if let Some((false, id)) = &current {
                            edges
                                .entry(id.clone())
                                .or_default()
                                .push((num(&e, "x"), num(&e, "y")));
                        }
                    }
                    _ => {}
                }
            }
            Event::End(e) => {
                let (_, local) = reader.resolve_element(e.name());
                match local.as_ref() {
                    b"BPMNLabel" => in_label = false,
                    b"BPMNShape" | b"BPMNEdge" => current = None,
                    _ => {}
                }
            }
            _ => {}
        }
    }
    Diagram { shapes, edges }
}

#[test]
fn each_flow_has_a_readable_left_to_right_diagram() {
    for name in SHIPPED {
        let (d, bytes) = load_shipped(name);
        let Diagram { shapes, edges } = diagram(&bytes);
        let host_of = |id: &str| match &d.node(id).map(|n| &n.kind) {
            Some(
                NodeKind::ErrorBoundary { attached_to, .. }
                | NodeKind::TimerBoundary { attached_to, .. },
            ) => Some(attached_to.clone()),
            _ => None,
        };
        let nodes: Vec<&str> = d.nodes().map(|n| n.id.as_str()).collect();
        assert_eq!(shapes.len(), nodes.len(), "{name}: one shape per element");
        for id in &nodes {
            assert!(shapes.contains_key(*id), "{name}: '{id}' is drawn");
        }
        for (i, a) in nodes.iter().enumerate() {
            for b in &nodes[i + 1..] {
                let attached =
                    host_of(a).as_deref() == Some(*b) || host_of(b).as_deref() == Some(*a);
                if !attached {
                    assert!(
                        !shapes[*a].overlaps(&shapes[*b]),
                        "{name}: '{a}' overlaps '{b}'"
                    );
                }
            }
            if let Some(host) = host_of(a) {
                assert!(
                    shapes[*a].overlaps(&shapes[&host]),
                    "{name}: '{a}' sits on its activity's border"
                );
            }
        }
        let start_x = shapes[d.start().id.as_str()].x;
        assert!(
            shapes.values().all(|r| r.x >= start_x),
            "{name}: the start is leftmost"
        );
        assert_eq!(edges.len(), d.flows().count(), "{name}: one edge per flow");
        for flow in d.flows() {
            let points = edges
                .get(flow.id.as_str())
                .unwrap_or_else(|| panic!("{name}: '{}' is drawn", flow.id));
            assert!(points.len() >= 2, "{name}: '{}' has waypoints", flow.id);
            let (first, last) = (points[0], points[points.len() - 1]);
            assert!(
                shapes[&flow.source].on_border(first),
                "{name}: '{}' starts on its source",
                flow.id
            );
            assert!(
                shapes[&flow.target].on_border(last),
                "{name}: '{}' ends on its target",
                flow.id
            );
            for pair in points.windows(2) {
                let (a, b) = (pair[0], pair[1]);
                assert!(
                    a.0 == b.0 || a.1 == b.1,
                    "{name}: '{}' is orthogonal",
                    flow.id
                );
                for (id, rect) in &shapes {
                    if *id == flow.source || *id == flow.target {
                        continue;
                    }
                    assert!(
                        !rect.crossed_by(a, b),
                        "{name}: '{}' crosses '{id}'",
                        flow.id
                    );
                }
            }
        }
    }
}
