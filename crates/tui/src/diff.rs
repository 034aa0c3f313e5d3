//! Unified diffs coloured for the terminal, and their added/removed line counts.
//!
//! Patches are shown as unified diffs (from `similar` or `git diff`) before approval and after
//! they are applied. Inside a hunk the line counts from its `@@` header decide what is a diff line,
//! so a removed line reading `-- x` is not mistaken for a `---` file header; when a header cannot
//! be parsed the line prefixes alone are used.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

/// Renders a unified diff: file headers bold, hunk headers cyan, additions green, removals red.
///
/// Tabs are expanded to four spaces because terminals would otherwise put them on 8-column stops
/// that the wrapping code cannot measure.
pub fn render_unified(diff: &str) -> Vec<Line<'static>> {
    classify(diff)
        .map(|(kind, line)| {
            let style = match kind {
                Kind::FileHeader => Style::new().bold(),
                Kind::HunkHeader => Style::new().cyan(),
                Kind::Added => Style::new().green(),
                Kind::Removed => Style::new().red(),
                Kind::Context => Style::new(),
            };
            Line::from(Span::styled(line.replace('\t', "    "), style))
        })
        .collect()
}

/// Counts the added and removed lines of a unified diff, in that order; file headers
/// (`+++`/`---`) are not counted.
pub fn summary(diff: &str) -> (usize, usize) {
    classify(diff).fold((0, 0), |(added, removed), (kind, _)| match kind {
        Kind::Added => (added + 1, removed),
        Kind::Removed => (added, removed + 1),
        _ => (added, removed),
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    FileHeader,
    HunkHeader,
    Added,
    Removed,
    Context,
}

fn classify(diff: &str) -> impl Iterator<Item = (Kind, &str)> {
    // Old and new lines still expected in the current hunk; `None` outside a hunk (or when the
    // header did not parse), where prefixes decide.
    let mut remaining: Option<(usize, usize)> = None;
    diff.lines().map(move |line| {
        if let Some((old, new)) = remaining.as_mut() {
            let kind = match line.as_bytes().first() {
                Some(b'+') if *new > 0 => {
                    *new -= 1;
                    Some(Kind::Added)
                }
                Some(b'-') if *old > 0 => {
                    *old -= 1;
                    Some(Kind::Removed)
                }
                Some(b' ') | None if *old > 0 && *new > 0 => {
                    *old -= 1;
                    *new -= 1;
                    Some(Kind::Context)
                }
                Some(b'\\') => Some(Kind::Context),
                _ => None,
            };
            if *old == 0 && *new == 0 {
                remaining = None;
            }
            if let Some(kind) = kind {
                return (kind, line);
            }
            remaining = None;
        }
        let kind = if ["+++", "---", "diff --git", "index "]
            .iter()
            .any(|p| line.starts_with(p))
        {
            Kind::FileHeader
        } else if line.starts_with("@@") {
            remaining = hunk_counts(line);
            Kind::HunkHeader
        } else if line.starts_with('+') {
            Kind::Added
        } else if line.starts_with('-') {
            Kind::Removed
        } else {
            Kind::Context
        };
        (kind, line)
    })
}

/// Parses `@@ -start[,count] +start[,count] @@` into the old and new line counts.
fn hunk_counts(line: &str) -> Option<(usize, usize)> {
    let mut ranges = line.strip_prefix("@@ ")?.split(' ');
    let count = |range: &str| match range.split_once(',') {
        Some((_, count)) => count.parse().ok(),
        None => range.parse::<usize>().ok().map(|_| 1),
    };
    let old = count(ranges.next()?.strip_prefix('-')?)?;
    let new = count(ranges.next()?.strip_prefix('+')?)?;
    (old > 0 || new > 0).then_some((old, new))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::style::{Color, Modifier};

    const DIFF: &str = concat!(
        "diff --git a/f.rs b/f.rs\n",
        "index 123..456 100644\n",
        "--- a/f.rs\n",
        "+++ b/f.rs\n",
        "@@ -1,4 +1,4 @@ fn main\n",
        " fn main() {\n",
        "-\tlet x = 1;\n",
        "--- a decremented comment\n",
        "+\tlet x = 2;\n",
        "+++ counter\n",
        " }\n",
    );

    fn styles(diff: &str) -> Vec<Style> {
        render_unified(diff)
            .iter()
            .map(|line| line.spans.first().map(|s| s.style).unwrap_or_default())
            .collect()
    }

    #[test]
    fn colours_each_kind_of_line() {
        let s = styles(DIFF);
        for header in &s[0..4] {
            assert!(header.add_modifier.contains(Modifier::BOLD));
        }
        assert_eq!(s[4].fg, Some(Color::Cyan));
        assert_eq!(s[5], Style::new());
        assert_eq!(s[6].fg, Some(Color::Red));
        assert_eq!(
            s[7].fg,
            Some(Color::Red),
            "`---` inside a hunk is a removal"
        );
        assert_eq!(s[8].fg, Some(Color::Green));
        assert_eq!(
            s[9].fg,
            Some(Color::Green),
            "`+++` inside a hunk is an addition"
        );
        assert_eq!(s[10], Style::new());
    }

    #[test]
    fn expands_tabs() {
        let lines = render_unified(DIFF);
        assert_eq!(lines[6].to_string(), "-    let x = 1;");
    }

    #[test]
    fn summary_counts_changes_not_headers() {
        assert_eq!(summary(DIFF), (2, 2));
        assert_eq!(summary(""), (0, 0));
    }

    #[test]
    fn falls_back_to_prefixes_without_hunk_counts() {
        let diff = "--- a\n+++ b\n@@ bad @@\n-old\n+new\n+more\n";
        assert_eq!(summary(diff), (2, 1));
        let s = styles(diff);
        assert!(s[1].add_modifier.contains(Modifier::BOLD));
        assert_eq!(s[2].fg, Some(Color::Cyan));
        assert_eq!(s[5].fg, Some(Color::Green));
    }

    #[test]
    fn several_hunks_and_files() {
        let diff = similar::TextDiff::from_lines("a\nb\nc\n", "a\nB\nc\nd\n")
            .unified_diff()
            .header("old", "new")
            .to_string();
        assert_eq!(summary(&diff), (2, 1));
        let twice = format!("{diff}{diff}");
        assert_eq!(summary(&twice), (4, 2));
        assert!(styles(&twice)[0].add_modifier.contains(Modifier::BOLD));
    }
}
