//! The build driver's command line (`cargo xtask ...`), built with the end-to-end tests so that
//! they run its commands as processes, with their own environment and exit code, without a
//! nested cargo.

fn main() {
    if let Err(e) = xtask::main() {
        // As crates/xtask/src/main.rs: one line, the chain of causes joined.
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
