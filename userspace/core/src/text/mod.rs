//! The human-readable form of flows and actions, as `ovs-dpctl` / `ovs-appctl dpctl/dump-flows`
//! print them: [`key`] for matches, [`actions`] for action lists, [`lexer`] for the shared cursor
//! and value parsers. Printing goes to any `core::fmt::Write`; parsing reports the byte offset of
//! the offending token; text becomes netlink through the codec into a caller-provided buffer.

pub mod actions;
pub mod key;
pub mod lexer;

pub use lexer::ParseError;
