//! OVSDB errors: the `{"error": TAG, "details": ...}` objects of RFC 7047, and storage errors.

use serde_json::{json, Value};

/// Error tags used on the wire. The RFC 7047 ones are spelled exactly as the RFC spells them.
pub mod tag {
    /// Malformed request or operation.
    pub const SYNTAX_ERROR: &str = "syntax error";
    /// An operation names a table the schema does not have.
    pub const UNKNOWN_TABLE: &str = "unknown table";
    /// An operation names a column the table does not have.
    pub const UNKNOWN_COLUMN: &str = "unknown column";
    /// A value or the committed database violates a schema constraint.
    pub const CONSTRAINT_VIOLATION: &str = "constraint violation";
    /// A strong reference points to a row that does not exist.
    pub const REFERENTIAL_INTEGRITY_VIOLATION: &str = "referential integrity violation";
    /// An insert reuses a `uuid-name` of the same transaction.
    pub const DUPLICATE_UUID_NAME: &str = "duplicate uuid-name";
    /// An insert asks for a UUID that is already in use.
    pub const DUPLICATE_UUID: &str = "duplicate uuid";
    /// Arithmetic mutation without a defined result (division by zero).
    pub const DOMAIN_ERROR: &str = "domain error";
    /// Arithmetic mutation whose result does not fit (integer overflow, non-finite real).
    pub const RANGE_ERROR: &str = "range error";
    /// A `wait` operation was not satisfied in time.
    pub const TIMED_OUT: &str = "timed out";
    /// An `abort` operation.
    pub const ABORTED: &str = "aborted";
    /// An `assert` names a lock the session does not own.
    pub const NOT_OWNER: &str = "not owner";
    /// The server does not implement the request.
    pub const NOT_SUPPORTED: &str = "not supported";
    /// Writing the database file failed; nothing was committed.
    pub const IO_ERROR: &str = "I/O error";
    /// A request names a database the server does not serve.
    pub const UNKNOWN_DATABASE: &str = "unknown database";
    /// An unknown JSON-RPC method.
    pub const UNKNOWN_METHOD: &str = "unknown method";
    /// A request was cancelled by the client.
    pub const CANCELED: &str = "canceled";
    /// An operation the server refuses in this state.
    pub const NOT_ALLOWED: &str = "not allowed";
}

/// One OVSDB error: a tag from [`tag`] plus human-readable details.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{tag}: {details}")]
pub struct Error {
    /// The error string of the RFC (`"constraint violation"`, ...).
    pub tag: &'static str,
    /// Free-form explanation.
    pub details: String,
}

impl Error {
    /// An error with `tag` and `details`.
    pub fn new(tag: &'static str, details: impl Into<String>) -> Self {
        Error { tag, details: details.into() }
    }

    /// A `"syntax error"`.
    pub fn syntax(details: impl Into<String>) -> Self {
        Self::new(tag::SYNTAX_ERROR, details)
    }

    /// A `"constraint violation"`.
    pub fn constraint(details: impl Into<String>) -> Self {
        Self::new(tag::CONSTRAINT_VIOLATION, details)
    }

    /// The JSON object carried in transaction results and JSON-RPC error replies.
    pub fn to_json(&self) -> Value {
        json!({ "error": self.tag, "details": self.details })
    }
}

/// Result with an OVSDB [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

/// Errors opening, reading or writing a database file.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The operating system refused a read, write, fsync or rename.
    #[error("{path}: {source}")]
    Io {
        /// The file involved.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is not an OVSDB standalone database or a committed record is damaged.
    #[error("{path}: {details}")]
    Corrupt {
        /// The file involved.
        path: String,
        /// What is wrong, with the byte offset.
        details: String,
    },
    /// A record holds data the schema rejects.
    #[error("{path}: {source}")]
    Invalid {
        /// The file involved.
        path: String,
        /// The schema or data error.
        source: Error,
    },
}
