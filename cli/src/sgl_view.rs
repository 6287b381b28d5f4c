//! An SGL layout as the command shows it: built by the library's [`SglBuilder`], read back
//! from the segment memory it wrote, and walked by [`SglWalker`] as a controller would.

use nvme_dma::sgl::{
    DataDescriptor, Descriptor, SegmentBuf, SegmentKind, SglBuilder, SglCaps, SglWalker,
};
use nvme_dma::spec::SglDescriptor;
use nvme_dma::{Direction, Piece};
use nvme_dma::{Extent, PageSize};
use serde::Serialize;

use crate::explain::{self, SglContext};
use crate::json::{Hex, PieceJson};
use crate::parse::Memory;
use crate::prp_view::{
    check, check_descriptor_bytes, host_memory, no_room, place_above, regions, written, Outcome,
    Placement, WalkCheck,
};
use crate::Failure;

/// What the user asked for.
#[derive(Clone, Debug)]
pub struct SglRequest {
    /// The pieces, in transfer order.
    pub pieces: Vec<Piece>,
    /// Which way the data moves.
    pub direction: Direction,
    /// The controller's capabilities.
    pub caps: SglCaps,
    /// MDTS in bytes.
    pub max_transfer: Option<u64>,
    /// The command's transfer length, when it differs from what the pieces describe.
    pub transfer_len: Option<u64>,
    /// Segment memory offered, in order; empty to let the tool place it.
    pub segments: Vec<Memory>,
    /// Memory page size, for page boundaries and the PRP alternative.
    pub page_size: PageSize,
    /// Lay out segment memory that overlaps the data, with a warning, instead of refusing it.
    pub allow_overlap: bool,
}

impl SglRequest {
    fn builder(&self) -> SglBuilder {
        let mut builder = SglBuilder::new(self.caps, self.direction);
        if let Some(max) = self.max_transfer {
            builder = builder.with_max_transfer(max);
        }
        if let Some(len) = self.transfer_len {
            builder = builder.with_transfer_len(len);
        }
        builder
    }

    /// Bytes in a segment buffer offered without +BYTES: one memory page.
    fn default_segment_bytes(&self) -> u64 {
        self.page_size.bytes()
    }
}

/// The input, echoed in JSON.
#[derive(Clone, Debug, Serialize)]
pub struct SglInput {
    /// `read` or `write`.
    pub direction: &'static str,
    /// SGLS as given.
    pub sgls: Hex,
    /// MSDBD (0 = no limit).
    pub msdbd: u8,
    /// MDTS in bytes, if given.
    pub max_transfer: Option<u64>,
    /// The transfer length, if given.
    pub transfer_len: Option<u64>,
    /// Memory page size in bytes.
    pub page_size: u64,
    /// The pieces.
    pub pieces: Vec<PieceJson>,
}

impl From<&SglRequest> for SglInput {
    fn from(req: &SglRequest) -> Self {
        SglInput {
            direction: direction_name(req.direction),
            sgls: Hex(u64::from(req.caps.sgls().bits())),
            msdbd: req.caps.msdbd().unwrap_or(0),
            max_transfer: req.max_transfer,
            transfer_len: req.transfer_len,
            page_size: req.page_size.bytes(),
            pieces: req.pieces.iter().copied().map(PieceJson::from).collect(),
        }
    }
}

/// `read` or `write`.
pub fn direction_name(direction: Direction) -> &'static str {
    match direction {
        Direction::Read => "read",
        Direction::Write => "write",
    }
}

/// A built SGL layout.
#[derive(Clone, Debug, Serialize)]
pub struct SglView {
    /// `read` or `write`.
    pub direction: &'static str,
    /// Bytes the pieces describe (bit buckets included).
    pub length: u64,
    /// Bytes the command transfers.
    pub transfer_len: u64,
    /// Runs after merging physically adjacent pieces.
    pub runs: u64,
    /// Data descriptors (data blocks and bit buckets).
    pub descriptors: u64,
    /// Whether SGL1 alone describes the transfer.
    pub inline: bool,
    /// Whether the layout holds more descriptors than the controller's SDT recommends.
    pub exceeds_sdt: bool,
    /// The descriptor in the command.
    pub sgl1: DescriptorView,
    /// Where the segments were placed: given with --segment, or chosen by the tool.
    pub segment_placement: Placement,
    /// Every segment written, in chain order.
    pub segments: Vec<SegmentView>,
    /// What the controller-side walker read back.
    pub walk: WalkCheck,
    /// What is legal but wrong with the layout (segment memory overlapping the data, laid out
    /// because --allow-overlap said so).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// The segments' bytes as written, at their bus addresses.
    #[serde(skip)]
    pub memory: Vec<(u64, Vec<u8>)>,
    /// SGL1's 16 bytes.
    #[serde(skip)]
    pub sgl1_raw: SglDescriptor,
}

/// One SGL segment, as written.
#[derive(Clone, Debug, Serialize)]
pub struct SegmentView {
    /// Position in the chain, from 0 (the segment SGL1 points at).
    pub index: usize,
    /// Bus address of its first descriptor.
    pub addr: Hex,
    /// Descriptors its buffer holds.
    pub capacity: u64,
    /// Whether SGL1 or the previous segment reached it with a Last Segment descriptor.
    pub last: bool,
    /// Its descriptors, in order.
    pub descriptors: Vec<SlotView>,
}

/// One descriptor in a segment.
#[derive(Clone, Debug, Serialize)]
pub struct SlotView {
    /// Position in the segment, from 0.
    pub slot: u64,
    /// Bus address of the descriptor.
    pub addr: Hex,
    /// The descriptor.
    pub descriptor: DescriptorView,
}

/// One SGL descriptor, typed.
#[derive(Clone, Debug, Serialize)]
pub struct DescriptorView {
    /// `data_block`, `bit_bucket`, `segment`, `last_segment`, `keyed_data_block`,
    /// `capsule_data_block`, `transport_data_block`, or `invalid`.
    pub kind: &'static str,
    /// Address, for data blocks and segment pointers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub addr: Option<Hex>,
    /// Length in bytes (of data, or of the segment pointed to).
    pub len: u64,
    /// For a segment pointer: descriptors in the segment it points to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub points_to: Option<u64>,
    /// For a data block: memory pages it touches.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pages: Option<u64>,
    /// The 16 bytes, byte 0 first.
    pub raw: String,
}

impl DescriptorView {
    /// The typed view of `raw`, with data pages counted in `ps` pages.
    pub fn of(raw: &SglDescriptor, ps: PageSize) -> DescriptorView {
        let bytes: String = raw.to_bytes().iter().map(|b| format!("{b:02x}")).collect();
        let mut view = DescriptorView {
            kind: "invalid",
            addr: None,
            len: u64::from(raw.length()),
            points_to: None,
            pages: None,
            raw: bytes,
        };
        match Descriptor::parse(raw) {
            Ok(Descriptor::Data(d)) => {
                view.len = u64::from(d.len());
                match d {
                    DataDescriptor::Block { addr, .. } => {
                        view.kind = "data_block";
                        view.addr = Some(Hex(addr));
                        view.pages = Some(pages_touched(addr, view.len, ps));
                    }
                    DataDescriptor::BitBucket { .. } => view.kind = "bit_bucket",
                    DataDescriptor::Keyed { addr, .. } => {
                        view.kind = "keyed_data_block";
                        view.addr = Some(Hex(addr));
                    }
                    DataDescriptor::CapsuleBlock { offset, .. } => {
                        view.kind = "capsule_data_block";
                        view.addr = Some(Hex(offset));
                    }
                    DataDescriptor::Transport { .. } => view.kind = "transport_data_block",
                }
            }
            Ok(Descriptor::Pointer(p)) => {
                view.kind = match p.kind {
                    SegmentKind::Segment => "segment",
                    SegmentKind::LastSegment => "last_segment",
                };
                view.addr = Some(Hex(p.addr));
                view.points_to = Some(u64::from(p.len) / 16);
            }
            Err(_) => {}
        }
        view
    }

    /// Whether the descriptor points at another segment.
    pub fn is_pointer(&self) -> bool {
        matches!(self.kind, "segment" | "last_segment")
    }
}

/// Memory pages a run of `len` bytes at `addr` touches.
pub fn pages_touched(addr: u64, len: u64, ps: PageSize) -> u64 {
    nvme_dma::prp::geometry::pages_touched(ps, addr, len)
}

/// Build, read back and walk the layout.
pub fn lay_out(req: &SglRequest) -> Result<Outcome<SglView>, Failure> {
    let ps = req.page_size;
    let builder = req.builder();
    let capacity_of = |m: &Memory| m.bytes.unwrap_or(req.default_segment_bytes()) / 16;
    let refused = |e, capacity| {
        let cx = SglContext {
            pieces: &req.pieces,
            builder,
            page_size: ps,
            segment_capacity: capacity,
        };
        Ok(Outcome::Refused(explain::sgl(&e, &cx)))
    };
    let default_capacity = req.default_segment_bytes() / 16;
    let plan = match builder.plan(&req.pieces) {
        Ok(plan) => plan,
        Err(e) => return refused(e, default_capacity),
    };
    let (memory, placement) = if plan.is_inline() {
        (Vec::new(), Placement::None)
    } else if req.segments.is_empty() {
        let count = plan.segments_needed(default_capacity);
        check_descriptor_bytes(count.saturating_mul(req.default_segment_bytes()), "<PIECE>")?;
        let bytes = req.default_segment_bytes();
        let data = req
            .pieces
            .iter()
            .enumerate()
            .filter_map(|(index, p)| p.data().map(|e| (index, e)));
        let addrs = place_above(data, ps, count, bytes).map_err(|room| {
            no_room(
                "--segment",
                "SGL segment memory",
                "piece",
                room,
                count,
                bytes,
            )
        })?;
        let memory = addrs
            .into_iter()
            .map(|addr| Memory { addr, bytes: None })
            .collect();
        (memory, Placement::Auto)
    } else {
        (req.segments.clone(), Placement::Given)
    };
    let sizes: Vec<u64> = memory.iter().map(|m| capacity_of(m) * 16).collect();
    check_descriptor_bytes(sizes.iter().sum(), "--segment")?;
    let mut buffers: Vec<Vec<u8>> = sizes.iter().map(|&n| vec![0u8; n as usize]).collect();
    let layout = {
        let mut bufs: Vec<SegmentBuf<'_>> = memory
            .iter()
            .zip(buffers.iter_mut())
            .map(|(m, buf)| SegmentBuf::new(m.addr, buf))
            .collect();
        match builder.build(&req.pieces, &mut bufs) {
            Ok(layout) => layout,
            Err(e) => {
                let capacity = memory.first().map_or(default_capacity, capacity_of);
                return refused(e, capacity);
            }
        }
    };
    let sgl1 = DescriptorView::of(&layout.sgl1.to_raw(), ps);
    let used = &memory[..layout.segments_used];
    let segments = read_segments(ps, &sgl1, used, &buffers);
    let regions: Vec<(usize, Extent)> = segments
        .iter()
        .map(|s| {
            let len = s.descriptors.len() as u64 * 16;
            (s.index, Extent::new(s.addr.0, len))
        })
        .collect();
    let data: Vec<(usize, Extent)> = req
        .pieces
        .iter()
        .enumerate()
        .filter_map(|(index, p)| p.data().map(|e| (index, e)))
        .collect();
    let mut warnings = Vec::new();
    if let Some(((memory, region), (index, data))) = explain::first_overlap(&regions, &data) {
        let overlap = explain::Overlap {
            what: "SGL segment",
            arg: "--segment",
            memory,
            region,
            noun: "piece",
            index,
            data,
        };
        if !req.allow_overlap {
            return Ok(Outcome::Refused(overlap.refusal()));
        }
        warnings.push(overlap.message());
    }
    let memory = written(used.iter().map(|m| m.addr), buffers);
    let walk = walk_back(req, layout.sgl1.to_raw(), plan.transfer_len(), &memory)?;
    Ok(Outcome::Built(SglView {
        direction: direction_name(req.direction),
        length: plan.len(),
        transfer_len: plan.transfer_len(),
        runs: plan.runs(),
        descriptors: plan.descriptors(),
        inline: plan.is_inline(),
        exceeds_sdt: plan.exceeds_sdt(),
        sgl1,
        segment_placement: placement,
        segments,
        walk,
        warnings,
        memory,
        sgl1_raw: layout.sgl1.to_raw(),
    }))
}

/// Follow the chain the builder wrote: SGL1 names the first segment and how many descriptors
/// it holds; the last descriptor of each segment may name the next.
fn read_segments(
    ps: PageSize,
    sgl1: &DescriptorView,
    memory: &[Memory],
    buffers: &[Vec<u8>],
) -> Vec<SegmentView> {
    let mut segments = Vec::new();
    let mut pointer = sgl1
        .is_pointer()
        .then(|| (sgl1.kind, sgl1.points_to.unwrap_or(0)));
    for (index, (m, buf)) in memory.iter().zip(buffers).enumerate() {
        let Some((kind, count)) = pointer.take() else {
            break;
        };
        let descriptors: Vec<SlotView> = buf
            .chunks_exact(16)
            .take(count as usize)
            .enumerate()
            .map(|(slot, bytes)| {
                let raw = SglDescriptor::from_bytes(bytes.try_into().unwrap_or([0; 16]));
                SlotView {
                    slot: slot as u64,
                    addr: Hex(m.addr.wrapping_add(slot as u64 * 16)),
                    descriptor: DescriptorView::of(&raw, ps),
                }
            })
            .collect();
        pointer = descriptors
            .last()
            .filter(|s| s.descriptor.is_pointer())
            .map(|s| (s.descriptor.kind, s.descriptor.points_to.unwrap_or(0)));
        segments.push(SegmentView {
            index,
            addr: Hex(m.addr),
            capacity: buf.len() as u64 / 16,
            last: kind == "last_segment",
            descriptors,
        });
    }
    segments
}

/// Walk SGL1 with the segments in simulated host memory, as a controller does.
fn walk_back(
    req: &SglRequest,
    sgl1: SglDescriptor,
    transfer: u64,
    memory: &[(u64, Vec<u8>)],
) -> Result<WalkCheck, Failure> {
    let mem = host_memory(regions(memory))?;
    let walked: Result<Vec<Piece>, _> =
        SglWalker::new(sgl1, req.direction, transfer, &req.caps, &mem)
            .into_iter()
            .collect();
    // The walker stops at the transfer length: with LLDTS the SGL may describe more, and
    // those trailing bytes are never moved, so they are not part of what it must read back.
    Ok(check(
        "SglWalker",
        walked.map_err(|e| (e.to_string(), e.rule())),
        merged_pieces(&truncated(&req.pieces, transfer), req.direction),
    ))
}

/// The first `len` bytes of `pieces`, in transfer order: the last piece kept is cut short,
/// the pieces after it dropped.
pub fn truncated(pieces: &[Piece], len: u64) -> Vec<Piece> {
    let mut left = len;
    let mut out = Vec::new();
    for piece in pieces {
        if left == 0 {
            break;
        }
        let take = piece.len().min(left);
        left -= take;
        out.push(match *piece {
            Piece::Data(e) => Piece::Data(Extent::new(e.addr, take)),
            Piece::Skip(_) => Piece::Skip(take),
            Piece::Keyed { extent, key } => Piece::Keyed {
                extent: Extent::new(extent.addr, take),
                key,
            },
            Piece::Capsule { offset, .. } => Piece::Capsule { offset, len: take },
            Piece::Transport(_) => Piece::Transport(take),
        });
    }
    out
}

/// The pieces as a walker yields them: empty ones dropped, runs merged, and in a write no bit
/// buckets (they describe nothing there).
pub fn merged_pieces(pieces: &[Piece], direction: Direction) -> Vec<Piece> {
    let mut out: Vec<Piece> = Vec::new();
    for piece in pieces.iter().filter(|p| !p.is_empty()) {
        if direction == Direction::Write && matches!(piece, Piece::Skip(_)) {
            continue;
        }
        let merged = out.last_mut().is_some_and(|last| last.try_merge(piece));
        if !merged {
            out.push(*piece);
        }
    }
    out
}
