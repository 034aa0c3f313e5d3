//! Build facts shared by the `codex` and `codex-exec-server` binaries.
//!
//! [`TARGET`] comes from this crate's build script, which runs once per target, so it is the
//! triple the binary was compiled for, not the machine that compiled it. The version and commit
//! live in the binary's version [`stamp`], which `cargo xtask dist` writes after linking.

use std::sync::OnceLock;

pub mod stamp;

/// Target triple the binary was built for, e.g. `x86_64-unknown-linux-musl`.
pub const TARGET: &str = env!("CODEX_BUILD_TARGET");

/// The slot `dist` rewrites. `#[used]` keeps it in the file even if nothing read it.
#[used]
static STAMP: [u8; stamp::LEN] =
    match stamp::encode(env!("CODEX_BUILD_VERSION"), env!("CODEX_BUILD_COMMIT")) {
        Ok(slot) => slot,
        Err(_) => panic!("CODEX_RELEASE_VERSION and CODEX_GIT_COMMIT are too long for the stamp"),
    };

/// Version and commit as stamped, read once.
fn stamped() -> &'static (String, String) {
    static FACTS: OnceLock<(String, String)> = OnceLock::new();
    FACTS.get_or_init(|| {
        // The bytes change in the file after linking, so the compiler must not fold in the
        // value it compiled; a volatile read makes it load them from the binary.
        #[allow(unsafe_code)]
        // SAFETY: `STAMP` is a live, aligned, immutable static of exactly this type.
        let slot = unsafe { std::ptr::read_volatile(&raw const STAMP) };
        match stamp::decode(&slot) {
            Ok((version, commit)) => (version.to_owned(), commit.to_owned()),
            Err(_) => ("unknown".to_owned(), "unknown".to_owned()),
        }
    })
}

/// Release version, e.g. `0.1.0` (stamped by `cargo xtask dist --version`).
pub fn version() -> &'static str {
    &stamped().0
}

/// Full git commit hash of the source, or `unknown` outside a checkout.
pub fn commit() -> &'static str {
    &stamped().1
}

/// The text after the program name in `--version`: `0.1.0 (x86_64-unknown-linux-musl, commit abc…)`.
pub fn long_version() -> &'static str {
    static LONG: OnceLock<String> = OnceLock::new();
    LONG.get_or_init(|| format!("{} ({TARGET}, commit {})", version(), commit()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_plain_build_reads_the_version_its_build_script_stamped() {
        assert_eq!(super::version(), env!("CODEX_BUILD_VERSION"));
        assert_eq!(super::commit(), env!("CODEX_BUILD_COMMIT"));
        assert!(super::long_version().contains(super::TARGET));
    }
}
