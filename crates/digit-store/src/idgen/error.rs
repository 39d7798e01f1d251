//! Idgen errors and their DIGIT codes (upstream egov-idgen's codes and messages where it has
//! them).

/// Error codes of the idgen service. Every code has a test that produces it.
pub mod codes {
    /// No format: `idName` unknown (MDMS / `id_generator`) and the request has no `format`.
    pub const ID_NOT_FOUND: &str = "ID_NOT_FOUND";
    /// The format is blank (whitespace only).
    pub const IDGEN_FORMAT_ERROR: &str = "IDGEN_FORMAT_ERROR";
    /// A `[fy:…]` / `[cy:…]` date pattern is invalid, or a token is malformed (shorter than the
    /// prefix it is tested against, bad random length).
    pub const INVALID_FORMAT: &str = "INVALID_FORMAT";
    /// A random-digits token is not a valid regular expression.
    pub const INVALID_REGEX: &str = "INVALID_REGEX";
    /// A `[seq…]` token does not name a valid Postgres identifier (ours: upstream builds SQL
    /// from it).
    pub const INVALID_SEQUENCE_NAME: &str = "INVALID_SEQUENCE_NAME";
    /// The sequence does not exist and may not be auto-created.
    pub const SEQ_DOES_NOT_EXIST: &str = "SEQ_DOES_NOT_EXIST";
    /// Auto-creating a missing sequence failed.
    pub const ERROR_CREATING_SEQ: &str = "ERROR_CREATING_SEQ";
    /// Reading the next values of an existing sequence failed.
    pub const SEQ_NUMBER_ERROR: &str = "SEQ_NUMBER_ERROR";
    /// The city code (or an MDMS master) could not be read. The space is upstream's.
    pub const PARSING_ERROR: &str = "PARSING ERROR";
    /// `count` is negative or above the configured maximum, or the request asks for too many
    /// ids in total (ours: upstream has no bound).
    pub const INVALID_ID_COUNT: &str = "INVALID_ID_COUNT";
    /// More `idRequests` than the configured maximum (ours).
    pub const TOO_MANY_ID_REQUESTS: &str = "TOO_MANY_ID_REQUESTS";
    /// A database failure outside sequence reads (tracer's DataAccessException code).
    pub const QUERY_EXECUTION_ERROR: &str = "QUERY_EXECUTION_ERROR";
}

/// Everything that can go wrong while generating ids.
#[derive(Debug, thiserror::Error)]
pub enum IdgenError {
    /// [`codes::ID_NOT_FOUND`].
    #[error("No Format is available in the MDMS for the given name and tenant")]
    IdNotFound,
    /// [`codes::IDGEN_FORMAT_ERROR`].
    #[error("Blank format is not allowed")]
    BlankFormat,
    /// [`codes::INVALID_FORMAT`].
    #[error("{0}")]
    InvalidFormat(String),
    /// [`codes::INVALID_REGEX`].
    #[error("Random text could not be generated. Invalid regex provided.")]
    InvalidRegex,
    /// [`codes::INVALID_SEQUENCE_NAME`].
    #[error("Invalid sequence name '{0}': it must match ^[A-Za-z_][A-Za-z0-9_]{{0,62}}$")]
    InvalidSequenceName(String),
    /// [`codes::SEQ_DOES_NOT_EXIST`].
    #[error("auto creation of seq is not allowed in DB")]
    SeqDoesNotExist {
        /// The (lower-cased) sequence name.
        sequence: String,
    },
    /// [`codes::ERROR_CREATING_SEQ`].
    #[error("Error occurred while auto creating seq in DB")]
    ErrorCreatingSeq {
        /// The (lower-cased) sequence name.
        sequence: String,
        /// The database error.
        #[source]
        source: sqlx::Error,
    },
    /// [`codes::SEQ_NUMBER_ERROR`].
    #[error("Error in retrieving seq number from DB")]
    SeqNumber {
        /// The (lower-cased) sequence name.
        sequence: String,
        /// The database error.
        #[source]
        source: sqlx::Error,
    },
    /// [`codes::PARSING_ERROR`]; the message is upstream's.
    #[error("{message}")]
    Parsing {
        /// Upstream's message.
        message: &'static str,
        /// Why the master data could not be read, when a lookup failed (not logged to clients).
        detail: Option<String>,
    },
    /// [`codes::INVALID_ID_COUNT`].
    #[error("{0}")]
    InvalidCount(String),
    /// [`codes::TOO_MANY_ID_REQUESTS`].
    #[error("At most {max} idRequests are allowed in one request")]
    TooManyIdRequests {
        /// The configured maximum.
        max: usize,
    },
    /// [`codes::QUERY_EXECUTION_ERROR`].
    #[error("Database operation failed")]
    Database(#[source] sqlx::Error),
}

impl IdgenError {
    /// The DIGIT error code.
    pub fn code(&self) -> &'static str {
        match self {
            IdgenError::IdNotFound => codes::ID_NOT_FOUND,
            IdgenError::BlankFormat => codes::IDGEN_FORMAT_ERROR,
            IdgenError::InvalidFormat(_) => codes::INVALID_FORMAT,
            IdgenError::InvalidRegex => codes::INVALID_REGEX,
            IdgenError::InvalidSequenceName(_) => codes::INVALID_SEQUENCE_NAME,
            IdgenError::SeqDoesNotExist { .. } => codes::SEQ_DOES_NOT_EXIST,
            IdgenError::ErrorCreatingSeq { .. } => codes::ERROR_CREATING_SEQ,
            IdgenError::SeqNumber { .. } => codes::SEQ_NUMBER_ERROR,
            IdgenError::Parsing { .. } => codes::PARSING_ERROR,
            IdgenError::InvalidCount(_) => codes::INVALID_ID_COUNT,
            IdgenError::TooManyIdRequests { .. } => codes::TOO_MANY_ID_REQUESTS,
            IdgenError::Database(_) => codes::QUERY_EXECUTION_ERROR,
        }
    }

    /// Whether this is a server-side failure (database / master data unavailable) rather than
    /// a problem with the request. Used for logging; every code answers HTTP 400 as upstream.
    pub fn is_server_side(&self) -> bool {
        matches!(
            self,
            IdgenError::ErrorCreatingSeq { .. }
                | IdgenError::SeqNumber { .. }
                | IdgenError::Database(_)
                | IdgenError::Parsing {
                    detail: Some(_),
                    ..
                }
        )
    }
}
