//! `{{processvar.path}}` text templates of custom forms: Handlebars in strict mode, restricted to
//! substitutions, with errors that name the variable at fault.
//!
//! A template is compiled (and refused if it is not valid Handlebars or uses anything but
//! substitutions) when its form is deployed. Rendering first resolves every substitution against
//! the process variables itself, so that a missing variable or a value that is not text (an
//! object, an array, `null`) is an error naming the path; then Handlebars renders with strict
//! mode on and HTML escaping off (the rendered step is JSON: escaping is the drawing UI's job).

use handlebars::template::{Parameter, TemplateElement};
use handlebars::{Handlebars, Path, PathSeg, Template};
use idflow_expr::json_kind;
use serde_json::{Map, Value};

/// The root every substitution starts from, matched case-insensitively (`processVar` works too).
const ROOT: &str = "processvar";

/// Longest template text accepted (bytes): form fields are labels, URIs and short texts.
pub const MAX_TEMPLATE_BYTES: usize = 8 * 1024;

/// A compiled `{{processvar.path}}` template.
#[derive(Debug, Clone, PartialEq)]
pub struct TextTemplate {
    source: String,
    /// Every substitution, in order of appearance.
    substitutions: Vec<Substitution>,
}

/// One `{{...}}` of a template.
#[derive(Debug, Clone, PartialEq)]
struct Substitution {
    /// The path as written (`processVar.user1.id`), for messages.
    written: String,
    /// How the root was spelled (`processvar`, `processVar`, ...).
    root: String,
    /// The keys (or array indices) after the root.
    keys: Vec<String>,
}

/// Why a template cannot be deployed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateSyntaxError {
    #[error("is {len} bytes long, over the limit of {max}")]
    TooLong { len: usize, max: usize },
    #[error("is not a valid template: {reason}")]
    Syntax { reason: String },
    #[error(
        "uses `{found}`: form templates allow only substitutions of the form {{{{processvar.path}}}}"
    )]
    NotASubstitution { found: String },
}

/// Why a template could not be rendered against an instance's variables.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateRenderError {
    #[error("variable `{path}` does not resolve: {reason}")]
    Missing { path: String, reason: String },
    #[error("variable `{path}` is {kind}; a form field can only show text, a number or a boolean")]
    NotText { path: String, kind: &'static str },
    #[error("rendering failed: {reason}")]
    Handlebars { reason: String },
}

impl TextTemplate {
    /// Compiles and checks a template. Never panics on any input.
    pub fn compile(source: &str) -> Result<TextTemplate, TemplateSyntaxError> {
        if source.len() > MAX_TEMPLATE_BYTES {
            return Err(TemplateSyntaxError::TooLong {
                len: source.len(),
                max: MAX_TEMPLATE_BYTES,
            });
        }
        let template = Template::compile(source).map_err(|e| TemplateSyntaxError::Syntax {
            reason: describe_template_error(&e),
        })?;
        let mut substitutions = Vec::new();
        for element in &template.elements {
            match element {
                TemplateElement::RawString(_) | TemplateElement::Comment(_) => {}
                TemplateElement::Expression(h) | TemplateElement::HtmlExpression(h) => {
                    if !h.params.is_empty() || !h.hash.is_empty() || h.block {
                        return Err(TemplateSyntaxError::NotASubstitution {
                            found: format!("{{{{{}}}}}", parameter_text(&h.name)),
                        });
                    }
                    substitutions.push(Substitution::from_parameter(&h.name)?);
                }
                TemplateElement::HelperBlock(h) => {
                    return Err(TemplateSyntaxError::NotASubstitution {
                        found: format!("{{{{#{}}}}}", parameter_text(&h.name)),
                    })
                }
                _ => {
                    return Err(TemplateSyntaxError::NotASubstitution {
                        found: "a partial or decorator".to_string(),
                    })
                }
            }
        }
        Ok(TextTemplate {
            source: source.to_string(),
            substitutions,
        })
    }

    /// The template as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Whether the template has no substitution (its text is its rendering).
    pub fn is_plain(&self) -> bool {
        self.substitutions.is_empty()
    }

    /// The paths this template reads, as written.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.substitutions.iter().map(|s| s.written.as_str())
    }

    /// Renders against the instance's variables (the object `processvar` names).
    pub fn render(&self, variables: &Value) -> Result<String, TemplateRenderError> {
        if !self.source.contains("{{") {
            return Ok(self.source.clone());
        }
        // Handlebars copies its context; give it only the top-level variables the template
        // reads, under each spelling of the root it uses, not the whole tree.
        let mut context = Map::new();
        for sub in &self.substitutions {
            sub.check(variables)?;
            let root = context
                .entry(sub.root.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            if let (Value::Object(root), Some(first)) = (root, sub.keys.first()) {
                if !root.contains_key(first) {
                    if let Some(value) = variables.get(first) {
                        root.insert(first.clone(), value.clone());
                    }
                }
            }
        }
        let mut handlebars = Handlebars::new();
        handlebars.set_strict_mode(true);
        handlebars.register_escape_fn(handlebars::no_escape);
        handlebars
            .render_template(&self.source, &Value::Object(context))
            .map_err(|e| match e.reason() {
                handlebars::RenderErrorReason::MissingVariable(path) => {
                    TemplateRenderError::Missing {
                        path: path.clone().unwrap_or_else(|| "(unnamed)".to_string()),
                        reason: "not found in the process variables".to_string(),
                    }
                }
                other => TemplateRenderError::Handlebars {
                    reason: other.to_string(),
                },
            })
    }
}

impl Substitution {
    fn from_parameter(name: &Parameter) -> Result<Substitution, TemplateSyntaxError> {
        let not_a_path = || TemplateSyntaxError::NotASubstitution {
            found: format!("{{{{{}}}}}", parameter_text(name)),
        };
        let (written, segments): (String, Vec<String>) = match name {
            Parameter::Name(n) => (n.clone(), vec![n.clone()]),
            Parameter::Path(Path::Relative((segs, raw))) => {
                let mut names = Vec::with_capacity(segs.len());
                for seg in segs {
                    match seg {
                        PathSeg::Named(n) => names.push(n.clone()),
                        _ => return Err(not_a_path()),
                    }
                }
                (raw.clone(), names)
            }
            _ => return Err(not_a_path()),
        };
        let Some((root, keys)) = segments.split_first() else {
            return Err(not_a_path());
        };
        if !root.eq_ignore_ascii_case(ROOT) || keys.is_empty() {
            return Err(not_a_path());
        }
        Ok(Substitution {
            written,
            root: root.clone(),
            keys: keys.to_vec(),
        })
    }

    /// Resolves the path and checks that it names something a form can show as text.
    fn check(&self, variables: &Value) -> Result<(), TemplateRenderError> {
        let mut current = variables;
        for (depth, key) in self.keys.iter().enumerate() {
            let next = match current {
                Value::Object(map) => map.get(key),
                Value::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get(i)),
                _ => None,
            };
            current = next.ok_or_else(|| TemplateRenderError::Missing {
                path: self.written.clone(),
                reason: match current {
                    Value::Object(_) => format!("no key \"{key}\""),
                    Value::Array(items) => format!(
                        "\"{key}\" is not an index of an array of length {}",
                        items.len()
                    ),
                    other => format!(
                        "`{}` is {}, not an object",
                        self.prefix(depth),
                        json_kind(other)
                    ),
                },
            })?;
        }
        match current {
            Value::String(_) | Value::Number(_) | Value::Bool(_) => Ok(()),
            other => Err(TemplateRenderError::NotText {
                path: self.written.clone(),
                kind: json_kind(other),
            }),
        }
    }

    /// The path up to (not including) key number `depth`.
    fn prefix(&self, depth: usize) -> String {
        let mut out = self.root.clone();
        for key in self.keys.iter().take(depth) {
            out.push('.');
            out.push_str(key);
        }
        out
    }
}

fn parameter_text(p: &Parameter) -> String {
    match p {
        Parameter::Name(n) => n.clone(),
        Parameter::Path(Path::Relative((_, raw))) => raw.clone(),
        Parameter::Path(Path::Local((_, _, raw))) => raw.clone(),
        Parameter::Literal(v) => v.to_string(),
        _ => "(subexpression)".to_string(),
    }
}

/// A Handlebars syntax error as one line with its position, without the source dump the
/// library's Display adds.
fn describe_template_error(e: &handlebars::TemplateError) -> String {
    let reason = e.reason().to_string();
    let first_line = reason.lines().next().unwrap_or("syntax error").trim();
    match e.pos() {
        Some((line, column)) => format!("{first_line} (line {line}, column {column})"),
        None => first_line.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vars() -> Value {
        json!({
            "_identityStore": {"currentTOTP": {"qrCodeString": "otpauth://totp/A:b?secret=X&issuer=A", "secret": "X"}},
            "user1": {"id": "U1", "tags": ["a", "b"], "n": 3, "ok": true, "nothing": null},
        })
    }

    #[test]
    fn renders_substitutions_in_any_root_case_without_html_escaping() {
        let cases = [
            (
                "{{processvar._identityStore.currentTOTP.qrCodeString}}",
                "otpauth://totp/A:b?secret=X&issuer=A",
            ),
            ("id={{processVar.user1.id}}!", "id=U1!"),
            (
                "{{PROCESSVAR.user1.n}} / {{processvar.user1.ok}}",
                "3 / true",
            ),
            ("{{{processvar.user1.id}}}", "U1"),
            ("{{processvar.user1.tags.[1]}}", "b"),
            ("plain text", "plain text"),
            ("{{!-- a comment --}}x", "x"),
        ];
        for (source, expected) in cases {
            let template =
                TextTemplate::compile(source).unwrap_or_else(|e| panic!("{source}: {e}"));
            assert_eq!(
                template.render(&vars()).as_deref(),
                Ok(expected),
                "{source}"
            );
        }
    }

    #[test]
    fn missing_or_non_text_variables_are_errors_naming_the_path() {
        let cases = [
            (
                "{{processvar.user2.id}}",
                "processvar.user2.id",
                "no key \"user2\"",
            ),
            (
                "{{processvar.user1.id.more}}",
                "processvar.user1.id.more",
                "is a string",
            ),
            (
                "{{processvar.user1.tags.[7]}}",
                "processvar.user1.tags.[7]",
                "array of length 2",
            ),
            ("{{processvar.user1}}", "processvar.user1", "an object"),
            (
                "{{processvar.user1.tags}}",
                "processvar.user1.tags",
                "an array",
            ),
            (
                "{{processvar.user1.nothing}}",
                "processvar.user1.nothing",
                "null",
            ),
        ];
        for (source, path, reason) in cases {
            let template =
                TextTemplate::compile(source).unwrap_or_else(|e| panic!("{source}: {e}"));
            let err = template
                .render(&vars())
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(err.contains(path), "{source}: {err}");
            assert!(err.contains(reason), "{source}: {err}");
        }
    }

    #[test]
    fn refuses_bad_syntax_and_anything_but_substitutions() {
        let cases = [
            ("{{processvar.user1.id", "not a valid template"),
            ("{{#if processvar.x}}y{{/if}}", "{{#if}}"),
            ("{{lookup processvar.user1 \"id\"}}", "{{lookup}}"),
            ("{{user1.id}}", "{{user1.id}}"),
            ("{{processvar}}", "{{processvar}}"),
            ("{{> partial}}", "partial"),
            ("{{../processvar.x}}", "processvar"),
        ];
        for (source, needle) in cases {
            let err = TextTemplate::compile(source)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(err.contains(needle), "{source}: {err:?}");
        }
        // Deep nesting inside the size limit is refused (or, for a long path, fails to resolve)
        // without exhausting the stack.
        let n = MAX_TEMPLATE_BYTES / 2 - 4;
        let parens = format!("{{{{{}x{}}}}}", "(".repeat(n), ")".repeat(n));
        assert!(TextTemplate::compile(&parens).is_err());
        let blocks = "{{#if a}}".repeat(n / 9) + &"{{/if}}".repeat(n / 9);
        assert!(TextTemplate::compile(&blocks).is_err());
        let deep = format!("{{{{processvar{}}}}}", ".a".repeat(n - 10));
        let deep = TextTemplate::compile(&deep).map(|t| t.render(&vars()));
        assert!(matches!(deep, Ok(Err(TemplateRenderError::Missing { .. }))));
        let long = "x".repeat(MAX_TEMPLATE_BYTES + 1);
        assert!(matches!(
            TextTemplate::compile(&long),
            Err(TemplateSyntaxError::TooLong { .. })
        ));
    }
}
