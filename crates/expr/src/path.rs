//! Variable paths: `processvar.a["b c"][0]`, parsed, rendered and resolved against a JSON tree.

use std::fmt;

use serde_json::{Map, Value};

use crate::{json_kind, EvalError, ExprError};

/// One step into the variable tree.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Segment {
    Key(String),
    Index(usize),
}

/// A path from the variables' root. Displays in canonical form (`processvar.a["b c"][0]`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VarPath {
    pub segments: Vec<Segment>,
}

const ROOT: &str = "processvar";

fn is_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '$'
}

impl VarPath {
    /// A path of plain keys (`VarPath::keys(&["user1", "id"])`).
    pub fn keys(keys: &[&str]) -> VarPath {
        VarPath {
            segments: keys.iter().map(|k| Segment::Key(k.to_string())).collect(),
        }
    }

    /// Parses `processvar...` (the text between `<<` and `>>`, surrounding spaces allowed).
    pub fn parse(text: &str) -> Result<VarPath, ExprError> {
        VarPath::parse_at(text, text, 0)
    }

    /// Parses `text`, which sits at byte `base` of the whole expression `whole` (for error offsets).
    pub(crate) fn parse_at(text: &str, whole: &str, base: usize) -> Result<VarPath, ExprError> {
        let lead = text.len() - text.trim_start().len();
        let t = text.trim();
        let (path, used) = VarPath::parse_prefix(t, whole, base + lead)?;
        if used != t.len() {
            return Err(ExprError::new(
                whole,
                base + lead + used,
                format!("unexpected `{}` in variable path", &t[used..]),
            ));
        }
        Ok(path)
    }

    /// Parses a path at the start of `t`; returns it and the bytes consumed.
    pub(crate) fn parse_prefix(
        t: &str,
        whole: &str,
        base: usize,
    ) -> Result<(VarPath, usize), ExprError> {
        let root_ok = t.len() >= ROOT.len()
            && t.is_char_boundary(ROOT.len())
            && t[..ROOT.len()].eq_ignore_ascii_case(ROOT);
        if !root_ok {
            return Err(ExprError::new(
                whole,
                base,
                "a variable path must start with `processvar`",
            ));
        }
        let bytes = t.as_bytes();
        let mut i = ROOT.len();
        let mut segments = Vec::new();
        while i < bytes.len() {
            match bytes[i] {
                b'.' => {
                    let start = i + 1;
                    let end = t[start..]
                        .char_indices()
                        .find(|&(_, c)| !is_key_char(c))
                        .map(|(j, _)| start + j)
                        .unwrap_or(t.len());
                    if end == start {
                        return Err(ExprError::new(whole, base + i, "expected a key after `.`"));
                    }
                    segments.push(Segment::Key(t[start..end].to_string()));
                    i = end;
                }
                b'[' => {
                    let rest = &t[i + 1..];
                    if rest.starts_with('"') {
                        let (key, len) = parse_json_string(rest).ok_or_else(|| {
                            ExprError::new(whole, base + i + 1, "unterminated or invalid \"key\"")
                        })?;
                        if !rest[len..].starts_with(']') {
                            return Err(ExprError::new(
                                whole,
                                base + i + 1 + len,
                                "expected `]` after the key",
                            ));
                        }
                        segments.push(Segment::Key(key));
                        i += 1 + len + 1;
                    } else {
                        let digits = rest.bytes().take_while(|b| b.is_ascii_digit()).count();
                        if digits == 0 || !rest[digits..].starts_with(']') {
                            return Err(ExprError::new(
                                whole,
                                base + i,
                                "expected `[number]` or `[\"key\"]`",
                            ));
                        }
                        let index: usize = rest[..digits].parse().map_err(|_| {
                            ExprError::new(whole, base + i + 1, "array index too large")
                        })?;
                        segments.push(Segment::Index(index));
                        i += 1 + digits + 1;
                    }
                }
                _ => break,
            }
        }
        Ok((VarPath { segments }, i))
    }

    /// The value at this path, or an error naming the path and the first segment that failed.
    pub fn resolve<'v>(&self, vars: &'v Value) -> Result<&'v Value, EvalError> {
        let mut cur = vars;
        for (n, seg) in self.segments.iter().enumerate() {
            let next = match (seg, cur) {
                (Segment::Key(k), Value::Object(m)) => member(m, k),
                (Segment::Index(i), Value::Array(a)) => a.get(*i),
                _ => None,
            };
            cur = next.ok_or_else(|| EvalError::Unresolved {
                path: self.to_string(),
                reason: match (seg, cur) {
                    (Segment::Key(k), Value::Object(_)) => format!("no key \"{k}\""),
                    (Segment::Index(i), Value::Array(a)) => {
                        format!("index {i} out of range (length {})", a.len())
                    }
                    (_, other) => format!(
                        "`{}` is {}, not {}",
                        VarPath {
                            segments: self.segments[..n].to_vec()
                        },
                        json_kind(other),
                        match seg {
                            Segment::Key(_) => "an object",
                            Segment::Index(_) => "an array",
                        }
                    ),
                },
            })?;
        }
        Ok(cur)
    }

    /// Whether `self` is `other` or lies inside it.
    pub fn starts_with(&self, other: &VarPath) -> bool {
        self.segments.starts_with(&other.segments)
    }
}

/// Objects up to this many keys are searched by comparing keys rather than by hash: serde_json's
/// maps hash with SipHash (a hasher serde_json fixes), which costs several times a comparison of
/// a short key, and the process variables' objects are mostly this small.
const SCAN_UP_TO: usize = 8;

/// `map.get(key)`, by scanning a small object's keys (see [`SCAN_UP_TO`]); the same answer, as
/// an object's keys are unique.
pub fn member<'v>(map: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
    if map.len() <= SCAN_UP_TO {
        map.iter().find(|(k, _)| k.as_str() == key).map(|(_, v)| v)
    } else {
        map.get(key)
    }
}

/// `map.get_mut(key)`, by scanning a small object's keys like [`member`].
pub fn member_mut<'v>(map: &'v mut Map<String, Value>, key: &str) -> Option<&'v mut Value> {
    if map.len() <= SCAN_UP_TO {
        map.iter_mut()
            .find(|(k, _)| k.as_str() == key)
            .map(|(_, v)| v)
    } else {
        map.get_mut(key)
    }
}

/// Parses a JSON string literal at the start of `s`; returns it and its length in bytes.
pub(crate) fn parse_json_string(s: &str) -> Option<(String, usize)> {
    let bytes = s.as_bytes();
    if bytes.first() != Some(&b'"') {
        return None;
    }
    let mut i = 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => {
                let lit = &s[..=i];
                return serde_json::from_str::<String>(lit).ok().map(|v| (v, i + 1));
            }
            _ => i += 1,
        }
    }
    None
}

impl fmt::Display for VarPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(ROOT)?;
        for seg in &self.segments {
            match seg {
                Segment::Key(k) if !k.is_empty() && k.chars().all(is_key_char) => {
                    write!(f, ".{k}")?
                }
                Segment::Key(k) => write!(f, "[{}]", Value::String(k.clone()))?,
                Segment::Index(i) => write!(f, "[{i}]")?,
            }
        }
        Ok(())
    }
}
