//! Writing: the caller's segment memory ([`SegmentBuf`]), its check against a plan ([`place`],
//! which writes nothing), and the writing of an accepted plan's descriptors into it.
//!
//! Writing trusts the plan (it checked every rule) and [`place`] (the memory holds the layout),
//! so that the common store is a length check and 16 bytes; the slow parts (moving to the next
//! segment, runs that take several descriptors, kinds other than data and bit buckets) are out
//! of line.

use zerocopy::little_endian::U64;
use zerocopy::FromBytes;

use super::chunk::{chunk_descriptor, max_chunk};
use super::{SglBuilder, SglPlan};
use crate::piece::{Flat, Kind, Piece};
use crate::sgl::descriptor::{SegmentKind, SegmentPointer, Sgl1, DESCRIPTOR_BYTES};
use crate::sgl::error::BuildError;
use crate::spec::{SglDescriptor, SglDescriptorType, SglSubtype};

/// Most descriptors one segment can hold: its length field is 32 bits.
const MAX_SEGMENT_DESCRIPTORS: u64 = (u32::MAX as u64) / DESCRIPTOR_BYTES;

/// One SGL segment buffer in memory the caller owns: its bus address and its bytes.
///
/// Its capacity is the caller's choice: a 256-byte pool block holds 16 descriptors, a 4 KiB
/// page 256. The bus address must be qword aligned. Trailing bytes that do not make a whole
/// 16-byte descriptor are left alone.
#[derive(Debug)]
pub struct SegmentBuf<'a> {
    pub(super) bus_addr: u64,
    slots: &'a mut [SglDescriptor],
}

impl<'a> SegmentBuf<'a> {
    /// A segment buffer at `bus_addr` whose bytes the builder may overwrite.
    pub fn new(bus_addr: u64, bytes: &'a mut [u8]) -> Self {
        let whole = bytes.len() / 16;
        let slots = match <[SglDescriptor]>::mut_from_prefix_with_elems(bytes, whole) {
            Ok((slots, _rest)) => slots,
            // Cannot happen (SglDescriptor is unaligned and `whole` slots fit); an empty
            // buffer is reported as too small if it ever did.
            Err(_) => &mut [],
        };
        SegmentBuf { bus_addr, slots }
    }

    /// Bus address of the first descriptor slot.
    #[inline]
    pub fn bus_addr(&self) -> u64 {
        self.bus_addr
    }

    /// How many descriptors the buffer can hold (at most `(2^32 - 1) / 16`, what one
    /// segment's 32-bit length can name).
    #[inline]
    pub fn capacity(&self) -> u64 {
        (self.slots.len() as u64).min(MAX_SEGMENT_DESCRIPTORS)
    }

    fn slot(&mut self, index: u64) -> Option<&mut SglDescriptor> {
        self.slots.get_mut(usize::try_from(index).ok()?)
    }
}

impl SglBuilder {
    /// Write the descriptors of an accepted plan into segments already checked by [`place`],
    /// and return SGL1.
    pub(crate) fn write<I>(
        &self,
        pieces: I,
        plan: &SglPlan,
        segments: &mut [SegmentBuf<'_>],
    ) -> Sgl1
    where
        I: IntoIterator,
        I::Item: Into<Piece>,
    {
        self.write_pieces(pieces, plan, segments, false)
    }

    /// [`SglBuilder::write`], told whether every piece makes a descriptor of its own
    /// (`one_each`, from [`SglBuilder::plan_shaped`]).
    #[inline(always)]
    pub(super) fn write_pieces<I>(
        &self,
        pieces: I,
        plan: &SglPlan,
        segments: &mut [SegmentBuf<'_>],
        one_each: bool,
    ) -> Sgl1
    where
        I: IntoIterator,
        I::Item: Into<Piece>,
    {
        if plan.inline {
            // One run that fits one descriptor (the plan checked): the pieces merge into it.
            let mut run = Flat::NONE;
            for item in pieces {
                let piece = Flat::of(&item.into());
                if piece.len != 0 {
                    run.push(piece);
                }
            }
            let len = u32::try_from(run.len).unwrap_or(u32::MAX);
            return Sgl1::data(chunk_descriptor(&run, 0, len));
        }
        let granular = self.caps.dword_granular();
        let mut chain = SegmentChain::new(segments, plan.descriptors, granular);
        let mut slots = chain.enter();
        let sgl1 = chain.first_pointer();
        if one_each {
            // Every piece is a data block or a bit bucket that fits one descriptor (the scan
            // that said `one_each` checked).
            let mut pieces = pieces.into_iter();
            while !slots.is_empty() {
                let mut free = slots.iter_mut();
                for (slot, item) in (&mut free).zip(&mut pieces) {
                    *slot = plain_descriptor(&Flat::of(&item.into()));
                }
                if free.len() != 0 {
                    break; // no piece left
                }
                slots = chain.next_segment();
            }
            return sgl1;
        }
        // Merge the pieces into runs again, exactly as `plan` did, and write each run.
        let mut pending = Flat::NONE;
        for item in pieces {
            let piece = Flat::of(&item.into());
            if piece.len == 0 {
                continue;
            }
            if let Some(run) = pending.push(piece) {
                slots = write_run(slots, &mut chain, run);
            }
        }
        if pending.len != 0 {
            write_run(slots, &mut chain, pending);
        }
        sgl1
    }
}

/// Write `first` into the MPTR segment (already checked by `plan_metadata`).
pub(crate) fn write_metadata_pointer(mptr_segment: &mut SegmentBuf<'_>, first: Sgl1) {
    if let Some(slot) = mptr_segment.slot(0) {
        *slot = first.to_raw();
    }
}

/// The most common layout that needs segment memory, without the chain machinery: every
/// piece a plain descriptor of its own (`one_each` from the plan), all `descriptors` of them
/// in the first segment buffer, which SGL1 then names as the Last Segment. Checks what
/// [`place`] checks of that buffer and writes only if it holds them; SGL1, or `None` with
/// nothing written (then [`place`] and the writer take the layout, and name what is wrong).
#[inline(always)]
pub(super) fn write_one_segment<I>(
    first: &mut SegmentBuf<'_>,
    descriptors: u64,
    pieces: I,
) -> Option<Sgl1>
where
    I: IntoIterator,
    I::Item: Into<Piece>,
{
    // At most the buffer's capacity, below 2^28, so the byte count fits 32 bits.
    let bytes = descriptors.checked_mul(DESCRIPTOR_BYTES)?;
    if first.bus_addr & 7 != 0
        || descriptors > first.capacity()
        || first.bus_addr.checked_add(bytes).is_none()
    {
        return None;
    }
    let len = u32::try_from(bytes).ok()?;
    let slots = first.slots.get_mut(..usize::try_from(descriptors).ok()?)?;
    for (slot, item) in slots.iter_mut().zip(pieces) {
        *slot = plain_descriptor(&Flat::of(&item.into()));
    }
    Some(Sgl1::segment(SegmentPointer {
        addr: first.bus_addr,
        len,
        kind: SegmentKind::LastSegment,
    }))
}

/// How a segment buffer of `capacity` descriptors is used when `remaining` data descriptors
/// are still to be written: `(data descriptors in it, whether it points onward)`.
const fn segment_share(remaining: u64, capacity: u64) -> (u64, bool) {
    if remaining <= capacity {
        (remaining, false)
    } else {
        (capacity.saturating_sub(1), true)
    }
}

/// Check that `segments` can hold the plan's descriptors and return how many buffers the
/// layout uses. Writes nothing.
pub(crate) fn place(plan: &SglPlan, segments: &[SegmentBuf<'_>]) -> Result<usize, BuildError> {
    if plan.inline {
        return Ok(0);
    }
    let mut remaining = plan.descriptors;
    for (segment, buf) in segments.iter().enumerate() {
        if buf.bus_addr & 7 != 0 {
            return Err(BuildError::SegmentMisaligned {
                segment,
                addr: buf.bus_addr,
            });
        }
        let capacity = buf.capacity();
        let (data, onward) = segment_share(remaining, capacity);
        if onward && capacity < 2 {
            return Err(BuildError::SegmentTooSmall { segment, capacity });
        }
        let slots = data.saturating_add(u64::from(onward));
        // Slots are at most 2^28, so the byte count fits; the segment must end below 2^64.
        if buf
            .bus_addr
            .checked_add(slots.saturating_mul(DESCRIPTOR_BYTES))
            .is_none()
        {
            return Err(BuildError::SegmentOverflow {
                segment,
                addr: buf.bus_addr,
            });
        }
        remaining = remaining.saturating_sub(data);
        if !onward {
            return Ok(segment.saturating_add(1));
        }
    }
    Err(BuildError::SegmentMemoryTooSmall {
        descriptors: plan.descriptors,
        given: segments.len(),
    })
}

/// An empty Data Block descriptor (type 0h, subtype Address), to fill in: cheaper than
/// building each one from scratch.
const DATA_BLOCK: SglDescriptor =
    SglDescriptor::new(0, 0, SglDescriptorType::DataBlock, SglSubtype::Address);

/// An empty Bit Bucket descriptor, to fill in.
const BIT_BUCKET: SglDescriptor =
    SglDescriptor::new(0, 0, SglDescriptorType::BitBucket, SglSubtype::Address);

/// The segment chain a write walks through, for segments already checked by [`place`]: the
/// slow part of writing (moving to the next segment and pointing to it). The slots being
/// written are a plain slice held by the writing loop, so that the common store is a length
/// check and 16 bytes.
struct SegmentChain<'s, 'a> {
    /// Segment buffers after the current one.
    rest: core::slice::IterMut<'s, SegmentBuf<'a>>,
    /// The current segment's last slot, when it points onward.
    onward: Option<&'s mut SglDescriptor>,
    /// Where SGL1 points: the first segment's address and capacity.
    first: (u64, u64),
    /// Data descriptors not yet written when the current segment was entered.
    left: u64,
    /// Data descriptors the current segment holds.
    here: u64,
    /// Dword-granular mode (a descriptor then carries at most 4 GiB - 4 bytes).
    granular: bool,
}

/// The pointer to a segment at `addr` with `capacity` slots that will hold the data
/// descriptors from `left` on.
fn pointer_to(addr: u64, capacity: u64, left: u64) -> SegmentPointer {
    let (data, onward) = segment_share(left, capacity);
    let kind = if onward {
        SegmentKind::Segment
    } else {
        SegmentKind::LastSegment
    };
    let slots = data.saturating_add(u64::from(onward));
    // `place` checked that the buffer holds `slots`, at most 2^28 - 1.
    let descriptors = u32::try_from(slots).unwrap_or(u32::MAX);
    SegmentPointer::new(addr, descriptors, kind).unwrap_or(SegmentPointer {
        addr,
        len: u32::MAX,
        kind,
    })
}

impl<'s, 'a> SegmentChain<'s, 'a> {
    /// The chain for `descriptors` data descriptors, not yet in a segment ([`enter`] the
    /// first). Returned on its own rather than with the first segment's slots: a tuple would
    /// copy the chain right after its fields were stored, and wait for those stores.
    ///
    /// [`enter`]: SegmentChain::enter
    #[inline]
    fn new(segments: &'s mut [SegmentBuf<'a>], descriptors: u64, granular: bool) -> Self {
        let first = segments
            .first()
            .map_or((0, 0), |s| (s.bus_addr, s.capacity()));
        SegmentChain {
            rest: segments.iter_mut(),
            onward: None,
            first,
            left: descriptors,
            here: 0,
            granular,
        }
    }

    /// SGL1: the pointer to the first segment.
    #[inline]
    fn first_pointer(&self) -> Sgl1 {
        Sgl1::segment(pointer_to(self.first.0, self.first.1, self.left))
    }

    /// Move to the next segment buffer and return its data slots, keeping its last slot for
    /// the pointer onward when there is one. No slots when there is no buffer left.
    fn enter(&mut self) -> &'s mut [SglDescriptor] {
        let Some(next) = self.rest.next() else {
            return &mut [];
        };
        let (here, onward) = segment_share(self.left, next.capacity());
        let slots: &'s mut [SglDescriptor] = next.slots;
        let split = usize::try_from(here).unwrap_or(0).min(slots.len());
        let (data, after) = slots.split_at_mut(split);
        self.onward = if onward { after.first_mut() } else { None };
        self.here = here;
        data
    }

    /// The current segment's data slots are full: write the pointer onward in its last slot
    /// and return the next segment's data slots.
    #[cold]
    #[inline(never)]
    fn next_segment(&mut self) -> &'s mut [SglDescriptor] {
        // Neither `None` can happen: `place` checked that the memory holds the layout.
        let Some(slot) = self.onward.take() else {
            return &mut [];
        };
        let Some(next) = self.rest.as_slice().first() else {
            return &mut [];
        };
        self.left = self.left.saturating_sub(self.here);
        *slot = pointer_to(next.bus_addr, next.capacity(), self.left).to_raw();
        self.enter()
    }
}

/// Store `raw` in the next slot, moving to the next segment when `slots` is used up; the
/// slots left.
#[inline(always)]
fn put<'s>(
    slots: &'s mut [SglDescriptor],
    chain: &mut SegmentChain<'s, '_>,
    raw: SglDescriptor,
) -> &'s mut [SglDescriptor] {
    let slots = if slots.is_empty() {
        chain.next_segment()
    } else {
        slots
    };
    match slots.split_first_mut() {
        Some((slot, rest)) => {
            *slot = raw;
            rest
        }
        None => &mut [], // cannot happen: `place` checked that the memory holds the layout
    }
}

/// The descriptor for a data or bit bucket `piece` already checked to fit one descriptor
/// (its length below 2^32), made as two 8-byte words: the address, and the length with the
/// identifier byte on top.
#[inline(always)]
fn plain_descriptor(piece: &Flat) -> SglDescriptor {
    let (identifier, addr) = if piece.kind == Kind::Skip {
        (BIT_BUCKET.identifier(), 0)
    } else {
        (DATA_BLOCK.identifier(), piece.start)
    };
    let words = [
        U64::new(addr),
        U64::new(piece.len | u64::from(identifier) << 56),
    ];
    zerocopy::transmute!(words)
}

/// Write the descriptor(s) for one run; the slots left.
#[inline(always)]
fn write_run<'s>(
    slots: &'s mut [SglDescriptor],
    chain: &mut SegmentChain<'s, '_>,
    run: Flat,
) -> &'s mut [SglDescriptor] {
    // The common case: data or a bit bucket that fits one descriptor. The other kinds, and
    // runs that need several descriptors, take the general path.
    if !matches!(run.kind, Kind::Data | Kind::Skip) || run.len > max_chunk(run.kind, chain.granular)
    {
        return write_general(slots, chain, run.kind, run.key, run.start, run.len);
    }
    put(slots, chain, plain_descriptor(&run))
}

/// Any run (as fields, so that they pass in registers): cut into descriptors of at most the
/// maximum chunk; the slots left.
#[cold]
#[inline(never)]
fn write_general<'s>(
    mut slots: &'s mut [SglDescriptor],
    chain: &mut SegmentChain<'s, '_>,
    kind: Kind,
    key: u32,
    start: u64,
    len: u64,
) -> &'s mut [SglDescriptor] {
    let run = Flat {
        kind,
        key,
        start,
        len,
    };
    let max = max_chunk(kind, chain.granular);
    let mut done = 0;
    while done < len {
        let take = len.wrapping_sub(done).min(max);
        // At most `max`, which fits 32 bits.
        let chunk = u32::try_from(take).unwrap_or(u32::MAX);
        slots = put(slots, chain, chunk_descriptor(&run, done, chunk).to_raw());
        done = done.wrapping_add(take);
    }
    slots
}
