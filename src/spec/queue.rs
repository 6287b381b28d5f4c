//! The admin commands that create and delete I/O queues (NVMe Base Specification, "Create I/O
//! Completion Queue command", "Create I/O Submission Queue command", "Delete I/O Completion
//! Queue command" and "Delete I/O Submission Queue command"; each figure "Command Dword 10"
//! and "Command Dword 11"). PRP1 holds the queue's memory; these views hold the dwords.
//!
//! ```text
//! Create I/O Completion Queue (05h)
//! CDW10  bits 15:0 QID · 31:16 QSIZE, entries, zero-based
//! CDW11  bit 0 PC, physically contiguous · 1 IEN, interrupts enabled · 15:2 reserved ·
//!        31:16 IV, interrupt vector
//!
//! Create I/O Submission Queue (01h)
//! CDW10  bits 15:0 QID · 31:16 QSIZE, entries, zero-based
//! CDW11  bit 0 PC · 2:1 QPRIO, priority under weighted round robin · 15:3 reserved ·
//!        31:16 CQID, the completion queue it feeds
//! CDW12  bits 15:0 NVMSETID (0 here: no NVM Sets)
//!
//! Delete I/O Submission Queue (00h), Delete I/O Completion Queue (04h)
//! CDW10  bits 15:0 QID · 31:16 reserved
//! ```
//!
//! `write_to` writes its fields and leaves every other bit of the entry as it was; `from_sqe`
//! reads any entry.

use super::bits::Bits;
use super::count::QueueSize;
use super::sqe::SubmissionEntry;

/// Bit positions inside CDW10 and CDW11.
mod field {
    use super::Bits;

    /// CDW10 bits 15:0, QID.
    pub(super) const QID: Bits = Bits::new(0, 16);
    /// CDW10 bits 31:16, QSIZE (zero-based).
    pub(super) const QSIZE: Bits = Bits::new(16, 16);
    /// CDW11 bit 0, PC.
    pub(super) const PC: Bits = Bits::bit(0);
    /// CDW11 bit 1 of Create I/O Completion Queue, IEN.
    pub(super) const IEN: Bits = Bits::bit(1);
    /// CDW11 bits 2:1 of Create I/O Submission Queue, QPRIO.
    pub(super) const QPRIO: Bits = Bits::new(1, 2);
    /// CDW11 bits 31:16: IV (completion queue) or CQID (submission queue).
    pub(super) const HIGH: Bits = Bits::new(16, 16);
}

/// CDW10 of both Create commands: QID and QSIZE.
fn read_cdw10(sqe: &SubmissionEntry) -> (u16, QueueSize) {
    let cdw10 = u64::from(sqe.cdw10());
    (
        field::QID.get_u16(cdw10),
        QueueSize::from_zero_based(field::QSIZE.get_u16(cdw10)),
    )
}

fn write_cdw10(sqe: &mut SubmissionEntry, qid: u16, size: QueueSize) {
    let cdw10 = field::QID.set32(sqe.cdw10(), u64::from(qid));
    sqe.set_cdw10(field::QSIZE.set32(cdw10, u64::from(size.zero_based())));
}

/// Create I/O Completion Queue's fields.
///
/// ```
/// use nvme_dma::spec::{CreateIoCq, Opcode, QueueSize, SubmissionEntry};
///
/// let create = CreateIoCq::polled(1, QueueSize::new(64)?);
/// let mut sqe = SubmissionEntry::new(Opcode::ADMIN_CREATE_IO_CQ, 0).with_prp1(0x10_0000);
/// create.write_to(&mut sqe);
/// assert_eq!((sqe.cdw10(), sqe.cdw11()), (0x003f_0001, 1));
/// assert_eq!(CreateIoCq::from_sqe(&sqe), create);
/// # Ok::<(), nvme_dma::spec::CountOutOfRange>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CreateIoCq {
    /// QID, the new queue's identifier (0 is the admin queue's, so not one a host creates).
    pub qid: u16,
    /// QSIZE, how many entries.
    pub size: QueueSize,
    /// PC: the queue is one physically contiguous buffer at PRP1 (else PRP1 is a PRP list).
    pub contiguous: bool,
    /// IEN: the controller interrupts on vector `vector` when it posts.
    pub interrupts: bool,
    /// IV, the interrupt vector (MSI-X or MSI); meaningful when `interrupts` is set.
    pub vector: u16,
}

impl CreateIoCq {
    /// A physically contiguous queue without interrupts, the kind a polling driver creates.
    #[inline]
    pub const fn polled(qid: u16, size: QueueSize) -> Self {
        CreateIoCq {
            qid,
            size,
            contiguous: true,
            interrupts: false,
            vector: 0,
        }
    }

    /// Read the fields out of a Create I/O Completion Queue command (any entry decodes).
    #[inline]
    pub fn from_sqe(sqe: &SubmissionEntry) -> Self {
        let (qid, size) = read_cdw10(sqe);
        let cdw11 = u64::from(sqe.cdw11());
        CreateIoCq {
            qid,
            size,
            contiguous: field::PC.get_bool(cdw11),
            interrupts: field::IEN.get_bool(cdw11),
            vector: field::HIGH.get_u16(cdw11),
        }
    }

    /// Write the fields into CDW10 and CDW11, keeping their reserved bits.
    #[inline]
    pub fn write_to(&self, sqe: &mut SubmissionEntry) {
        write_cdw10(sqe, self.qid, self.size);
        let cdw11 = field::PC.set32(sqe.cdw11(), u64::from(self.contiguous));
        let cdw11 = field::IEN.set32(cdw11, u64::from(self.interrupts));
        sqe.set_cdw11(field::HIGH.set32(cdw11, u64::from(self.vector)));
    }
}

/// QPRIO, a submission queue's priority class under weighted round robin arbitration (CC.AMS
/// = 001b); under round robin every queue is served alike and the field is ignored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[repr(u8)]
pub enum QueuePriority {
    /// 00b, Urgent.
    #[default]
    Urgent,
    /// 01b, High.
    High,
    /// 10b, Medium.
    Medium,
    /// 11b, Low.
    Low,
}

impl QueuePriority {
    /// The priority a 2-bit QPRIO holds (bits above 1 are ignored).
    #[inline]
    pub const fn from_bits(bits: u8) -> Self {
        match bits & 0b11 {
            0 => QueuePriority::Urgent,
            1 => QueuePriority::High,
            2 => QueuePriority::Medium,
            _ => QueuePriority::Low,
        }
    }

    /// The 2-bit QPRIO value.
    #[inline]
    pub const fn to_bits(self) -> u8 {
        self as u8
    }
}

/// Create I/O Submission Queue's fields.
///
/// ```
/// use nvme_dma::spec::{CreateIoSq, Opcode, QueueSize, SubmissionEntry};
///
/// let create = CreateIoSq::contiguous(1, QueueSize::new(64)?, 1);
/// let mut sqe = SubmissionEntry::new(Opcode::ADMIN_CREATE_IO_SQ, 0).with_prp1(0x20_0000);
/// create.write_to(&mut sqe);
/// assert_eq!((sqe.cdw10(), sqe.cdw11()), (0x003f_0001, 0x0001_0001));
/// assert_eq!(CreateIoSq::from_sqe(&sqe), create);
/// # Ok::<(), nvme_dma::spec::CountOutOfRange>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CreateIoSq {
    /// QID, the new queue's identifier.
    pub qid: u16,
    /// QSIZE, how many entries.
    pub size: QueueSize,
    /// PC: the queue is one physically contiguous buffer at PRP1 (else PRP1 is a PRP list).
    pub contiguous: bool,
    /// QPRIO, its priority class.
    pub priority: QueuePriority,
    /// CQID, the completion queue its commands complete on (0, the admin queue's, is refused
    /// by a controller).
    pub cqid: u16,
}

impl CreateIoSq {
    /// A physically contiguous queue of priority Urgent (the one used under round robin)
    /// feeding completion queue `cqid`.
    #[inline]
    pub const fn contiguous(qid: u16, size: QueueSize, cqid: u16) -> Self {
        CreateIoSq {
            qid,
            size,
            contiguous: true,
            priority: QueuePriority::Urgent,
            cqid,
        }
    }

    /// Read the fields out of a Create I/O Submission Queue command (any entry decodes).
    #[inline]
    pub fn from_sqe(sqe: &SubmissionEntry) -> Self {
        let (qid, size) = read_cdw10(sqe);
        let cdw11 = u64::from(sqe.cdw11());
        CreateIoSq {
            qid,
            size,
            contiguous: field::PC.get_bool(cdw11),
            priority: QueuePriority::from_bits(field::QPRIO.get_u8(cdw11)),
            cqid: field::HIGH.get_u16(cdw11),
        }
    }

    /// Write the fields into CDW10 and CDW11, keeping their reserved bits.
    #[inline]
    pub fn write_to(&self, sqe: &mut SubmissionEntry) {
        write_cdw10(sqe, self.qid, self.size);
        let cdw11 = field::PC.set32(sqe.cdw11(), u64::from(self.contiguous));
        let cdw11 = field::QPRIO.set32(cdw11, u64::from(self.priority.to_bits()));
        sqe.set_cdw11(field::HIGH.set32(cdw11, u64::from(self.cqid)));
    }
}

/// Delete I/O Submission Queue's and Delete I/O Completion Queue's one field (the two
/// commands differ only in their opcode).
///
/// ```
/// use nvme_dma::spec::{DeleteIoQueue, Opcode, SubmissionEntry};
///
/// let sqe = SubmissionEntry::new(Opcode::ADMIN_DELETE_IO_SQ, 0).with_cdw10(0xffff_0003);
/// assert_eq!(DeleteIoQueue::from_sqe(&sqe), DeleteIoQueue { qid: 3 });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DeleteIoQueue {
    /// QID, the queue to delete.
    pub qid: u16,
}

impl DeleteIoQueue {
    /// Read QID out of a Delete I/O Submission or Completion Queue command.
    #[inline]
    pub fn from_sqe(sqe: &SubmissionEntry) -> Self {
        DeleteIoQueue {
            qid: field::QID.get_u16(u64::from(sqe.cdw10())),
        }
    }

    /// Write QID into CDW10 bits 15:0, keeping bits 31:16.
    #[inline]
    pub fn write_to(&self, sqe: &mut SubmissionEntry) {
        sqe.set_cdw10(field::QID.set32(sqe.cdw10(), u64::from(self.qid)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Opcode;

    #[test]
    fn create_cq_keeps_the_reserved_bits() {
        let mut sqe = SubmissionEntry::new(Opcode::ADMIN_CREATE_IO_CQ, 0).with_cdw11(0x0000_fffc);
        let create = CreateIoCq {
            qid: 7,
            size: QueueSize::new(65_536).unwrap(),
            contiguous: true,
            interrupts: true,
            vector: 0x1f4,
        };
        create.write_to(&mut sqe);
        assert_eq!(sqe.cdw10(), 0xffff_0007);
        assert_eq!(sqe.cdw11(), 0x01f4_ffff);
        assert_eq!(CreateIoCq::from_sqe(&sqe), create);
    }

    #[test]
    fn create_sq_priority_sits_in_bits_2_1() {
        let mut sqe = SubmissionEntry::new(Opcode::ADMIN_CREATE_IO_SQ, 0);
        let create = CreateIoSq {
            priority: QueuePriority::Low,
            contiguous: false,
            ..CreateIoSq::contiguous(2, QueueSize::new(2).unwrap(), 9)
        };
        create.write_to(&mut sqe);
        assert_eq!((sqe.cdw10(), sqe.cdw11()), (0x0001_0002, 0x0009_0006));
        assert_eq!(CreateIoSq::from_sqe(&sqe), create);
        for bits in 0..4 {
            assert_eq!(QueuePriority::from_bits(bits).to_bits(), bits);
        }
    }

    #[test]
    fn delete_reads_only_the_low_half() {
        let mut sqe = SubmissionEntry::new(Opcode::ADMIN_DELETE_IO_CQ, 0).with_cdw10(0xabcd_0000);
        DeleteIoQueue { qid: 0x1234 }.write_to(&mut sqe);
        assert_eq!(sqe.cdw10(), 0xabcd_1234);
        assert_eq!(DeleteIoQueue::from_sqe(&sqe).qid, 0x1234);
    }
}
