//! The `apply_patch` tool: the Codex patch format, applied all or nothing in the session's
//! working directory. A patch that does not fit changes nothing, and the model is told why.

use codex_sandbox::SandboxMode;
use serde::Deserialize;

use super::{ToolContext, ToolOutcome, parse_args};
use crate::events::{FileChange, ItemDetails, Status};

/// The tool's description, which teaches the model the format.
pub(super) const DESCRIPTION: &str = "Edits files with a patch. Format:
*** Begin Patch
*** Add File: path/new.txt
+line of the new file
*** Update File: path/old.txt
@@ optional line to find first, e.g. a function signature
 context line (starts with a space)
-removed line
+added line
*** Delete File: path/gone.txt
*** End Patch
Paths are relative to the working directory. Give about 3 lines of context around each change. \
A patch whose context does not match changes nothing.";

#[derive(Debug, Deserialize)]
struct Args {
    input: String,
}

pub(super) fn call_json(ctx: &ToolContext, arguments: &str) -> ToolOutcome {
    match parse_args::<Args>("apply_patch", arguments) {
        Ok(a) => call(ctx, &a.input),
        Err(e) => ToolOutcome::error(e),
    }
}

/// Applies `text` in the working directory, if the sandbox allows writing there.
pub(super) fn call(ctx: &ToolContext, text: &str) -> ToolOutcome {
    let refused = |why: String, changes: Vec<FileChange>| ToolOutcome {
        output: format!("apply_patch failed: {why}; no file was changed"),
        details: Some(ItemDetails::FileChange {
            changes,
            status: Status::Failed,
            error: Some(why),
        }),
    };
    let patch = match codex_apply_patch::parse(text) {
        Ok(p) => p,
        Err(e) => return refused(e.to_string(), Vec::new()),
    };
    let planned = planned_changes(&patch);
    // Patches are applied here, not through the exec-server, so the policy is checked here:
    // they only ever touch the working directory, which workspace-write allows.
    if ctx.sandbox.mode == SandboxMode::ReadOnly {
        return refused(
            "the sandbox is read-only; no file may be changed (run with --sandbox workspace-write to allow edits)".into(),
            planned,
        );
    }
    if ctx.sandbox.mode == SandboxMode::WorkspaceWrite
        && !ctx
            .sandbox
            .writable_roots
            .iter()
            .any(|r| ctx.cwd.starts_with(r))
    {
        return refused(
            format!(
                "{} is not writable under the workspace-write sandbox",
                ctx.cwd.display()
            ),
            planned,
        );
    }
    match codex_apply_patch::apply(&patch, &ctx.cwd) {
        Ok(applied) => {
            let mut changes = Vec::new();
            let mut summary = String::from("Success. Updated the following files:\n");
            for (list, kind, mark) in [
                (&applied.added, "add", 'A'),
                (&applied.modified, "update", 'M'),
                (&applied.deleted, "delete", 'D'),
            ] {
                for p in list {
                    summary.push_str(&format!("{mark} {}\n", p.display()));
                    changes.push(FileChange {
                        path: p.display().to_string(),
                        kind,
                    });
                }
            }
            ToolOutcome {
                output: summary,
                details: Some(ItemDetails::FileChange {
                    changes,
                    status: Status::Completed,
                    error: None,
                }),
            }
        }
        Err(e) => refused(e.to_string(), planned),
    }
}

/// The files a patch names, for reporting a refusal.
fn planned_changes(patch: &codex_apply_patch::Patch) -> Vec<FileChange> {
    use codex_apply_patch::FileOp;
    patch
        .ops
        .iter()
        .map(|op| match op {
            FileOp::Add { path, .. } => FileChange {
                path: path.display().to_string(),
                kind: "add",
            },
            FileOp::Delete { path } => FileChange {
                path: path.display().to_string(),
                kind: "delete",
            },
            FileOp::Update { path, .. } => FileChange {
                path: path.display().to_string(),
                kind: "update",
            },
        })
        .collect()
}
