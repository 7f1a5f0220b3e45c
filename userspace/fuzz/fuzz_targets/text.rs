//! Fuzzes the text parsers: no panics, and printing a parsed match/action list then parsing and
//! printing again is stable.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rvs_core::actions::ActionList;
use rvs_core::nla::Writer;
use rvs_core::text::{actions, key};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = core::str::from_utf8(data) else { return };
    if let Ok((k, m)) = key::parse_match(s) {
        let mut out = String::new();
        key::write_match(&mut out, &k, &m).unwrap();
        let (k2, m2) = key::parse_match(&out).unwrap_or_else(|e| panic!("printed match {out:?} parses: {e:?}"));
        let mut out2 = String::new();
        key::write_match(&mut out2, &k2, &m2).unwrap();
        assert_eq!(out, out2);
    }
    let mut buf = [0u8; 8192];
    let mut w = Writer::new(&mut buf);
    if actions::parse_actions(s, &mut w).is_ok() {
        let n = w.len();
        let mut out = String::new();
        actions::write_actions(&mut out, ActionList(&buf[..n])).unwrap();
    }
    let mut w = Writer::new(&mut buf);
    let _ = key::text_to_attrs(s, &mut w);
});
