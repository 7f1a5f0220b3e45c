//! The daemon's half of brctl compatibility: a thread that registers with rvs.ko's `rvs_brcompat` family (present
//! only when the module was loaded with `brcompat=1`), receives each brctl / `ip link set master` request the
//! kernel relays, applies it to the configuration database ([`ops`]) and answers with an errno and data
//! ([`wire`]). The kernel side and the design are described in `kmod/brcompat.rs`.
//!
//! Requests arrive on one socket (the registered port id); replies leave through a second one, so that the
//! acknowledgement of a reply is never confused with the next request. Without the family the thread looks for it
//! again every few seconds (rvs.ko may be loaded after the daemon).

pub mod ops;
pub mod wire;

use std::os::fd::AsRawFd;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use neli::consts::nl::NlmF;
use ovsdb::client::Client;
use ovsdb::server::Server;
use rvs_dpif::netlink::transport::{wait_readable, GenlSocket, Received, TransportError};

use crate::bridge::Vswitchd;

/// How the thread reaches the database.
pub enum DbAccess {
    /// The embedded server.
    Local(Server),
    /// An external server address.
    Remote(String),
}

impl DbAccess {
    fn client(&self) -> Result<Client, String> {
        match self {
            DbAccess::Local(s) => Ok(Client::local(s)),
            DbAccess::Remote(a) => Client::connect(a).map_err(|e| format!("{a}: {e}")),
        }
    }
}

/// Starts the brcompat thread.
pub fn spawn(db: DbAccess, vs: Arc<Vswitchd>) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new().name("brcompat".into()).spawn(move || run(&db, &vs))
}

const RETRY: Duration = Duration::from_secs(3);

fn run(db: &DbAccess, vs: &Vswitchd) {
    let mut announced_absent = false;
    while !vs.exiting.load(Ordering::Acquire) {
        match session(db, vs) {
            Ok(()) => return,
            Err(SessionEnd::NoFamily) => {
                if !announced_absent {
                    crate::dbg_log!("brcompat", "rvs.ko has no {} family (not loaded, or without brcompat=1)", wire::FAMILY);
                    announced_absent = true;
                }
            }
            Err(SessionEnd::Failed(e)) => crate::warn!("brcompat", "{e} (retrying)"),
        }
        let mut waited = Duration::ZERO;
        while waited < RETRY && !vs.exiting.load(Ordering::Acquire) {
            std::thread::sleep(Duration::from_millis(200));
            waited += Duration::from_millis(200);
        }
    }
}

enum SessionEnd {
    NoFamily,
    Failed(String),
}

fn session(db: &DbAccess, vs: &Vswitchd) -> Result<(), SessionEnd> {
    let failed = |w: &str, e: TransportError| SessionEnd::Failed(format!("{w}: {e}"));
    let mut listen = GenlSocket::open().map_err(|e| failed("socket", e))?;
    let family = match listen.resolve_family(wire::FAMILY) {
        Ok(f) => f,
        Err(e) if e.errno() == Some(libc::ENOENT) => return Err(SessionEnd::NoFamily),
        Err(e) => return Err(failed("resolving the family", e)),
    };
    let mut replier = Replier::open(db, family.id)?;
    let mut slow = Replier::open(db, family.id)?;
    let reg = wire::register().map_err(|e| SessionEnd::Failed(e.to_string()))?;
    listen.transact(family.id, NlmF::empty(), reg).map_err(|e| failed("registering", e))?;
    crate::info!("brcompat", "relaying brctl requests from rvs.ko (netlink port {})", listen.pid());
    // Changes that wait for reconciliation go to a second thread: meanwhile reads and rtnl-held requests (which
    // reconciliation may be waiting for) are still answered at once.
    std::thread::scope(|scope| {
        // `tx` is dropped when this closure returns, before the scope joins the worker: its `recv` then fails.
        let (tx, rx) = std::sync::mpsc::channel::<wire::Request>();
        let worker = std::thread::Builder::new().name("brcompat-wait".into()).spawn_scoped(scope, move || {
            while let Ok(req) = rx.recv() {
                slow.answer(vs, &req);
            }
        });
        if let Err(e) = worker {
            return Err(SessionEnd::Failed(format!("brcompat worker thread: {e}")));
        }
        let mut idle = 0u32;
        while !vs.exiting.load(Ordering::Acquire) {
            match wait_readable(&[listen.as_raw_fd()], 200) {
                Ok(r) if r.first().copied().unwrap_or(false) => idle = 0,
                Ok(_) => {
                    // Every few seconds: is this still the family we registered with (rvs.ko reloaded)?
                    idle += 1;
                    if idle % 25 == 0 {
                        match replier.sock.resolve_family(wire::FAMILY) {
                            Ok(f) if f.id == family.id => {}
                            Ok(_) => return Err(SessionEnd::Failed("rvs.ko was reloaded".into())),
                            Err(e) if e.errno() == Some(libc::ENOENT) => return Err(SessionEnd::NoFamily),
                            Err(e) => return Err(failed("checking the family", e)),
                        }
                    }
                    continue;
                }
                Err(e) => return Err(SessionEnd::Failed(format!("poll: {e}"))),
            }
            let msgs = match listen.recv(true) {
                Ok(Some(m)) => m,
                Ok(None) => continue,
                Err(e) => return Err(failed("receiving", e)),
            };
            for m in msgs {
                let Received::Data { payload, .. } = m else { continue };
                let req = match wire::parse_request(&payload) {
                    Ok(r) => r,
                    Err(e) => {
                        crate::warn!("brcompat", "ignoring a malformed request: {e}");
                        continue;
                    }
                };
                if matches!(req.op, wire::Op::AddBr | wire::Op::DelBr | wire::Op::AddIf | wire::Op::DelIf) {
                    if tx.send(req).is_err() {
                        return Err(SessionEnd::Failed("brcompat worker thread ended".into()));
                    }
                } else {
                    replier.answer(vs, &req);
                }
            }
        }
        Ok(())
    })
}

/// A database client and a reply socket: answers requests.
struct Replier {
    client: Client,
    sock: GenlSocket,
    family: u16,
}

impl Replier {
    fn open(db: &DbAccess, family: u16) -> Result<Replier, SessionEnd> {
        let sock = GenlSocket::open().map_err(|e| SessionEnd::Failed(format!("socket: {e}")))?;
        Ok(Replier { client: db.client().map_err(SessionEnd::Failed)?, sock, family })
    }

    /// Applies one request and sends the answer (none if the kernel has stopped waiting).
    fn answer(&mut self, vs: &Vswitchd, req: &wire::Request) {
        if rvs_dpif::monotonic_ms() >= req.deadline_ms {
            crate::warn!("brcompat", "{:?} {}: the kernel stopped waiting (daemon was busy or stopped); not applied", req.op, req.bridge);
            return;
        }
        let (errno, data) = match ops::handle(&self.client, vs, req) {
            Ok(d) => (0, d),
            Err(f) => {
                crate::info!("brcompat", "{:?} {} (ifindex {}): {} (errno {})", req.op, req.bridge, req.ifindex, f.msg, f.errno);
                (f.errno, Vec::new())
            }
        };
        if errno == 0 && !req.op.is_read() {
            crate::info!("brcompat", "{:?} {} (ifindex {}) done", req.op, req.bridge, req.ifindex);
        }
        let msg = match wire::reply(req.seq, errno, &data) {
            Ok(m) => m,
            Err(e) => {
                crate::warn!("brcompat", "reply to request {}: {e}", req.seq);
                return;
            }
        };
        if let Err(e) = self.sock.transact(self.family, NlmF::empty(), msg) {
            // The kernel stopped waiting (timeout) or was unloaded.
            crate::warn!("brcompat", "reply to request {}: {e}", req.seq);
        }
    }
}
