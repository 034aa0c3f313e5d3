//! The interactive `codex` (on a terminal, with no subcommand): a line-oriented session. Each
//! line is a turn of the same conversation; progress goes to stderr, answers to stdout.

use std::io::{BufRead as _, Write as _};

use anyhow::Result;

use crate::exec::{AgentArgs, emitter, prepare, runtime};

/// Runs the session until `/exit` or end of input, returning the exit code.
pub fn run(args: &AgentArgs) -> i32 {
    match run_inner(args) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e:#}");
            1
        }
    }
}

fn run_inner(args: &AgentArgs) -> Result<()> {
    let runtime = runtime()?;
    runtime.block_on(async {
        let mut session = prepare(args, false).await?;
        eprintln!("{}", session.header());
        eprintln!("Type a task and press Enter; /exit or Ctrl-D leaves.");
        let mut emit = emitter(false);
        let stdin = std::io::stdin();
        let mut line = String::new();
        loop {
            eprint!("› ");
            let _ = std::io::stderr().flush();
            line.clear();
            if stdin.lock().read_line(&mut line)? == 0 {
                eprintln!();
                return Ok(());
            }
            let task = line.trim();
            match task {
                "" => continue,
                "/exit" | "/quit" => return Ok(()),
                _ => {}
            }
            match session.run_turn(task.to_string(), &mut emit).await {
                Ok(outcome) => println!("{}", outcome.final_message),
                // A failed turn ends that turn, not the session: the user can try again.
                Err(e) => eprintln!("error: {e}"),
            }
        }
    })
}
