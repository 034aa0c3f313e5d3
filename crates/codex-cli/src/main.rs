fn main() {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // `codex exec-server` starts sandboxed processes through this binary's hidden helper entry;
    // it must run before anything else (no threads, no runtime, no logging setup).
    if let Some(code) = codex_sandbox::run_helper_if_requested(&args) {
        std::process::exit(code);
    }
    std::process::exit(codex_cli::run(args));
}
