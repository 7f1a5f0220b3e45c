//! The rvs datapath core, shared verbatim by the kernel module and userspace.
//!
//! Every module here is `no_std` and allocation-free: the 6.12 kernel has no `alloc` crate, and
//! `kmod/rvs_main.rs` compiles these very files into `rvs.ko` through a `#[path]` module (see
//! `kmod/core.rs`). Storage always comes from the embedder. Nothing here may panic on any input:
//! the lints below forbid the usual ways (indexing, unwrap, unchecked arithmetic) in this crate.
//!
//! Rules for code in this crate, because the kernel compiles it too:
//! - no `std`, no `alloc`, no external crates outside `#[cfg(test)]`;
//! - no floating point, no `u128`/`i128` (the kernel provides no compiler builtins for them);
//! - edition 2021, stable features only, documented `pub` items (the kernel builds with
//!   `-Wmissing_docs`);
//! - arithmetic is `wrapping_*`/`checked_*`/`saturating_*`: `CONFIG_RUST_OVERFLOW_CHECKS` turns
//!   an overflow into a kernel BUG.
#![no_std]
#![forbid(unsafe_code)]
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::unreachable,
    clippy::todo,
    clippy::unimplemented,
    clippy::arithmetic_side_effects,
    clippy::as_conversions
)]
#![cfg_attr(test, allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used,
    clippy::panic, clippy::arithmetic_side_effects, clippy::as_conversions))]

#[cfg(test)]
extern crate std;

pub mod actions;
pub mod classifier;
pub mod csum;
pub mod extract;
pub mod execute;
pub mod key;
pub mod mask;
pub mod meter;
pub mod nla;
pub mod ovs_abi;
pub mod packet;
pub mod packet_buf;
pub mod version;
pub mod wire;
pub mod ovs;
pub mod text;
