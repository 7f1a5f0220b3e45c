//! Byte streams to and from OpenFlow peers: [`Stream`] (TCP, Unix socket, or TLS over TCP)
//! opened by [`connect`], and [`Listener`] for the passive targets.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::ServerName;
use rustls::{ClientConnection, ServerConnection, StreamOwned};

use crate::target::Target;
use crate::tls::TlsConfig;
use crate::ConnError;

/// A connected byte stream.
#[derive(Debug)]
pub enum Stream {
    /// Plain TCP.
    Tcp(TcpStream),
    /// Unix domain socket.
    Unix(UnixStream),
    /// TLS client over TCP (`ssl:`).
    TlsClient(Box<StreamOwned<ClientConnection, TcpStream>>),
    /// TLS server over TCP (accepted on `pssl:`).
    TlsServer(Box<StreamOwned<ServerConnection, TcpStream>>),
}

impl Stream {
    fn fd(&self) -> RawFd {
        match self {
            Stream::Tcp(s) => s.as_raw_fd(),
            Stream::Unix(s) => s.as_raw_fd(),
            Stream::TlsClient(s) => s.sock.as_raw_fd(),
            Stream::TlsServer(s) => s.sock.as_raw_fd(),
        }
    }

    /// Sets the read timeout of the underlying socket (`None`: block).
    pub fn set_read_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.set_read_timeout(t),
            Stream::Unix(s) => s.set_read_timeout(t),
            Stream::TlsClient(s) => s.sock.set_read_timeout(t),
            Stream::TlsServer(s) => s.sock.set_read_timeout(t),
        }
    }

    /// Sets the write timeout of the underlying socket.
    pub fn set_write_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.set_write_timeout(t),
            Stream::Unix(s) => s.set_write_timeout(t),
            Stream::TlsClient(s) => s.sock.set_write_timeout(t),
            Stream::TlsServer(s) => s.sock.set_write_timeout(t),
        }
    }

    /// Closes both directions (a TLS stream sends its close-notify first).
    pub fn shutdown(&mut self) {
        let _ = match self {
            Stream::Tcp(s) => s.shutdown(Shutdown::Both),
            Stream::Unix(s) => s.shutdown(Shutdown::Both),
            Stream::TlsClient(s) => {
                s.conn.send_close_notify();
                let _ = s.flush();
                s.sock.shutdown(Shutdown::Both)
            }
            Stream::TlsServer(s) => {
                s.conn.send_close_notify();
                let _ = s.flush();
                s.sock.shutdown(Shutdown::Both)
            }
        };
    }

    /// A name for the peer, for logs (`tcp:1.2.3.4:5678`, `unix:`).
    pub fn peer_name(&self) -> String {
        let tcp = |s: &TcpStream, m: &str| s.peer_addr().map_or_else(|_| format!("{m}:?"), |a| format!("{m}:{a}"));
        match self {
            Stream::Tcp(s) => tcp(s, "tcp"),
            Stream::Unix(_) => "unix:".into(),
            Stream::TlsClient(s) => tcp(&s.sock, "ssl"),
            Stream::TlsServer(s) => tcp(&s.sock, "ssl"),
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            Stream::Unix(s) => s.read(buf),
            Stream::TlsClient(s) => s.read(buf),
            Stream::TlsServer(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(buf),
            Stream::Unix(s) => s.write(buf),
            Stream::TlsClient(s) => s.write(buf),
            Stream::TlsServer(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.flush(),
            Stream::Unix(s) => s.flush(),
            Stream::TlsClient(s) => s.flush(),
            Stream::TlsServer(s) => s.flush(),
        }
    }
}

impl AsRawFd for Stream {
    fn as_raw_fd(&self) -> RawFd {
        self.fd()
    }
}

fn tls_needed(target: &Target) -> ConnError {
    ConnError::Config(format!("{target} needs a TLS configuration (private key, certificate, CA certificate)"))
}

/// Opens an active target (`tcp:`, `ssl:`, `unix:`) within `timeout`. `tls` is required for
/// `ssl:`.
pub fn connect(target: &Target, tls: Option<&TlsConfig>, timeout: Duration) -> Result<Stream, ConnError> {
    let stream = match target {
        Target::Tcp(a) => {
            let s = TcpStream::connect_timeout(a, timeout)?;
            s.set_nodelay(true)?;
            Stream::Tcp(s)
        }
        Target::Unix(p) => Stream::Unix(UnixStream::connect(p)?),
        Target::Ssl(a) => {
            let cfg = tls.ok_or_else(|| tls_needed(target))?.client_config()?;
            let s = TcpStream::connect_timeout(a, timeout)?;
            s.set_nodelay(true)?;
            let conn = ClientConnection::new(cfg, ServerName::from(a.ip()))
                .map_err(|e| ConnError::Config(format!("TLS: {e}")))?;
            Stream::TlsClient(Box::new(StreamOwned::new(conn, s)))
        }
        Target::Ptcp(_) | Target::Pssl(_) | Target::Punix(_) => {
            return Err(ConnError::Config(format!("{target} is a passive target: use Listener")))
        }
    };
    stream.set_write_timeout(Some(timeout.max(Duration::from_secs(5))))?;
    Ok(stream)
}

#[derive(Debug)]
enum ListenerKind {
    Tcp(TcpListener, Option<Arc<rustls::ServerConfig>>),
    Unix(UnixListener, PathBuf),
}

/// A listening socket for `ptcp:`, `pssl:` or `punix:`. Each accepted stream is an independent
/// peer (a switch serves several controllers; a controller accepts several switches).
#[derive(Debug)]
pub struct Listener {
    kind: ListenerKind,
}

impl Listener {
    /// Binds a passive target. A stale `punix:` socket file is replaced.
    pub fn bind(target: &Target, tls: Option<&TlsConfig>) -> Result<Listener, ConnError> {
        let kind = match target {
            Target::Ptcp(a) => ListenerKind::Tcp(TcpListener::bind(a)?, None),
            Target::Pssl(a) => {
                let cfg = tls.ok_or_else(|| tls_needed(target))?.server_config()?;
                ListenerKind::Tcp(TcpListener::bind(a)?, Some(cfg))
            }
            Target::Punix(p) => {
                if p.exists() && UnixStream::connect(p).is_err() {
                    let _ = std::fs::remove_file(p);
                }
                ListenerKind::Unix(UnixListener::bind(p)?, p.clone())
            }
            _ => return Err(ConnError::Config(format!("{target} is an active target: use connect"))),
        };
        Ok(Listener { kind })
    }

    /// The target actually bound (with the port the kernel chose for port 0).
    pub fn local_target(&self) -> Target {
        match &self.kind {
            ListenerKind::Tcp(l, tls) => {
                let a = l.local_addr().unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)));
                if tls.is_some() {
                    Target::Pssl(a)
                } else {
                    Target::Ptcp(a)
                }
            }
            ListenerKind::Unix(_, p) => Target::Punix(p.clone()),
        }
    }

    /// The target a peer dials to reach this listener (`tcp:`/`ssl:`/`unix:`).
    pub fn connect_target(&self) -> Target {
        match self.local_target() {
            Target::Ptcp(a) => Target::Tcp(a),
            Target::Pssl(a) => Target::Ssl(a),
            Target::Punix(p) => Target::Unix(p),
            t => t,
        }
    }

    /// Waits up to `timeout` (`None`: forever) for a peer; `Ok(None)` on timeout.
    pub fn accept_timeout(&self, timeout: Option<Duration>) -> Result<Option<Stream>, ConnError> {
        let fd = match &self.kind {
            ListenerKind::Tcp(l, _) => l.as_fd().as_raw_fd(),
            ListenerKind::Unix(l, _) => l.as_fd().as_raw_fd(),
        };
        if !crate::poll::readable(fd, timeout)? {
            return Ok(None);
        }
        let s = match &self.kind {
            ListenerKind::Tcp(l, tls) => {
                let (s, _) = l.accept()?;
                s.set_nodelay(true)?;
                match tls {
                    None => Stream::Tcp(s),
                    Some(cfg) => {
                        let conn = ServerConnection::new(cfg.clone())
                            .map_err(|e| ConnError::Config(format!("TLS: {e}")))?;
                        Stream::TlsServer(Box::new(StreamOwned::new(conn, s)))
                    }
                }
            }
            ListenerKind::Unix(l, _) => Stream::Unix(l.accept()?.0),
        };
        s.set_write_timeout(Some(Duration::from_secs(10)))?;
        Ok(Some(s))
    }

    /// Waits for a peer.
    pub fn accept(&self) -> Result<Stream, ConnError> {
        loop {
            if let Some(s) = self.accept_timeout(None)? {
                return Ok(s);
            }
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        if let ListenerKind::Unix(_, p) = &self.kind {
            let _ = std::fs::remove_file(p);
        }
    }
}
