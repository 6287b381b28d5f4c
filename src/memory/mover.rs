//! The data mover: copies a command's data through the pieces its walk produced, after
//! checking every buffer, so that a command that cannot complete moves nothing.

use core::fmt;

use super::{DmaFault, DmaMemory};
use crate::piece::Piece;
use crate::spec::Status;

/// Why data could not be moved through a command's pieces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MoveError {
    /// A buffer is not (wholly) backed by memory: Data Transfer Error.
    Fault(DmaFault),
    /// A piece only an NVMe over Fabrics transport can carry (keyed, capsule or transport
    /// data): SGL Descriptor Type Invalid. A PCIe controller's walk yields none when its
    /// capabilities are a PCIe controller's.
    NotHostMemory(Piece),
    /// More bytes were offered than the pieces have room left for: the caller's lengths
    /// disagree with the command's (a bug in the caller, reported as Data Transfer Error).
    PastEnd {
        /// Bytes the pieces account for in all.
        len: u64,
    },
}

impl MoveError {
    /// The completion status for this error, with DNR set: retrying cannot help.
    pub const fn status(&self) -> Status {
        match self {
            MoveError::Fault(_) | MoveError::PastEnd { .. } => Status::DATA_TRANSFER_ERROR,
            MoveError::NotHostMemory(_) => Status::SGL_DESCRIPTOR_TYPE_INVALID,
        }
        .with_dnr(true)
    }
}

impl fmt::Display for MoveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MoveError::Fault(fault) => write!(f, "{fault}"),
            MoveError::NotHostMemory(piece) => {
                write!(f, "{piece} is not host memory a PCIe controller can reach")
            }
            MoveError::PastEnd { len } => {
                write!(f, "more data than the command's {len:#x} bytes")
            }
        }?;
        write!(f, ": {}", self.status())
    }
}

#[cfg(feature = "std")]
impl std::error::Error for MoveError {}

/// Moves a command's data through its pieces, in transfer order: host memory for
/// [`Piece::Data`], nothing for [`Piece::Skip`] (a bit bucket: the bytes are discarded on a
/// read).
///
/// [`DataMover::new`] checks every buffer first ([`DmaMemory::probe`]); only then does any byte
/// move, so a command whose buffers are not all backed fails with nothing written. The data
/// may then be moved in one call or in chunks, as the device's own store hands it out.
///
/// ```
/// use nvme_dma::memory::DataMover;
/// use nvme_dma::{Extent, Piece, SliceMemory};
///
/// let mut host = [0u8; 0x40];
/// let mut mem = SliceMemory::new(0x1000, &mut host);
/// // A Read of 12 bytes: 4 to 0x1000, 4 discarded, 4 to 0x1020.
/// let pieces = [
///     Piece::Data(Extent::new(0x1000, 4)),
///     Piece::Skip(4),
///     Piece::Data(Extent::new(0x1020, 4)),
/// ];
/// let mut mover = DataMover::new(&pieces, &mem)?;
/// mover.to_host(&mut mem, b"abcdefghijkl")?;
/// assert_eq!(mover.remaining(), 0);
/// assert_eq!(&host[..4], b"abcd");
/// assert_eq!(&host[0x20..0x24], b"ijkl");
/// # Ok::<(), nvme_dma::memory::MoveError>(())
/// ```
#[derive(Clone, Debug)]
pub struct DataMover<'p> {
    pieces: core::slice::Iter<'p, Piece>,
    /// What is left of the current piece: its next address (`None` for a bit bucket) and
    /// its length.
    current: (Option<u64>, u64),
    /// Bytes not yet moved.
    remaining: u64,
    /// Bytes the pieces account for.
    len: u64,
}

impl<'p> DataMover<'p> {
    /// A mover over `pieces`, once every data piece is known to be backed by `mem`.
    pub fn new<M: DmaMemory + ?Sized>(pieces: &'p [Piece], mem: &M) -> Result<Self, MoveError> {
        for piece in pieces {
            match *piece {
                Piece::Data(extent) => mem
                    .probe(extent.addr, extent.len)
                    .map_err(MoveError::Fault)?,
                Piece::Skip(_) => {}
                other => return Err(MoveError::NotHostMemory(other)),
            }
        }
        Ok(Self::checked(pieces))
    }

    /// A mover over pieces whose buffers the caller has already checked (the mock controller
    /// checks them through its own DMA port, which also applies the CMB rules).
    pub(crate) fn checked(pieces: &'p [Piece]) -> Self {
        let len = pieces
            .iter()
            .fold(0u64, |sum, piece| sum.saturating_add(piece.len()));
        DataMover {
            pieces: pieces.iter(),
            current: (None, 0),
            remaining: len,
            len,
        }
    }

    /// Bytes the pieces account for in all.
    pub const fn len(&self) -> u64 {
        self.len
    }

    /// True when the pieces account for no bytes.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes not yet moved.
    pub const fn remaining(&self) -> u64 {
        self.remaining
    }

    /// The next run of at most `n` bytes (`n > 0`): where it is in host memory (`None` for a
    /// bit bucket) and how long it is; `None` once every byte has been handed out.
    pub fn next_run(&mut self, n: u64) -> Option<(Option<u64>, u64)> {
        while self.current.1 == 0 {
            self.current = match *self.pieces.next()? {
                Piece::Data(extent) => (Some(extent.addr), extent.len),
                other => (None, other.len()),
            };
        }
        let (addr, len) = self.current;
        let take = len.min(n);
        // A piece ends below 2^64, so an address inside it advances without wrapping.
        self.current = (addr.map(|a| a.wrapping_add(take)), len.wrapping_sub(take));
        self.remaining = self.remaining.saturating_sub(take);
        Some((addr, take))
    }

    /// Write `data` to host memory at the mover's position (a Read command), skipping bit
    /// buckets, and advance past it.
    pub fn to_host<M: DmaMemory + ?Sized>(
        &mut self,
        mem: &mut M,
        data: &[u8],
    ) -> Result<(), MoveError> {
        self.check_room(data.len())?;
        let mut rest = data;
        while !rest.is_empty() {
            let Some((addr, n)) = self.next_run(rest.len() as u64) else {
                break;
            };
            // `n` is at most `rest.len()`, so the split is in range.
            let Some((run, after)) = rest.split_at_checked(usize::try_from(n).unwrap_or(0)) else {
                break;
            };
            if let Some(addr) = addr {
                mem.write(addr, run).map_err(MoveError::Fault)?;
            }
            rest = after;
        }
        Ok(())
    }

    /// Fill `buf` from host memory at the mover's position (a Write command), and advance past
    /// it. Bytes behind a bit bucket (which a write's walk never yields) are left as they are.
    pub fn from_host<M: DmaMemory + ?Sized>(
        &mut self,
        mem: &M,
        buf: &mut [u8],
    ) -> Result<(), MoveError> {
        self.check_room(buf.len())?;
        let mut rest = buf;
        while !rest.is_empty() {
            let Some((addr, n)) = self.next_run(rest.len() as u64) else {
                break;
            };
            let at = usize::try_from(n).unwrap_or(0);
            let Some((run, after)) = core::mem::take(&mut rest).split_at_mut_checked(at) else {
                break;
            };
            if let Some(addr) = addr {
                mem.read(addr, run).map_err(MoveError::Fault)?;
            }
            rest = after;
        }
        Ok(())
    }

    fn check_room(&self, bytes: usize) -> Result<(), MoveError> {
        if bytes as u64 > self.remaining {
            return Err(MoveError::PastEnd { len: self.len });
        }
        Ok(())
    }
}

impl MoveError {
    /// The rule the move broke: unreachable memory, a piece a PCIe controller cannot carry
    /// (a descriptor type it does not support, as its status says), or more data than the
    /// pieces describe.
    pub const fn rule(&self) -> crate::rule::Rule {
        use crate::rule::Rule;
        match self {
            MoveError::Fault(_) => Rule::MemoryReachable,
            MoveError::NotHostMemory(_) => Rule::SglCapability,
            MoveError::PastEnd { .. } => Rule::MemoryWithinPieces,
        }
    }
}
