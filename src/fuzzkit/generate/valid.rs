//! Valid layouts from the crate's builders: PRPs, SGLs, separate metadata, and placement in the
//! controller memory buffer.

use alloc::vec;
use alloc::vec::Vec;

use arbitrary::{Result, Unstructured};

use super::*;

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
pub(in crate::fuzzkit) fn valid_prp(
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
pub(in crate::fuzzkit) fn valid_sgl(
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

/// `target` with its data and descriptor space in its controller memory buffer (halves of
/// it), for a layout placed wholly there; `None` without a buffer.
pub(in crate::fuzzkit) fn in_cmb(target: &Target) -> Option<Target> {
    let cmb = target.space.cmb?;
    let half = (cmb.len / 2) & !target.page_size.bytes().wrapping_sub(1);
    let mut moved = *target;
    moved.space.data = Extent::new(cmb.addr, half);
    moved.space.descriptors = Extent::new(cmb.addr.saturating_add(half), half);
    Some(moved)
}

/// `target` with its data in the controller memory buffer and its descriptors in host
/// memory: a layout that mixes the two, which the specification forbids.
pub(in crate::fuzzkit) fn data_in_cmb(target: &Target) -> Option<Target> {
    let mut mixed = in_cmb(target)?;
    mixed.space.descriptors = target.space.descriptors;
    Some(mixed)
}

/// Add separate metadata to a valid layout: `len` bytes in one buffer MPTR points to, or,
/// for an SGL on a controller with metadata SGLs (SGLS bit 19), a metadata SGL of a few
/// pieces (PSDT 10b).
pub(in crate::fuzzkit) fn with_metadata(
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
