//! Host side: turn pieces of a transfer into SGL1 and a chain of segments; see [`SglBuilder`].
//!
//! A build is two steps: a plan checks the pieces against the rules and the controller's
//! capabilities, merges physically adjacent ones and counts the descriptors; then, once the
//! caller's segment memory is checked against the plan, the descriptors are written. The
//! commonest requests skip work: one plain buffer is SGL1 alone, decided in the caller without
//! the planner (`quick_block`), and pieces that each make a descriptor of their own and fit the
//! first segment buffer are written there without the chain machinery (`write_one_segment`).
//!
//! The files, by concept:
//!
//! * this one: [`SglBuilder`] and its entry points ([`SglBuilder::build`],
//!   [`SglBuilder::build_inline`], [`SglBuilder::build_metadata`]) with their quick cases, the
//!   layouts they return, and [`contiguous_mptr`];
//! * `plan`: [`SglPlan`] and planning: the scans that accept pieces in one pass, the general
//!   pass that names the first rule broken, and the checks of a metadata SGL;
//! * `rules`: the rules one piece, one run and the whole transfer must keep, as planning
//!   checks them;
//! * `write`: [`SegmentBuf`], the check of segment memory against a plan (`place`), and the
//!   writing of descriptors through the segment chain;
//! * `chunk`: cutting a run into descriptors (the longest piece one descriptor carries, the
//!   descriptor for part of a run), by one limit for planning and writing.

mod chunk;
mod plan;
mod rules;
mod write;

use self::chunk::max_chunk;
use self::write::write_one_segment;
use super::caps::{Capability, SglCaps};
use super::descriptor::{DataDescriptor, Sgl1};
use super::error::BuildError;
use crate::extent::Extent;
use crate::piece::{Flat, Kind, Piece};
use crate::Direction;

pub use self::plan::SglPlan;
pub use self::write::SegmentBuf;
pub(crate) use self::write::{place, write_metadata_pointer};

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

/// The Data Block for `extent` when it is a valid SGL on its own and its length is in the
/// `quick` range ([`quick_lengths`]): aligned, ending below 2^64.
#[inline(always)]
fn quick_data_block(
    caps: &SglCaps,
    (least, most): (u64, u64),
    Extent { addr, len }: Extent,
) -> Option<DataDescriptor> {
    let granule = if caps.dword_granular() { 3 } else { 0 };
    if len < least || len > most || addr.checked_add(len).is_none() || (addr | len) & granule != 0 {
        return None;
    }
    // At most one descriptor's length, which fits 32 bits.
    let len = u32::try_from(len).unwrap_or(u32::MAX);
    Some(DataDescriptor::Block { addr, len })
}

/// SGL1 for one buffer that is a valid SGL on its own as one Data Block, as
/// [`SglBuilder::build_inline`] takes it without the planner; `None` for anything else (the
/// builder then names the rule, if one breaks). For a caller with one buffer per command,
/// which need not make a builder for it.
#[inline(always)]
pub(crate) fn data_block_sgl1(
    caps: &SglCaps,
    max_transfer: Option<u64>,
    extent: Extent,
) -> Option<Sgl1> {
    quick_data_block(caps, quick_lengths(caps, max_transfer, None), extent).map(Sgl1::data)
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
        Self::with_limit(caps, direction, None)
    }

    /// A builder with its maximum transfer, if any, set at once: what
    /// [`SglBuilder::with_max_transfer`] gives, with the quick lengths worked out once rather
    /// than twice, for a caller that makes a builder per command.
    #[inline]
    pub(crate) const fn with_limit(
        caps: SglCaps,
        direction: Direction,
        max_transfer: Option<u64>,
    ) -> Self {
        SglBuilder {
            caps,
            direction,
            max_transfer,
            transfer_len: None,
            quick: quick_lengths(&caps, max_transfer, None),
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

    /// [`SglBuilder::build_inline`] past its quick case: the planner names the rule broken,
    /// if one is, and writes SGL1 from its plan. Compiled once here.
    #[inline(never)]
    fn inline_flat(&self, piece: Flat) -> Result<Sgl1, BuildError> {
        let piece = piece.segment();
        let plan = self.plan([piece])?;
        if !plan.inline {
            return Err(BuildError::NotInline {
                descriptors: plan.descriptors,
            });
        }
        Ok(self.write([piece], &plan, &mut []))
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
        let Piece::Data(extent) = *piece else {
            return None;
        };
        quick_data_block(&self.caps, self.quick, extent)
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
