//! Taking over the terminal and always giving it back: raw mode, the alternate screen and
//! bracketed paste are undone when the [`TerminalGuard`] drops (normal exit, error, signal)
//! and by a panic hook (a panic prints into a cooked terminal, readable, not smeared over
//! the screen).

use std::io::{Stdout, Write as _};
use std::sync::atomic::{AtomicBool, Ordering};

use crossterm::event::{DisableBracketedPaste, EnableBracketedPaste};
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

/// Whether the terminal is ours right now; restoring twice would print stray escapes.
static ACTIVE: AtomicBool = AtomicBool::new(false);
/// Whether we switched to the alternate screen, so that restoring leaves it.
static ALT_SCREEN: AtomicBool = AtomicBool::new(false);

/// The terminal in full-screen mode, until dropped.
pub struct TerminalGuard {
    /// The ratatui terminal drawing on stdout.
    pub terminal: Terminal<CrosstermBackend<Stdout>>,
}

impl TerminalGuard {
    /// Switches stdout to raw mode with bracketed paste, on the alternate screen when
    /// `alt_screen`.
    pub fn enter(alt_screen: bool) -> std::io::Result<TerminalGuard> {
        install_panic_hook();
        enable_raw_mode()?;
        ACTIVE.store(true, Ordering::SeqCst);
        ALT_SCREEN.store(alt_screen, Ordering::SeqCst);
        let mut out = std::io::stdout();
        let entered = if alt_screen {
            crossterm::execute!(out, EnterAlternateScreen, EnableBracketedPaste)
        } else {
            crossterm::execute!(out, EnableBracketedPaste)
        };
        if let Err(e) = entered {
            restore();
            return Err(e);
        }
        match Terminal::new(CrosstermBackend::new(out)) {
            Ok(terminal) => Ok(TerminalGuard { terminal }),
            Err(e) => {
                restore();
                Err(e)
            }
        }
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}

/// Gives the terminal back: cooked mode, the main screen, the cursor shown. Does nothing when
/// it is not ours.
pub fn restore() {
    if !ACTIVE.swap(false, Ordering::SeqCst) {
        return;
    }
    let mut out = std::io::stdout();
    let _ = crossterm::execute!(out, DisableBracketedPaste);
    if ALT_SCREEN.swap(false, Ordering::SeqCst) {
        let _ = crossterm::execute!(out, LeaveAlternateScreen);
    }
    let _ = crossterm::execute!(out, crossterm::cursor::Show);
    let _ = disable_raw_mode();
    let _ = out.flush();
}

fn install_panic_hook() {
    static INSTALLED: AtomicBool = AtomicBool::new(false);
    if INSTALLED.swap(true, Ordering::SeqCst) {
        return;
    }
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        previous(info);
    }));
}
