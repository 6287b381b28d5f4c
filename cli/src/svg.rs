//! The layout as a picture: an SVG document with the command's data pointer on the left, the
//! descriptor memory (PRP list pages or SGL segments) in the middle, the data in memory on the
//! right, and arrows for every pointer.
//!
//! Every drawn thing is a `<g>` with a `class`, an `id` and `data-*` attributes carrying the
//! values it shows, so a program (or a test) can check the picture against the layout:
//!
//! | class | id | data attributes |
//! |---|---|---|
//! | `pointer` | `prp1`, `prp2`, `sgl1` | `data-value` (PRP) or `data-kind`, `data-addr`, `data-len` (SGL1) |
//! | `list-page` | `list-K` | `data-addr`, `data-slots` |
//! | `list-slot` | `list-K-slot-S` | `data-slot`, `data-value`, `data-role` (`data` or `next_list`) |
//! | `page` | `page-N` (N = position in the transfer) | `data-addr` (page base), `data-offset`, `data-len`, `data-extent` |
//! | `extent` | `extent-I` | `data-addr`, `data-len` |
//! | `segment` | `segment-K` | `data-addr`, `data-capacity`, `data-last` |
//! | `descriptor` | `segment-K-desc-S` | `data-kind`, `data-addr`, `data-len` |
//! | `run` | `run-R` (R = data descriptor in transfer order) | `data-kind`, `data-addr`, `data-len`, `data-pages` |
//! | `page-boundary` (a line in a run) | | `data-addr` |
//! | `elided` | | `data-count`, `data-what`: how many rows of what (`pages`, `entries`, `list pages`, `descriptors`, `runs`) a long list leaves out |
//! | `arrow` (a path) | | `data-from`, `data-to`: the ids it joins |

use std::fmt::Write;

use nvme_dma::PageSize;

use crate::prp_view::{PrpView, SlotRole};
use crate::sgl_view::{DescriptorView, SglView};
use crate::text::{elide, Row};

const ROW: f64 = 20.0;
const MARGIN: f64 = 20.0;
const WIDTH: f64 = 1100.0;
const COMMAND_X: f64 = MARGIN;
const COMMAND_W: f64 = 220.0;
const MIDDLE_X: f64 = 300.0;
const MIDDLE_W: f64 = 280.0;
const DATA_X: f64 = 650.0;
const BAR_W: f64 = 200.0;
/// Rows of a long list drawn before and after the elided middle.
const HEAD: u64 = 16;
const TAIL: u64 = 8;
/// Most page boundaries drawn inside one SGL run.
const MAX_TICKS: u64 = 64;

const STYLE: &str = "
  text { font-family: monospace; font-size: 12px; fill: #1d2330; dominant-baseline: middle; }
  .title { font-size: 14px; font-weight: bold; }
  .header rect { fill: #dde4f0; stroke: #4a5a78; }
  .pointer rect, .list-slot rect, .descriptor rect { fill: #ffffff; stroke: #4a5a78; }
  .list-slot[data-role='next_list'] rect, .descriptor[data-kind='segment'] rect,
  .descriptor[data-kind='last_segment'] rect { fill: #fff4d6; }
  .page rect.frame, .run rect.frame { fill: #f3f5f9; stroke: #8a96ad; }
  .page rect.used, .run rect.used { fill: #5b8def; }
  .run[data-kind='bit_bucket'] rect.used { fill: url(#hatch); }
  .extent rect { fill: none; stroke: #2f9e6a; stroke-width: 2; }
  .page-boundary { stroke: #1d2330; stroke-width: 1; }
  .elided text { fill: #6b7280; font-style: italic; }
  path.arrow { fill: none; stroke: #c2410c; stroke-width: 1.2; marker-end: url(#arrowhead); }
  path.arrow.chain { stroke: #a16207; stroke-dasharray: 4 3; }
";

/// An SVG document being written.
pub struct Svg {
    body: String,
    height: f64,
}

/// Escape text for XML content and attribute values.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

fn hex(value: u64) -> String {
    format!("{value:#x}")
}

impl Svg {
    /// An empty document.
    pub fn new() -> Self {
        Svg {
            body: String::new(),
            height: MARGIN,
        }
    }

    fn open(&mut self, class: &str, id: Option<&str>, data: &[(&str, String)]) {
        let _ = write!(self.body, "<g class=\"{class}\"");
        if let Some(id) = id {
            let _ = write!(self.body, " id=\"{}\"", escape(id));
        }
        for (name, value) in data {
            let _ = write!(self.body, " data-{name}=\"{}\"", escape(value));
        }
        self.body.push_str(">\n");
    }

    fn close(&mut self) {
        self.body.push_str("</g>\n");
    }

    fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, class: &str) {
        let _ = writeln!(
            self.body,
            "<rect class=\"{class}\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\"/>"
        );
    }

    fn text(&mut self, x: f64, y: f64, class: &str, text: &str) {
        let _ = writeln!(
            self.body,
            "<text class=\"{class}\" x=\"{x:.1}\" y=\"{y:.1}\">{}</text>",
            escape(text)
        );
    }

    /// A boxed row of text: the shape of every entry, slot and descriptor.
    fn cell(&mut self, x: f64, y: f64, w: f64, text: &str) {
        self.rect(x, y, w, ROW, "cell");
        self.text(x + 6.0, y + ROW / 2.0, "label", text);
    }

    fn elided(&mut self, x: f64, y: f64, count: u64, what: &str) {
        self.open(
            "elided",
            None,
            &[("count", count.to_string()), ("what", what.to_string())],
        );
        self.text(
            x + 6.0,
            y + ROW / 2.0,
            "label",
            &format!("… {count} {what} …"),
        );
        self.close();
    }

    fn arrow(&mut self, from: &str, to: &str, start: (f64, f64), end: (f64, f64), chain: bool) {
        let mid = (start.0 + end.0) / 2.0;
        let d = format!(
            "M {:.1} {:.1} C {mid:.1} {:.1}, {mid:.1} {:.1}, {:.1} {:.1}",
            start.0, start.1, start.1, end.1, end.0, end.1
        );
        self.path(from, to, &d, chain);
    }

    /// An arrow from a row's left edge to a box below it in the same column, looping out to
    /// the left: how a chain pointer reaches the next list page or segment.
    fn chain_arrow(&mut self, from: &str, to: &str, x: f64, from_y: f64, to_y: f64) {
        let out = x - 36.0;
        let d = format!(
            "M {x:.1} {from_y:.1} C {out:.1} {from_y:.1}, {out:.1} {to_y:.1}, {x:.1} {to_y:.1}"
        );
        self.path(from, to, &d, true);
    }

    /// An arrow that runs above the middle column, at height `over`, so it crosses nothing.
    fn arrow_over(&mut self, from: &str, to: &str, start: (f64, f64), end: (f64, f64), over: f64) {
        let (a, b) = (start.0 + 24.0, end.0 - 24.0);
        let d = format!(
            "M {:.1} {:.1} C {a:.1} {:.1}, {a:.1} {over:.1}, {:.1} {over:.1} L {:.1} {over:.1} \
             C {b:.1} {over:.1}, {b:.1} {:.1}, {:.1} {:.1}",
            start.0,
            start.1,
            start.1,
            start.0 + 48.0,
            end.0 - 48.0,
            end.1,
            end.0,
            end.1
        );
        self.path(from, to, &d, false);
    }

    fn path(&mut self, from: &str, to: &str, d: &str, chain: bool) {
        let class = if chain { "arrow chain" } else { "arrow" };
        let _ = writeln!(
            self.body,
            "<path class=\"{class}\" data-from=\"{}\" data-to=\"{}\" d=\"{d}\"/>",
            escape(from),
            escape(to)
        );
    }

    /// The finished document.
    pub fn finish(self, title: &str) -> String {
        let height = self.height + MARGIN;
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
             <svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height:.0}\" \
             viewBox=\"0 0 {WIDTH} {height:.0}\">\n\
             <title>{}</title>\n\
             <defs>\n\
             <marker id=\"arrowhead\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" \
             markerHeight=\"7\" orient=\"auto\"><path d=\"M 0 0 L 10 5 L 0 10 z\" fill=\"#c2410c\"/></marker>\n\
             <pattern id=\"hatch\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" \
             patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"#e5e7eb\"/>\
             <line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#9ca3af\" stroke-width=\"2\"/></pattern>\n\
             <style>{STYLE}</style>\n\
             </defs>\n\
             <rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n\
             {}</svg>\n",
            escape(title),
            self.body
        )
    }

    /// Draw a PRP layout below what is already drawn.
    pub fn prp(&mut self, view: &PrpView, extents: &[nvme_dma::Extent], title: &str) {
        let ps = PageSize::new(view.page_size).unwrap_or(PageSize::SIZE_4K);
        let top = self.height;
        self.open("panel", None, &[("layout", "prp".into())]);
        self.text(MARGIN, top + ROW / 2.0, "title", title);
        let y0 = top + ROW * 2.0;

        // The command: PRP1 and PRP2.
        self.header(COMMAND_X, y0, COMMAND_W, "SQE DPTR (PSDT 00b)");
        let pointer_y = |n: f64| y0 + ROW * (1.0 + n);
        for (n, (id, value)) in [("prp1", view.prp1.0), ("prp2", view.prp2.0)]
            .into_iter()
            .enumerate()
        {
            self.open("pointer", Some(id), &[("value", hex(value))]);
            self.cell(
                COMMAND_X,
                pointer_y(n as f64),
                COMMAND_W,
                &format!("{} {}", id.to_uppercase(), hex(value)),
            );
            self.close();
        }

        // The data pages, in transfer order.
        let mut page_rows = Vec::new();
        let mut y = y0;
        self.header(DATA_X, y, BAR_W, &format!("memory pages ({ps})"));
        y += ROW;
        for row in elide(view.data_pages.len() as u64, HEAD * 2, TAIL * 2) {
            match row {
                Row::Gap(n) => self.elided(DATA_X, y, n, "pages"),
                Row::Item(i) => {
                    let page = &view.data_pages[i as usize];
                    self.open(
                        "page",
                        Some(&format!("page-{i}")),
                        &[
                            ("addr", hex(page.page.0)),
                            ("offset", page.offset.to_string()),
                            ("len", page.len.to_string()),
                            ("extent", page.extent.to_string()),
                        ],
                    );
                    self.rect(DATA_X, y, BAR_W, ROW, "frame");
                    let scale = BAR_W / view.page_size as f64;
                    self.rect(
                        DATA_X + page.offset as f64 * scale,
                        y + 3.0,
                        (page.len as f64 * scale).max(1.0),
                        ROW - 6.0,
                        "used",
                    );
                    self.text(
                        DATA_X + BAR_W + 8.0,
                        y + ROW / 2.0,
                        "label",
                        &format!("{} +{}", hex(page.page.0), hex(page.offset)),
                    );
                    self.close();
                    page_rows.push((i, page.extent, y));
                }
            }
            y += ROW;
        }
        let pages_bottom = y;
        self.extent_brackets(extents, &page_rows);

        // The list pages, one below the other.
        let mut y = y0;
        let mut slot_rows = Vec::new();
        let mut list_tops: Vec<(usize, f64)> = Vec::new();
        for row in elide(view.list_pages.len() as u64, 4, 2) {
            let page = match row {
                Row::Gap(n) => {
                    self.elided(MIDDLE_X, y, n, "list pages");
                    y += ROW * 1.5;
                    continue;
                }
                Row::Item(k) => &view.list_pages[k as usize],
            };
            let id = format!("list-{}", page.index);
            self.open(
                "list-page",
                Some(&id),
                &[
                    ("addr", hex(page.addr.0)),
                    ("slots", page.slots.to_string()),
                ],
            );
            self.header(
                MIDDLE_X,
                y,
                MIDDLE_W,
                &format!("PRP list page {} @ {}", page.index, hex(page.addr.0)),
            );
            list_tops.push((page.index, y));
            y += ROW;
            for row in elide(page.entries.len() as u64, HEAD, TAIL) {
                match row {
                    Row::Gap(n) => self.elided(MIDDLE_X, y, n, "entries"),
                    Row::Item(i) => {
                        let slot = &page.entries[i as usize];
                        let role = match slot.role {
                            SlotRole::Data => "data",
                            SlotRole::NextList => "next_list",
                        };
                        self.open(
                            "list-slot",
                            Some(&format!("{id}-slot-{}", slot.slot)),
                            &[
                                ("slot", slot.slot.to_string()),
                                ("value", hex(slot.value.0)),
                                ("role", role.into()),
                            ],
                        );
                        self.cell(
                            MIDDLE_X,
                            y,
                            MIDDLE_W,
                            &format!("[{}] {}", slot.slot, hex(slot.value.0)),
                        );
                        self.close();
                        slot_rows.push((page.index, slot.slot, slot.role, y));
                    }
                }
                y += ROW;
            }
            self.close();
            y += ROW / 2.0;
        }
        let lists_bottom = y;
        // Data page 0 is PRP1's; the list's data entries name pages 1, 2, ... in order.
        let first_data_page: Vec<u64> = view
            .list_pages
            .iter()
            .scan(1u64, |next, page| {
                let first = *next;
                *next += page
                    .entries
                    .iter()
                    .filter(|s| s.role == SlotRole::Data)
                    .count() as u64;
                Some(first)
            })
            .collect();

        // Arrows: every pointer to what it names.
        let page_y = |n: u64| {
            page_rows
                .iter()
                .find(|(i, _, _)| *i == n)
                .map(|&(_, _, y)| y + ROW / 2.0)
        };
        if let Some(py) = page_y(0) {
            let start = (COMMAND_X + COMMAND_W, pointer_y(0.0) + ROW / 2.0);
            if view.list_pages.is_empty() {
                self.arrow("prp1", "page-0", start, (DATA_X, py), false);
            } else {
                self.arrow_over("prp1", "page-0", start, (DATA_X, py), y0 - ROW / 2.0);
            }
        }
        let prp2_start = (COMMAND_X + COMMAND_W, pointer_y(1.0) + ROW / 2.0);
        match (view.list_pages.first(), page_y(1)) {
            (Some(_), _) => self.arrow(
                "prp2",
                "list-0",
                prp2_start,
                (MIDDLE_X, y0 + ROW / 2.0),
                false,
            ),
            (None, Some(py)) if view.pages == 2 => {
                self.arrow("prp2", "page-1", prp2_start, (DATA_X, py), false)
            }
            _ => {}
        }
        for &(list, slot, role, y) in &slot_rows {
            let from = format!("list-{list}-slot-{slot}");
            let start = (MIDDLE_X + MIDDLE_W, y + ROW / 2.0);
            match role {
                SlotRole::NextList => {
                    let next = list_tops.iter().find(|&&(k, _)| k == list + 1);
                    if let Some(&(_, top)) = next {
                        let to = format!("list-{}", list + 1);
                        self.chain_arrow(&from, &to, MIDDLE_X, y + ROW / 2.0, top + ROW / 2.0);
                    }
                }
                SlotRole::Data => {
                    let n = first_data_page.get(list).copied().unwrap_or(0) + slot;
                    if let Some(py) = page_y(n) {
                        self.arrow(&from, &format!("page-{n}"), start, (DATA_X, py), false);
                    }
                }
            }
        }
        self.close();
        self.height = pages_bottom.max(lists_bottom).max(pointer_y(2.0)) + ROW;
    }

    /// Brackets beside the pages, one per extent, spanning the rows of its pages.
    fn extent_brackets(&mut self, extents: &[nvme_dma::Extent], rows: &[(u64, usize, f64)]) {
        let x = DATA_X + BAR_W + 150.0;
        for (index, e) in extents.iter().enumerate() {
            let ys: Vec<f64> = rows
                .iter()
                .filter(|&&(_, extent, _)| extent == index)
                .map(|&(_, _, y)| y)
                .collect();
            let (Some(first), Some(last)) = (ys.first(), ys.last()) else {
                continue;
            };
            self.open(
                "extent",
                Some(&format!("extent-{index}")),
                &[("addr", hex(e.addr)), ("len", e.len.to_string())],
            );
            self.rect(x, first + 2.0, 8.0, last - first + ROW - 4.0, "bracket");
            self.text(
                x + 14.0,
                first + ROW / 2.0,
                "label",
                &format!("extent {index}"),
            );
            self.close();
        }
    }

    fn header(&mut self, x: f64, y: f64, w: f64, text: &str) {
        self.open("header", None, &[]);
        self.cell(x, y, w, text);
        self.close();
    }

    /// Draw an SGL layout below what is already drawn.
    pub fn sgl(&mut self, view: &SglView, page_size: PageSize, title: &str) {
        let top = self.height;
        self.open("panel", None, &[("layout", "sgl".into())]);
        self.text(MARGIN, top + ROW / 2.0, "title", title);
        let y0 = top + ROW * 2.0;

        self.header(COMMAND_X, y0, COMMAND_W, "SQE DPTR: SGL1 (PSDT 01b)");
        let sgl1_y = y0 + ROW;
        self.open("pointer", Some("sgl1"), &descriptor_data(&view.sgl1));
        self.cell(COMMAND_X, sgl1_y, COMMAND_W, &short(&view.sgl1));
        self.close();

        // The segments, one below the other.
        let mut y = y0;
        let mut segment_tops = Vec::new();
        let mut descriptor_ys: Vec<(String, f64)> = Vec::new();
        let mut pointer_rows = Vec::new();
        for segment in &view.segments {
            let id = format!("segment-{}", segment.index);
            self.open(
                "segment",
                Some(&id),
                &[
                    ("addr", hex(segment.addr.0)),
                    ("capacity", segment.capacity.to_string()),
                    ("last", segment.last.to_string()),
                ],
            );
            let last = if segment.last { "last " } else { "" };
            self.header(
                MIDDLE_X,
                y,
                MIDDLE_W,
                &format!("{last}segment {} @ {}", segment.index, hex(segment.addr.0)),
            );
            segment_tops.push(y);
            y += ROW;
            for row in elide(segment.descriptors.len() as u64, HEAD, TAIL) {
                match row {
                    Row::Gap(n) => self.elided(MIDDLE_X, y, n, "descriptors"),
                    Row::Item(i) => {
                        let slot = &segment.descriptors[i as usize];
                        let slot_id = format!("{id}-desc-{}", slot.slot);
                        self.open(
                            "descriptor",
                            Some(&slot_id),
                            &descriptor_data(&slot.descriptor),
                        );
                        let text = format!("[{}] {}", slot.slot, short(&slot.descriptor));
                        self.cell(MIDDLE_X, y, MIDDLE_W, &text);
                        self.close();
                        if slot.descriptor.is_pointer() {
                            pointer_rows.push((slot_id.clone(), segment.index + 1, y));
                        }
                        descriptor_ys.push((slot_id, y));
                    }
                }
                y += ROW;
            }
            self.close();
            y += ROW / 2.0;
        }
        let segments_bottom = y;

        // The data descriptors in transfer order, from SGL1 or from the segments, as runs.
        let data: Vec<(String, &DescriptorView)> = if view.inline {
            vec![("sgl1".to_string(), &view.sgl1)]
        } else {
            view.segments
                .iter()
                .flat_map(|s| {
                    s.descriptors
                        .iter()
                        .filter(|d| !d.descriptor.is_pointer())
                        .map(move |d| {
                            (
                                format!("segment-{}-desc-{}", s.index, d.slot),
                                &d.descriptor,
                            )
                        })
                })
                .collect()
        };
        let mut runs = Vec::new();
        let mut y = y0;
        self.header(
            DATA_X,
            y,
            BAR_W,
            &format!("data ({page_size} pages marked)"),
        );
        y += ROW;
        for row in elide(data.len() as u64, HEAD * 2, TAIL * 2) {
            match row {
                Row::Gap(n) => self.elided(DATA_X, y, n, "runs"),
                Row::Item(r) => {
                    let (from, d) = &data[r as usize];
                    let id = format!("run-{r}");
                    self.run(&id, d, page_size, y);
                    runs.push((from.as_str(), id, y));
                }
            }
            y += ROW;
        }
        let data_bottom = y;

        // Arrows.
        let sgl1_start = (COMMAND_X + COMMAND_W, sgl1_y + ROW / 2.0);
        if let Some(&top) = segment_tops.first() {
            self.arrow(
                "sgl1",
                "segment-0",
                sgl1_start,
                (MIDDLE_X, top + ROW / 2.0),
                true,
            );
        }
        for (from, next, y) in pointer_rows {
            if let Some(&top) = segment_tops.get(next) {
                let to = format!("segment-{next}");
                self.chain_arrow(&from, &to, MIDDLE_X, y + ROW / 2.0, top + ROW / 2.0);
            }
        }
        for (from, to, run_y) in runs {
            let end = (DATA_X, run_y + ROW / 2.0);
            let start = if from == "sgl1" {
                Some(sgl1_start)
            } else {
                descriptor_ys
                    .iter()
                    .find(|(id, _)| id == from)
                    .map(|&(_, y)| (MIDDLE_X + MIDDLE_W, y + ROW / 2.0))
            };
            if let Some(start) = start {
                self.arrow(from, &to, start, end, false);
            }
        }
        self.close();
        self.height = data_bottom.max(segments_bottom).max(sgl1_y + ROW) + ROW;
    }

    /// One data descriptor's bytes as a bar with the memory page boundaries it crosses.
    fn run(&mut self, id: &str, d: &DescriptorView, ps: PageSize, y: f64) {
        let addr = d.addr.map_or(0, |a| a.0);
        let mut data = descriptor_data(d);
        data.push(("pages", d.pages.unwrap_or(0).to_string()));
        self.open("run", Some(id), &data);
        self.rect(DATA_X, y, BAR_W, ROW, "frame");
        self.rect(DATA_X, y + 3.0, BAR_W, ROW - 6.0, "used");
        if d.kind == "data_block" && d.len > 0 {
            let scale = BAR_W / d.len as f64;
            let first = ps.page_base(addr).saturating_add(ps.bytes());
            let end = addr.saturating_add(d.len);
            let crossings = d.pages.unwrap_or(1).saturating_sub(1);
            for k in 0..crossings.min(MAX_TICKS) {
                let boundary = first.saturating_add(k.saturating_mul(ps.bytes()));
                if boundary >= end {
                    break;
                }
                let x = DATA_X + (boundary - addr) as f64 * scale;
                let _ = writeln!(
                    self.body,
                    "<line class=\"page-boundary\" data-addr=\"{}\" x1=\"{x:.1}\" y1=\"{:.1}\" x2=\"{x:.1}\" y2=\"{:.1}\"/>",
                    hex(boundary),
                    y,
                    y + ROW
                );
            }
        }
        let label = match d.kind {
            "bit_bucket" => format!("discarded {}", hex(d.len)),
            _ => format!("{}+{}", hex(addr), hex(d.len)),
        };
        self.text(DATA_X + BAR_W + 8.0, y + ROW / 2.0, "label", &label);
        self.close();
    }
}

/// The data attributes of a descriptor.
fn descriptor_data(d: &DescriptorView) -> Vec<(&'static str, String)> {
    let mut data = vec![("kind", d.kind.to_string()), ("len", d.len.to_string())];
    if let Some(addr) = d.addr {
        data.push(("addr", hex(addr.0)));
    }
    data
}

/// A descriptor in a few words.
fn short(d: &DescriptorView) -> String {
    let addr = d.addr.map_or(0, |a| a.0);
    match d.kind {
        "data_block" => format!("Data {}+{}", hex(addr), hex(d.len)),
        "bit_bucket" => format!("Bit Bucket +{}", hex(d.len)),
        "segment" => format!("Segment {} ×{}", hex(addr), d.points_to.unwrap_or(0)),
        "last_segment" => format!("Last Seg {} ×{}", hex(addr), d.points_to.unwrap_or(0)),
        other => format!("{other} {}", hex(d.len)),
    }
}
