//! Why a PRP layout was refused: on the host side ([`BuildError`], naming the extent, the
//! address, the rule and the fix) and on the device side ([`WalkError`], carrying the NVMe status
//! a controller returns).

use core::fmt;

use crate::extent::{Extent, PageSize};
use crate::spec::Status;

/// Why the builder (or splitter) refused a list of extents or the list memory it was given.
///
/// `index` fields count extents in the caller's list, empty ones included.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BuildError {
    /// The extents describe no bytes.
    EmptyTransfer,
    /// The first byte of the transfer is not 4-byte aligned.
    StartNotDwordAligned {
        /// Which extent.
        index: usize,
        /// The extent.
        extent: Extent,
    },
    /// An extent other than the first starts inside a memory page.
    StartInsidePage {
        /// Which extent.
        index: usize,
        /// The extent.
        extent: Extent,
        /// The memory page size the rule is stated in.
        page_size: PageSize,
    },
    /// An extent other than the last ends inside a memory page.
    EndInsidePage {
        /// Which extent.
        index: usize,
        /// The extent.
        extent: Extent,
        /// The memory page size the rule is stated in.
        page_size: PageSize,
    },
    /// An extent runs past the top of the 64-bit address space.
    AddressOverflow {
        /// Which extent.
        index: usize,
        /// The extent.
        extent: Extent,
    },
    /// The transfer is longer than the maximum the controller accepts (MDTS), or than 2^64 - 1.
    TransferTooLong {
        /// Bytes described (at least this many when the sum itself overflowed).
        len: u64,
        /// The maximum transfer size in bytes.
        max: u64,
    },
    /// `build_inline` was asked for a transfer that needs a PRP list.
    NotShort {
        /// Memory pages the transfer touches.
        pages: u64,
    },
    /// Fewer list pages were supplied than the transfer needs.
    ListMemoryTooSmall {
        /// List pages needed, given the first list page's offset.
        needed: u64,
        /// List pages supplied.
        given: usize,
    },
    /// A supplied list page's buffer cannot hold the slots this layout puts in it.
    ListPageTooSmall {
        /// Which list page (0 is the one PRP2 points at).
        page: usize,
        /// Slots its buffer provides within its memory page.
        slots: u64,
        /// Slots it must provide: the data entries it holds, and when the list continues, every
        /// slot up to the end of its memory page (the last one is the chain pointer).
        required: u64,
    },
    /// A supplied list page's bus address breaks an alignment rule.
    ListPageMisaligned {
        /// Which list page.
        page: usize,
        /// Its bus address.
        addr: u64,
        /// The memory page size the rule is stated in.
        page_size: PageSize,
    },
    /// The splitter's block size is zero, not a multiple of 4, or above the maximum transfer.
    InvalidBlockSize {
        /// The block size given.
        block_size: u64,
        /// The maximum transfer, when one was set.
        max: Option<u64>,
    },
    /// The transfer is not a whole number of blocks.
    NotBlockMultiple {
        /// Bytes described.
        len: u64,
        /// The block size.
        block_size: u64,
    },
    /// The extents force a command boundary (a PRP rule break) that does not fall on a block
    /// boundary, so no sequence of PRP commands can carry them.
    BoundaryInsideBlock {
        /// The extent before the forced boundary.
        index: usize,
        /// The extent.
        extent: Extent,
        /// Byte position of the boundary in the whole transfer.
        at: u64,
        /// The block size.
        block_size: u64,
    },
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            BuildError::EmptyTransfer => write!(
                f,
                "the extents describe no bytes: a PRP data pointer needs at least one byte \
                 (a command that moves no data leaves PRP1 and PRP2 zero)"
            ),
            BuildError::StartNotDwordAligned { index, extent } => write!(
                f,
                "extent {index} ({extent}) starts at {:#x}, which is not dword aligned: every PRP \
                 entry must have bits 1:0 clear (NVMe Base, PRP Entry). Fix: align the buffer to \
                 4 bytes or copy it through a bounce buffer",
                extent.addr
            ),
            BuildError::StartInsidePage {
                index,
                extent,
                page_size,
            } => write!(
                f,
                "extent {index} ({extent}) starts {:#x} bytes into a {page_size} memory page, but \
                 only the first extent may start inside a page: PRP entries after PRP1 must have \
                 offset 0 (NVMe Base, PRP Entry). Fix: start it at {:#x}, split the command before \
                 extent {index} (PrpBuilder::split), or use an SGL",
                page_size.offset_of(extent.addr),
                page_size.page_base(extent.addr)
            ),
            BuildError::EndInsidePage {
                index,
                extent,
                page_size,
            } => {
                let end = extent.addr.wrapping_add(extent.len);
                write!(
                    f,
                    "extent {index} ({extent}) ends at {end:#x}, {:#x} bytes into a {page_size} \
                     memory page, but it is not the last extent: the next PRP entry must start \
                     where this page ends, so every extent but the last must end on a page \
                     boundary (NVMe Base, PRP List). Fix: extend it to {:#x}, split the command \
                     after extent {index} (PrpBuilder::split), or use an SGL",
                    page_size.offset_of(end),
                    page_size.page_base(end).wrapping_add(page_size.bytes())
                )
            }
            BuildError::AddressOverflow { index, extent } => write!(
                f,
                "extent {index} ({extent}) runs past the end of the 64-bit address space \
                 (address + length > 2^64). Fix: the length or the address is wrong; no device \
                 can reach those bytes"
            ),
            BuildError::TransferTooLong { len, max } => write!(
                f,
                "the extents describe {len} bytes, more than the maximum transfer of {max} bytes \
                 (MDTS). Fix: split the request into commands of at most {max} bytes \
                 (PrpBuilder::split)"
            ),
            BuildError::NotShort { pages } => write!(
                f,
                "the transfer touches {pages} memory pages, but the two-page fast path covers at \
                 most 2 (PRP1 and PRP2 as data pointers). Fix: call PrpBuilder::build with list \
                 memory"
            ),
            BuildError::ListMemoryTooSmall { needed, given } => write!(
                f,
                "the transfer needs {needed} PRP list pages but {given} were supplied. Fix: size \
                 the list memory with PrpPlan::list_pages_needed before building"
            ),
            BuildError::ListPageTooSmall {
                page,
                slots,
                required,
            } => write!(
                f,
                "PRP list page {page} provides {slots} entry slots but the layout needs {required} \
                 there: a list page that continues to another must reach the end of its memory \
                 page, whose last slot holds the pointer to the next list page (NVMe Base, PRP \
                 List). Fix: give list page {page} a buffer that runs to the end of its page, or \
                 a larger one"
            ),
            BuildError::ListPageMisaligned {
                page: 0,
                addr,
                page_size: _,
            } => write!(
                f,
                "PRP list page 0 is at {addr:#x}, which is not qword aligned: the PRP list pointer \
                 in PRP2 must have bits 2:0 clear (NVMe Base, PRP List). Fix: align the list \
                 buffer to 8 bytes"
            ),
            BuildError::ListPageMisaligned {
                page,
                addr,
                page_size,
            } => write!(
                f,
                "PRP list page {page} is at {addr:#x}, {:#x} bytes into a {page_size} memory page: \
                 a pointer to a following list page must have offset 0 (NVMe Base, PRP List). Fix: \
                 allocate chained list pages page-aligned",
                page_size.offset_of(addr)
            ),
            BuildError::InvalidBlockSize { block_size, max } => {
                write!(
                    f,
                    "block size {block_size} cannot split a transfer: it must be a non-zero \
                     multiple of 4"
                )?;
                match max {
                    Some(max) => write!(f, " and at most the maximum transfer ({max} bytes)"),
                    None => Ok(()),
                }
            }
            BuildError::NotBlockMultiple { len, block_size } => write!(
                f,
                "the extents describe {len} bytes, not a whole number of {block_size}-byte blocks: \
                 every command moves whole logical blocks. Fix: pad the request to a multiple of \
                 {block_size}"
            ),
            BuildError::BoundaryInsideBlock {
                index,
                extent,
                at,
                block_size,
            } => write!(
                f,
                "extent {index} ({extent}) forces a new command at byte {at} of the transfer (a \
                 PRP rule breaks there), but {at} is not a multiple of the {block_size}-byte block \
                 size, so no sequence of PRP commands can carry these extents. Fix: copy through a \
                 bounce buffer, or use an SGL"
            ),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for BuildError {}

/// Why a controller refused a command's PRPs. [`WalkError::status`] gives the NVMe status to
/// complete the command with; the variant says exactly what was wrong, for logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WalkError {
    /// PRP1 has bits 1:0 set.
    Prp1NotDwordAligned {
        /// The PRP1 value.
        prp1: u64,
    },
    /// PRP2 addresses the second data page but has a non-zero offset.
    Prp2Offset {
        /// The PRP2 value.
        prp2: u64,
    },
    /// PRP2 is a PRP list pointer but has bits 2:0 set.
    ListPointerMisaligned {
        /// The PRP2 value.
        prp2: u64,
    },
    /// An entry in a PRP list has a non-zero offset.
    ListEntryOffset {
        /// Bus address of the list slot.
        slot: u64,
        /// The entry read from it.
        entry: u64,
    },
    /// The pointer to the next PRP list page has a non-zero offset.
    ChainPointerOffset {
        /// Bus address of the list slot.
        slot: u64,
        /// The entry read from it.
        entry: u64,
    },
    /// A PRP list could not be read from host memory.
    ListFetchFault {
        /// First address of the failed read.
        addr: u64,
        /// Its length in bytes.
        len: u64,
    },
}

impl WalkError {
    /// The completion status for this error: PRP Offset Invalid for every alignment or offset
    /// rule, Data Transfer Error when the list could not be fetched. DNR is set: the same
    /// command would fail the same way again.
    pub const fn status(&self) -> Status {
        match self {
            WalkError::ListFetchFault { .. } => Status::DATA_TRANSFER_ERROR.with_dnr(true),
            _ => Status::PRP_OFFSET_INVALID.with_dnr(true),
        }
    }
}

impl fmt::Display for WalkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            WalkError::Prp1NotDwordAligned { prp1 } => {
                write!(f, "PRP1 {prp1:#x} has bits 1:0 set (must be dword aligned)")
            }
            WalkError::Prp2Offset { prp2 } => write!(
                f,
                "PRP2 {prp2:#x} addresses the second data page but has a non-zero offset"
            ),
            WalkError::ListPointerMisaligned { prp2 } => write!(
                f,
                "PRP2 {prp2:#x} is a PRP list pointer but is not qword aligned"
            ),
            WalkError::ListEntryOffset { slot, entry } => write!(
                f,
                "PRP list entry {entry:#x} (read from {slot:#x}) has a non-zero page offset"
            ),
            WalkError::ChainPointerOffset { slot, entry } => write!(
                f,
                "next-list pointer {entry:#x} (read from {slot:#x}) has a non-zero page offset"
            ),
            WalkError::ListFetchFault { addr, len } => {
                write!(f, "PRP list read of {len} bytes at {addr:#x} failed")
            }
        }?;
        write!(f, ": {}", self.status())
    }
}

#[cfg(feature = "std")]
impl std::error::Error for WalkError {}

impl BuildError {
    /// Whether the refusal is about the list memory supplied rather than the extents: the
    /// same extents may succeed with more or better-placed list pages.
    pub const fn is_about_memory(&self) -> bool {
        matches!(
            self,
            BuildError::ListMemoryTooSmall { .. }
                | BuildError::ListPageTooSmall { .. }
                | BuildError::ListPageMisaligned { .. }
        )
    }

    /// The rule this refusal enforces: its stable id, the section of the specification and
    /// what it says. The `Display` text gives this refusal's specifics.
    pub const fn rule(&self) -> crate::rule::Rule {
        use crate::rule::Rule;
        match self {
            BuildError::EmptyTransfer => Rule::PrpNonempty,
            BuildError::StartNotDwordAligned { .. } => Rule::PrpStartDwordAligned,
            BuildError::StartInsidePage { .. } => Rule::PrpStartOnPageBoundary,
            BuildError::EndInsidePage { .. } => Rule::PrpEndOnPageBoundary,
            BuildError::AddressOverflow { .. } => Rule::PrpAddressSpace,
            BuildError::TransferTooLong { .. } => Rule::PrpMaxTransfer,
            BuildError::NotShort { .. } => Rule::PrpInlineTwoPages,
            BuildError::ListMemoryTooSmall { .. } => Rule::PrpListMemory,
            BuildError::ListPageTooSmall { .. } => Rule::PrpListPageSize,
            BuildError::ListPageMisaligned { .. } => Rule::PrpListPageAlignment,
            BuildError::InvalidBlockSize { .. } => Rule::PrpSplitBlockSize,
            BuildError::NotBlockMultiple { .. } => Rule::PrpWholeBlocks,
            BuildError::BoundaryInsideBlock { .. } => Rule::PrpSplitOnBlockBoundary,
        }
    }
}

impl WalkError {
    /// The rule the PRPs broke: the same rule the host-side builder enforces, seen from the
    /// controller (PRP2 or a list entry with a page offset breaks the rule that every entry
    /// after the first starts a page; an unreadable list breaks the rule that every address
    /// is reachable memory).
    pub const fn rule(&self) -> crate::rule::Rule {
        use crate::rule::Rule;
        match self {
            WalkError::Prp1NotDwordAligned { .. } => Rule::PrpStartDwordAligned,
            WalkError::Prp2Offset { .. } | WalkError::ListEntryOffset { .. } => {
                Rule::PrpStartOnPageBoundary
            }
            WalkError::ListPointerMisaligned { .. } | WalkError::ChainPointerOffset { .. } => {
                Rule::PrpListPageAlignment
            }
            WalkError::ListFetchFault { .. } => Rule::MemoryReachable,
        }
    }
}
