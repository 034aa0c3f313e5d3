//! Parsing the patch text into [`Patch`].
//!
//! ```text
//! *** Begin Patch
//! *** Add File: hello.txt
//! +Hello
//! *** Update File: src/lib.rs
//! *** Move to: src/main.rs
//! @@ fn main() {
//!  context line
//! -old line
//! +new line
//! *** Delete File: old.txt
//! *** End Patch
//! ```

use crate::{Change, FileOp, Patch, PatchError};

const BEGIN: &str = "*** Begin Patch";
const END: &str = "*** End Patch";
const ADD: &str = "*** Add File: ";
const DELETE: &str = "*** Delete File: ";
const UPDATE: &str = "*** Update File: ";
const MOVE: &str = "*** Move to: ";
const EOF_MARK: &str = "*** End of File";

/// Parses a whole patch.
pub fn parse(text: &str) -> Result<Patch, PatchError> {
    let lines: Vec<&str> = text
        .trim()
        .lines()
        .map(|l| l.trim_end_matches('\r'))
        .collect();
    let bad = |line: usize, why: &str| PatchError::Syntax {
        line: line + 1,
        why: why.to_string(),
    };
    if lines.first().map(|l| l.trim()) != Some(BEGIN) {
        return Err(bad(0, "a patch starts with `*** Begin Patch`"));
    }
    if lines.last().map(|l| l.trim()) != Some(END) || lines.len() < 2 {
        return Err(bad(
            lines.len().saturating_sub(1),
            "a patch ends with `*** End Patch`",
        ));
    }
    let body = &lines[1..lines.len() - 1];
    let mut ops = Vec::new();
    let mut i = 0;
    while i < body.len() {
        let line = body[i];
        let at = i + 1; // index in `lines`
        if let Some(path) = line.strip_prefix(ADD) {
            let mut contents = String::new();
            i += 1;
            while i < body.len() && !body[i].starts_with("*** ") {
                let Some(text) = body[i].strip_prefix('+') else {
                    return Err(bad(i + 1, "every line of an added file starts with `+`"));
                };
                contents.push_str(text);
                contents.push('\n');
                i += 1;
            }
            ops.push(FileOp::Add {
                path: path.trim().into(),
                contents,
            });
        } else if let Some(path) = line.strip_prefix(DELETE) {
            ops.push(FileOp::Delete {
                path: path.trim().into(),
            });
            i += 1;
        } else if let Some(path) = line.strip_prefix(UPDATE) {
            i += 1;
            let move_to = match body.get(i).and_then(|l| l.strip_prefix(MOVE)) {
                Some(to) => {
                    i += 1;
                    Some(to.trim().into())
                }
                None => None,
            };
            let (changes, next) = parse_changes(body, i).map_err(|(l, why)| bad(l + 1, why))?;
            if changes.is_empty() && move_to.is_none() {
                return Err(bad(at, "an update names no change"));
            }
            i = next;
            ops.push(FileOp::Update {
                path: path.trim().into(),
                move_to,
                changes,
            });
        } else if line.trim().is_empty() {
            i += 1;
        } else {
            return Err(bad(
                at,
                "expected `*** Add File:`, `*** Update File:` or `*** Delete File:`",
            ));
        }
    }
    if ops.is_empty() {
        return Err(bad(0, "the patch changes no file"));
    }
    Ok(Patch { ops })
}

/// The `@@` chunks of one update, from `body[i]` to the next file header.
fn parse_changes(
    body: &[&str],
    mut i: usize,
) -> Result<(Vec<Change>, usize), (usize, &'static str)> {
    let mut changes: Vec<Change> = Vec::new();
    while i < body.len() {
        let line = body[i];
        if line.starts_with(ADD) || line.starts_with(DELETE) || line.starts_with(UPDATE) {
            break;
        }
        if line == EOF_MARK {
            match changes.last_mut() {
                Some(c) => c.at_end = true,
                None => return Err((i + 1, "`*** End of File` before any change")),
            }
            i += 1;
            continue;
        }
        if let Some(anchor) = line.strip_prefix("@@") {
            let anchor = anchor.trim();
            changes.push(Change {
                anchor: (!anchor.is_empty()).then(|| anchor.to_string()),
                ..Change::default()
            });
            i += 1;
            continue;
        }
        if changes.is_empty() {
            // Codex allows the first chunk of an update to omit its `@@`.
            changes.push(Change::default());
        }
        let Some(change) = changes.last_mut() else {
            return Err((i + 1, "a change line outside a chunk"));
        };
        match line.chars().next() {
            Some(' ') => {
                change.old.push(line[1..].to_string());
                change.new.push(line[1..].to_string());
            }
            // An empty line inside a chunk is an empty context line.
            None => {
                change.old.push(String::new());
                change.new.push(String::new());
            }
            Some('-') => change.old.push(line[1..].to_string()),
            Some('+') => change.new.push(line[1..].to_string()),
            _ => return Err((i + 1, "a change line starts with ` `, `-` or `+`")),
        }
        i += 1;
    }
    if changes.iter().any(|c| c.old.is_empty() && c.new.is_empty()) {
        return Err((i, "an `@@` chunk with no lines"));
    }
    Ok((changes, i))
}
