//! The 16-byte completion queue entry (NVMe Base Specification, "Common Completion Queue
//! Entry Layout").
//!
//! ```text
//!  bytes   dword   field
//!  03:00   DW0     command specific
//!  07:04   DW1     command specific
//!  09:08   DW2     SQHD, Submission Queue Head Pointer (bits 15:0)
//!  11:10   DW2     SQID, Submission Queue Identifier (bits 31:16)
//!  13:12   DW3     CID, Command Identifier (bits 15:0)
//!  15:14   DW3     P, Phase Tag (bit 16) · Status Field (bits 31:17)
//! ```
//!
//! The host knows a new entry has arrived when its phase tag differs from the one the slot
//! held on the previous pass; a controller writing the entry in pieces writes the phase tag
//! last.

use core::fmt;

use zerocopy::little_endian::{U16, U32};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use super::bits::Bits;
use super::status::Status;

/// Bit positions inside the last 16 bits of the entry (DW3 bits 31:16).
mod field {
    use super::Bits;

    /// P, Phase Tag: bit 0 (DW3 bit 16).
    pub(super) const PHASE: Bits = Bits::bit(0);
    /// Status Field: bits 15:1 (DW3 bits 31:17).
    pub(super) const STATUS: Bits = Bits::new(1, 15);
}

/// One 16-byte completion queue entry, exactly as it sits in a completion queue.
///
/// Any 16 bytes decode; the getters and setters together reach all 128 bits; none of them
/// panics. `Default` is the all-zero entry (phase 0, which is how the host initialises a
/// completion queue).
#[repr(C)]
#[derive(
    Clone,
    Copy,
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
pub struct CompletionEntry {
    /// Bytes 3:0, DW0, command specific.
    dw0: U32,
    /// Bytes 7:4, DW1, command specific.
    dw1: U32,
    /// Bytes 9:8, SQHD.
    sqhd: U16,
    /// Bytes 11:10, SQID.
    sqid: U16,
    /// Bytes 13:12, CID.
    cid: U16,
    /// Bytes 15:14, phase tag (bit 0) and Status Field (bits 15:1).
    status_phase: U16,
}

const _: () = assert!(size_of::<CompletionEntry>() == 16);
const _: () = assert!(core::mem::offset_of!(CompletionEntry, sqhd) == 8);
const _: () = assert!(core::mem::offset_of!(CompletionEntry, status_phase) == 14);

/// The command an entry completes: the submission queue it came from and its command
/// identifier, which together name it among every command in flight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct CommandId {
    /// SQID: the submission queue.
    pub sqid: u16,
    /// CID: the command identifier, unique among the queue's commands in flight.
    pub cid: u16,
}

impl CompletionEntry {
    /// Size of a completion queue entry in bytes (CQES = 4, 2^4).
    pub const SIZE: usize = 16;

    /// An entry completing `command`, reporting its submission queue's head as `sq_head`,
    /// with `status` and phase tag `phase`; DW0 and DW1 are zero.
    #[must_use]
    #[inline]
    pub fn new(command: CommandId, sq_head: u16, status: Status, phase: bool) -> Self {
        let mut entry = Self::default();
        entry.set_sqhd(sq_head);
        entry.set_sqid(command.sqid);
        entry.set_cid(command.cid);
        entry.set_status(status);
        entry.set_phase(phase);
        entry
    }

    /// The command this entry completes (SQID and CID).
    #[must_use]
    #[inline]
    pub const fn command(&self) -> CommandId {
        CommandId {
            sqid: self.sqid(),
            cid: self.cid(),
        }
    }

    /// Decodes 16 bytes (any bytes decode).
    #[must_use]
    #[inline]
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        zerocopy::transmute!(bytes)
    }

    /// The 16 bytes of this entry.
    #[must_use]
    #[inline]
    pub fn to_bytes(self) -> [u8; 16] {
        zerocopy::transmute!(self)
    }

    /// DW0 (bytes 3:0), command specific (e.g. the value Get Features returns).
    #[must_use]
    #[inline]
    pub const fn dw0(&self) -> u32 {
        self.dw0.get()
    }

    /// Sets DW0.
    #[inline]
    pub fn set_dw0(&mut self, value: u32) {
        self.dw0 = U32::new(value);
    }

    /// Builder form of [`CompletionEntry::set_dw0`].
    #[must_use]
    #[inline]
    pub fn with_dw0(mut self, value: u32) -> Self {
        self.set_dw0(value);
        self
    }

    /// DW1 (bytes 7:4), command specific.
    #[must_use]
    #[inline]
    pub const fn dw1(&self) -> u32 {
        self.dw1.get()
    }

    /// Sets DW1.
    #[inline]
    pub fn set_dw1(&mut self, value: u32) {
        self.dw1 = U32::new(value);
    }

    /// Builder form of [`CompletionEntry::set_dw1`].
    #[must_use]
    #[inline]
    pub fn with_dw1(mut self, value: u32) -> Self {
        self.set_dw1(value);
        self
    }

    /// SQHD (bytes 9:8), the Submission Queue Head Pointer: the slot the controller will
    /// fetch next from the submission queue, telling the host which slots it may reuse.
    #[must_use]
    #[inline]
    pub const fn sqhd(&self) -> u16 {
        self.sqhd.get()
    }

    /// Sets SQHD.
    #[inline]
    pub fn set_sqhd(&mut self, value: u16) {
        self.sqhd = U16::new(value);
    }

    /// SQID (bytes 11:10), the Submission Queue Identifier the command was submitted to.
    #[must_use]
    #[inline]
    pub const fn sqid(&self) -> u16 {
        self.sqid.get()
    }

    /// Sets SQID.
    #[inline]
    pub fn set_sqid(&mut self, value: u16) {
        self.sqid = U16::new(value);
    }

    /// CID (bytes 13:12), the Command Identifier of the completed command.
    #[must_use]
    #[inline]
    pub const fn cid(&self) -> u16 {
        self.cid.get()
    }

    /// Sets CID.
    #[inline]
    pub fn set_cid(&mut self, value: u16) {
        self.cid = U16::new(value);
    }

    /// The Status Field (DW3 bits 31:17).
    #[must_use]
    #[inline]
    pub const fn status(&self) -> Status {
        Status::from_raw(field::STATUS.get_u16(self.status_phase.get() as u64))
    }

    /// Sets the Status Field, keeping the phase tag.
    #[inline]
    pub fn set_status(&mut self, status: Status) {
        let raw = field::STATUS.set16(self.status_phase.get(), u64::from(status.raw()));
        self.status_phase = U16::new(raw);
    }

    /// Builder form of [`CompletionEntry::set_status`].
    #[must_use]
    #[inline]
    pub fn with_status(mut self, status: Status) -> Self {
        self.set_status(status);
        self
    }

    /// P, the Phase Tag (DW3 bit 16).
    #[must_use]
    #[inline]
    pub const fn phase(&self) -> bool {
        field::PHASE.get_bool(self.status_phase.get() as u64)
    }

    /// Sets the Phase Tag, keeping the Status Field.
    #[inline]
    pub fn set_phase(&mut self, phase: bool) {
        let raw = field::PHASE.set16(self.status_phase.get(), u64::from(phase));
        self.status_phase = U16::new(raw);
    }

    /// DW2 as one value: SQHD in bits 15:0, SQID in bits 31:16.
    #[must_use]
    #[inline]
    pub const fn dw2(&self) -> u32 {
        (self.sqid.get() as u32) << 16 | self.sqhd.get() as u32
    }

    /// DW3 as one value: CID in bits 15:0, phase tag in bit 16, Status Field in bits 31:17.
    #[must_use]
    #[inline]
    pub const fn dw3(&self) -> u32 {
        (self.status_phase.get() as u32) << 16 | self.cid.get() as u32
    }
}

/// Any 16 bytes, as the wire holds them.
#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for CompletionEntry {
    #[inline]
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(Self::from_bytes(u.arbitrary()?))
    }
}

impl fmt::Debug for CompletionEntry {
    #[inline]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CompletionEntry")
            .field("dw0", &format_args!("{:#x}", self.dw0()))
            .field("dw1", &format_args!("{:#x}", self.dw1()))
            .field("sqhd", &self.sqhd())
            .field("sqid", &self.sqid())
            .field("cid", &self.cid())
            .field("phase", &self.phase())
            .field("status", &self.status())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::{CommandId, CompletionEntry};
    use crate::spec::status::{Status, StatusCodeType};

    /// DW0 0xDEADBEEF, DW1 0x01020304, SQHD 5, SQID 1, CID 0x00AB, phase 1,
    /// status PRP Offset Invalid (SCT 0, SC 13h) with DNR.
    /// Status bits 15:0 = DNR(14) | SC 13h = 0x4013; shifted left 1 with P: 0x8027.
    const ENTRY: [u8; 16] = [
        0xEF, 0xBE, 0xAD, 0xDE, // DW0
        0x04, 0x03, 0x02, 0x01, // DW1
        0x05, 0x00, // SQHD
        0x01, 0x00, // SQID
        0xAB, 0x00, // CID
        0x27, 0x80, // P = 1, status 0x4013
    ];

    #[test]
    fn test_parse() {
        let e = CompletionEntry::from_bytes(ENTRY);
        assert_eq!(e.dw0(), 0xDEAD_BEEF);
        assert_eq!(e.dw1(), 0x0102_0304);
        assert_eq!(e.sqhd(), 5);
        assert_eq!(e.sqid(), 1);
        assert_eq!(e.cid(), 0xAB);
        assert!(e.phase());
        assert_eq!(e.status(), Status::PRP_OFFSET_INVALID.with_dnr(true));
        assert_eq!(e.status().sct(), StatusCodeType::Generic);
        assert_eq!(e.dw2(), 0x0001_0005);
        assert_eq!(e.dw3(), 0x8027_00AB);
    }

    #[test]
    fn test_emit_into_poisoned_buffer() {
        let mut e = CompletionEntry::from_bytes([0xA5; 16]);
        e.set_dw0(0xDEAD_BEEF);
        e.set_dw1(0x0102_0304);
        e.set_sqhd(5);
        e.set_sqid(1);
        e.set_cid(0xAB);
        e.set_status(Status::PRP_OFFSET_INVALID.with_dnr(true));
        e.set_phase(true);
        assert_eq!(e.to_bytes(), ENTRY);

        let built = CompletionEntry::new(
            CommandId { sqid: 1, cid: 0xAB },
            5,
            Status::PRP_OFFSET_INVALID.with_dnr(true),
            true,
        )
        .with_dw0(0xDEAD_BEEF)
        .with_dw1(0x0102_0304);
        assert_eq!(built.to_bytes(), ENTRY);
    }

    #[test]
    fn phase_and_status_are_independent() {
        let mut e = CompletionEntry::default();
        e.set_status(Status::from_raw(0x7FFF));
        assert!(!e.phase());
        assert_eq!(e.to_bytes()[14..], [0xFE, 0xFF]);
        e.set_phase(true);
        assert_eq!(e.status().raw(), 0x7FFF);
        e.set_status(Status::SUCCESS);
        assert!(e.phase());
        assert_eq!(e.to_bytes()[14..], [0x01, 0x00]);
    }
}
