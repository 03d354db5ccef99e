//! The expressions of idflow, documented in one place: `<<processvar.path>>` substitutions,
//! `${...}` typed literals, and the condition language of exclusive gateways.
//!
//! # Variable paths
//!
//! `processvar` (any case: `processVar`, `PROCESSVAR`) names the root of the instance's variables,
//! followed by segments: `.key` (letters, digits, `_`, `-`, `$`), `["any key"]` (JSON string
//! escapes), `[0]` (array index). `processvar.user1.registeredPasscodes[0]["policyName"]`.
//!
//! # Parameter values ([`ParamExpr`])
//!
//! | written | meaning |
//! |---|---|
//! | `plain text` | the text itself |
//! | `<<processvar.a.b>>` alone | the value at that path, keeping its JSON type |
//! | `id-<<processvar.a>>-x` | text, each substitution rendered as text (strings unquoted, other values as JSON) |
//! | `${false}`, `${3}`, `${"x"}`, `${["a","b"]}` | a typed literal: the JSON inside the braces; bare text (`${FAIL}`) is a string |
//!
//! A path that does not resolve is an error naming the path ([`EvalError::Unresolved`]), never an
//! empty string.
//!
//! # Conditions ([`Condition`])
//!
//! ```text
//! condition := or
//! or        := and ( "||" and )*
//! and       := unary ( "&&" unary )*
//! unary     := "!" unary | comparison
//! comparison:= operand ( ("==" | "!=" | "<" | "<=" | ">" | ">=") operand )?
//! operand   := "<<" path ">>" | path | "exists(" path-or-<<path>> ")"
//!            | string ('...' or "...") | number | true | false | null | "(" condition ")"
//! ```
//!
//! `==`/`!=` compare JSON values (numbers by value: `1 == 1.0`). `<`, `<=`, `>`, `>=` compare two
//! numbers or two strings; anything else is an error. An operand standing alone must be a boolean.
//! `exists(p)` is true when the path resolves (even to `null`); it is the only place a missing path
//! is not an error. `&&` and `||` short-circuit, so `exists(p) && <<p>> == 1` is safe.

use std::fmt;

/// How parameter values are written, in a few lines for designers (the table above in short).
pub const VALUE_HELP: &str = "Plain text is the text itself. <<processvar.a.b>> alone is the process variable at that path, keeping its JSON type (e.g. <<processvar.token.storeName>>). Text around a <<...>> renders it as text. ${...} is a typed literal: ${false}, ${3}, ${\"x\"}, ${[\"a\",\"b\"]}.";

/// The condition language in a few lines for designers (the grammar above in short).
pub const CONDITION_HELP: &str = "Compare values: <<processvar.path>> == 'text', != , <, <=, >, >= (numbers or strings). Combine with &&, || and !, group with ( ). exists(processvar.path) is true when the path resolves. Literals: 'text' or \"text\", numbers, true, false, null. An operand alone must be a boolean. Example: <<processvar._decision>> == 'PASS' && exists(processvar.user1).";

use serde_json::Value;

mod condition;
mod path;

pub use condition::{CmpOp, Condition};
pub use path::{member, member_mut, Segment, VarPath};

/// How a JSON value's type is named in error messages ("a string", "an object", "null"):
/// the type, never the value, which may be secret.
pub fn json_kind(value: &serde_json::Value) -> &'static str {
    use serde_json::Value;
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A syntax error in an expression, with the byte offset in the expression text where it was found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (at offset {offset} of `{text}`)")]
pub struct ExprError {
    pub message: String,
    pub offset: usize,
    pub text: String,
}

impl ExprError {
    pub(crate) fn new(text: &str, offset: usize, message: impl Into<String>) -> ExprError {
        ExprError {
            message: message.into(),
            offset,
            text: text.to_string(),
        }
    }
}

/// An error evaluating a well-formed expression against variables.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    #[error("variable `{path}` does not resolve: {reason}")]
    Unresolved { path: String, reason: String },
    #[error("condition `{condition}`: {reason}")]
    Type { condition: String, reason: String },
}

/// One piece of a text template.
#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    Text(String),
    Var(VarPath),
}

/// A parameter value as written in a definition.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamExpr {
    /// Plain text with no substitution.
    Text(String),
    /// `${...}`: a typed literal.
    Literal(Value),
    /// Exactly one `<<...>>`: the value keeps its JSON type.
    Whole(VarPath),
    /// Text with embedded substitutions: always renders to a string.
    Template(Vec<Part>),
}

impl ParamExpr {
    /// Parses a parameter value. Never panics on any input.
    pub fn parse(text: &str) -> Result<ParamExpr, ExprError> {
        let trimmed = text.trim();
        if let Some(inner) = trimmed
            .strip_prefix("${")
            .and_then(|rest| rest.strip_suffix('}'))
        {
            if inner.contains("<<") {
                return Err(ExprError::new(
                    text,
                    0,
                    "a ${...} literal cannot contain a <<...>> substitution",
                ));
            }
            let inner = inner.trim();
            if inner.is_empty() {
                return Err(ExprError::new(text, 2, "empty ${} literal"));
            }
            return Ok(ParamExpr::Literal(
                serde_json::from_str(inner).unwrap_or_else(|_| Value::String(inner.to_string())),
            ));
        }
        if trimmed.starts_with("${") {
            return Err(ExprError::new(
                text,
                0,
                "a ${...} literal must close with `}` and stand alone",
            ));
        }
        let mut parts = Vec::new();
        let mut rest = text;
        let mut offset = 0;
        while let Some(open) = rest.find("<<") {
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_string()));
            }
            let after = &rest[open + 2..];
            let close = after.find(">>").ok_or_else(|| {
                ExprError::new(text, offset + open, "`<<` without a closing `>>`")
            })?;
            let path = VarPath::parse_at(&after[..close], text, offset + open + 2)?;
            parts.push(Part::Var(path));
            let consumed = open + 2 + close + 2;
            offset += consumed;
            rest = &rest[consumed..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_string()));
            rest = "";
        }
        if !parts.iter().all(|p| matches!(p, Part::Text(_))) {
            let mut at = 0;
            for part in &parts {
                match part {
                    Part::Text(t) => {
                        if let Some(stray) = t.find(">>") {
                            return Err(ExprError::new(
                                text,
                                at + stray,
                                "`>>` without an opening `<<`",
                            ));
                        }
                        at += t.len();
                    }
                    Part::Var(_) => at = text[at..].find(">>").map_or(at, |e| at + e + 2),
                }
            }
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_string()));
        }
        Ok(match parts.as_slice() {
            [] => ParamExpr::Text(String::new()),
            [Part::Text(t)] => ParamExpr::Text(t.clone()),
            [Part::Var(p)] if text.trim() == text => ParamExpr::Whole(p.clone()),
            _ => ParamExpr::Template(parts),
        })
    }

    /// The variable paths this value reads.
    pub fn paths(&self) -> Vec<&VarPath> {
        match self {
            ParamExpr::Whole(p) => vec![p],
            ParamExpr::Template(parts) => parts
                .iter()
                .filter_map(|p| match p {
                    Part::Var(v) => Some(v),
                    Part::Text(_) => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Evaluates against the instance's variables (the object `processvar` names).
    pub fn eval(&self, vars: &Value) -> Result<Value, EvalError> {
        match self {
            ParamExpr::Text(t) => Ok(Value::String(t.clone())),
            ParamExpr::Literal(v) => Ok(v.clone()),
            ParamExpr::Whole(p) => p.resolve(vars).cloned(),
            ParamExpr::Template(parts) => {
                let mut out = String::new();
                for part in parts {
                    match part {
                        Part::Text(t) => out.push_str(t),
                        Part::Var(p) => out.push_str(&render_text(p.resolve(vars)?)),
                    }
                }
                Ok(Value::String(out))
            }
        }
    }
}

impl fmt::Display for ParamExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamExpr::Text(t) => f.write_str(t),
            ParamExpr::Literal(v) => write!(f, "${{{v}}}"),
            ParamExpr::Whole(p) => write!(f, "<<{p}>>"),
            ParamExpr::Template(parts) => {
                for part in parts {
                    match part {
                        Part::Text(t) => f.write_str(t)?,
                        Part::Var(p) => write!(f, "<<{p}>>")?,
                    }
                }
                Ok(())
            }
        }
    }
}

/// How a value embedded in text is rendered: strings as themselves, everything else as JSON.
pub fn render_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests;
