//! The layouts a [`DataPointerCase`](super::DataPointerCase) is made of: valid ones from the
//! crate's builders, then one rule broken, or hostile bytes.
//!
//! Every buffer a layout uses lies in a slot of its own ([`slot`]), so that no two pieces of
//! one transfer overlap and a read's result is the same whatever order a controller writes
//! its pieces in.

use alloc::vec;
use alloc::vec::Vec;

use arbitrary::{Result, Unstructured};

use super::emulator::{Hostile, Label, Shape};
use super::{MemoryImage, Target, MAX_PIECES, MAX_SEGMENTS};
use crate::extent::Extent;
use crate::prp::{Prp2, PrpBuilder, PrpListPage};
use crate::rule::Rule;
use crate::sgl::{SegmentBuf, SglBuilder};
use crate::spec::{Psdt, SglDescriptor, SglDescriptorType, SglSubtype, SglSupport, Sgls};
use crate::{Direction, Piece};

/// A data pointer and the memory it needs.
#[derive(Clone, Debug)]
pub(super) struct Layout {
    pub label: Label,
    pub psdt: Psdt,
    /// DPTR: PRP1 and PRP2, or SGL1.
    pub dptr: [u8; 16],
    pub image: MemoryImage,
    /// The buffers as the host meant them.
    pub intended: Vec<Piece>,
    /// Where the layout's lists or segments are, and what was written there.
    pub descriptors: Vec<(u64, Vec<u8>)>,
    /// MPTR, and the metadata buffers as the host meant them (none without metadata).
    pub mptr: u64,
    pub metadata: Vec<Piece>,
}

impl Layout {
    fn prp(prp1: u64, prp2: u64) -> [u8; 16] {
        let mut dptr = [0u8; 16];
        let (a, b) = dptr.split_at_mut(8);
        a.copy_from_slice(&prp1.to_le_bytes());
        b.copy_from_slice(&prp2.to_le_bytes());
        dptr
    }

    fn prps(&self) -> (u64, u64) {
        let word = |range: core::ops::Range<usize>| {
            self.dptr
                .get(range)
                .and_then(|b| <[u8; 8]>::try_from(b).ok())
                .map_or(0, u64::from_le_bytes)
        };
        (word(0..8), word(8..16))
    }

    fn sgl1(&self) -> SglDescriptor {
        SglDescriptor::from_bytes(self.dptr)
    }

    fn set_sgl1(&mut self, d: SglDescriptor) {
        self.dptr = d.to_bytes();
    }

    /// Write the descriptors into the image (after the data, so a hostile case that points
    /// a data buffer at a list sees the list).
    pub(super) fn finish(mut self) -> Layout {
        for (addr, bytes) in &self.descriptors {
            self.image.put(*addr, bytes.clone());
        }
        self
    }
}

/// Data slot `i` of the target's data space: each piece of a transfer gets its own.
pub(super) fn slot(target: &Target, i: usize) -> Extent {
    let count = MAX_PIECES.saturating_add(1) as u64;
    let size = target.space.data.len.checked_div(count).unwrap_or(0);
    let size = size & !target.page_size.bytes().wrapping_sub(1);
    Extent::new(
        target
            .space
            .data
            .addr
            .saturating_add(size.saturating_mul(i as u64)),
        size,
    )
}

/// Descriptor page `i` of the target's descriptor space.
pub(super) fn descriptor_page(target: &Target, i: usize) -> u64 {
    let page = target.page_size.bytes();
    let base = target.space.descriptors.addr.next_multiple_of(page);
    base.saturating_add(page.saturating_mul(i as u64))
}

/// A cheap deterministic byte stream for buffer contents (the fuzzer's bytes choose the seed,
/// not every byte, so that a case stays small to describe).
pub(super) fn fill(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x.to_le_bytes()[4]
        })
        .collect()
}

/// The granularity of SGL data the target takes: bytes, or dwords.
fn sgl_grain(target: &Target) -> u64 {
    if target.sgls.support() == SglSupport::ByteAligned {
        1
    } else {
        4
    }
}

/// Which way a command moves and how many blocks: the first draws of every case.
pub(super) fn draw_command(u: &mut Unstructured<'_>, target: &Target) -> Result<(Direction, u32)> {
    let direction = if u.arbitrary()? {
        Direction::Read
    } else {
        Direction::Write
    };
    let blocks = u.int_in_range(1..=target.max_blocks().max(1))?;
    Ok((direction, blocks))
}

/// `len` bytes cut into at most `count` lengths, each a multiple of `grain` but the last
/// (which takes what is left), none empty.
pub(super) fn cut(
    u: &mut Unstructured<'_>,
    len: u64,
    count: usize,
    grain: u64,
) -> Result<Vec<u64>> {
    let mut lengths = Vec::new();
    let mut left = len;
    for i in 0..count {
        if left == 0 {
            break;
        }
        let take = if i.saturating_add(1) == count {
            left
        } else {
            round_down(u.int_in_range(1..=left)?, grain).clamp(grain.min(left), left)
        };
        lengths.push(take);
        left = left.saturating_sub(take);
    }
    Ok(lengths)
}

/// `value` rounded down to a multiple of `grain` (1, 4 or a page).
pub(super) fn round_down(value: u64, grain: u64) -> u64 {
    value.checked_div(grain).unwrap_or(0).saturating_mul(grain)
}

/// Put the data buffers' initial bytes into the image.
fn fill_buffers(image: &mut MemoryImage, pieces: &[Piece], seed: u64) {
    for (i, piece) in pieces.iter().enumerate() {
        if let Piece::Data(e) = piece {
            let len = usize::try_from(e.len).unwrap_or(0);
            image.put(e.addr, fill(seed.wrapping_add(i as u64), len));
        }
    }
}

/// The page runs of a PRP transfer of `len` bytes: a dword-aligned start in the first page,
/// then whole pages, each either right after the one before or in a slot of its own.
fn prp_extents(u: &mut Unstructured<'_>, target: &Target, len: u64) -> Result<Vec<Extent>> {
    let page = target.page_size.bytes();
    let offset = u
        .int_in_range(0..=page.saturating_sub(4) / 4)?
        .saturating_mul(4);
    let mut extents: Vec<Extent> = Vec::new();
    let mut left = len;
    let mut at = slot(target, 0).addr.saturating_add(offset);
    let mut slots = 1usize;
    while left > 0 {
        let room = page.saturating_sub(at & page.wrapping_sub(1)).min(left);
        let contiguous = extents.last().is_some_and(|e| e.end() == Some(at));
        match extents.last_mut() {
            Some(last) if contiguous => last.len = last.len.saturating_add(room),
            _ => extents.push(Extent::new(at, room)),
        }
        left = left.saturating_sub(room);
        at = at.saturating_add(room);
        if slots < MAX_PIECES && u.ratio(1, 2)? {
            at = slot(target, slots).addr;
            slots = slots.saturating_add(1);
        }
    }
    Ok(extents)
}

/// A valid PRP layout of `len` bytes, its first list page placed at an offset that makes it
/// hold as many entries as needed, exactly that many, or fewer (so that lists chain).
pub(super) fn valid_prp(
    u: &mut Unstructured<'_>,
    target: &Target,
    len: u64,
    seed: u64,
) -> Result<Layout> {
    let page = target.page_size.bytes();
    let extents = prp_extents(u, target, len)?;
    let builder = PrpBuilder::new(target.page_size);
    let plan = builder
        .plan(&extents)
        .map_err(|_| arbitrary::Error::IncorrectFormat)?;
    let entries = usize::try_from(plan.list_entries()).unwrap_or(usize::MAX);
    let slots_per_page = usize::try_from(page / 8).unwrap_or(0);
    // The first list's slots: a whole page, exactly the entries, or a few (chaining).
    let first_slots = match u.int_in_range(0u8..=2)? {
        0 => slots_per_page,
        1 => entries.clamp(1, slots_per_page),
        _ => u.int_in_range(2..=slots_per_page.max(2))?,
    }
    .clamp(1, slots_per_page);
    let first_offset = page.saturating_sub((first_slots as u64).saturating_mul(8));
    let mut buffers: Vec<(u64, Vec<u8>)> = (0..MAX_SEGMENTS.saturating_add(4))
        .map(|i| {
            let at = descriptor_page(target, i);
            if i == 0 {
                (
                    at.saturating_add(first_offset),
                    vec![0u8; first_slots.saturating_mul(8)],
                )
            } else {
                (at, vec![0u8; usize::try_from(page).unwrap_or(0)])
            }
        })
        .collect();
    let layout = {
        let mut lists: Vec<PrpListPage<'_>> = buffers
            .iter_mut()
            .map(|(addr, bytes)| PrpListPage::new(*addr, bytes))
            .collect();
        builder
            .build(&extents, &mut lists)
            .map_err(|_| arbitrary::Error::IncorrectFormat)?
    };
    buffers.truncate(layout.list_pages_used);
    let shape = match layout.pair.prp2 {
        Prp2::Unused => Shape::PrpOnePage,
        Prp2::Page(_) => Shape::PrpTwoPages,
        Prp2::List(_) if layout.list_pages_used > 1 => Shape::PrpChainedLists,
        Prp2::List(_) if entries == first_slots => Shape::PrpListExactlyFull,
        Prp2::List(_) => Shape::PrpList,
    };
    let intended: Vec<Piece> = extents.iter().map(|e| Piece::Data(*e)).collect();
    let mut image = MemoryImage::new();
    fill_buffers(&mut image, &intended, seed);
    Ok(Layout {
        label: Label::Valid(shape),
        psdt: Psdt::Prp,
        dptr: Layout::prp(layout.pair.prp1, layout.pair.prp2.raw()),
        image,
        intended,
        descriptors: buffers,
        mptr: 0,
        metadata: Vec::new(),
    })
}

/// The pieces of an SGL transfer of `len` bytes: up to [`MAX_PIECES`], each in a slot of its
/// own at the granularity the target's SGLs allow, with bit buckets between them on reads
/// where the target has them.
fn sgl_pieces(
    u: &mut Unstructured<'_>,
    target: &Target,
    len: u64,
    direction: Direction,
) -> Result<Vec<Piece>> {
    let grain = sgl_grain(target);
    let buckets = direction == Direction::Read && target.sgls.contains(Sgls::BIT_BUCKET);
    let count = u.int_in_range(1..=MAX_PIECES.saturating_sub(1))?;
    let mut pieces = Vec::new();
    for (i, take) in cut(u, len, count, grain)?.into_iter().enumerate() {
        if buckets && i > 0 && u.ratio(1, 4)? {
            pieces.push(Piece::Skip(take));
        } else {
            let room = slot(target, i).len.saturating_sub(take);
            let offset = round_down(u.int_in_range(0..=room.min(0x3000))?, grain);
            pieces.push(Piece::Data(Extent::new(
                slot(target, i).addr.saturating_add(offset),
                take,
            )));
        }
    }
    Ok(pieces)
}

/// A valid SGL of `len` bytes: SGL1 alone, or segments whose capacities the fuzzer picks
/// (equal ones, growing ones, one-descriptor ones), with an empty Data Block slipped in now
/// and then.
pub(super) fn valid_sgl(
    u: &mut Unstructured<'_>,
    target: &Target,
    len: u64,
    direction: Direction,
    seed: u64,
) -> Result<Layout> {
    let mut pieces = sgl_pieces(u, target, len, direction)?;
    let empty_block = u.ratio(1, 8)? && pieces.len() > 1;
    if empty_block {
        pieces.insert(
            1,
            Piece::Data(Extent::new(slot(target, MAX_PIECES).addr, 0)),
        );
    }
    let page = usize::try_from(target.page_size.bytes()).unwrap_or(4096);
    let mut buffers: Vec<(u64, Vec<u8>)> = Vec::new();
    for i in 0..MAX_SEGMENTS.saturating_add(MAX_PIECES) {
        let descriptors = u.int_in_range(2usize..=8)?;
        let at =
            descriptor_page(target, i).saturating_add(u.int_in_range(0..=8u64)?.saturating_mul(16));
        buffers.push((at, vec![0u8; descriptors.saturating_mul(16).min(page)]));
    }
    let layout = {
        let mut segments: Vec<SegmentBuf<'_>> = buffers
            .iter_mut()
            .map(|(addr, bytes)| SegmentBuf::new(*addr, bytes))
            .collect();
        SglBuilder::new(crate::sgl::SglCaps::new(target.sgls), direction)
            .build(&pieces, &mut segments)
            .map_err(|_| arbitrary::Error::IncorrectFormat)?
    };
    buffers.truncate(layout.segments_used);
    let mut laid = Layout {
        label: Label::Valid(Shape::SglInline),
        psdt: Psdt::Sgl,
        dptr: layout.sgl1.to_raw().to_bytes(),
        image: MemoryImage::new(),
        intended: Vec::new(),
        descriptors: buffers,
        mptr: 0,
        metadata: Vec::new(),
    };
    // Each segment buffer cut to the descriptors its pointer counts, so that "the last
    // descriptor of a segment" means the one a controller reads last.
    for s in 0..laid.descriptors.len() {
        let used = pointer_to(&laid, s).map_or(0, |(_, d)| d.length() / 16);
        if let Some((_, bytes)) = laid.descriptors.get_mut(s) {
            bytes.truncate(usize::try_from(used).unwrap_or(0).saturating_mul(16));
        }
    }
    let shape = match layout.segments_used {
        _ if empty_block => Shape::SglEmptyDataBlock,
        _ if pieces.iter().any(|p| matches!(p, Piece::Skip(_))) => Shape::SglBitBuckets,
        0 => Shape::SglInline,
        1 => Shape::SglLastSegment,
        _ => Shape::SglChain,
    };
    pieces.retain(|p| !p.is_empty());
    fill_buffers(&mut laid.image, &pieces, seed);
    laid.label = Label::Valid(shape);
    laid.intended = pieces;
    Ok(laid)
}

/// The descriptors of `layout`'s segments, as (segment index, descriptor index, descriptor).
fn sgl_descriptors(layout: &Layout) -> Vec<(usize, usize, SglDescriptor)> {
    let mut out = Vec::new();
    for (s, (_, bytes)) in layout.descriptors.iter().enumerate() {
        for (d, chunk) in bytes.chunks_exact(16).enumerate() {
            if let Ok(raw) = <[u8; 16]>::try_from(chunk) {
                out.push((s, d, SglDescriptor::from_bytes(raw)));
            }
        }
    }
    out
}

fn replace_descriptor(layout: &mut Layout, s: usize, d: usize, new: SglDescriptor) {
    let at = d.saturating_mul(16);
    if let Some(bytes) = layout
        .descriptors
        .get_mut(s)
        .and_then(|(_, b)| b.get_mut(at..at.saturating_add(16)))
    {
        bytes.copy_from_slice(&new.to_bytes());
    }
}

/// Where a (Last) Segment descriptor pointing at segment `s` lives: SGL1, or the last
/// descriptor of segment `s - 1`.
fn pointer_to(layout: &Layout, s: usize) -> Option<(Option<(usize, usize)>, SglDescriptor)> {
    if s == 0 {
        return Some((None, layout.sgl1()));
    }
    let prev = s.checked_sub(1)?;
    let (_, bytes) = layout.descriptors.get(prev)?;
    let d = (bytes.len() / 16).checked_sub(1)?;
    let at = d.saturating_mul(16);
    let raw = <[u8; 16]>::try_from(bytes.get(at..at.saturating_add(16))?).ok()?;
    Some((Some((prev, d)), SglDescriptor::from_bytes(raw)))
}

fn set_pointer(layout: &mut Layout, at: Option<(usize, usize)>, d: SglDescriptor) {
    match at {
        None => layout.set_sgl1(d),
        Some((s, i)) => replace_descriptor(layout, s, i, d),
    }
}

/// Break exactly one rule of a valid layout, naming it. `Err` when this layout has no place
/// for the rule drawn (a one-page PRP has no list to break): the caller keeps the valid
/// layout.
pub(super) fn break_one_rule(
    u: &mut Unstructured<'_>,
    target: &Target,
    mut layout: Layout,
) -> Result<Layout> {
    let page = target.page_size.bytes();
    let no_place = arbitrary::Error::IncorrectFormat;
    let rule = if layout.psdt == Psdt::Prp {
        let (prp1, prp2) = layout.prps();
        let shape = match layout.label {
            Label::Valid(shape) => shape,
            _ => return Err(no_place),
        };
        match u.int_in_range(0u8..=3)? {
            0 => {
                layout.dptr = Layout::prp(prp1 | u.int_in_range(1..=3)?, prp2);
                Rule::PrpStartDwordAligned
            }
            1 if shape == Shape::PrpTwoPages => {
                let offset = u
                    .int_in_range(1..=(page / 8).saturating_sub(1))?
                    .saturating_mul(8);
                layout.dptr = Layout::prp(prp1, prp2 | offset);
                Rule::PrpStartOnPageBoundary
            }
            2 if !layout.descriptors.is_empty() => {
                // A list entry with an offset (any entry: a chain pointer must be page
                // aligned too).
                let (_, bytes) = layout.descriptors.first_mut().ok_or(no_place)?;
                // Only the slots the list uses: entries are never 0 (the data space is not
                // at address 0), unused slots are.
                let used: Vec<usize> = bytes
                    .chunks_exact(8)
                    .enumerate()
                    .filter(|(_, slot)| slot.iter().any(|b| *b != 0))
                    .map(|(i, _)| i)
                    .collect();
                let pick = u.int_in_range(0..=used.len().saturating_sub(1))?;
                let e = *used.get(pick).ok_or(no_place)?;
                let at = e.saturating_mul(8);
                let slot = bytes.get_mut(at..at.saturating_add(8)).ok_or(no_place)?;
                let value = u64::from_le_bytes(<[u8; 8]>::try_from(&*slot).map_err(|_| no_place)?);
                slot.copy_from_slice(&(value | 0x200).to_le_bytes());
                Rule::PrpStartOnPageBoundary
            }
            3 if !layout.descriptors.is_empty() => {
                layout.dptr = Layout::prp(prp1, prp2 | 4);
                Rule::PrpListPageAlignment
            }
            _ => return Err(no_place),
        }
    } else {
        let descriptors = sgl_descriptors(&layout);
        let data: Vec<(usize, usize, SglDescriptor)> = descriptors
            .iter()
            .copied()
            .filter(|(_, _, d)| d.descriptor_type() == SglDescriptorType::DataBlock)
            .collect();
        let pick_data =
            |u: &mut Unstructured<'_>| -> Result<Option<(usize, usize, SglDescriptor)>> {
                if data.is_empty() {
                    return Ok(None);
                }
                let i = u.int_in_range(0..=data.len().saturating_sub(1))?;
                Ok(data.get(i).copied())
            };
        let lldts = target.sgls.contains(Sgls::LLDTS);
        match u.int_in_range(0u8..=7)? {
            // A granule short, or (without LLDTS) some too many, in the last Data Block.
            kind @ (0 | 1) => {
                let (s, i, mut d) = match data.last() {
                    Some(found) => *found,
                    None => (usize::MAX, 0, layout.sgl1()),
                };
                if d.descriptor_type() != SglDescriptorType::DataBlock || d.length() == 0 {
                    return Err(no_place);
                }
                // By the granularity the target asks for, so that only the length is wrong.
                let grain = u32::try_from(sgl_grain(target)).unwrap_or(4);
                if d.length() <= grain {
                    return Err(no_place);
                }
                let rule = if kind == 0 {
                    d.set_length(d.length().saturating_sub(grain));
                    Rule::SglCoversTransfer
                } else if !lldts {
                    let more = u.int_in_range(1..=128u32)?.saturating_mul(grain);
                    d.set_length(d.length().saturating_add(more));
                    Rule::SglLongerThanTransfer
                } else {
                    return Err(no_place);
                };
                if s == usize::MAX {
                    layout.set_sgl1(d);
                } else {
                    replace_descriptor(&mut layout, s, i, d);
                }
                rule
            }
            // A segment whose length is not a whole number of descriptors.
            2 if !layout.descriptors.is_empty() => {
                let s = u.int_in_range(0..=layout.descriptors.len().saturating_sub(1))?;
                let (at, mut d) = pointer_to(&layout, s).ok_or(no_place)?;
                d.set_length(d.length().saturating_add(u.int_in_range(1..=15)?));
                set_pointer(&mut layout, at, d);
                Rule::SglSegmentLength
            }
            // A segment, and the pointer to it, moved off a qword.
            3 if !layout.descriptors.is_empty() => {
                let s = u.int_in_range(0..=layout.descriptors.len().saturating_sub(1))?;
                let (at, mut d) = pointer_to(&layout, s).ok_or(no_place)?;
                let shift = u.int_in_range(1u64..=7)?;
                d.set_address(d.address().saturating_add(shift));
                set_pointer(&mut layout, at, d);
                if let Some((addr, _)) = layout.descriptors.get_mut(s) {
                    *addr = addr.saturating_add(shift);
                }
                Rule::SglSegmentAlignment
            }
            // A reserved type, a Keyed Data Block, or a Bit Bucket the target lacks.
            4 => {
                let (s, i, mut d) = pick_data(u)?.ok_or(no_place)?;
                let (kind, rule) = match u.int_in_range(0u8..=2)? {
                    0 => (
                        SglDescriptorType::Reserved(u.int_in_range(6..=0xe)?),
                        Rule::SglDescriptorType,
                    ),
                    1 => (SglDescriptorType::KeyedDataBlock, Rule::SglCapability),
                    _ if !target.sgls.contains(Sgls::BIT_BUCKET) => {
                        (SglDescriptorType::BitBucket, Rule::SglCapability)
                    }
                    _ => return Err(no_place),
                };
                d.set_descriptor_type(kind);
                replace_descriptor(&mut layout, s, i, d);
                rule
            }
            // The Offset subtype, which needs SGLS bit 20 (and is not for PCIe).
            5 => {
                let (s, i, mut d) = pick_data(u)?.ok_or(no_place)?;
                d.set_subtype(SglSubtype::Offset);
                replace_descriptor(&mut layout, s, i, d);
                Rule::SglCapability
            }
            // A segment reached through a Last Segment descriptor that ends with a pointer.
            6 if !layout.descriptors.is_empty() => {
                let last = layout.descriptors.len().saturating_sub(1);
                let (_, bytes) = layout.descriptors.get(last).ok_or(no_place)?;
                let d = (bytes.len() / 16).checked_sub(1).ok_or(no_place)?;
                let (addr, _) = *layout.descriptors.get(last).ok_or(no_place)?;
                let pointer =
                    SglDescriptor::new(addr, 16, SglDescriptorType::Segment, SglSubtype::Address);
                replace_descriptor(&mut layout, last, d, pointer);
                Rule::SglSegmentChain
            }
            // A data buffer with no memory behind it.
            7 => {
                let (s, i, mut d) = pick_data(u)?.ok_or(no_place)?;
                if d.length() == 0 {
                    return Err(no_place);
                }
                d.set_address(target.space.unmapped.addr);
                replace_descriptor(&mut layout, s, i, d);
                Rule::MemoryReachable
            }
            _ => return Err(no_place),
        }
    };
    layout.label = Label::NearValid(rule);
    Ok(layout)
}

/// A hostile data pointer of one of the [`Hostile`] kinds, for a transfer of `len` bytes.
pub(super) fn hostile(
    u: &mut Unstructured<'_>,
    target: &Target,
    len: u64,
    direction: Direction,
    seed: u64,
) -> Result<Layout> {
    let sgl = target.sgls.is_supported();
    let page0 = descriptor_page(target, 0);
    let page1 = descriptor_page(target, 1);
    let seg = |addr: u64, n: u32, kind| {
        SglDescriptor::new(addr, n.saturating_mul(16), kind, SglSubtype::Address)
    };
    let data = |addr: u64, n: u64| {
        SglDescriptor::new(
            addr,
            u32::try_from(n).unwrap_or(u32::MAX),
            SglDescriptorType::DataBlock,
            SglSubtype::Address,
        )
    };
    let bytes = |ds: &[SglDescriptor]| ds.iter().flat_map(|d| d.to_bytes()).collect::<Vec<u8>>();
    let base = Layout {
        label: Label::Hostile(Hostile::BytesNearValid),
        psdt: Psdt::Sgl,
        dptr: [0; 16],
        image: MemoryImage::new(),
        intended: Vec::new(),
        descriptors: Vec::new(),
        mptr: 0,
        metadata: Vec::new(),
    };
    let kind = *u.choose(&Hostile::ALL)?;
    let mut layout = match kind {
        Hostile::SelfReferencingSegment if sgl => {
            let mut l = base;
            l.set_sgl1(seg(page0, 1, SglDescriptorType::Segment));
            l.descriptors = vec![(page0, bytes(&[seg(page0, 1, SglDescriptorType::Segment)]))];
            l
        }
        Hostile::MutuallyReferencingSegments if sgl => {
            let mut l = base;
            l.set_sgl1(seg(page0, 2, SglDescriptorType::Segment));
            let a = [
                data(slot(target, 0).addr, 0),
                seg(page1, 2, SglDescriptorType::Segment),
            ];
            let b = [
                data(slot(target, 1).addr, 0),
                seg(page0, 2, SglDescriptorType::Segment),
            ];
            l.descriptors = vec![(page0, bytes(&a)), (page1, bytes(&b))];
            l
        }
        Hostile::SegmentsWithoutData if sgl => {
            // A chain of segments that hold only an empty Data Block and a pointer on,
            // ending in data: valid, and refused by controllers that bound loops by "each
            // segment moves data".
            let mut l = base;
            let hops = u.int_in_range(1usize..=MAX_SEGMENTS)?;
            l.set_sgl1(seg(page0, 2, SglDescriptorType::Segment));
            for h in 0..hops {
                let here = descriptor_page(target, h);
                let next = descriptor_page(target, h.saturating_add(1));
                // Each segment on the way holds two descriptors; the last, one Data Block.
                let (kind, next_len) = if h.saturating_add(1) == hops {
                    (SglDescriptorType::LastSegment, 1)
                } else {
                    (SglDescriptorType::Segment, 2)
                };
                let d = [data(slot(target, h).addr, 0), seg(next, next_len, kind)];
                l.descriptors.push((here, bytes(&d)));
            }
            let last = descriptor_page(target, hops);
            let whole = Extent::new(slot(target, 0).addr, len);
            l.descriptors.push((last, bytes(&[data(whole.addr, len)])));
            l.intended = vec![Piece::Data(whole)];
            l
        }
        Hostile::LengthWrapsAddressSpace if sgl => {
            let mut l = base;
            // Ending past 2^64, not at it (a block that ends exactly at 2^64 is valid).
            let back = u.int_in_range(1..=len.saturating_sub(1).max(1))?;
            l.set_sgl1(data(u64::MAX.wrapping_sub(back).wrapping_add(1), len));
            l
        }
        Hostile::DescriptorsAcrossRegisterWindow => {
            let registers = target
                .space
                .registers
                .ok_or(arbitrary::Error::IncorrectFormat)?;
            let mut l = valid_prp(u, target, len, seed)?;
            // An SGL segment that starts just below the window and runs into it, or a PRP
            // list in it (a list is read only to its page's end, and the window starts a
            // page, so one below it would never reach it).
            if sgl && u.arbitrary()? {
                l = base;
                let at = registers.addr.saturating_sub(8);
                l.set_sgl1(seg(at, 2, SglDescriptorType::LastSegment));
            } else if l.descriptors.is_empty() {
                return Err(arbitrary::Error::IncorrectFormat);
            } else {
                let (prp1, _) = l.prps();
                l.dptr = Layout::prp(prp1, registers.addr);
                l.descriptors.clear();
            }
            l
        }
        Hostile::CmbMixedWithHostMemory => {
            // Data in the CMB, its list or segments in host memory.
            let mixed = data_in_cmb(target).ok_or(arbitrary::Error::IncorrectFormat)?;
            let l = if sgl && u.arbitrary()? {
                valid_sgl(u, &mixed, len, direction, seed)?
            } else {
                valid_prp(u, &mixed, len, seed)?
            };
            if l.descriptors.is_empty() {
                return Err(arbitrary::Error::IncorrectFormat);
            }
            l
        }
        Hostile::DescriptorsAcrossCmbEdge => {
            let cmb = target.space.cmb.ok_or(arbitrary::Error::IncorrectFormat)?;
            let mut l = valid_prp(u, target, len, seed)?;
            if l.descriptors.is_empty() {
                return Err(arbitrary::Error::IncorrectFormat);
            }
            // The list starts in host memory just below the buffer and runs into it.
            let (prp1, _) = l.prps();
            l.dptr = Layout::prp(prp1, cmb.addr.saturating_sub(8));
            l.descriptors.clear();
            l
        }
        Hostile::DataInRegisterWindow => {
            let registers = target
                .space
                .registers
                .ok_or(arbitrary::Error::IncorrectFormat)?;
            let mut l = base;
            l.psdt = Psdt::Prp;
            l.dptr = Layout::prp(registers.addr, 0);
            if len > target.page_size.bytes() {
                return Err(arbitrary::Error::IncorrectFormat);
            }
            l
        }
        Hostile::BytesNearValid
        | Hostile::SelfReferencingSegment
        | Hostile::MutuallyReferencingSegments
        | Hostile::SegmentsWithoutData
        | Hostile::LengthWrapsAddressSpace => {
            let mut l = if sgl && u.arbitrary()? {
                valid_sgl(u, target, len, direction, seed)?
            } else {
                valid_prp(u, target, len, seed)?
            };
            // Flip a few bytes of the data pointer or the descriptors.
            for _ in 0..u.int_in_range(1u8..=4)? {
                let flip = u.arbitrary::<u8>()? | 1;
                let which = u.int_in_range(0..=l.descriptors.len())?;
                match l.descriptors.get_mut(which) {
                    Some((_, bytes)) if !bytes.is_empty() => {
                        let at = u.int_in_range(0..=bytes.len().saturating_sub(1))?;
                        if let Some(b) = bytes.get_mut(at) {
                            *b ^= flip;
                        }
                    }
                    _ => {
                        let at = u.int_in_range(0..=15usize)?;
                        if let Some(b) = l.dptr.get_mut(at) {
                            *b ^= flip;
                        }
                    }
                }
            }
            l.label = Label::Hostile(Hostile::BytesNearValid);
            return Ok(l);
        }
    };
    layout.label = Label::Hostile(kind);
    let mut image = MemoryImage::new();
    fill_buffers(&mut image, &layout.intended, seed);
    layout.image = image;
    Ok(layout)
}

/// `target` with its data and descriptor space in its controller memory buffer (halves of
/// it), for a layout placed wholly there; `None` without a buffer.
pub(super) fn in_cmb(target: &Target) -> Option<Target> {
    let cmb = target.space.cmb?;
    let half = (cmb.len / 2) & !target.page_size.bytes().wrapping_sub(1);
    let mut moved = *target;
    moved.space.data = Extent::new(cmb.addr, half);
    moved.space.descriptors = Extent::new(cmb.addr.saturating_add(half), half);
    Some(moved)
}

/// `target` with its data in the controller memory buffer and its descriptors in host
/// memory: a layout that mixes the two, which the specification forbids.
pub(super) fn data_in_cmb(target: &Target) -> Option<Target> {
    let mut mixed = in_cmb(target)?;
    mixed.space.descriptors = target.space.descriptors;
    Some(mixed)
}

/// Add separate metadata to a valid layout: `len` bytes in one buffer MPTR points to, or,
/// for an SGL on a controller with metadata SGLs (SGLS bit 19), a metadata SGL of a few
/// pieces (PSDT 10b).
pub(super) fn with_metadata(
    u: &mut Unstructured<'_>,
    target: &Target,
    mut layout: Layout,
    len: u64,
    direction: Direction,
    seed: u64,
) -> Result<Layout> {
    // Metadata buffers live in the last data slot, clear of the data's.
    let area = slot(target, MAX_PIECES);
    let base = area.addr.saturating_add(0x100);
    let sgl = layout.psdt == Psdt::Sgl && target.sgls.contains(Sgls::MPTR_SGL) && u.arbitrary()?;
    if !sgl {
        let offset = u.int_in_range(0..=63u64)?.saturating_mul(4);
        let buffer = Extent::new(base.saturating_add(offset), len);
        layout.mptr = buffer.addr;
        layout.metadata = vec![Piece::Data(buffer)];
    } else {
        let count = u.int_in_range(1..=3usize)?;
        let mut pieces = Vec::new();
        let mut at = base;
        for take in cut(u, len, count, 4)? {
            pieces.push(Piece::Data(Extent::new(at, take)));
            at = at
                .saturating_add(take)
                .saturating_add(0x40)
                .next_multiple_of(4);
        }
        // The one-descriptor MPTR segment, then room for a chain, past the data's pages.
        let first = MAX_SEGMENTS.saturating_add(MAX_PIECES).saturating_add(2);
        let mut mptr_bytes = vec![0u8; 16];
        let mut chain: Vec<(u64, Vec<u8>)> = (1..=2)
            .map(|i| {
                (
                    descriptor_page(target, first.saturating_add(i)),
                    vec![0u8; 4 * 16],
                )
            })
            .collect();
        let mptr_addr = descriptor_page(target, first);
        let built = {
            let mut mptr_segment = SegmentBuf::new(mptr_addr, &mut mptr_bytes);
            let mut segments: Vec<SegmentBuf<'_>> = chain
                .iter_mut()
                .map(|(addr, bytes)| SegmentBuf::new(*addr, bytes))
                .collect();
            SglBuilder::new(crate::sgl::SglCaps::new(target.sgls), direction)
                .build_metadata(&pieces, &mut mptr_segment, &mut segments)
                .map_err(|_| arbitrary::Error::IncorrectFormat)?
        };
        chain.truncate(built.segments_used);
        layout.descriptors.push((mptr_addr, mptr_bytes));
        layout.descriptors.extend(chain);
        layout.mptr = built.mptr;
        layout.metadata = pieces;
        layout.psdt = Psdt::SglMetadataSgl;
        if matches!(layout.label, Label::Valid(_)) {
            layout.label = Label::Valid(Shape::MetadataSgl);
        }
    }
    fill_buffers(&mut layout.image, &layout.metadata, seed.rotate_left(17));
    Ok(layout)
}
