//! `ovsdb`: rvs's configuration database — an OVSDB (RFC 7047) engine, its crash-safe storage and its
//! JSON-RPC server.
//!
//! - [`schema`], [`types`], [`atom`], [`datum`]: the data model and its JSON forms.
//! - [`db`]: rows and tables in memory; [`txn`]: the transaction engine (operations, commit checks).
//! - [`condition`], [`mutation`]: `where` clauses and `mutate` mutations.
//! - [`storage`]: the database file — an fsync'd append-only journal in the OVSDB standalone format (so Debian's
//!   `ovsdb-tool`/`ovsdb-server` read rvs's files and rvs reads theirs), torn tails truncated on open, atomic
//!   compaction. Chosen over a storage crate for that interoperability and because the framing (length +
//!   SHA-1) already gives crash safety for a small, append-mostly configuration database.
//! - [`monitor`], [`server`]: monitors and the JSON-RPC server (unix/tcp sockets or in-process sessions).
//! - [`client`]: a blocking client (remote or in-process) for rvs-vswitchd and rvs-vsctl.

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod atom;
pub mod client;
pub mod condition;
pub mod datum;
pub mod db;
pub mod error;
pub mod monitor;
pub mod mutation;
pub mod schema;
pub mod server;
pub mod storage;
pub mod txn;
pub mod types;

pub use error::{Error, Result, StorageError};

/// rvs's `Open_vSwitch` schema (`schema/vswitch.ovsschema`): the upstream (8.3.1) table and column names and
/// types, so that unmodified ovs-vsctl works against it without warnings; it leaves out the
/// `Flow_Sample_Collector_Set` table, which rvs does not implement.
pub const VSWITCH_SCHEMA: &str = include_str!("../schema/vswitch.ovsschema");

/// Parses [`VSWITCH_SCHEMA`].
pub fn vswitch_schema() -> schema::DatabaseSchema {
    // The schema is a compile-time constant checked by a unit test, so this cannot fail at run time.
    match serde_json::from_str(VSWITCH_SCHEMA).map_err(|e| Error::syntax(e.to_string())).and_then(|v| schema::DatabaseSchema::from_json(&v)) {
        Ok(s) => s,
        Err(e) => unreachable!("built-in schema is invalid: {e}"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn builtin_schema_parses() {
        let s = super::vswitch_schema();
        assert_eq!(s.name, "Open_vSwitch");
        for t in ["Open_vSwitch", "Bridge", "Port", "Interface", "Controller", "Manager", "Mirror", "NetFlow", "sFlow", "IPFIX", "QoS", "Queue", "SSL", "Flow_Table", "AutoAttach"] {
            assert!(s.tables.contains_key(t), "{t}");
        }
        assert!(s.tables["Open_vSwitch"].is_root);
        assert!(!s.tables["Bridge"].is_root);
    }
}
