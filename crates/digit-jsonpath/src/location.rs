//! Concrete locations of matches (normalized paths such as `$['a'][0]['b']`).

use std::fmt;

use serde_json::Value;

use crate::parser::escape_key;

/// One step of a [`Location`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PathStep {
    /// An object member.
    Key(String),
    /// An array element.
    Index(usize),
    /// The synthesized object of a leaf multi-key projection (`['id','url']`); it does not
    /// exist in the document, its parent does.
    Keys(Vec<String>),
}

/// Where a match sits in the document. `Display` renders Jayway's normalized form
/// (`$['a'][0]['b']`), which [`crate::JsonPath::parse`] accepts again.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Location(Vec<PathStep>);

impl Location {
    /// A location from its steps (root first).
    pub fn from_steps(steps: Vec<PathStep>) -> Location {
        Location(steps)
    }

    /// The steps, root first. Empty for the root itself.
    pub fn steps(&self) -> &[PathStep] {
        &self.0
    }

    /// The location of the parent, `None` for the root.
    pub fn parent(&self) -> Option<Location> {
        let (_, rest) = self.0.split_last()?;
        Some(Location(rest.to_vec()))
    }

    /// Follows the location in `root`. `None` if it no longer exists or ends in
    /// [`PathStep::Keys`].
    pub fn resolve<'v>(&self, root: &'v Value) -> Option<&'v Value> {
        let mut cur = root;
        for step in &self.0 {
            cur = match step {
                PathStep::Key(k) => cur.as_object()?.get(k)?,
                PathStep::Index(i) => cur.as_array()?.get(*i)?,
                PathStep::Keys(_) => return None,
            };
        }
        Some(cur)
    }
}

impl Location {
    /// Like [`Location::resolve`], for writing: the value at this location in `root`.
    pub fn resolve_mut<'v>(&self, root: &'v mut Value) -> Option<&'v mut Value> {
        let mut cur = root;
        for step in &self.0 {
            cur = match step {
                PathStep::Key(k) => cur.as_object_mut()?.get_mut(k)?,
                PathStep::Index(i) => cur.as_array_mut()?.get_mut(*i)?,
                PathStep::Keys(_) => return None,
            };
        }
        Some(cur)
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("$")?;
        for step in &self.0 {
            match step {
                PathStep::Key(k) => write!(f, "['{}']", escape_key(k))?,
                PathStep::Index(i) => write!(f, "[{i}]")?,
                PathStep::Keys(keys) => {
                    f.write_str("[")?;
                    for (i, k) in keys.iter().enumerate() {
                        if i > 0 {
                            f.write_str(", ")?;
                        }
                        write!(f, "'{}'", escape_key(k))?;
                    }
                    f.write_str("]")?;
                }
            }
        }
        Ok(())
    }
}
