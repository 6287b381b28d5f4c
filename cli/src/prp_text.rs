//! The PRP layout as a text diagram: the scatter list cut at page boundaries, PRP1 and PRP2,
//! the list pages slot by slot with their chaining, and the walker's check.

use nvme_dma::{Extent, PageSize};

use crate::explain::Refusal;
use crate::prp_view::{DataPage, EntryRef, Placement, Prp2Role, PrpRequest, PrpView, SlotRole};
use crate::style::Style;
use crate::text::{self, elide, page_bar, page_count, page_of, wrap, Out, Row};

/// A built layout.
pub fn layout(req: &PrpRequest, view: &PrpView, style: &Style) -> String {
    let ps = req.page_size;
    let mut out = Out::default();
    out.line(style.heading(format!(
        "PRP layout: {} extent(s), {}, {ps} memory pages, {} page(s) touched",
        req.extents.len(),
        text::bytes(view.length),
        view.pages
    )));
    out.blank();
    scatter_list(
        &mut out,
        &req.extents,
        ps,
        Some(&view.data_pages),
        None,
        style,
    );
    out.blank();
    out.line(style.heading("Command: DPTR (SQE bytes 39:24), PSDT 00b = PRPs"));
    let w = addr_width(
        req.extents
            .iter()
            .filter_map(|e| e.end())
            .chain([view.prp2.0])
            .chain(view.list_pages.iter().map(|p| p.addr.0 + p.slots * 8)),
    );
    out.line(format!(
        "  PRP1  {}  first byte of the transfer, offset {:#x} in page {:#x}",
        style.addr(format!("{:<w$}", format!("{:#x}", view.prp1.0))),
        ps.offset_of(view.prp1.0),
        ps.page_base(view.prp1.0)
    ));
    let prp2 = match view.prp2_role {
        Prp2Role::Unused => "unused: the transfer stays in PRP1's page".to_string(),
        Prp2Role::Data => "the second and last data page (offset 0)".to_string(),
        Prp2Role::List => format!(
            "PRP list pointer: {} entries in {} list page(s), {:#x} bytes of list memory; qword \
             aligned, offset {:#x} in its page",
            view.list_entries,
            view.list_pages.len(),
            view.list_bytes,
            ps.offset_of(view.prp2.0)
        ),
    };
    out.line(format!(
        "  PRP2  {}  {prp2}",
        style.addr(format!("{:<w$}", format!("{:#x}", view.prp2.0)))
    ));
    // Data page 0 is PRP1's; the list's data entries name pages 1, 2, ... in order.
    let mut first_data_page = 1;
    for row in elide(view.list_pages.len() as u64, 3, 2) {
        let page = match row {
            Row::Gap(n) => {
                out.blank();
                out.line(style.dim(format!("… {n} more list pages …")));
                first_data_page += n * (ps.entries_per_page() - 1);
                continue;
            }
            Row::Item(k) => &view.list_pages[k as usize],
        };
        out.blank();
        let room = if page.slots == page.page_slots {
            format!("{} slot(s) to the end of its memory page", page.slots)
        } else {
            format!(
                "a buffer of {} slot(s) ({} to the end of its memory page)",
                page.slots, page.page_slots
            )
        };
        out.line(style.heading(format!(
            "PRP list page {} at {:#x}: {room}, {} used",
            page.index,
            page.addr.0,
            page.entries.len()
        )));
        for row in elide(page.entries.len() as u64, 12, 6) {
            let slot = match row {
                Row::Gap(n) => {
                    out.line(style.dim(format!("  … {n} more data entries …")));
                    continue;
                }
                Row::Item(i) => &page.entries[i as usize],
            };
            let what = match slot.role {
                SlotRole::Data => format!("data page {}", first_data_page + slot.slot),
                SlotRole::NextList => style.fix(format!(
                    "next list page {} (last slot of a full page: the list chains)",
                    page.index + 1
                )),
            };
            out.line(format!(
                "  slot {:<4} at {:<w$}  → {}  {what}",
                slot.slot,
                format!("{:#x}", slot.addr.0),
                style.addr(format!("{:<w$}", format!("{:#x}", slot.value.0)))
            ));
        }
        first_data_page += page
            .entries
            .iter()
            .filter(|slot| slot.role == SlotRole::Data)
            .count() as u64;
    }
    if view.list_placement == Placement::Auto {
        out.line(style.dim(
            "  (list memory placed by the tool above the data; choose it with --list ADDR[+BYTES])",
        ));
    }
    out.blank();
    text::warnings(&mut out, &view.warnings, style);
    walk_check(&mut out, &view.walk, "the extents", style);
    out.0
}

/// Columns for the widest of these addresses in hex.
pub fn addr_width(addrs: impl Iterator<Item = u64>) -> usize {
    addrs.map(|a| format!("{a:#x}").len()).max().unwrap_or(3)
}

/// A refused layout: the scatter list with the extent that broke the rule marked, then why.
pub fn refused(req: &PrpRequest, refusal: &Refusal, style: &Style) -> String {
    let mut out = Out::default();
    out.line(style.heading(format!(
        "PRP layout: {} extent(s), {} memory pages",
        req.extents.len(),
        req.page_size
    )));
    out.blank();
    scatter_list(
        &mut out,
        &req.extents,
        req.page_size,
        None,
        refusal.extent,
        style,
    );
    out.blank();
    text::refusal(&mut out, refusal, style);
    out.0
}

/// The scatter list, each extent cut into its memory pages, each page drawn as a bar. With a
/// built layout, each page names the PRP entry that points at it.
pub fn scatter_list(
    out: &mut Out,
    extents: &[Extent],
    ps: PageSize,
    pages: Option<&[DataPage]>,
    broken: Option<usize>,
    style: &Style,
) {
    out.line(style.heading("Scatter list, cut at memory page boundaries"));
    let w = addr_width(extents.iter().filter_map(|e| e.end()));
    let ow = addr_width([ps.bytes()].into_iter());
    let mut position = 0u64;
    for (index, &e) in extents.iter().enumerate() {
        let mark = if broken == Some(index) {
            format!("  {}", style.bad("✗ breaks the rule"))
        } else {
            String::new()
        };
        let count = if e.len == 0 { 0 } else { page_count(e, ps) };
        out.line(format!(
            "  extent {index:<3} {}  {}{mark}",
            style.addr(format!("{:<w$}", e.to_string())),
            style.dim(match count {
                0 => "empty: describes nothing".to_string(),
                1 => "1 page".to_string(),
                n => format!("{n} pages"),
            })
        ));
        for row in elide(count, 3, 2) {
            let k = match row {
                Row::Gap(n) => {
                    out.line(style.dim(format!("      … {n} whole pages …")));
                    continue;
                }
                Row::Item(k) => k,
            };
            let page = page_of(e, ps, k);
            let entry = pages
                .and_then(|p| p.get((position + k) as usize))
                .map(|d| format!("  ◀ {}", entry_name(d.entry)))
                .unwrap_or_default();
            out.line(format!(
                "      page {:<w$}  [{}]  bytes {:>ow$}..{:<ow$}  {:>ow$}{entry}",
                format!("{:#x}", page.base),
                page_bar(page.offset, page.len, ps),
                format!("{:#x}", page.offset),
                format!("{:#x}", page.offset + page.len),
                format!("{:#x}", page.len),
            ));
        }
        position += count;
    }
}

fn entry_name(entry: EntryRef) -> String {
    match entry {
        EntryRef::Prp1 => "PRP1".into(),
        EntryRef::Prp2 => "PRP2".into(),
        EntryRef::List { page, slot } => format!("list page {page} slot {slot}"),
    }
}

/// The walker's verdict.
pub fn walk_check(out: &mut Out, walk: &crate::prp_view::WalkCheck, what: &str, style: &Style) {
    match (&walk.error, walk.matches_input) {
        (None, true) => out.line(format!(
            "{} {} reads the layout back as {} segment(s), {}: {what} {}",
            style.heading("Check:"),
            walk.walker,
            walk.segments.len(),
            text::bytes(walk.bytes),
            style.good("✓")
        )),
        (None, false) => out.line(format!(
            "{} {} reads back {} segment(s) that differ from {what} {} (does descriptor memory \
             overlap itself?)",
            style.heading("Check:"),
            walk.walker,
            walk.segments.len(),
            style.bad("✗")
        )),
        (Some(e), _) => out.line(format!(
            "{} {} refuses the layout {}: {}{}",
            style.heading("Check:"),
            walk.walker,
            style.bad("✗"),
            wrap(e, 80, "  "),
            walk.error_rule
                .map(|id| format!("  [{}]", style.dim(id)))
                .unwrap_or_default()
        )),
    }
}
