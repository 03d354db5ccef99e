//! Gateway conditions: parsing (recursive descent with a nesting bound) and evaluation.

use std::borrow::Cow;
use std::fmt;

use serde_json::Value;

use crate::path::parse_json_string;
use crate::{EvalError, ExprError, VarPath};

/// Nesting deeper than this is refused, so hostile input cannot exhaust the stack.
const MAX_DEPTH: usize = 64;
/// More binary operators than this are refused: each one adds a tree level that evaluation,
/// display and drop recurse through.
const MAX_OPERATORS: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    fn as_str(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

/// A parsed gateway condition. Displays in canonical form.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    Literal(Value),
    Var(VarPath),
    Exists(VarPath),
    Not(Box<Condition>),
    And(Box<Condition>, Box<Condition>),
    Or(Box<Condition>, Box<Condition>),
    Compare(CmpOp, Box<Condition>, Box<Condition>),
}

impl Condition {
    /// Parses a condition. Never panics on any input.
    pub fn parse(text: &str) -> Result<Condition, ExprError> {
        let mut p = Parser {
            text,
            pos: 0,
            depth: 0,
            operators: 0,
        };
        let c = p.or()?;
        p.skip_ws();
        if p.pos != text.len() {
            return Err(p.err(format!("unexpected `{}`", &text[p.pos..])));
        }
        Ok(c)
    }

    /// The variable paths this condition reads.
    pub fn paths(&self) -> Vec<&VarPath> {
        let mut out = Vec::new();
        self.collect_paths(&mut out);
        out
    }

    fn collect_paths<'a>(&'a self, out: &mut Vec<&'a VarPath>) {
        match self {
            Condition::Literal(_) => {}
            Condition::Var(p) | Condition::Exists(p) => out.push(p),
            Condition::Not(c) => c.collect_paths(out),
            Condition::And(a, b) | Condition::Or(a, b) | Condition::Compare(_, a, b) => {
                a.collect_paths(out);
                b.collect_paths(out);
            }
        }
    }

    /// Evaluates to a boolean against the instance's variables.
    pub fn eval(&self, vars: &Value) -> Result<bool, EvalError> {
        match self.value(vars)?.as_ref() {
            Value::Bool(b) => Ok(*b),
            other => Err(self.type_error(format!("evaluates to {other}, not a boolean"))),
        }
    }

    fn type_error(&self, reason: String) -> EvalError {
        EvalError::Type {
            condition: self.to_string(),
            reason,
        }
    }

    /// The condition's value: literals and variables borrowed (a gateway evaluates its
    /// conditions at every visit; copying the values compared would allocate for each).
    fn value<'a>(&'a self, vars: &'a Value) -> Result<Cow<'a, Value>, EvalError> {
        Ok(match self {
            Condition::Literal(v) => Cow::Borrowed(v),
            Condition::Var(p) => Cow::Borrowed(p.resolve(vars)?),
            Condition::Exists(p) => Cow::Owned(Value::Bool(p.resolve(vars).is_ok())),
            Condition::Not(c) => Cow::Owned(Value::Bool(!c.eval(vars)?)),
            Condition::And(a, b) => Cow::Owned(Value::Bool(a.eval(vars)? && b.eval(vars)?)),
            Condition::Or(a, b) => Cow::Owned(Value::Bool(a.eval(vars)? || b.eval(vars)?)),
            Condition::Compare(op, a, b) => {
                let (l, r) = (a.value(vars)?, b.value(vars)?);
                let (l, r) = (l.as_ref(), r.as_ref());
                Cow::Owned(Value::Bool(match op {
                    CmpOp::Eq => json_eq(l, r),
                    CmpOp::Ne => !json_eq(l, r),
                    _ => {
                        let ord = match (l, r) {
                            (Value::Number(x), Value::Number(y)) => x
                                .as_f64()
                                .zip(y.as_f64())
                                .and_then(|(x, y)| x.partial_cmp(&y)),
                            (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
                            _ => None,
                        }
                        .ok_or_else(|| {
                            self.type_error(format!(
                                "`{}` needs two numbers or two strings, got {l} and {r}",
                                op.as_str()
                            ))
                        })?;
                        match op {
                            CmpOp::Lt => ord.is_lt(),
                            CmpOp::Le => ord.is_le(),
                            CmpOp::Gt => ord.is_gt(),
                            CmpOp::Ge => ord.is_ge(),
                            CmpOp::Eq | CmpOp::Ne => unreachable_eq(),
                        }
                    }
                }))
            }
        })
    }
}

// Eq and Ne are handled above; kept as a function so the match stays exhaustive without a panic.
fn unreachable_eq() -> bool {
    false
}

/// JSON equality with numbers compared by value (`1 == 1.0`).
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) => x == y,
            _ => x == y,
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_eq(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

struct Parser<'t> {
    text: &'t str,
    pos: usize,
    depth: usize,
    operators: usize,
}

impl Parser<'_> {
    fn err(&self, message: impl Into<String>) -> ExprError {
        ExprError::new(self.text, self.pos, message)
    }

    fn rest(&self) -> &str {
        &self.text[self.pos..]
    }

    fn skip_ws(&mut self) {
        let r = self.rest();
        self.pos += r.len() - r.trim_start().len();
    }

    fn eat(&mut self, tok: &str) -> bool {
        self.skip_ws();
        if self.rest().starts_with(tok) {
            self.pos += tok.len();
            true
        } else {
            false
        }
    }

    fn count_operator(&mut self) -> Result<(), ExprError> {
        self.operators += 1;
        if self.operators > MAX_OPERATORS {
            return Err(self.err(format!("more than {MAX_OPERATORS} operators")));
        }
        Ok(())
    }

    fn enter(&mut self) -> Result<(), ExprError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err(format!("nesting deeper than {MAX_DEPTH}")));
        }
        Ok(())
    }

    fn or(&mut self) -> Result<Condition, ExprError> {
        self.enter()?;
        let mut left = self.and()?;
        while self.eat("||") {
            self.count_operator()?;
            let right = self.and()?;
            left = Condition::Or(Box::new(left), Box::new(right));
        }
        self.depth -= 1;
        Ok(left)
    }

    fn and(&mut self) -> Result<Condition, ExprError> {
        let mut left = self.unary()?;
        while self.eat("&&") {
            self.count_operator()?;
            let right = self.unary()?;
            left = Condition::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Condition, ExprError> {
        self.skip_ws();
        if self.rest().starts_with('!') && !self.rest().starts_with("!=") {
            self.pos += 1;
            self.enter()?;
            let inner = self.unary()?;
            self.depth -= 1;
            return Ok(Condition::Not(Box::new(inner)));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Condition, ExprError> {
        let left = self.operand()?;
        self.skip_ws();
        let op = [
            ("==", CmpOp::Eq),
            ("!=", CmpOp::Ne),
            ("<=", CmpOp::Le),
            (">=", CmpOp::Ge),
            ("<", CmpOp::Lt),
            (">", CmpOp::Gt),
        ]
        .into_iter()
        .find(|(t, _)| self.rest().starts_with(t) && !self.rest().starts_with("<<"));
        match op {
            Some((tok, op)) => {
                self.pos += tok.len();
                self.count_operator()?;
                let right = self.operand()?;
                Ok(Condition::Compare(op, Box::new(left), Box::new(right)))
            }
            None => Ok(left),
        }
    }

    fn path(&mut self) -> Result<VarPath, ExprError> {
        self.skip_ws();
        if self.rest().starts_with("<<") {
            let start = self.pos + 2;
            let close = self.text[start..]
                .find(">>")
                .ok_or_else(|| self.err("`<<` without a closing `>>`"))?;
            let path = VarPath::parse_at(&self.text[start..start + close], self.text, start)?;
            self.pos = start + close + 2;
            Ok(path)
        } else {
            let (path, used) = VarPath::parse_prefix(self.rest(), self.text, self.pos)?;
            self.pos += used;
            Ok(path)
        }
    }

    fn operand(&mut self) -> Result<Condition, ExprError> {
        self.skip_ws();
        let text = self.text;
        let r = &text[self.pos..];
        if r.is_empty() {
            return Err(self.err("expected a value, found the end of the condition"));
        }
        if r.starts_with('(') {
            self.pos += 1;
            let inner = self.or()?;
            if !self.eat(")") {
                return Err(self.err("expected `)`"));
            }
            return Ok(inner);
        }
        if r.starts_with("<<")
            || r.get(..10)
                .is_some_and(|h| h.eq_ignore_ascii_case("processvar"))
        {
            return Ok(Condition::Var(self.path()?));
        }
        if let Some(after) = r.strip_prefix("exists") {
            if after.trim_start().starts_with('(') {
                self.pos += "exists".len();
                self.eat("(");
                let path = self.path()?;
                if !self.eat(")") {
                    return Err(self.err("expected `)` after exists(path"));
                }
                return Ok(Condition::Exists(path));
            }
        }
        if r.starts_with('"') {
            let (s, len) = parse_json_string(r).ok_or_else(|| self.err("unterminated string"))?;
            self.pos += len;
            return Ok(Condition::Literal(Value::String(s)));
        }
        if let Some(body) = r.strip_prefix('\'') {
            let end = body
                .find('\'')
                .ok_or_else(|| self.err("unterminated string"))?;
            self.pos += end + 2;
            return Ok(Condition::Literal(Value::String(body[..end].to_string())));
        }
        let word_len = r
            .char_indices()
            .find(|&(_, c)| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+' | '_')))
            .map(|(i, _)| i)
            .unwrap_or(r.len());
        let word = &r[..word_len];
        let lit = match word {
            "true" => Some(Value::Bool(true)),
            "false" => Some(Value::Bool(false)),
            "null" => Some(Value::Null),
            _ if word.starts_with(|c: char| c.is_ascii_digit() || c == '-') => {
                serde_json::from_str::<serde_json::Number>(word)
                    .ok()
                    .map(Value::Number)
            }
            _ => None,
        };
        match lit {
            Some(v) => {
                self.pos += word_len;
                Ok(Condition::Literal(v))
            }
            None => Err(self.err(format!(
                "expected a value (<<processvar...>>, a string, a number, true, false, null, exists(...)), found `{}`",
                r.chars().take(20).collect::<String>()
            ))),
        }
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Condition::Literal(v) => write!(f, "{v}"),
            Condition::Var(p) => write!(f, "<<{p}>>"),
            Condition::Exists(p) => write!(f, "exists(<<{p}>>)"),
            Condition::Not(c) => write!(f, "!({c})"),
            Condition::And(a, b) => write!(f, "({a} && {b})"),
            Condition::Or(a, b) => write!(f, "({a} || {b})"),
            Condition::Compare(op, a, b) => write!(f, "{a} {} {b}", op.as_str()),
        }
    }
}
