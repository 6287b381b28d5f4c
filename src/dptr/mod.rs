//! Choosing the data pointer: PRPs or an SGL for one request, written into the command's PSDT,
//! DPTR and MPTR; and, on the device side, reading them back.
//!
//! # Host side
//!
//! [`fill_sqe`] turns a [`Request`] (extents, as a slice or any other cloneable iterator of
//! them ([`Extents`]), direction, optional metadata, queue) and the
//! [`ControllerCaps`]'s capabilities into a filled [`SubmissionEntry`](crate::spec::SubmissionEntry), writing PRP lists or SGL
//! segments into memory the caller owns ([`DescriptorMemory`]). [`plan`] is the same decision
//! without writing anything, for a caller that wants to size or pick descriptor memory first;
//! [`Plan::fill`] then finishes the job. A driver with a pool of descriptor pages implements
//! [`DescriptorPool`] over it and calls [`fill_sqe_pooled`], which takes just the pages the
//! chosen pointer needs ([`Plan::pages_needed`]), whatever they are used as.
//!
//! The rules no policy can change:
//!
//! * Admin commands use PRPs only (PSDT 00b), as do controllers without SGL support.
//! * Metadata in several pieces, or not dword aligned, needs an SGL: PSDT 01b with a
//!   byte-aligned contiguous buffer (SGLS bit 17), or PSDT 10b with an SGL behind MPTR (SGLS
//!   bit 19).
//! * A policy states a preference. When the preferred kind cannot express the request, the
//!   other is used; when neither can in one command, the result is a [`Split`]: the PRP
//!   splitter's plan ([`PrpSplit`](crate::prp::PrpSplit)), the fewest PRP commands that
//!   carry the data, when PRPs can carry every chunk; otherwise, when an SGL may be used (an
//!   I/O queue, a controller with SGLs, a policy that allows them), SGL commands, each the
//!   most whole blocks within MDTS, NLB's 65,536 blocks and MSDBD, cut anywhere in an
//!   extent. Every chunk is a whole number of blocks, filled as a command of its own with
//!   [`fill_chunk`]. (The split covers the data; each command's metadata is the caller's to
//!   cut at the same blocks.)
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
mod fill;
mod metadata;
mod policy;
mod pool;
mod split;
pub use device::{
    decode, CommandPointers, DataPointer, DeviceCommand, DeviceError, DptrWalkError, DptrWalker,
    MetadataPointer, PsdtError, Transfer,
};
pub use fill::fill_sqe;
use metadata::{prp_metadata, sgl_metadata};
pub use policy::SglPolicy;
use policy::{linux_prefers_sgl, page_segment_capacity, prp_footprint, sgl_refusal};
pub use pool::{fill_sqe_pooled, DescriptorPage, DescriptorPool, Pooled};
pub use split::{fill_chunk, Chunk, PointerKind, Split};

pub use crate::extent::Extents;
use crate::extent::{Extent, PageSize};
use crate::prp::geometry::pages_touched;
use crate::prp::{self, PrpBuilder, PrpListPage, PrpPlan};
use crate::sgl::{self, SegmentBuf, SglBuilder, SglCaps, SglPlan};
use crate::spec::{BlockRange, MaxTransfer, Psdt};
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
///
/// The data extents `E` are a slice of [`Extent`]s by default (`Request<'_>`, made with
/// [`Request::new`]), or any other cloneable iterable of extents ([`Extents`], made with
/// [`Request::of`]): a driver whose scatter list has its own format maps it to extents in
/// place, with no array to copy it into. Every host-side call ([`fill_sqe`], [`plan`],
/// [`fill_sqe_pooled`], a [`Split`] and [`fill_chunk`]) takes either, allocates nothing,
/// and names an extent in an error by its position in the request.
///
/// ```
/// use nvme_dma::dptr::{self, ControllerCaps, DescriptorMemory, Outcome, Request, SglPolicy};
/// use nvme_dma::prp::PrpListPage;
/// use nvme_dma::sgl::SglCaps;
/// use nvme_dma::spec::{MaxTransfer, Opcode, Psdt, Sgls, SubmissionEntry};
/// use nvme_dma::{Direction, Extent, PageSize, QueueKind};
///
/// /// The driver's own scatter-list entry, as its block layer hands it over.
/// struct BioVec {
///     dma_addr: u64,
///     len: u32,
/// }
///
/// let bvecs = [
///     BioVec { dma_addr: 0x10_0200, len: 0xe00 }, // ends on a page boundary
///     BioVec { dma_addr: 0x20_0000, len: 0x2000 },
///     BioVec { dma_addr: 0x30_0000, len: 0x200 },
/// ];
/// let caps = ControllerCaps {
///     page_size: PageSize::SIZE_4K,
///     sgl: SglCaps::new(Sgls::empty()),
///     max_transfer: MaxTransfer::Bytes(1 << 20),
/// };
/// // The scatter list mapped to extents as it is read: nothing is copied or allocated.
/// let extents = bvecs.iter().map(|v| Extent::new(v.dma_addr, u64::from(v.len)));
/// let request = Request::of(extents, Direction::Write, QueueKind::Io);
///
/// let mut list = [0u8; 4096];
/// let mut pages = [PrpListPage::new(0x8000, &mut list)];
/// let mut memory = DescriptorMemory { prp_lists: &mut pages, ..DescriptorMemory::none() };
/// let mut sqe = SubmissionEntry::new(Opcode::NVM_WRITE, 1);
/// let out = dptr::fill_sqe(&mut sqe, &request, &caps, SglPolicy::LINUX, &mut memory)?;
/// assert!(matches!(out, Outcome::Filled(_)));
/// // Four pages: PRP1 is the first, PRP2 the list with the other three.
/// assert_eq!((sqe.psdt(), sqe.prp1(), sqe.prp2()), (Psdt::Prp, 0x10_0200, 0x8000));
/// # Ok::<(), nvme_dma::dptr::DptrError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request<'e, E = &'e [Extent]> {
    /// The data buffer's physical extents, in transfer order.
    pub extents: E,
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
    /// A request for the extents in a slice, without metadata, in 512-byte blocks.
    pub const fn new(extents: &'e [Extent], direction: Direction, queue: QueueKind) -> Self {
        Request::of(extents, direction, queue)
    }
}

impl<'e, E> Request<'e, E> {
    /// A request for any [`Extents`] (a slice, or an iterator adapter over a driver's own
    /// scatter list), without metadata, in 512-byte blocks.
    pub const fn of(extents: E, direction: Direction, queue: QueueKind) -> Self {
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
pub enum Plan<'e, E = &'e [Extent]> {
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
    /// No single command can carry the data: these commands can, each a chunk of whole
    /// blocks filled with [`fill_chunk`]: PRP commands when PRPs can carry every chunk, SGL
    /// commands when only SGLs can.
    Split(Split<'e, E>),
}

/// The result of filling a command.
#[derive(Clone, Debug)]
pub enum Outcome<'e, E = &'e [Extent]> {
    /// The command's PSDT, DPTR and MPTR are written.
    Filled(Filled),
    /// Nothing was written: the data needs these commands ([`Split`]).
    Split(Split<'e, E>),
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
    /// The SGL builder refused the extents, in one command and split into several.
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
    /// Neither PRPs nor an SGL can carry the data, and no split into PRP or SGL commands
    /// exists.
    Inexpressible {
        /// Why the split (and so PRPs) failed.
        prp: prp::BuildError,
        /// Why an SGL could not be used, in one command or split.
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
fn prp_builder<E>(ctrl: &ControllerCaps, request: &Request<'_, E>) -> PrpBuilder {
    let builder = PrpBuilder::new(ctrl.page_size);
    match max_transfer(ctrl, request) {
        Some(max) => builder.with_max_transfer(max),
        None => builder,
    }
}

#[inline]
fn sgl_builder<E>(ctrl: &ControllerCaps, request: &Request<'_, E>) -> SglBuilder {
    SglBuilder::with_limit(ctrl.sgl, request.direction, max_transfer(ctrl, request))
}

/// The most data one command can carry: MDTS, and the 65,536 blocks NLB can count.
#[inline]
fn max_transfer<E>(ctrl: &ControllerCaps, request: &Request<'_, E>) -> Option<u64> {
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
pub fn plan<'e, E: Extents>(
    request: &Request<'e, E>,
    ctrl: &ControllerCaps,
    policy: SglPolicy,
) -> Result<Plan<'e, E>, DptrError> {
    let refusal = sgl_refusal(request, ctrl, policy);
    let plan_prp = || prp_builder(ctrl, request).plan(request.extents.clone());
    let plan_sgl = || match refusal {
        Some(refusal) => Err(refusal),
        None => sgl_builder(ctrl, request)
            .plan(request.extents.clone())
            .map_err(SglRefusal::Build),
    };
    let (mut prp, mut sgl) = (None, None);
    let prefer_sgl = match (refusal, policy) {
        (Some(_), _) | (None, SglPolicy::Never) => false,
        (None, SglPolicy::Always) => true,
        (None, SglPolicy::Linux { threshold }) => {
            linux_prefers_sgl(&request.extents, ctrl.page_size, threshold)
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
    split::split(request, ctrl, refusal, sgl).map(Plan::Split)
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
