//! Choosing the data pointer: PRPs or an SGL for one request, written into the command's PSDT,
//! DPTR and MPTR; and, on the device side, reading them back.
//!
//! # Host side
//!
//! [`fill_sqe`] turns a [`Request`] (extents, direction, optional metadata, queue) and the
//! [`ControllerCaps`]'s capabilities into a filled [`SubmissionEntry`], writing PRP lists or SGL
//! segments into memory the caller owns ([`DescriptorMemory`]). [`plan`] is the same decision
//! without writing anything, for a caller that wants to size or pick descriptor memory first;
//! [`Plan::fill`] then finishes the job.
//!
//! The rules no policy can change:
//!
//! * Admin commands use PRPs only (PSDT 00b), as do controllers without SGL support.
//! * Metadata in several pieces, or not dword aligned, needs an SGL: PSDT 01b with a
//!   byte-aligned contiguous buffer (SGLS bit 17), or PSDT 10b with an SGL behind MPTR (SGLS
//!   bit 19).
//! * A policy states a preference. When the preferred kind cannot express the request, the
//!   other is used; when neither can, the result is the PRP splitter's plan ([`PrpSplit`]):
//!   the fewest PRP commands that carry the data, each a whole number of blocks. (The split
//!   covers the data; each command's metadata is the caller's to cut at the same blocks.)
//!
//! # Policies, and what they trade
//!
//! | policy | picks SGL when | good at | costs |
//! |---|---|---|---|
//! | [`SglPolicy::Never`] | never | every controller; simplest device path | a PRP entry per 4 KiB page; scattered sub-page buffers need splitting or bouncing |
//! | [`SglPolicy::Linux`] | average segment ≥ `threshold` (32 KiB by default; 0 disables SGLs) | large, physically contiguous runs: one 16-byte descriptor instead of one entry per page | small scattered I/O stays on PRPs, which many controllers process faster |
//! | [`SglPolicy::Always`] (SPDK) | whenever the controller supports SGLs (I/O queues) | any buffer shape, including byte-granular pieces, in one command | a 16-byte descriptor per piece even where PRP needs nothing (e.g. an 8 KiB aligned buffer: PRP fits in the command, SGL does too, but 3 pieces need a segment) |
//! | [`SglPolicy::SmallestFootprint`] | the SGL's descriptor memory is strictly smaller than the PRP list's, and within SDT | the fewest bytes the controller must fetch before it can move data | ignores how fast a given controller walks each kind |
//!
//! Footprint counts the bytes of PRP list or SGL segment memory a layout writes (entries,
//! descriptors and chain pointers), with page-sized list pages and segments; a layout that
//! fits the command costs nothing.
//!
//! # Device side
//!
//! [`decode`] reads PSDT, DPTR and MPTR out of a command as a controller does (reserved PSDT,
//! an SGL on the admin queue or on a controller without SGLs: Invalid Field in Command), and
//! [`CommandPointers::walk_data`] / [`CommandPointers::walk_metadata`] walk them into
//! [`Piece`](crate::Piece)s through one iterator type, [`DptrWalker`], whatever the pointer kind.
//!
//! ```
//! use nvme_dma::{Extent, PageSize, SimMemory};
//! use nvme_dma::dptr::{self, ControllerCaps, DescriptorMemory, Outcome, Request, SglPolicy};
//! use nvme_dma::{QueueKind};
//! use nvme_dma::sgl::{SegmentBuf, SglCaps};
//! use nvme_dma::walk::Walk;
//! use nvme_dma::{Direction, Piece};
//! use nvme_dma::spec::{MaxTransfer, Opcode, Psdt, SglSupport, Sgls, SubmissionEntry};
//!
//! let ctrl = ControllerCaps {
//!     page_size: PageSize::SIZE_4K,
//!     sgl: SglCaps::new(Sgls::from_support(SglSupport::DwordAligned)),
//!     max_transfer: MaxTransfer::Bytes(1 << 20),
//! };
//! // A 64 KiB contiguous buffer: Linux's policy takes an SGL (one inline Data Block).
//! let extents = [Extent::new(0x10_0000, 0x1_0000)];
//! let req = Request::new(&extents, Direction::Write, QueueKind::Io);
//! let mut sqe = SubmissionEntry::new(Opcode::NVM_WRITE, 7);
//! let out = dptr::fill_sqe(&mut sqe, &req, &ctrl, SglPolicy::LINUX, &mut DescriptorMemory::none())?;
//! assert!(matches!(out, Outcome::Filled(_)));
//! assert_eq!(sqe.psdt(), Psdt::Sgl);
//!
//! // The controller's side: decode the command and walk its data pointer.
//! let mem = SimMemory::new();
//! let pointers = dptr::decode(&sqe, QueueKind::Io, &ctrl.sgl).unwrap();
//! let pieces: Vec<Piece> = pointers
//!     .walk_data(Direction::Write, 0x1_0000, ctrl.page_size, &ctrl.sgl, &mem)
//!     .pieces()
//!     .collect::<Result<_, _>>()
//!     .unwrap();
//! assert_eq!(pieces, [Piece::Data(extents[0])]);
//!
//! // The same request on the admin queue gets PRPs.
//! let admin = Request::new(&extents, Direction::Write, QueueKind::Admin);
//! let mut lists = [0u8; 4096];
//! let mut pages = [nvme_dma::prp::PrpListPage::new(0x8000, &mut lists)];
//! let mut mem = DescriptorMemory { prp_lists: &mut pages, ..DescriptorMemory::none() };
//! dptr::fill_sqe(&mut sqe, &admin, &ctrl, SglPolicy::Always, &mut mem)?;
//! assert_eq!((sqe.psdt(), sqe.prp2()), (Psdt::Prp, 0x8000));
//! # Ok::<(), nvme_dma::dptr::DptrError>(())
//! ```

use core::fmt;

mod device;
mod metadata;
mod policy;
pub use device::{
    decode, CommandPointers, DataPointer, DeviceCommand, DeviceError, DptrWalkError, DptrWalker,
    MetadataPointer, PsdtError, Transfer,
};
use metadata::{prp_metadata, sgl_metadata};
pub use policy::SglPolicy;
use policy::{linux_prefers_sgl, page_segment_capacity, prp_footprint, sgl_refusal};

use crate::extent::{Extent, PageSize};
use crate::prp::geometry::pages_touched;
use crate::prp::{self, PrpBuilder, PrpChunk, PrpListPage, PrpPlan, PrpSplit};
use crate::sgl::{self, SegmentBuf, SglBuilder, SglCaps, SglPlan};
use crate::spec::{BlockRange, MaxTransfer, Psdt, SubmissionEntry};
use crate::{Direction, QueueKind};

/// What the host knows about the controller that matters for data pointers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ControllerCaps {
    /// The memory page size (CC.MPS).
    pub page_size: PageSize,
    /// SGL capabilities (Identify ControllerCaps SGLS, MSDBD).
    pub sgl: SglCaps,
    /// The maximum data transfer size (MDTS).
    pub max_transfer: MaxTransfer,
}

impl ControllerCaps {
    /// The most pieces a data walk ([`DeviceCommand::data_pieces`]) of any command this
    /// controller accepts can yield: the size of `out` that never gets
    /// [`DeviceError::TooManyPieces`]. For PRPs it is the pages an MDTS-long transfer touches
    /// when it starts on the last dword of a page (MDTS / page size + 1 for a page multiple);
    /// for SGLs, the walk limits' data descriptors ([`sgl::WalkLimits::max_descriptors`]).
    /// `None` without an MDTS: a PRP walk is then bounded only by the transfer's length.
    pub const fn max_data_pieces(&self) -> Option<u64> {
        let Some(mdts) = self.max_transfer.bytes() else {
            return None;
        };
        let ps = self.page_size;
        let prp = pages_touched(ps, ps.bytes().saturating_sub(4), mdts);
        let sgl = if self.sgl.supported() {
            self.sgl.limits().max_descriptors as u64
        } else {
            0
        };
        Some(if prp > sgl { prp } else { sgl })
    }
}

/// One command's data, as the host wants it moved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request<'e> {
    /// The data buffer's physical extents, in transfer order.
    pub extents: &'e [Extent],
    /// Which way the data moves.
    pub direction: Direction,
    /// The metadata buffer's extents, for a namespace with separate metadata.
    pub metadata: Option<&'e [Extent]>,
    /// The queue the command goes to.
    pub queue: QueueKind,
    /// The logical block size, for splitting a request no single command can carry.
    pub block_size: u64,
}

impl<'e> Request<'e> {
    /// A request without metadata, in 512-byte blocks.
    pub const fn new(extents: &'e [Extent], direction: Direction, queue: QueueKind) -> Self {
        Request {
            extents,
            direction,
            metadata: None,
            queue,
            block_size: 512,
        }
    }

    /// This request with metadata in `extents`.
    pub const fn with_metadata(mut self, extents: &'e [Extent]) -> Self {
        self.metadata = Some(extents);
        self
    }

    /// This request with `bytes`-byte logical blocks.
    pub const fn with_block_size(mut self, bytes: u64) -> Self {
        self.block_size = bytes;
        self
    }
}

/// Memory the caller owns for descriptors: PRP list pages, SGL segments, and (for PSDT 10b)
/// metadata segments, the first of which is the one-descriptor segment MPTR points at.
/// Supply what [`plan`] says the request needs; the rest may stay empty.
#[derive(Debug)]
pub struct DescriptorMemory<'m, 'a> {
    /// PRP list pages, as [`PrpBuilder::build`] takes them.
    pub prp_lists: &'m mut [PrpListPage<'a>],
    /// Data SGL segments, as [`SglBuilder::build`] takes them.
    pub sgl_segments: &'m mut [SegmentBuf<'a>],
    /// Metadata SGL segments: `[0]` receives MPTR's one descriptor, the rest the chain.
    pub metadata_segments: &'m mut [SegmentBuf<'a>],
}

impl DescriptorMemory<'_, '_> {
    /// No descriptor memory: enough for layouts that fit the command.
    pub fn none() -> Self {
        DescriptorMemory {
            prp_lists: &mut [],
            sgl_segments: &mut [],
            metadata_segments: &mut [],
        }
    }
}

/// How the metadata travels with an SGL data pointer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SglMetadata {
    /// No metadata (PSDT 01b, MPTR 0).
    None,
    /// One contiguous buffer at this address (PSDT 01b).
    Contiguous(u64),
    /// An SGL behind MPTR (PSDT 10b).
    Segment(SglPlan),
}

/// The decision for one request, before anything is written.
#[derive(Clone, Debug)]
pub enum Plan<'e> {
    /// PRPs (PSDT 00b); MPTR is the contiguous metadata buffer, if any.
    Prp {
        /// The PRP plan ([`PrpPlan::list_pages_needed`] sizes the list memory).
        plan: PrpPlan,
        /// MPTR, when there is metadata.
        mptr: Option<u64>,
    },
    /// An SGL (PSDT 01b or 10b).
    Sgl {
        /// The data SGL's plan ([`SglPlan::segments_needed`] sizes the segment memory).
        plan: SglPlan,
        /// The metadata's form.
        metadata: SglMetadata,
    },
    /// No single command can carry the data: these PRP commands can.
    Split(PrpSplit<'e>),
}

/// The result of filling a command.
#[derive(Clone, Debug)]
pub enum Outcome<'e> {
    /// The command's PSDT, DPTR and MPTR are written.
    Filled(Filled),
    /// Nothing was written: the data needs these PRP commands ([`PrpSplit`]).
    Split(PrpSplit<'e>),
}

/// What [`fill_sqe`] wrote, besides the command's fields (PSDT, DPTR and MPTR are in the
/// command; read them there). Small and plain, as it is returned for every command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Filled {
    /// PSDT as written.
    pub psdt: Psdt,
    /// MPTR as written (0 without metadata).
    pub mptr: u64,
    /// Descriptor memory the data pointer uses, from the front of what was supplied: PRP list
    /// pages for PSDT 00b, SGL segments otherwise; 0 when the pointer fits in the command.
    pub lists_used: usize,
    /// Metadata segments used for PSDT 10b (MPTR's one-descriptor segment included); 0
    /// otherwise.
    pub metadata_segments_used: usize,
}

/// Why an SGL was not an option for a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SglRefusal {
    /// Admin commands use PRPs only.
    AdminQueue,
    /// The controller does not support SGLs.
    NotSupported,
    /// The policy is [`SglPolicy::Never`].
    Policy,
    /// The SGL builder refused the extents.
    Build(sgl::BuildError),
}

impl fmt::Display for SglRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SglRefusal::AdminQueue => f.write_str("admin commands use PRPs only (PSDT 00b)"),
            SglRefusal::NotSupported => f.write_str("the controller does not support SGLs"),
            SglRefusal::Policy => f.write_str("the policy allows PRPs only"),
            SglRefusal::Build(e) => write!(f, "{e}"),
        }
    }
}

/// Why a request could not be turned into a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DptrError {
    /// Neither PRPs nor an SGL can carry the data, and no split into PRP commands exists.
    Inexpressible {
        /// Why the split (and so PRPs) failed.
        prp: prp::BuildError,
        /// Why an SGL could not be used.
        sgl: SglRefusal,
    },
    /// The data fits a pointer kind, but the metadata cannot go with it.
    Metadata(sgl::BuildError),
    /// Building the chosen PRP layout failed (list memory).
    Prp(prp::BuildError),
    /// Building the chosen SGL layout failed (segment memory).
    Sgl(sgl::BuildError),
    /// [`Plan::fill`] was handed a split: no single command carries this data, and each
    /// chunk is filled on its own ([`fill_chunk`]).
    NeedsSplit {
        /// Commands the split takes.
        commands: usize,
    },
}

impl fmt::Display for DptrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DptrError::Inexpressible { prp, sgl } => write!(
                f,
                "no command can carry this data. As PRPs, even split into several commands: \
                 {prp}. As an SGL: {sgl}"
            ),
            DptrError::Metadata(e) => write!(f, "the metadata cannot be described: {e}"),
            DptrError::Prp(e) => write!(f, "{e}"),
            DptrError::Sgl(e) => write!(f, "{e}"),
            DptrError::NeedsSplit { commands } => write!(
                f,
                "no single command can carry this data: fill each of the split's {commands} \
                 chunks as a command of its own (dptr::fill_chunk)"
            ),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for DptrError {}

impl From<prp::BuildError> for DptrError {
    fn from(e: prp::BuildError) -> Self {
        DptrError::Prp(e)
    }
}

impl From<sgl::BuildError> for DptrError {
    fn from(e: sgl::BuildError) -> Self {
        DptrError::Sgl(e)
    }
}

#[inline]
fn prp_builder(ctrl: &ControllerCaps, request: &Request<'_>) -> PrpBuilder {
    let builder = PrpBuilder::new(ctrl.page_size);
    match max_transfer(ctrl, request) {
        Some(max) => builder.with_max_transfer(max),
        None => builder,
    }
}

#[inline]
fn sgl_builder(ctrl: &ControllerCaps, request: &Request<'_>) -> SglBuilder {
    let builder = SglBuilder::new(ctrl.sgl, request.direction);
    match max_transfer(ctrl, request) {
        Some(max) => builder.with_max_transfer(max),
        None => builder,
    }
}

/// The most data one command can carry: MDTS, and the 65,536 blocks NLB can count.
#[inline]
fn max_transfer(ctrl: &ControllerCaps, request: &Request<'_>) -> Option<u64> {
    let nlb_limit =
        Some(request.block_size.saturating_mul(BlockRange::MAX_BLOCKS)).filter(|&limit| limit > 0);
    match (ctrl.max_transfer.bytes(), nlb_limit) {
        (Some(mdts), Some(nlb)) => Some(mdts.min(nlb)),
        (mdts, nlb) => mdts.or(nlb),
    }
}

/// Decide how `request` travels: PRPs, an SGL, or a split into several PRP commands.
/// Writes nothing.
///
/// Each kind is planned at most once, and only when the policy needs it: the preferred kind
/// first, the other only when the preferred one cannot carry the request (both for
/// [`SglPolicy::SmallestFootprint`], which compares them).
#[inline]
pub fn plan<'e>(
    request: &Request<'e>,
    ctrl: &ControllerCaps,
    policy: SglPolicy,
) -> Result<Plan<'e>, DptrError> {
    let refusal = sgl_refusal(request, ctrl, policy);
    let plan_prp = || prp_builder(ctrl, request).plan(request.extents);
    let plan_sgl = || match refusal {
        Some(refusal) => Err(refusal),
        None => sgl_builder(ctrl, request)
            .plan(request.extents)
            .map_err(SglRefusal::Build),
    };
    let (mut prp, mut sgl) = (None, None);
    let prefer_sgl = match (refusal, policy) {
        (Some(_), _) | (None, SglPolicy::Never) => false,
        (None, SglPolicy::Always) => true,
        (None, SglPolicy::Linux { threshold }) => {
            linux_prefers_sgl(request.extents, ctrl.page_size, threshold)
        }
        (None, SglPolicy::SmallestFootprint) => {
            match (prp.insert(plan_prp()), sgl.insert(plan_sgl())) {
                (Ok(prp_plan), Ok(sgl_plan)) => {
                    !sgl_plan.exceeds_sdt()
                        && sgl_plan.footprint(page_segment_capacity(ctrl.page_size))
                            < prp_footprint(prp_plan)
                }
                (prp_plan, _) => prp_plan.is_err(),
            }
        }
    };
    // The preferred kind, or else the other; a metadata problem is reported only when no
    // kind can take both data and metadata.
    let mut metadata_error = None;
    for use_sgl in [prefer_sgl, !prefer_sgl] {
        let attempt = if use_sgl {
            let Ok(plan) = *sgl.get_or_insert_with(plan_sgl) else {
                continue;
            };
            sgl_metadata(ctrl, request).map(|metadata| Plan::Sgl { plan, metadata })
        } else {
            let Ok(plan) = *prp.get_or_insert_with(plan_prp) else {
                continue;
            };
            prp_metadata(ctrl, request.metadata).map(|mptr| Plan::Prp { plan, mptr })
        };
        match attempt {
            Ok(plan) => return Ok(plan),
            Err(e) => {
                metadata_error.get_or_insert(e);
            }
        }
    }
    if let Some(e) = metadata_error {
        return Err(e);
    }
    match prp_builder(ctrl, request).split(request.extents, request.block_size) {
        Ok(split) => Ok(Plan::Split(split)),
        Err(prp) => Err(DptrError::Inexpressible {
            prp,
            sgl: sgl.and_then(Result::err).unwrap_or(SglRefusal::Policy),
        }),
    }
}

impl<'e> Plan<'e> {
    /// Write the planned layout into `memory` and the command's PSDT, DPTR and MPTR into
    /// `sqe`. Checks all memory before writing any: on error nothing (descriptor memory or
    /// command) has been written. A split plan is not one command: it is
    /// [`DptrError::NeedsSplit`], and its chunks are filled one by one ([`fill_chunk`]).
    #[inline]
    pub fn fill(
        self,
        sqe: &mut SubmissionEntry,
        request: &Request<'e>,
        ctrl: &ControllerCaps,
        memory: &mut DescriptorMemory<'_, '_>,
    ) -> Result<Filled, DptrError> {
        let filled = match self {
            Plan::Split(split) => {
                return Err(DptrError::NeedsSplit {
                    commands: split.commands(),
                })
            }
            Plan::Prp { plan, mptr } => {
                let layout = prp_builder(ctrl, request).build_planned(
                    &plan,
                    request.extents,
                    memory.prp_lists,
                )?;
                sqe.set_psdt(Psdt::Prp);
                sqe.set_prp1(layout.pair.prp1);
                sqe.set_prp2(layout.pair.prp2.raw());
                Filled {
                    psdt: Psdt::Prp,
                    mptr: mptr.unwrap_or(0),
                    lists_used: layout.list_pages_used,
                    metadata_segments_used: 0,
                }
            }
            Plan::Sgl { plan, metadata } => {
                let builder = sgl_builder(ctrl, request);
                let data_segments = sgl::place(&plan, memory.sgl_segments)?;
                let metadata_layout = match metadata {
                    SglMetadata::Segment(meta_plan) => {
                        let (mptr_segment, chain) = memory
                            .metadata_segments
                            .split_first_mut()
                            .ok_or(sgl::BuildError::SegmentMemoryTooSmall {
                                descriptors: 1,
                                given: 0,
                            })
                            .map_err(DptrError::Metadata)?;
                        let extents = request.metadata.unwrap_or_default();
                        builder
                            .plan_metadata(extents, mptr_segment)
                            .map_err(DptrError::Metadata)?;
                        let used = sgl::place(&meta_plan, chain).map_err(DptrError::Metadata)?;
                        // Everything is checked: write the metadata SGL, then the data SGL.
                        let first = builder.write(extents, &meta_plan, chain);
                        sgl::write_metadata_pointer(mptr_segment, first);
                        Some((mptr_segment.bus_addr(), used.saturating_add(1)))
                    }
                    SglMetadata::None | SglMetadata::Contiguous(_) => None,
                };
                let sgl1 = builder.write(request.extents, &plan, memory.sgl_segments);
                let (psdt, mptr, metadata_segments_used) = match (metadata, metadata_layout) {
                    (_, Some((mptr, used))) => (Psdt::SglMetadataSgl, mptr, used),
                    (SglMetadata::Contiguous(mptr), None) => (Psdt::Sgl, mptr, 0),
                    _ => (Psdt::Sgl, 0, 0),
                };
                sqe.set_psdt(psdt);
                sqe.set_sgl1(sgl1.to_raw());
                Filled {
                    psdt,
                    mptr,
                    lists_used: data_segments,
                    metadata_segments_used,
                }
            }
        };
        sqe.set_mptr(filled.mptr);
        Ok(filled)
    }
}

/// Choose PRPs or an SGL for `request` under `policy`, write the layout into `memory`, and
/// fill `sqe`'s PSDT, DPTR and MPTR; or hand back the split plan when no single command can
/// carry the data. On error nothing has been written.
///
/// The same as [`plan`] then [`Plan::fill`], with a fast path for what most I/O is: data
/// without separate metadata, carried by the kind the policy prefers: that kind is built in
/// one call of its builder, and plans are made only when the builder refuses the extents.
#[inline]
pub fn fill_sqe<'e>(
    sqe: &mut SubmissionEntry,
    request: &Request<'e>,
    ctrl: &ControllerCaps,
    policy: SglPolicy,
    memory: &mut DescriptorMemory<'_, '_>,
) -> Result<Outcome<'e>, DptrError> {
    if request.metadata.is_none() {
        if let Some(filled) = fill_preferred(sqe, request, ctrl, policy, memory)? {
            return Ok(Outcome::Filled(filled));
        }
    }
    match plan(request, ctrl, policy)? {
        Plan::Split(split) => Ok(Outcome::Split(split)),
        plan => plan.fill(sqe, request, ctrl, memory).map(Outcome::Filled),
    }
}

/// Fill `sqe`'s data pointer with the PRPs of one chunk of a split ([`Plan::Split`]): its
/// extents, cut from `request`'s, written as PRP1, PRP2 and PRP lists in `memory`. The chunk's
/// blocks go in the command too: [`PrpChunk::first_block`] past the request's starting LBA,
/// and [`PrpChunk::blocks`] of them ([`SubmissionEntry::set_block_range`]). On error nothing
/// has been written.
///
/// ```
/// use nvme_dma::dptr::{self, ControllerCaps, DescriptorMemory, Plan, Request, SglPolicy};
/// use nvme_dma::sgl::SglCaps;
/// use nvme_dma::spec::{BlockRange, MaxTransfer, Opcode, Sgls, SubmissionEntry};
/// use nvme_dma::{Direction, Extent, PageSize, QueueKind};
///
/// let caps = ControllerCaps {
///     page_size: PageSize::SIZE_4K,
///     sgl: SglCaps::new(Sgls::empty()),
///     max_transfer: MaxTransfer::Bytes(8192),
/// };
/// // 16 KiB from LBA 100 in 512-byte blocks, through an 8 KiB MDTS: two commands.
/// let extents = [Extent::new(0x10_0000, 0x4000)];
/// let request = Request::new(&extents, Direction::Write, QueueKind::Io);
/// let Plan::Split(split) = dptr::plan(&request, &caps, SglPolicy::Never)? else { panic!() };
/// for chunk in split {
///     let range = BlockRange::new(100 + chunk.first_block, chunk.blocks).unwrap();
///     let mut sqe = SubmissionEntry::new(Opcode::NVM_WRITE, 1).with_block_range(range);
///     dptr::fill_chunk(&mut sqe, &request, &chunk, &caps, &mut DescriptorMemory::none())?;
///     assert_eq!(sqe.prp1(), 0x10_0000 + chunk.offset);
/// }
/// # Ok::<(), nvme_dma::dptr::DptrError>(())
/// ```
pub fn fill_chunk(
    sqe: &mut SubmissionEntry,
    request: &Request<'_>,
    chunk: &PrpChunk,
    ctrl: &ControllerCaps,
    memory: &mut DescriptorMemory<'_, '_>,
) -> Result<Filled, DptrError> {
    let layout =
        prp_builder(ctrl, request).build(chunk.extents(request.extents), memory.prp_lists)?;
    sqe.set_psdt(Psdt::Prp);
    sqe.set_prp1(layout.pair.prp1);
    sqe.set_prp2(layout.pair.prp2.raw());
    sqe.set_mptr(0);
    Ok(Filled {
        psdt: Psdt::Prp,
        mptr: 0,
        lists_used: layout.list_pages_used,
        metadata_segments_used: 0,
    })
}

/// The fast path of [`fill_sqe`], for a request without separate metadata: build the kind
/// the policy prefers in one call of its builder, which plans and writes in a single step.
/// `Ok(None)`, having written nothing, when the policy needs both plans to decide
/// ([`SglPolicy::SmallestFootprint`] beyond one extent) or when the preferred builder refuses
/// the extents by a rule: the general path then decides from scratch, falling back to the
/// other kind or to a split.
///
/// Its invariant: whatever it returns, `plan` then `Plan::fill` would return too
/// (tests/dptr.rs checks the two against each other on random requests). It holds because,
/// without metadata, `plan` chooses the preferred kind whenever that kind's rules accept the
/// extents, and `Plan::fill` then builds it as the builder does, refusing the same
/// descriptor memory with the same error.
#[inline]
fn fill_preferred(
    sqe: &mut SubmissionEntry,
    request: &Request<'_>,
    ctrl: &ControllerCaps,
    policy: SglPolicy,
    memory: &mut DescriptorMemory<'_, '_>,
) -> Result<Option<Filled>, DptrError> {
    let prefer_sgl = match (sgl_refusal(request, ctrl, policy), policy) {
        (Some(_), _) | (None, SglPolicy::Never) => false,
        (None, SglPolicy::Always) => true,
        (None, SglPolicy::Linux { threshold }) => {
            linux_prefers_sgl(request.extents, ctrl.page_size, threshold)
        }
        // One extent: the smaller footprint is the one that fits the command. Within two
        // pages both kinds do (a tie, which goes to PRPs); beyond, only an SGL does, when it
        // is SGL1 alone, which is all this path takes for this policy.
        (None, SglPolicy::SmallestFootprint) => match request.extents {
            [extent] => pages_touched(ctrl.page_size, extent.addr, extent.len) > 2,
            _ => return Ok(None),
        },
    };
    if prefer_sgl {
        let segments: &mut [SegmentBuf<'_>] = match policy {
            SglPolicy::SmallestFootprint => &mut [],
            _ => memory.sgl_segments,
        };
        let layout = match sgl_builder(ctrl, request).build(request.extents, segments) {
            Ok(layout) => layout,
            Err(e) if e.is_about_memory() && policy != SglPolicy::SmallestFootprint => {
                return Err(DptrError::Sgl(e))
            }
            Err(_) => return Ok(None),
        };
        sqe.set_psdt(Psdt::Sgl);
        sqe.set_sgl1(layout.sgl1.to_raw());
        sqe.set_mptr(0);
        Ok(Some(Filled {
            psdt: Psdt::Sgl,
            mptr: 0,
            lists_used: layout.segments_used,
            metadata_segments_used: 0,
        }))
    } else {
        let builder = prp_builder(ctrl, request);
        let built = match request.extents {
            // One buffer within two pages, most I/O of all: PRP1 and PRP2 straight from it.
            [only] if pages_touched(ctrl.page_size, only.addr, only.len) <= 2 => {
                builder.build_inline(*only).map(|pair| (pair, 0))
            }
            extents => builder
                .build(extents, memory.prp_lists)
                .map(|layout| (layout.pair, layout.list_pages_used)),
        };
        let (pair, lists_used) = match built {
            Ok(built) => built,
            Err(e) if e.is_about_memory() => return Err(DptrError::Prp(e)),
            Err(_) => return Ok(None),
        };
        sqe.set_psdt(Psdt::Prp);
        sqe.set_prp1(pair.prp1);
        sqe.set_prp2(pair.prp2.raw());
        sqe.set_mptr(0);
        Ok(Some(Filled {
            psdt: Psdt::Prp,
            mptr: 0,
            lists_used,
            metadata_segments_used: 0,
        }))
    }
}

impl DptrError {
    /// The rule behind the refusal; for a wrapped error, the rule of its cause.
    ///
    /// For [`DptrError::Inexpressible`] it is the PRP rule that no split could satisfy: PRPs
    /// are the data pointer every controller accepts, so theirs is the rule that decided; the
    /// `sgl` field (and the `Display` text) says why the SGL fallback did not help.
    pub const fn rule(&self) -> crate::rule::Rule {
        match self {
            DptrError::Inexpressible { prp, .. } => prp.rule(),
            DptrError::Metadata(e) | DptrError::Sgl(e) => e.rule(),
            DptrError::Prp(e) => e.rule(),
            DptrError::NeedsSplit { .. } => crate::rule::Rule::DptrSplitCommands,
        }
    }
}
