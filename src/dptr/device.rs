//! Device side: reading PSDT, DPTR and MPTR out of a command as a controller does, and
//! walking them into the pieces of the transfer whatever their kind; [`DeviceCommand`] and
//! [`DeviceError`] put decoding, MDTS, walking and moving the data behind three calls.

use core::fmt;

use crate::extent::PageSize;
use crate::memory::DmaMemory;
use crate::prp::{self, PrpWalker};
use crate::sgl::{self, contiguous_metadata, Capability, SglCaps, SglWalker};
use crate::spec::{Psdt, SglDescriptor, Status, SubmissionEntry};
use crate::walk::{Pieces, Progress, Walk};
use crate::{Direction, Piece, QueueKind};

/// The data pointer of a command, as PSDT says to read DPTR.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataPointer {
    /// PSDT 00b: PRP1 and PRP2.
    Prp {
        /// PRP Entry 1.
        prp1: u64,
        /// PRP Entry 2.
        prp2: u64,
    },
    /// PSDT 01b or 10b: SGL1.
    Sgl(SglDescriptor),
}

/// The metadata pointer of a command, as PSDT says to read MPTR.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetadataPointer {
    /// PSDT 00b or 01b: the address of one contiguous buffer.
    Contiguous {
        /// MPTR.
        mptr: u64,
        /// Whether the data pointer is an SGL (PSDT 01b), which may allow byte alignment.
        sgl_data: bool,
    },
    /// PSDT 10b: the address of a segment holding the metadata SGL's first descriptor.
    Sgl(u64),
}

/// A command's data and metadata pointers, decoded by [`decode`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommandPointers {
    /// DPTR.
    pub data: DataPointer,
    /// MPTR.
    pub metadata: MetadataPointer,
}

/// Why a command's PSDT cannot be used: Invalid Field in Command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PsdtError {
    /// PSDT 11b is reserved.
    Reserved,
    /// An SGL on the admin queue (admin commands use PRPs only).
    SglOnAdminQueue,
    /// An SGL (or, for PSDT 10b, an SGL behind MPTR) the controller does not support.
    NotSupported(Capability),
}

impl PsdtError {
    /// Invalid Field in Command, with DNR set.
    pub const fn status(&self) -> Status {
        Status::INVALID_FIELD.with_dnr(true)
    }
}

impl fmt::Display for PsdtError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PsdtError::Reserved => f.write_str("PSDT 11b is reserved"),
            PsdtError::SglOnAdminQueue => {
                f.write_str("an admin command must use PRPs (PSDT 00b), not an SGL")
            }
            PsdtError::NotSupported(c) => write!(f, "PSDT asks for {c}, which is not supported"),
        }?;
        write!(f, ": {}", self.status())
    }
}

#[cfg(feature = "std")]
impl std::error::Error for PsdtError {}

/// Read PSDT, DPTR and MPTR out of a command as a controller does.
pub fn decode(
    sqe: &SubmissionEntry,
    queue: QueueKind,
    caps: &SglCaps,
) -> Result<CommandPointers, PsdtError> {
    let psdt = sqe.psdt();
    if psdt == Psdt::Reserved {
        return Err(PsdtError::Reserved);
    }
    if psdt.is_sgl() && queue == QueueKind::Admin {
        return Err(PsdtError::SglOnAdminQueue);
    }
    if psdt.is_sgl() && !caps.supported() {
        return Err(PsdtError::NotSupported(Capability::Sgl));
    }
    if psdt == Psdt::SglMetadataSgl && !caps.has(Capability::MetadataSgl) {
        return Err(PsdtError::NotSupported(Capability::MetadataSgl));
    }
    let data = if psdt.is_sgl() {
        DataPointer::Sgl(sqe.sgl1())
    } else {
        DataPointer::Prp {
            prp1: sqe.prp1(),
            prp2: sqe.prp2(),
        }
    };
    let metadata = if psdt == Psdt::SglMetadataSgl {
        MetadataPointer::Sgl(sqe.mptr())
    } else {
        MetadataPointer::Contiguous {
            mptr: sqe.mptr(),
            sgl_data: psdt.is_sgl(),
        }
    };
    Ok(CommandPointers { data, metadata })
}

/// Why a walk through [`DptrWalker`] stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DptrWalkError {
    /// The PRPs broke a rule.
    Prp(prp::WalkError),
    /// The SGL (or contiguous metadata pointer) broke a rule.
    Sgl(sgl::WalkError),
}

impl DptrWalkError {
    /// The completion status for this error.
    pub const fn status(&self) -> Status {
        match self {
            DptrWalkError::Prp(e) => e.status(),
            DptrWalkError::Sgl(e) => e.status(),
        }
    }
}

impl fmt::Display for DptrWalkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DptrWalkError::Prp(e) => write!(f, "{e}"),
            DptrWalkError::Sgl(e) => write!(f, "{e}"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for DptrWalkError {}

/// Walks any data or metadata pointer into [`Piece`]s, whatever its kind; [`Walk`] states
/// the contract.
#[derive(Debug)]
pub enum DptrWalker<'m, M: DmaMemory + ?Sized> {
    /// PRP1 and PRP2 with their lists.
    Prp(PrpWalker<'m, M>),
    /// SGL1 or an SGL behind MPTR.
    Sgl(SglWalker<'m, M>),
    /// A contiguous metadata buffer: one piece, or the error found checking it.
    Contiguous(Option<Result<Piece, sgl::WalkError>>),
}

impl<M: DmaMemory + ?Sized> Walk for DptrWalker<'_, M> {
    type Error = DptrWalkError;

    #[inline]
    fn fill(&mut self, out: &mut [Piece]) -> Result<Progress, DptrWalkError> {
        match self {
            DptrWalker::Prp(w) => w.fill(out).map_err(DptrWalkError::Prp),
            DptrWalker::Sgl(w) => Walk::fill(w, out).map_err(DptrWalkError::Sgl),
            DptrWalker::Contiguous(once) => {
                let Some(slot) = out.first_mut() else {
                    return Ok(Progress {
                        written: 0,
                        done: once.is_none(),
                    });
                };
                match once.take() {
                    None => Ok(Progress::FINISHED),
                    Some(Ok(piece)) => {
                        *slot = piece;
                        Ok(Progress {
                            written: 1,
                            done: true,
                        })
                    }
                    Some(Err(e)) => Err(DptrWalkError::Sgl(e)),
                }
            }
        }
    }

    #[inline]
    fn sole_piece(&mut self) -> Option<Piece> {
        match self {
            DptrWalker::Prp(w) => w.sole_piece(),
            DptrWalker::Sgl(w) => w.sole_piece(),
            DptrWalker::Contiguous(once) => match *once {
                Some(Ok(piece)) => {
                    *once = None;
                    Some(piece)
                }
                _ => None,
            },
        }
    }
}

impl<'m, M: DmaMemory + ?Sized> IntoIterator for DptrWalker<'m, M> {
    type Item = Result<Piece, DptrWalkError>;
    type IntoIter = Pieces<Self>;

    fn into_iter(self) -> Pieces<Self> {
        self.pieces()
    }
}

impl CommandPointers {
    /// Walk the data pointer for a transfer of `len` bytes.
    pub fn walk_data<'m, M: DmaMemory + ?Sized>(
        &self,
        direction: Direction,
        len: u64,
        page_size: PageSize,
        caps: &SglCaps,
        mem: &'m M,
    ) -> DptrWalker<'m, M> {
        match self.data {
            DataPointer::Prp { prp1, prp2 } => {
                DptrWalker::Prp(PrpWalker::new(prp1, prp2, len, page_size, mem))
            }
            DataPointer::Sgl(sgl1) => {
                DptrWalker::Sgl(SglWalker::new(sgl1, direction, len, caps, mem))
            }
        }
    }

    /// Walk the metadata pointer for `len` bytes of metadata.
    pub fn walk_metadata<'m, M: DmaMemory + ?Sized>(
        &self,
        direction: Direction,
        len: u64,
        caps: &SglCaps,
        mem: &'m M,
    ) -> DptrWalker<'m, M> {
        match self.metadata {
            MetadataPointer::Contiguous { mptr, sgl_data } => {
                DptrWalker::Contiguous(match contiguous_metadata(mptr, len, sgl_data, caps) {
                    Ok(buffer) if buffer.is_empty() => None,
                    Ok(buffer) => Some(Ok(Piece::Data(buffer))),
                    Err(e) => Some(Err(e)),
                })
            }
            MetadataPointer::Sgl(mptr) => {
                DptrWalker::Sgl(SglWalker::metadata(mptr, direction, len, caps, mem))
            }
        }
    }
}

/// How much data a command moves, and which way: what the controller works out from the
/// command itself (its opcode, its block count and the namespace's format) before it looks
/// at the data pointer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transfer {
    /// Which way the data moves.
    pub direction: Direction,
    /// Bytes of data.
    pub data_len: u64,
    /// Bytes of metadata in a separate buffer (0 for none, or metadata interleaved with the
    /// data).
    pub metadata_len: u64,
}

impl Transfer {
    /// A Read of `data_len` bytes: the controller writes host memory.
    pub const fn read(data_len: u64) -> Self {
        Transfer {
            direction: Direction::Read,
            data_len,
            metadata_len: 0,
        }
    }

    /// A Write of `data_len` bytes: the controller reads host memory.
    pub const fn write(data_len: u64) -> Self {
        Transfer {
            direction: Direction::Write,
            data_len,
            metadata_len: 0,
        }
    }

    /// This transfer with `bytes` of separate metadata.
    pub const fn with_metadata(mut self, bytes: u64) -> Self {
        self.metadata_len = bytes;
        self
    }
}

/// A command's data pointers, decoded and checked against the controller: what an emulator
/// walks and moves data through.
///
/// ```
/// use nvme_dma::dptr::{ControllerCaps, DeviceCommand, DeviceError, Transfer};
/// use nvme_dma::memory::DataMover;
/// use nvme_dma::sgl::SglCaps;
/// use nvme_dma::spec::{MaxTransfer, Opcode, Sgls, SubmissionEntry};
/// use nvme_dma::{PageSize, Piece, QueueKind, SliceMemory};
///
/// let caps = ControllerCaps {
///     page_size: PageSize::SIZE_4K,
///     sgl: SglCaps::new(Sgls::empty()),
///     max_transfer: MaxTransfer::Bytes(128 * 1024),
/// };
/// let mut host = vec![0u8; 0x2000];
/// let mut mem = SliceMemory::new(0x10_0000, &mut host);
/// // A 4 KiB Read into a buffer 0x800 into a page: PRP1 and PRP2, no list.
/// let sqe = SubmissionEntry::new(Opcode::NVM_READ, 1)
///     .with_prp1(0x10_0800)
///     .with_prp2(0x10_1000);
/// let data = [0x5a; 4096]; // what the device's store holds
///
/// // Decode (PSDT, MDTS), walk, move: a failure anywhere is the completion status.
/// let mut pieces = [Piece::Skip(0); 16];
/// let cmd = DeviceCommand::decode(&sqe, QueueKind::Io, &caps, Transfer::read(4096))?;
/// let n = cmd.data_pieces(&mem, &mut pieces)?;
/// DataMover::new(&pieces[..n], &mem)?.to_host(&mut mem, &data)?;
/// assert!(host[0x800..0x1800].iter().all(|&b| b == 0x5a));
/// # Ok::<(), DeviceError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeviceCommand {
    /// The data and metadata pointers, as PSDT says to read them.
    pub pointers: CommandPointers,
    /// The transfer the command asks for.
    pub transfer: Transfer,
    page_size: PageSize,
    sgl: SglCaps,
}

impl DeviceCommand {
    /// Read `sqe`'s PSDT, DPTR and MPTR as a controller with `caps` does ([`decode`]), and check
    /// the transfer against MDTS: Invalid Field in Command for a reserved or unsupported PSDT
    /// and for a transfer longer than MDTS.
    pub fn decode(
        sqe: &SubmissionEntry,
        queue: QueueKind,
        caps: &super::ControllerCaps,
        transfer: Transfer,
    ) -> Result<Self, DeviceError> {
        let pointers = decode(sqe, queue, &caps.sgl)?;
        if let Some(max) = caps.max_transfer.bytes() {
            if transfer.data_len > max {
                return Err(DeviceError::TransferTooLong {
                    len: transfer.data_len,
                    max,
                });
            }
        }
        Ok(DeviceCommand {
            pointers,
            transfer,
            page_size: caps.page_size,
            sgl: caps.sgl,
        })
    }

    /// The walk of the data pointer.
    pub fn walk_data<'m, M: DmaMemory + ?Sized>(&self, mem: &'m M) -> DptrWalker<'m, M> {
        let t = self.transfer;
        self.pointers
            .walk_data(t.direction, t.data_len, self.page_size, &self.sgl, mem)
    }

    /// The walk of the metadata pointer.
    pub fn walk_metadata<'m, M: DmaMemory + ?Sized>(&self, mem: &'m M) -> DptrWalker<'m, M> {
        let t = self.transfer;
        self.pointers
            .walk_metadata(t.direction, t.metadata_len, &self.sgl, mem)
    }

    /// Walk the whole data pointer into `out` and return how many pieces it holds; the walk
    /// is over and valid when this returns `Ok`. A walk with more pieces than `out` holds is
    /// [`DeviceError::TooManyPieces`]: size `out` for the longest command the controller takes,
    /// [`ControllerCaps::max_data_pieces`](super::ControllerCaps::max_data_pieces).
    pub fn data_pieces<M: DmaMemory + ?Sized>(
        &self,
        mem: &M,
        out: &mut [Piece],
    ) -> Result<usize, DeviceError> {
        walk_into(self.walk_data(mem), out)
    }

    /// [`DeviceCommand::data_pieces`] for the metadata pointer.
    pub fn metadata_pieces<M: DmaMemory + ?Sized>(
        &self,
        mem: &M,
        out: &mut [Piece],
    ) -> Result<usize, DeviceError> {
        walk_into(self.walk_metadata(mem), out)
    }
}

/// Run `walk` to its end into `out`.
fn walk_into<M: DmaMemory + ?Sized>(
    mut walk: DptrWalker<'_, M>,
    out: &mut [Piece],
) -> Result<usize, DeviceError> {
    let progress = walk.fill(out)?;
    if progress.done {
        return Ok(progress.written);
    }
    Err(DeviceError::TooManyPieces { room: out.len() })
}

/// Why a controller cannot carry out a command's data transfer: every device-side failure,
/// each with the completion status to post ([`DeviceError::status`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeviceError {
    /// PSDT cannot be used: Invalid Field in Command.
    Psdt(PsdtError),
    /// The transfer is longer than MDTS: Invalid Field in Command.
    TransferTooLong {
        /// Bytes the command asks for.
        len: u64,
        /// MDTS in bytes.
        max: u64,
    },
    /// The data or metadata pointer broke a rule: its PRP or SGL status.
    Walk(DptrWalkError),
    /// The walk has more pieces than the caller's buffer holds (a limit of the caller's, not
    /// a fault of the command): Data Transfer Error.
    TooManyPieces {
        /// Pieces the buffer holds.
        room: usize,
    },
    /// Moving the data failed: Data Transfer Error, or SGL Descriptor Type Invalid for a
    /// piece that is not host memory.
    Move(crate::memory::MoveError),
}

impl DeviceError {
    /// The completion status for this error, DNR set.
    pub const fn status(&self) -> Status {
        match self {
            DeviceError::Psdt(e) => e.status(),
            DeviceError::TransferTooLong { .. } => Status::INVALID_FIELD.with_dnr(true),
            DeviceError::Walk(e) => e.status(),
            DeviceError::TooManyPieces { .. } => Status::DATA_TRANSFER_ERROR.with_dnr(true),
            DeviceError::Move(e) => e.status(),
        }
    }
}

impl fmt::Display for DeviceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceError::Psdt(e) => write!(f, "{e}"),
            DeviceError::TransferTooLong { len, max } => write!(
                f,
                "the command moves {len:#x} bytes, more than MDTS allows ({max:#x}): {}",
                self.status()
            ),
            DeviceError::Walk(e) => write!(f, "{e}"),
            DeviceError::TooManyPieces { room } => write!(
                f,
                "the walk has more pieces than the {room} the caller made room for: {}",
                self.status()
            ),
            DeviceError::Move(e) => write!(f, "{e}"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for DeviceError {}

impl From<PsdtError> for DeviceError {
    fn from(e: PsdtError) -> Self {
        DeviceError::Psdt(e)
    }
}

impl From<DptrWalkError> for DeviceError {
    fn from(e: DptrWalkError) -> Self {
        DeviceError::Walk(e)
    }
}

impl From<crate::memory::MoveError> for DeviceError {
    fn from(e: crate::memory::MoveError) -> Self {
        DeviceError::Move(e)
    }
}

impl From<crate::memory::DmaFault> for DeviceError {
    fn from(fault: crate::memory::DmaFault) -> Self {
        DeviceError::Move(crate::memory::MoveError::Fault(fault))
    }
}

impl PsdtError {
    /// The rule PSDT broke: reserved, an SGL on the admin queue, or an SGL the controller
    /// does not support (the same rule the SGL builder enforces).
    pub const fn rule(&self) -> crate::rule::Rule {
        use crate::rule::Rule;
        match self {
            PsdtError::Reserved => Rule::DptrPsdtReserved,
            PsdtError::SglOnAdminQueue => Rule::DptrAdminPrpsOnly,
            PsdtError::NotSupported(_) => Rule::SglSupported,
        }
    }
}

impl DptrWalkError {
    /// The rule the PRPs or the SGL broke.
    pub const fn rule(&self) -> crate::rule::Rule {
        match self {
            DptrWalkError::Prp(e) => e.rule(),
            DptrWalkError::Sgl(e) => e.rule(),
        }
    }
}

impl DeviceError {
    /// The rule the command broke; for a wrapped error, the rule of its cause.
    pub const fn rule(&self) -> crate::rule::Rule {
        use crate::rule::Rule;
        match self {
            DeviceError::Psdt(e) => e.rule(),
            DeviceError::TransferTooLong { .. } => Rule::DptrMaxTransfer,
            DeviceError::Walk(e) => e.rule(),
            DeviceError::TooManyPieces { .. } => Rule::DptrPieceRoom,
            DeviceError::Move(e) => e.rule(),
        }
    }
}
