//! A task's activity and its parameters, checked against the catalogue: known type, known and
//! unrepeated parameters, required ones present, expressions well-formed, literals of the
//! declared type. Defaults are filled in.
//!
//! Two forms carry an activity. The native one is `<idflow:activity type="...">` with
//! `<idflow:param name="...">` children. The other is what idflow's Camunda Modeler element
//! templates (`idflow templates`) write with Camunda 7 bindings: a
//! `<camunda:property name="idflow:activity" value="...">` in `<camunda:properties>` names the
//! type, and each `<camunda:inputParameter name="...">` of `<camunda:inputOutput>` is a
//! parameter. Both are read into the same [`Activity`] with the same checks.
//!
//! Literal text of INTEGER and BOOLEAN parameters (`1`, `true`) is stored as a typed
//! [`ParamExpr::Literal`], so the engine sees the value with its declared JSON type.

use idflow_expr::ParamExpr;
use serde_json::Value;

use crate::catalogue::{ActivitySpec, ActivityType, ParamSpec, ParamType};
use crate::context::Ctx;
use crate::diagnostic::codes;
use crate::diagnostic::truncate;
use crate::model::{Activity, Param};
use crate::xml::{Element, Ns};

/// The namespace of Camunda 7's extension elements, which element templates bind to.
pub const CAMUNDA_NS: &str = "http://camunda.org/schema/1.0/bpmn";
/// The `camunda:property` name that carries the activity type in the element templates' form.
pub const TEMPLATE_TYPE_PROPERTY: &str = "idflow:activity";

fn is_camunda(el: &Element, local: &str) -> bool {
    matches!(&el.ns, Ns::Other(uri) if uri == CAMUNDA_NS) && el.local == local
}

/// Where an activity's type came from.
enum Carrier<'e> {
    /// `<idflow:activity type="...">`.
    Native(&'e Element),
    /// `<camunda:property name="idflow:activity" value="...">`.
    Template(&'e Element),
}

impl<'e> Carrier<'e> {
    fn element(&self) -> &'e Element {
        match self {
            Carrier::Native(e) | Carrier::Template(e) => e,
        }
    }

    fn type_attr(&self) -> &'static str {
        match self {
            Carrier::Native(_) => "type",
            Carrier::Template(_) => "value",
        }
    }
}

/// Reads the activity of task `el` (id `task_id`). Returns the activity when its configuration
/// is sound, and the catalogue entry whenever the type is known (for boundary checks).
pub(crate) fn read(
    ctx: &mut Ctx<'_>,
    el: &Element,
    task_id: &str,
) -> (Option<Activity>, Option<&'static ActivitySpec>) {
    let mut carriers = Vec::new();
    let mut template_params = Vec::new();
    for ext in el.bpmn_children("extensionElements") {
        for child in &ext.children {
            if is_camunda(child, "properties") {
                carriers.extend(
                    child
                        .children
                        .iter()
                        .filter(|p| {
                            is_camunda(p, "property")
                                && p.attr("name").map(str::trim) == Some(TEMPLATE_TYPE_PROPERTY)
                        })
                        .map(Carrier::Template),
                );
                continue;
            }
            if is_camunda(child, "inputOutput") {
                template_params.extend(
                    child
                        .children
                        .iter()
                        .filter(|p| is_camunda(p, "inputParameter")),
                );
                continue;
            }
            if child.ns != Ns::Idflow {
                continue;
            }
            if child.local == "activity" {
                carriers.push(Carrier::Native(child));
            } else {
                ctx.error(
                    codes::UNKNOWN_EXTENSION,
                    child,
                    Some(task_id),
                    format!(
                        "<{}> is not an idflow extension element; a task carries one <idflow:activity type=\"...\">",
                        child.qname
                    ),
                );
            }
        }
    }
    // The native form first when a task carries both (the duplicate is then the template's).
    carriers.sort_by_key(|c| matches!(c, Carrier::Template(_)));
    let Some((carrier, extra)) = carriers.split_first() else {
        ctx.error(
            codes::MISSING_ACTIVITY,
            el,
            Some(task_id),
            format!(
                "<{}> has no <idflow:activity type=\"...\"> in its extensionElements (nor an element template's <camunda:property name=\"{TEMPLATE_TYPE_PROPERTY}\">), so idflow does not know what to run",
                el.qname
            ),
        );
        return (None, None);
    };
    for dup in extra {
        ctx.error(
            codes::DUPLICATE_ACTIVITY,
            dup.element(),
            Some(task_id),
            match dup {
                Carrier::Native(_) => "a task carries exactly one <idflow:activity>".into(),
                Carrier::Template(_) => format!(
                    "a task carries exactly one activity: this element template's {TEMPLATE_TYPE_PROPERTY} property is one too many"
                ),
            },
        );
    }
    let activity_el = carrier.element();
    let type_key = activity_el
        .attr(carrier.type_attr())
        .map(str::trim)
        .unwrap_or_default();
    if type_key.is_empty() {
        ctx.error(
            codes::MISSING_ATTRIBUTE,
            activity_el,
            Some(task_id),
            match carrier {
                Carrier::Native(_) => {
                    "<idflow:activity> needs a type, e.g. type=\"getUser\"".into()
                }
                Carrier::Template(_) => format!(
                    "<{}> needs a value, the activity type, e.g. value=\"getUser\"",
                    activity_el.qname
                ),
            },
        );
        return (None, None);
    }
    let Some(activity_type) = ActivityType::from_key(type_key) else {
        let keys: Vec<&str> = crate::catalogue().iter().map(|s| s.key).collect();
        let hint = match closest(type_key, &keys) {
            Some(k) => format!("; did you mean '{k}'?"),
            None => format!(" (known types: {})", keys.join(", ")),
        };
        ctx.error(
            codes::UNKNOWN_ACTIVITY_TYPE,
            activity_el,
            Some(task_id),
            format!("unknown activity type '{}'{hint}", truncate(type_key, 80)),
        );
        return (None, None);
    };
    let spec = activity_type.spec();
    let errors_before = ctx.error_count();
    let params = match carrier {
        Carrier::Native(_) => {
            let mut given = Vec::new();
            for child in &activity_el.children {
                if child.ns != Ns::Idflow {
                    continue;
                }
                if child.local == "param" {
                    given.push(child);
                } else {
                    ctx.error(
                        codes::UNKNOWN_EXTENSION,
                        child,
                        Some(task_id),
                        format!(
                            "<{}> is not allowed in <idflow:activity>; give inputs as <idflow:param name=\"...\">",
                            child.qname
                        ),
                    );
                }
            }
            read_params(ctx, &given, activity_el, spec, task_id)
        }
        Carrier::Template(_) => read_params(ctx, &template_params, activity_el, spec, task_id),
    };
    let activity = (ctx.error_count() == errors_before).then_some(Activity {
        activity_type,
        params,
    });
    (activity, Some(spec))
}

/// Every parameter of `spec` that has a value (given or default), in catalogue order.
/// `given_els` are the parameter elements (`<idflow:param>` or `<camunda:inputParameter>`);
/// a missing parameter is reported at `activity_el`.
fn read_params<'e>(
    ctx: &mut Ctx<'_>,
    given_els: &[&'e Element],
    activity_el: &Element,
    spec: &'static ActivitySpec,
    task_id: &str,
) -> Vec<Param> {
    // Given values, by position in spec.params.
    let mut given: Vec<Given<'e>> = spec.params.iter().map(|_| Given::Absent).collect();
    for &child in given_els {
        let name = child.attr("name").map(str::trim).unwrap_or_default();
        if name.is_empty() {
            ctx.error(
                codes::MISSING_ATTRIBUTE,
                child,
                Some(task_id),
                format!("<{}> needs a name, e.g. name=\"Store Name\"", child.qname),
            );
            continue;
        }
        if let Some(nested) = child.children.first() {
            ctx.error(
                codes::UNKNOWN_EXTENSION,
                nested,
                Some(task_id),
                format!(
                    "parameter '{}' holds an element <{}>; a parameter's value is text",
                    truncate(name, 80),
                    nested.qname
                ),
            );
            continue;
        }
        let Some(position) = spec
            .params
            .iter()
            .position(|p| p.name == name || p.aliases.contains(&name))
        else {
            let names: Vec<&str> = spec.params.iter().map(|p| p.name).collect();
            let hint = closest(name, &names)
                .map(|n| format!("did you mean '{n}'? "))
                .unwrap_or_default();
            ctx.error(
                codes::UNKNOWN_PARAMETER,
                child,
                Some(task_id),
                format!(
                    "'{}' has no parameter '{}'; {hint}its parameters are: {}",
                    spec.name,
                    truncate(name, 80),
                    names.join(", ")
                ),
            );
            continue;
        };
        let Some(param) = spec.params.get(position) else {
            continue;
        };
        let Some(slot) = given.get_mut(position) else {
            continue;
        };
        if let Given::Value(first, _) | Given::Invalid(first) = slot {
            let at = ctx.location(first);
            ctx.error(
                codes::DUPLICATE_PARAMETER,
                child,
                Some(task_id),
                format!(
                    "parameter '{}' is already given at {}:{}",
                    param.name, at.line, at.column
                ),
            );
            continue;
        }
        let text = child.text.trim();
        if text.is_empty() {
            // An empty value is a value left out: the default (if any) applies.
            continue;
        }
        match typed_value(text, param) {
            Ok(value) => *slot = Given::Value(child, value),
            Err((code, message)) => {
                ctx.error(code, child, Some(task_id), message);
                *slot = Given::Invalid(child);
            }
        }
    }

    let mut params = Vec::new();
    for (param, value) in spec.params.iter().zip(given) {
        let value = match value {
            Given::Value(_, v) => v,
            // Already reported where it was given.
            Given::Invalid(_) => continue,
            Given::Absent => match param.default {
                Some(default) => match typed_value(default, param) {
                    Ok(v) => v,
                    Err((code, message)) => {
                        ctx.error(
                            code,
                            activity_el,
                            Some(task_id),
                            format!("the catalogue's default is invalid: {message}"),
                        );
                        continue;
                    }
                },
                None if param.required => {
                    ctx.error(
                        codes::MISSING_PARAMETER,
                        activity_el,
                        Some(task_id),
                        format!(
                            "'{}' needs parameter '{}' ({}), which has no default",
                            spec.name,
                            param.name,
                            param.ty.as_str()
                        ),
                    );
                    continue;
                }
                None => continue,
            },
        };
        params.push(Param::new(param.name, value));
    }
    params
}

/// What a task gave for one catalogue parameter.
enum Given<'e> {
    Absent,
    Value(&'e Element, ParamExpr),
    /// Given with a value that was reported as wrong: not "missing" as well.
    Invalid(&'e Element),
}

/// Parses a parameter's text and checks a literal against the declared type; literal text of
/// non-string types becomes a typed literal.
pub(crate) fn typed_value(
    text: &str,
    param: &ParamSpec,
) -> Result<ParamExpr, (&'static str, String)> {
    let expr = ParamExpr::parse(text).map_err(|e| {
        (
            codes::EXPRESSION_SYNTAX,
            format!(
                "parameter '{}': {}",
                param.name,
                truncate(&e.to_string(), 240)
            ),
        )
    })?;
    let wrong = |got: String| {
        Err((
            codes::PARAMETER_TYPE,
            format!(
                "parameter '{}' is {}, but {got}",
                param.name,
                param.ty.as_str()
            ),
        ))
    };
    match (&expr, param.ty) {
        (ParamExpr::Whole(_), _) => Ok(expr),
        (ParamExpr::Text(_) | ParamExpr::Template(_), ParamType::String) => Ok(expr),
        (ParamExpr::Text(t), ParamType::Integer) => match t.trim().parse::<i64>() {
            Ok(n) => Ok(ParamExpr::Literal(Value::from(n))),
            Err(_) => wrong(format!("'{}' is not a whole number", truncate(t, 80))),
        },
        (ParamExpr::Text(t), ParamType::Boolean) => match t.trim() {
            "true" => Ok(ParamExpr::Literal(Value::Bool(true))),
            "false" => Ok(ParamExpr::Literal(Value::Bool(false))),
            _ => wrong(format!("'{}' is not true or false", truncate(t, 80))),
        },
        (ParamExpr::Text(t), ParamType::ListString) => wrong(format!(
            "'{}' is text; write a list as ${{[\"a\", \"b\"]}}",
            truncate(t, 80)
        )),
        (ParamExpr::Template(_), _) => wrong(
            "text with an embedded <<...>> always renders as text; use a single <<processvar...>> or a literal"
                .into(),
        ),
        (ParamExpr::Literal(v), ty) => {
            let fits = match ty {
                ParamType::String => v.is_string(),
                ParamType::Integer => v.is_i64() || v.is_u64(),
                ParamType::Boolean => v.is_boolean(),
                ParamType::ListString => v
                    .as_array()
                    .is_some_and(|items| items.iter().all(Value::is_string)),
            };
            if fits {
                Ok(expr)
            } else {
                wrong(format!(
                    "the literal {} is {}",
                    truncate(&v.to_string(), 80),
                    json_kind(v)
                ))
            }
        }
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "an integer",
        Value::Number(_) => "a fractional number",
        Value::String(_) => "a string",
        Value::Array(items) if items.iter().all(Value::is_string) => "a list of strings",
        Value::Array(_) => "a list that is not all strings",
        Value::Object(_) => "an object",
    }
}

/// The candidate closest to `word`: case-insensitive edit distance at most 3, else the first
/// candidate that starts with it (`Store` for `Store Name`).
fn closest<'c>(word: &str, candidates: &[&'c str]) -> Option<&'c str> {
    // Long words cannot be a near miss of a short name; skip the quadratic work.
    if word.chars().count() > 64 {
        return None;
    }
    let word = word.to_lowercase();
    candidates
        .iter()
        .map(|c| (edit_distance(&word, &c.to_lowercase()), *c))
        .filter(|(d, _)| *d <= 3)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
        .or_else(|| {
            candidates
                .iter()
                .find(|c| word.chars().count() >= 3 && c.to_lowercase().starts_with(&word))
                .copied()
        })
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = Vec::with_capacity(b.len() + 1);
        cur.push(i + 1);
        for (j, cb) in b.iter().enumerate() {
            let substitute = prev.get(j).copied().unwrap_or(usize::MAX) + usize::from(ca != *cb);
            let delete = prev
                .get(j + 1)
                .copied()
                .unwrap_or(usize::MAX)
                .saturating_add(1);
            let insert = cur.get(j).copied().unwrap_or(usize::MAX).saturating_add(1);
            cur.push(substitute.min(delete).min(insert));
        }
        prev = cur;
    }
    prev.last().copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalogue_default_is_a_valid_value_of_its_type() {
        for spec in crate::catalogue() {
            for param in spec.params {
                if let Some(default) = param.default {
                    let value = typed_value(default, param);
                    assert!(value.is_ok(), "{}/{}: {value:?}", spec.key, param.name);
                }
            }
        }
    }

    #[test]
    fn literals_are_typed_and_checked() {
        let spec = |ty| ParamSpec {
            name: "P",
            aliases: &[],
            ty,
            required: true,
            default: None,
            description: "",
        };
        let int = spec(ParamType::Integer);
        assert_eq!(
            typed_value("3", &int),
            Ok(ParamExpr::Literal(Value::from(3)))
        );
        assert_eq!(
            typed_value("${3}", &int),
            Ok(ParamExpr::Literal(Value::from(3)))
        );
        assert!(typed_value("three", &int).is_err());
        assert!(typed_value("${3.5}", &int).is_err());
        assert!(typed_value("id-<<processvar.x>>", &int).is_err());
        assert!(matches!(
            typed_value("<<processvar.x>>", &int),
            Ok(ParamExpr::Whole(_))
        ));
        let boolean = spec(ParamType::Boolean);
        assert_eq!(
            typed_value("false", &boolean),
            Ok(ParamExpr::Literal(Value::Bool(false)))
        );
        assert!(typed_value("${\"false\"}", &boolean).is_err());
        let list = spec(ParamType::ListString);
        assert!(typed_value("${[\"a\",\"b\"]}", &list).is_ok());
        assert!(typed_value("${[\"a\",1]}", &list).is_err());
        assert!(typed_value("a,b", &list).is_err());
        let string = spec(ParamType::String);
        assert!(typed_value("${FAIL}", &string).is_ok());
        assert!(typed_value("${3}", &string).is_err());
        let (code, _) = typed_value("<<processvar.>>", &string).unwrap_err();
        assert_eq!(code, codes::EXPRESSION_SYNTAX);
    }

    #[test]
    fn suggestions_find_near_misses_only() {
        let keys = ["getUser", "addUser", "getTotp"];
        assert_eq!(closest("getuser", &keys), Some("getUser"));
        assert_eq!(closest("addUsr", &keys), Some("addUser"));
        assert_eq!(closest("launchRocket", &keys), None);
        assert_eq!(
            closest("store", &["User Key", "Store Name"]),
            Some("Store Name")
        );
        assert_eq!(closest("st", &["Store Name"]), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
    }
}
