//! Daemon conventions, as Open vSwitch daemons follow them:
//!
//! - `--detach`: [`detach`] forks before any thread exists; the parent waits until the child
//!   reports readiness ([`Detached::ready`], after the database and control socket are up) and
//!   exits 0, or exits 1 if the child dies first. The child starts a new session, moves to `/`
//!   and points stdin/stdout/stderr at `/dev/null`.
//! - `--pidfile`: [`PidFile`] refuses to start over a live daemon's pidfile and removes the file
//!   on drop.
//! - Signals: [`block_signals`] blocks SIGTERM/SIGINT/SIGHUP in every thread;
//!   [`spawn_signal_thread`] receives them with `sigwait` (SIGHUP reopens the log file).

use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};

/// The child's side of a detach: tells the waiting parent we are up.
#[derive(Debug, Default)]
pub struct Detached {
    notify: Option<std::fs::File>,
}

impl Detached {
    /// Not detached (nothing to report).
    pub fn none() -> Detached {
        Detached { notify: None }
    }

    /// Reports readiness to the parent (which then exits 0) and drops the console.
    pub fn ready(&mut self) {
        if let Some(mut f) = self.notify.take() {
            let _ = f.write_all(b"1");
            redirect_stdio();
        }
    }
}

fn redirect_stdio() {
    if let Ok(null) = std::fs::OpenOptions::new().read(true).write(true).open("/dev/null") {
        use std::os::fd::AsRawFd;
        for fd in 0..3 {
            // SAFETY: dup2 onto the standard descriptors with a valid open fd.
            unsafe { libc::dup2(null.as_raw_fd(), fd) };
        }
    }
}

/// Forks into the background. Must run before any thread is spawned. Returns in the child
/// only; the parent exits with the child's readiness.
pub fn detach() -> std::io::Result<Detached> {
    let mut fds = [0i32; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2 writes.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: pipe2 returned two fresh descriptors that nothing else owns.
    let (r, w) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    // SAFETY: the process is single-threaded here (documented requirement).
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(std::io::Error::last_os_error());
    }
    if pid > 0 {
        drop(w);
        let mut f = std::fs::File::from(r);
        let mut b = [0u8; 1];
        let ok = matches!(f.read(&mut b), Ok(1));
        std::process::exit(if ok { 0 } else { 1 });
    }
    drop(r);
    // SAFETY: plain syscalls in the child.
    unsafe {
        libc::setsid();
    }
    let _ = std::env::set_current_dir("/");
    Ok(Detached { notify: Some(std::fs::File::from(w)) })
}

/// A pidfile, removed when dropped.
#[derive(Debug)]
pub struct PidFile {
    path: PathBuf,
}

fn pid_alive(pid: i32) -> bool {
    // SAFETY: signal 0 only checks for existence.
    pid > 0 && unsafe { libc::kill(pid, 0) } == 0
}

impl PidFile {
    /// Writes our pid to `path`; fails if it names another live process.
    pub fn create(path: &Path) -> Result<PidFile, String> {
        if let Ok(s) = std::fs::read_to_string(path) {
            if let Ok(pid) = s.trim().parse::<i32>() {
                if pid != std::process::id() as i32 && pid_alive(pid) {
                    return Err(format!("{}: already running as pid {pid}, aborting", path.display()));
                }
            }
        }
        if let Some(d) = path.parent() {
            std::fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
        }
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, format!("{}\n", std::process::id())).map_err(|e| format!("{}: {e}", tmp.display()))?;
        std::fs::rename(&tmp, path).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(PidFile { path: path.to_path_buf() })
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn signal_set() -> libc::sigset_t {
    // SAFETY: sigemptyset/sigaddset initialise the zeroed set.
    unsafe {
        let mut s: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut s);
        for sig in [libc::SIGTERM, libc::SIGINT, libc::SIGHUP] {
            libc::sigaddset(&mut s, sig);
        }
        s
    }
}

/// Blocks the daemon's signals in this thread and every thread it spawns later.
pub fn block_signals() {
    let s = signal_set();
    // SAFETY: `s` is an initialised set; the old mask is not needed.
    unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &s, std::ptr::null_mut()) };
    // A closed control connection must not kill the daemon.
    // SAFETY: ignoring SIGPIPE is always sound.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
}

/// Receives the blocked signals on a thread: SIGHUP reopens the log, SIGTERM/SIGINT call
/// `on_exit`.
pub fn spawn_signal_thread(on_exit: impl Fn(i32) + Send + 'static) -> std::io::Result<()> {
    std::thread::Builder::new().name("signals".into()).spawn(move || loop {
        let s = signal_set();
        let mut sig = 0i32;
        // SAFETY: `s` and `sig` are valid for the call.
        if unsafe { libc::sigwait(&s, &mut sig) } != 0 {
            continue;
        }
        if sig == libc::SIGHUP {
            let _ = crate::vlog::reopen();
        } else {
            on_exit(sig);
        }
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pidfile_lifecycle() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("x.pid");
        {
            let _f = PidFile::create(&p).unwrap();
            assert_eq!(std::fs::read_to_string(&p).unwrap().trim(), std::process::id().to_string());
        }
        assert!(!p.exists(), "removed on drop");
        // A live foreign pid blocks (pid 1 always exists).
        std::fs::write(&p, "1\n").unwrap();
        assert!(PidFile::create(&p).unwrap_err().contains("already running"));
        // A stale one does not.
        std::fs::write(&p, "999999999\n").unwrap();
        assert!(PidFile::create(&p).is_ok());
    }
}
