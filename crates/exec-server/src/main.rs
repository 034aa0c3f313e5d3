fn main() {
    std::process::exit(codex_exec_server::run(std::env::args_os()));
}
