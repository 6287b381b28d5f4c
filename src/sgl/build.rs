//! Host side: turn pieces of a transfer into SGL1 and a chain of segments; see [`SglBuilder`].

use zerocopy::little_endian::U64;
use zerocopy::FromBytes;

use super::caps::{Capability, SglCaps};
use super::descriptor::{
    DataDescriptor, SegmentKind, SegmentPointer, Sgl1, DESCRIPTOR_BYTES, MAX_KEYED_LEN,
};
use super::error::BuildError;
use crate::extent::Extent;
use crate::piece::{Flat, Kind, Piece};
use crate::spec::{SglDescriptor, SglDescriptorType, SglSubtype};
use crate::Direction;

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

/// Builds SGL layouts for one controller, one direction and, optionally, a maximum and an
/// exact transfer length.
///
/// Building happens in two steps, both allocation-free:
///
/// 1. [`SglBuilder::plan`] checks the pieces against the controller's capabilities, merges
///    physically adjacent ones, and counts the descriptors the layout needs. Nothing is written.
/// 2. [`SglBuilder::build`] checks the caller's segment memory against that plan, and only
///    then writes descriptors. A refused build leaves segment memory untouched.
///
/// [`SglBuilder::build_inline`] is the fast path for one contiguous buffer: one descriptor in
/// SGL1, no segment memory, no second pass.
///
/// The layout is the smallest the rules allow:
///
/// * one descriptor (one physically contiguous run of at most 4 GiB - 1 bytes): SGL1 is that
///   data descriptor, and no segment memory is touched;
/// * descriptors that fit the first segment buffer: SGL1 is a Last Segment descriptor;
/// * more: each segment buffer but the last is filled to its capacity, its last slot holding
///   the pointer onward: a Segment descriptor when more than one segment follows, a Last
///   Segment descriptor before the final one. A buffer that holds exactly the remaining
///   descriptors ends the chain (no pointer is spent there).
///
/// # Example
///
/// ```
/// use nvme_dma::Extent;
/// use nvme_dma::sgl::{Sgl1, SglBuilder, SglCaps, DataDescriptor, Descriptor};
/// use nvme_dma::{Direction};
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
    /// The lengths a lone plain Data Block may have for [`SglBuilder::build`] and
    /// [`SglBuilder::build_inline`] to take it without the planner, `(least, most)`: every
    /// limit on one such piece folded into two numbers once, here, rather than per call
    /// ([`quick_lengths`]).
    quick: (u64, u64),
}

/// [`SglBuilder`]'s `quick` range: the lengths that make a lone Data Block (aligned, ending
/// below 2^64) a valid SGL1 on their own. SGLs supported; non-empty; within one descriptor,
/// and within the maximum transfer; equal to the transfer length when one is set (an SGL
/// longer than the transfer is left to the planner). MSDBD never refuses one data block.
/// An empty range (`(1, 0)`) when none qualifies.
#[inline]
const fn quick_lengths(
    caps: &SglCaps,
    max_transfer: Option<u64>,
    transfer_len: Option<u64>,
) -> (u64, u64) {
    let chunk = max_chunk(Kind::Data, caps.dword_granular());
    let most = match max_transfer {
        Some(max) if max < chunk => max,
        _ => chunk,
    };
    match transfer_len {
        _ if !caps.supported() => (1, 0),
        None => (1, most),
        Some(len) if len != 0 && len <= most => (len, len),
        Some(_) => (1, 0),
    }
}

/// What a list of pieces needs as an SGL: the result of [`SglBuilder::plan`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SglPlan {
    len: u64,
    transfer: u64,
    runs: u64,
    descriptors: u64,
    data_blocks: u64,
    /// Whether SGL1 alone carries the transfer (one descriptor in all). The descriptor itself
    /// is not kept here, so that a plan, and the layout that holds one, stay small.
    inline: bool,
    /// SDT (0 for no recommendation).
    sdt: u8,
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
    #[inline]
    pub const fn new(caps: SglCaps, direction: Direction) -> Self {
        SglBuilder {
            caps,
            direction,
            max_transfer: None,
            transfer_len: None,
            quick: quick_lengths(&caps, None, None),
        }
    }

    /// Refuse transfers longer than `bytes` (the controller's MDTS in bytes).
    #[inline]
    pub const fn with_max_transfer(mut self, bytes: u64) -> Self {
        self.max_transfer = Some(bytes);
        self.quick = quick_lengths(&self.caps, self.max_transfer, self.transfer_len);
        self
    }

    /// The command transfers exactly `bytes`. Pieces that describe fewer are refused; pieces
    /// that describe more are accepted only when the controller supports SGLs longer than
    /// their data (LLDTS). Without this, the transfer is exactly what the pieces describe.
    #[inline]
    pub const fn with_transfer_len(mut self, bytes: u64) -> Self {
        self.transfer_len = Some(bytes);
        self.quick = quick_lengths(&self.caps, self.max_transfer, self.transfer_len);
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
    /// Accepts `&[Extent]`, `&[Piece]`, arrays, or any cloneable iterator of either.
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
        I: IntoIterator + Clone,
        I::Item: Into<Piece>,
    {
        self.plan_shaped(pieces).map(|(plan, _)| plan)
    }

    /// [`SglBuilder::plan`], and whether every piece became a descriptor of its own (no empty
    /// pieces, no merges), so that writing need not merge again.
    // Inline: in `build` the plan then stays in registers rather than passing through memory.
    #[inline(always)]
    fn plan_shaped<I>(&self, pieces: I) -> Result<(SglPlan, bool), BuildError>
    where
        I: IntoIterator + Clone,
        I::Item: Into<Piece>,
    {
        if !self.caps.supported() {
            return Err(BuildError::NotSupported {
                capability: Capability::Sgl,
            });
        }
        // Compiled once per granularity, so that its masks are constants. The common case
        // first: pieces that make a descriptor each; then pieces that merge.
        let distinct = if self.caps.dword_granular() {
            self.scan_distinct::<true, I>(pieces.clone())
        } else {
            self.scan_distinct::<false, I>(pieces.clone())
        };
        // Each tally is read where it was returned: merging the two into one value would copy
        // it as a block right after the scan wrote it field by field, and the processor
        // cannot forward those stores to the copy (it waits for them to reach the cache).
        if let Some(tally) = &distinct {
            return Ok((self.conclude(self.tallied(tally))?, true));
        }
        let scanned = if self.caps.dword_granular() {
            self.scan::<true, I>(pieces.clone())
        } else {
            self.scan::<false, I>(pieces.clone())
        };
        if scanned.broken {
            return Ok((self.plan_general(pieces)?, false));
        }
        Ok((self.conclude(self.tallied(&scanned))?, scanned.one_each))
    }

    /// The plan for a tally that breaks no rule: every run takes one descriptor.
    #[inline(always)]
    fn tallied(&self, tally: &Tally) -> SglPlan {
        SglPlan {
            len: tally.len,
            transfer: 0,
            runs: tally.runs,
            descriptors: tally.runs,
            data_blocks: tally.runs.wrapping_sub(tally.skip_runs),
            inline: false,
            sdt: self.caps.sgls().sdt(),
        }
    }

    /// The quickest accept path of [`SglBuilder::plan`]: the tally for pieces that each make
    /// a descriptor of their own, or `None` (then [`SglBuilder::scan`] takes them). It takes
    /// plain pieces (data, and bit buckets where they are allowed) that are non-empty, fit
    /// one descriptor, end below 2^64, continue no run (data that starts where the data
    /// before it ends, a bit bucket after a bit bucket) and, for data, keep the granularity;
    /// and it gives up at the first other piece, or when the total passes 2^64 - 1.
    // Out of line: the loop gets the registers to itself.
    #[inline(never)]
    fn scan_distinct<const GRANULAR: bool, I>(&self, pieces: I) -> Option<Tally>
    where
        I: IntoIterator,
        I::Item: Into<Piece>,
    {
        let max = max_chunk(Kind::Data, GRANULAR); // the same for bit buckets
        let skips = self.direction == Direction::Read && self.caps.has(Capability::BitBucket);
        let (mut len, mut count, mut skip_count) = (0u64, 0u64, 0u64);
        // Address bits of every data piece and its length, for the granularity check.
        let mut bits = 0u64;
        // The previous piece: its kind and end. Before the first piece, a placeholder that
        // nothing continues (no piece taken here starts at 2^64 - 1: each ends below).
        let (mut kind, mut end) = (Kind::Data, u64::MAX);
        for item in pieces {
            let piece = Flat::of(&item.into());
            let is_skip = piece.kind == Kind::Skip;
            if !(piece.kind == Kind::Data || (is_skip && skips))
                // `len - 1 >= max` is `len == 0 || len > max` in one comparison.
                || piece.len.wrapping_sub(1) >= max
                || (piece.kind == kind && (is_skip || piece.start == end))
            {
                return None;
            }
            let piece_end = piece.start.checked_add(piece.len)?;
            len = len.checked_add(piece.len)?;
            if !is_skip {
                bits |= piece.start | piece.len;
            }
            count = count.wrapping_add(1);
            skip_count = skip_count.wrapping_add(u64::from(is_skip));
            (kind, end) = (piece.kind, piece_end);
        }
        if GRANULAR && bits & 3 != 0 {
            return None;
        }
        Some(Tally {
            len,
            runs: count,
            skip_runs: skip_count,
            one_each: true,
            broken: false,
        })
    }

    /// The accept path of [`SglBuilder::plan`], in one branch-light pass: the tally for
    /// pieces that break no rule, or a broken one (then [`SglBuilder::plan_general`] finds
    /// which rule breaks). It takes plain pieces (data, and bit buckets where they are
    /// allowed) that end below 2^64 and, for data, keep the granularity on their own, merged
    /// into runs that each fit one descriptor. Every check sets a flag that is looked at once,
    /// at the end, so the loop branches only to skip empty pieces. It refuses a little more
    /// than the rules do (a granular run made of unaligned pieces, a run longer than one
    /// descriptor, a piece that ends exactly at 2^64); the general planner accepts those. The
    /// totals are checked by [`SglBuilder::conclude`] either way.
    // Out of line: the loop gets the registers to itself.
    #[inline(never)]
    fn scan<const GRANULAR: bool, I>(&self, pieces: I) -> Tally
    where
        I: IntoIterator,
        I::Item: Into<Piece>,
    {
        let granule = if GRANULAR { 3 } else { 0 };
        let max = max_chunk(Kind::Data, GRANULAR); // the same for bit buckets
        let skips = self.direction == Direction::Read && self.caps.has(Capability::BitBucket);
        // Runs started (the pending one included), and how many of them are bit buckets.
        let (mut len, mut started, mut skips_started) = (0u64, 0u64, 0u64);
        // The pending run: `kind` bytes from `start` to `end`. Before the first piece, a
        // placeholder that nothing continues: the scan takes no piece that starts at 2^64 - 1
        // (every piece it takes ends below 2^64; the general planner takes those that end
        // exactly there).
        let (mut kind, mut start, mut end) = (Kind::Data, 0u64, u64::MAX);
        let mut broken = false;
        let mut count = 0u64;
        for item in pieces {
            count = count.wrapping_add(1);
            let piece = Flat::of(&item.into());
            if piece.len == 0 {
                continue;
            }
            let is_data = piece.kind == Kind::Data;
            let is_skip = piece.kind == Kind::Skip;
            let (total, carry) = len.overflowing_add(piece.len);
            let (piece_end, wrapped) = piece.start.overflowing_add(piece.len);
            let coarse = (piece.start | piece.len) & if is_data { granule } else { 0 } != 0;
            // The merge rule of `Flat::extend` for these two kinds (their keys are 0): a skip
            // continues a skip, data continues data that ends where it starts.
            let merges = (kind == piece.kind) & (is_skip | (piece.start == end));
            start = if merges { start } else { piece.start };
            // Data that continues the run ends the run where the piece ends; skips (which sit
            // at 0) add up.
            end = if merges & is_skip {
                end.wrapping_add(piece.len)
            } else {
                piece_end
            };
            let too_long = end.wrapping_sub(start) > max;
            broken |= !(is_data | (is_skip & skips)) | carry | wrapped | coarse | too_long;
            len = total;
            started = started.wrapping_add(u64::from(!merges));
            skips_started = skips_started.wrapping_add(u64::from(!merges & is_skip));
            kind = piece.kind;
        }
        Tally {
            len,
            runs: started,
            skip_runs: skips_started,
            one_each: count == started,
            broken,
        }
    }

    /// Every rule, piece by piece in order: the plan for pieces the scan refused, or the
    /// first rule they break.
    #[cold]
    #[inline(never)]
    fn plan_general<I>(&self, pieces: I) -> Result<SglPlan, BuildError>
    where
        I: IntoIterator,
        I::Item: Into<Piece>,
    {
        let mut planner = Planner {
            builder: self,
            plan: SglPlan {
                len: 0,
                transfer: 0,
                runs: 0,
                descriptors: 0,
                data_blocks: 0,
                inline: false,
                sdt: self.caps.sgls().sdt(),
            },
            pending: Flat::NONE,
            pending_index: 0,
        };
        for (index, item) in pieces.into_iter().enumerate() {
            planner.feed(index, Flat::of(&item.into()))?;
        }
        planner.finish()
    }

    /// The rules one piece must satisfy on its own.
    #[inline(always)]
    fn check_piece(&self, index: usize, piece: &Flat) -> Result<(), BuildError> {
        let needs = |capability| {
            if self.caps.has(capability) {
                Ok(())
            } else {
                Err(BuildError::PieceNotSupported {
                    index,
                    piece: piece.segment(),
                    capability,
                })
            }
        };
        match piece.kind {
            Kind::Data | Kind::Keyed => {
                if piece.kind == Kind::Keyed {
                    needs(Capability::Keyed)?;
                }
                if !Extent::new(piece.start, piece.len).fits_address_space() {
                    return Err(BuildError::AddressOverflow {
                        index,
                        piece: piece.segment(),
                    });
                }
            }
            Kind::Skip => {
                if self.direction == Direction::Write {
                    return Err(BuildError::SkipInWrite {
                        index,
                        len: piece.len,
                    });
                }
                needs(Capability::BitBucket)?;
            }
            Kind::Capsule => {
                needs(Capability::AddressAsOffset)?;
                let capsule = self.caps.capsule_data();
                if piece
                    .start
                    .checked_add(piece.len)
                    .map_or(true, |end| end > capsule)
                {
                    return Err(BuildError::OutsideCapsule {
                        index,
                        offset: piece.start,
                        len: piece.len,
                        capsule,
                    });
                }
            }
            Kind::Transport => needs(Capability::TransportDataBlock)?,
        }
        Ok(())
    }

    /// In dword-granular mode a data run starts and ends on a dword boundary.
    #[inline(always)]
    fn check_run(&self, first: usize, run: &Flat) -> Result<(), BuildError> {
        if self.caps.dword_granular()
            && matches!(run.kind, Kind::Data | Kind::Capsule)
            && (run.start | run.len) & 3 != 0
        {
            return Err(BuildError::Granularity {
                index: first,
                run: Extent::new(run.start, run.len),
            });
        }
        Ok(())
    }

    /// Account for one merged run: its granularity, and the descriptors it takes.
    #[inline(always)]
    fn close_run(&self, plan: &mut SglPlan, first: usize, run: &Flat) -> Result<(), BuildError> {
        self.check_run(first, run)?;
        let max = max_chunk(run.kind, self.caps.dword_granular());
        // Almost every run fits one descriptor: skip the division then.
        let count = if run.len <= max {
            1
        } else {
            run.len.div_ceil(max)
        };
        // Every descriptor carries at least one byte of the (u64) total, so no count wraps.
        plan.runs = plan.runs.wrapping_add(1);
        plan.descriptors = plan.descriptors.wrapping_add(count);
        if run.kind != Kind::Skip {
            plan.data_blocks = plan.data_blocks.wrapping_add(count);
        }
        Ok(())
    }

    /// The rules on the whole: something to move, within the maximum transfer, covering the
    /// transfer (longer only with LLDTS), data blocks within MSDBD. Returns the transfer length.
    #[inline]
    fn check_totals(&self, len: u64, data_blocks: u64) -> Result<u64, BuildError> {
        if len == 0 {
            return Err(BuildError::EmptyTransfer);
        }
        let transfer = self.transfer_len.unwrap_or(len);
        if let Some(max) = self.max_transfer {
            if transfer > max {
                return Err(BuildError::TransferTooLong { len: transfer, max });
            }
        }
        if len < transfer {
            return Err(BuildError::ShorterThanTransfer {
                described: len,
                transfer,
            });
        }
        if len > transfer && !self.caps.has(Capability::Lldts) {
            return Err(BuildError::LongerThanTransfer {
                described: len,
                transfer,
            });
        }
        if let Some(msdbd) = self.caps.msdbd() {
            if data_blocks > u64::from(msdbd) {
                return Err(BuildError::TooManyDataBlocks {
                    count: data_blocks,
                    msdbd,
                });
            }
        }
        Ok(transfer)
    }

    /// The end of every plan, once every run is counted: the rules on the whole, and whether
    /// one descriptor carries everything (then SGL1 alone is the layout).
    #[inline(always)]
    fn conclude(&self, mut plan: SglPlan) -> Result<SglPlan, BuildError> {
        plan.transfer = self.check_totals(plan.len, plan.data_blocks)?;
        plan.inline = plan.descriptors == 1;
        Ok(plan)
    }

    /// The fast path: SGL1 as the one data descriptor for one piece, the common case of a
    /// single physically contiguous buffer. Touches no segment memory and makes no second
    /// pass; the same rules as [`SglBuilder::plan`] apply, and a piece that needs more than
    /// one descriptor (over 4 GiB - 1 bytes, 16 MiB - 1 keyed) is [`BuildError::NotInline`].
    ///
    /// ```
    /// use nvme_dma::Extent;
    /// use nvme_dma::sgl::{DataDescriptor, Descriptor, SglBuilder, SglCaps};
    /// use nvme_dma::{Direction};
    /// use nvme_dma::spec::{SglSupport, Sgls};
    ///
    /// let builder = SglBuilder::new(SglCaps::new(Sgls::from_support(SglSupport::DwordAligned)), Direction::Read);
    /// let sgl1 = builder.build_inline(Extent::new(0x10_0000, 0x2_0000))?;
    /// assert_eq!(sgl1.descriptor(), Descriptor::Data(DataDescriptor::Block { addr: 0x10_0000, len: 0x2_0000 }));
    /// # Ok::<(), nvme_dma::sgl::BuildError>(())
    /// ```
    #[inline]
    pub fn build_inline(&self, piece: impl Into<Piece>) -> Result<Sgl1, BuildError> {
        let piece = piece.into();
        match self.quick_block(&piece) {
            Some(block) => Ok(Sgl1::data(block)),
            None => self.inline_flat(Flat::of(&piece)),
        }
    }

    /// [`SglBuilder::build_inline`] past its quick case, every rule checked in order;
    /// compiled once here.
    #[inline(never)]
    fn inline_flat(&self, piece: Flat) -> Result<Sgl1, BuildError> {
        if !self.caps.supported() {
            return Err(BuildError::NotSupported {
                capability: Capability::Sgl,
            });
        }
        if piece.len == 0 {
            return Err(BuildError::EmptyTransfer);
        }
        self.check_piece(0, &piece)?;
        self.check_run(0, &piece)?;
        let max = max_chunk(piece.kind, self.caps.dword_granular());
        if piece.len > max {
            return Err(BuildError::NotInline {
                descriptors: piece.len.div_ceil(max),
            });
        }
        self.check_totals(piece.len, u64::from(piece.kind != Kind::Skip))?;
        // At most `max`, which fits 32 bits.
        let len = u32::try_from(piece.len).unwrap_or(u32::MAX);
        Ok(Sgl1::data(chunk_descriptor(&piece, 0, len)))
    }

    /// Build the layout for `pieces`, writing descriptors into `segments` when they do not fit
    /// SGL1 alone.
    ///
    /// `segments[0]` is the segment SGL1 will point at; further buffers are used in order as
    /// the chain continues. Supply at least [`SglPlan::segments_needed`] of them. On error
    /// nothing has been written.
    // Inline: one plain piece, the most common request of all, is a few comparisons in the
    // caller, with no scan and no segment memory, and the layout need not pass through memory.
    #[inline]
    pub fn build<I>(
        &self,
        pieces: I,
        segments: &mut [SegmentBuf<'_>],
    ) -> Result<SglLayout, BuildError>
    where
        I: IntoIterator + Clone,
        I::Item: Into<Piece>,
    {
        let mut peek = pieces.clone().into_iter();
        if let (Some(only), None) = (peek.next(), peek.next()) {
            let only: Piece = only.into();
            if let Some(block) = self.quick_block(&only) {
                return Ok(SglLayout {
                    sgl1: Sgl1::data(block),
                    plan: self.single_plan(only.len()),
                    segments_used: 0,
                });
            }
        }
        self.build_planned(pieces, segments)
    }

    /// [`SglBuilder::build`] past its quick case: plan, check the segment memory, write.
    #[inline(never)]
    fn build_planned<I>(
        &self,
        pieces: I,
        segments: &mut [SegmentBuf<'_>],
    ) -> Result<SglLayout, BuildError>
    where
        I: IntoIterator + Clone,
        I::Item: Into<Piece>,
    {
        let (plan, one_each) = self.plan_shaped(pieces.clone())?;
        if one_each && !plan.inline {
            if let Some(first) = segments.first_mut() {
                if let Some(sgl1) = write_one_segment(first, plan.descriptors, pieces.clone()) {
                    return Ok(SglLayout {
                        sgl1,
                        plan,
                        segments_used: 1,
                    });
                }
            }
        }
        let segments_used = place(&plan, segments)?;
        let sgl1 = self.write_pieces(pieces, &plan, segments, one_each);
        Ok(SglLayout {
            sgl1,
            plan,
            segments_used,
        })
    }

    /// The one descriptor for a lone plain Data Block that breaks no rule and fits one
    /// descriptor (its length in the builder's precomputed `quick` range, aligned, ending
    /// below 2^64), or `None` for the planner to take the piece (and name the rule it
    /// breaks, if any).
    #[inline(always)]
    fn quick_block(&self, piece: &Piece) -> Option<DataDescriptor> {
        let Piece::Data(Extent { addr, len }) = *piece else {
            return None;
        };
        let (least, most) = self.quick;
        let granule = if self.caps.dword_granular() { 3 } else { 0 };
        if len < least
            || len > most
            || addr.checked_add(len).is_none()
            || (addr | len) & granule != 0
        {
            return None;
        }
        // At most one descriptor's length, which fits 32 bits.
        let len = u32::try_from(len).unwrap_or(u32::MAX);
        Some(DataDescriptor::Block { addr, len })
    }

    /// The plan of a layout that is SGL1 alone, a data block of `len` bytes (the transfer).
    #[inline(always)]
    fn single_plan(&self, len: u64) -> SglPlan {
        SglPlan {
            len,
            transfer: len,
            runs: 1,
            descriptors: 1,
            data_blocks: 1,
            inline: true,
            sdt: self.caps.sgls().sdt(),
        }
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
        I::Item: Into<Piece>,
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
        I: IntoIterator + Clone,
        I::Item: Into<Piece>,
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
        I::Item: Into<Piece>,
    {
        self.write_pieces(pieces, plan, segments, false)
    }

    /// [`SglBuilder::write`], told whether every piece makes a descriptor of its own
    /// (`one_each`, from [`SglBuilder::plan_shaped`]).
    #[inline(always)]
    fn write_pieces<I>(
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
                if piece.len != 0 && !(run.len != 0 && run.extend(&piece)) {
                    run = piece;
                }
            }
            let len = u32::try_from(run.len).unwrap_or(u32::MAX);
            return Sgl1::data(chunk_descriptor(&run, 0, len));
        }
        let granular = self.caps.dword_granular();
        let (mut chain, mut slots) = SegmentChain::new(segments, plan.descriptors, granular);
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
            let merged = if piece.kind == Kind::Data && pending.kind == Kind::Data {
                // `Flat::extend` for data, where `plan` has checked that no sum of lengths
                // carries: the run ends where the piece starts, below 2^64 (the empty
                // placeholder ends at 0, so nothing merges into it).
                let end = pending.start.wrapping_add(pending.len);
                let continues = end == piece.start && end != 0;
                if continues {
                    pending.len = pending.len.wrapping_add(piece.len);
                }
                continues
            } else {
                pending.len != 0 && pending.extend(&piece)
            };
            if merged {
                continue;
            }
            let run = core::mem::replace(&mut pending, piece);
            if run.len != 0 {
                slots = write_run(slots, &mut chain, run);
            }
        }
        if pending.len != 0 {
            write_run(slots, &mut chain, pending);
        }
        sgl1
    }
}

/// What [`SglBuilder::scan`] found.
#[derive(Clone, Copy)]
struct Tally {
    /// Bytes described.
    len: u64,
    /// Runs, one descriptor each.
    runs: u64,
    /// Runs that are bit buckets.
    skip_runs: u64,
    /// Whether every piece made a run of its own (no empty pieces, no merges).
    one_each: bool,
    /// Whether a piece was refused: then nothing else here holds.
    broken: bool,
}

/// The general plan pass, one piece at a time, every rule checked in piece order
/// ([`SglBuilder::plan_general`]), and the end of every plan ([`Planner::finish`]). Not
/// generic, so the per-piece work is compiled once here whatever iterator the caller's
/// pieces come from.
struct Planner<'b> {
    builder: &'b SglBuilder,
    plan: SglPlan,
    /// The run being merged ([`Flat::NONE`] before the first piece).
    pending: Flat,
    /// The index of its first piece.
    pending_index: usize,
}

impl<'b> Planner<'b> {
    fn feed(&mut self, index: usize, piece: Flat) -> Result<(), BuildError> {
        if piece.len == 0 {
            return Ok(());
        }
        let builder = self.builder;
        builder.check_piece(index, &piece)?;
        self.plan.len =
            self.plan
                .len
                .checked_add(piece.len)
                .ok_or(BuildError::TransferTooLong {
                    len: u64::MAX,
                    max: builder.max_transfer.unwrap_or(u64::MAX),
                })?;
        let first_piece = self.pending.len == 0;
        if let Some(run) = self.pending.push(piece) {
            let first = core::mem::replace(&mut self.pending_index, index);
            builder.close_run(&mut self.plan, first, &run)?;
        } else if first_piece {
            self.pending_index = index;
        }
        Ok(())
    }

    fn finish(mut self) -> Result<SglPlan, BuildError> {
        let builder = self.builder;
        let last = self.pending;
        if last.len != 0 {
            builder.close_run(&mut self.plan, self.pending_index, &last)?;
        }
        builder.conclude(self.plan)
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
fn write_one_segment<I>(first: &mut SegmentBuf<'_>, descriptors: u64, pieces: I) -> Option<Sgl1>
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
        self.inline
    }

    /// True when the layout holds more data descriptors than the controller's SDT recommends.
    /// Legal, but the controller says it may be slow; [`dptr`](crate::dptr) policies can take
    /// it into account.
    pub const fn exceeds_sdt(&self) -> bool {
        self.sdt != 0 && self.descriptors > self.sdt as u64
    }

    /// How many segment buffers of `capacity` descriptors each the layout needs: none when
    /// inline, one when the descriptors fit, otherwise
    /// `1 + ceil((descriptors - capacity) / (capacity - 1))` (every buffer that continues
    /// spends a slot on the pointer onward). `u64::MAX` when `capacity < 2` cannot chain.
    pub const fn segments_needed(&self, capacity: u64) -> u64 {
        if self.inline {
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

/// The longest piece one descriptor of `kind` can carry. In dword-granular mode the limit is
/// rounded down to a multiple of 4, so every descriptor after a cut stays aligned.
const fn max_chunk(kind: Kind, granular: bool) -> u64 {
    let max = match kind {
        Kind::Keyed => MAX_KEYED_LEN as u64,
        _ => u32::MAX as u64,
    };
    if granular {
        max & !3
    } else {
        max
    }
}

/// The descriptor for `len` bytes of `run`, starting `skip` bytes into it. Runs fit the
/// address space (checked by `plan`), so `start + skip` does not overflow.
#[inline(always)]
fn chunk_descriptor(run: &Flat, skip: u64, len: u32) -> DataDescriptor {
    let start = run.start.wrapping_add(skip);
    match run.kind {
        Kind::Data => DataDescriptor::Block { addr: start, len },
        Kind::Skip => DataDescriptor::BitBucket { len },
        Kind::Keyed => DataDescriptor::Keyed {
            addr: start,
            len,
            key: run.key,
            subtype: SglSubtype::Address,
        },
        Kind::Capsule => DataDescriptor::CapsuleBlock { offset: start, len },
        Kind::Transport => DataDescriptor::Transport {
            len,
            subtype: TRANSPORT_SUBTYPE,
        },
    }
}

/// Cuts one run into descriptors of at most `max` bytes.
struct Chunks {
    run: Flat,
    done: u64,
    max: u64,
}

impl Chunks {
    const fn new(run: Flat, max: u64) -> Self {
        Chunks { run, done: 0, max }
    }
}

impl Iterator for Chunks {
    type Item = DataDescriptor;

    fn next(&mut self) -> Option<DataDescriptor> {
        let left = self.run.len.saturating_sub(self.done);
        if left == 0 {
            return None;
        }
        let take = left.min(self.max);
        // `take` is at most `max`, which fits 32 bits.
        let len = u32::try_from(take).unwrap_or(u32::MAX);
        let descriptor = chunk_descriptor(&self.run, self.done, len);
        self.done = self.done.saturating_add(take);
        Some(descriptor)
    }
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
    /// The chain for `descriptors` data descriptors, and the first segment's data slots.
    #[inline]
    fn new(
        segments: &'s mut [SegmentBuf<'a>],
        descriptors: u64,
        granular: bool,
    ) -> (Self, &'s mut [SglDescriptor]) {
        let first = segments
            .first()
            .map_or((0, 0), |s| (s.bus_addr, s.capacity()));
        let mut chain = SegmentChain {
            rest: segments.iter_mut(),
            onward: None,
            first,
            left: descriptors,
            here: 0,
            granular,
        };
        let slots = chain.enter();
        (chain, slots)
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
    let mut raw = if run.kind == Kind::Data {
        DATA_BLOCK
    } else {
        BIT_BUCKET
    };
    raw.set_address(if run.kind == Kind::Data { run.start } else { 0 });
    // `len` is at most the maximum chunk, which fits 32 bits.
    raw.set_length(u32::try_from(run.len).unwrap_or(u32::MAX));
    put(slots, chain, raw)
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
    for descriptor in Chunks::new(run, max_chunk(kind, chain.granular)) {
        slots = put(slots, chain, descriptor.to_raw());
    }
    slots
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
            piece: Piece::Data(buffer),
        });
    }
    Ok(buffer.addr)
}
