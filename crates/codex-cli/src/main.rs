fn main() {
    std::process::exit(codex_cli::run(std::env::args_os()));
}
