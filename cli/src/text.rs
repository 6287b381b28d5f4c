//! Pieces shared by the text diagrams: page bars, wrapping, eliding long lists, and the
//! explanation of a refused layout.

use std::fmt::Write;

use nvme_dma::{Extent, PageSize};

use crate::explain::Refusal;
use crate::style::Style;

/// Characters in a page bar.
const BAR: u64 = 16;

/// Lines of text, built up with `line`.
#[derive(Default)]
pub struct Out(pub String);

impl Out {
    /// Append one line.
    pub fn line(&mut self, text: impl AsRef<str>) {
        self.0.push_str(text.as_ref());
        self.0.push('\n');
    }

    /// Append an empty line.
    pub fn blank(&mut self) {
        self.0.push('\n');
    }
}

/// A memory page drawn as a bar of 16 cells: `█` where the transfer uses bytes, `·` where it
/// does not, so an offset into the page or an early end shows at a glance.
pub fn page_bar(offset: u64, len: u64, ps: PageSize) -> String {
    let bytes = u128::from(ps.bytes());
    let from = u128::from(offset) * u128::from(BAR) / bytes;
    let to = (u128::from(offset) + u128::from(len)) * u128::from(BAR);
    let to = to.div_ceil(bytes);
    (0..u128::from(BAR))
        .map(|cell| {
            if cell >= from && cell < to {
                '█'
            } else {
                '·'
            }
        })
        .collect::<String>()
}

/// One page of an extent: its base, and the bytes of it the extent uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageSlice {
    /// The page's base address.
    pub base: u64,
    /// First byte used, from the base.
    pub offset: u64,
    /// Bytes used.
    pub len: u64,
}

/// Memory pages an extent touches.
pub fn page_count(e: Extent, ps: PageSize) -> u64 {
    nvme_dma::prp::geometry::pages_touched(ps, e.addr, e.len)
}

/// Page `k` of the pages an extent touches (the extent fits the address space).
pub fn page_of(e: Extent, ps: PageSize, k: u64) -> PageSlice {
    let first = ps.page_base(e.addr);
    let base = first.saturating_add(k.saturating_mul(ps.bytes()));
    let start = e.addr.max(base);
    // In 128 bits: an extent may end at 2^64 exactly, where its last page ends too, and a
    // saturated end would lose that page's last byte.
    let end =
        (u128::from(e.addr) + u128::from(e.len)).min(u128::from(base) + u128::from(ps.bytes()));
    PageSlice {
        base,
        offset: start - base,
        len: u64::try_from(end.saturating_sub(u128::from(start))).unwrap_or(u64::MAX),
    }
}

/// A row of a list that may be too long to print whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Row {
    /// Print item `n`.
    Item(u64),
    /// `n` items left out here.
    Gap(u64),
}

/// The rows to print for `len` items: all of them when there are few, else the first `head`,
/// a gap, and the last `tail`.
pub fn elide(len: u64, head: u64, tail: u64) -> Vec<Row> {
    if len <= head + tail + 1 {
        return (0..len).map(Row::Item).collect();
    }
    let mut rows: Vec<Row> = (0..head).map(Row::Item).collect();
    rows.push(Row::Gap(len - head - tail));
    rows.extend((len - tail..len).map(Row::Item));
    rows
}

/// Wrap `text` at `width` columns, every line but the first indented by `indent`.
pub fn wrap(text: &str, width: usize, indent: &str) -> String {
    let mut out = String::new();
    let mut column = 0;
    for word in text.split_whitespace() {
        if column > 0 && column + 1 + word.chars().count() > width {
            out.push('\n');
            out.push_str(indent);
            column = indent.len();
        } else if column > 0 {
            out.push(' ');
            column += 1;
        }
        out.push_str(word);
        column += word.chars().count();
    }
    out
}

/// Columns a text report may use when standard output is not a terminal and `COLUMNS` names
/// no width: wide enough for a table and its notes, narrow enough to read in a pager or a log.
pub const DEFAULT_WIDTH: usize = 100;

/// The columns of the output: the terminal's width when standard output is one, else
/// `COLUMNS` when it holds a number (so a pipe or a script can choose), else
/// [`DEFAULT_WIDTH`].
pub fn output_width() -> usize {
    use std::io::IsTerminal;
    let stdout = std::io::stdout();
    if stdout.is_terminal() {
        if let Some((terminal_size::Width(w), _)) = terminal_size::terminal_size_of(&stdout) {
            if w > 0 {
                return usize::from(w);
            }
        }
    }
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|&w| w > 0)
        .unwrap_or(DEFAULT_WIDTH)
}

/// Wrap `text` into a column `width` characters wide that starts `indent.len()` columns in:
/// the first line goes where the caller already is, every further line starts with `indent`.
/// Unlike [`wrap`], the width is that of the column alone, so a deep indent does not eat it.
/// A word longer than the column gets a line of its own rather than being cut.
pub fn wrap_column(text: &str, width: usize, indent: &str) -> String {
    let mut out = String::new();
    let mut column = 0;
    for word in text.split_whitespace() {
        let len = word.chars().count();
        if column > 0 && column + 1 + len > width {
            out.push('\n');
            out.push_str(indent);
            column = 0;
        } else if column > 0 {
            out.push(' ');
            column += 1;
        }
        out.push_str(word);
        column += len;
    }
    out
}

/// A count of bytes in hex, with the decimal when it helps.
pub fn bytes(n: u64) -> String {
    if n < 10 {
        format!("{n} bytes")
    } else {
        format!("{n:#x} ({n}) bytes")
    }
}

/// Warnings about a layout that was built all the same, one paragraph each, then a blank line.
pub fn warnings(out: &mut Out, warnings: &[String], style: &Style) {
    for warning in warnings {
        out.line(format!(
            "{} {}",
            style.bad("⚠ Warning:"),
            wrap(warning, 86, "           ")
        ));
    }
    if !warnings.is_empty() {
        out.blank();
    }
}

/// The explanation of a refused layout: rule, message, spec section, what the rule says and
/// why, fixes.
pub fn refusal(out: &mut Out, refusal: &Refusal, style: &Style) {
    out.line(format!(
        "{} {}",
        style.bad("✗ Refused:"),
        style.heading(wrap(refusal.summary, 84, "             "))
    ));
    out.line(format!(
        "  Why:   {}",
        wrap(&refusal.message, 88, "         ")
    ));
    out.line(format!(
        "  Rule:  {}  [{}]",
        refusal.spec,
        style.dim(refusal.rule)
    ));
    out.line(format!(
        "         {}",
        style.dim(wrap(refusal.text, 88, "         "))
    ));
    if refusal.fixes.is_empty() {
        return;
    }
    out.line("  Fixes:");
    for fix in &refusal.fixes {
        out.line(format!(
            "    • {} {}",
            style.fix(format!("{}:", fix.kind.label())),
            wrap(&fix.text, 84, "        ")
        ));
        for (n, command) in fix.commands.iter().enumerate() {
            let mut extents = String::new();
            for (i, e) in command.extents.iter().enumerate() {
                let sep = if i == 0 { "" } else { ", " };
                let _ = write!(extents, "{sep}{:#x}+{:#x}", e.addr.0, e.len);
            }
            out.line(format!(
                "        command {}: bytes {:#x}..{:#x}  {}",
                n + 1,
                command.offset,
                command.offset.saturating_add(command.len),
                wrap(&extents, 60, "                                        ")
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_show_offset_and_end() {
        let ps = PageSize::SIZE_4K;
        assert_eq!(page_bar(0, 0x1000, ps), "████████████████");
        assert_eq!(page_bar(0x800, 0x800, ps), "········████████");
        // Each cell is 256 bytes of a 4 KiB page.
        assert_eq!(page_bar(0, 0x200, ps), "██··············");
        assert_eq!(page_bar(0, 0x101, ps), "██··············");
        // A single byte still shows.
        assert_eq!(page_bar(0xfff, 1, ps), "···············█");
    }

    #[test]
    fn pages_of_an_extent() {
        let ps = PageSize::SIZE_4K;
        let e = Extent::new(0x1200, 0x1000);
        assert_eq!(page_count(e, ps), 2);
        assert_eq!(
            page_of(e, ps, 0),
            PageSlice {
                base: 0x1000,
                offset: 0x200,
                len: 0xe00
            }
        );
        assert_eq!(
            page_of(e, ps, 1),
            PageSlice {
                base: 0x2000,
                offset: 0,
                len: 0x200
            }
        );
    }

    #[test]
    fn the_last_page_of_the_address_space_is_whole() {
        let ps = PageSize::SIZE_4K;
        let e = Extent::new(0xffff_ffff_ffff_e000, 0x2000);
        assert_eq!(
            page_of(e, ps, 1),
            PageSlice {
                base: 0xffff_ffff_ffff_f000,
                offset: 0,
                len: 0x1000
            }
        );
    }

    #[test]
    fn elision_keeps_head_and_tail() {
        assert_eq!(
            elide(3, 1, 1),
            vec![Row::Item(0), Row::Item(1), Row::Item(2)]
        );
        assert_eq!(
            elide(10, 2, 1),
            vec![Row::Item(0), Row::Item(1), Row::Gap(7), Row::Item(9)]
        );
    }

    #[test]
    fn wrapping_indents_continuations() {
        assert_eq!(wrap("aa bb cc", 5, "  "), "aa bb\n  cc");
    }

    #[test]
    fn a_column_keeps_its_width_however_deep_its_indent() {
        let indent = " ".repeat(64);
        assert_eq!(
            wrap_column("aa bb cc dd", 5, &indent),
            format!("aa bb\n{indent}cc dd")
        );
        // A word wider than the column stands alone; nothing is cut or lost.
        assert_eq!(
            wrap_column("a verylongword b", 4, "  "),
            "a\n  verylongword\n  b"
        );
    }
}
