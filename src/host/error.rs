//! What can go wrong while the driver talks to a controller.

use core::fmt;

use super::arena::ArenaError;
use super::ring::RingError;
use crate::dptr::DptrError;
use crate::extent::PageSize;
use crate::memory::DmaFault;
use crate::spec::{Opcode, Status};

/// A driver operation that failed, naming what failed and how to fix it.
///
/// `E` is the register transport's error ([`RegisterAccess::Error`](crate::bus::RegisterAccess::Error)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DriverError<E> {
    /// Reading or writing a BAR0 register failed in the transport itself.
    Register(E),
    /// Host memory (a queue, a descriptor page, a data buffer) could not be reached.
    Memory(DmaFault),
    /// The controller does not support the memory page size asked for (CAP.MPSMIN ..= MPSMAX).
    PageSizeUnsupported {
        /// The page size asked for.
        page_size: PageSize,
        /// CAP.MPSMIN in bytes.
        min: u64,
        /// CAP.MPSMAX in bytes.
        max: u64,
    },
    /// A queue size the controller or the driver does not take.
    QueueSize {
        /// Slots asked for.
        entries: u32,
        /// Most slots allowed (CAP.MQES + 1, 4096 for the admin queue, and the driver's own
        /// limit of 4096).
        max: u32,
    },
    /// Queue ring bookkeeping refused a step (a full queue, a completion with an impossible SQ
    /// head).
    Ring {
        /// The queue.
        qid: u16,
        /// What the ring refused.
        error: RingError,
    },
    /// The DMA arena could not supply or take back pages.
    Arena(ArenaError),
    /// CSTS.RDY did not reach the wanted value within the poll budget.
    ReadyTimeout {
        /// The RDY value waited for.
        ready: bool,
        /// Polls spent.
        polls: u64,
        /// CAP.TO in milliseconds, the time the controller may take.
        timeout_ms: u32,
    },
    /// CSTS.CFS is set: the controller hit a fatal error and needs a reset.
    ControllerFatal {
        /// CSTS as read.
        csts: u32,
    },
    /// CSTS.SHST did not report the shutdown complete within the poll budget.
    ShutdownTimeout {
        /// Polls spent.
        polls: u32,
    },
    /// No completion for a submitted command arrived within the poll budget.
    CompletionTimeout {
        /// The queue.
        qid: u16,
        /// The command's identifier.
        cid: u16,
        /// Polls spent.
        polls: u32,
    },
    /// A completion named a command that is not in flight on that queue.
    UnexpectedCompletion {
        /// The completion queue's submission queue (SQID from the entry).
        qid: u16,
        /// CID from the entry.
        cid: u16,
    },
    /// A command completed with an error status.
    Command {
        /// The command's opcode.
        opcode: Opcode,
        /// The queue it ran on (0 = admin).
        qid: u16,
        /// Its identifier.
        cid: u16,
        /// The status the controller reported.
        status: Status,
    },
    /// No queue with this identifier is set up.
    NoSuchQueue {
        /// The identifier asked for.
        qid: u16,
    },
    /// A read or write whose length is not a whole, non-zero number of logical blocks, or
    /// more blocks than one command can name (65,536).
    NotWholeBlocks {
        /// The data length.
        len: u64,
        /// The namespace's logical block size.
        block_size: u64,
    },
    /// The data pointer could not be built.
    Dptr(DptrError),
    /// No single command can carry the data; the split ([`crate::dptr::Split`]) takes this many
    /// commands.
    NeedsSplit {
        /// Commands the split takes.
        commands: usize,
    },
}

impl<E: fmt::Display> fmt::Display for DriverError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DriverError::Register(e) => write!(f, "register access failed: {e}"),
            DriverError::Memory(fault) => write!(f, "host memory: {fault}"),
            DriverError::PageSizeUnsupported {
                page_size,
                min,
                max,
            } => write!(
                f,
                "the controller supports memory pages of {min} to {max} bytes (CAP.MPSMIN ..= \
                 MPSMAX), not {page_size}: configure a page size in that range"
            ),
            DriverError::QueueSize { entries, max } => write!(
                f,
                "a queue of {entries} slots is not possible here: use 2 ..= {max} slots"
            ),
            DriverError::Ring { qid, error } => write!(f, "queue {qid}: {error}"),
            DriverError::Arena(e) => write!(f, "{e}"),
            DriverError::ReadyTimeout {
                ready,
                polls,
                timeout_ms,
            } => write!(
                f,
                "CSTS.RDY did not become {} within {polls} polls (CAP.TO allows {timeout_ms} \
                 ms): give the driver more polls per CAP.TO unit, or check that the device \
                 is reachable",
                u8::from(*ready)
            ),
            DriverError::ControllerFatal { csts } => write!(
                f,
                "the controller reports a fatal error (CSTS = {csts:#x}, CFS set): reset it"
            ),
            DriverError::ShutdownTimeout { polls } => write!(
                f,
                "CSTS.SHST did not report shutdown complete within {polls} polls"
            ),
            DriverError::CompletionTimeout { qid, cid, polls } => write!(
                f,
                "no completion for command {cid} on queue {qid} after {polls} polls: the \
                 controller did not process the doorbell, or needs more polls"
            ),
            DriverError::UnexpectedCompletion { qid, cid } => write!(
                f,
                "a completion on queue {qid} names command {cid}, which is not in flight"
            ),
            DriverError::Command {
                opcode,
                qid,
                cid,
                status,
            } => {
                let name = if *qid == 0 {
                    opcode.admin_name()
                } else {
                    opcode.nvm_name()
                };
                write!(
                    f,
                    "{} (command {cid} on queue {qid}) completed with {status}",
                    name.unwrap_or("a command")
                )
            }
            DriverError::NoSuchQueue { qid } => write!(
                f,
                "queue {qid} is not set up: create it first (queue 0 is the admin queue)"
            ),
            DriverError::NotWholeBlocks { len, block_size } => write!(
                f,
                "{len} bytes is not 1 to 65536 whole logical blocks of {block_size} bytes: \
                 size the buffer in blocks"
            ),
            DriverError::Dptr(e) => write!(f, "{e}"),
            DriverError::NeedsSplit { commands } => write!(
                f,
                "no single command can carry this data; split it into {commands} commands \
                 (see dptr::Plan::Split)"
            ),
        }
    }
}

#[cfg(feature = "std")]
impl<E: fmt::Debug + fmt::Display> std::error::Error for DriverError<E> {}

impl<E> From<DmaFault> for DriverError<E> {
    fn from(fault: DmaFault) -> Self {
        DriverError::Memory(fault)
    }
}

impl<E> From<ArenaError> for DriverError<E> {
    fn from(e: ArenaError) -> Self {
        DriverError::Arena(e)
    }
}

impl<E> From<DptrError> for DriverError<E> {
    fn from(e: DptrError) -> Self {
        DriverError::Dptr(e)
    }
}
