//! Userspace datapaths across processes. A userspace datapath lives in the process that
//! created it; [`serve`] makes that process its owner and accepts [`crate::Dpif`] operations on
//! a unix socket, `$RVS_RUN_DIR/DP.sock` (default `/run/rvs/DP.sock`). [`RemoteDpif`] is the
//! client: the same trait, so `rvs-dpctl --datapath-type=userspace` runs the same commands as
//! for the kernel datapath.
//!
//! Protocol: one JSON object per line each way. A request is `{"op": "...", ...arguments}`
//! ([`Request`]); the reply is `{"ok": VALUE}` or `{"err": {...}}` ([`Reply`]). Byte strings
//! (keys, masks, actions, packets) are JSON arrays of numbers. Upcalls are pulled:
//! `recv_set` creates handler queues in the server and returns their IDs; each client-side
//! handler asks for queued upcalls with `recv` (waiting up to a timeout in the server).
//!
//! Privilege: anyone may connect (the socket is mode 0666) and read (info, port and flow
//! reads); changes need the peer to be root or the server's own user (`SO_PEERCRED`), the
//! counterpart of the kernel's `CAP_NET_ADMIN` check. `destroy` deletes the datapath and ends
//! the server; SIGINT/SIGTERM do the same.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{DpifError, Result};
use crate::netdev::UserspaceDpif;
use crate::types::*;
use crate::{Dpif, UpcallHandler};

/// Directory of the datapath sockets (`RVS_RUN_DIR`, default `/run/rvs`).
pub fn run_dir() -> PathBuf {
    std::env::var_os("RVS_RUN_DIR").map_or_else(|| PathBuf::from("/run/rvs"), PathBuf::from)
}

/// The socket of datapath `name`.
pub fn socket_path(name: &str) -> PathBuf {
    run_dir().join(format!("{name}.sock"))
}

/// A request (see the module documentation).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum Request {
    Info,
    SetFeatures { features: u32 },
    PortAdd { spec: PortSpec },
    PortDel { port_no: PortNo },
    PortGet { port_no: PortNo },
    PortGetByName { name: String },
    PortList,
    FlowPut { key: Vec<u8>, mask: Option<Vec<u8>>, actions: Vec<u8>, ufid: Option<[u8; 16]>, flags: PutFlags },
    FlowDel { ufid: Option<[u8; 16]>, key: Option<Vec<u8>> },
    FlowGet { ufid: Option<[u8; 16]>, key: Option<Vec<u8>> },
    FlowDump { terse: bool },
    FlowFlush,
    Execute { packet: Vec<u8>, key: Vec<u8>, actions: Vec<u8>, mru: Option<u16>, probe: bool },
    RecvSet { n: usize },
    Recv { pid: u32, max: usize, timeout_ms: i32 },
    MeterFeatures,
    MeterSet { config: MeterConfig },
    MeterGet { id: u32 },
    MeterDel { id: u32 },
    Destroy,
}

impl Request {
    /// Whether the request changes the datapath (and so needs privilege).
    pub fn mutates(&self) -> bool {
        !matches!(
            self,
            Self::Info | Self::PortGet { .. } | Self::PortGetByName { .. } | Self::PortList | Self::FlowGet { .. } | Self::FlowDump { .. } | Self::MeterFeatures | Self::MeterGet { .. }
        )
    }
}

/// An error on the wire.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WireError {
    /// `kernel` (errno-carrying), `permission`, `unsupported` or `other`.
    pub kind: String,
    /// The operation.
    pub op: String,
    /// The errno, for `kernel`.
    pub errno: Option<i32>,
    /// Extra detail.
    pub extack: Option<String>,
    /// The error as displayed by the server.
    pub message: String,
}

impl WireError {
    fn from_dpif(e: &DpifError) -> Self {
        let message = e.to_string();
        match e {
            DpifError::Kernel { op, errno, extack } => {
                Self { kind: "kernel".into(), op: op.clone(), errno: Some(*errno), extack: extack.clone(), message }
            }
            DpifError::Permission { op } => Self { kind: "permission".into(), op: op.clone(), errno: None, extack: None, message },
            DpifError::Unsupported(m) => Self { kind: "unsupported".into(), op: String::new(), errno: None, extack: Some(m.clone()), message },
            _ => Self { kind: "other".into(), op: String::new(), errno: e.errno(), extack: None, message },
        }
    }

    fn into_dpif(self) -> DpifError {
        match self.kind.as_str() {
            "kernel" => DpifError::Kernel { op: self.op, errno: self.errno.unwrap_or(libc::EIO), extack: self.extack },
            "permission" => DpifError::Permission { op: self.op },
            "unsupported" => DpifError::Unsupported(self.extack.unwrap_or(self.message)),
            _ => DpifError::Remote(self.message),
        }
    }
}

/// A reply.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum Reply {
    Ok(Value),
    Err(WireError),
}

/// The upcalls a `recv` returns, with the handler's overflow count.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RecvReply {
    /// Upcalls.
    pub upcalls: Vec<Upcall>,
    /// The handler queue's overflows so far.
    pub overflows: u64,
}

fn io_err(op: &str, e: std::io::Error) -> DpifError {
    match e.raw_os_error() {
        Some(libc::EACCES) | Some(libc::EPERM) => DpifError::Permission { op: op.into() },
        Some(errno) => DpifError::Kernel { op: op.into(), errno, extack: None },
        None => DpifError::Remote(format!("{op}: {e}")),
    }
}

/// A connection to a served datapath.
#[derive(Debug)]
struct Conn {
    r: BufReader<UnixStream>,
    w: UnixStream,
}

impl Conn {
    fn connect(name: &str) -> Result<Self> {
        let path = socket_path(name);
        let op = format!("open datapath {name}");
        let s = UnixStream::connect(&path).map_err(|e| match e.raw_os_error() {
            Some(libc::ENOENT) | Some(libc::ECONNREFUSED) => DpifError::Kernel {
                op: op.clone(),
                errno: libc::ENODEV,
                extack: Some(format!("no userspace datapath {name} is running ({} is not live)", path.display())),
            },
            _ => io_err(&op, e),
        })?;
        let w = s.try_clone().map_err(|e| io_err(&op, e))?;
        Ok(Self { r: BufReader::new(s), w })
    }

    fn call(&mut self, req: &Request) -> Result<Value> {
        let op = "userspace datapath request";
        let mut line = serde_json::to_string(req).map_err(|e| DpifError::Remote(format!("{op}: {e}")))?;
        line.push('\n');
        self.w.write_all(line.as_bytes()).map_err(|e| io_err(op, e))?;
        let mut resp = String::new();
        let n = self.r.read_line(&mut resp).map_err(|e| io_err(op, e))?;
        if n == 0 {
            return Err(DpifError::Remote(format!("{op}: the datapath's server closed the connection")));
        }
        match serde_json::from_str::<Reply>(&resp).map_err(|e| DpifError::Remote(format!("{op}: bad reply: {e}")))? {
            Reply::Ok(v) => Ok(v),
            Reply::Err(e) => Err(e.into_dpif()),
        }
    }

    fn call_as<T: for<'de> Deserialize<'de>>(&mut self, req: &Request) -> Result<T> {
        let v = self.call(req)?;
        serde_json::from_value(v).map_err(|e| DpifError::Remote(format!("bad reply: {e}")))
    }
}

/// A userspace datapath served by another process.
#[derive(Debug)]
pub struct RemoteDpif {
    name: String,
    conn: Conn,
    dp_ifindex: i32,
    features: u32,
}

impl RemoteDpif {
    /// Connects to the server of datapath `name`.
    pub fn connect(name: &str) -> Result<Self> {
        let mut conn = Conn::connect(name)?;
        let info: DpInfo = conn.call_as(&Request::Info)?;
        Ok(Self { name: name.to_string(), conn, dp_ifindex: info.dp_ifindex, features: info.user_features })
    }
}

fn flow_id(id: FlowId<'_>) -> (Option<[u8; 16]>, Option<Vec<u8>>) {
    match id {
        FlowId::Ufid(u) => (Some(*u), None),
        FlowId::Key(k) => (None, Some(k.to_vec())),
    }
}

impl Dpif for RemoteDpif {
    fn name(&self) -> &str {
        &self.name
    }
    fn dp_ifindex(&self) -> i32 {
        self.dp_ifindex
    }
    fn info(&mut self) -> Result<DpInfo> {
        let i: DpInfo = self.conn.call_as(&Request::Info)?;
        self.features = i.user_features;
        Ok(i)
    }
    fn set_features(&mut self, features: u32) -> Result<u32> {
        let f: u32 = self.conn.call_as(&Request::SetFeatures { features })?;
        self.features = f;
        Ok(f)
    }
    fn dispatch(&self) -> Option<Dispatch> {
        use rvs_core::ovs_abi::*;
        if self.features & OVS_DP_F_DISPATCH_UPCALL_PER_CPU != 0 {
            Some(Dispatch::PerCpu)
        } else if self.features & OVS_DP_F_VPORT_PIDS != 0 {
            Some(Dispatch::PerVport)
        } else {
            None
        }
    }
    fn port_add(&mut self, spec: &PortSpec) -> Result<PortNo> {
        self.conn.call_as(&Request::PortAdd { spec: spec.clone() })
    }
    fn port_del(&mut self, port_no: PortNo) -> Result<()> {
        self.conn.call_as(&Request::PortDel { port_no })
    }
    fn port_get(&mut self, port_no: PortNo) -> Result<PortInfo> {
        self.conn.call_as(&Request::PortGet { port_no })
    }
    fn port_get_by_name(&mut self, name: &str) -> Result<PortInfo> {
        self.conn.call_as(&Request::PortGetByName { name: name.into() })
    }
    fn port_list(&mut self) -> Result<Vec<PortInfo>> {
        self.conn.call_as(&Request::PortList)
    }
    fn flow_put(&mut self, put: &FlowPut<'_>) -> Result<()> {
        self.conn.call_as(&Request::FlowPut {
            key: put.key.to_vec(),
            mask: put.mask.map(<[u8]>::to_vec),
            actions: put.actions.to_vec(),
            ufid: put.ufid.copied(),
            flags: put.flags,
        })
    }
    fn flow_del(&mut self, id: FlowId<'_>) -> Result<Option<FlowStats>> {
        let (ufid, key) = flow_id(id);
        self.conn.call_as(&Request::FlowDel { ufid, key })
    }
    fn flow_get(&mut self, id: FlowId<'_>) -> Result<Flow> {
        let (ufid, key) = flow_id(id);
        self.conn.call_as(&Request::FlowGet { ufid, key })
    }
    fn flow_dump(&mut self, opts: DumpOptions) -> Result<Vec<Flow>> {
        self.conn.call_as(&Request::FlowDump { terse: opts.terse })
    }
    fn flow_flush(&mut self) -> Result<()> {
        self.conn.call_as(&Request::FlowFlush)
    }
    fn execute(&mut self, e: &Execute<'_>) -> Result<()> {
        self.conn.call_as(&Request::Execute {
            packet: e.packet.to_vec(),
            key: e.key.to_vec(),
            actions: e.actions.to_vec(),
            mru: e.mru,
            probe: e.probe,
        })
    }
    fn recv_set(&mut self, n_handlers: usize) -> Result<Vec<Box<dyn UpcallHandler>>> {
        let pids: Vec<u32> = self.conn.call_as(&Request::RecvSet { n: n_handlers })?;
        pids.into_iter()
            .map(|pid| {
                Ok(Box::new(RemoteUpcallHandler { pid, conn: Conn::connect(&self.name)?, buf: Vec::new(), overflows: 0 })
                    as Box<dyn UpcallHandler>)
            })
            .collect()
    }
    fn meter_features(&mut self) -> Result<MeterFeatures> {
        self.conn.call_as(&Request::MeterFeatures)
    }
    fn meter_set(&mut self, m: &MeterConfig) -> Result<()> {
        self.conn.call_as(&Request::MeterSet { config: m.clone() })
    }
    fn meter_get(&mut self, id: u32) -> Result<MeterStats> {
        self.conn.call_as(&Request::MeterGet { id })
    }
    fn meter_del(&mut self, id: u32) -> Result<MeterStats> {
        self.conn.call_as(&Request::MeterDel { id })
    }
    fn destroy(&mut self) -> Result<()> {
        self.conn.call_as(&Request::Destroy)
    }
}

/// A handler whose queue is in the server.
#[derive(Debug)]
pub struct RemoteUpcallHandler {
    pid: u32,
    conn: Conn,
    buf: Vec<Upcall>,
    overflows: u64,
}

impl RemoteUpcallHandler {
    fn pull(&mut self, max: usize, timeout_ms: i32) -> Result<()> {
        let r: RecvReply = self.conn.call_as(&Request::Recv { pid: self.pid, max, timeout_ms })?;
        self.overflows = r.overflows;
        self.buf.extend(r.upcalls);
        Ok(())
    }
}

impl UpcallHandler for RemoteUpcallHandler {
    fn pid(&self) -> u32 {
        self.pid
    }
    fn recv_batch(&mut self, max: usize, out: &mut Vec<Upcall>) -> Result<usize> {
        if self.buf.is_empty() {
            self.pull(max, 0)?;
        }
        let n = max.min(self.buf.len());
        out.extend(self.buf.drain(..n));
        Ok(n)
    }
    fn wait(&mut self, timeout_ms: i32) -> Result<bool> {
        if self.buf.is_empty() {
            self.pull(64, timeout_ms)?;
        }
        Ok(!self.buf.is_empty())
    }
    fn overflows(&self) -> u64 {
        self.overflows
    }
}

/// Every served datapath on this machine (stale sockets are skipped).
pub fn list() -> Result<Vec<DpInfo>> {
    let Ok(rd) = std::fs::read_dir(run_dir()) else { return Ok(Vec::new()) };
    let mut out = Vec::new();
    for e in rd.flatten() {
        let p = e.path();
        if p.extension().and_then(|x| x.to_str()) != Some("sock") {
            continue;
        }
        let Some(name) = p.file_stem().and_then(|x| x.to_str()) else { continue };
        match RemoteDpif::connect(name) {
            Ok(mut d) => out.push(d.info()?),
            Err(DpifError::Permission { op }) => return Err(DpifError::Permission { op }),
            Err(_) => {}
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

/// A served handler, shared by the connections that pull from it.
type SharedHandler = Arc<Mutex<Box<dyn UpcallHandler>>>;

/// The server's shared state.
struct Server {
    dp: Mutex<UserspaceDpif>,
    handlers: Mutex<HashMap<u32, SharedHandler>>,
    stop: AtomicBool,
    my_uid: u32,
}

fn peer_uid(s: &UnixStream) -> Option<u32> {
    // SAFETY: an all-zero ucred is valid; getsockopt fills it within the size given.
    let mut cred: libc::ucred = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    use std::os::fd::AsRawFd;
    // SAFETY: valid socket, pointer and length.
    let r = unsafe { libc::getsockopt(s.as_raw_fd(), libc::SOL_SOCKET, libc::SO_PEERCRED, (&mut cred as *mut libc::ucred).cast(), &mut len) };
    (r == 0).then_some(cred.uid)
}

fn to_value<T: Serialize>(r: Result<T>) -> Reply {
    match r {
        Ok(v) => match serde_json::to_value(v) {
            Ok(v) => Reply::Ok(v),
            Err(e) => Reply::Err(WireError::from_dpif(&DpifError::Remote(e.to_string()))),
        },
        Err(e) => Reply::Err(WireError::from_dpif(&e)),
    }
}

impl Server {
    fn handle(&self, req: Request, uid: Option<u32>) -> Reply {
        if req.mutates() && !matches!(uid, Some(0)) && uid != Some(self.my_uid) {
            let op = format!("{:?}", req).split([' ', '{']).next().unwrap_or("request").to_string();
            return to_value::<()>(Err(DpifError::Permission { op: format!("{op} on a userspace datapath") }));
        }
        let dp = || self.dp.lock().unwrap_or_else(|p| p.into_inner());
        match req {
            Request::Info => to_value(dp().info()),
            Request::SetFeatures { features } => to_value(dp().set_features(features)),
            Request::PortAdd { spec } => to_value(dp().port_add(&spec)),
            Request::PortDel { port_no } => to_value(dp().port_del(port_no)),
            Request::PortGet { port_no } => to_value(dp().port_get(port_no)),
            Request::PortGetByName { name } => to_value(dp().port_get_by_name(&name)),
            Request::PortList => to_value(dp().port_list()),
            Request::FlowPut { key, mask, actions, ufid, flags } => to_value(dp().flow_put(&FlowPut {
                key: &key,
                mask: mask.as_deref(),
                actions: &actions,
                ufid: ufid.as_ref(),
                flags,
            })),
            Request::FlowDel { ufid, key } => match (&ufid, &key) {
                (Some(u), _) => to_value(dp().flow_del(FlowId::Ufid(u))),
                (None, Some(k)) => to_value(dp().flow_del(FlowId::Key(k))),
                (None, None) => to_value::<()>(Err(DpifError::Kernel { op: "flow del".into(), errno: libc::EINVAL, extack: None })),
            },
            Request::FlowGet { ufid, key } => match (&ufid, &key) {
                (Some(u), _) => to_value(dp().flow_get(FlowId::Ufid(u))),
                (None, Some(k)) => to_value(dp().flow_get(FlowId::Key(k))),
                (None, None) => to_value::<()>(Err(DpifError::Kernel { op: "flow get".into(), errno: libc::EINVAL, extack: None })),
            },
            Request::FlowDump { terse } => to_value(dp().flow_dump(DumpOptions { terse })),
            Request::FlowFlush => to_value(dp().flow_flush()),
            Request::Execute { packet, key, actions, mru, probe } => {
                to_value(dp().execute(&Execute { packet: &packet, key: &key, actions: &actions, mru, probe }))
            }
            Request::RecvSet { n } => {
                let r = dp().recv_set(n);
                match r {
                    Ok(hs) => {
                        let mut map = self.handlers.lock().unwrap_or_else(|p| p.into_inner());
                        map.clear();
                        let pids: Vec<u32> = hs.iter().map(|h| h.pid()).collect();
                        for h in hs {
                            map.insert(h.pid(), Arc::new(Mutex::new(h)));
                        }
                        to_value(Ok(pids))
                    }
                    Err(e) => to_value::<()>(Err(e)),
                }
            }
            Request::Recv { pid, max, timeout_ms } => {
                let h = self.handlers.lock().unwrap_or_else(|p| p.into_inner()).get(&pid).cloned();
                let Some(h) = h else {
                    return to_value::<()>(Err(DpifError::Kernel { op: "recv".into(), errno: libc::ENOENT, extack: Some(format!("no handler {pid}")) }));
                };
                let mut h = h.lock().unwrap_or_else(|p| p.into_inner());
                let mut out = Vec::new();
                let r = h.wait(timeout_ms.clamp(-1, 10_000)).and_then(|_| h.recv_batch(max.max(1), &mut out));
                to_value(r.map(|_| RecvReply { upcalls: out, overflows: h.overflows() }))
            }
            Request::MeterFeatures => to_value(dp().meter_features()),
            Request::MeterSet { config } => to_value(dp().meter_set(&config)),
            Request::MeterGet { id } => to_value(dp().meter_get(id)),
            Request::MeterDel { id } => to_value(dp().meter_del(id)),
            Request::Destroy => {
                let r = dp().destroy();
                self.stop.store(true, Ordering::SeqCst);
                to_value(r)
            }
        }
    }

    fn conn(self: Arc<Self>, s: UnixStream) {
        let uid = peer_uid(&s);
        let Ok(mut w) = s.try_clone() else { return };
        let r = BufReader::new(s);
        for line in r.lines() {
            let Ok(line) = line else { return };
            if line.trim().is_empty() {
                continue;
            }
            let reply = match serde_json::from_str::<Request>(&line) {
                Ok(req) => self.handle(req, uid),
                Err(e) => Reply::Err(WireError::from_dpif(&DpifError::Remote(format!("bad request: {e}")))),
            };
            let Ok(mut out) = serde_json::to_string(&reply) else { return };
            out.push('\n');
            if w.write_all(out.as_bytes()).is_err() {
                return;
            }
        }
    }
}

/// Creates userspace datapath `name` in this process and serves it on its socket until it is
/// destroyed (`del-dp`) or the process gets SIGINT/SIGTERM; then removes the socket.
pub fn serve(name: &str) -> Result<()> {
    let op = format!("serve datapath {name}");
    let dir = run_dir();
    std::fs::create_dir_all(&dir).map_err(|e| io_err(&op, e))?;
    let path = socket_path(name);
    if path.exists() {
        if UnixStream::connect(&path).is_ok() {
            return Err(DpifError::Kernel { op, errno: libc::EEXIST, extack: Some(format!("{} is live", path.display())) });
        }
        let _ = std::fs::remove_file(&path);
    }
    let dp = UserspaceDpif::create(name)?;
    let listener = UnixListener::bind(&path).map_err(|e| io_err(&op, e))?;
    let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666));
    listener.set_nonblocking(true).map_err(|e| io_err(&op, e))?;
    // SAFETY: installing an async-signal-safe handler (one atomic store).
    unsafe {
        libc::signal(libc::SIGINT, on_signal as *const () as libc::sighandler_t);
        libc::signal(libc::SIGTERM, on_signal as *const () as libc::sighandler_t);
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
    // SAFETY: geteuid has no preconditions.
    let my_uid = unsafe { libc::geteuid() };
    let srv = Arc::new(Server { dp: Mutex::new(dp), handlers: Mutex::new(HashMap::new()), stop: AtomicBool::new(false), my_uid });
    eprintln!("rvs: userspace datapath {name} serving on {}", path.display());
    while !srv.stop.load(Ordering::SeqCst) && !STOP.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((s, _)) => {
                let _ = s.set_nonblocking(false);
                let srv = srv.clone();
                let _ = std::thread::Builder::new().name("rvs-udp-conn".into()).spawn(move || srv.conn(s));
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => std::thread::sleep(Duration::from_millis(50)),
            Err(e) if e.raw_os_error() == Some(libc::EINTR) => {}
            Err(e) => {
                let _ = std::fs::remove_file(&path);
                return Err(io_err(&op, e));
            }
        }
    }
    let _ = std::fs::remove_file(&path);
    // Give the connection that asked for `destroy` a moment to get its reply out.
    std::thread::sleep(Duration::from_millis(50));
    let mut dp = srv.dp.lock().unwrap_or_else(|p| p.into_inner());
    let _ = dp.destroy();
    eprintln!("rvs: userspace datapath {name} stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_round_trip_and_classify() {
        let r = Request::FlowPut { key: vec![1, 2], mask: None, actions: vec![], ufid: Some([3; 16]), flags: PutFlags { create: true, ..Default::default() } };
        let s = serde_json::to_string(&r).unwrap();
        assert!(s.starts_with("{\"op\":\"flow_put\""), "{s}");
        let back: Request = serde_json::from_str(&s).unwrap();
        assert!(matches!(back, Request::FlowPut { ufid: Some(u), .. } if u == [3; 16]));
        assert!(r.mutates());
        assert!(!Request::FlowDump { terse: false }.mutates());
        assert!(!Request::Info.mutates());
        assert!(Request::Destroy.mutates());
    }

    #[test]
    fn errors_cross_the_wire_intact() {
        let e = DpifError::Kernel { op: "flow put".into(), errno: libc::EEXIST, extack: Some("flow exists".into()) };
        let back = WireError::from_dpif(&e).into_dpif();
        assert_eq!(back.errno(), Some(libc::EEXIST));
        assert_eq!(back.to_string(), e.to_string());
        let p = WireError::from_dpif(&DpifError::Permission { op: "x".into() }).into_dpif();
        assert!(p.to_string().contains("CAP_NET_ADMIN"));
    }

    #[test]
    fn connecting_to_a_missing_datapath_says_so() {
        std::env::set_var("RVS_RUN_DIR", std::env::temp_dir().join("rvs-no-such-dir"));
        let e = RemoteDpif::connect("nodp").unwrap_err();
        assert_eq!(e.errno(), Some(libc::ENODEV));
        assert!(e.to_string().contains("no userspace datapath nodp"), "{e}");
        assert!(list().unwrap().is_empty());
    }
}
