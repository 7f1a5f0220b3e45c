//! `rvs-ofconn`: OpenFlow connections for both ends of the protocol.
//!
//! - [`target`]: the `tcp:`/`ssl:`/`unix:` and `ptcp:`/`pssl:`/`punix:` target syntax;
//! - [`stream`]: byte streams ([`Stream`]) and listeners ([`Listener`]); [`tls`]: rustls
//!   configuration from PEM key, certificate and CA files;
//! - [`frame`]: splitting a byte stream into messages;
//! - [`conn`]: [`Connection`] — hello and version negotiation, echo handling, inactivity
//!   probe, request/reply with xid matching, multipart reassembly, barriers;
//! - [`rconn`]: [`Rconn`] — a connection kept up with exponential reconnect back-off;
//! - [`keepalive`]: the I/O-free probe and back-off state machines.
//!
//! Everything is blocking I/O with timeouts: a caller that serves several peers runs one
//! thread per [`Connection`] / [`Rconn`].
#![forbid(unsafe_op_in_unsafe_fn)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod conn;
pub mod frame;
pub mod keepalive;
mod poll;
pub mod rconn;
pub mod stream;
pub mod target;
pub mod tls;

pub use conn::{ConnConfig, Connection};
pub use rconn::{Rconn, RconnConfig, RconnEvent};
pub use stream::{connect, Listener, Stream};
pub use target::{Target, TargetError, DEFAULT_PORT, OLD_PORT};
pub use tls::{TlsConfig, TlsError};

use rvs_openflow::msg::{ErrorCode, ErrorMsg};
use rvs_openflow::{DecodeError, EncodeError, Version};

/// Why a connection operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ConnError {
    /// Socket error.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The peer closed the connection.
    #[error("connection closed by peer")]
    Closed,
    /// Nothing arrived in time.
    #[error("timed out waiting for {0}")]
    Timeout(&'static str),
    /// The inactivity probe got no answer.
    #[error("no response to inactivity probe")]
    ProbeTimeout,
    /// No common OpenFlow version.
    #[error("version negotiation failed: we support {ours:?}, peer announced {peer}")]
    Version {
        /// Ours.
        ours: Vec<Version>,
        /// The peer's hello version.
        peer: Version,
    },
    /// The peer broke the protocol.
    #[error("protocol error: {0}")]
    Protocol(String),
    /// A received message did not decode (it was answered with `error`).
    #[error("undecodable message: {error}")]
    Decode {
        /// The decode error.
        error: DecodeError,
        /// The message.
        raw: Vec<u8>,
    },
    /// A message could not be encoded in the negotiated version.
    #[error("{0}")]
    Encode(#[from] EncodeError),
    /// The peer answered a request with an OpenFlow error.
    #[error("OpenFlow error (xid={xid:#x}): {}", error_name(error))]
    Ofp {
        /// The request's xid.
        xid: u32,
        /// The error message.
        error: ErrorMsg,
    },
    /// The stream is corrupt.
    #[error("{0}")]
    Frame(#[from] frame::FrameError),
    /// Bad configuration (missing TLS files, wrong kind of target).
    #[error("{0}")]
    Config(String),
    /// TLS configuration failed.
    #[error("{0}")]
    Tls(#[from] TlsError),
    /// No connection is up.
    #[error("not connected")]
    NotConnected,
}

/// A printable name of an error message's code.
pub fn error_name(e: &ErrorMsg) -> String {
    match e.code {
        ErrorCode::Known(k) => k.to_string(),
        ErrorCode::Raw(w) => format!("vendor {:#x} type {} code {}", w.vendor, w.etype, w.code),
    }
}
