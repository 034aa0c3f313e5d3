//! The instructions sent with every request: who the agent is, how its tools and sandbox
//! behave here, then the project's `AGENTS.md` files (see [`crate::project_docs`]).

use std::path::Path;

use codex_sandbox::{SandboxMode, SandboxPolicy};

const BASE: &str = "You are Codex, a coding agent working in the user's repository from the \
command line. Work on the task until it is done, then reply with a short summary of what you \
did. Use the `shell` tool to inspect and run things (argv arrays; use [\"bash\", \"-lc\", \
\"...\"] for pipes and redirections), `apply_patch` to edit files, and `update_plan` for \
multi-step work. Prefer small, verifiable steps. Do not ask the user questions: nobody is \
watching in real time.";

/// The full instructions for a session in `cwd` under `sandbox`.
pub fn build(cwd: &Path, sandbox: &SandboxPolicy) -> std::io::Result<String> {
    build_with(cwd, sandbox, &crate::project_docs::DocOptions::default())
}

/// [`build`] with the user's global AGENTS.md and the project doc settings of `docs`: the
/// global instructions come before the project's, which are nearer the code and win.
pub fn build_with(
    cwd: &Path,
    sandbox: &SandboxPolicy,
    docs: &crate::project_docs::DocOptions,
) -> std::io::Result<String> {
    let mut text = String::from(BASE);
    text.push_str(&format!(
        "\n\nThe working directory is {}. {}",
        cwd.display(),
        sandbox_words(sandbox)
    ));
    if let Some(home) = &docs.codex_home
        && let Some(global) = crate::project_docs::global_instructions(home)?
    {
        text.push_str("\n\nThe user's own instructions ($CODEX_HOME/AGENTS.md):\n");
        text.push_str(&global);
    }
    if let Some(docs) = crate::project_docs::instructions_with(cwd, docs)? {
        text.push_str("\n\nProject instructions (AGENTS.md files; nearer ones win):\n");
        text.push_str(&docs);
    }
    Ok(text)
}

fn sandbox_words(sandbox: &SandboxPolicy) -> String {
    match sandbox.mode {
        SandboxMode::ReadOnly => "The sandbox is read-only: commands may read anything but write \
            nothing, the network is off, and apply_patch is refused."
            .into(),
        SandboxMode::WorkspaceWrite => {
            let roots: Vec<String> = sandbox
                .writable_roots
                .iter()
                .map(|r| r.display().to_string())
                .collect();
            format!(
                "The sandbox is workspace-write: writes are allowed only under {}; the network is {}.",
                roots.join(", "),
                if sandbox.network_access { "on" } else { "off" }
            )
        }
        SandboxMode::DangerFullAccess => "There is no sandbox: be careful.".into(),
    }
}
