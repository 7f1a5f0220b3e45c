//! The datapath interface's error type: what failed, with the kernel's errno and
//! extended-ack message when the kernel refused.

use crate::netlink::msg::MsgError;
use crate::netlink::transport::TransportError;

/// Errors of datapath operations.
#[derive(Debug, thiserror::Error)]
pub enum DpifError {
    /// None of the Open vSwitch generic netlink families exist.
    #[error("no datapath module: load openvswitch.ko or rvs.ko")]
    NoModule,
    /// The kernel refused for lack of privilege.
    #[error("{op}: permission denied (CAP_NET_ADMIN is needed)")]
    Permission {
        /// The operation.
        op: String,
    },
    /// The kernel refused the request.
    #[error("{op}: {}", describe(*errno, extack.as_deref()))]
    Kernel {
        /// The operation.
        op: String,
        /// Positive errno.
        errno: i32,
        /// The kernel's extended-ack message, when it gave one.
        extack: Option<String>,
    },
    /// The socket failed, or a reply could not be decoded.
    #[error("{op}: {source}")]
    Transport {
        /// The operation.
        op: String,
        /// What went wrong.
        #[source]
        source: TransportError,
    },
    /// A request could not be encoded or a reply not parsed.
    #[error("{op}: {source}")]
    Message {
        /// The operation.
        op: String,
        /// What went wrong.
        #[source]
        source: MsgError,
    },
    /// The datapath lacks something the operation needs.
    #[error("{0}")]
    Unsupported(String),
    /// The socket operation shared by a batch of requests failed; each request of the batch
    /// reports it.
    #[error("{op} (batched): {message}")]
    Batch {
        /// The operation.
        op: String,
        /// The shared error.
        message: String,
        /// Its errno, if any.
        errno: Option<i32>,
    },
    /// A userspace datapath's server failed or could not be understood.
    #[error("{0}")]
    Remote(String),
}

fn describe(errno: i32, extack: Option<&str>) -> String {
    let e = std::io::Error::from_raw_os_error(errno);
    match extack {
        Some(m) if !m.is_empty() => format!("{e} ({m})"),
        _ => e.to_string(),
    }
}

impl DpifError {
    /// The errno behind the error, if any.
    pub fn errno(&self) -> Option<i32> {
        match self {
            Self::Kernel { errno, .. } => Some(*errno),
            Self::Permission { .. } => Some(libc::EPERM),
            Self::NoModule => Some(libc::ENOENT),
            Self::Transport { source, .. } => source.errno(),
            Self::Batch { errno, .. } => *errno,
            _ => None,
        }
    }

    /// The error each request of a batch reports when the batch's shared `e` failed.
    pub fn batch(e: &DpifError) -> Self {
        let op = match e {
            Self::Transport { op, .. } | Self::Kernel { op, .. } | Self::Message { op, .. } | Self::Permission { op } => op.clone(),
            _ => String::new(),
        };
        Self::Batch { op, message: e.to_string(), errno: e.errno() }
    }

    /// Wraps a transport error with the operation's name, classifying privilege errors.
    pub fn from_transport(op: impl Into<String>, e: TransportError) -> Self {
        let op = op.into();
        match e {
            TransportError::Kernel { errno, .. } if errno == libc::EPERM || errno == libc::EACCES => {
                Self::Permission { op }
            }
            TransportError::Kernel { errno, extack } => Self::Kernel { op, errno, extack },
            TransportError::Io(ref io) if io.raw_os_error() == Some(libc::EPERM) => Self::Permission { op },
            source => Self::Transport { op, source },
        }
    }

    /// Wraps a message error with the operation's name.
    pub fn from_msg(op: impl Into<String>, source: MsgError) -> Self {
        Self::Message { op: op.into(), source }
    }
}

/// Result of datapath operations.
pub type Result<T, E = DpifError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn privilege_errors_say_cap_net_admin() {
        let e = DpifError::from_transport("add-dp br0", TransportError::Kernel { errno: libc::EPERM, extack: None });
        assert!(matches!(e, DpifError::Permission { .. }));
        assert_eq!(e.to_string(), "add-dp br0: permission denied (CAP_NET_ADMIN is needed)");
        assert_eq!(e.errno(), Some(libc::EPERM));
    }

    #[test]
    fn kernel_errors_keep_errno_and_extack() {
        let e = DpifError::from_transport(
            "flow put",
            TransportError::Kernel { errno: libc::EINVAL, extack: Some("bad key".into()) },
        );
        assert_eq!(e.errno(), Some(libc::EINVAL));
        let s = e.to_string();
        assert!(s.starts_with("flow put: Invalid argument"), "{s}");
        assert!(s.ends_with("(bad key)"), "{s}");
        assert_eq!(DpifError::NoModule.to_string(), "no datapath module: load openvswitch.ko or rvs.ko");
    }
}
