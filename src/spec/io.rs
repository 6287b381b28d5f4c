//! The block range of the NVM commands that address logical blocks (Read, Write, Compare,
//! Write Zeroes): Starting LBA in CDW10 and CDW11, Number of Logical Blocks in CDW12 bits
//! 15:0 (NVM Command Set Specification 1.0, 3.2.4 and 3.2.6); and Write Zeroes' deallocate
//! flag (NVM Command Set Specification, "Write Zeroes command", figure "Write Zeroes –
//! Command Dword 12").
//!
//! ```text
//! CDW10  SLBA bits 31:0  ┐ Starting LBA
//! CDW11  SLBA bits 63:32 ┘
//! CDW12  bits 15:0 NLB, blocks, zero-based · Write Zeroes: 25 DEAC, deallocate
//!        (the other bits: FUA, LR, protection information, not read here)
//! ```

use core::fmt;

use super::bits::Bits;
use super::sqe::SubmissionEntry;

/// Bit positions inside the Starting LBA and CDW12.
mod field {
    use super::Bits;

    /// SLBA bits 31:0, in CDW10.
    pub(super) const SLBA_LOW: Bits = Bits::new(0, 32);
    /// SLBA bits 63:32, in CDW11.
    pub(super) const SLBA_HIGH: Bits = Bits::new(32, 32);
    /// CDW12 bits 15:0, NLB (zero-based).
    pub(super) const NLB: Bits = Bits::new(0, 16);
    /// Write Zeroes CDW12 bit 25, DEAC.
    pub(super) const DEAC: Bits = Bits::bit(25);
}

/// A command's block range: the starting logical block and how many blocks, counted from 1.
///
/// NLB on the wire is zero-based and 16 bits wide, so one command moves 1 to 65,536 blocks;
/// [`BlockRange::new`] refuses anything else, so a range that is made is one a command can
/// carry.
///
/// ```
/// use nvme_dma::spec::{BlockRange, Opcode, SubmissionEntry};
///
/// let range = BlockRange::new(0x1_0000_0000, 65_536)?;
/// let sqe = SubmissionEntry::new(Opcode::NVM_READ, 1).with_block_range(range);
/// assert_eq!((sqe.cdw10(), sqe.cdw11(), sqe.cdw12()), (0, 1, 0xffff));
/// assert_eq!(sqe.block_range(), range);
/// # Ok::<(), nvme_dma::spec::BlockCountOutOfRange>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BlockRange {
    slba: u64,
    /// Blocks, 1 ..= 65,536.
    blocks: u32,
}

/// A block count no single command can carry: zero, or more than 65,536.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BlockCountOutOfRange(pub u64);

impl fmt::Display for BlockCountOutOfRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} blocks: one command moves 1 to 65536 (NLB is a zero-based 16-bit count); \
             split the transfer",
            self.0
        )
    }
}

#[cfg(feature = "std")]
impl std::error::Error for BlockCountOutOfRange {}

impl BlockRange {
    /// The most blocks one command moves.
    pub const MAX_BLOCKS: u64 = 1 << 16;

    /// `blocks` blocks from `slba`.
    pub const fn new(slba: u64, blocks: u64) -> Result<Self, BlockCountOutOfRange> {
        if blocks == 0 || blocks > Self::MAX_BLOCKS {
            return Err(BlockCountOutOfRange(blocks));
        }
        // 1 ..= 65,536 fits 32 bits.
        #[allow(clippy::cast_possible_truncation)]
        Ok(BlockRange {
            slba,
            blocks: blocks as u32,
        })
    }

    /// The starting logical block.
    pub const fn slba(&self) -> u64 {
        self.slba
    }

    /// How many blocks, 1 ..= 65,536.
    pub const fn blocks(&self) -> u64 {
        self.blocks as u64
    }
}

impl SubmissionEntry {
    /// The block range in CDW10 through CDW12 (the rest of CDW12 is not part of it).
    #[inline]
    pub const fn block_range(&self) -> BlockRange {
        let slba = field::SLBA_HIGH.set(self.cdw10() as u64, self.cdw11() as u64);
        BlockRange {
            slba,
            // NLB is 16 bits, so one more fits 32.
            blocks: (field::NLB.get_u16(self.cdw12() as u64) as u32).wrapping_add(1),
        }
    }

    /// Write `range` into CDW10, CDW11 and CDW12 bits 15:0, keeping CDW12's other fields.
    #[inline]
    pub fn set_block_range(&mut self, range: BlockRange) {
        self.set_cdw10(field::SLBA_LOW.get_u32(range.slba));
        self.set_cdw11(field::SLBA_HIGH.get_u32(range.slba));
        let nlb = range.blocks.saturating_sub(1);
        self.set_cdw12(field::NLB.set32(self.cdw12(), u64::from(nlb)));
    }

    /// This entry with `range` written ([`SubmissionEntry::set_block_range`]).
    #[inline]
    #[must_use]
    pub fn with_block_range(mut self, range: BlockRange) -> Self {
        self.set_block_range(range);
        self
    }
}

/// Write Zeroes' fields: the blocks, and whether to deallocate them.
///
/// ```
/// use nvme_dma::spec::{BlockRange, Opcode, SubmissionEntry, WriteZeroes};
///
/// let zeroes = WriteZeroes { range: BlockRange::new(4, 2)?, deallocate: true };
/// let mut sqe = SubmissionEntry::new(Opcode::NVM_WRITE_ZEROES, 1).with_nsid(1);
/// zeroes.write_to(&mut sqe);
/// assert_eq!((sqe.cdw10(), sqe.cdw11(), sqe.cdw12()), (4, 0, 1 << 25 | 1));
/// assert_eq!(WriteZeroes::from_sqe(&sqe), zeroes);
/// # Ok::<(), nvme_dma::spec::BlockCountOutOfRange>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct WriteZeroes {
    /// SLBA and NLB: the blocks to zero.
    pub range: BlockRange,
    /// DEAC: deallocate the blocks as well (they then read as zeros).
    pub deallocate: bool,
}

impl WriteZeroes {
    /// Read the fields out of a Write Zeroes command.
    #[inline]
    pub const fn from_sqe(sqe: &SubmissionEntry) -> Self {
        WriteZeroes {
            range: sqe.block_range(),
            deallocate: field::DEAC.get_bool(sqe.cdw12() as u64),
        }
    }

    /// Write the block range and DEAC, keeping CDW12's other fields.
    #[inline]
    pub fn write_to(&self, sqe: &mut SubmissionEntry) {
        sqe.set_block_range(self.range);
        sqe.set_cdw12(field::DEAC.set32(sqe.cdw12(), u64::from(self.deallocate)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Opcode;

    #[test]
    fn counts_outside_one_to_65536_are_refused() {
        assert_eq!(BlockRange::new(0, 0), Err(BlockCountOutOfRange(0)));
        assert_eq!(
            BlockRange::new(0, 65_537),
            Err(BlockCountOutOfRange(65_537))
        );
        assert_eq!(BlockRange::new(7, 1).map(|r| r.blocks()), Ok(1));
    }

    #[test]
    fn the_range_round_trips_and_keeps_the_rest_of_cdw12() {
        let mut sqe = SubmissionEntry::new(Opcode::NVM_WRITE, 1).with_cdw12(0xabcd_0000);
        let range = BlockRange::new(0x1234_5678_9abc_def0, 0x1_0000).unwrap();
        sqe.set_block_range(range);
        assert_eq!(sqe.cdw10(), 0x9abc_def0);
        assert_eq!(sqe.cdw11(), 0x1234_5678);
        assert_eq!(sqe.cdw12(), 0xabcd_ffff);
        assert_eq!(sqe.block_range(), range);
        sqe.set_block_range(BlockRange::new(1, 1).unwrap());
        assert_eq!(sqe.cdw12(), 0xabcd_0000);
    }
}
