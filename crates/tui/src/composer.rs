//! The prompt input box at the bottom of the screen: a small multi-line editor with readline-style
//! keys, history recall, a `/` command popup and an `@` file-mention popup.
//!
//! The composer owns no terminal state. The app feeds it key and paste events, asks it for its
//! [`height`](Composer::height), draws it with [`render`](Composer::render) and places the
//! terminal cursor at [`cursor`](Composer::cursor). Rendering and cursor placement share one
//! layout function so the cursor always sits exactly where the next character will appear, wide
//! characters and wrapped rows included. Scrolling is derived from the cursor on every call rather
//! than stored, so `render` and `cursor` can take `&self` and never disagree.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::widgets::{Block, BorderType, Widget};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// The input grows with its content up to this many rows, then scrolls.
const MAX_INPUT_ROWS: u16 = 10;
/// Popups list at most this many entries at once; more would push the conversation off screen.
const MAX_POPUP_ROWS: usize = 8;
/// Shown on the first row only; continuation rows are indented by the same width so wrapped text
/// lines up under the first character.
const PROMPT: &str = "› ";
const PROMPT_WIDTH: u16 = 2;
/// One column at the right edge stays free so a cursor after a full row still has a cell to sit
/// in, instead of jumping to the start of the next row where it would look like it is before the
/// next character.
const CURSOR_COLUMN: u16 = 1;
/// Tabs (which only arrive by paste) are drawn as this many spaces; terminals would otherwise
/// expand them to a tab stop we do not know.
const TAB_WIDTH: usize = 4;

/// What a key did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ComposerAction {
    /// The key was consumed (or ignored); nothing for the app to do.
    None,
    /// The user submitted this prompt; the composer has already cleared itself.
    Submit(String),
}

/// A `/` command offered by the popup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlashCommand {
    /// The name without the leading `/`.
    pub name: &'static str,
    /// One line shown dimmed next to the name.
    pub description: &'static str,
}

/// What to show above the composer: a list with one selected entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Popup {
    /// `(label, description)` pairs, best match first.
    pub items: Vec<(String, String)>,
    /// Index into `items`; always in range.
    pub selected: usize,
}

/// The prompt input box. See the module docs for how it fits into the app.
#[derive(Debug, Clone)]
pub struct Composer {
    /// Chars rather than a `String` so the cursor is a plain index and every edit is a splice.
    chars: Vec<char>,
    /// Insertion point, `0..=chars.len()`.
    cursor: usize,
    /// Display column Up/Down aim for, so moving through a short line does not lose the column.
    preferred_col: Option<usize>,
    history: Vec<String>,
    /// Which history entry is shown while browsing; `None` when editing the draft.
    history_pos: Option<usize>,
    /// The text that was being edited when browsing started, restored by Down past the newest.
    draft: String,
    commands: &'static [SlashCommand],
    files: Vec<String>,
    selected: usize,
    /// Set by Esc; cleared by any edit so the popup comes back as soon as the query changes.
    popup_dismissed: bool,
}

/// The popup currently open, with what completing it needs.
enum Active<'a> {
    Slash(Vec<&'static SlashCommand>),
    Mention {
        start: usize,
        end: usize,
        files: Vec<&'a str>,
    },
}

impl Active<'_> {
    fn len(&self) -> usize {
        match self {
            Active::Slash(commands) => commands.len(),
            Active::Mention { files, .. } => files.len(),
        }
    }
}

/// The owned result of choosing a popup entry, so the borrow of `self` can end before editing.
enum Choice {
    Command(&'static str),
    File {
        start: usize,
        end: usize,
        path: String,
    },
}

/// Where each insertion point lands on screen, computed for one text width.
struct View {
    /// `(row, col)` of the insertion point before each char, plus one for the end of the text.
    points: Vec<(usize, usize)>,
    /// Columns available for text (after the prompt gutter and the cursor column).
    width: usize,
    /// First visible row.
    scroll: usize,
}

impl Composer {
    /// An empty composer. `history` is oldest first; `commands` feed the `/` popup.
    pub fn new(history: Vec<String>, commands: &'static [SlashCommand]) -> Self {
        Self {
            chars: Vec::new(),
            cursor: 0,
            preferred_col: None,
            history,
            history_pos: None,
            draft: String::new(),
            commands,
            files: Vec::new(),
            selected: 0,
            popup_dismissed: false,
        }
    }

    /// Replaces the candidates for `@` mentions (relative paths with `/`).
    pub fn set_files(&mut self, files: Vec<String>) {
        self.files = files;
        self.selected = 0;
    }

    /// Applies one key; returns [`ComposerAction::Submit`] when the prompt was sent.
    pub fn handle_key(&mut self, key: KeyEvent) -> ComposerAction {
        // Terminals with the keyboard enhancement protocol (and Windows) also report releases;
        // acting on them would type every character twice.
        if key.kind == KeyEventKind::Release {
            return ComposerAction::None;
        }
        if let Some(action) = self.handle_popup_key(key) {
            return action;
        }
        self.handle_edit_key(key)
    }

    /// Inserts pasted text at the cursor, keeping its newlines.
    pub fn handle_paste(&mut self, text: &str) {
        // Many terminals turn LF into CR inside bracketed paste, and Windows text has CRLF; both
        // must become one newline. Other control characters would be invisible in the box yet
        // sent to the model (or, like ESC, garble the terminal), so they are dropped.
        let text = text.replace("\r\n", "\n").replace('\r', "\n");
        let chars: Vec<char> = text
            .chars()
            .filter(|&c| c == '\n' || c == '\t' || !c.is_control())
            .collect();
        self.insert_chars(&chars);
    }

    /// The whole text, newlines included.
    pub fn text(&self) -> String {
        self.chars.iter().collect()
    }

    /// Replaces the text and puts the cursor at the end.
    pub fn set_text(&mut self, text: &str) {
        self.replace_all(text);
        self.edited();
    }

    /// Whether there is no text at all (whitespace counts as text).
    pub fn is_empty(&self) -> bool {
        self.chars.is_empty()
    }

    /// Empties the text and stops any history browsing.
    pub fn clear(&mut self) {
        self.chars.clear();
        self.cursor = 0;
        self.draft.clear();
        self.edited();
    }

    /// Appends a history entry unless it is blank or repeats the newest one.
    pub fn push_history(&mut self, entry: String) {
        self.history_pos = None;
        if entry.trim().is_empty() || self.history.last() == Some(&entry) {
            return;
        }
        self.history.push(entry);
    }

    /// Rows the composer wants at this width: the wrapped text (1 to 10 rows) plus the border.
    pub fn height(&self, width: u16) -> u16 {
        let inner = width.saturating_sub(2);
        let points = self.layout(text_width(inner));
        let rows = points.last().map_or(1, |&(row, _)| row + 1);
        let rows = u16::try_from(rows).unwrap_or(u16::MAX);
        rows.clamp(1, MAX_INPUT_ROWS) + 2
    }

    /// Draws the bordered input into `area`, or the dimmed `placeholder` when there is no text.
    pub fn render(&self, area: Rect, buf: &mut Buffer, placeholder: &str) {
        let area = area.intersection(buf.area);
        let block = Block::bordered().border_type(BorderType::Rounded);
        let inner = block.inner(area);
        block.render(area, buf);
        if inner.is_empty() {
            return;
        }
        let view = self.view(inner);
        if view.scroll == 0 {
            buf.set_stringn(
                inner.x,
                inner.y,
                PROMPT,
                usize::from(inner.width),
                Style::new().add_modifier(Modifier::BOLD),
            );
        }
        let text_x = inner.x.saturating_add(PROMPT_WIDTH);
        if self.chars.is_empty() {
            let max = usize::from(inner.right().saturating_sub(text_x));
            buf.set_stringn(
                text_x,
                inner.y,
                placeholder,
                max,
                Style::new().add_modifier(Modifier::DIM),
            );
            return;
        }
        let rows = usize::from(inner.height);
        // The cell the last visible glyph went into, for combining marks that follow it.
        let mut last_cell: Option<(u16, u16)> = None;
        for (&c, &(row, col)) in self.chars.iter().zip(&view.points) {
            let w = char_width(c);
            if c == '\n' || (w == 0 && c.is_control()) {
                continue;
            }
            let visible = row >= view.scroll && row < view.scroll + rows && col + w <= view.width;
            if !visible {
                if w > 0 {
                    last_cell = None;
                }
                continue;
            }
            let (Ok(dx), Ok(dy)) = (u16::try_from(col), u16::try_from(row - view.scroll)) else {
                continue;
            };
            let x = text_x.saturating_add(dx);
            let y = inner.y.saturating_add(dy);
            if w == 0 {
                if let Some(cell) = last_cell.and_then(|pos| buf.cell_mut(pos)) {
                    let mut symbol = cell.symbol().to_string();
                    symbol.push(c);
                    cell.set_symbol(&symbol);
                }
                continue;
            }
            if c == '\t' {
                for i in 0..TAB_WIDTH {
                    let dx = u16::try_from(i).unwrap_or(u16::MAX);
                    if let Some(cell) = buf.cell_mut((x.saturating_add(dx), y)) {
                        cell.set_char(' ');
                    }
                }
                last_cell = None;
                continue;
            }
            if let Some(cell) = buf.cell_mut((x, y)) {
                cell.set_char(c);
            }
            // Like `Buffer::set_stringn`: cells hidden under a wide glyph must not keep old content.
            for i in 1..w {
                let dx = u16::try_from(i).unwrap_or(u16::MAX);
                if let Some(cell) = buf.cell_mut((x.saturating_add(dx), y)) {
                    cell.reset();
                }
            }
            last_cell = Some((x, y));
        }
    }

    /// Screen position of the cursor when the composer is rendered into `area`.
    pub fn cursor(&self, area: Rect) -> (u16, u16) {
        let inner = Block::bordered().inner(area);
        let view = self.view(inner);
        let (row, col) = view.points.get(self.cursor).copied().unwrap_or((0, 0));
        let dx = u16::try_from(col).unwrap_or(u16::MAX);
        let dy = u16::try_from(row - view.scroll).unwrap_or(u16::MAX);
        let x = inner
            .x
            .saturating_add(PROMPT_WIDTH)
            .saturating_add(dx)
            .min(inner.right().saturating_sub(1))
            .max(inner.x);
        let y = inner
            .y
            .saturating_add(dy)
            .min(inner.bottom().saturating_sub(1))
            .max(inner.y);
        (x, y)
    }

    /// The popup to show above the composer, if one is open.
    pub fn popup(&self) -> Option<Popup> {
        let active = self.active_popup()?;
        let items: Vec<(String, String)> = match active {
            Active::Slash(commands) => commands
                .iter()
                .map(|c| (format!("/{}", c.name), c.description.to_string()))
                .collect(),
            Active::Mention { files, .. } => files
                .iter()
                .map(|f| ((*f).to_string(), String::new()))
                .collect(),
        };
        let selected = self.selected.min(items.len().saturating_sub(1));
        Some(Popup { items, selected })
    }

    /// Draws [`popup`](Self::popup) at the bottom of `area`, scrolled so the selection shows.
    pub fn render_popup(&self, area: Rect, buf: &mut Buffer) {
        let area = area.intersection(buf.area);
        let Some(popup) = self.popup() else {
            return;
        };
        let rows = popup
            .items
            .len()
            .min(MAX_POPUP_ROWS)
            .min(usize::from(area.height));
        if rows == 0 {
            return;
        }
        let first = popup.selected.saturating_sub(rows - 1);
        let label_width = popup
            .items
            .iter()
            .map(|(label, _)| label.width())
            .max()
            .unwrap_or(0);
        let top = area.bottom() - u16::try_from(rows).unwrap_or(area.height);
        let visible = popup.items.iter().enumerate().skip(first).take(rows);
        for (y, (i, (label, description))) in (top..).zip(visible) {
            let row = Rect::new(area.x, y, area.width, 1);
            for x in row.left()..row.right() {
                if let Some(cell) = buf.cell_mut((x, y)) {
                    cell.reset();
                }
            }
            let base = if i == popup.selected {
                Style::new().add_modifier(Modifier::REVERSED)
            } else {
                Style::new()
            };
            buf.set_style(row, base);
            let label_x = area.x.saturating_add(1);
            let max = usize::from(area.right().saturating_sub(label_x));
            buf.set_stringn(label_x, y, label, max, base.add_modifier(Modifier::BOLD));
            if description.is_empty() {
                continue;
            }
            let gap = u16::try_from(label_width + 2).unwrap_or(u16::MAX);
            let description_x = label_x.saturating_add(gap);
            let max = usize::from(area.right().saturating_sub(description_x));
            buf.set_stringn(
                description_x,
                y,
                description,
                max,
                base.add_modifier(Modifier::DIM),
            );
        }
    }

    /// Rows [`render_popup`](Self::render_popup) uses; 0 when no popup is open.
    pub fn popup_height(&self) -> u16 {
        self.active_popup().map_or(0, |active| {
            u16::try_from(active.len().min(MAX_POPUP_ROWS)).unwrap_or(0)
        })
    }

    fn handle_popup_key(&mut self, key: KeyEvent) -> Option<ComposerAction> {
        let active = self.active_popup()?;
        let len = active.len();
        let selected = self.selected.min(len.saturating_sub(1));
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let choice = match &active {
            Active::Slash(commands) => Choice::Command(commands.get(selected)?.name),
            Active::Mention { start, end, files } => Choice::File {
                start: *start,
                end: *end,
                path: (*files.get(selected)?).to_string(),
            },
        };
        match key.code {
            KeyCode::Up => self.selected = (selected + len - 1) % len,
            KeyCode::Char('p') if ctrl => self.selected = (selected + len - 1) % len,
            KeyCode::Down => self.selected = (selected + 1) % len,
            KeyCode::Char('n') if ctrl => self.selected = (selected + 1) % len,
            KeyCode::Esc => self.popup_dismissed = true,
            KeyCode::Tab => self.complete(choice),
            KeyCode::Enter if key.modifiers.is_empty() => match choice {
                // The popup only lists commands the typed text is a prefix of, so the selection
                // is always what the user meant to run.
                Choice::Command(name) => return Some(self.submit(format!("/{name}"))),
                file @ Choice::File { .. } => self.complete(file),
            },
            _ => return None,
        }
        Some(ComposerAction::None)
    }

    fn complete(&mut self, choice: Choice) {
        match choice {
            Choice::Command(name) => self.set_text(&format!("/{name} ")),
            Choice::File { start, end, path } => {
                let mention: Vec<char> = format!("@{path}").chars().collect();
                let after = start + mention.len();
                self.chars.splice(start..end, mention);
                self.cursor = after;
                // Reuse a space that is already there rather than doubling it.
                if self.chars.get(after) == Some(&' ') {
                    self.cursor += 1;
                } else {
                    self.chars.insert(after, ' ');
                    self.cursor += 1;
                }
                self.edited();
            }
        }
    }

    fn handle_edit_key(&mut self, key: KeyEvent) -> ComposerAction {
        let mods = key.modifiers;
        let ctrl = mods.contains(KeyModifiers::CONTROL);
        let alt = mods.contains(KeyModifiers::ALT);
        let shift = mods.contains(KeyModifiers::SHIFT);
        match key.code {
            KeyCode::Enter if alt || shift => self.insert_chars(&['\n']),
            KeyCode::Enter => {
                let text = self.text();
                if text.trim().is_empty() {
                    return ComposerAction::None;
                }
                return self.submit(text);
            }
            // Raw mode reports LF as Ctrl-J, which is how many terminals send Ctrl-Enter too.
            KeyCode::Char('j') if ctrl && !alt => self.insert_chars(&['\n']),
            // AltGr arrives as Ctrl+Alt on Windows; those keys type characters such as `@`.
            KeyCode::Char(c) if ctrl && alt => self.insert_chars(&[c]),
            KeyCode::Char('a') if ctrl => self.move_to(self.line_start(self.cursor)),
            KeyCode::Char('e') if ctrl => self.move_to(self.line_end(self.cursor)),
            KeyCode::Char('b') if ctrl => self.move_to(self.cursor.saturating_sub(1)),
            KeyCode::Char('f') if ctrl => self.move_to((self.cursor + 1).min(self.chars.len())),
            KeyCode::Char('p') if ctrl => self.up(),
            KeyCode::Char('n') if ctrl => self.down(),
            KeyCode::Char('h') if ctrl => self.backspace(),
            KeyCode::Char('w') if ctrl => self.delete_to(self.word_left()),
            KeyCode::Char('u') if ctrl => {
                // At a line start there is nothing left on the line, so join with the previous
                // one instead of doing nothing.
                let start = self.line_start(self.cursor);
                self.delete_to(if start == self.cursor {
                    start.saturating_sub(1)
                } else {
                    start
                });
            }
            KeyCode::Char('k') if ctrl => {
                let end = self.line_end(self.cursor);
                let end = if end == self.cursor {
                    (end + 1).min(self.chars.len())
                } else {
                    end
                };
                self.delete_to(end);
            }
            KeyCode::Char('b') if alt => self.move_to(self.word_left()),
            KeyCode::Char('f') if alt => self.move_to(self.word_right()),
            KeyCode::Char(c) if !ctrl && !alt => self.insert_chars(&[c]),
            KeyCode::Backspace if ctrl || alt => self.delete_to(self.word_left()),
            KeyCode::Backspace => self.backspace(),
            KeyCode::Delete => self.delete_to((self.cursor + 1).min(self.chars.len())),
            KeyCode::Left if ctrl || alt => self.move_to(self.word_left()),
            KeyCode::Right if ctrl || alt => self.move_to(self.word_right()),
            KeyCode::Left => self.move_to(self.cursor.saturating_sub(1)),
            KeyCode::Right => self.move_to((self.cursor + 1).min(self.chars.len())),
            KeyCode::Home => self.move_to(self.line_start(self.cursor)),
            KeyCode::End => self.move_to(self.line_end(self.cursor)),
            KeyCode::Up => self.up(),
            KeyCode::Down => self.down(),
            _ => {}
        }
        ComposerAction::None
    }

    fn submit(&mut self, text: String) -> ComposerAction {
        self.push_history(text.clone());
        self.clear();
        ComposerAction::Submit(text)
    }

    fn active_popup(&self) -> Option<Active<'_>> {
        // While browsing history a recalled `/command` must not open the popup, or the next Up
        // would move the selection instead of going further back.
        if self.popup_dismissed || self.history_pos.is_some() {
            return None;
        }
        if let Some(typed) = self.slash_query() {
            let matches: Vec<&'static SlashCommand> = self
                .commands
                .iter()
                .filter(|c| c.name.starts_with(&typed))
                .collect();
            return (!matches.is_empty()).then_some(Active::Slash(matches));
        }
        let (start, end) = self.word_at_cursor()?;
        if self.chars.get(start) != Some(&'@') {
            return None;
        }
        let query: String = self.chars[start + 1..end].iter().collect();
        let files = rank_files(&self.files, &query);
        (!files.is_empty()).then_some(Active::Mention { start, end, files })
    }

    /// What follows the `/` when the whole text is one command word with the cursor at its end.
    fn slash_query(&self) -> Option<String> {
        let rest = self.chars.strip_prefix(&['/'])?;
        if self.cursor != self.chars.len() || rest.iter().any(|c| c.is_whitespace()) {
            return None;
        }
        Some(rest.iter().collect())
    }

    /// The run of non-whitespace chars around the cursor, as `start..end`.
    fn word_at_cursor(&self) -> Option<(usize, usize)> {
        let mut start = self.cursor;
        while start > 0 && !self.chars[start - 1].is_whitespace() {
            start -= 1;
        }
        let mut end = self.cursor;
        while end < self.chars.len() && !self.chars[end].is_whitespace() {
            end += 1;
        }
        (start < end).then_some((start, end))
    }

    fn view(&self, inner: Rect) -> View {
        let width = text_width(inner.width);
        let points = self.layout(width);
        let cursor_row = points.get(self.cursor).map_or(0, |&(row, _)| row);
        let visible = usize::from(inner.height.max(1));
        View {
            points,
            width,
            scroll: cursor_row.saturating_sub(visible - 1),
        }
    }

    /// Char-level wrap: a glyph that does not fit moves to the next row. The one function both
    /// drawing and cursor placement use, so they cannot drift apart.
    fn layout(&self, width: usize) -> Vec<(usize, usize)> {
        let width = width.max(1);
        let mut points = Vec::with_capacity(self.chars.len() + 1);
        let (mut row, mut col) = (0, 0);
        for &c in &self.chars {
            if c == '\n' {
                points.push((row, col));
                row += 1;
                col = 0;
                continue;
            }
            let w = char_width(c);
            if w > 0 && col > 0 && col + w > width {
                row += 1;
                col = 0;
            }
            points.push((row, col));
            col += w;
        }
        points.push((row, col));
        points
    }

    fn replace_all(&mut self, text: &str) {
        self.chars = text.chars().collect();
        self.cursor = self.chars.len();
    }

    /// Bookkeeping after the text changed: popups reopen and start at the top, history browsing
    /// ends (the edited text becomes the new draft on the next Up).
    fn edited(&mut self) {
        self.history_pos = None;
        self.popup_dismissed = false;
        self.selected = 0;
        self.preferred_col = None;
    }

    fn insert_chars(&mut self, chars: &[char]) {
        self.chars
            .splice(self.cursor..self.cursor, chars.iter().copied());
        self.cursor += chars.len();
        self.edited();
    }

    fn backspace(&mut self) {
        self.delete_to(self.cursor.saturating_sub(1));
    }

    /// Deletes between the cursor and `other` (either side) and leaves the cursor at the start.
    fn delete_to(&mut self, other: usize) {
        let (start, end) = if other < self.cursor {
            (other, self.cursor)
        } else {
            (self.cursor, other)
        };
        if start == end {
            return;
        }
        self.chars.drain(start..end);
        self.cursor = start;
        self.edited();
    }

    fn move_to(&mut self, cursor: usize) {
        self.cursor = cursor.min(self.chars.len());
        self.preferred_col = None;
        self.selected = 0;
    }

    fn line_start(&self, from: usize) -> usize {
        self.chars[..from]
            .iter()
            .rposition(|&c| c == '\n')
            .map_or(0, |i| i + 1)
    }

    fn line_end(&self, from: usize) -> usize {
        self.chars[from..]
            .iter()
            .position(|&c| c == '\n')
            .map_or(self.chars.len(), |i| from + i)
    }

    fn word_left(&self) -> usize {
        let mut i = self.cursor;
        while i > 0 && self.chars[i - 1].is_whitespace() {
            i -= 1;
        }
        while i > 0 && !self.chars[i - 1].is_whitespace() {
            i -= 1;
        }
        i
    }

    fn word_right(&self) -> usize {
        let mut i = self.cursor;
        while i < self.chars.len() && self.chars[i].is_whitespace() {
            i += 1;
        }
        while i < self.chars.len() && !self.chars[i].is_whitespace() {
            i += 1;
        }
        i
    }

    fn up(&mut self) {
        let start = self.line_start(self.cursor);
        if start == 0 {
            self.history_prev();
        } else {
            let target = self.line_start(start - 1);
            self.move_vertically(start, target);
        }
    }

    fn down(&mut self) {
        let end = self.line_end(self.cursor);
        if end == self.chars.len() {
            self.history_next();
        } else {
            let start = self.line_start(self.cursor);
            self.move_vertically(start, end + 1);
        }
    }

    /// Moves from the line starting at `from` to the line starting at `target`, keeping the
    /// display column (not the char index, which differs with wide chars).
    fn move_vertically(&mut self, from: usize, target: usize) {
        let col = self.preferred_col.unwrap_or_else(|| {
            self.chars[from..self.cursor]
                .iter()
                .map(|&c| char_width(c))
                .sum()
        });
        let end = self.line_end(target);
        let mut i = target;
        let mut acc = 0;
        while i < end {
            let w = char_width(self.chars[i]);
            if acc + w > col {
                break;
            }
            acc += w;
            i += 1;
        }
        self.cursor = i;
        self.selected = 0;
        self.preferred_col = Some(col);
    }

    fn history_prev(&mut self) {
        let pos = match self.history_pos {
            _ if self.history.is_empty() => return,
            None => {
                self.draft = self.text();
                self.history.len() - 1
            }
            Some(0) => return,
            Some(pos) => pos - 1,
        };
        self.show_history(Some(pos));
    }

    fn history_next(&mut self) {
        let Some(pos) = self.history_pos else {
            return;
        };
        if pos + 1 < self.history.len() {
            self.show_history(Some(pos + 1));
        } else {
            self.show_history(None);
        }
    }

    fn show_history(&mut self, pos: Option<usize>) {
        let text = match pos {
            Some(pos) => self.history.get(pos).cloned().unwrap_or_default(),
            None => std::mem::take(&mut self.draft),
        };
        self.replace_all(&text);
        self.edited();
        self.history_pos = pos;
    }
}

/// Columns for text inside a border-less area of `inner` columns: the prompt gutter and the
/// cursor column are not available. Never 0, so wrapping always makes progress.
fn text_width(inner: u16) -> usize {
    usize::from(inner.saturating_sub(PROMPT_WIDTH + CURSOR_COLUMN).max(1))
}

/// Display width in the composer's own model: tabs expand, control chars take no space.
fn char_width(c: char) -> usize {
    if c == '\t' {
        TAB_WIDTH
    } else if c.is_control() {
        0
    } else {
        c.width().unwrap_or(0)
    }
}

/// Up to [`MAX_POPUP_ROWS`] paths containing `query` (case-insensitive), best first: basename
/// starts with it, then the path starts with it, then anywhere; shorter paths first within each.
fn rank_files<'a>(files: &'a [String], query: &str) -> Vec<&'a str> {
    let query = query.to_lowercase();
    let mut scored: Vec<(u8, usize, &str)> = files
        .iter()
        .filter_map(|path| {
            let lower = path.to_lowercase();
            let base = lower.rfind('/').map_or(lower.as_str(), |i| &lower[i + 1..]);
            let tier = if base.starts_with(&query) {
                0
            } else if lower.starts_with(&query) {
                1
            } else if lower.contains(&query) {
                2
            } else {
                return None;
            };
            Some((tier, path.chars().count(), path.as_str()))
        })
        .collect();
    scored.sort_unstable();
    scored
        .into_iter()
        .take(MAX_POPUP_ROWS)
        .map(|(_, _, path)| path)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    static COMMANDS: &[SlashCommand] = &[
        SlashCommand {
            name: "model",
            description: "choose the model",
        },
        SlashCommand {
            name: "mcp",
            description: "list MCP servers",
        },
        SlashCommand {
            name: "new",
            description: "start a new conversation",
        },
        SlashCommand {
            name: "quit",
            description: "exit codex",
        },
    ];

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn with(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, modifiers)
    }

    fn type_str(composer: &mut Composer, text: &str) {
        for c in text.chars() {
            assert_eq!(
                composer.handle_key(key(KeyCode::Char(c))),
                ComposerAction::None
            );
        }
    }

    fn composer() -> Composer {
        Composer::new(Vec::new(), COMMANDS)
    }

    #[test]
    fn typing_and_submitting() {
        let mut c = composer();
        type_str(&mut c, "héllo");
        assert_eq!(c.text(), "héllo");
        c.handle_key(key(KeyCode::Left));
        c.handle_key(key(KeyCode::Backspace));
        type_str(&mut c, "L");
        assert_eq!(c.text(), "hélLo");
        assert_eq!(
            c.handle_key(key(KeyCode::Enter)),
            ComposerAction::Submit("hélLo".to_string())
        );
        assert!(c.is_empty());
        // Submitted text goes to history.
        c.handle_key(key(KeyCode::Up));
        assert_eq!(c.text(), "hélLo");
    }

    #[test]
    fn blank_text_does_not_submit() {
        let mut c = composer();
        assert_eq!(c.handle_key(key(KeyCode::Enter)), ComposerAction::None);
        type_str(&mut c, "  ");
        assert_eq!(c.handle_key(key(KeyCode::Enter)), ComposerAction::None);
        assert_eq!(c.text(), "  ");
    }

    #[test]
    fn release_events_are_ignored() {
        let mut c = composer();
        let mut release = key(KeyCode::Char('x'));
        release.kind = KeyEventKind::Release;
        c.handle_key(release);
        assert!(c.is_empty());
    }

    #[test]
    fn newline_keys_insert_newlines() {
        let mut c = composer();
        type_str(&mut c, "one");
        c.handle_key(with(KeyCode::Enter, KeyModifiers::ALT));
        type_str(&mut c, "two");
        c.handle_key(with(KeyCode::Enter, KeyModifiers::SHIFT));
        type_str(&mut c, "three");
        c.handle_key(with(KeyCode::Char('j'), KeyModifiers::CONTROL));
        type_str(&mut c, "four");
        assert_eq!(c.text(), "one\ntwo\nthree\nfour");
        assert_eq!(
            c.handle_key(key(KeyCode::Enter)),
            ComposerAction::Submit("one\ntwo\nthree\nfour".to_string())
        );
    }

    #[test]
    fn line_and_word_editing_keys() {
        let mut c = composer();
        c.set_text("first line\nsecond word here");
        c.handle_key(with(KeyCode::Char('w'), KeyModifiers::CONTROL));
        assert_eq!(c.text(), "first line\nsecond word ");
        c.handle_key(with(KeyCode::Left, KeyModifiers::ALT));
        c.handle_key(with(KeyCode::Char('k'), KeyModifiers::CONTROL));
        assert_eq!(c.text(), "first line\nsecond ");
        c.handle_key(with(KeyCode::Char('a'), KeyModifiers::CONTROL));
        type_str(&mut c, ">");
        c.handle_key(key(KeyCode::End));
        type_str(&mut c, "<");
        assert_eq!(c.text(), "first line\n>second <");
        c.handle_key(with(KeyCode::Char('u'), KeyModifiers::CONTROL));
        assert_eq!(c.text(), "first line\n");
        // At the line start Ctrl-U joins with the previous line.
        c.handle_key(with(KeyCode::Char('u'), KeyModifiers::CONTROL));
        assert_eq!(c.text(), "first line");
        c.handle_key(key(KeyCode::Home));
        c.handle_key(with(KeyCode::Right, KeyModifiers::CONTROL));
        c.handle_key(key(KeyCode::Delete));
        assert_eq!(c.text(), "firstline");
        c.handle_key(with(KeyCode::Char('e'), KeyModifiers::CONTROL));
        c.handle_key(with(KeyCode::Backspace, KeyModifiers::ALT));
        assert!(c.is_empty());
    }

    #[test]
    fn up_down_move_between_lines_keeping_the_column() {
        let mut c = composer();
        c.set_text("abcdef\nxy\n世界abc");
        c.handle_key(key(KeyCode::Left)); // before the final `c`, display column 6
        c.handle_key(key(KeyCode::Up));
        c.handle_key(key(KeyCode::Up));
        type_str(&mut c, "|");
        assert_eq!(c.text(), "abcdef|\nxy\n世界abc");
        c.set_text("abcdef\nxy\n世界abc");
        c.cursor = 3; // after `abc`
        c.handle_key(key(KeyCode::Down));
        c.handle_key(key(KeyCode::Down));
        // Column 3 falls inside `界` (columns 2-3), so the cursor stops before it.
        type_str(&mut c, "|");
        assert_eq!(c.text(), "abcdef\nxy\n世|界abc");
    }

    #[test]
    fn history_recall_restores_the_draft() {
        let mut c = Composer::new(
            vec!["old".to_string(), "older\nmulti".to_string()],
            COMMANDS,
        );
        c.push_history("newest".to_string());
        c.push_history("newest".to_string());
        c.push_history("   ".to_string());
        type_str(&mut c, "draft");
        c.handle_key(key(KeyCode::Up));
        assert_eq!(c.text(), "newest");
        c.handle_key(key(KeyCode::Up));
        assert_eq!(c.text(), "older\nmulti");
        // The cursor is at the end (second line), so Up first moves to the first line.
        c.handle_key(key(KeyCode::Up));
        assert_eq!(c.text(), "older\nmulti");
        c.handle_key(key(KeyCode::Up));
        assert_eq!(c.text(), "old");
        c.handle_key(key(KeyCode::Up));
        assert_eq!(c.text(), "old");
        c.handle_key(key(KeyCode::Down));
        assert_eq!(c.text(), "older\nmulti");
        c.handle_key(key(KeyCode::Down));
        assert_eq!(c.text(), "newest");
        c.handle_key(key(KeyCode::Down));
        assert_eq!(c.text(), "draft");
        c.handle_key(key(KeyCode::Down));
        assert_eq!(c.text(), "draft");
    }

    #[test]
    fn recalled_slash_command_does_not_capture_up() {
        let mut c = Composer::new(vec!["first".to_string(), "/model".to_string()], COMMANDS);
        c.handle_key(key(KeyCode::Up));
        assert_eq!(c.text(), "/model");
        assert_eq!(c.popup(), None);
        c.handle_key(key(KeyCode::Up));
        assert_eq!(c.text(), "first");
    }

    #[test]
    fn slash_popup_filters_and_tab_completes() {
        let mut c = composer();
        type_str(&mut c, "/");
        assert_eq!(c.popup().map(|p| p.items.len()), Some(4));
        type_str(&mut c, "m");
        let popup = c.popup().expect("popup");
        assert_eq!(
            popup.items,
            vec![
                ("/model".to_string(), "choose the model".to_string()),
                ("/mcp".to_string(), "list MCP servers".to_string()),
            ]
        );
        assert_eq!(popup.selected, 0);
        assert_eq!(c.popup_height(), 2);
        c.handle_key(key(KeyCode::Down));
        assert_eq!(c.popup().map(|p| p.selected), Some(1));
        c.handle_key(key(KeyCode::Down));
        assert_eq!(c.popup().map(|p| p.selected), Some(0));
        c.handle_key(key(KeyCode::Up));
        c.handle_key(key(KeyCode::Tab));
        assert_eq!(c.text(), "/mcp ");
        assert_eq!(c.popup(), None);
        assert_eq!(c.popup_height(), 0);
        // No command matches: no popup, Enter submits the text.
        c.set_text("/etc/hosts");
        assert_eq!(c.popup(), None);
        assert_eq!(
            c.handle_key(key(KeyCode::Enter)),
            ComposerAction::Submit("/etc/hosts".to_string())
        );
    }

    #[test]
    fn slash_enter_submits_the_selected_command() {
        let mut c = composer();
        type_str(&mut c, "/mo");
        assert_eq!(
            c.handle_key(key(KeyCode::Enter)),
            ComposerAction::Submit("/model".to_string())
        );
        assert!(c.is_empty());
    }

    #[test]
    fn esc_closes_the_popup_until_the_text_changes() {
        let mut c = composer();
        type_str(&mut c, "/m");
        c.handle_key(key(KeyCode::Esc));
        assert_eq!(c.popup(), None);
        type_str(&mut c, "c");
        assert_eq!(c.popup().map(|p| p.items.len()), Some(1));
    }

    fn files() -> Vec<String> {
        [
            "docs/readme-extra.md",
            "README.md",
            "src/reader.rs",
            "crates/tui/src/lib.rs",
            "src/thread.rs",
            "src/main.rs",
            "readme/long/path/notes.txt",
        ]
        .iter()
        .map(|s| (*s).to_string())
        .collect()
    }

    #[test]
    fn mention_popup_ranks_files() {
        let mut c = composer();
        c.set_files(files());
        type_str(&mut c, "look at @REA");
        let labels: Vec<String> = c
            .popup()
            .expect("popup")
            .items
            .into_iter()
            .map(|(label, _)| label)
            .collect();
        assert_eq!(
            labels,
            vec![
                // basename starts with `rea`, shorter first
                "README.md",
                "src/reader.rs",
                "docs/readme-extra.md",
                // path starts with it
                "readme/long/path/notes.txt",
                // substring only
                "src/thread.rs",
            ]
        );
        c.set_text("@zzz");
        assert_eq!(c.popup(), None);
        // A bare `@` offers everything, shortest first, at most eight.
        c.set_text("@");
        let popup = c.popup().expect("popup");
        assert_eq!(popup.items.len(), 7);
        assert_eq!(popup.items[0].0, "README.md");
    }

    #[test]
    fn mention_enter_inserts_the_path_without_submitting() {
        let mut c = composer();
        c.set_files(files());
        type_str(&mut c, "see @main");
        assert_eq!(c.handle_key(key(KeyCode::Enter)), ComposerAction::None);
        assert_eq!(c.text(), "see @src/main.rs ");
        assert_eq!(c.popup(), None);
        type_str(&mut c, "now");
        assert_eq!(c.text(), "see @src/main.rs now");

        // In the middle of the text the whole word is replaced and an existing space reused.
        c.set_text("a @lib b");
        c.cursor = 5; // inside `@lib`
        c.handle_key(key(KeyCode::Tab));
        assert_eq!(c.text(), "a @crates/tui/src/lib.rs b");
        type_str(&mut c, "x");
        assert_eq!(c.text(), "a @crates/tui/src/lib.rs xb");

        c.set_text("@rea");
        c.handle_key(key(KeyCode::Esc));
        assert_eq!(c.popup(), None);
        assert_eq!(
            c.handle_key(key(KeyCode::Enter)),
            ComposerAction::Submit("@rea".to_string())
        );
    }

    #[test]
    fn paste_keeps_newlines() {
        let mut c = composer();
        type_str(&mut c, "<>");
        c.handle_key(key(KeyCode::Left));
        c.handle_paste("a\r\nb\rc\nd\u{1b}[0m\te");
        assert_eq!(c.text(), "<a\nb\nc\nd[0m\te>");
        type_str(&mut c, "!");
        assert_eq!(c.text(), "<a\nb\nc\nd[0m\te!>");
    }

    /// Checks, for every insertion point, that the cursor lands on the cell the char there is
    /// drawn in: the property that keeps the terminal cursor honest.
    fn assert_cursor_matches_rendering(c: &mut Composer, area: Rect) {
        let mut buf = Buffer::empty(area);
        c.render(area, &mut buf, "");
        for i in 0..c.chars.len() {
            let ch = c.chars[i];
            // Tabs draw as blanks and newlines not at all; only glyphs can be compared.
            if ch.is_control() || char_width(ch) == 0 {
                continue;
            }
            c.cursor = i;
            let mut buf = Buffer::empty(area);
            c.render(area, &mut buf, "");
            let pos = c.cursor(area);
            // Starts with, because a following combining mark shares the cell.
            assert!(
                buf[pos].symbol().starts_with(ch),
                "char {i} ({ch:?}) at {pos:?} is drawn as {:?}",
                buf[pos].symbol()
            );
        }
    }

    #[test]
    fn cursor_position_with_wide_chars_and_wrapping() {
        let mut c = composer();
        // 10 wide: 8 inside the border, 2 for the prompt, 1 kept for the cursor: 5 text columns.
        let area = Rect::new(0, 0, 10, 6);
        c.set_text("abc世界d");
        // `界` does not fit after `abc世` (5 columns) and wraps.
        assert_eq!(c.cursor(area), (6, 2));
        c.cursor = 4; // before `界`
        assert_eq!(c.cursor(area), (3, 2));
        c.cursor = 3; // before `世`
        assert_eq!(c.cursor(area), (6, 1));
        c.set_text("abcde");
        // After a full row the cursor uses the reserved column instead of wrapping.
        assert_eq!(c.cursor(area), (8, 1));
        assert_eq!(c.height(10), 3);
        type_str(&mut c, "f");
        assert_eq!(c.cursor(area), (4, 2));
        assert_eq!(c.height(10), 4);

        c.set_text("a世b界cé\u{301}x\nd世界世界e\tf");
        assert_cursor_matches_rendering(&mut c, area);
        c.cursor = 0;
        let mut buf = Buffer::empty(area);
        c.render(area, &mut buf, "");
        // The combining acute accent joins the cell of its base char.
        assert_eq!(buf[(6, 2)].symbol(), "é\u{301}");
    }

    #[test]
    fn height_is_clamped_and_scrolling_follows_the_cursor() {
        let mut c = composer();
        assert_eq!(c.height(20), 3);
        c.set_text(&"line\n".repeat(20));
        assert_eq!(c.height(20), 12);
        // Only three rows fit: the cursor on the last row must still be visible.
        let area = Rect::new(0, 0, 20, 5);
        assert_eq!(c.cursor(area), (3, 3));
        let mut buf = Buffer::empty(area);
        c.set_text(
            &(0..10)
                .map(|i| format!("l{i}"))
                .collect::<Vec<_>>()
                .join("\n"),
        );
        c.render(area, &mut buf, "");
        let row = |buf: &Buffer, y: u16| -> String {
            (0..area.width)
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect()
        };
        assert_eq!(row(&buf, 3), "│  l9              │");
        c.cursor = 0;
        let mut buf = Buffer::empty(area);
        c.render(area, &mut buf, "");
        assert_eq!(row(&buf, 1), "│› l0              │");
        assert_eq!(c.cursor(area), (3, 1));
    }

    fn draw(c: &Composer, width: u16, height: u16) -> Terminal<TestBackend> {
        let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("terminal");
        terminal
            .draw(|frame| {
                let area = frame.area();
                let composer_height = c.height(area.width).min(area.height);
                let composer_area = Rect::new(
                    area.x,
                    area.bottom() - composer_height,
                    area.width,
                    composer_height,
                );
                let popup_area = Rect::new(area.x, area.y, area.width, composer_area.y - area.y);
                c.render_popup(popup_area, frame.buffer_mut());
                c.render(
                    composer_area,
                    frame.buffer_mut(),
                    "Ask codex to do anything",
                );
                frame.set_cursor_position(c.cursor(composer_area));
            })
            .expect("draw");
        terminal
    }

    #[test]
    fn snapshot_placeholder() {
        let terminal = draw(&composer(), 40, 3);
        insta::assert_snapshot!(terminal.backend());
    }

    #[test]
    fn snapshot_composer_with_text() {
        let mut c = composer();
        c.set_text("Fix the failing test in 世界.rs and then run the whole suite\nthanks!");
        let terminal = draw(&c, 40, 6);
        insta::assert_snapshot!(terminal.backend());
    }

    #[test]
    fn snapshot_slash_popup() {
        let mut c = composer();
        type_str(&mut c, "/m");
        c.handle_key(key(KeyCode::Down));
        let terminal = draw(&c, 40, 6);
        insta::assert_snapshot!(terminal.backend());
        // The snapshot shows no styles: check the selected row (`/mcp`) is the reversed one.
        let buf = terminal.backend().buffer();
        assert!(buf[(1, 2)].modifier.contains(Modifier::REVERSED));
        assert!(!buf[(1, 1)].modifier.contains(Modifier::REVERSED));
        assert!(buf[(9, 2)].modifier.contains(Modifier::DIM));
    }

    #[test]
    fn snapshot_mention_popup() {
        let mut c = composer();
        c.set_files(files());
        type_str(&mut c, "explain @rea");
        let terminal = draw(&c, 40, 9);
        insta::assert_snapshot!(terminal.backend());
    }
}
