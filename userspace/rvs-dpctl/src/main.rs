//! `rvs-dpctl`: datapath control tool (grows into the ovs-dpctl equivalent; see issue 5).
fn main() {
    let arg = std::env::args().nth(1);
    match arg.as_deref() {
        Some("--version" | "-V") => println!(
            "rvs-dpctl {} (datapath ABI version {})",
            rvs_core::version::VERSION,
            rvs_core::version::OVS_DATAPATH_VERSION
        ),
        _ => {
            eprintln!("usage: rvs-dpctl --version");
            std::process::exit(2);
        }
    }
}
