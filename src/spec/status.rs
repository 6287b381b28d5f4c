//! The Status Field of a completion queue entry (NVMe Base Specification, "Completion Queue
//! Entry: Status Field" and "Status Code Type values" / "Generic Command Status values").
//!
//! The 15-bit field sits in CQE Dword 3 bits 31:17, just above the phase tag. [`Status`] holds
//! it shifted down to bit 0:
//!
//! ```text
//!  14    13   12:11   10:8   7:0
//! +-----+----+-------+------+------+
//! | DNR | M  |  CRD  | SCT  |  SC  |
//! +-----+----+-------+------+------+
//! ```
//!
//! - **SC**, Status Code: what happened, read within the status code type.
//! - **SCT**, Status Code Type: generic, command specific, media and data integrity, path
//!   related, or vendor specific.
//! - **CRD**, Command Retry Delay: which of the controller's three retry delay times (CRDT1..3
//!   in Identify Controller) the host should wait before retrying; 0 means no delay.
//! - **M**, More: more status information is available in the Error Information log page.
//! - **DNR**, Do Not Retry: the same command would fail again if resubmitted.
//!
//! Every 15-bit pattern is a valid `Status`; unknown codes keep their bits.

use core::fmt;

use super::bits::Bits;

/// Bit positions inside the 15-bit Status Field (bit 0 = CQE DW3 bit 17).
mod field {
    use super::Bits;

    /// SC, Status Code: bits 7:0.
    pub(super) const SC: Bits = Bits::new(0, 8);
    /// SCT, Status Code Type: bits 10:8.
    pub(super) const SCT: Bits = Bits::new(8, 3);
    /// CRD, Command Retry Delay: bits 12:11.
    pub(super) const CRD: Bits = Bits::new(11, 2);
    /// M, More: bit 13.
    pub(super) const MORE: Bits = Bits::bit(13);
    /// DNR, Do Not Retry: bit 14.
    pub(super) const DNR: Bits = Bits::bit(14);
    /// All 15 bits of the field.
    pub(super) const ALL: u16 = 0x7FFF;
}

/// Status Code Type (SCT), the 3-bit field that says how to read the Status Code.
///
/// An open enum: the reserved values 4h–6h decode to [`StatusCodeType::Reserved`] and encode
/// back to the same bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StatusCodeType {
    /// 0h, Generic Command Status: codes that mean the same for every command.
    Generic,
    /// 1h, Command Specific Status: codes whose meaning depends on the opcode.
    CommandSpecific,
    /// 2h, Media and Data Integrity Errors: failures of the storage medium or of end-to-end
    /// protection checks.
    MediaAndDataIntegrity,
    /// 3h, Path Related Status: failures of the path between host and controller
    /// (multipath, fabrics).
    PathRelated,
    /// 7h, Vendor Specific.
    VendorSpecific,
    /// 4h–6h, reserved by the specification. Holds the 3-bit value; values above 7 are
    /// masked to 3 bits when encoded.
    Reserved(u8),
}

impl StatusCodeType {
    /// Decodes the 3-bit SCT field; bits above bit 2 of `raw` are ignored.
    #[must_use]
    pub const fn from_raw(raw: u8) -> Self {
        match raw & 0x7 {
            0 => Self::Generic,
            1 => Self::CommandSpecific,
            2 => Self::MediaAndDataIntegrity,
            3 => Self::PathRelated,
            7 => Self::VendorSpecific,
            other => Self::Reserved(other),
        }
    }

    /// Encodes to the 3-bit SCT field value (0..=7).
    #[must_use]
    pub const fn to_raw(self) -> u8 {
        match self {
            Self::Generic => 0,
            Self::CommandSpecific => 1,
            Self::MediaAndDataIntegrity => 2,
            Self::PathRelated => 3,
            Self::VendorSpecific => 7,
            Self::Reserved(v) => v & 0x7,
        }
    }
}

/// The 15-bit Status Field of a completion queue entry: SC, SCT, CRD, M and DNR.
///
/// Bit 0 of the value is CQE Dword 3 bit 17 (the phase tag, bit 16, is not part of it).
/// `Status` is a plain value: any `u16` can be turned into one by [`Status::from_raw`]
/// (bit 15 is dropped), and no method panics.
///
/// Equality compares all 15 bits, so `INVALID_FIELD` and `INVALID_FIELD.with_dnr(true)`
/// differ; use [`Status::same_code`] to compare only SCT and SC.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Status(u16);

impl Status {
    /// Builds the status with code type `sct` and code `sc`; CRD, M and DNR are clear.
    #[must_use]
    pub const fn new(sct: StatusCodeType, sc: u8) -> Self {
        let raw = field::SC.set16(0, sc as u64);
        Self(field::SCT.set16(raw, sct.to_raw() as u64))
    }

    /// The status from its 15-bit encoding; bit 15 of `raw` is dropped.
    #[must_use]
    pub const fn from_raw(raw: u16) -> Self {
        Self(raw & field::ALL)
    }

    /// The 15-bit encoding (bit 15 is always 0).
    #[must_use]
    pub const fn raw(self) -> u16 {
        self.0
    }

    /// SCT, the Status Code Type (bits 10:8).
    #[must_use]
    pub const fn sct(self) -> StatusCodeType {
        StatusCodeType::from_raw(field::SCT.get_u8(self.0 as u64))
    }

    /// SC, the Status Code (bits 7:0), read in the context of [`Status::sct`].
    #[must_use]
    pub const fn sc(self) -> u8 {
        field::SC.get_u8(self.0 as u64)
    }

    /// DNR, Do Not Retry (bit 14): retrying the same command is expected to fail again.
    #[must_use]
    pub const fn dnr(self) -> bool {
        field::DNR.get_bool(self.0 as u64)
    }

    /// M, More (bit 13): the Error Information log page holds more about this failure.
    #[must_use]
    pub const fn more(self) -> bool {
        field::MORE.get_bool(self.0 as u64)
    }

    /// CRD, Command Retry Delay (bits 12:11): 0 = retry at once, 1..=3 = wait the time in
    /// Identify Controller CRDT1..CRDT3.
    #[must_use]
    pub const fn crd(self) -> u8 {
        field::CRD.get_u8(self.0 as u64)
    }

    /// This status with DNR set or cleared.
    #[must_use]
    pub const fn with_dnr(self, dnr: bool) -> Self {
        Self(field::DNR.set16(self.0, dnr as u64))
    }

    /// This status with M (More) set or cleared.
    #[must_use]
    pub const fn with_more(self, more: bool) -> Self {
        Self(field::MORE.set16(self.0, more as u64))
    }

    /// This status with CRD set to `crd`, masked to its 2 bits.
    #[must_use]
    pub const fn with_crd(self, crd: u8) -> Self {
        Self(field::CRD.set16(self.0, crd as u64))
    }

    /// Successful Completion: SCT 0h, SC 00h (CRD, M and DNR are not looked at).
    #[must_use]
    pub const fn is_success(self) -> bool {
        self.same_code(Self::SUCCESS)
    }

    /// Whether `self` and `other` carry the same SCT and SC, whatever their CRD, M and DNR.
    #[must_use]
    pub const fn same_code(self, other: Self) -> bool {
        let code = field::SC.mask_in_place() | field::SCT.mask_in_place();
        (self.0 as u64 & code) == (other.0 as u64 & code)
    }

    /// The specification's name for this SCT/SC pair, if it is one of the named constants of
    /// this type; CRD, M and DNR are ignored.
    #[must_use]
    pub fn name(self) -> Option<&'static str> {
        NAMES
            .iter()
            .find(|(status, _)| status.same_code(self))
            .map(|(_, name)| *name)
    }

    /// Every named status constant with its specification name, in SCT then SC order.
    pub fn named() -> impl Iterator<Item = (Status, &'static str)> {
        NAMES.iter().copied()
    }
}

/// Generic Command Status values (SCT 0h).
impl Status {
    /// 00h Successful Completion.
    pub const SUCCESS: Self = Self::new(StatusCodeType::Generic, 0x00);
    /// 01h Invalid Command Opcode: the opcode is reserved or not supported.
    pub const INVALID_OPCODE: Self = Self::new(StatusCodeType::Generic, 0x01);
    /// 02h Invalid Field in Command: a reserved or unsupported value in a defined field
    /// (also PSDT = 11b, a transfer over MDTS, or a misaligned MPTR).
    pub const INVALID_FIELD: Self = Self::new(StatusCodeType::Generic, 0x02);
    /// 03h Command ID Conflict: the command identifier is already in use on this queue.
    pub const COMMAND_ID_CONFLICT: Self = Self::new(StatusCodeType::Generic, 0x03);
    /// 04h Data Transfer Error: moving the data or metadata failed.
    pub const DATA_TRANSFER_ERROR: Self = Self::new(StatusCodeType::Generic, 0x04);
    /// 05h Commands Aborted due to Power Loss Notification.
    pub const ABORTED_POWER_LOSS: Self = Self::new(StatusCodeType::Generic, 0x05);
    /// 06h Internal Error: the controller failed internally.
    pub const INTERNAL_ERROR: Self = Self::new(StatusCodeType::Generic, 0x06);
    /// 07h Command Abort Requested: an Abort command named this command.
    pub const ABORT_REQUESTED: Self = Self::new(StatusCodeType::Generic, 0x07);
    /// 08h Command Aborted due to SQ Deletion: its submission queue was deleted.
    pub const ABORTED_SQ_DELETION: Self = Self::new(StatusCodeType::Generic, 0x08);
    /// 0Bh Invalid Namespace or Format: the NSID or the namespace's format is not usable.
    pub const INVALID_NAMESPACE_OR_FORMAT: Self = Self::new(StatusCodeType::Generic, 0x0B);
    /// 0Dh Invalid SGL Segment Descriptor: a bad Segment or Last Segment descriptor
    /// ("Invalid SGL Last Segment Descriptor" in older revisions).
    pub const INVALID_SGL_SEGMENT_DESCRIPTOR: Self = Self::new(StatusCodeType::Generic, 0x0D);
    /// 0Eh Invalid Number of SGL Descriptors: e.g. a segment descriptor that is not the last
    /// descriptor of its segment.
    pub const INVALID_NUMBER_OF_SGL_DESCRIPTORS: Self = Self::new(StatusCodeType::Generic, 0x0E);
    /// 0Fh Data SGL Length Invalid: the data SGL describes fewer bytes than the transfer
    /// (or more, where that is not allowed).
    pub const DATA_SGL_LENGTH_INVALID: Self = Self::new(StatusCodeType::Generic, 0x0F);
    /// 10h Metadata SGL Length Invalid: the same for a metadata SGL.
    pub const METADATA_SGL_LENGTH_INVALID: Self = Self::new(StatusCodeType::Generic, 0x10);
    /// 11h SGL Descriptor Type Invalid: an unsupported descriptor type or type/subtype pair.
    pub const SGL_DESCRIPTOR_TYPE_INVALID: Self = Self::new(StatusCodeType::Generic, 0x11);
    /// 12h Invalid Use of Controller Memory Buffer.
    pub const INVALID_USE_OF_CMB: Self = Self::new(StatusCodeType::Generic, 0x12);
    /// 13h PRP Offset Invalid: a PRP entry that must be page aligned has a non-zero offset.
    pub const PRP_OFFSET_INVALID: Self = Self::new(StatusCodeType::Generic, 0x13);
    /// 16h SGL Offset Invalid: the offset in an offset-addressed descriptor (subtype 1h) is
    /// invalid, e.g. outside the command capsule (fabrics).
    pub const SGL_OFFSET_INVALID: Self = Self::new(StatusCodeType::Generic, 0x16);
    /// 1Eh SGL Data Block Granularity Invalid: a data block breaks the dword granularity
    /// the controller requires (SGLS bits 1:0 = 10b).
    pub const SGL_DATA_BLOCK_GRANULARITY_INVALID: Self = Self::new(StatusCodeType::Generic, 0x1E);
    /// 1Fh Command Not Supported for Queue in CMB.
    pub const COMMAND_NOT_SUPPORTED_FOR_QUEUE_IN_CMB: Self =
        Self::new(StatusCodeType::Generic, 0x1F);
    /// 80h LBA Out of Range: the command reaches past the namespace's size.
    pub const LBA_OUT_OF_RANGE: Self = Self::new(StatusCodeType::Generic, 0x80);
    /// 81h Capacity Exceeded: the namespace's capacity would be exceeded.
    pub const CAPACITY_EXCEEDED: Self = Self::new(StatusCodeType::Generic, 0x81);
    /// 82h Namespace Not Ready: the namespace cannot be accessed now.
    pub const NAMESPACE_NOT_READY: Self = Self::new(StatusCodeType::Generic, 0x82);
}

/// Command Specific Status values (SCT 1h) of the queue-management and admin commands.
impl Status {
    /// 00h Completion Queue Invalid (Create I/O Submission Queue: the CQ does not exist).
    pub const COMPLETION_QUEUE_INVALID: Self = Self::new(StatusCodeType::CommandSpecific, 0x00);
    /// 01h Invalid Queue Identifier (Create/Delete I/O queue).
    pub const INVALID_QUEUE_IDENTIFIER: Self = Self::new(StatusCodeType::CommandSpecific, 0x01);
    /// 02h Invalid Queue Size (Create I/O queue: zero, one or more than MQES + 1 entries;
    /// "Maximum Queue Size Exceeded" in older revisions).
    pub const INVALID_QUEUE_SIZE: Self = Self::new(StatusCodeType::CommandSpecific, 0x02);
    /// 03h Abort Command Limit Exceeded (Abort).
    pub const ABORT_COMMAND_LIMIT_EXCEEDED: Self = Self::new(StatusCodeType::CommandSpecific, 0x03);
    /// 05h Asynchronous Event Request Limit Exceeded (Asynchronous Event Request: more
    /// outstanding than AERL + 1 in Identify Controller).
    pub const ASYNC_EVENT_REQUEST_LIMIT_EXCEEDED: Self =
        Self::new(StatusCodeType::CommandSpecific, 0x05);
    /// 08h Invalid Interrupt Vector (Create I/O Completion Queue).
    pub const INVALID_INTERRUPT_VECTOR: Self = Self::new(StatusCodeType::CommandSpecific, 0x08);
    /// 09h Invalid Log Page (Get Log Page).
    pub const INVALID_LOG_PAGE: Self = Self::new(StatusCodeType::CommandSpecific, 0x09);
    /// 0Ah Invalid Format (Format NVM).
    pub const INVALID_FORMAT: Self = Self::new(StatusCodeType::CommandSpecific, 0x0A);
    /// 0Ch Invalid Queue Deletion (Delete I/O Completion Queue while an SQ still uses it).
    pub const INVALID_QUEUE_DELETION: Self = Self::new(StatusCodeType::CommandSpecific, 0x0C);
}

/// Media and Data Integrity Errors (SCT 2h).
impl Status {
    /// 80h Write Fault: the write could not be completed on the medium.
    pub const WRITE_FAULT: Self = Self::new(StatusCodeType::MediaAndDataIntegrity, 0x80);
    /// 81h Unrecovered Read Error: the data could not be recovered from the medium.
    pub const UNRECOVERED_READ_ERROR: Self = Self::new(StatusCodeType::MediaAndDataIntegrity, 0x81);
    /// 85h Compare Failure: a Compare command found a mismatch.
    pub const COMPARE_FAILURE: Self = Self::new(StatusCodeType::MediaAndDataIntegrity, 0x85);
    /// 87h Deallocated or Unwritten Logical Block: a read of a block never written or
    /// deallocated, where the namespace is set to report that.
    pub const DEALLOCATED_OR_UNWRITTEN_LOGICAL_BLOCK: Self =
        Self::new(StatusCodeType::MediaAndDataIntegrity, 0x87);
}

/// The specification names of the named constants; one row per constant.
const NAMES: &[(Status, &str)] = &[
    (Status::SUCCESS, "Successful Completion"),
    (Status::INVALID_OPCODE, "Invalid Command Opcode"),
    (Status::INVALID_FIELD, "Invalid Field in Command"),
    (Status::COMMAND_ID_CONFLICT, "Command ID Conflict"),
    (Status::DATA_TRANSFER_ERROR, "Data Transfer Error"),
    (
        Status::ABORTED_POWER_LOSS,
        "Commands Aborted due to Power Loss Notification",
    ),
    (Status::INTERNAL_ERROR, "Internal Error"),
    (Status::ABORT_REQUESTED, "Command Abort Requested"),
    (
        Status::ABORTED_SQ_DELETION,
        "Command Aborted due to SQ Deletion",
    ),
    (
        Status::INVALID_NAMESPACE_OR_FORMAT,
        "Invalid Namespace or Format",
    ),
    (
        Status::INVALID_SGL_SEGMENT_DESCRIPTOR,
        "Invalid SGL Segment Descriptor",
    ),
    (
        Status::INVALID_NUMBER_OF_SGL_DESCRIPTORS,
        "Invalid Number of SGL Descriptors",
    ),
    (Status::DATA_SGL_LENGTH_INVALID, "Data SGL Length Invalid"),
    (
        Status::METADATA_SGL_LENGTH_INVALID,
        "Metadata SGL Length Invalid",
    ),
    (
        Status::SGL_DESCRIPTOR_TYPE_INVALID,
        "SGL Descriptor Type Invalid",
    ),
    (
        Status::INVALID_USE_OF_CMB,
        "Invalid Use of Controller Memory Buffer",
    ),
    (Status::PRP_OFFSET_INVALID, "PRP Offset Invalid"),
    (Status::SGL_OFFSET_INVALID, "SGL Offset Invalid"),
    (
        Status::SGL_DATA_BLOCK_GRANULARITY_INVALID,
        "SGL Data Block Granularity Invalid",
    ),
    (
        Status::COMMAND_NOT_SUPPORTED_FOR_QUEUE_IN_CMB,
        "Command Not Supported for Queue in CMB",
    ),
    (Status::LBA_OUT_OF_RANGE, "LBA Out of Range"),
    (Status::CAPACITY_EXCEEDED, "Capacity Exceeded"),
    (Status::NAMESPACE_NOT_READY, "Namespace Not Ready"),
    (Status::COMPLETION_QUEUE_INVALID, "Completion Queue Invalid"),
    (Status::INVALID_QUEUE_IDENTIFIER, "Invalid Queue Identifier"),
    (Status::INVALID_QUEUE_SIZE, "Invalid Queue Size"),
    (
        Status::ABORT_COMMAND_LIMIT_EXCEEDED,
        "Abort Command Limit Exceeded",
    ),
    (
        Status::ASYNC_EVENT_REQUEST_LIMIT_EXCEEDED,
        "Asynchronous Event Request Limit Exceeded",
    ),
    (Status::INVALID_INTERRUPT_VECTOR, "Invalid Interrupt Vector"),
    (Status::INVALID_LOG_PAGE, "Invalid Log Page"),
    (Status::INVALID_FORMAT, "Invalid Format"),
    (Status::INVALID_QUEUE_DELETION, "Invalid Queue Deletion"),
    (Status::WRITE_FAULT, "Write Fault"),
    (Status::UNRECOVERED_READ_ERROR, "Unrecovered Read Error"),
    (Status::COMPARE_FAILURE, "Compare Failure"),
    (
        Status::DEALLOCATED_OR_UNWRITTEN_LOGICAL_BLOCK,
        "Deallocated or Unwritten Logical Block",
    ),
];

impl fmt::Display for Status {
    /// `PRP Offset Invalid (SCT 0h, SC 13h, DNR)`; `unknown status (SCT 0h, SC 55h)` for codes
    /// without a name. `CRD n`, `M` and `DNR` are listed only when set.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name().unwrap_or("unknown status"))?;
        write!(f, " (SCT {:X}h, SC {:02X}h", self.sct().to_raw(), self.sc())?;
        if self.crd() != 0 {
            write!(f, ", CRD {}", self.crd())?;
        }
        if self.more() {
            f.write_str(", M")?;
        }
        if self.dnr() {
            f.write_str(", DNR")?;
        }
        f.write_str(")")
    }
}

impl fmt::Debug for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Status")
            .field("name", &self.name())
            .field("sct", &self.sct())
            .field("sc", &format_args!("{:#04x}", self.sc()))
            .field("crd", &self.crd())
            .field("more", &self.more())
            .field("dnr", &self.dnr())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::format;
    use std::string::ToString;

    use super::{Status, StatusCodeType};

    #[test]
    fn test_parse() {
        // DNR | M | CRD=2 | SCT=0 | SC=13h: 0b1_1_10_000_00010011
        let s = Status::from_raw(0b0111_0000_0001_0011);
        assert_eq!(s.sct(), StatusCodeType::Generic);
        assert_eq!(s.sc(), 0x13);
        assert_eq!(s.crd(), 2);
        assert!(s.more());
        assert!(s.dnr());
        assert!(s.same_code(Status::PRP_OFFSET_INVALID));
        assert_ne!(s, Status::PRP_OFFSET_INVALID);
        assert_eq!(s.name(), Some("PRP Offset Invalid"));
    }

    #[test]
    fn test_emit() {
        let s = Status::new(StatusCodeType::MediaAndDataIntegrity, 0x81)
            .with_dnr(true)
            .with_crd(1);
        assert_eq!(s.raw(), 0b0100_1010_1000_0001);
        assert_eq!(s, Status::UNRECOVERED_READ_ERROR.with_crd(1).with_dnr(true));
        assert_eq!(
            s.with_dnr(false).with_crd(0),
            Status::UNRECOVERED_READ_ERROR
        );
    }

    #[test]
    fn bit_15_is_not_part_of_the_field() {
        assert_eq!(Status::from_raw(0xFFFF).raw(), 0x7FFF);
        assert_eq!(Status::from_raw(0x8000), Status::SUCCESS);
    }

    #[test]
    fn crd_is_masked() {
        assert_eq!(Status::SUCCESS.with_crd(7).crd(), 3);
        assert_eq!(Status::SUCCESS.with_crd(4).crd(), 0);
    }

    #[test]
    fn sct_open_enum() {
        for raw in 0..8u8 {
            assert_eq!(StatusCodeType::from_raw(raw).to_raw(), raw);
        }
        assert_eq!(StatusCodeType::from_raw(7), StatusCodeType::VendorSpecific);
        assert_eq!(StatusCodeType::from_raw(5), StatusCodeType::Reserved(5));
        assert_eq!(StatusCodeType::Reserved(0xFE).to_raw(), 6);
        let s = Status::new(StatusCodeType::Reserved(4), 0x55);
        assert_eq!(s.raw(), 0x455);
        assert_eq!(s.name(), None);
    }

    #[test]
    fn success() {
        assert!(Status::SUCCESS.is_success());
        assert!(Status::SUCCESS.with_more(true).is_success());
        assert!(!Status::INVALID_OPCODE.is_success());
        assert!(!Status::COMPLETION_QUEUE_INVALID.is_success());
        assert_eq!(Status::default(), Status::SUCCESS);
    }

    #[test]
    fn codes_match_the_spec() {
        let expect: &[(Status, u16)] = &[
            (Status::INVALID_FIELD, 0x002),
            (Status::INVALID_SGL_SEGMENT_DESCRIPTOR, 0x00D),
            (Status::PRP_OFFSET_INVALID, 0x013),
            (Status::SGL_DATA_BLOCK_GRANULARITY_INVALID, 0x01E),
            (Status::LBA_OUT_OF_RANGE, 0x080),
            (Status::INVALID_QUEUE_DELETION, 0x10C),
            (Status::DEALLOCATED_OR_UNWRITTEN_LOGICAL_BLOCK, 0x287),
        ];
        for (status, raw) in expect {
            assert_eq!(status.raw(), *raw, "{status}");
        }
    }

    #[test]
    fn named_codes_are_distinct() {
        let all: std::vec::Vec<_> = Status::named().collect();
        for (i, (a, _)) in all.iter().enumerate() {
            for (b, _) in all.iter().skip(i + 1) {
                assert!(!a.same_code(*b), "{a:?} listed twice");
            }
        }
        assert_eq!(all.len(), 36);
    }

    #[test]
    fn display() {
        assert_eq!(
            Status::PRP_OFFSET_INVALID.with_dnr(true).to_string(),
            "PRP Offset Invalid (SCT 0h, SC 13h, DNR)"
        );
        assert_eq!(
            Status::new(StatusCodeType::Generic, 0x55).to_string(),
            "unknown status (SCT 0h, SC 55h)"
        );
        assert_eq!(
            Status::INVALID_QUEUE_SIZE
                .with_crd(3)
                .with_more(true)
                .to_string(),
            "Invalid Queue Size (SCT 1h, SC 02h, CRD 3, M)"
        );
        assert_eq!(
            Status::from_raw(0x105).to_string(),
            "Asynchronous Event Request Limit Exceeded (SCT 1h, SC 05h)"
        );
        assert_eq!(
            Status::new(StatusCodeType::VendorSpecific, 0xC0).to_string(),
            "unknown status (SCT 7h, SC C0h)"
        );
    }

    #[test]
    fn debug_names_fields() {
        let text = format!("{:?}", Status::DATA_SGL_LENGTH_INVALID.with_dnr(true));
        assert_eq!(
            text,
            "Status { name: Some(\"Data SGL Length Invalid\"), sct: Generic, sc: 0x0f, \
             crd: 0, more: false, dnr: true }"
        );
    }
}
