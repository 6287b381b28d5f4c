//! Colour for text output: only when standard output is a terminal, and never when the
//! `NO_COLOR` environment variable holds a value (the no-color.org convention).

use std::ffi::OsStr;
use std::fmt::Display;
use std::io::IsTerminal;

/// Whether to colour, given whether stdout is a terminal and the value of `NO_COLOR`.
pub fn colour_wanted(stdout_is_terminal: bool, no_color: Option<&OsStr>) -> bool {
    stdout_is_terminal && no_color.is_none_or(OsStr::is_empty)
}

/// Paints text with ANSI colours, or leaves it alone.
#[derive(Clone, Copy, Debug)]
pub struct Style {
    enabled: bool,
}

impl Style {
    /// The style for this process's standard output.
    pub fn detect() -> Self {
        let no_color = std::env::var_os("NO_COLOR");
        Style {
            enabled: colour_wanted(std::io::stdout().is_terminal(), no_color.as_deref()),
        }
    }

    /// No colour at all (JSON output, files).
    pub const fn plain() -> Self {
        Style { enabled: false }
    }

    fn paint(&self, code: &str, text: impl Display) -> String {
        if self.enabled {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    /// Section headings.
    pub fn heading(&self, text: impl Display) -> String {
        self.paint("1", text)
    }

    /// Addresses and pointer values.
    pub fn addr(&self, text: impl Display) -> String {
        self.paint("36", text)
    }

    /// Something that holds: a check that passed.
    pub fn good(&self, text: impl Display) -> String {
        self.paint("32", text)
    }

    /// Something broken: a refused rule, the extent that broke it.
    pub fn bad(&self, text: impl Display) -> String {
        self.paint("1;31", text)
    }

    /// A way out: a fix.
    pub fn fix(&self, text: impl Display) -> String {
        self.paint("33", text)
    }

    /// Secondary detail.
    pub fn dim(&self, text: impl Display) -> String {
        self.paint("2", text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        assert!(colour_wanted(true, None));
        assert!(!colour_wanted(false, None));
        assert!(!colour_wanted(true, Some(OsStr::new("1"))));
        assert!(!colour_wanted(false, Some(OsStr::new("1"))));
        // An empty NO_COLOR is no request (no-color.org).
        assert!(colour_wanted(true, Some(OsStr::new(""))));
    }

    #[test]
    fn plain_style_adds_no_escapes() {
        let plain = Style::plain();
        assert_eq!(plain.bad("x"), "x");
        let coloured = Style { enabled: true };
        assert_eq!(coloured.bad("x"), "\x1b[1;31mx\x1b[0m");
    }
}
