//! Host side: turn pieces of a transfer into SGL1 and a chain of segments.
//!
//! Building happens in two steps, both allocation-free:
//!
//! 1. [`SglBuilder::plan`] checks the pieces against the controller's capabilities, merges
//!    physically adjacent ones, and counts the descriptors the layout needs. Nothing is written.
//! 2. [`SglBuilder::build`] checks the caller's segment memory against that plan, and only
//!    then writes descriptors. A refused build leaves segment memory untouched.
//!
//! The layout is the smallest the rules allow:
//!
//! * one descriptor (one physically contiguous run of at most 4 GiB - 1 bytes): SGL1 is that
//!   data descriptor, and no segment memory is touched;
//! * descriptors that fit the first segment buffer: SGL1 is a Last Segment descriptor;
//! * more: each segment buffer but the last is filled to its capacity, its last slot holding
//!   the pointer onward: a Segment descriptor when more than one segment follows, a Last
//!   Segment descriptor before the final one. A buffer that holds exactly the remaining
//!   descriptors ends the chain (no pointer is spent there).

use zerocopy::FromBytes;

use super::caps::{Capability, SglCaps};
use super::descriptor::{
    DataDescriptor, SegmentKind, SegmentPointer, Sgl1, DESCRIPTOR_BYTES, MAX_KEYED_LEN,
};
use super::error::BuildError;
use super::segment::SglSegment;
use super::Direction;
use crate::extent::Extent;
use crate::spec::{SglDescriptor, SglSubtype};

/// Most descriptors one segment can hold: its length field is 32 bits.
const MAX_SEGMENT_DESCRIPTORS: u64 = (u32::MAX as u64) / DESCRIPTOR_BYTES;

/// The transport-specific subtype the builder gives Transport SGL Data Blocks (Ah, the one
/// NVMe/TCP uses).
const TRANSPORT_SUBTYPE: SglSubtype = SglSubtype::TransportSpecific(0xA);

/// One SGL segment buffer in memory the caller owns: its bus address and its bytes.
///
/// Its capacity is the caller's choice: a 256-byte pool block holds 16 descriptors, a 4 KiB
/// page 256. The bus address must be qword aligned. Trailing bytes that do not make a whole
/// 16-byte descriptor are left alone.
#[derive(Debug)]
pub struct SegmentBuf<'a> {
    bus_addr: u64,
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
    pub fn bus_addr(&self) -> u64 {
        self.bus_addr
    }

    /// How many descriptors the buffer can hold (at most `(2^32 - 1) / 16`, what one
    /// segment's 32-bit length can name).
    pub fn capacity(&self) -> u64 {
        (self.slots.len() as u64).min(MAX_SEGMENT_DESCRIPTORS)
    }

    fn slot(&mut self, index: u64) -> Option<&mut SglDescriptor> {
        self.slots.get_mut(usize::try_from(index).ok()?)
    }
}

/// Builds SGL layouts for one controller, one direction and, optionally, a maximum and an
/// exact transfer length.
///
/// ```
/// use nvme_dma::Extent;
/// use nvme_dma::sgl::{Direction, Sgl1, SglBuilder, SglCaps, DataDescriptor, Descriptor};
/// use nvme_dma::spec::{SglSupport, Sgls};
///
/// let caps = SglCaps::new(Sgls::from_support(SglSupport::ByteAligned));
/// let builder = SglBuilder::new(caps, Direction::Write);
/// // Two physically adjacent extents are one run: one inline Data Block, no segment memory.
/// let layout = builder.build(&[Extent::new(0x1000, 0x800), Extent::new(0x1800, 0x803)], &mut [])?;
/// assert_eq!(
///     layout.sgl1.descriptor(),
///     Descriptor::Data(DataDescriptor::Block { addr: 0x1000, len: 0x1003 })
/// );
/// # Ok::<(), nvme_dma::sgl::BuildError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SglBuilder {
    caps: SglCaps,
    direction: Direction,
    max_transfer: Option<u64>,
    transfer_len: Option<u64>,
}

/// What a list of pieces needs as an SGL: the result of [`SglBuilder::plan`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SglPlan {
    len: u64,
    transfer: u64,
    runs: u64,
    descriptors: u64,
    data_blocks: u64,
    /// The only descriptor, when there is exactly one.
    inline: Option<DataDescriptor>,
    sdt: Option<u8>,
}

/// A built SGL layout: SGL1 for the command and what was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SglLayout {
    /// The descriptor for the command's DPTR.
    pub sgl1: Sgl1,
    /// The plan the layout was built from.
    pub plan: SglPlan,
    /// Segment buffers written (0 when SGL1 is a data descriptor).
    pub segments_used: usize,
}

/// A built metadata SGL (PSDT 10b): MPTR and what was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MetadataLayout {
    /// The value for the command's MPTR: the bus address of the one-descriptor segment.
    pub mptr: u64,
    /// The descriptor written there (the metadata SGL's first descriptor).
    pub first: Sgl1,
    /// The plan the metadata SGL was built from.
    pub plan: SglPlan,
    /// Segment buffers written beyond the MPTR segment.
    pub segments_used: usize,
}

impl SglBuilder {
    /// A builder for a controller with `caps`, for transfers in `direction`, with no limit on
    /// the transfer size; the transfer length is what the pieces describe.
    pub const fn new(caps: SglCaps, direction: Direction) -> Self {
        SglBuilder {
            caps,
            direction,
            max_transfer: None,
            transfer_len: None,
        }
    }

    /// Refuse transfers longer than `bytes` (the controller's MDTS in bytes).
    pub const fn with_max_transfer(mut self, bytes: u64) -> Self {
        self.max_transfer = Some(bytes);
        self
    }

    /// The command transfers exactly `bytes`. Pieces that describe fewer are refused; pieces
    /// that describe more are accepted only when the controller supports SGLs longer than
    /// their data (LLDTS). Without this, the transfer is exactly what the pieces describe.
    pub const fn with_transfer_len(mut self, bytes: u64) -> Self {
        self.transfer_len = Some(bytes);
        self
    }

    /// The capabilities the builder honours.
    pub const fn caps(&self) -> &SglCaps {
        &self.caps
    }

    /// The transfer direction.
    pub const fn direction(&self) -> Direction {
        self.direction
    }

    /// Check the pieces against the SGL rules and the controller's capabilities, and count
    /// what the layout needs.
    ///
    /// Accepts `&[Extent]`, `&[SglSegment]`, arrays, or any cloneable iterator of either.
    /// Empty pieces are skipped (their `index` still counts in errors). Physically adjacent
    /// pieces merge into one run; a run longer than one descriptor can carry (4 GiB - 1 bytes,
    /// 16 MiB - 1 for keyed data) takes several descriptors.
    ///
    /// The rules: SGLs are supported at all; each piece's kind is supported (bit buckets,
    /// keyed, transport and offset-addressed data each need their SGLS bit) and a bit bucket
    /// is only in a read; no piece runs past 2^64 (or past the in-capsule data); in
    /// dword-granular mode every data run starts and ends on a dword boundary; the total is
    /// non-zero, within the maximum transfer, and covers the transfer length (exceeding it
    /// only with LLDTS); data blocks number at most MSDBD.
    pub fn plan<I>(&self, pieces: I) -> Result<SglPlan, BuildError>
    where
        I: IntoIterator,
        I::Item: Into<SglSegment>,
    {
        if !self.caps.supported() {
            return Err(BuildError::NotSupported {
                capability: Capability::Sgl,
            });
        }
        let mut plan = SglPlan {
            len: 0,
            transfer: 0,
            runs: 0,
            descriptors: 0,
            data_blocks: 0,
            inline: None,
            sdt: self.caps.sdt(),
        };
        let mut pending: Option<(usize, SglSegment)> = None;
        for (index, item) in pieces.into_iter().enumerate() {
            let piece: SglSegment = item.into();
            if piece.is_empty() {
                continue;
            }
            self.check_piece(index, &piece)?;
            plan.len = plan
                .len
                .checked_add(piece.len())
                .ok_or(BuildError::TransferTooLong {
                    len: u64::MAX,
                    max: self.max_transfer.unwrap_or(u64::MAX),
                })?;
            let merged = pending
                .as_mut()
                .is_some_and(|(_, run)| run.try_merge(&piece));
            if !merged {
                if let Some((first, run)) = pending.replace((index, piece)) {
                    self.close_run(&mut plan, first, run)?;
                }
            }
        }
        if let Some((first, run)) = pending {
            self.close_run(&mut plan, first, run)?;
        }
        if plan.len == 0 {
            return Err(BuildError::EmptyTransfer);
        }
        plan.transfer = self.transfer_len.unwrap_or(plan.len);
        if let Some(max) = self.max_transfer {
            if plan.transfer > max {
                return Err(BuildError::TransferTooLong {
                    len: plan.transfer,
                    max,
                });
            }
        }
        if plan.len < plan.transfer {
            return Err(BuildError::ShorterThanTransfer {
                described: plan.len,
                transfer: plan.transfer,
            });
        }
        if plan.len > plan.transfer && !self.caps.has(Capability::Lldts) {
            return Err(BuildError::LongerThanTransfer {
                described: plan.len,
                transfer: plan.transfer,
            });
        }
        if let Some(msdbd) = self.caps.msdbd() {
            if plan.data_blocks > u64::from(msdbd) {
                return Err(BuildError::TooManyDataBlocks {
                    count: plan.data_blocks,
                    msdbd,
                });
            }
        }
        if plan.descriptors != 1 {
            plan.inline = None;
        }
        Ok(plan)
    }

    /// The rules one piece must satisfy on its own.
    fn check_piece(&self, index: usize, piece: &SglSegment) -> Result<(), BuildError> {
        let needs = |capability| {
            if self.caps.has(capability) {
                Ok(())
            } else {
                Err(BuildError::PieceNotSupported {
                    index,
                    piece: *piece,
                    capability,
                })
            }
        };
        match *piece {
            SglSegment::Data(extent) | SglSegment::Keyed { extent, .. } => {
                if matches!(piece, SglSegment::Keyed { .. }) {
                    needs(Capability::Keyed)?;
                }
                if !extent.fits_address_space() {
                    return Err(BuildError::AddressOverflow {
                        index,
                        piece: *piece,
                    });
                }
            }
            SglSegment::Skip(len) => {
                if self.direction == Direction::Write {
                    return Err(BuildError::SkipInWrite { index, len });
                }
                needs(Capability::BitBucket)?;
            }
            SglSegment::Capsule { offset, len } => {
                needs(Capability::AddressAsOffset)?;
                let capsule = self.caps.capsule_data();
                if offset.checked_add(len).map_or(true, |end| end > capsule) {
                    return Err(BuildError::OutsideCapsule {
                        index,
                        offset,
                        len,
                        capsule,
                    });
                }
            }
            SglSegment::Transport(_) => needs(Capability::TransportDataBlock)?,
        }
        Ok(())
    }

    /// Account for one merged run: its granularity, and the descriptors it takes.
    fn close_run(
        &self,
        plan: &mut SglPlan,
        first: usize,
        run: SglSegment,
    ) -> Result<(), BuildError> {
        let granular = self.caps.dword_granular();
        if granular {
            let start = match run {
                SglSegment::Data(extent) => Some(extent.addr),
                SglSegment::Capsule { offset, .. } => Some(offset),
                _ => None,
            };
            if let Some(start) = start {
                if (start | run.len()) & 3 != 0 {
                    return Err(BuildError::Granularity {
                        index: first,
                        run: Extent::new(start, run.len()),
                    });
                }
            }
        }
        let count = run.len().div_ceil(max_chunk(&run, granular));
        plan.runs = plan.runs.saturating_add(1);
        plan.descriptors = plan.descriptors.saturating_add(count);
        if !matches!(run, SglSegment::Skip(_)) {
            plan.data_blocks = plan.data_blocks.saturating_add(count);
        }
        if plan.inline.is_none() {
            plan.inline = Chunks::new(run, granular).next();
        }
        Ok(())
    }

    /// Build the layout for `pieces`, writing descriptors into `segments` when they do not fit
    /// SGL1 alone.
    ///
    /// `segments[0]` is the segment SGL1 will point at; further buffers are used in order as
    /// the chain continues. Supply at least [`SglPlan::segments_needed`] of them. On error
    /// nothing has been written.
    pub fn build<I>(
        &self,
        pieces: I,
        segments: &mut [SegmentBuf<'_>],
    ) -> Result<SglLayout, BuildError>
    where
        I: IntoIterator + Clone,
        I::Item: Into<SglSegment>,
    {
        let plan = self.plan(pieces.clone())?;
        let segments_used = place(&plan, segments)?;
        let sgl1 = self.write(pieces, &plan, segments);
        Ok(SglLayout {
            sgl1,
            plan,
            segments_used,
        })
    }

    /// Build a metadata SGL for PSDT 10b: MPTR points at `mptr_segment`, which receives exactly
    /// one descriptor, the metadata SGL's first; `segments` take the rest of the chain as in
    /// [`SglBuilder::build`]. Needs MSDS (SGLS bit 19). On error nothing has been written.
    pub fn build_metadata<I>(
        &self,
        pieces: I,
        mptr_segment: &mut SegmentBuf<'_>,
        segments: &mut [SegmentBuf<'_>],
    ) -> Result<MetadataLayout, BuildError>
    where
        I: IntoIterator + Clone,
        I::Item: Into<SglSegment>,
    {
        let plan = self.plan_metadata(pieces.clone(), mptr_segment)?;
        let segments_used = place(&plan, segments)?;
        let first = self.write(pieces, &plan, segments);
        write_metadata_pointer(mptr_segment, first);
        Ok(MetadataLayout {
            mptr: mptr_segment.bus_addr,
            first,
            plan,
            segments_used,
        })
    }

    /// The checks of [`SglBuilder::build_metadata`] that do not touch `segments`.
    pub(crate) fn plan_metadata<I>(
        &self,
        pieces: I,
        mptr_segment: &SegmentBuf<'_>,
    ) -> Result<SglPlan, BuildError>
    where
        I: IntoIterator,
        I::Item: Into<SglSegment>,
    {
        if !self.caps.has(Capability::MetadataSgl) {
            return Err(BuildError::NotSupported {
                capability: Capability::MetadataSgl,
            });
        }
        let plan = self.plan(pieces)?;
        if mptr_segment.bus_addr & 7 != 0 {
            return Err(BuildError::MetadataMisaligned {
                addr: mptr_segment.bus_addr,
                align: 8,
            });
        }
        if mptr_segment.capacity() == 0 {
            return Err(BuildError::SegmentMemoryTooSmall {
                descriptors: 1,
                given: 0,
            });
        }
        if mptr_segment
            .bus_addr
            .checked_add(DESCRIPTOR_BYTES)
            .is_none()
        {
            return Err(BuildError::SegmentOverflow {
                segment: 0,
                addr: mptr_segment.bus_addr,
            });
        }
        Ok(plan)
    }

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
        I::Item: Into<SglSegment>,
    {
        if let Some(only) = plan.inline {
            return Sgl1::data(only);
        }
        let granular = self.caps.dword_granular();
        let mut writer = SegmentWriter::new(segments, plan.descriptors);
        let sgl1 = writer.first_pointer();
        for run in Runs::new(pieces.into_iter()) {
            for descriptor in Chunks::new(run, granular) {
                writer.push(descriptor);
            }
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
    if plan.inline.is_some() {
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

impl SglPlan {
    /// Bytes the pieces describe (bit buckets included).
    pub const fn len(&self) -> u64 {
        self.len
    }

    /// Always false: a plan describes at least one byte.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes the command transfers (equal to [`SglPlan::len`] unless the builder was given a
    /// shorter transfer length and the controller supports LLDTS).
    pub const fn transfer_len(&self) -> u64 {
        self.transfer
    }

    /// Runs after merging physically adjacent pieces.
    pub const fn runs(&self) -> u64 {
        self.runs
    }

    /// Data descriptors (data blocks of every kind and bit buckets) the layout holds.
    pub const fn descriptors(&self) -> u64 {
        self.descriptors
    }

    /// Data block descriptors (what MSDBD counts: every data descriptor but bit buckets).
    pub const fn data_blocks(&self) -> u64 {
        self.data_blocks
    }

    /// True when SGL1 alone describes the transfer (one descriptor, no segment memory).
    pub const fn is_inline(&self) -> bool {
        self.inline.is_some()
    }

    /// True when the layout holds more data descriptors than the controller's SDT recommends.
    /// Legal, but the controller says it may be slow; [`dptr`](crate::dptr) policies can take
    /// it into account.
    pub const fn exceeds_sdt(&self) -> bool {
        match self.sdt {
            Some(sdt) => self.descriptors > sdt as u64,
            None => false,
        }
    }

    /// How many segment buffers of `capacity` descriptors each the layout needs: none when
    /// inline, one when the descriptors fit, otherwise
    /// `1 + ceil((descriptors - capacity) / (capacity - 1))` (every buffer that continues
    /// spends a slot on the pointer onward). `u64::MAX` when `capacity < 2` cannot chain.
    pub const fn segments_needed(&self, capacity: u64) -> u64 {
        if self.inline.is_some() {
            return 0;
        }
        if self.descriptors <= capacity {
            return 1;
        }
        if capacity < 2 {
            return u64::MAX;
        }
        let beyond = self.descriptors.saturating_sub(capacity);
        1u64.saturating_add(beyond.div_ceil(capacity.saturating_sub(1)))
    }

    /// Bytes of segment memory the layout writes (and a controller fetches), with segment
    /// buffers of `capacity` descriptors: every data descriptor and every pointer onward,
    /// 16 bytes each. Zero when inline.
    pub const fn footprint(&self, capacity: u64) -> u64 {
        let segments = self.segments_needed(capacity);
        if segments == 0 {
            return 0;
        }
        self.descriptors
            .saturating_add(segments.saturating_sub(1))
            .saturating_mul(DESCRIPTOR_BYTES)
    }
}

/// The longest piece one descriptor of `run`'s kind can carry. In dword-granular mode the
/// limit is rounded down to a multiple of 4, so every descriptor after a cut stays aligned.
const fn max_chunk(run: &SglSegment, granular: bool) -> u64 {
    let max = match run {
        SglSegment::Keyed { .. } => MAX_KEYED_LEN as u64,
        _ => u32::MAX as u64,
    };
    if granular {
        max & !3
    } else {
        max
    }
}

/// Merges pieces into runs, skipping empty ones: the build pass's view of what `plan` saw.
struct Runs<I> {
    inner: I,
    pending: Option<SglSegment>,
}

impl<I> Runs<I> {
    fn new(inner: I) -> Self {
        Runs {
            inner,
            pending: None,
        }
    }
}

impl<I> Iterator for Runs<I>
where
    I: Iterator,
    I::Item: Into<SglSegment>,
{
    type Item = SglSegment;

    fn next(&mut self) -> Option<SglSegment> {
        for item in self.inner.by_ref() {
            let piece: SglSegment = item.into();
            if piece.is_empty() {
                continue;
            }
            let merged = self
                .pending
                .as_mut()
                .is_some_and(|run| run.try_merge(&piece));
            if !merged {
                if let Some(done) = self.pending.replace(piece) {
                    return Some(done);
                }
            }
        }
        self.pending.take()
    }
}

/// Cuts one run into descriptors of at most [`max_chunk`] bytes.
struct Chunks {
    run: SglSegment,
    max: u64,
}

impl Chunks {
    const fn new(run: SglSegment, granular: bool) -> Self {
        Chunks {
            max: max_chunk(&run, granular),
            run,
        }
    }
}

impl Iterator for Chunks {
    type Item = DataDescriptor;

    fn next(&mut self) -> Option<DataDescriptor> {
        let total = self.run.len();
        if total == 0 {
            return None;
        }
        let take = total.min(self.max);
        // `take` is at most `max`, which fits 32 bits.
        let len = u32::try_from(take).unwrap_or(u32::MAX);
        let rest = total.wrapping_sub(take);
        // Runs fit the address space (checked by `plan`), so start + take does not overflow.
        let (descriptor, next) = match self.run {
            SglSegment::Data(e) => (
                DataDescriptor::Block { addr: e.addr, len },
                SglSegment::Data(Extent::new(e.addr.wrapping_add(take), rest)),
            ),
            SglSegment::Skip(_) => (DataDescriptor::BitBucket { len }, SglSegment::Skip(rest)),
            SglSegment::Keyed { extent: e, key } => (
                DataDescriptor::Keyed {
                    addr: e.addr,
                    len,
                    key,
                    subtype: SglSubtype::Address,
                },
                SglSegment::Keyed {
                    extent: Extent::new(e.addr.wrapping_add(take), rest),
                    key,
                },
            ),
            SglSegment::Capsule { offset, .. } => (
                DataDescriptor::CapsuleBlock { offset, len },
                SglSegment::Capsule {
                    offset: offset.wrapping_add(take),
                    len: rest,
                },
            ),
            SglSegment::Transport(_) => (
                DataDescriptor::Transport {
                    len,
                    subtype: TRANSPORT_SUBTYPE,
                },
                SglSegment::Transport(rest),
            ),
        };
        self.run = next;
        Some(descriptor)
    }
}

/// Writes data descriptors into segments already checked by [`place`], chaining as it goes.
struct SegmentWriter<'s, 'a> {
    segments: &'s mut [SegmentBuf<'a>],
    segment: usize,
    slot: u64,
    /// Data slots left in the current segment before it points onward (or ends).
    room: u64,
    /// Whether the current segment points onward once its data slots are full.
    onward: bool,
    /// Data descriptors not yet written.
    left: u64,
}

impl<'s, 'a> SegmentWriter<'s, 'a> {
    fn new(segments: &'s mut [SegmentBuf<'a>], descriptors: u64) -> Self {
        let capacity = segments.first().map_or(0, SegmentBuf::capacity);
        let (room, onward) = segment_share(descriptors, capacity);
        SegmentWriter {
            segments,
            segment: 0,
            slot: 0,
            room,
            onward,
            left: descriptors,
        }
    }

    /// The descriptor that points at segment `index`, which will hold the data descriptors
    /// from `left` on.
    fn pointer_to(&self, index: usize, left: u64) -> SegmentPointer {
        let (addr, capacity) = self
            .segments
            .get(index)
            .map_or((0, 0), |s| (s.bus_addr, s.capacity()));
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

    /// SGL1: the pointer to the first segment.
    fn first_pointer(&self) -> Sgl1 {
        Sgl1::segment(self.pointer_to(0, self.left))
    }

    fn push(&mut self, descriptor: DataDescriptor) {
        if self.left == 0 {
            return;
        }
        if self.room == 0 {
            if !self.onward {
                return;
            }
            let next = self.segment.saturating_add(1);
            let pointer = self.pointer_to(next, self.left);
            self.put(pointer.to_raw());
            let capacity = self.segments.get(next).map_or(0, SegmentBuf::capacity);
            (self.room, self.onward) = segment_share(self.left, capacity);
            self.segment = next;
            self.slot = 0;
        }
        self.put(descriptor.to_raw());
        self.room = self.room.saturating_sub(1);
        self.left = self.left.saturating_sub(1);
    }

    fn put(&mut self, raw: SglDescriptor) {
        if let Some(slot) = self
            .segments
            .get_mut(self.segment)
            .and_then(|s| s.slot(self.slot))
        {
            *slot = raw;
        }
        self.slot = self.slot.saturating_add(1);
    }
}

/// MPTR for a contiguous metadata buffer: PSDT 00b (PRP data, `sgl_data` false) or 01b (SGL
/// data, `sgl_data` true).
///
/// MPTR must be dword aligned, except with SGL data on a controller that supports
/// byte-aligned contiguous metadata (SGLS bit 17); the buffer must not run past 2^64.
pub fn contiguous_mptr(buffer: Extent, sgl_data: bool, caps: &SglCaps) -> Result<u64, BuildError> {
    let align: u64 = if sgl_data && caps.has(Capability::ByteAlignedMetadata) {
        1
    } else {
        4
    };
    if buffer.addr & align.wrapping_sub(1) != 0 {
        return Err(BuildError::MetadataMisaligned {
            addr: buffer.addr,
            align,
        });
    }
    if !buffer.fits_address_space() {
        return Err(BuildError::AddressOverflow {
            index: 0,
            piece: SglSegment::Data(buffer),
        });
    }
    Ok(buffer.addr)
}
