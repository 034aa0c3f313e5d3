//! Asking the user before a command or patch runs, under the session's [`ApprovalPolicy`].
//! The front end that can ask (the TUI) holds the receiving end of an [`Asker`]; without one
//! (`codex exec`, `codex mcp-server`) the policy is `never` and nothing waits for an answer.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Mutex;

pub use codex_config::ApprovalPolicy;
use tokio::sync::{mpsc, oneshot};

use crate::events::FileChange;

/// What the user is asked to allow.
#[derive(Debug, Clone, PartialEq)]
pub enum ApprovalRequest {
    /// A `shell` call.
    Command {
        /// The program and its arguments.
        command: Vec<String>,
        /// Where it would run.
        cwd: PathBuf,
        /// Whether it would run outside the sandbox (the model asked for that).
        escalated: bool,
        /// Why the model wants it, when it said.
        reason: Option<String>,
    },
    /// An `apply_patch` call: each file with its diff.
    Patch {
        /// The files and what would happen to each.
        changes: Vec<FileChange>,
        /// Why it needs asking (e.g. the sandbox would refuse it).
        reason: Option<String>,
    },
}

/// The user's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Run it, this once.
    Approve,
    /// Run it, and the same command (or patches to the same files) from now on in this session.
    ApproveForSession,
    /// Do not run it.
    Deny,
    /// Do not run it, and tell the model this.
    DenyWithMessage(String),
}

/// A question on its way to the user, with where the answer goes.
#[derive(Debug)]
pub struct Pending {
    /// The question.
    pub request: ApprovalRequest,
    /// Where the answer goes; dropping it counts as [`Decision::Deny`].
    pub reply: oneshot::Sender<Decision>,
}

/// The sending end the tools ask through.
pub type Asker = mpsc::UnboundedSender<Pending>;

/// What a tool call may do after asking (or not needing to).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Go ahead; `unsandboxed` when the user let it leave the sandbox.
    Run {
        /// Run outside the sandbox.
        unsandboxed: bool,
    },
    /// Do not: the user said no. This goes back to the model as the call's output.
    Denied(String),
    /// Do not: the sandbox refuses it and no one was asked. Says why.
    Refused(String),
}

/// The session's policy, who to ask, and what was approved for the whole session.
#[derive(Debug)]
pub struct Approvals {
    policy: ApprovalPolicy,
    asker: Option<Asker>,
    commands: Mutex<HashSet<Vec<String>>>,
    paths: Mutex<HashSet<String>>,
}

impl Approvals {
    /// `policy`, asking through `asker`. Without an asker the policy is `never`, whatever was
    /// asked for: nobody could answer.
    pub fn new(policy: ApprovalPolicy, asker: Option<Asker>) -> Self {
        let policy = if asker.is_some() {
            policy
        } else {
            ApprovalPolicy::Never
        };
        Approvals {
            policy,
            asker,
            commands: Mutex::new(HashSet::new()),
            paths: Mutex::new(HashSet::new()),
        }
    }

    /// Never asks.
    pub fn never() -> Self {
        Approvals::new(ApprovalPolicy::Never, None)
    }

    /// The policy in force.
    pub fn policy(&self) -> ApprovalPolicy {
        self.policy
    }

    /// May `command` run? `escalated` when the model asked to run it outside the sandbox.
    pub(crate) async fn command(
        &self,
        command: &[String],
        cwd: &std::path::Path,
        escalated: bool,
        reason: Option<String>,
    ) -> Verdict {
        let ask = match self.policy {
            ApprovalPolicy::Never => false,
            ApprovalPolicy::OnRequest => escalated,
            ApprovalPolicy::Untrusted => escalated || !is_known_safe(command),
        };
        let remembered = lock(&self.commands).contains(command);
        if !ask || remembered {
            return Verdict::Run {
                unsandboxed: escalated && self.policy != ApprovalPolicy::Never,
            };
        }
        let request = ApprovalRequest::Command {
            command: command.to_vec(),
            cwd: cwd.to_path_buf(),
            escalated,
            reason,
        };
        let decision = self.ask(request).await;
        if let Some(denied) = denial(&decision, "command: it did not run", "run") {
            return denied;
        }
        if decision == Decision::ApproveForSession {
            lock(&self.commands).insert(command.to_vec());
        }
        Verdict::Run {
            unsandboxed: escalated,
        }
    }

    /// May this patch be applied? `outside_sandbox` says why the sandbox would refuse it, if it
    /// would: under `never` that refusal stands, otherwise the user may allow it.
    pub(crate) async fn patch(
        &self,
        changes: &[FileChange],
        outside_sandbox: Option<String>,
    ) -> Verdict {
        let ask = match self.policy {
            ApprovalPolicy::Never => false,
            ApprovalPolicy::OnRequest => outside_sandbox.is_some(),
            ApprovalPolicy::Untrusted => true,
        };
        let remembered = {
            let paths = lock(&self.paths);
            !changes.is_empty() && changes.iter().all(|c| paths.contains(&c.path))
        };
        if remembered {
            return Verdict::Run { unsandboxed: true };
        }
        if !ask {
            return match outside_sandbox {
                Some(why) => Verdict::Refused(why),
                None => Verdict::Run { unsandboxed: false },
            };
        }
        let request = ApprovalRequest::Patch {
            changes: changes.to_vec(),
            reason: outside_sandbox,
        };
        let decision = self.ask(request).await;
        if let Some(denied) = denial(&decision, "patch: no file was changed", "apply") {
            return denied;
        }
        if decision == Decision::ApproveForSession {
            lock(&self.paths).extend(changes.iter().map(|c| c.path.clone()));
        }
        Verdict::Run { unsandboxed: true }
    }

    async fn ask(&self, request: ApprovalRequest) -> Decision {
        let Some(asker) = &self.asker else {
            return Decision::Deny;
        };
        let (reply, answer) = oneshot::channel();
        if asker.send(Pending { request, reply }).is_err() {
            return Decision::Deny;
        }
        answer.await.unwrap_or(Decision::Deny)
    }
}

/// What the model is told when the user said no (`None` when they said yes): `what` is the
/// call and its consequence, `verb` what not to do again.
fn denial(decision: &Decision, what: &str, verb: &str) -> Option<Verdict> {
    let text = match decision {
        Decision::Approve | Decision::ApproveForSession => return None,
        Decision::Deny => format!(
            "the user denied this {what}. Do not {verb} it again; \
             do something else or ask the user what they want"
        ),
        Decision::DenyWithMessage(m) => {
            format!("the user denied this {what}. The user says: {m}")
        }
    };
    Some(Verdict::Denied(text))
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic elsewhere while holding the set leaves it usable: it is only ever extended.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Whether `command` only reads: a short list of programs (and `git` subcommands) that cannot
/// change files or reach the network with the arguments given. `untrusted` runs these
/// without asking. Anything through a shell (`bash -lc`) is asked about.
pub fn is_known_safe(command: &[String]) -> bool {
    let Some((program, args)) = command.split_first() else {
        return false;
    };
    let program = program.rsplit('/').next().unwrap_or(program);
    let has = |flags: &[&str]| args.iter().any(|a| flags.contains(&a.as_str()));
    match program {
        "ls" | "cat" | "pwd" | "echo" | "head" | "tail" | "wc" | "grep" | "rg" | "true"
        | "which" | "stat" | "file" | "tree" | "du" | "nl" | "cut" | "id" | "uname" | "whoami"
        | "date" => !has(&["--pre", "--output", "-o"]) || program == "ls",
        "find" => !has(&[
            "-exec", "-execdir", "-ok", "-okdir", "-delete", "-fprint", "-fprint0", "-fprintf",
            "-fls",
        ]),
        "sed" => args.first().is_some_and(|a| a == "-n") && !has(&["-i", "--in-place"]),
        "git" => {
            matches!(
                args.first().map(String::as_str),
                Some("status" | "log" | "diff" | "show" | "branch" | "rev-parse" | "ls-files")
            ) && !has(&["--output", "-o"])
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn reading_commands_are_known_safe_and_writing_ones_are_not() {
        for safe in [
            "ls -la",
            "cat a.txt",
            "git status",
            "sed -n 1,5p f",
            "rg foo",
            "/bin/ls",
        ] {
            assert!(is_known_safe(&argv(safe)), "{safe}");
        }
        for unsafe_ in [
            "rm -rf x",
            "touch x",
            "find . -delete",
            "sed -i s/a/b/ f",
            "git commit -m x",
            "bash -lc ls",
            "rg --pre sh x",
            "sort -o f f",
        ] {
            assert!(!is_known_safe(&argv(unsafe_)), "{unsafe_}");
        }
    }

    #[tokio::test]
    async fn untrusted_asks_and_remembers_a_command_approved_for_the_session() {
        let (tx, mut rx) = mpsc::unbounded_channel::<Pending>();
        let a = Approvals::new(ApprovalPolicy::Untrusted, Some(tx));
        let answer = tokio::spawn(async move {
            let p = rx.recv().await.expect("asked");
            assert!(matches!(p.request, ApprovalRequest::Command { .. }));
            let _ = p.reply.send(Decision::ApproveForSession);
            rx
        });
        let cwd = std::path::Path::new("/");
        assert_eq!(
            a.command(&argv("touch x"), cwd, false, None).await,
            Verdict::Run { unsandboxed: false }
        );
        let mut rx = answer.await.expect("join");
        // Remembered: no second question.
        assert_eq!(
            a.command(&argv("touch x"), cwd, false, None).await,
            Verdict::Run { unsandboxed: false }
        );
        assert!(rx.try_recv().is_err());
        assert_eq!(
            a.command(&argv("ls"), cwd, false, None).await,
            Verdict::Run { unsandboxed: false }
        );
    }

    #[tokio::test]
    async fn a_denial_with_a_message_reaches_the_model_and_a_dropped_question_denies() {
        let (tx, mut rx) = mpsc::unbounded_channel::<Pending>();
        let a = Approvals::new(ApprovalPolicy::OnRequest, Some(tx));
        let cwd = std::path::Path::new("/");
        // Sandboxed commands run without asking under on-request.
        assert_eq!(
            a.command(&argv("touch x"), cwd, false, None).await,
            Verdict::Run { unsandboxed: false }
        );
        let answer = tokio::spawn(async move {
            let p = rx.recv().await.expect("asked");
            let _ = p
                .reply
                .send(Decision::DenyWithMessage("use the other file".into()));
            let p = rx.recv().await.expect("asked again");
            drop(p);
        });
        let Verdict::Denied(why) = a.command(&argv("touch x"), cwd, true, None).await else {
            panic!("not denied");
        };
        assert!(why.contains("The user says: use the other file"), "{why}");
        assert!(matches!(
            a.command(&argv("touch y"), cwd, true, None).await,
            Verdict::Denied(_)
        ));
        answer.await.expect("join");
    }

    #[tokio::test]
    async fn without_an_asker_nothing_waits_and_the_sandbox_refusal_stands() {
        let a = Approvals::new(ApprovalPolicy::Untrusted, None);
        assert_eq!(a.policy(), ApprovalPolicy::Never);
        let cwd = std::path::Path::new("/");
        assert_eq!(
            a.command(&argv("rm -rf x"), cwd, false, None).await,
            Verdict::Run { unsandboxed: false }
        );
        let change = FileChange {
            path: "a".into(),
            kind: "add".into(),
            unified_diff: String::new(),
        };
        assert_eq!(
            a.patch(&[change], Some("read-only".into())).await,
            Verdict::Refused("read-only".into())
        );
    }
}
