fn main() {
    if let Err(e) = xtask::main() {
        // One line: the chain of causes joined, as the user needs to act on it.
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
