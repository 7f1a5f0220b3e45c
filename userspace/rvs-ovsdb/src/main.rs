//! `rvs-ovsdb`: placeholder while the server is written.
fn main() {}
