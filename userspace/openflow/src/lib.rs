//! `rvs-openflow`: the OpenFlow message codec of rvs.
//!
//! - [`msg`]: the version-neutral message model ([`OfMessage`], [`Message`] and its structs);
//! - [`codec`]: [`encode`] / [`decode`] of whole messages, framing, version negotiation and
//!   error replies; [`of10`] and [`of13`] hold the per-version wire layouts (OpenFlow 1.4/1.5
//!   are meant to be added as further modules reusing `of13`'s unchanged structures);
//! - [`oxm`]: the flow [`Match`] model, OXM TLVs and prerequisites; [`action`] and
//!   [`instruction`]: actions and instructions;
//! - [`error`]: OpenFlow errors ([`OfpError`]) with their per-version numbers, and the Rust
//!   error types ([`DecodeError`] carries the OpenFlow error a malformed message must get);
//! - [`text`]: the `ovs-ofctl` flow syntax (`add-flow` parser, `dump-flows` printer).
//!
//! Decoding never panics on any input (fuzzed by `userspace/fuzz/fuzz_targets/openflow.rs`).
#![forbid(unsafe_code)]
#![deny(clippy::indexing_slicing, clippy::panic, clippy::expect_used)]
#![cfg_attr(test, allow(clippy::indexing_slicing, clippy::panic, clippy::expect_used, clippy::unwrap_used))]

pub mod action;
pub mod codec;
mod common;
pub mod error;
pub mod instruction;
pub mod msg;
pub mod of10;
pub mod of13;
pub mod oxm;
pub mod text;
pub mod types;
pub mod wire;

pub use action::Action;
pub use codec::{decode, encode, error_reply, negotiate, Header};
pub use error::{DecodeError, EncodeError, OfpError};
pub use instruction::Instruction;
pub use msg::{Message, OfMessage};
pub use oxm::{Field, Match};
pub use types::Version;
