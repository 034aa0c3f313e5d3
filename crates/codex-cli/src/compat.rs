//! How this `codex` stands against Codex 0.169's command line: every 0.169 subcommand and flag
//! of the commands a drop-in replacement must cover, with ours beside it. docs/compatibility.md
//! is generated from this table (`cargo xtask generate`), and tests/cli_compat.rs checks it both
//! ways against 0.169's own `--help` and against our clap definitions, so it cannot drift.
//!
//! This file is plain data with no dependencies: xtask includes it by path.

/// What ours does with one 0.169 subcommand or flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ours {
    /// Accepted, and does what 0.169 does.
    Same,
    /// Accepted, but behaves differently: how and why.
    Differs(&'static str),
    /// Refused (clap's "unexpected argument"/"unrecognized subcommand"): why.
    Absent(&'static str),
    /// Not in 0.169's help for this command, but accepted by ours: what it does. A script that
    /// passes it will not run under 0.169.
    Only(&'static str),
}

/// One 0.169 subcommand or flag, or one only ours has ([`Ours::Only`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// The command it belongs to, as typed after `codex` (`""` is `codex` itself, `"*"` every
    /// command in [`COMMANDS`]).
    pub command: &'static str,
    /// A flag as 0.169's help writes it (`-m, --model` or `--json`), or a subcommand's name.
    pub item: &'static str,
    /// Ours.
    pub ours: Ours,
}

/// The 0.169 commands covered, as typed after `codex`.
pub const COMMANDS: &[&str] = &[
    "",
    "exec",
    "exec resume",
    "resume",
    "login",
    "login status",
    "logout",
    "mcp",
    "mcp list",
    "mcp get",
    "mcp add",
    "mcp remove",
    "mcp login",
    "mcp logout",
    "completion",
];

use Ours::{Absent, Differs, Only, Same};

const fn e(command: &'static str, item: &'static str, ours: Ours) -> Entry {
    Entry {
        command,
        item,
        ours,
    }
}

const NO_APP_SERVER: &str =
    "codex runs in one process: there is no app server or daemon to connect to";
const NO_WORKTREES: &str =
    "codex does not manage git worktrees; create one with `git worktree add` and use --cd";
const NO_AUTO_REVIEW: &str =
    "approvals are answered by the user (or by no one, under `never`); there is no reviewing model";
const NO_CYBER: &str = "an OpenAI-internal program; not offered";
const NO_THREAD_SOURCE: &str = "codex keeps no thread classification";
const PROFILES: &str = "also reads the older `[profiles.NAME]` tables, which 0.169 refuses (NAME.config.toml is laid over the table); a profile defined nowhere is an error naming where it was looked for, where 0.169 goes on without it";
const ACCESS_TOKEN: &str = "any JWT is stored and sent as the ChatGPT access token (with the account id it names); 0.169 expects its own agent-identity token format. Either way it cannot be renewed";
const MCP_FILE: &str = "accepted; `codex mcp` reads and edits config.toml itself, so overrides change neither what it lists nor what it writes";

// Only ours: `codex`'s flags are global in ours (taken after any command), and `exec`'s are taken
// on either side of `exec resume`; 0.169 takes each only where its help lists it.
const EXEC_SERVER: &str = "runs the model's commands on a remote exec-server (docs/exec-server.md)";
const EXEC_SERVER_TOKEN: &str =
    "the remote exec-server's token, read from this file (else from CODEX_EXEC_SERVER_TOKEN)";
const IGNORE_USER_CONFIG: &str =
    "does not read $CODEX_HOME/config.toml; 0.169 takes it only on `exec` and `exec resume`";
const AFTER_RESUME: &str =
    "`exec`'s flag, which ours also takes after `resume`; 0.169 only before it";
const EXEC_APPROVAL: &str = "`codex`'s flag; `exec` never asks (no one is there to answer), so any policy but `never` gets a warning and what the sandbox refuses fails";
const EXEC_NO_ALT_SCREEN: &str =
    "`codex`'s flag for the interactive screen; `exec` draws none, so it changes nothing";
const EXEC_SEARCH: &str =
    "`codex`'s flag: offers the model the web_search tool in this run (Responses API providers)";
const EXEC_NO_DAEMON: &str =
    "`codex`'s flag, accepted for 0.169's scripts; no codex ever uses a background server";

/// Every covered 0.169 subcommand and flag, by command.
pub const ENTRIES: &[Entry] = &[
    // Global: every command takes them.
    e("*", "-c, --config", Same),
    e("*", "--enable", Same),
    e("*", "--disable", Same),
    e("*", "-h, --help", Same),
    // codex
    e(
        "",
        "agents",
        Absent("codex has no agent command center; `codex resume` lists sessions"),
    ),
    e("", "exec", Same),
    e(
        "",
        "review",
        Absent("no built-in review mode; ask for a review with `codex exec`"),
    ),
    e("", "login", Same),
    e("", "logout", Same),
    e("", "mcp", Same),
    e(
        "",
        "plugin",
        Absent("codex has no plugins; MCP servers (`codex mcp`) add tools"),
    ),
    e("", "app-server", Absent(NO_APP_SERVER)),
    e("", "remote-control", Absent(NO_APP_SERVER)),
    e("", "completion", Same),
    e(
        "",
        "update",
        Differs(
            "updates from this project's signed releases (docs/installer.md), with --version and --rollback",
        ),
    ),
    e(
        "",
        "doctor",
        Differs(
            "checks this install: which copy runs, PATH, layout, updatability, release source, config",
        ),
    ),
    e(
        "",
        "sandbox",
        Differs(
            "`codex sandbox linux [--sandbox MODE] -- COMMAND`: the command after a `linux` subcommand",
        ),
    ),
    e("", "debug", Absent("no debugging subcommands")),
    e(
        "",
        "apply",
        Absent(
            "codex edits the working tree directly (apply_patch); there is no cloud diff to apply",
        ),
    ),
    e("", "resume", Same),
    e("", "queue", Absent(NO_APP_SERVER)),
    e(
        "",
        "archive",
        Absent("sessions are plain files under $CODEX_HOME/sessions; move or delete them there"),
    ),
    e(
        "",
        "delete",
        Absent("sessions are plain files under $CODEX_HOME/sessions; move or delete them there"),
    ),
    e(
        "",
        "unarchive",
        Absent("sessions are plain files under $CODEX_HOME/sessions; move or delete them there"),
    ),
    e(
        "",
        "migrate-rollouts",
        Absent("codex reads its session logs as written; there is no other history to migrate to"),
    ),
    e(
        "",
        "migrate-nfs-db",
        Absent("codex keeps no SQLite databases"),
    ),
    e(
        "",
        "fork",
        Absent("not offered: copy a session log under $CODEX_HOME/sessions and resume the copy"),
    ),
    e("", "cloud", Absent("no Codex Cloud tasks")),
    e(
        "",
        "exec-server",
        Differs(
            "ours serves the process runner (`codex exec-server --listen ws://HOST:PORT`), see docs/exec-server.md",
        ),
    ),
    e(
        "",
        "features",
        Absent(
            "codex has no feature flags to inspect; --enable/--disable are accepted and ignored by the agent",
        ),
    ),
    e("", "help", Same),
    e("", "--remote", Absent(NO_APP_SERVER)),
    e("", "--remote-auth-token-env", Absent(NO_APP_SERVER)),
    e("", "--strict-config", Same),
    e(
        "",
        "-i, --image",
        Differs(
            "the file's bytes are sent as they are (0.169 decodes and may resize them): PNG, JPEG, GIF or WebP, at most 20 MiB",
        ),
    ),
    e("", "-m, --model", Same),
    e(
        "",
        "--oss",
        Differs(
            "no start-up probe of the local server or download of the model, as 0.169 does: a server that is down fails the first request with a connection error",
        ),
    ),
    e("", "--local-provider", Same),
    e("", "-p, --profile", Differs(PROFILES)),
    e("", "-s, --sandbox", Same),
    e("", "--approve-for-me", Absent(NO_AUTO_REVIEW)),
    e("", "--dangerously-bypass-approvals-and-sandbox", Same),
    e(
        "",
        "--dangerously-bypass-hook-trust",
        Differs("accepted and changes nothing: codex runs no hooks"),
    ),
    e("", "-C, --cd", Same),
    e("", "--worktree", Absent(NO_WORKTREES)),
    e("", "--add-dir", Same),
    e(
        "",
        "-a, --ask-for-approval",
        Differs("also takes `untrusted`, which 0.169 no longer lists"),
    ),
    e(
        "",
        "--search",
        Differs(
            "offers the provider's live `web_search` tool (`external_web_access: true`, as 0.169) on Responses API providers; without it none is offered, where 0.169 offers cached search; Chat Completions providers get a warning",
        ),
    ),
    e(
        "",
        "--no-alt-screen",
        Differs(
            "draws the full screen on the main screen rather than an inline viewport: the scrollback and the last screen stay after exit",
        ),
    ),
    e("", "--no-daemon", Same),
    e("", "--ignore-user-config", Only(IGNORE_USER_CONFIG)),
    e("", "--exec-server", Only(EXEC_SERVER)),
    e("", "--exec-server-token-file", Only(EXEC_SERVER_TOKEN)),
    e(
        "",
        "-V, --version",
        Differs("also names the target and the commit"),
    ),
    // codex exec
    e("exec", "resume", Same),
    e(
        "exec",
        "fork",
        Absent("not offered: copy a session log under $CODEX_HOME/sessions and resume the copy"),
    ),
    e(
        "exec",
        "review",
        Absent("no built-in review mode; ask for a review in the prompt"),
    ),
    e("exec", "help", Same),
    e("exec", "--strict-config", Same),
    e(
        "exec",
        "-i, --image",
        Differs(
            "the file's bytes are sent as they are (0.169 decodes and may resize them): PNG, JPEG, GIF or WebP, at most 20 MiB",
        ),
    ),
    e("exec", "-m, --model", Same),
    e(
        "exec",
        "--oss",
        Differs(
            "no start-up probe of the local server or download of the model, as 0.169 does: a server that is down fails the first request with a connection error",
        ),
    ),
    e("exec", "--local-provider", Same),
    e("exec", "-p, --profile", Differs(PROFILES)),
    e("exec", "-s, --sandbox", Same),
    e("exec", "--approve-for-me", Absent(NO_AUTO_REVIEW)),
    e("exec", "--dangerously-bypass-approvals-and-sandbox", Same),
    e(
        "exec",
        "--dangerously-bypass-hook-trust",
        Differs("accepted and changes nothing: codex runs no hooks"),
    ),
    e("exec", "-C, --cd", Same),
    e("exec", "--worktree", Absent(NO_WORKTREES)),
    e("exec", "--add-dir", Same),
    e("exec", "--thread-source", Absent(NO_THREAD_SOURCE)),
    e("exec", "--cyber-access-program", Absent(NO_CYBER)),
    e("exec", "--skip-git-repo-check", Same),
    e("exec", "--trust", Same),
    e("exec", "--ephemeral", Same),
    e("exec", "--ignore-user-config", Same),
    e(
        "exec",
        "--ignore-rules",
        Differs("accepted and changes nothing: codex reads no execpolicy `.rules` files"),
    ),
    e(
        "exec",
        "--output-schema",
        Differs(
            "also checks the final message against the schema (every keyword structured outputs use, except `pattern` and `format`): one that does not follow it is an error with exit 1 (0.169 only asks the model)",
        ),
    ),
    e("exec", "--color", Same),
    e(
        "exec",
        "--json",
        Differs(
            "the same event kinds (thread.started, turn.*, item.*); item details are ours (docs/agent.md)",
        ),
    ),
    e("exec", "-o, --output-last-message", Same),
    e("exec", "-a, --ask-for-approval", Only(EXEC_APPROVAL)),
    e("exec", "--no-alt-screen", Only(EXEC_NO_ALT_SCREEN)),
    e("exec", "--search", Only(EXEC_SEARCH)),
    e("exec", "--no-daemon", Only(EXEC_NO_DAEMON)),
    e("exec", "--exec-server", Only(EXEC_SERVER)),
    e("exec", "--exec-server-token-file", Only(EXEC_SERVER_TOKEN)),
    e(
        "exec",
        "-V, --version",
        Differs("also names the target and the commit"),
    ),
    // codex exec resume
    e("exec resume", "--last", Same),
    e("exec resume", "--all", Same),
    e(
        "exec resume",
        "-i, --image",
        Differs(
            "the file's bytes are sent as they are (0.169 decodes and may resize them): PNG, JPEG, GIF or WebP, at most 20 MiB",
        ),
    ),
    e("exec resume", "--strict-config", Same),
    e("exec resume", "-m, --model", Same),
    e(
        "exec resume",
        "--dangerously-bypass-approvals-and-sandbox",
        Same,
    ),
    e(
        "exec resume",
        "--dangerously-bypass-hook-trust",
        Differs("accepted and changes nothing: codex runs no hooks"),
    ),
    e("exec resume", "--worktree", Absent(NO_WORKTREES)),
    e("exec resume", "--thread-source", Absent(NO_THREAD_SOURCE)),
    e("exec resume", "--cyber-access-program", Absent(NO_CYBER)),
    e("exec resume", "--skip-git-repo-check", Same),
    e("exec resume", "--trust", Same),
    e("exec resume", "--ephemeral", Same),
    e("exec resume", "--ignore-user-config", Same),
    e(
        "exec resume",
        "--ignore-rules",
        Differs("accepted and changes nothing: codex reads no execpolicy `.rules` files"),
    ),
    e(
        "exec resume",
        "--output-schema",
        Differs(
            "also checks the final message against the schema (every keyword structured outputs use, except `pattern` and `format`): one that does not follow it is an error with exit 1 (0.169 only asks the model)",
        ),
    ),
    e(
        "exec resume",
        "--json",
        Differs(
            "the same event kinds (thread.started, turn.*, item.*); item details are ours (docs/agent.md)",
        ),
    ),
    e("exec resume", "-o, --output-last-message", Same),
    e("exec resume", "-p, --profile", Only(AFTER_RESUME)),
    e("exec resume", "-s, --sandbox", Only(AFTER_RESUME)),
    e("exec resume", "-C, --cd", Only(AFTER_RESUME)),
    e("exec resume", "--oss", Only(AFTER_RESUME)),
    e("exec resume", "--local-provider", Only(AFTER_RESUME)),
    e("exec resume", "--add-dir", Only(AFTER_RESUME)),
    e("exec resume", "-a, --ask-for-approval", Only(EXEC_APPROVAL)),
    e("exec resume", "--no-alt-screen", Only(EXEC_NO_ALT_SCREEN)),
    e("exec resume", "--search", Only(EXEC_SEARCH)),
    e("exec resume", "--no-daemon", Only(EXEC_NO_DAEMON)),
    e("exec resume", "--exec-server", Only(EXEC_SERVER)),
    e(
        "exec resume",
        "--exec-server-token-file",
        Only(EXEC_SERVER_TOKEN),
    ),
    // codex resume
    e("resume", "--last", Same),
    e("resume", "--all", Same),
    e("resume", "--include-non-interactive", Same),
    e("resume", "--remote", Absent(NO_APP_SERVER)),
    e("resume", "--remote-auth-token-env", Absent(NO_APP_SERVER)),
    e("resume", "--strict-config", Same),
    e(
        "resume",
        "-i, --image",
        Differs(
            "the file's bytes are sent as they are (0.169 decodes and may resize them): PNG, JPEG, GIF or WebP, at most 20 MiB",
        ),
    ),
    e("resume", "-m, --model", Same),
    e(
        "resume",
        "--oss",
        Differs(
            "no start-up probe of the local server or download of the model, as 0.169 does: a server that is down fails the first request with a connection error",
        ),
    ),
    e("resume", "--local-provider", Same),
    e("resume", "-p, --profile", Differs(PROFILES)),
    e("resume", "-s, --sandbox", Same),
    e("resume", "--approve-for-me", Absent(NO_AUTO_REVIEW)),
    e("resume", "--dangerously-bypass-approvals-and-sandbox", Same),
    e(
        "resume",
        "--dangerously-bypass-hook-trust",
        Differs("accepted and changes nothing: codex runs no hooks"),
    ),
    e("resume", "-C, --cd", Same),
    e("resume", "--worktree", Absent(NO_WORKTREES)),
    e("resume", "--add-dir", Same),
    e(
        "resume",
        "-a, --ask-for-approval",
        Differs("also takes `untrusted`, which 0.169 no longer lists"),
    ),
    e(
        "resume",
        "--search",
        Differs(
            "offers the provider's live `web_search` tool (`external_web_access: true`, as 0.169) on Responses API providers; without it none is offered, where 0.169 offers cached search; Chat Completions providers get a warning",
        ),
    ),
    e(
        "resume",
        "--no-alt-screen",
        Differs(
            "draws the full screen on the main screen rather than an inline viewport: the scrollback and the last screen stay after exit",
        ),
    ),
    e("resume", "--no-daemon", Same),
    e("resume", "--ignore-user-config", Only(IGNORE_USER_CONFIG)),
    e("resume", "--exec-server", Only(EXEC_SERVER)),
    e(
        "resume",
        "--exec-server-token-file",
        Only(EXEC_SERVER_TOKEN),
    ),
    e(
        "resume",
        "-V, --version",
        Differs("also names the target and the commit"),
    ),
    // codex login, logout
    e("login", "status", Same),
    e("login", "help", Same),
    e("login", "--with-api-key", Same),
    e("login", "--with-access-token", Differs(ACCESS_TOKEN)),
    e("login", "--device-auth", Same),
    // codex mcp
    e("mcp", "list", Same),
    e("mcp", "get", Same),
    e("mcp", "add", Same),
    e("mcp", "remove", Same),
    e(
        "mcp",
        "login",
        Absent(
            "no OAuth for MCP servers: give a streamable HTTP server a token with --bearer-token-env-var",
        ),
    ),
    e(
        "mcp",
        "logout",
        Absent(
            "no OAuth for MCP servers: give a streamable HTTP server a token with --bearer-token-env-var",
        ),
    ),
    e("mcp", "help", Same),
    e("mcp list", "-c, --config", Differs(MCP_FILE)),
    e("mcp get", "-c, --config", Differs(MCP_FILE)),
    e("mcp add", "-c, --config", Differs(MCP_FILE)),
    e("mcp remove", "-c, --config", Differs(MCP_FILE)),
    e(
        "mcp list",
        "--json",
        Differs("the same fields for stdio and HTTP servers; OAuth fields are absent"),
    ),
    e(
        "mcp get",
        "--json",
        Differs("the same fields for stdio and HTTP servers; OAuth fields are absent"),
    ),
    e("mcp add", "--env", Same),
    e("mcp add", "--url", Same),
    e("mcp add", "--bearer-token-env-var", Same),
    e(
        "mcp add",
        "--oauth-client-id",
        Absent("no OAuth for MCP servers: use --bearer-token-env-var"),
    ),
    e(
        "mcp add",
        "--oauth-client-secret",
        Absent("no OAuth for MCP servers: use --bearer-token-env-var"),
    ),
    e(
        "mcp add",
        "--oauth-client-registration",
        Absent("no OAuth for MCP servers: use --bearer-token-env-var"),
    ),
    e(
        "mcp add",
        "--oauth-resource",
        Absent("no OAuth for MCP servers: use --bearer-token-env-var"),
    ),
    e("mcp login", "--no-browser", Absent("no `codex mcp login`")),
    e("mcp login", "--scopes", Absent("no `codex mcp login`")),
    e(
        "mcp login",
        "--oauth-client-registration",
        Absent("no `codex mcp login`"),
    ),
];

/// The marker where the configuration keys' table goes, at the end of docs/compatibility.md.
pub const CONFIG_KEYS_MARKER: &str =
    "<!-- config-keys: the table of config.toml keys goes here -->";

/// docs/compatibility.md.
pub fn markdown() -> String {
    let mut s = String::from(
        "# Compatibility with Codex 0.169\n\n\
         Generated by `cargo xtask generate` from crates/codex-cli/src/compat.rs; do not edit.\n\n\
         Every subcommand and flag of Codex 0.169's `codex`, `exec`, `exec resume`, `resume`, \
         `login`, `logout`, `mcp` and `completion`, with ours beside it. *same*: accepted and \
         does what 0.169 does. *differs*: accepted, with the difference. *absent*: refused, \
         with why. After each command's table, the flags and subcommands only ours has. \
         crates/codex-cli/tests/cli_compat.rs checks this list against 0.169's `--help` and \
         against ours.\n",
    );
    for command in std::iter::once(&"*").chain(COMMANDS) {
        let rows: Vec<&Entry> = ENTRIES.iter().filter(|e| e.command == *command).collect();
        if rows.is_empty() {
            continue;
        }
        let title = match *command {
            "*" => "Every command".to_string(),
            "" => "`codex`".to_string(),
            c => format!("`codex {c}`"),
        };
        s.push_str(&format!(
            "\n## {title}\n\n| 0.169 | Ours | Notes |\n| --- | --- | --- |\n"
        ));
        let mut only = Vec::new();
        for r in rows {
            let (word, note) = match r.ours {
                Same => ("same", ""),
                Differs(n) => ("differs", n),
                Absent(n) => ("absent", n),
                Only(n) => {
                    only.push((r.item, n));
                    continue;
                }
            };
            s.push_str(&format!("| `{}` | {word} | {note} |\n", r.item));
        }
        if !only.is_empty() {
            s.push_str(&format!(
                "\nOnly ours: 0.169's {title} refuses these.\n\n| Ours | What it does |\n| --- | --- |\n"
            ));
            for (item, note) in only {
                s.push_str(&format!("| `{item}` | {note} |\n"));
            }
        }
    }
    s.push_str("\n## Configuration keys\n\n");
    s.push_str(CONFIG_KEYS_MARKER);
    s.push('\n');
    s
}
