//! The `apply_patch` tool: the Codex patch format, applied all or nothing in the session's
//! working directory. A patch that does not fit changes nothing, and the model is told why.

use codex_sandbox::SandboxMode;
use serde::Deserialize;

use super::{ToolContext, ToolOutcome, parse_args};
use crate::approval::Verdict;
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

pub(super) async fn call_json(ctx: &ToolContext, arguments: &str) -> ToolOutcome {
    match parse_args::<Args>("apply_patch", arguments) {
        Ok(a) => call(ctx, &a.input).await,
        Err(e) => ToolOutcome::error(e),
    }
}

/// Applies `text` in the working directory, if the sandbox allows writing there or the user
/// allows it (see [`crate::approval`]).
pub(super) async fn call(ctx: &ToolContext, text: &str) -> ToolOutcome {
    let refused = |why: String, changes: Vec<FileChange>, status: Status| ToolOutcome {
        output: format!("apply_patch failed: {why}; no file was changed"),
        details: Some(ItemDetails::FileChange {
            changes,
            status,
            error: Some(why),
        }),
    };
    let patch = match codex_apply_patch::parse(text) {
        Ok(p) => p,
        Err(e) => return refused(e.to_string(), Vec::new(), Status::Failed),
    };
    let planned: Vec<FileChange> = match codex_apply_patch::preview(&patch, &ctx.cwd) {
        Ok(diffs) => diffs.into_iter().map(file_change).collect(),
        Err(e) => return refused(e.to_string(), planned_changes(&patch), Status::Failed),
    };
    match ctx
        .approvals
        .patch(&planned, sandbox_refusal(ctx, &patch))
        .await
    {
        Verdict::Run { .. } => {}
        Verdict::Refused(why) => return refused(why, planned, Status::Failed),
        Verdict::Denied(why) => {
            return ToolOutcome {
                output: why.clone(),
                details: Some(ItemDetails::FileChange {
                    changes: planned,
                    status: Status::Declined,
                    error: Some(why),
                }),
            };
        }
    }
    match codex_apply_patch::apply(&patch, &ctx.cwd) {
        Ok(applied) => {
            let mut summary = String::from("Success. Updated the following files:\n");
            for (list, mark) in [
                (&applied.added, 'A'),
                (&applied.modified, 'M'),
                (&applied.deleted, 'D'),
            ] {
                for p in list {
                    summary.push_str(&format!("{mark} {}\n", p.display()));
                }
            }
            ToolOutcome {
                output: summary,
                details: Some(ItemDetails::FileChange {
                    changes: applied.diffs.into_iter().map(file_change).collect(),
                    status: Status::Completed,
                    error: None,
                }),
            }
        }
        Err(e) => refused(e.to_string(), planned, Status::Failed),
    }
}

/// Why the sandbox refuses a patch here, if it does. Patches are applied here, not through the
/// exec-server, so the policy is checked here: workspace-write allows the working directory,
/// except the folders that stay read-only there (`.git`, whose hooks run outside the sandbox).
fn sandbox_refusal(ctx: &ToolContext, patch: &codex_apply_patch::Patch) -> Option<String> {
    use codex_apply_patch::FileOp;
    match ctx.sandbox.mode {
        SandboxMode::ReadOnly => Some(
            "the sandbox is read-only; no file may be changed (run with --sandbox workspace-write to allow edits)".into(),
        ),
        SandboxMode::WorkspaceWrite
            if !ctx
                .sandbox
                .writable_roots
                .iter()
                .any(|r| ctx.cwd.starts_with(r)) =>
        {
            Some(format!(
                "{} is not writable under the workspace-write sandbox",
                ctx.cwd.display()
            ))
        }
        SandboxMode::WorkspaceWrite => patch
            .ops
            .iter()
            .flat_map(|op| match op {
                FileOp::Add { path, .. } | FileOp::Delete { path } => vec![path],
                FileOp::Update { path, move_to, .. } => {
                    std::iter::once(path).chain(move_to).collect()
                }
            })
            .find_map(|path| {
                let folder = ctx.sandbox.read_only_folder_of(&ctx.cwd.join(path))?;
                Some(format!(
                    "{} is in {}, which stays read-only under the workspace-write sandbox (what it holds runs outside the sandbox)",
                    path.display(),
                    folder.display()
                ))
            }),
        SandboxMode::DangerFullAccess => None,
    }
}

fn file_change(d: codex_apply_patch::FileDiff) -> FileChange {
    FileChange {
        path: d.path.display().to_string(),
        kind: d.kind.to_string(),
        unified_diff: d.unified,
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
                kind: "add".into(),
                unified_diff: String::new(),
            },
            FileOp::Delete { path } => FileChange {
                path: path.display().to_string(),
                kind: "delete".into(),
                unified_diff: String::new(),
            },
            FileOp::Update { path, .. } => FileChange {
                path: path.display().to_string(),
                kind: "update".into(),
                unified_diff: String::new(),
            },
        })
        .collect()
}
