//! Oracle tests against Open vSwitch's `ovs-ofctl`.
//!
//! - `vectors/rvs/NAME.hex`: messages built and encoded by rvs (the `samples()` below), with
//!   `NAME.txt` = what `ovs-ofctl ofp-print` prints for them. Without ovs-ofctl the test
//!   checks that rvs still encodes exactly these bytes and decodes them back to the model;
//!   with ovs-ofctl it also checks that ofp-print still prints the committed text and
//!   reports no decode error.
//! - `vectors/ovs/NAME.hex`: messages Debian's ovs-ofctl sent for real commands (captured
//!   by `tools/gen_ovs_vectors.sh`). rvs must decode every one and re-encode it to a fixed
//!   point; with ovs-ofctl present, ofp-print of rvs's re-encoding must equal ofp-print of
//!   the original (same meaning, whatever the OXM order).
//!
//! `RVS_OF_REGEN=1 cargo test -p rvs-openflow --test oracle` rewrites `vectors/rvs/`.

#![allow(clippy::unwrap_used)]

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::{from_hex, samples, to_hex};
use rvs_openflow::{decode, encode};

fn dir(sub: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors").join(sub)
}

fn have_ofctl() -> bool {
    Command::new("ovs-ofctl").arg("--version").output().is_ok_and(|o| o.status.success())
}

fn ofp_print(hex: &str) -> String {
    let o = Command::new("ovs-ofctl").args(["ofp-print", hex]).output().unwrap();
    let mut s = String::from_utf8_lossy(&o.stdout).into_owned();
    s.push_str(&String::from_utf8_lossy(&o.stderr));
    // Drop timestamped log lines (they differ from run to run).
    s.lines()
        .filter(|l| !(l.len() > 20 && l.as_bytes()[..4].iter().all(u8::is_ascii_digit) && l.contains("Z|")))
        .map(|l| format!("{l}\n"))
        .collect()
}

fn looks_broken(text: &str) -> bool {
    text.contains("***") || text.contains("decode error") || text.contains("bad ")
}

#[test]
fn rvs_vectors() {
    let regen = std::env::var_os("RVS_OF_REGEN").is_some();
    let d = dir("rvs");
    let mut names = Vec::new();
    for (name, m) in samples() {
        let bytes = encode(&m).unwrap_or_else(|e| panic!("{name}: {e}"));
        let hex = to_hex(&bytes);
        let hex_path = d.join(format!("{name}.hex"));
        let txt_path = d.join(format!("{name}.txt"));
        if regen {
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(&hex_path, format!("{hex}\n")).unwrap();
            let txt = ofp_print(&hex);
            assert!(!looks_broken(&txt), "{name}: ovs-ofctl cannot decode rvs's encoding:\n{txt}");
            std::fs::write(&txt_path, txt).unwrap();
        }
        let want = std::fs::read_to_string(&hex_path).unwrap_or_else(|_| panic!("missing {hex_path:?}"));
        assert_eq!(hex, want.trim(), "{name}: encoding changed");
        let back = decode(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(back, m, "{name}: decode(encode(m)) != m");
        names.push(name);
    }
    // No stale vector files.
    for e in std::fs::read_dir(&d).unwrap() {
        let p = e.unwrap().path();
        let stem = p.file_stem().unwrap().to_string_lossy().into_owned();
        assert!(names.contains(&stem), "stale vector {p:?}");
    }
    assert!(names.len() >= 60, "only {} vectors", names.len());
}

#[test]
fn rvs_vectors_against_ovs_ofctl() {
    if !have_ofctl() {
        eprintln!("ovs-ofctl not installed: skipping the live oracle");
        return;
    }
    for (name, _) in samples() {
        let hex = std::fs::read_to_string(dir("rvs").join(format!("{name}.hex"))).unwrap();
        let want = std::fs::read_to_string(dir("rvs").join(format!("{name}.txt"))).unwrap();
        let got = ofp_print(hex.trim());
        assert!(!looks_broken(&got), "{name}: {got}");
        assert_eq!(got, want, "{name}: ovs-ofctl prints differently now");
    }
}

fn ovs_vectors() -> Vec<(String, Vec<String>)> {
    let mut v: Vec<_> = std::fs::read_dir(dir("ovs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "hex"))
        .map(|p| {
            let lines = std::fs::read_to_string(&p)
                .unwrap()
                .lines()
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect();
            (p.file_stem().unwrap().to_string_lossy().into_owned(), lines)
        })
        .collect();
    v.sort();
    v
}

#[test]
fn ovs_vectors_decode_and_reencode() {
    let all = ovs_vectors();
    assert!(all.len() >= 70, "only {} captured commands", all.len());
    let mut n = 0;
    for (name, lines) in all {
        for (i, hex) in lines.iter().enumerate() {
            let bytes = from_hex(hex);
            let m = decode(&bytes).unwrap_or_else(|e| panic!("{name}[{i}] {hex}: {e}"));
            let again = encode(&m).unwrap_or_else(|e| panic!("{name}[{i}]: {e}"));
            assert_eq!(decode(&again).unwrap(), m, "{name}[{i}]");
            if again.len() == bytes.len() && m.version == rvs_openflow::Version::OF10 {
                // OpenFlow 1.0 has one encoding per meaning: bytes must match exactly.
                assert_eq!(to_hex(&again), *hex, "{name}[{i}]");
            }
            n += 1;
        }
    }
    assert!(n >= 300, "{n} messages");
}

#[test]
fn ovs_vectors_reencoded_print_the_same() {
    if !have_ofctl() {
        eprintln!("ovs-ofctl not installed: skipping the live oracle");
        return;
    }
    for (name, lines) in ovs_vectors() {
        for (i, hex) in lines.iter().enumerate() {
            let m = decode(&from_hex(hex)).unwrap();
            let again = to_hex(&encode(&m).unwrap());
            let (a, b) = (ofp_print(hex), ofp_print(&again));
            assert!(!looks_broken(&b), "{name}[{i}]: {b}");
            assert_eq!(a, b, "{name}[{i}]: rvs's re-encoding means something else");
        }
    }
}
