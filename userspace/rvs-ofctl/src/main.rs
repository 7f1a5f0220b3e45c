//! rvs-ofctl (being written).
fn main() {}
