//! The SGL layout as a text diagram: the pieces, SGL1, and each segment descriptor by
//! descriptor with the chaining between them, then the walker's check.

use nvme_dma::sgl::Capability;
use nvme_dma::spec::SglSupport;
use nvme_dma::{PageSize, Piece};

use crate::explain::Refusal;
use crate::prp_text::{addr_width, walk_check};
use crate::prp_view::Placement;
use crate::sgl_view::{direction_name, pages_touched, DescriptorView, SglRequest, SglView};
use crate::style::Style;
use crate::text::{self, elide, Out, Row};

/// The controller's capabilities in words.
pub fn caps_summary(req: &SglRequest) -> String {
    let caps = &req.caps;
    let mut parts = vec![match caps.sgls().support() {
        SglSupport::None => "no SGL support".to_string(),
        SglSupport::ByteAligned => "byte-aligned SGLs".to_string(),
        SglSupport::DwordAligned => "dword-aligned, dword-granular SGLs".to_string(),
        SglSupport::Reserved => "reserved SGL support field (11b)".to_string(),
    }];
    for (capability, name) in [
        (Capability::BitBucket, "bit buckets"),
        (Capability::Lldts, "LLDTS"),
        (Capability::Keyed, "keyed data blocks"),
        (Capability::MetadataSgl, "MSDS"),
    ] {
        if caps.has(capability) {
            parts.push(name.to_string());
        }
    }
    if let Some(sdt) = caps.sdt() {
        parts.push(format!("SDT {sdt}"));
    }
    if let Some(msdbd) = caps.msdbd() {
        parts.push(format!("MSDBD {msdbd}"));
    }
    format!("SGLS {:#x}: {}", caps.sgls().bits(), parts.join(", "))
}

/// A built layout.
pub fn layout(req: &SglRequest, view: &SglView, style: &Style) -> String {
    let ps = req.page_size;
    let mut out = Out::default();
    out.line(style.heading(format!(
        "SGL layout: a {}, {} piece(s), {}; {}",
        direction_name(req.direction),
        req.pieces.len(),
        text::bytes(view.length),
        caps_summary(req)
    )));
    out.blank();
    pieces(&mut out, &req.pieces, ps, None, style);
    out.blank();
    out.line(style.heading("Command: DPTR (SQE bytes 39:24) holds SGL1, PSDT 01b = SGL for data"));
    out.line(format!("  SGL1  {}", descriptor(&view.sgl1, ps, 0, style)));
    if view.inline {
        out.line(
            style.dim(
                "        one descriptor describes the whole transfer: no segment memory at all",
            ),
        );
    }
    let w = addr_width(view.segments.iter().map(|s| s.addr.0 + s.capacity * 16));
    for segment in &view.segments {
        out.blank();
        let last = if segment.last {
            "the last segment: data descriptors only"
        } else {
            "not the last: its final descriptor points onward"
        };
        out.line(style.heading(format!(
            "Segment {} at {:#x}: {} descriptor slot(s), {} used; {last}",
            segment.index,
            segment.addr.0,
            segment.capacity,
            segment.descriptors.len()
        )));
        for row in elide(segment.descriptors.len() as u64, 12, 6) {
            let slot = match row {
                Row::Gap(n) => {
                    out.line(style.dim(format!("  … {n} more descriptors …")));
                    continue;
                }
                Row::Item(i) => &segment.descriptors[i as usize],
            };
            let slot_name = format!("[{}]", slot.slot);
            out.line(format!(
                "  {slot_name:<5} at {:<w$}  {}",
                format!("{:#x}", slot.addr.0),
                descriptor(&slot.descriptor, ps, segment.index + 1, style)
            ));
        }
    }
    if view.segment_placement == Placement::Auto {
        out.line(style.dim(
            "  (segments placed by the tool above the data; choose them with --segment ADDR[+BYTES])",
        ));
    }
    if view.exceeds_sdt {
        out.line(style.fix(
            "  Note: more descriptors than the controller's SDT recommends: legal, but it may be slow",
        ));
    }
    out.blank();
    text::warnings(&mut out, &view.warnings, style);
    walk_check(&mut out, &view.walk, "the pieces", style);
    out.0
}

/// One descriptor on one line; a segment pointer names segment `next`.
fn descriptor(d: &DescriptorView, ps: PageSize, next: usize, style: &Style) -> String {
    let addr = d.addr.map(|a| a.0).unwrap_or(0);
    match d.kind {
        "data_block" => {
            let pages = pages_touched(addr, d.len, ps);
            let boundary = if pages > 1 {
                format!(
                    ", crosses {} page boundar{} (first at {:#x})",
                    pages - 1,
                    if pages == 2 { "y" } else { "ies" },
                    ps.page_base(addr) + ps.bytes()
                )
            } else {
                String::new()
            };
            format!(
                "Data Block    {}  {} page(s){boundary}",
                style.addr(format!("{addr:#x}+{:#x}", d.len)),
                pages
            )
        }
        "bit_bucket" => format!(
            "Bit Bucket    {}  discarded by the controller",
            style.addr(format!("+{:#x}", d.len))
        ),
        "segment" | "last_segment" => format!(
            "{}  {}  {} descriptor(s) ({} bytes)  → {}",
            if d.kind == "segment" {
                "Segment     "
            } else {
                "Last Segment"
            },
            style.addr(format!("{addr:#x}")),
            d.points_to.unwrap_or(0),
            d.len,
            style.fix(if d.kind == "segment" {
                format!("segment {next} (more follow)")
            } else {
                format!("segment {next} (the last)")
            })
        ),
        other => format!("{other} {addr:#x}+{:#x}", d.len),
    }
}

/// A refused layout: the pieces with the one that broke the rule marked, then why.
pub fn refused(req: &SglRequest, refusal: &Refusal, style: &Style) -> String {
    let mut out = Out::default();
    out.line(style.heading(format!(
        "SGL layout: a {}, {} piece(s); {}",
        direction_name(req.direction),
        req.pieces.len(),
        caps_summary(req)
    )));
    out.blank();
    pieces(&mut out, &req.pieces, req.page_size, refusal.extent, style);
    out.blank();
    text::refusal(&mut out, refusal, style);
    out.0
}

/// The pieces in transfer order, with the pages each data piece touches.
fn pieces(out: &mut Out, pieces: &[Piece], ps: PageSize, broken: Option<usize>, style: &Style) {
    out.line(style.heading("Pieces, in transfer order"));
    // Columns wide enough for the widest `ADDR+LEN`.
    let w = pieces
        .iter()
        .map(|p| match *p {
            Piece::Data(e) => e.to_string().len(),
            other => other.to_string().len(),
        })
        .max()
        .unwrap_or(0);
    let mut position = 0u64;
    for (index, piece) in pieces.iter().enumerate() {
        let mark = if broken == Some(index) {
            format!("  {}", style.bad("✗ breaks the rule"))
        } else {
            String::new()
        };
        let what = match *piece {
            Piece::Data(e) => format!(
                "data {}  {} page(s)",
                style.addr(format!("{:<w$}", e.to_string())),
                pages_touched(e.addr, e.len, ps)
            ),
            Piece::Skip(n) => format!(
                "skip {}  discarded (bit bucket)",
                style.addr(format!("{:<w$}", format!("{n:#x}")))
            ),
            other => format!("{other}"),
        };
        let end = position.saturating_add(piece.len());
        out.line(format!(
            "  piece {index:<3} {what}  {}{mark}",
            style.dim(format!("transfer bytes {position:#x}..{end:#x}"))
        ));
        position = position.saturating_add(piece.len());
    }
}
