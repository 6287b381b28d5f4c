//! Get Features (admin opcode 0Ah) and Set Features (09h), and the feature this crate uses,
//! Number of Queues (FID 07h) (NVMe Base Specification, "Get Features command", "Set Features
//! command" and "Number of Queues"; figures "Get Features – Command Dword 10", "Set Features –
//! Command Dword 10", "Number of Queues – Command Dword 11" and "Number of Queues – Completion
//! Queue Entry Dword 0").
//!
//! ```text
//! Get Features CDW10   bits 7:0 FID · 10:8 SEL (which value; not read here) · 31:11 reserved
//! Set Features CDW10   bits 7:0 FID · 30:8 reserved · 31 SV, save across resets
//! CDW11                feature specific; Number of Queues:
//!                      bits 15:0 NSQR · 31:16 NCQR    ┐ I/O submission and completion
//! completion DW0       bits 15:0 NSQA · 31:16 NCQA    ┘ queues asked for / granted, zero-based
//! ```
//!
//! `write_to` writes its fields and leaves every other bit of the entry as it was; `from_sqe`
//! reads any entry.

use super::bits::Bits;
use super::count::QueueCount;
use super::sqe::SubmissionEntry;

/// FID 07h, Number of Queues: how many I/O queues the host may create ([`NumberOfQueues`]).
pub const FID_NUMBER_OF_QUEUES: u8 = 0x07;

/// Bit positions inside CDW10, CDW11 and the completion's DW0.
mod field {
    use super::Bits;

    /// CDW10 bits 7:0, FID.
    pub(super) const FID: Bits = Bits::new(0, 8);
    /// Set Features CDW10 bit 31, SV.
    pub(super) const SV: Bits = Bits::bit(31);
    /// Bits 15:0: NSQR in CDW11, NSQA in DW0.
    pub(super) const SUBMISSION: Bits = Bits::new(0, 16);
    /// Bits 31:16: NCQR in CDW11, NCQA in DW0.
    pub(super) const COMPLETION: Bits = Bits::new(16, 16);
}

/// Get Features' fields: which feature to read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct GetFeatures {
    /// FID, the Feature Identifier.
    pub fid: u8,
}

impl GetFeatures {
    /// Read the fields out of a Get Features command.
    #[inline]
    pub fn from_sqe(sqe: &SubmissionEntry) -> Self {
        GetFeatures {
            fid: field::FID.get_u8(u64::from(sqe.cdw10())),
        }
    }

    /// Write FID into CDW10 bits 7:0, keeping the rest of CDW10.
    #[inline]
    pub fn write_to(&self, sqe: &mut SubmissionEntry) {
        sqe.set_cdw10(field::FID.set32(sqe.cdw10(), u64::from(self.fid)));
    }
}

/// Set Features' generic fields: which feature, and whether to save it. The value itself is
/// feature specific, in CDW11 and on ([`NumberOfQueues`] for FID 07h).
///
/// ```
/// use nvme_dma::spec::features::{NumberOfQueues, SetFeatures, FID_NUMBER_OF_QUEUES};
/// use nvme_dma::spec::{Opcode, QueueCount, SubmissionEntry};
///
/// let mut sqe = SubmissionEntry::new(Opcode::ADMIN_SET_FEATURES, 0);
/// SetFeatures { fid: FID_NUMBER_OF_QUEUES, save: false }.write_to(&mut sqe);
/// NumberOfQueues::pairs(QueueCount::new(4)?).write_to(&mut sqe);
/// assert_eq!((sqe.cdw10(), sqe.cdw11()), (0x07, 0x0003_0003));
/// # Ok::<(), nvme_dma::spec::CountOutOfRange>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SetFeatures {
    /// FID, the Feature Identifier.
    pub fid: u8,
    /// SV: keep the value across power cycles and resets (a feature that cannot be saved is
    /// refused with Feature Identifier Not Saveable).
    pub save: bool,
}

impl SetFeatures {
    /// Read the fields out of a Set Features command.
    #[inline]
    pub fn from_sqe(sqe: &SubmissionEntry) -> Self {
        let cdw10 = u64::from(sqe.cdw10());
        SetFeatures {
            fid: field::FID.get_u8(cdw10),
            save: field::SV.get_bool(cdw10),
        }
    }

    /// Write FID and SV into CDW10, keeping its reserved bits.
    #[inline]
    pub fn write_to(&self, sqe: &mut SubmissionEntry) {
        let cdw10 = field::FID.set32(sqe.cdw10(), u64::from(self.fid));
        sqe.set_cdw10(field::SV.set32(cdw10, u64::from(self.save)));
    }
}

/// Number of Queues (FID 07h): I/O submission and completion queues, as a Set Features
/// command asks for them (CDW11: NSQR, NCQR) and as the controller grants them (completion
/// DW0: NSQA, NCQA, for Get and Set Features alike).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NumberOfQueues {
    /// I/O submission queues: NSQR or NSQA.
    pub submission: QueueCount,
    /// I/O completion queues: NCQR or NCQA.
    pub completion: QueueCount,
}

impl NumberOfQueues {
    /// As many submission queues as completion queues.
    #[inline]
    pub const fn pairs(count: QueueCount) -> Self {
        NumberOfQueues {
            submission: count,
            completion: count,
        }
    }

    /// What a Set Features Number of Queues command asks for (its CDW11).
    #[inline]
    pub fn from_sqe(sqe: &SubmissionEntry) -> Self {
        Self::from_dword(sqe.cdw11())
    }

    /// Write the request into CDW11 (all of it: the feature has no other field there).
    #[inline]
    pub fn write_to(&self, sqe: &mut SubmissionEntry) {
        sqe.set_cdw11(self.to_dword());
    }

    /// What the controller granted, from the completion's DW0.
    #[inline]
    pub fn from_dw0(dw0: u32) -> Self {
        Self::from_dword(dw0)
    }

    /// The completion DW0 that grants these counts.
    #[inline]
    pub fn to_dw0(&self) -> u32 {
        self.to_dword()
    }

    /// CDW11 and DW0 share one layout.
    fn from_dword(dword: u32) -> Self {
        let dword = u64::from(dword);
        NumberOfQueues {
            submission: QueueCount::from_zero_based(field::SUBMISSION.get_u16(dword)),
            completion: QueueCount::from_zero_based(field::COMPLETION.get_u16(dword)),
        }
    }

    fn to_dword(self) -> u32 {
        let dword = field::SUBMISSION.set32(0, u64::from(self.submission.zero_based()));
        field::COMPLETION.set32(dword, u64::from(self.completion.zero_based()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Opcode;

    #[test]
    fn set_features_sv_is_the_top_bit() {
        let mut sqe = SubmissionEntry::new(Opcode::ADMIN_SET_FEATURES, 0).with_cdw10(0x0000_0700);
        let set = SetFeatures {
            fid: 0x55,
            save: true,
        };
        set.write_to(&mut sqe);
        assert_eq!(sqe.cdw10(), 0x8000_0755);
        assert_eq!(SetFeatures::from_sqe(&sqe), set);
        assert_eq!(GetFeatures::from_sqe(&sqe).fid, 0x55);
    }

    #[test]
    fn number_of_queues_is_zero_based_in_both_directions() {
        let granted = NumberOfQueues::from_dw0(0x0001_0003);
        assert_eq!((granted.submission.get(), granted.completion.get()), (4, 2));
        assert_eq!(granted.to_dw0(), 0x0001_0003);
        let mut sqe = SubmissionEntry::new(Opcode::ADMIN_SET_FEATURES, 0);
        NumberOfQueues::pairs(QueueCount::new(65_536).unwrap()).write_to(&mut sqe);
        assert_eq!(sqe.cdw11(), u32::MAX);
    }
}
