//! `demo`: a guided tour of one scatter list. Its steps, in order:
//!
//! 1. the scatter list;
//! 2. its PRP layout;
//! 3. its SGL layout;
//! 4. a read moved through each layout into host memory, and the data verified.
//!
//! In step 4 the library's device-side walkers stand in for a controller: each walk turns the
//! layout back into segments of host memory and the device's bytes are written there. An
//! executor that runs real commands on a controller is one more [`Executor`] variant; the
//! layouts and the verification stay as they are.

use nvme_dma::prp::PrpWalker;
use nvme_dma::sgl::{Direction, SglCaps, SglWalker};
use nvme_dma::spec::{SglSupport, Sgls};
use nvme_dma::{DmaFault, Extent, PageSize, SglSegment, SimMemory};
use serde::Serialize;

use crate::json::ExtentJson;
use crate::prp_view::{self, host_memory, regions, Outcome, PrpRequest, PrpView};
use crate::sgl_view::{self, SglRequest, SglView};
use crate::style::Style;
use crate::text::{self, Out};
use crate::{prp_text, sgl_text, Failure};

/// The tour's scatter list: a 20 KiB read into the tail of one page, two whole pages, one more
/// whole page, and the head of a last page; one PRP command carries it, and so does an SGL.
pub const EXTENTS: [Extent; 4] = [
    Extent::new(0x10_0a00, 0x600),
    Extent::new(0x23_0000, 0x2000),
    Extent::new(0x51_0000, 0x1000),
    Extent::new(0x64_0000, 0x1a00),
];

/// What moves the data through a layout in step 4.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Executor {
    /// The library's walkers read the layout from simulated host memory, as a controller's
    /// front end does, and the device's bytes are written to the segments they yield.
    Walker,
}

/// One layout's data, moved and checked.
#[derive(Clone, Debug, Serialize)]
pub struct Verification {
    /// `prp` or `sgl`.
    pub layout: &'static str,
    /// What moved the data.
    pub executor: Executor,
    /// Bytes written into host memory.
    pub bytes: u64,
    /// Whether the host's buffer holds exactly the device's bytes, in order.
    pub verified: bool,
    /// What happened, in words.
    pub detail: String,
}

/// The whole tour.
#[derive(Clone, Debug, Serialize)]
pub struct Tour {
    /// The scatter list.
    pub extents: Vec<ExtentJson>,
    /// Step 2.
    pub prp: PrpView,
    /// Step 3.
    pub sgl: SglView,
    /// Step 4.
    pub verification: Vec<Verification>,
}

/// The requests the tour makes.
pub fn requests() -> (PrpRequest, SglRequest) {
    let ps = PageSize::SIZE_4K;
    let prp = PrpRequest {
        extents: EXTENTS.to_vec(),
        page_size: ps,
        max_transfer: Some(128 * 1024),
        lists: Vec::new(),
        block_size: 512,
    };
    let sgl = SglRequest {
        pieces: EXTENTS.iter().copied().map(SglSegment::Data).collect(),
        direction: Direction::Read,
        caps: SglCaps::new(Sgls::from_support(SglSupport::ByteAligned) | Sgls::BIT_BUCKET),
        max_transfer: Some(128 * 1024),
        transfer_len: None,
        segments: Vec::new(),
        page_size: ps,
    };
    (prp, sgl)
}

/// Run the tour.
pub fn run() -> Result<Tour, Failure> {
    let (prp_req, sgl_req) = requests();
    let prp = match prp_view::lay_out(&prp_req)? {
        Outcome::Built(view) => view,
        Outcome::Refused(r) => {
            return Err(Failure::Internal(format!("the tour's PRPs: {}", r.message)))
        }
    };
    let sgl = match sgl_view::lay_out(&sgl_req)? {
        Outcome::Built(view) => view,
        Outcome::Refused(r) => {
            return Err(Failure::Internal(format!("the tour's SGL: {}", r.message)))
        }
    };
    let verification = vec![
        verify("prp", Executor::Walker, &prp.memory, |mem, len| {
            PrpWalker::new(prp.prp1.0, prp.prp2.0, len, prp_req.page_size, mem)
                .map(|r| r.map(SglSegment::Data).map_err(|e| e.to_string()))
                .collect()
        })?,
        verify("sgl", Executor::Walker, &sgl.memory, |mem, len| {
            SglWalker::new(sgl.sgl1_raw, Direction::Read, len, &sgl_req.caps, mem)
                .map(|r| r.map_err(|e| e.to_string()))
                .collect()
        })?,
    ];
    Ok(Tour {
        extents: EXTENTS.iter().copied().map(ExtentJson::from).collect(),
        prp,
        sgl,
        verification,
    })
}

/// The device's bytes for a transfer: a pattern in which every position differs from its
/// neighbours, so a byte in the wrong place shows.
fn device_bytes(len: u64) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(7) ^ (i >> 8) as u8)
        .collect()
}

/// Move a read through one layout and check the host's buffer. `walk` is the executor: it
/// turns the layout, in host memory, into the segments the data goes to.
fn verify(
    layout: &'static str,
    executor: Executor,
    descriptors: &[(u64, Vec<u8>)],
    walk: impl Fn(&SimMemory, u64) -> Result<Vec<SglSegment>, String>,
) -> Result<Verification, Failure> {
    let len: u64 = EXTENTS.iter().map(|e| e.len).sum();
    let device = device_bytes(len);
    let sim = |e: DmaFault| Failure::Internal(format!("simulated memory: {e}"));
    // Host memory: the buffer, filled with a poison byte, and the descriptor memory.
    let poison: Vec<(u64, Vec<u8>)> = EXTENTS
        .iter()
        .map(|e| (e.addr, vec![0xa5; e.len as usize]))
        .collect();
    let mut mem = host_memory(regions(&poison).chain(regions(descriptors)))?;
    // The executor decides where each byte goes; then the device's bytes go there.
    let segments = match walk(&mem, len) {
        Ok(segments) => segments,
        Err(e) => {
            return Ok(Verification {
                layout,
                executor,
                bytes: 0,
                verified: false,
                detail: format!("the walk refused the layout: {e}"),
            })
        }
    };
    let mut at = 0usize;
    for segment in &segments {
        let n = segment.len() as usize;
        let chunk = device.get(at..at + n).unwrap_or_default();
        if let SglSegment::Data(e) = segment {
            mem.poke(e.addr, chunk).map_err(sim)?;
        }
        at += n;
    }
    // The host reads its buffer back, extent by extent.
    let mut host = Vec::new();
    for e in EXTENTS {
        host.extend(mem.peek_vec(e.addr, e.len as usize).map_err(sim)?);
    }
    let verified = host == device && at as u64 == len;
    let detail = if verified {
        format!(
            "{} segment(s) received the device's {len} bytes; the host buffer holds them in order",
            segments.len()
        )
    } else {
        let first_bad = host.iter().zip(&device).position(|(a, b)| a != b);
        format!(
            "the host buffer differs from the device's bytes (first difference at byte {})",
            first_bad.map_or("past the end".to_string(), |b| b.to_string())
        )
    };
    Ok(Verification {
        layout,
        executor,
        bytes: at as u64,
        verified,
        detail,
    })
}

/// The tour as text.
pub fn text(tour: &Tour, style: &Style) -> String {
    let (prp_req, sgl_req) = requests();
    let mut out = Out::default();
    out.line(
        style.heading("nvme-dma demo: one scatter list, as PRPs and as an SGL, moved and verified"),
    );
    out.blank();
    out.line(style.heading("Step 1 of 4: the scatter list"));
    let intro = format!(
        "A read of {} into a buffer in {} pieces of host memory. The controller sees only bus \
         addresses, so the command must say where every piece is.",
        text::bytes(tour.prp.length),
        EXTENTS.len()
    );
    out.line(format!("  {}", text::wrap(&intro, 92, "  ")));
    for (i, e) in EXTENTS.iter().enumerate() {
        out.line(format!(
            "  extent {i}  {}  offset {:#x} in its {} page",
            style.addr(e),
            prp_req.page_size.offset_of(e.addr),
            prp_req.page_size
        ));
    }
    out.blank();
    out.line(style.heading("Step 2 of 4: as PRPs (one entry per memory page)"));
    out.0
        .push_str(&indent(&prp_text::layout(&prp_req, &tour.prp, style)));
    out.blank();
    out.line(style.heading("Step 3 of 4: as an SGL (one descriptor per run of bytes)"));
    out.0
        .push_str(&indent(&sgl_text::layout(&sgl_req, &tour.sgl, style)));
    out.blank();
    out.line(style.heading("Step 4 of 4: a read moved through each layout, and the data verified"));
    for v in &tour.verification {
        let mark = if v.verified {
            style.good("✓")
        } else {
            style.bad("✗")
        };
        out.line(format!(
            "  {} {mark} {}",
            v.layout.to_uppercase(),
            text::wrap(&v.detail, 88, "        ")
        ));
    }
    out.line(style.dim(text::wrap(
        "  (the library's walkers stand in for the controller: they read each layout from \
         simulated host memory, and the device's bytes go where they say)",
        92,
        "   ",
    )));
    out.blank();
    out.line(style.heading("Try your own"));
    out.line("  nvme-dma prp 0x10200+0xe00 0x50000+0x2000 0x90000+0x200 --svg prp.svg");
    out.line(
        "  nvme-dma prp 0x1000+0x1000 0x8000+0x200 0xa000+0x1000      # a rule broken, and fixes",
    );
    out.line("  nvme-dma sgl 0x10000+0x1000 skip:0x200 0x30000+0x123 --segment 0x80000+256");
    out.line("  nvme-dma decode --as sgl 0010000000000000 00100000 000000 00");
    out.0
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| {
            if l.is_empty() {
                "\n".to_string()
            } else {
                format!("  {l}\n")
            }
        })
        .collect()
}
