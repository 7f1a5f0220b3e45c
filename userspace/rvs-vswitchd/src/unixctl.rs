//! The control socket ("unixctl"), wire-compatible with Open vSwitch's: JSON-RPC 1.0 over a unix
//! stream socket, a request `{"method": "fdb/show", "params": ["br0"], "id": N}` answered with
//! `{"result": TEXT, "error": null, "id": N}` or `{"result": null, "error": TEXT, "id": N}`. So both
//! `rvs-appctl` and Debian's `ovs-appctl -t SOCKET` talk to rvs-vswitchd.
//!
//! [`Server`] holds the command table (name, argument count, handler) and serves each connection
//! on its own thread; [`call`] is the client side.

use std::collections::BTreeMap;
use std::io::{BufReader, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use serde_json::{json, Value};

/// A command handler: gets the arguments, returns the reply text or an error text.
pub type Handler = Arc<dyn Fn(&[String]) -> Result<String, String> + Send + Sync>;

struct Command {
    usage: String,
    min: usize,
    max: usize,
    handler: Handler,
}

/// The command table and listening socket.
#[derive(Clone)]
pub struct Server {
    commands: Arc<RwLock<BTreeMap<String, Command>>>,
    path: Arc<RwLock<Option<PathBuf>>>,
}

impl Default for Server {
    fn default() -> Self {
        Self::new()
    }
}

impl Server {
    /// A server with only `list-commands`.
    pub fn new() -> Server {
        let s = Server { commands: Arc::default(), path: Arc::default() };
        let c = s.commands.clone();
        s.register("list-commands", "", 0, 0, move |_| {
            let cmds = c.read().unwrap_or_else(|p| p.into_inner());
            let mut out = String::from("The available commands are:\n");
            for (name, cmd) in cmds.iter() {
                out += &format!("  {:<24}{}\n", name, cmd.usage);
            }
            Ok(out)
        });
        s
    }

    /// Registers `name` taking between `min` and `max` arguments.
    pub fn register(
        &self,
        name: &str,
        usage: &str,
        min: usize,
        max: usize,
        f: impl Fn(&[String]) -> Result<String, String> + Send + Sync + 'static,
    ) {
        let cmd = Command { usage: usage.to_string(), min, max, handler: Arc::new(f) };
        self.commands.write().unwrap_or_else(|p| p.into_inner()).insert(name.to_string(), cmd);
    }

    /// Runs a command as if it came from the socket.
    pub fn dispatch(&self, method: &str, args: &[String]) -> Result<String, String> {
        let (h, min, max) = {
            let cmds = self.commands.read().unwrap_or_else(|p| p.into_inner());
            let Some(c) = cmds.get(method) else {
                return Err(format!("\"{method}\" is not a valid command (use \"list-commands\" to see a list of valid commands)"));
            };
            (c.handler.clone(), c.min, c.max)
        };
        if args.len() < min {
            return Err(format!("\"{method}\" command requires at least {min} arguments"));
        }
        if args.len() > max {
            return Err(format!("\"{method}\" command takes at most {max} arguments"));
        }
        h(args)
    }

    /// Binds `path` (replacing a stale socket) and serves it on background threads.
    pub fn listen(&self, path: &Path) -> std::io::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        if UnixStream::connect(path).is_ok() {
            return Err(std::io::Error::new(std::io::ErrorKind::AddrInUse, format!("{} is in use by a running daemon", path.display())));
        }
        let _ = std::fs::remove_file(path);
        let l = UnixListener::bind(path)?;
        *self.path.write().unwrap_or_else(|p| p.into_inner()) = Some(path.to_path_buf());
        let s = self.clone();
        std::thread::Builder::new().name("unixctl".into()).spawn(move || {
            for c in l.incoming().flatten() {
                let s2 = s.clone();
                let _ = std::thread::Builder::new().name("unixctl-conn".into()).spawn(move || s2.serve(c));
            }
        })?;
        Ok(())
    }

    /// Removes the socket file.
    pub fn close(&self) {
        if let Some(p) = self.path.write().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = std::fs::remove_file(p);
        }
    }

    fn serve(&self, conn: UnixStream) {
        let Ok(mut w) = conn.try_clone() else { return };
        for msg in serde_json::Deserializer::from_reader(BufReader::new(conn)).into_iter::<Value>() {
            let Ok(msg) = msg else { break };
            let id = msg.get("id").cloned().unwrap_or(Value::Null);
            let Some(method) = msg.get("method").and_then(Value::as_str) else { continue };
            let args: Vec<String> = msg
                .get("params")
                .and_then(Value::as_array)
                .map(|a| a.iter().map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string)).collect())
                .unwrap_or_default();
            crate::dbg_log!("unixctl", "received request {method}{args:?}");
            let reply = match self.dispatch(method, &args) {
                Ok(r) => json!({"id": id, "result": r, "error": null}),
                Err(e) => json!({"id": id, "result": null, "error": e}),
            };
            let mut bytes = reply.to_string().into_bytes();
            bytes.push(b'\n');
            if w.write_all(&bytes).is_err() {
                break;
            }
        }
    }
}

/// Sends one command to the daemon at `path`; `Ok(text)` or `Err(text)` as the daemon answered
/// (`Err` also for connection failures, prefixed by the path).
pub fn call(path: &Path, method: &str, args: &[String], timeout: Option<Duration>) -> Result<Result<String, String>, String> {
    let s = UnixStream::connect(path).map_err(|e| format!("cannot connect to \"{}\" ({e})", path.display()))?;
    s.set_read_timeout(timeout).map_err(|e| e.to_string())?;
    let mut w = s.try_clone().map_err(|e| e.to_string())?;
    let req = json!({"id": 0, "method": method, "params": args});
    w.write_all(req.to_string().as_bytes()).map_err(|e| format!("{}: {e}", path.display()))?;
    let reply = serde_json::Deserializer::from_reader(BufReader::new(s))
        .into_iter::<Value>()
        .next()
        .ok_or_else(|| format!("{}: connection closed without a reply", path.display()))?
        .map_err(|e| format!("{}: bad reply ({e})", path.display()))?;
    match reply.get("error") {
        Some(Value::Null) | None => Ok(Ok(reply.get("result").and_then(Value::as_str).unwrap_or("").to_string())),
        Some(e) => Ok(Err(e.as_str().map_or_else(|| e.to_string(), str::to_string))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_over_the_socket() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.ctl");
        let s = Server::new();
        s.register("echo", "ARG...", 1, 2, |a| Ok(a.join(",")));
        s.register("fail", "", 0, 0, |_| Err("it failed".into()));
        s.listen(&path).unwrap();
        assert!(s.listen(&path).is_err(), "a second daemon on the same socket is refused");
        assert_eq!(call(&path, "echo", &["a".into(), "b".into()], None).unwrap(), Ok("a,b".into()));
        assert_eq!(call(&path, "fail", &[], None).unwrap(), Err("it failed".into()));
        let e = call(&path, "echo", &[], None).unwrap().unwrap_err();
        assert!(e.contains("at least 1"), "{e}");
        let e = call(&path, "nope", &[], None).unwrap().unwrap_err();
        assert!(e.contains("not a valid command"), "{e}");
        let l = call(&path, "list-commands", &[], None).unwrap().unwrap();
        assert!(l.contains("echo") && l.contains("ARG..."), "{l}");
        s.close();
        assert!(call(&path, "echo", &["x".into()], None).is_err());
    }
}
