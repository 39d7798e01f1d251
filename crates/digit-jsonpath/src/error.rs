//! The crate's error type.

/// Everything that can go wrong when compiling or evaluating a JSONPath.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JsonPathError {
    /// The expression is not valid JSONPath (Jayway `InvalidPathException` at compile time).
    #[error("invalid JSONPath {path:?} at position {position}: {reason}")]
    Parse {
        /// The expression as given.
        path: String,
        /// Character offset where parsing failed.
        position: usize,
        /// What was wrong.
        reason: String,
    },
    /// A definite path did not resolve (Jayway `PathNotFoundException`), e.g. a missing key.
    /// The message follows Jayway's wording (`No results for path: $['a']['b']`).
    #[error("{0}")]
    PathNotFound(String),
    /// The path is valid but cannot be applied to this document
    /// (Jayway `InvalidPathException` at evaluation time, e.g. a filter applied to a string).
    #[error("{0}")]
    InvalidPath(String),
}

impl JsonPathError {
    /// True for [`JsonPathError::PathNotFound`].
    pub fn is_path_not_found(&self) -> bool {
        matches!(self, JsonPathError::PathNotFound(_))
    }
}
