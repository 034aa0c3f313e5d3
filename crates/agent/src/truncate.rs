//! Tool output for the model: long output keeps its head and its tail (where commands print
//! what went wrong and how they ended), with a marker saying how much was left out.

/// Output up to this many bytes is passed on whole.
pub const DEFAULT_MAX_BYTES: usize = 10 * 1024;

/// `text` if it fits in `max_bytes`, else its first and last `max_bytes / 2` bytes (cut at
/// line ends when one is near, never inside a UTF-8 character) around a line saying how many
/// bytes and lines were omitted.
pub fn head_and_tail(text: &str, max_bytes: usize) -> String {
    if text.len() <= max_bytes {
        return text.to_string();
    }
    let half = max_bytes / 2;
    let mut head_end = floor_char(text, half);
    // Prefer to end the head after a whole line, if one ends in its last quarter.
    if let Some(nl) = text[..head_end].rfind('\n')
        && nl + 1 >= head_end - head_end / 4
    {
        head_end = nl + 1;
    }
    let mut tail_start = ceil_char(text, text.len() - half);
    if let Some(nl) = text[tail_start..].find('\n')
        && nl < half / 4
    {
        tail_start += nl + 1;
    }
    let omitted = &text[head_end..tail_start];
    format!(
        "{}[… {} bytes ({} lines) omitted …]\n{}",
        &text[..head_end],
        omitted.len(),
        omitted.matches('\n').count(),
        &text[tail_start..]
    )
}

fn floor_char(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_char(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_output_passes_whole() {
        assert_eq!(head_and_tail("hello\n", 100), "hello\n");
    }

    #[test]
    fn long_output_keeps_whole_lines_at_both_ends() {
        let text: String = (1..=1000).map(|i| format!("line {i}\n")).collect();
        let out = head_and_tail(&text, 200);
        assert!(out.starts_with("line 1\nline 2\n"), "{out}");
        assert!(out.ends_with("line 999\nline 1000\n"), "{out}");
        let marker = out.lines().find(|l| l.starts_with("[…")).expect("marker");
        assert!(
            marker.contains("bytes") && marker.contains("lines) omitted"),
            "{marker}"
        );
        assert!(out.len() < 260, "{}", out.len());
        // Every kept line is whole.
        for l in out.lines().filter(|l| !l.starts_with("[…")) {
            assert!(l.starts_with("line "), "{l:?}");
        }
    }

    #[test]
    fn cuts_never_split_a_character() {
        let text = "é".repeat(500);
        let out = head_and_tail(&text, 101);
        assert!(out.starts_with("éé") && out.ends_with("éé"));
    }
}
