//! Dataset Management (NVM opcode 09h): the command's fields and the 16-byte ranges its data
//! holds (NVM Command Set Specification, "Dataset Management command"; figures "Dataset
//! Management – Command Dword 10", "Dataset Management – Command Dword 11" and "Dataset
//! Management – Range Definition").
//!
//! ```text
//! CDW10  bits 7:0 NR, ranges, zero-based · 31:8 reserved
//! CDW11  bit 0 IDR, integral dataset for read · 1 IDW, for write · 2 AD, deallocate ·
//!        31:3 reserved
//! data   NR + 1 ranges of 16 bytes:
//!        bytes 3:0 context attributes · 7:4 length in logical blocks (not zero-based) ·
//!        15:8 starting LBA
//! ```
//!
//! `write_to` writes its fields and leaves every other bit of the entry as it was; `from_sqe`
//! reads any entry, and any 16 bytes are a [`DsmRange`].

use zerocopy::little_endian::{U32, U64};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use super::bits::Bits;
use super::count::DsmRangeCount;
use super::sqe::SubmissionEntry;

/// Bit positions inside CDW10 and CDW11.
mod field {
    use super::Bits;

    /// CDW10 bits 7:0, NR (zero-based).
    pub(super) const NR: Bits = Bits::new(0, 8);
    /// CDW11 bit 0, IDR.
    pub(super) const IDR: Bits = Bits::bit(0);
    /// CDW11 bit 1, IDW.
    pub(super) const IDW: Bits = Bits::bit(1);
    /// CDW11 bit 2, AD.
    pub(super) const AD: Bits = Bits::bit(2);
}

/// Dataset Management's fields: how many ranges the data holds, and what to do with them.
///
/// ```
/// use nvme_dma::spec::{DatasetManagement, DsmRangeCount, Opcode, SubmissionEntry};
///
/// let dsm = DatasetManagement::deallocate(DsmRangeCount::new(2)?);
/// let mut sqe = SubmissionEntry::new(Opcode::NVM_DATASET_MANAGEMENT, 1).with_nsid(1);
/// dsm.write_to(&mut sqe);
/// assert_eq!((sqe.cdw10(), sqe.cdw11()), (1, 1 << 2));
/// assert_eq!(DatasetManagement::from_sqe(&sqe), dsm);
/// # Ok::<(), nvme_dma::spec::CountOutOfRange>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DatasetManagement {
    /// NR, how many [`DsmRange`]s the data holds.
    pub ranges: DsmRangeCount,
    /// IDR: the ranges are an integral dataset for reads (a hint).
    pub integral_read: bool,
    /// IDW: the ranges are an integral dataset for writes (a hint).
    pub integral_write: bool,
    /// AD: deallocate the ranges.
    pub deallocate: bool,
}

impl DatasetManagement {
    /// Deallocate `ranges` ranges, with no hints.
    #[inline]
    pub const fn deallocate(ranges: DsmRangeCount) -> Self {
        DatasetManagement {
            ranges,
            integral_read: false,
            integral_write: false,
            deallocate: true,
        }
    }

    /// Read the fields out of a Dataset Management command.
    #[inline]
    pub fn from_sqe(sqe: &SubmissionEntry) -> Self {
        let cdw11 = u64::from(sqe.cdw11());
        DatasetManagement {
            ranges: DsmRangeCount::from_zero_based(field::NR.get_u8(u64::from(sqe.cdw10()))),
            integral_read: field::IDR.get_bool(cdw11),
            integral_write: field::IDW.get_bool(cdw11),
            deallocate: field::AD.get_bool(cdw11),
        }
    }

    /// Write NR into CDW10 and the attributes into CDW11, keeping their reserved bits.
    #[inline]
    pub fn write_to(&self, sqe: &mut SubmissionEntry) {
        sqe.set_cdw10(field::NR.set32(sqe.cdw10(), u64::from(self.ranges.zero_based())));
        let cdw11 = field::IDR.set32(sqe.cdw11(), u64::from(self.integral_read));
        let cdw11 = field::IDW.set32(cdw11, u64::from(self.integral_write));
        sqe.set_cdw11(field::AD.set32(cdw11, u64::from(self.deallocate)));
    }

    /// The bytes of data the command carries: 16 per range.
    #[inline]
    pub const fn data_len(&self) -> u64 {
        // At most 256 × 16: the product cannot wrap.
        (self.ranges.get() as u64).wrapping_mul(DsmRange::SIZE as u64)
    }
}

/// One Dataset Management range (16 bytes), as it sits in the command's data.
#[repr(C)]
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    Default,
    FromBytes,
    IntoBytes,
    KnownLayout,
    Immutable,
    Unaligned,
)]
pub struct DsmRange {
    /// Bytes 3:0, Context Attributes: access hints for the range.
    pub context_attributes: U32,
    /// Bytes 7:4, Length in logical blocks (a count, not zero-based: 0 is an empty range).
    pub blocks: U32,
    /// Bytes 15:8, Starting LBA.
    pub slba: U64,
}

const _: () = assert!(size_of::<DsmRange>() == 16);
const _: () = assert!(core::mem::offset_of!(DsmRange, slba) == 8);

impl DsmRange {
    /// Size of one range in bytes.
    pub const SIZE: usize = 16;

    /// `blocks` blocks from `slba`, no context attributes.
    #[inline]
    pub fn new(slba: u64, blocks: u32) -> Self {
        DsmRange {
            context_attributes: U32::new(0),
            blocks: U32::new(blocks),
            slba: U64::new(slba),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Opcode;

    #[test]
    fn attributes_keep_the_reserved_bits() {
        let mut sqe = SubmissionEntry::new(Opcode::NVM_DATASET_MANAGEMENT, 0)
            .with_cdw10(0xffff_ff00)
            .with_cdw11(0x8000_0000);
        let dsm = DatasetManagement {
            ranges: DsmRangeCount::new(256).unwrap(),
            integral_read: true,
            integral_write: false,
            deallocate: true,
        };
        dsm.write_to(&mut sqe);
        assert_eq!((sqe.cdw10(), sqe.cdw11()), (0xffff_ffff, 0x8000_0005));
        assert_eq!(DatasetManagement::from_sqe(&sqe), dsm);
        assert_eq!(dsm.data_len(), 4096);
    }

    #[test]
    fn a_range_is_attributes_length_then_lba() {
        let range = DsmRange::new(0x0102_0304_0506_0708, 9);
        assert_eq!(
            range.as_bytes(),
            &[0, 0, 0, 0, 9, 0, 0, 0, 8, 7, 6, 5, 4, 3, 2, 1]
        );
    }
}
