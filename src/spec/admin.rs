//! The fields of two admin commands: Identify (opcode 06h; NVMe Base Specification 2.1,
//! 5.1.13, figure "Identify – Command Dword 10") and Abort (08h; "Abort command", figure
//! "Abort – Command Dword 10").
//!
//! ```text
//! Identify  NSID   the namespace, for the CNS values that name one
//!           CDW10  bits 7:0 CNS, which data structure · 15:8 reserved · 31:16 CNTID
//!           CDW11  CNS specific identifier, CSI (0 here: the NVM Command Set)
//! Abort     CDW10  bits 15:0 SQID · 31:16 CID, the command to abort
//! ```
//!
//! `write_to` writes its fields and leaves every other bit of the entry as it was; `from_sqe`
//! reads any entry. The CNS values are in [`identify`](super::identify).

use super::bits::Bits;
use super::sqe::SubmissionEntry;

/// Bit positions inside CDW10.
mod field {
    use super::Bits;

    /// Identify CDW10 bits 7:0, CNS.
    pub(super) const CNS: Bits = Bits::new(0, 8);
    /// Bits 15:0: Abort's SQID.
    pub(super) const LOW: Bits = Bits::new(0, 16);
    /// Bits 31:16: Identify's CNTID, Abort's CID.
    pub(super) const HIGH: Bits = Bits::new(16, 16);
}

/// Identify's fields: which data structure, for which namespace or controller.
///
/// ```
/// use nvme_dma::spec::identify::CNS_NAMESPACE;
/// use nvme_dma::spec::{Identify, Opcode, SubmissionEntry};
///
/// let mut sqe = SubmissionEntry::new(Opcode::ADMIN_IDENTIFY, 0);
/// Identify::namespace(CNS_NAMESPACE, 1).write_to(&mut sqe);
/// assert_eq!((sqe.nsid(), sqe.cdw10()), (1, 0));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Identify {
    /// CNS, the Controller or Namespace Structure to return.
    pub cns: u8,
    /// CNTID, the controller identifier, for the CNS values that name a controller.
    pub cntid: u16,
    /// The command's NSID: the namespace, for the CNS values that name one.
    pub nsid: u32,
}

impl Identify {
    /// CNS `cns` about namespace `nsid` (0 where the structure names none), CNTID 0.
    #[inline]
    pub const fn namespace(cns: u8, nsid: u32) -> Self {
        Identify {
            cns,
            cntid: 0,
            nsid,
        }
    }

    /// Read the fields out of an Identify command.
    #[inline]
    pub fn from_sqe(sqe: &SubmissionEntry) -> Self {
        let cdw10 = u64::from(sqe.cdw10());
        Identify {
            cns: field::CNS.get_u8(cdw10),
            cntid: field::HIGH.get_u16(cdw10),
            nsid: sqe.nsid(),
        }
    }

    /// Write CNS and CNTID into CDW10 (keeping bits 15:8) and the NSID.
    #[inline]
    pub fn write_to(&self, sqe: &mut SubmissionEntry) {
        let cdw10 = field::CNS.set32(sqe.cdw10(), u64::from(self.cns));
        sqe.set_cdw10(field::HIGH.set32(cdw10, u64::from(self.cntid)));
        sqe.set_nsid(self.nsid);
    }
}

/// Abort's fields: the command to abort, by submission queue and command identifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Abort {
    /// SQID, the submission queue the command was submitted to.
    pub sqid: u16,
    /// CID, the command's identifier.
    pub cid: u16,
}

impl Abort {
    /// Read the fields out of an Abort command.
    #[inline]
    pub fn from_sqe(sqe: &SubmissionEntry) -> Self {
        let cdw10 = u64::from(sqe.cdw10());
        Abort {
            sqid: field::LOW.get_u16(cdw10),
            cid: field::HIGH.get_u16(cdw10),
        }
    }

    /// Write SQID and CID into CDW10 (all of it).
    #[inline]
    pub fn write_to(&self, sqe: &mut SubmissionEntry) {
        let cdw10 = field::LOW.set32(sqe.cdw10(), u64::from(self.sqid));
        sqe.set_cdw10(field::HIGH.set32(cdw10, u64::from(self.cid)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Opcode;

    #[test]
    fn identify_keeps_cdw10_bits_15_8() {
        let mut sqe = SubmissionEntry::new(Opcode::ADMIN_IDENTIFY, 0).with_cdw10(0x0000_ab00);
        let id = Identify {
            cns: 0x13,
            cntid: 0x0102,
            nsid: 0xffff_ffff,
        };
        id.write_to(&mut sqe);
        assert_eq!((sqe.cdw10(), sqe.nsid()), (0x0102_ab13, u32::MAX));
        assert_eq!(Identify::from_sqe(&sqe), id);
    }

    #[test]
    fn abort_names_the_queue_low_and_the_command_high() {
        let mut sqe = SubmissionEntry::new(Opcode::ADMIN_ABORT, 0);
        Abort { sqid: 1, cid: 5 }.write_to(&mut sqe);
        assert_eq!(sqe.cdw10(), 5 << 16 | 1);
        assert_eq!(Abort::from_sqe(&sqe), Abort { sqid: 1, cid: 5 });
    }
}
