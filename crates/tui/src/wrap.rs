//! Word wrapping of styled lines to the terminal width.
//!
//! Markdown and diffs are rendered as logical lines (see [`crate::markdown`], [`crate::diff`]) so
//! they can be re-wrapped cheaply when the terminal is resized; this module does that last step.
//! Widths are display columns (`unicode-width`), so wide (CJK) characters count as two.

use ratatui::style::Style;
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthChar;

/// Word-wraps `line` so that no resulting line is wider than `width` display columns.
///
/// Breaks at spaces where possible and hard-breaks words longer than a line. Each span keeps its
/// style and the line keeps its own style and alignment. Continuation lines are indented like the
/// original's leading indentation (spaces, optionally with a list bullet such as `"  - "`), capped
/// at half the width, so wrapped list items and code stay visually grouped. A width of 0 is
/// treated as 1 so callers never get an empty result or an endless loop.
pub fn wrap_line(line: &Line<'static>, width: usize) -> Vec<Line<'static>> {
    let width = width.max(1);
    if line.width() <= width {
        return vec![line.clone()];
    }
    let chars: Vec<(char, Style)> = line
        .spans
        .iter()
        .flat_map(|span| span.content.chars().map(move |c| (c, span.style)))
        .collect();
    let indent = leading_indent(&chars).min(width / 2);

    let mut out: Vec<Vec<(char, Style)>> = Vec::new();
    let mut cur: Vec<(char, Style)> = Vec::new();
    let mut cur_width = 0;
    // The first line carries its own indentation; continuation lines get `indent` added later.
    let limit = |out: &Vec<Vec<(char, Style)>>| {
        if out.is_empty() {
            width
        } else {
            width - indent
        }
    };

    for token in tokens(&chars) {
        let token_width: usize = token.iter().map(|(c, _)| char_width(*c)).sum();
        let is_space = token.first().is_some_and(|(c, _)| *c == ' ');
        if cur_width + token_width <= limit(&out) {
            // Spaces at the start of a continuation line would only misalign it.
            if !(is_space && !out.is_empty() && cur.is_empty()) {
                cur.extend_from_slice(token);
                cur_width += token_width;
            }
            continue;
        }
        if is_space {
            // A break point: whatever spaces overflow are dropped with the break.
            if has_content(&cur) {
                out.push(std::mem::take(&mut cur));
                cur_width = 0;
            }
            continue;
        }
        if !has_content(&cur) && cur.len() > indent {
            // Deep leading indentation would leave no room for the text: shrink it to the indent
            // continuation lines get, which is at most half the width.
            cur.truncate(indent);
            cur_width = indent;
            if cur_width + token_width <= limit(&out) {
                cur.extend_from_slice(token);
                cur_width += token_width;
                continue;
            }
        }
        if has_content(&cur) {
            out.push(std::mem::take(&mut cur));
            cur_width = 0;
            if token_width <= width - indent {
                cur.extend_from_slice(token);
                cur_width = token_width;
                continue;
            }
        }
        for &(c, style) in token {
            let w = char_width(c);
            if cur_width + w > limit(&out) && has_content(&cur) {
                out.push(std::mem::take(&mut cur));
                cur_width = 0;
            }
            cur.push((c, style));
            cur_width += w;
        }
    }
    if !cur.is_empty() || out.is_empty() {
        out.push(cur);
    }

    out.into_iter()
        .enumerate()
        .map(|(i, mut chars)| {
            while chars.last().is_some_and(|(c, _)| *c == ' ') {
                chars.pop();
            }
            let mut spans = Vec::new();
            if i > 0 && indent > 0 && !chars.is_empty() {
                spans.push(Span::raw(" ".repeat(indent)));
            }
            spans.extend(group_spans(&chars));
            Line {
                style: line.style,
                alignment: line.alignment,
                spans,
            }
        })
        .collect()
}

/// Wraps every line with [`wrap_line`], in order.
pub fn wrap_lines(lines: &[Line<'static>], width: usize) -> Vec<Line<'static>> {
    lines
        .iter()
        .flat_map(|line| wrap_line(line, width))
        .collect()
}

fn char_width(c: char) -> usize {
    c.width().unwrap_or(0)
}

fn has_content(chars: &[(char, Style)]) -> bool {
    chars.iter().any(|(c, _)| *c != ' ')
}

/// Width of the leading spaces, plus a following list marker (`-`, `*`, `+`, `•`, `1.`, `1)`) and
/// the spaces after it, so that continuation lines line up with the item's text.
fn leading_indent(chars: &[(char, Style)]) -> usize {
    let text: String = chars.iter().map(|(c, _)| *c).collect();
    let rest = text.trim_start_matches(' ');
    let spaces = text.len() - rest.len();
    let digits = rest.chars().take_while(char::is_ascii_digit).count();
    let marker = if rest.starts_with(['-', '*', '+', '•']) {
        rest.chars().next().map_or(0, char::len_utf8)
    } else if (1..=9).contains(&digits) && rest[digits..].starts_with(['.', ')']) {
        digits + 1
    } else {
        0
    };
    let after = &rest[marker..];
    if marker > 0 && after.starts_with(' ') {
        let gap = after.len() - after.trim_start_matches(' ').len();
        spaces + rest[..marker].chars().map(char_width).sum::<usize>() + gap
    } else {
        spaces
    }
}

/// Splits into alternating runs of spaces and of everything else (the break opportunities).
fn tokens(chars: &[(char, Style)]) -> impl Iterator<Item = &[(char, Style)]> {
    chars.chunk_by(|(a, _), (b, _)| (*a == ' ') == (*b == ' '))
}

fn group_spans(chars: &[(char, Style)]) -> Vec<Span<'static>> {
    chars
        .chunk_by(|(_, a), (_, b)| a == b)
        .filter_map(|run| {
            let style = run.first()?.1;
            Some(Span::styled(
                run.iter().map(|(c, _)| *c).collect::<String>(),
                style,
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::style::Stylize;

    fn text(lines: &[Line<'static>]) -> Vec<String> {
        lines.iter().map(|l| l.to_string()).collect()
    }

    #[test]
    fn short_line_is_unchanged() {
        let line = Line::from("hello");
        assert_eq!(wrap_line(&line, 10), vec![line]);
    }

    #[test]
    fn breaks_at_spaces_and_keeps_styles() {
        let line = Line::from(vec!["hello ".into(), "bold world".bold(), " again".red()]);
        let wrapped = wrap_line(&line, 11);
        assert_eq!(text(&wrapped), ["hello bold", "world again"]);
        assert_eq!(wrapped[0].spans[1], "bold".bold());
        assert_eq!(wrapped[1].spans[0], "world".bold());
        assert_eq!(wrapped[1].spans[1], " again".red());
    }

    #[test]
    fn keeps_line_style_and_alignment() {
        let line = Line::from("aaa bbb").yellow().centered();
        for l in wrap_line(&line, 3) {
            assert_eq!(l.style, line.style);
            assert_eq!(l.alignment, line.alignment);
        }
    }

    #[test]
    fn hard_breaks_long_words() {
        let line = Line::from("ab abcdefghij");
        assert_eq!(text(&wrap_line(&line, 4)), ["ab", "abcd", "efgh", "ij"]);
    }

    #[test]
    fn counts_cjk_as_two_columns() {
        let line = Line::from("日本語のテキスト");
        let wrapped = wrap_line(&line, 5);
        assert_eq!(text(&wrapped), ["日本", "語の", "テキ", "スト"]);
        assert!(wrapped.iter().all(|l| l.width() <= 5));
    }

    #[test]
    fn empty_line_is_kept() {
        assert_eq!(wrap_line(&Line::default(), 10), vec![Line::default()]);
        assert_eq!(wrap_lines(&[Line::default(), Line::from("x")], 0).len(), 2);
    }

    #[test]
    fn zero_width_is_treated_as_one() {
        assert_eq!(text(&wrap_line(&Line::from("ab c"), 0)), ["a", "b", "c"]);
    }

    #[test]
    fn continuation_lines_repeat_indentation() {
        let code = Line::from("    let x = 1;");
        assert_eq!(text(&wrap_line(&code, 12)), ["    let x =", "    1;"]);
        let item = Line::from("  - one two three");
        assert_eq!(
            text(&wrap_line(&item, 10)),
            ["  - one", "    two", "    three"]
        );
        let numbered = Line::from("10. alpha beta");
        assert_eq!(text(&wrap_line(&numbered, 10)), ["10. alpha", "    beta"]);
    }

    #[test]
    fn indent_is_capped_at_half_the_width() {
        let line = Line::from("        aaaa bbbb");
        assert_eq!(text(&wrap_line(&line, 8)), ["    aaaa", "    bbbb"]);
    }
}
