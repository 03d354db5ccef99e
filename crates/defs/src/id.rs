//! [`Id`]: a BPMN element's ID as the definition holds it, shared rather than copied.

use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

/// A node's or flow's BPMN ID. The engine names nodes in every history event, in the instance's
/// lifecycle and in what it asks of the outside, for every node it walks: sharing the
/// definition's text (a reference count) instead of copying it saves an allocation and a free
/// each time (`idflow bench engine`, BENCHMARKS.md). Reads as the `str` it holds: compares,
/// hashes, orders, prints and debug-prints like it.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id(Arc<str>);

impl Id {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for Id {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Id {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for Id {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for Id {
    fn from(id: &str) -> Id {
        Id(Arc::from(id))
    }
}

impl From<String> for Id {
    fn from(id: String) -> Id {
        Id(Arc::from(id))
    }
}

impl From<&String> for Id {
    fn from(id: &String) -> Id {
        Id(Arc::from(id.as_str()))
    }
}

impl From<Id> for String {
    fn from(id: Id) -> String {
        id.0.to_string()
    }
}

impl PartialEq<str> for Id {
    fn eq(&self, other: &str) -> bool {
        *self.0 == *other
    }
}

impl PartialEq<&str> for Id {
    fn eq(&self, other: &&str) -> bool {
        *self.0 == **other
    }
}

impl PartialEq<String> for Id {
    fn eq(&self, other: &String) -> bool {
        *self.0 == **other
    }
}

impl PartialEq<Id> for str {
    fn eq(&self, other: &Id) -> bool {
        *self == *other.0
    }
}

impl PartialEq<Id> for &str {
    fn eq(&self, other: &Id) -> bool {
        **self == *other.0
    }
}

impl PartialEq<Id> for String {
    fn eq(&self, other: &Id) -> bool {
        **self == *other.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn reads_as_its_text() {
        let id = Id::from("getUser");
        assert_eq!(id, "getUser");
        assert_eq!("getUser", id);
        assert_eq!(id, "getUser".to_string());
        assert_eq!(format!("{id} {id:?}"), "getUser \"getUser\"");
        assert_eq!(String::from(id.clone()), "getUser");
        let map: HashMap<Id, u8> = [(id.clone(), 1)].into_iter().collect();
        assert_eq!(map.get("getUser"), Some(&1));
        let (a, b) = (Id::from("a"), Id::from("b"));
        assert!(a < b);
    }
}
