//! Markdown to styled terminal lines.
//!
//! Model replies are Markdown that arrives in pieces, so [`render`] is called again on the whole
//! text as it grows and must cope with anything half-written (an unclosed code fence renders as
//! code up to the end). The lines it returns are logical lines; [`crate::wrap`] fits them to the
//! terminal width afterwards so a resize does not need a re-parse.

use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthStr;

/// Renders Markdown `text` into unwrapped lines styled for a terminal.
///
/// Never panics, whatever the input: partial or malformed Markdown renders as well as it parses.
pub fn render(text: &str) -> Vec<Line<'static>> {
    let options = Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TABLES;
    let mut renderer = Renderer::default();
    for event in Parser::new_ext(text, options) {
        renderer.event(event);
    }
    renderer.finish()
}

/// Something enclosing the current block that contributes to each line's prefix.
enum Container {
    Quote,
    /// A list item; its marker goes on the first line only, later lines get spaces as wide.
    Item {
        marker: String,
        emitted: bool,
    },
}

#[derive(Default)]
struct Renderer {
    lines: Vec<Line<'static>>,
    current: Vec<Span<'static>>,
    line_open: bool,
    /// A block ended; the next block starts with a blank line.
    pending_blank: bool,
    styles: Vec<Style>,
    containers: Vec<Container>,
    /// Next number of each open list, `None` for bullet lists.
    lists: Vec<Option<u64>>,
    /// Open links: destination and the text seen so far (to omit the URL when it repeats).
    links: Vec<(String, String)>,
    code_block: Option<String>,
    table_cell: usize,
}

impl Renderer {
    fn event(&mut self, event: Event<'_>) {
        match event {
            Event::Start(tag) => self.start(tag),
            Event::End(tag) => self.end(tag),
            Event::Text(text) => {
                if let Some(code) = &mut self.code_block {
                    code.push_str(&text);
                } else {
                    self.link_text(&text);
                    self.push_text(&text, self.style());
                }
            }
            Event::Code(code) => {
                self.link_text(&code);
                self.push_text(&code, self.style().cyan());
            }
            Event::Html(html) | Event::InlineHtml(html) => self.push_text(&html, self.style()),
            Event::InlineMath(math) | Event::DisplayMath(math) => {
                self.push_text(&math, self.style())
            }
            Event::FootnoteReference(label) => self.push_text(&format!("[^{label}]"), self.style()),
            Event::SoftBreak => self.push_text(" ", self.style()),
            Event::HardBreak => self.flush(),
            Event::Rule => {
                self.start_block();
                self.push_span(Span::styled("─".repeat(40), Style::new().dim()));
                self.end_block();
            }
            Event::TaskListMarker(done) => {
                self.push_text(if done { "[x] " } else { "[ ] " }, self.style())
            }
        }
    }

    fn start(&mut self, tag: Tag<'_>) {
        match tag {
            Tag::Paragraph | Tag::HtmlBlock | Tag::Table(_) => self.start_block(),
            Tag::Heading { level, .. } => {
                self.start_block();
                let style = Style::new().bold();
                let underlined = level == HeadingLevel::H1;
                self.styles.push(if underlined {
                    style.underlined()
                } else {
                    style
                });
            }
            Tag::BlockQuote(_) => {
                self.start_block();
                self.containers.push(Container::Quote);
            }
            Tag::CodeBlock(_) => {
                self.start_block();
                self.code_block = Some(String::new());
            }
            Tag::List(start) => {
                // Nested lists follow their parent item's text directly.
                if self.lists.is_empty() {
                    self.start_block();
                } else {
                    self.flush();
                }
                self.lists.push(start);
            }
            Tag::Item => {
                self.flush();
                if self.pending_blank {
                    self.push_blank();
                    self.pending_blank = false;
                }
                let marker = match self.lists.last_mut() {
                    Some(Some(n)) => {
                        let marker = format!("{n}. ");
                        *n = n.saturating_add(1);
                        marker
                    }
                    _ => "- ".to_string(),
                };
                self.containers.push(Container::Item {
                    marker,
                    emitted: false,
                });
            }
            Tag::Emphasis => self.styles.push(Style::new().italic()),
            Tag::Strong => self.styles.push(Style::new().bold()),
            Tag::Strikethrough => self.styles.push(Style::new().crossed_out()),
            Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. } => {
                self.links.push((dest_url.to_string(), String::new()));
            }
            Tag::TableHead => {
                self.table_cell = 0;
                self.styles.push(Style::new().bold());
            }
            Tag::TableRow => self.table_cell = 0,
            Tag::TableCell => {
                if self.table_cell > 0 {
                    self.push_span(Span::styled(" │ ", Style::new().dim()));
                }
                self.table_cell += 1;
            }
            Tag::FootnoteDefinition(_)
            | Tag::DefinitionList
            | Tag::DefinitionListTitle
            | Tag::DefinitionListDefinition
            | Tag::Superscript
            | Tag::Subscript
            | Tag::MetadataBlock(_) => {}
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Paragraph | TagEnd::HtmlBlock | TagEnd::Table => self.end_block(),
            TagEnd::Heading(_) => {
                self.styles.pop();
                self.end_block();
            }
            TagEnd::BlockQuote(_) => {
                self.flush();
                self.containers.pop();
                self.pending_blank = true;
            }
            TagEnd::CodeBlock => {
                let code = self.code_block.take().unwrap_or_default();
                for line in code.trim_end_matches('\n').split('\n') {
                    if line.is_empty() {
                        self.push_blank();
                    } else {
                        self.push_span(Span::styled(format!("    {line}"), Style::new().cyan()));
                        self.flush();
                    }
                }
                self.end_block();
            }
            TagEnd::List(_) => {
                self.flush();
                self.lists.pop();
                // Inside an outer item the next sibling item follows without a gap.
                self.pending_blank = self.lists.is_empty();
            }
            TagEnd::Item => {
                if matches!(
                    self.containers.last(),
                    Some(Container::Item { emitted: false, .. })
                ) {
                    // An empty item still shows its marker.
                    self.push_span(Span::raw(""));
                }
                self.flush();
                self.containers.pop();
            }
            TagEnd::Emphasis | TagEnd::Strong | TagEnd::Strikethrough => {
                self.styles.pop();
            }
            TagEnd::Link | TagEnd::Image => {
                if let Some((url, text)) = self.links.pop()
                    && !url.is_empty()
                    && text != url
                {
                    self.push_text(" (", self.style());
                    self.push_span(Span::styled(url, Style::new().dim().underlined()));
                    self.push_text(")", self.style());
                }
            }
            TagEnd::TableHead => {
                self.styles.pop();
                self.flush();
            }
            TagEnd::TableRow => self.flush(),
            TagEnd::TableCell
            | TagEnd::FootnoteDefinition
            | TagEnd::DefinitionList
            | TagEnd::DefinitionListTitle
            | TagEnd::DefinitionListDefinition
            | TagEnd::Superscript
            | TagEnd::Subscript
            | TagEnd::MetadataBlock(_) => {}
        }
    }

    fn style(&self) -> Style {
        self.styles
            .iter()
            .fold(Style::new(), |acc, style| acc.patch(*style))
    }

    fn link_text(&mut self, text: &str) {
        if let Some((_, link_text)) = self.links.last_mut() {
            link_text.push_str(text);
        }
    }

    fn start_block(&mut self) {
        self.flush();
        if self.pending_blank && !self.lines.is_empty() {
            self.push_blank();
        }
        self.pending_blank = false;
    }

    fn end_block(&mut self) {
        self.flush();
        self.pending_blank = true;
    }

    /// Pushes text that may contain newlines (HTML blocks) as several lines, each with its prefix.
    fn push_text(&mut self, text: &str, style: Style) {
        for (i, part) in text.split('\n').enumerate() {
            if i > 0 {
                self.flush();
            }
            if !part.is_empty() {
                self.push_span(Span::styled(part.to_string(), style));
            }
        }
    }

    fn push_span(&mut self, span: Span<'static>) {
        if !self.line_open {
            self.line_open = true;
            let prefix = self.prefix();
            self.current.extend(prefix);
        }
        self.current.push(span);
    }

    /// The prefix for a new line: quote bars, and list markers or the indentation under them.
    fn prefix(&mut self) -> Vec<Span<'static>> {
        let mut spans = Vec::new();
        for container in &mut self.containers {
            match container {
                Container::Quote => spans.push(Span::styled("▌ ", Style::new().dim().green())),
                Container::Item { marker, emitted } if !*emitted => {
                    *emitted = true;
                    spans.push(Span::raw(marker.clone()));
                }
                Container::Item { marker, .. } => {
                    spans.push(Span::raw(" ".repeat(marker.width())));
                }
            }
        }
        spans
    }

    /// A blank line, which inside a quote keeps the quote bar so the quote reads as one block.
    fn push_blank(&mut self) {
        self.flush();
        let quotes = self
            .containers
            .iter()
            .filter(|c| matches!(c, Container::Quote))
            .count();
        let line = if quotes == 0 {
            Line::default()
        } else {
            let bars = "▌ ".repeat(quotes);
            Line::from(Span::styled(
                bars.trim_end().to_string(),
                Style::new().dim().green(),
            ))
        };
        self.lines.push(line);
    }

    fn flush(&mut self) {
        if self.line_open {
            self.line_open = false;
            let mut spans = std::mem::take(&mut self.current);
            // Trailing spaces (a marker with nothing after it, a soft break before a hard one)
            // would only make wrapping break lines early.
            while let Some(last) = spans.last_mut() {
                let trimmed = last.content.trim_end();
                if trimmed.is_empty() {
                    spans.pop();
                } else {
                    if trimmed.len() < last.content.len() {
                        last.content = trimmed.to_string().into();
                    }
                    break;
                }
            }
            self.lines.push(Line::from(spans));
        }
    }

    fn finish(mut self) -> Vec<Line<'static>> {
        self.flush();
        while self.lines.last().is_some_and(is_blank) {
            self.lines.pop();
        }
        self.lines
    }
}

fn is_blank(line: &Line<'_>) -> bool {
    line.spans.iter().all(|s| s.content.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::style::{Color, Modifier};

    fn plain(text: &str) -> String {
        render(text)
            .iter()
            .map(|line| line.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn span<'a>(lines: &'a [Line<'static>], content: &str) -> &'a Span<'static> {
        lines
            .iter()
            .flat_map(|l| &l.spans)
            .find(|s| s.content == content)
            .expect("span present")
    }

    #[test]
    fn headings_and_paragraphs() {
        insta::assert_snapshot!(plain(
            "# Title\n\nSome *em*, **strong** and ~~gone~~ text\nsoftly broken.  \nHard break.\n\n## Sub\n\nLast `code`.\n\n\n"
        ));
    }

    #[test]
    fn inline_styles() {
        let lines = render("# Top\n\n## Second\n\n*em* **strong** ~~strike~~ `code`");
        let top = span(&lines, "Top");
        assert!(
            top.style
                .add_modifier
                .contains(Modifier::BOLD | Modifier::UNDERLINED)
        );
        let second = span(&lines, "Second");
        assert!(second.style.add_modifier.contains(Modifier::BOLD));
        assert!(!second.style.add_modifier.contains(Modifier::UNDERLINED));
        assert!(
            span(&lines, "em")
                .style
                .add_modifier
                .contains(Modifier::ITALIC)
        );
        assert!(
            span(&lines, "strong")
                .style
                .add_modifier
                .contains(Modifier::BOLD)
        );
        let strike = span(&lines, "strike");
        assert!(strike.style.add_modifier.contains(Modifier::CROSSED_OUT));
        assert_eq!(span(&lines, "code").style.fg, Some(Color::Cyan));
    }

    #[test]
    fn code_blocks() {
        let lines = render(
            "Before:\n\n```rust\nfn main() {\n\n    println!();\n}\n```\nAfter.\n\n    indented\n",
        );
        assert_eq!(span(&lines, "    fn main() {").style.fg, Some(Color::Cyan));
        insta::assert_snapshot!(plain(
            "Before:\n\n```rust\nfn main() {\n\n    println!();\n}\n```\nAfter.\n\n    indented\n"
        ));
    }

    #[test]
    fn unclosed_code_fence_renders_as_code() {
        let lines = render("Here:\n\n```sh\ncargo build\ncargo te");
        assert_eq!(span(&lines, "    cargo te").style.fg, Some(Color::Cyan));
        insta::assert_snapshot!(plain("Here:\n\n```sh\ncargo build\ncargo te"));
    }

    #[test]
    fn lists() {
        insta::assert_snapshot!(plain(
            "Intro\n\n- one\n- two\n  - nested **bold**\n    - deeper\n- three\n\n3. third\n4. fourth\n\n- loose\n\n- items\n\nEnd"
        ));
    }

    #[test]
    fn quotes_links_rules_tables() {
        insta::assert_snapshot!(plain(
            "> quoted\n> text\n>\n> more\n\nSee [docs](https://example.com) and <https://a.b>.\n\n---\n\n| a | b |\n|---|---|\n| 1 | 2 |\n| 3 | 4 |\n"
        ));
        let lines = render("[docs](https://example.com)");
        let url = span(&lines, "https://example.com");
        assert!(
            url.style
                .add_modifier
                .contains(Modifier::DIM | Modifier::UNDERLINED)
        );
    }

    #[test]
    fn nested_containers() {
        insta::assert_snapshot!(plain(
            "> - quoted item\n>   continued\n>\n>   ```\n>   code in item\n>   ```\n\n1. first\n\n   second paragraph\n2. ![alt](img.png) [https://x.y](https://x.y)\n-\n\n# After"
        ));
    }

    #[test]
    fn never_panics_on_odd_input() {
        for text in [
            "",
            "\n\n\n",
            "#",
            "- ",
            "1.",
            "> ",
            "```",
            "**unclosed",
            "[link](",
            "| a |\n|",
            "<div>\nhtml",
            "- [ ] task\n* \n+ x\n\t\t- y",
            "99999999999999999999. big",
            "18446744073709551615. max\n18446744073709551615. max",
        ] {
            let _ = render(text);
        }
        // Every prefix of a rich document, as a stream delivers it.
        let doc = "# T\n\n> - a **b** [c](d)\n>   ```\n>   x\n\n1. ~~s~~\n   | h | i |\n   |---|---|\n   | 日 | é |\n\n---\n";
        for (i, _) in doc.char_indices() {
            let _ = crate::wrap::wrap_lines(&render(&doc[..i]), 5);
        }
        assert!(render("").is_empty());
        assert!(render("text\n\n\n").last().is_some_and(|l| !is_blank(l)));
    }
}
