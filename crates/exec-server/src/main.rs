fn main() {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // Sandboxed processes are started through this binary's hidden helper entry; it must run
    // before anything else (no threads, no runtime) so that the sandbox covers only the command.
    if let Some(code) = codex_sandbox::run_helper_if_requested(&args) {
        std::process::exit(code);
    }
    std::process::exit(codex_exec_server::run(args));
}
