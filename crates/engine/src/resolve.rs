//! An activity's parameters resolved against the process variables: substitution, coercion to
//! the catalogue's types, and the redacted copy that goes into history.
//!
//! Coercion rules (the catalogue type of each parameter decides):
//!
//! | type | accepted |
//! |---|---|
//! | STRING | any value: text stays text; other JSON values pass unchanged (a "Browser Response" parameter receives the form's object) |
//! | INTEGER | an integral number; text holding one (`"3"`, `" -2 "`) |
//! | BOOLEAN | `true`/`false`; the text `true`/`false` (any case) |
//! | LIST_STRING | an array of strings; text holding a JSON array of strings; other text split on `,` (items trimmed, empty items dropped) |
//!
//! A commitment marker (a secret seen through redacted variables, as in a replay) is never
//! coerced: it stands for a value the original run accepted.
//!
//! A text template with a secret part (`"code <<processvar.form.code>>"`) is recorded as it
//! renders with the secret parts as their markers: the text around them is no secret (it comes
//! from the definition and from variables history shows anyway), and a replay, whose variables
//! hold those markers, renders the very same text without any key.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::sync::Arc;

use idflow_defs::{Activity, ParamType};
use idflow_expr::{json_kind, render_text, EvalError, ParamExpr, Part, VarPath};
use serde_json::{Number, Value};

use crate::redact::{is_marker, redact_at, MarkerKey};
use crate::{Inputs, RecordedInputs};

/// The resolved parameters: real values for the command, redacted ones for history.
pub(crate) struct Resolved {
    pub inputs: Inputs,
    pub recorded: RecordedInputs,
}

/// Why a parameter could not be resolved; the caller adds the activity's ID and name.
/// `reason` reads after the parameter's name ("must be INTEGER, ...").
pub(crate) struct ParamError {
    pub param: &'static str,
    pub reason: String,
}

/// Resolves every parameter of `activity` in catalogue order.
pub(crate) fn resolve_inputs(
    activity: &Activity,
    vars: &Value,
    secrets: &BTreeSet<VarPath>,
    key: &MarkerKey,
) -> Result<Resolved, ParamError> {
    let spec = activity.spec();
    let mut inputs = Vec::with_capacity(activity.params.len());
    let mut recorded = Vec::with_capacity(activity.params.len());
    // The activity's parameters come in catalogue order: walk the catalogue alongside them
    // instead of searching it for each one (a plain search remains the fallback).
    let mut catalogue = spec.params.iter();
    for param in &activity.params {
        let ty = catalogue
            .by_ref()
            .find(|p| std::ptr::eq(p.name, param.name) || p.name == param.name)
            .or_else(|| spec.param(param.name))
            .map_or(ParamType::String, |p| p.ty);
        // A constant resolved before is shared as it is: it reads no variable, so it holds no
        // secret and comes out the same every time.
        if let Some(constant) = param.constant.get() {
            recorded.push((Cow::Borrowed(param.name), Arc::clone(constant)));
            inputs.push((param.name, Arc::clone(constant)));
            continue;
        }
        let (raw, redacted) = eval(&param.value, vars, secrets, key).map_err(|e| ParamError {
            param: param.name,
            reason: match param
                .value
                .paths()
                .into_iter()
                .find(|p| crate::redact::touches_secret(p, secrets))
            {
                // Not what the secret holds: that would describe a secret, and a replay, which
                // holds its marker, would describe something else.
                Some(path) => format!(
                    "cannot be resolved: `{path}` reads a secret value, whose contents are not described"
                ),
                None => format!("cannot be resolved: {e}"),
            },
        })?;
        let value = if redacted.is_some() && is_marker(&raw) {
            raw
        } else {
            coerce(raw, ty).map_err(|bad| ParamError {
                param: param.name,
                reason: format!(
                    "must be {}, but its value {} is not",
                    ty.as_str(),
                    if redacted.is_some() {
                        "(a secret)".to_string()
                    } else {
                        describe(&bad)
                    }
                ),
            })?
        };
        let value = Arc::new(value);
        let shown = match redacted {
            Some(redacted) => Arc::new(redacted),
            None => {
                if matches!(param.value, ParamExpr::Text(_) | ParamExpr::Literal(_)) {
                    // Another thread may have set it meanwhile: the same value either way.
                    let _ = param.constant.set(Arc::clone(&value));
                }
                Arc::clone(&value)
            }
        };
        recorded.push((Cow::Borrowed(param.name), shown));
        inputs.push((param.name, value));
    }
    Ok(Resolved {
        inputs: Inputs(inputs),
        recorded: RecordedInputs(recorded),
    })
}

/// Evaluates one parameter: its real value and, when a secret is involved, the redacted value
/// history records instead.
fn eval(
    expr: &ParamExpr,
    vars: &Value,
    secrets: &BTreeSet<VarPath>,
    key: &MarkerKey,
) -> Result<(Value, Option<Value>), EvalError> {
    match expr {
        ParamExpr::Whole(path) => {
            let value = path.resolve(vars)?;
            let redacted = redact_at(path, value, secrets, key);
            Ok((value.clone(), redacted))
        }
        ParamExpr::Template(parts) if !secrets.is_empty() => {
            // Render twice only when a part involves a secret: once for the activity, once with
            // the secret parts as markers, which history records. In a replay the parts already
            // are markers, so the recorded text comes out the same (and no key is needed).
            let mut real = String::new();
            let mut shown = String::new();
            let mut involved = false;
            for part in parts {
                match part {
                    Part::Text(t) => {
                        real.push_str(t);
                        shown.push_str(t);
                    }
                    Part::Var(path) => {
                        let value = path.resolve(vars)?;
                        let text = render_text(value);
                        match redact_at(path, value, secrets, key) {
                            Some(r) => {
                                involved = true;
                                shown.push_str(&render_text(&r));
                            }
                            None => shown.push_str(&text),
                        }
                        real.push_str(&text);
                    }
                }
            }
            let redacted = involved.then_some(Value::String(shown));
            Ok((Value::String(real), redacted))
        }
        other => Ok((other.eval(vars)?, None)),
    }
}

/// Coerces `value` to `ty`; on failure gives the value back for the message.
pub(crate) fn coerce(value: Value, ty: ParamType) -> Result<Value, Value> {
    match ty {
        ParamType::String => Ok(value),
        ParamType::Integer => match &value {
            Value::Number(n) if n.is_i64() || n.is_u64() => Ok(value),
            Value::Number(n) => match n.as_f64() {
                // An integral float (3.0) is an integer written with a point.
                Some(f) if f.fract() == 0.0 && f.abs() < 9.007_199_254_740_992e15 => {
                    Ok(Value::Number(Number::from(f as i64)))
                }
                _ => Err(value),
            },
            Value::String(s) => match s.trim().parse::<i64>() {
                Ok(i) => Ok(Value::Number(Number::from(i))),
                Err(_) => Err(value),
            },
            _ => Err(value),
        },
        ParamType::Boolean => match &value {
            Value::Bool(_) => Ok(value),
            Value::String(s) if s.trim().eq_ignore_ascii_case("true") => Ok(Value::Bool(true)),
            Value::String(s) if s.trim().eq_ignore_ascii_case("false") => Ok(Value::Bool(false)),
            _ => Err(value),
        },
        ParamType::ListString => match &value {
            Value::Array(items) if items.iter().all(Value::is_string) => Ok(value),
            Value::String(s) if s.trim_start().starts_with('[') => {
                match serde_json::from_str::<Vec<String>>(s) {
                    Ok(items) => Ok(Value::Array(items.into_iter().map(Value::String).collect())),
                    Err(_) => Err(value),
                }
            }
            Value::String(s) => Ok(Value::Array(
                s.split(',')
                    .map(str::trim)
                    .filter(|item| !item.is_empty())
                    .map(|item| Value::String(item.to_string()))
                    .collect(),
            )),
            _ => Err(value),
        },
    }
}

/// A value as a message shows it: its type and (shortened) JSON text.
fn describe(value: &Value) -> String {
    const MAX: usize = 60;
    let text = value.to_string();
    let shown = if text.chars().count() > MAX {
        let cut: String = text.chars().take(MAX).collect();
        format!("{cut}…")
    } else {
        text
    };
    format!("{shown} ({})", json_kind(value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn coercion_table() {
        use ParamType::*;
        let ok: Vec<(Value, ParamType, Value)> = vec![
            (json!("x"), String, json!("x")),
            (json!({"form": 1}), String, json!({"form": 1})),
            (json!(7), String, json!(7)),
            (json!(3), Integer, json!(3)),
            (json!("3"), Integer, json!(3)),
            (json!(" -2 "), Integer, json!(-2)),
            (json!(4.0), Integer, json!(4)),
            (json!(true), Boolean, json!(true)),
            (json!("FALSE"), Boolean, json!(false)),
            (json!(" true"), Boolean, json!(true)),
            (json!(["a", "b"]), ListString, json!(["a", "b"])),
            (json!("[\"a\", \"b,c\"]"), ListString, json!(["a", "b,c"])),
            (json!("a, b,,c "), ListString, json!(["a", "b", "c"])),
            (json!(""), ListString, json!([])),
        ];
        for (input, ty, want) in ok {
            assert_eq!(
                coerce(input.clone(), ty),
                Ok(want),
                "{input} as {}",
                ty.as_str()
            );
        }
        let refused: Vec<(Value, ParamType)> = vec![
            (json!("three"), Integer),
            (json!(2.5), Integer),
            (json!(true), Integer),
            (json!(null), Integer),
            (json!("yes"), Boolean),
            (json!(1), Boolean),
            (json!([1, 2]), ListString),
            (json!("[1, 2]"), ListString),
            (json!({"a": 1}), ListString),
        ];
        for (input, ty) in refused {
            assert_eq!(
                coerce(input.clone(), ty),
                Err(input.clone()),
                "{input} as {}",
                ty.as_str()
            );
        }
    }

    #[test]
    fn long_values_are_shortened_in_messages() {
        let long = json!("x".repeat(500));
        let shown = describe(&long);
        assert!(shown.len() < 100, "{shown}");
        assert!(shown.ends_with("… (a string)"), "{shown}");
    }
}
