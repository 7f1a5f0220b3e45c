//! `rvs-appctl`: sends one command to a running rvs daemon over its control socket and prints the
//! reply, like `ovs-appctl`:
//!
//! ```text
//! rvs-appctl [-t TARGET] [-T SECS] COMMAND [ARG...]
//! ```
//!
//! TARGET is a socket path, or a daemon name (`rvs-vswitchd`, the default) whose socket is
//! `RUN_DIR/NAME.ctl` (`/run/rvs`, or `RVS_RUN_DIR`). Exit status: 0 on success, 2 when the
//! daemon reported an error, 1 when it could not be reached.

use std::path::PathBuf;
use std::time::Duration;

fn usage() -> ! {
    eprintln!(
        "usage: rvs-appctl [-t TARGET] [-T SECS] COMMAND [ARG...]\n\
         \x20 TARGET: a control socket path or a daemon name (default rvs-vswitchd)\n\
         \x20 rvs-appctl list-commands   shows the daemon's commands"
    );
    std::process::exit(1)
}

fn main() {
    let mut args = std::env::args().skip(1).peekable();
    let mut target = String::from("rvs-vswitchd");
    let mut timeout = None;
    while let Some(a) = args.peek() {
        match a.as_str() {
            "-t" | "--target" => {
                args.next();
                target = args.next().unwrap_or_else(|| usage());
            }
            "-T" | "--timeout" => {
                args.next();
                let s: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or_else(|| usage());
                timeout = Some(Duration::from_secs(s.max(1)));
            }
            "-h" | "--help" => usage(),
            "-V" | "--version" => {
                println!("rvs-appctl (rvs) {}", env!("CARGO_PKG_VERSION"));
                return;
            }
            s if s.starts_with("--target=") => {
                target = s["--target=".len()..].to_string();
                args.next();
            }
            _ => break,
        }
    }
    let Some(cmd) = args.next() else { usage() };
    let rest: Vec<String> = args.collect();
    let path = if target.contains('/') { PathBuf::from(&target) } else { rvs_vswitchd::run_dir().join(format!("{target}.ctl")) };
    match rvs_vswitchd::unixctl::call(&path, &cmd, &rest, timeout) {
        Ok(Ok(text)) => print!("{text}"),
        Ok(Err(e)) => {
            eprint!("{e}");
            if !e.ends_with('\n') {
                eprintln!();
            }
            eprintln!("rvs-appctl: {target}: server returned an error");
            std::process::exit(2);
        }
        Err(e) => {
            eprintln!("rvs-appctl: {e}");
            std::process::exit(1);
        }
    }
}
