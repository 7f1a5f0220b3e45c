//! `ovsdb`: rvs's configuration database — an OVSDB (RFC 7047) engine, its crash-safe storage and its
//! JSON-RPC server.
//!
//! - [`schema`], [`types`], [`atom`], [`datum`]: the data model and its JSON forms.
//! - [`db`]: rows and tables in memory; [`txn`]: the transaction engine (operations, commit checks).
//! - [`condition`], [`mutation`]: `where` clauses and `mutate` mutations.

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod atom;
pub mod condition;
pub mod datum;
pub mod db;
pub mod error;
pub mod mutation;
pub mod schema;
pub mod txn;
pub mod types;

pub use error::{Error, Result, StorageError};
