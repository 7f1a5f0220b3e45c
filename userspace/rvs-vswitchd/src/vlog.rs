//! Logging in the style of Open vSwitch's vlog: every message belongs to a module (`bridge`,
//! `upcall`, ...) and has a level; each module has one level threshold per destination (console =
//! stderr, file = `--log-file`). `vlog/set` changes thresholds at run time with OVS's spec syntax
//! (`[module|ANY][:console|file|ANY][:off|emer|err|warn|info|dbg]`, words in any order).
//!
//! Lines look like OVS's: `2024-01-01T12:00:00.123Z|00042|bridge|INFO|added port v1`.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

/// Message severity, most severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Nothing is logged at this threshold.
    Off,
    /// The daemon cannot continue.
    Emer,
    /// An error.
    Err,
    /// Something unexpected but handled.
    Warn,
    /// Normal operation worth noting.
    Info,
    /// Debugging detail.
    Dbg,
}

impl Level {
    /// The name OVS uses (`INFO`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Level::Off => "OFF",
            Level::Emer => "EMER",
            Level::Err => "ERR",
            Level::Warn => "WARN",
            Level::Info => "INFO",
            Level::Dbg => "DBG",
        }
    }

    fn parse(s: &str) -> Option<Level> {
        Some(match s.to_ascii_lowercase().as_str() {
            "off" => Level::Off,
            "emer" => Level::Emer,
            "err" => Level::Err,
            "warn" => Level::Warn,
            "info" => Level::Info,
            "dbg" | "debug" => Level::Dbg,
            _ => return None,
        })
    }
}

/// Known modules (a message naming another module is still logged, with `ANY`'s thresholds).
pub const MODULES: &[&str] = &["vswitchd", "bridge", "dbsync", "upcall", "revalidator", "xlate", "unixctl", "daemon", "connmgr"];

/// Destinations.
const CONSOLE: usize = 0;
const FILE: usize = 1;

struct Logger {
    levels: BTreeMap<String, [Level; 2]>,
    default: [Level; 2],
    file: Option<(PathBuf, File)>,
}

fn logger() -> &'static Mutex<Logger> {
    static L: OnceLock<Mutex<Logger>> = OnceLock::new();
    L.get_or_init(|| {
        Mutex::new(Logger { levels: BTreeMap::new(), default: [Level::Info, Level::Info], file: None })
    })
}

static SEQ: AtomicU64 = AtomicU64::new(1);

/// Opens (appending) the log file; messages then go there as well as to stderr.
pub fn set_log_file(path: &Path) -> std::io::Result<()> {
    let f = OpenOptions::new().create(true).append(true).open(path)?;
    logger().lock().unwrap_or_else(|p| p.into_inner()).file = Some((path.to_path_buf(), f));
    Ok(())
}

/// Reopens the log file (after rotation).
pub fn reopen() -> std::io::Result<()> {
    let path = logger().lock().unwrap_or_else(|p| p.into_inner()).file.as_ref().map(|(p, _)| p.clone());
    match path {
        Some(p) => set_log_file(&p),
        None => Ok(()),
    }
}

/// Whether a message of `level` in `module` would be written anywhere.
pub fn enabled(module: &str, level: Level) -> bool {
    let l = logger().lock().unwrap_or_else(|p| p.into_inner());
    let t = l.levels.get(module).copied().unwrap_or(l.default);
    level <= t[CONSOLE] || (l.file.is_some() && level <= t[FILE])
}

/// Logs `msg` at `level` for `module`.
pub fn log(module: &str, level: Level, msg: &str) {
    let mut l = logger().lock().unwrap_or_else(|p| p.into_inner());
    let t = l.levels.get(module).copied().unwrap_or(l.default);
    let to_console = level != Level::Off && level <= t[CONSOLE];
    let to_file = level != Level::Off && l.file.is_some() && level <= t[FILE];
    if !to_console && !to_file {
        return;
    }
    let seq = SEQ.fetch_add(1, Ordering::Relaxed);
    let line = format!("{}|{seq:05}|{module}|{}|{msg}\n", timestamp(), level.name());
    if to_console {
        let _ = std::io::stderr().write_all(line.as_bytes());
    }
    if to_file {
        if let Some((_, f)) = l.file.as_mut() {
            let _ = f.write_all(line.as_bytes());
        }
    }
}

/// UTC wall-clock time as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn timestamp() -> String {
    let d = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let (days, rem) = (secs / 86400, secs % 86400);
    let (y, m, dd) = civil_from_days(days as i64);
    format!("{y:04}-{m:02}-{dd:02}T{:02}:{:02}:{:02}.{:03}Z", rem / 3600, rem % 3600 / 60, rem % 60, d.subsec_millis())
}

/// Days since 1970-01-01 to (year, month, day) (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Applies one `vlog/set` spec (`module:dest:level`, any subset, any order; `ANY` for all).
pub fn set(spec: &str) -> Result<(), String> {
    let (mut module, mut dest, mut level) = (None, None, None);
    for w in spec.split([':', ' ']).filter(|w| !w.is_empty()) {
        if let Some(lv) = Level::parse(w) {
            level = Some(lv);
        } else if w.eq_ignore_ascii_case("console") {
            dest = Some(Some(CONSOLE));
        } else if w.eq_ignore_ascii_case("file") {
            dest = Some(Some(FILE));
        } else if w.eq_ignore_ascii_case("syslog") {
            return Err("syslog is not supported".into());
        } else if w.eq_ignore_ascii_case("any") {
            if module.is_none() && dest.is_none() {
                module = Some(None);
            } else {
                dest = Some(None);
            }
        } else if MODULES.contains(&w) {
            module = Some(Some(w.to_string()));
        } else {
            return Err(format!("unknown module, destination or level \"{w}\""));
        }
    }
    let level = level.unwrap_or(Level::Dbg);
    let dests: Vec<usize> = match dest.flatten() {
        Some(d) => vec![d],
        None => vec![CONSOLE, FILE],
    };
    let mut l = logger().lock().unwrap_or_else(|p| p.into_inner());
    let all_modules = module.clone().flatten().is_none();
    let modules: Vec<String> = match module.flatten() {
        Some(m) => vec![m],
        None => MODULES.iter().map(|s| s.to_string()).collect(),
    };
    for m in modules {
        let d = l.default;
        let e = l.levels.entry(m).or_insert(d);
        for &x in &dests {
            e[x] = level;
        }
    }
    if all_modules {
        for &x in &dests {
            l.default[x] = level;
        }
    }
    Ok(())
}

/// The `vlog/list` table.
pub fn list() -> String {
    let l = logger().lock().unwrap_or_else(|p| p.into_inner());
    let mut s = String::from("                 console    syslog    file\n                 -------    ------    ------\n");
    for m in MODULES {
        let t = l.levels.get(*m).copied().unwrap_or(l.default);
        s += &format!("{m:<16} {:<10} {:<9} {}\n", t[CONSOLE].name().to_lowercase(), "off", t[FILE].name().to_lowercase());
    }
    s
}

/// A rate limit for one message site (a token bucket: `per_min` messages a minute, bursts of
/// `burst`); what it suppresses is counted and reported with the next message let through.
#[derive(Debug)]
pub struct RateLimit {
    per_min: u32,
    burst: u32,
    state: Mutex<RlState>,
}

#[derive(Debug)]
struct RlState {
    tokens: f64,
    last: Option<std::time::Instant>,
    suppressed: u64,
}

impl RateLimit {
    /// A limit of `per_min` messages a minute, bursts of `burst`.
    pub const fn new(per_min: u32, burst: u32) -> Self {
        Self { per_min, burst, state: Mutex::new(RlState { tokens: burst as f64, last: None, suppressed: 0 }) }
    }

    /// Whether a message may go out now; `Some(n)`: yes, and `n` were suppressed since the last one.
    pub fn allow(&self) -> Option<u64> {
        self.allow_at(std::time::Instant::now())
    }

    fn allow_at(&self, now: std::time::Instant) -> Option<u64> {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(last) = st.last {
            let refill = now.saturating_duration_since(last).as_secs_f64() * f64::from(self.per_min) / 60.0;
            st.tokens = (st.tokens + refill).min(f64::from(self.burst));
        }
        st.last = Some(now);
        if st.tokens < 1.0 {
            st.suppressed += 1;
            return None;
        }
        st.tokens -= 1.0;
        Some(std::mem::take(&mut st.suppressed))
    }
}

/// Logs `msg` at `level` if `rl` lets it through, noting how many were suppressed before it.
pub fn log_limited(rl: &RateLimit, module: &str, level: Level, msg: std::fmt::Arguments<'_>) {
    if !enabled(module, level) {
        return;
    }
    if let Some(n) = rl.allow() {
        let mut s = msg.to_string();
        if n > 0 {
            s += &format!(" ({n} similar messages suppressed)");
        }
        log(module, level, &s);
    }
}

/// Logs at `Warn`, at most 5 a minute (bursts of 20) from this call site.
#[macro_export]
macro_rules! warn_rl { ($m:expr, $($a:tt)*) => {{
    static RL: $crate::vlog::RateLimit = $crate::vlog::RateLimit::new(5, 20);
    $crate::vlog::log_limited(&RL, $m, $crate::vlog::Level::Warn, format_args!($($a)*))
}} }

/// Logs at `Err`.
#[macro_export]
macro_rules! err { ($m:expr, $($a:tt)*) => { $crate::vlog::log($m, $crate::vlog::Level::Err, &format!($($a)*)) } }
/// Logs at `Warn`.
#[macro_export]
macro_rules! warn { ($m:expr, $($a:tt)*) => { $crate::vlog::log($m, $crate::vlog::Level::Warn, &format!($($a)*)) } }
/// Logs at `Info`.
#[macro_export]
macro_rules! info { ($m:expr, $($a:tt)*) => { $crate::vlog::log($m, $crate::vlog::Level::Info, &format!($($a)*)) } }
/// Logs at `Dbg` (the message is only formatted when enabled).
#[macro_export]
macro_rules! dbg_log { ($m:expr, $($a:tt)*) => {
    if $crate::vlog::enabled($m, $crate::vlog::Level::Dbg) { $crate::vlog::log($m, $crate::vlog::Level::Dbg, &format!($($a)*)) }
} }

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limit_bursts_then_refills_and_counts_what_it_suppressed() {
        let rl = RateLimit::new(60, 3);
        let t0 = std::time::Instant::now();
        assert_eq!(rl.allow_at(t0), Some(0));
        assert_eq!(rl.allow_at(t0), Some(0));
        assert_eq!(rl.allow_at(t0), Some(0));
        assert_eq!(rl.allow_at(t0), None, "burst spent");
        assert_eq!(rl.allow_at(t0), None);
        // One token a second.
        assert_eq!(rl.allow_at(t0 + std::time::Duration::from_millis(500)), None);
        assert_eq!(rl.allow_at(t0 + std::time::Duration::from_millis(1100)), Some(3), "three were suppressed");
        assert_eq!(rl.allow_at(t0 + std::time::Duration::from_secs(100)), Some(0));
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19723), (2024, 1, 1));
        assert_eq!(civil_from_days(19782), (2024, 2, 29));
    }

    #[test]
    fn set_specs() {
        assert!(set("upcall:console:dbg").is_ok());
        assert!(enabled("upcall", Level::Dbg));
        assert!(set("upcall:info").is_ok());
        assert!(!enabled("upcall", Level::Dbg));
        assert!(set("nosuchmodule:dbg").is_err());
        assert!(set("bridge:warn:nonsense").is_err());
        assert!(list().contains("upcall"));
    }
}
