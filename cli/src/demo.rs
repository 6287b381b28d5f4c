//! `demo`: a guided tour of one scatter list. Its steps, in order:
//!
//! 1. the scatter list;
//! 2. its PRP layout;
//! 3. its SGL layout;
//! 4. both layouts executed on the library's mock NVMe controller: data written through one
//!    layout is read back through the other into a poisoned buffer and compared byte for byte,
//!    and each command's DMA trace is summed up into what the layout cost on the PCIe link.
//!
//! Step 4 runs the very bytes steps 2 and 3 show: PRP1/PRP2 and the list page, SGL1 and its
//! segment, written into host memory the way a driver writes them before ringing a doorbell.

use nvme_dma::controller::{ControllerConfig, NamespaceConfig, PcieLink};
use nvme_dma::sgl::SglCaps;
use nvme_dma::spec::{BlockRange, Opcode, Psdt, SglSupport, Sgls, SubmissionEntry};
use nvme_dma::Direction;
use nvme_dma::{Extent, PageSize, Piece, SimMemory};
use serde::Serialize;

use crate::json::ExtentJson;
use crate::mock_host::{pair_bytes, MockHost, QueuePlacement, ADMIN_ENTRIES};
use crate::prp_view::{self, Outcome, PrpRequest, PrpView};
use crate::sgl_view::{self, SglRequest, SglView};
use crate::style::Style;
use crate::text::{self, Out};
use crate::trace_view::{self, CostJson, LinkJson};
use crate::{prp_text, sgl_text, Failure};

/// The tour's scatter list: a 20 KiB read into the tail of one page, two whole pages, one more
/// whole page, and the head of a last page; one PRP command carries it, and so does an SGL.
pub const EXTENTS: [Extent; 4] = [
    Extent::new(0x10_0a00, 0x600),
    Extent::new(0x23_0000, 0x2000),
    Extent::new(0x51_0000, 0x1000),
    Extent::new(0x64_0000, 0x1a00),
];

/// Where the host keeps its queues: far above the buffer and the descriptors.
const QUEUE_MEMORY: u64 = 0x0100_0000;
/// Blocks of the mock controller's one namespace (512-byte blocks: 1 MiB).
const NAMESPACE_BLOCKS: u64 = 2048;
/// The namespace's block size.
const BLOCK: u64 = 512;
/// The byte a buffer is filled with before data is read into it, so a byte not written shows.
const POISON: u8 = 0xa5;

/// What moves the data through a layout in step 4.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Executor {
    /// The library's mock NVMe controller, driven through its registers and doorbells.
    Controller,
}

/// Which of the two layouts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Layout {
    /// PRP1/PRP2 and the PRP list (PSDT 00b).
    Prp,
    /// SGL1 and its segment (PSDT 01b).
    Sgl,
}

impl Layout {
    fn name(self) -> &'static str {
        match self {
            Layout::Prp => "PRP",
            Layout::Sgl => "SGL",
        }
    }
}

/// One round trip: data written through one layout, read back through the other, checked.
#[derive(Clone, Debug, Serialize)]
pub struct Verification {
    /// The layout the data was read back through (the host buffer it filled is checked).
    pub layout: Layout,
    /// The layout the data was written through.
    pub written_with: Layout,
    /// What moved the data.
    pub executor: Executor,
    /// Bytes read back into host memory.
    pub bytes: u64,
    /// Whether the namespace held exactly the written bytes, and the host's buffer holds
    /// them again after the read, in order.
    pub verified: bool,
    /// What happened, in words.
    pub detail: String,
}

/// What one command cost, from the controller's DMA trace.
#[derive(Clone, Debug, Serialize)]
pub struct LayoutCost {
    /// The layout.
    pub layout: Layout,
    /// `write` (host to device) or `read` (device to host).
    pub direction: &'static str,
    /// The completion status, by name.
    pub status: String,
    /// The trace's totals and their cost on the link.
    pub cost: CostJson,
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
    /// Step 4: the round trips.
    pub verification: Vec<Verification>,
    /// Step 4: the link the costs are counted on.
    pub link: LinkJson,
    /// Step 4: each command's cost, in the order they ran.
    pub costs: Vec<LayoutCost>,
}

/// The SGL capabilities of the tour's controller: byte-aligned SGLs with bit buckets.
fn tour_sgls() -> Sgls {
    Sgls::from_support(SglSupport::ByteAligned) | Sgls::BIT_BUCKET
}

/// The requests the tour makes.
pub fn requests() -> (PrpRequest, SglRequest) {
    let ps = PageSize::SIZE_4K;
    let prp = PrpRequest {
        extents: EXTENTS.to_vec(),
        page_size: ps,
        max_transfer: Some(128 * 1024),
        lists: Vec::new(),
        block_size: BLOCK,
        allow_overlap: false,
    };
    let sgl = SglRequest {
        pieces: EXTENTS.iter().copied().map(Piece::Data).collect(),
        direction: Direction::Read,
        caps: SglCaps::new(tour_sgls()),
        max_transfer: Some(128 * 1024),
        transfer_len: None,
        segments: Vec::new(),
        page_size: ps,
        allow_overlap: false,
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
    let link = PcieLink::TYPICAL;
    let mut bench = Bench::new(&prp, &sgl, prp_req.page_size)?;
    let mut costs = Vec::new();
    let verification = vec![
        bench.round_trip((Layout::Prp, Layout::Sgl), 0, 1, &link, &mut costs)?,
        bench.round_trip((Layout::Sgl, Layout::Prp), 64, 2, &link, &mut costs)?,
    ];
    Ok(Tour {
        extents: EXTENTS.iter().copied().map(ExtentJson::from).collect(),
        prp,
        sgl,
        verification,
        link: LinkJson::from(&link),
        costs,
    })
}

/// The transfer's length in bytes.
fn transfer_len() -> u64 {
    EXTENTS.iter().map(|e| e.len).sum()
}

/// Bytes for round trip `seed`: a pattern in which every position differs from its
/// neighbours, and the two round trips differ everywhere, so a byte in the wrong place (or
/// left over from the other round trip) shows.
fn data_bytes(seed: u8, len: u64) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(7) ^ (i >> 8) as u8 ^ seed.wrapping_mul(0x5b))
        .collect()
}

/// The mock controller with the buffer, both layouts' descriptor memory and the host's queues
/// mapped, and one I/O queue pair created.
struct Bench<'v> {
    host: MockHost,
    prp: &'v PrpView,
    sgl: &'v SglView,
    /// The last CID used.
    cid: u16,
}

impl<'v> Bench<'v> {
    fn new(prp: &'v PrpView, sgl: &'v SglView, ps: PageSize) -> Result<Self, Failure> {
        let internal = |what: &str, e: String| Failure::Internal(format!("{what}: {e}"));
        let sim = |e: nvme_dma::DmaFault| Failure::Internal(format!("simulated memory: {e}"));
        let config = ControllerConfig {
            sgls: tour_sgls(),
            namespaces: vec![NamespaceConfig::new(NAMESPACE_BLOCKS, BLOCK as u32)],
            ..ControllerConfig::default()
        };
        let mut memory = SimMemory::new();
        memory.set_logging(false);
        let descriptors = prp.memory.iter().chain(&sgl.memory);
        for (addr, len) in EXTENTS
            .iter()
            .map(|e| (e.addr, e.len))
            .chain(descriptors.map(|(addr, bytes)| (*addr, bytes.len() as u64)))
        {
            memory.map(addr, len).map_err(sim)?;
        }
        let (sq_bytes, cq_bytes) = pair_bytes(ADMIN_ENTRIES, ps);
        let pair = sq_bytes + cq_bytes;
        memory.map(QUEUE_MEMORY, 2 * pair).map_err(sim)?;
        let at = |base: u64, entries| QueuePlacement {
            sq: base,
            cq: base + sq_bytes,
            entries,
        };
        let mut host = MockHost::bring_up(config, memory, ps, at(QUEUE_MEMORY, ADMIN_ENTRIES))
            .map_err(|e| internal("bringing up the mock controller", e))?;
        host.create_io_pair(1, at(QUEUE_MEMORY + pair, ADMIN_ENTRIES))
            .map_err(|e| internal("creating the I/O queues", e))?;
        Ok(Bench {
            host,
            prp,
            sgl,
            cid: 0,
        })
    }

    /// Host stores into its own memory (not DMA).
    fn poke(&mut self, addr: u64, bytes: &[u8]) -> Result<(), Failure> {
        self.host
            .machine
            .memory
            .poke(addr, bytes)
            .map_err(|e| Failure::Internal(format!("simulated memory: {e}")))
    }

    /// Fill the scatter list's buffer with `bytes`, in extent order.
    fn fill_buffer(&mut self, bytes: &[u8]) -> Result<(), Failure> {
        let mut at = 0;
        for e in EXTENTS {
            let n = e.len as usize;
            self.poke(e.addr, bytes.get(at..at + n).unwrap_or_default())?;
            at += n;
        }
        Ok(())
    }

    /// The scatter list's buffer, in extent order.
    fn read_buffer(&self) -> Result<Vec<u8>, Failure> {
        let mut out = Vec::new();
        for e in EXTENTS {
            let bytes = self.host.machine.memory.peek_vec(e.addr, e.len as usize);
            out.extend(bytes.map_err(|e| Failure::Internal(format!("simulated memory: {e}")))?);
        }
        Ok(out)
    }

    /// Write the layout's descriptors into host memory and run one command through it on
    /// blocks from `slba`; returns the status and the command's cost.
    fn command(
        &mut self,
        layout: Layout,
        opcode: Opcode,
        slba: u64,
        link: &PcieLink,
    ) -> Result<(nvme_dma::spec::Status, CostJson), Failure> {
        let (prp, sgl) = (self.prp, self.sgl);
        let range = BlockRange::new(slba, transfer_len() / BLOCK)
            .map_err(|e| Failure::Internal(format!("the tour's transfer: {e}")))?;
        let mut sqe = SubmissionEntry::new(opcode, 0)
            .with_nsid(1)
            .with_block_range(range);
        let memory = match layout {
            Layout::Prp => {
                sqe = sqe.with_prp1(prp.prp1.0).with_prp2(prp.prp2.0);
                &prp.memory
            }
            Layout::Sgl => {
                sqe = sqe.with_psdt(Psdt::Sgl).with_sgl1(sgl.sgl1_raw);
                &sgl.memory
            }
        };
        for (addr, bytes) in memory {
            self.poke(*addr, bytes)?;
        }
        self.cid += 1;
        let ran = self
            .host
            .run(1, sqe.with_cid(self.cid))
            .map_err(|e| Failure::Internal(format!("running a command: {e}")))?;
        let status = ran.completion.map(|c| c.status()).ok_or_else(|| {
            Failure::Internal(format!(
                "the mock controller posted no completion for the {} {}",
                layout.name(),
                direction_of(opcode)
            ))
        })?;
        Ok((status, CostJson::from(&ran.trace.summary(link))))
    }

    /// Write fresh data through `layouts.0` to blocks from `slba`, read it back through
    /// `layouts.1` into the poisoned buffer, and compare.
    fn round_trip(
        &mut self,
        (writer, reader): (Layout, Layout),
        slba: u64,
        seed: u8,
        link: &PcieLink,
        costs: &mut Vec<LayoutCost>,
    ) -> Result<Verification, Failure> {
        let len = transfer_len();
        let data = data_bytes(seed, len);
        self.fill_buffer(&data)?;
        let mut detail = Vec::new();
        let (written, cost) = self.command(writer, Opcode::NVM_WRITE, slba, link)?;
        costs.push(cost_row(writer, Opcode::NVM_WRITE, written, cost));
        let stored = self
            .host
            .machine
            .controller
            .namespace_data(1, slba, len / BLOCK)
            .unwrap_or_default();
        let stored_ok = written.is_success() && stored == data;
        if !stored_ok {
            detail.push(format!(
                "the write through the {} layout ended with {written} and the namespace {}",
                writer.name(),
                differs(&stored, &data)
            ));
        }
        self.fill_buffer(&vec![POISON; len as usize])?;
        let (read, cost) = self.command(reader, Opcode::NVM_READ, slba, link)?;
        costs.push(cost_row(reader, Opcode::NVM_READ, read, cost));
        let host = self.read_buffer()?;
        let read_ok = read.is_success() && host == data;
        if !read_ok {
            detail.push(format!(
                "the read through the {} layout ended with {read} and the host buffer {}",
                reader.name(),
                differs(&host, &data)
            ));
        }
        let verified = stored_ok && read_ok;
        if verified {
            detail.push(format!(
                "{len} bytes written through the {} layout reached the namespace, and came back \
                 through the {} layout identical, byte for byte",
                writer.name(),
                reader.name()
            ));
        }
        Ok(Verification {
            layout: reader,
            written_with: writer,
            executor: Executor::Controller,
            bytes: if read.is_success() { len } else { 0 },
            verified,
            detail: detail.join("; "),
        })
    }
}

/// `write` or `read`, for an I/O opcode.
fn direction_of(opcode: Opcode) -> &'static str {
    if opcode == Opcode::NVM_WRITE {
        "write"
    } else {
        "read"
    }
}

fn cost_row(
    layout: Layout,
    opcode: Opcode,
    status: nvme_dma::spec::Status,
    cost: CostJson,
) -> LayoutCost {
    LayoutCost {
        layout,
        direction: direction_of(opcode),
        status: status.to_string(),
        cost,
    }
}

/// How `got` differs from `want`, in words.
fn differs(got: &[u8], want: &[u8]) -> String {
    match got.iter().zip(want).position(|(a, b)| a != b) {
        Some(i) => format!("differs from the data first at byte {i}"),
        None if got.len() != want.len() => {
            format!("holds {} bytes, not {}", got.len(), want.len())
        }
        None => "holds the data".into(),
    }
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
    out.line(style.heading("Step 4 of 4: both layouts executed on the mock NVMe controller"));
    let intro = format!(
        "A mock controller (4 KiB pages, byte-aligned SGLs, one namespace of {NAMESPACE_BLOCKS} \
         {BLOCK}-byte blocks) runs the layouts above, brought up and driven through its \
         registers and doorbells. Data written through one layout is read back through the \
         other into a buffer first filled with {POISON:#04x}, and compared byte for byte."
    );
    out.line(format!("  {}", text::wrap(&intro, 92, "  ")));
    for v in &tour.verification {
        let mark = if v.verified {
            style.good("✓")
        } else {
            style.bad("✗")
        };
        out.line(format!(
            "  {} → {} {mark} {}",
            v.written_with.name(),
            v.layout.name(),
            text::wrap(&v.detail, 82, "              ")
        ));
    }
    out.blank();
    let heading = format!(
        "What each command cost, from the controller's DMA trace ({}):",
        trace_view::link_text(&tour.link)
    );
    out.line(format!("  {}", text::wrap(&heading, 92, "  ")));
    out.line(style.dim(format!(
        "  {:<10} {:<34} {:>5} {:>11} {:>11}",
        "command", "descriptors fetched", "TLPs", "wire bytes", "efficiency"
    )));
    // Grouped by direction, so the two layouts of the same transfer sit side by side.
    for direction in ["write", "read"] {
        for c in tour.costs.iter().filter(|c| c.direction == direction) {
            out.line(format!(
                "  {:<10} {:<34} {:>5} {:>11} {:>10.1}%",
                format!("{} {}", c.layout.name(), c.direction),
                trace_view::descriptors_text(&c.cost),
                c.cost.tlps,
                c.cost.payload_bytes + c.cost.overhead_bytes,
                c.cost.efficiency * 100.0
            ));
        }
    }
    out.line(style.dim(format!(
        "  {}",
        text::wrap(
            "(each command's trace holds its SQE fetch, its descriptor fetches, its data and \
             its completion; data and queue traffic are the same for both layouts, so the \
             difference is what the layout costs)",
            90,
            "   ",
        )
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
