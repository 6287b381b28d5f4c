//! Log pages read with Get Log Page (admin opcode 02h): the command's fields, the Error
//! Information entry (LID 01h) and the SMART / Health Information page (LID 02h).
//!
//! ```text
//! CDW10  bits 7:0 LID · 14:8 LSP · 15 RAE · 31:16 NUMDL ┐ number of dwords, zero-based:
//! CDW11  bits 15:0 NUMDU · 31:16 LSI                    ┘ NUMDU:NUMDL + 1
//! CDW12  LPOL ┐ byte offset into the page, dword aligned; an offset past the end of
//! CDW13  LPOU ┘ the page is Invalid Field in Command
//! ```

use zerocopy::little_endian::{U16, U32, U64};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use super::bits::Bits;
use super::sqe::SubmissionEntry;

/// Bit positions inside CDW10 and CDW11, and of the values split across two dwords.
mod field {
    use super::Bits;

    /// CDW10 bits 7:0, LID.
    pub(super) const LID: Bits = Bits::new(0, 8);
    /// CDW10 bits 31:16, NUMDL; also the low half of NUMD.
    pub(super) const NUMDL: Bits = Bits::new(16, 16);
    /// CDW11 bits 15:0, NUMDU.
    pub(super) const NUMDU: Bits = Bits::new(0, 16);
    /// NUMD bits 31:16, the part NUMDU holds.
    pub(super) const NUMD_HIGH: Bits = Bits::new(16, 16);
    /// The offset's low dword, LPOL (CDW12).
    pub(super) const LOW: Bits = Bits::new(0, 32);
    /// The offset's high dword, LPOU (CDW13).
    pub(super) const HIGH: Bits = Bits::new(32, 32);
}

/// LID 01h: Error Information, one [`ErrorInformationEntry`] per entry (ELPE + 1 entries).
pub const LID_ERROR_INFORMATION: u8 = 0x01;
/// LID 02h: SMART / Health Information, one [`SmartLog`].
pub const LID_SMART: u8 = 0x02;

/// The fields of a Get Log Page command that say what to read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogPageRequest {
    /// LID, the log page identifier.
    pub lid: u8,
    /// Bytes to transfer: (NUMDU:NUMDL + 1) × 4.
    pub len: u64,
    /// LPOU:LPOL, the byte offset into the page.
    pub offset: u64,
}

impl LogPageRequest {
    /// Read the request out of a Get Log Page command.
    pub fn from_sqe(sqe: &SubmissionEntry) -> Self {
        let (cdw10, cdw11) = (u64::from(sqe.cdw10()), u64::from(sqe.cdw11()));
        let numd = field::NUMD_HIGH.set(field::NUMDL.get(cdw10), field::NUMDU.get(cdw11));
        LogPageRequest {
            lid: field::LID.get_u8(cdw10),
            len: numd.saturating_add(1).saturating_mul(4),
            offset: field::HIGH.set(u64::from(sqe.cdw12()), u64::from(sqe.cdw13())),
        }
    }

    /// Write the request into a Get Log Page command's CDW10 to CDW13. `len` is rounded up to
    /// whole dwords; `None` when it is 0 or needs more than 32 bits of dwords.
    pub fn write_to(&self, sqe: &mut SubmissionEntry) -> Option<()> {
        let dwords_z = u32::try_from(self.len.checked_add(3)? / 4)
            .ok()?
            .checked_sub(1)?;
        let dwords_z = u64::from(dwords_z);
        let cdw10 = field::LID.set32(0, u64::from(self.lid));
        sqe.set_cdw10(field::NUMDL.set32(cdw10, dwords_z));
        sqe.set_cdw11(field::NUMDU.set32(0, field::NUMD_HIGH.get(dwords_z)));
        sqe.set_cdw12(field::LOW.get_u32(self.offset));
        sqe.set_cdw13(field::HIGH.get_u32(self.offset));
        Some(())
    }
}

/// One Error Information log entry (64 bytes): a command that failed, newest entry first.
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
pub struct ErrorInformationEntry {
    /// Bytes 7:0, Error Count: a unique, increasing number for the error (0 = an empty entry).
    pub error_count: U64,
    /// Bytes 9:8, SQID of the failed command.
    pub sqid: U16,
    /// Bytes 11:10, CID of the failed command.
    pub cid: U16,
    /// Bytes 13:12, Status Field: the completion's phase tag (bit 0) and status (bits 15:1).
    pub status_field: U16,
    /// Bytes 15:14, Parameter Error Location (FFFFh = not specific to a field).
    pub parameter_error_location: U16,
    /// Bytes 23:16, the first LBA that failed, where one applies.
    pub lba: U64,
    /// Bytes 27:24, the namespace of the failed command.
    pub namespace: U32,
    /// Byte 28, Vendor Specific Information Available.
    pub vendor_log_page: u8,
    /// Byte 29, Transport Type.
    pub transport_type: u8,
    /// Bytes 31:30, reserved.
    pub reserved_30: [u8; 2],
    /// Bytes 39:32, Command Specific Information.
    pub command_specific: U64,
    /// Bytes 41:40, Transport Type Specific Information.
    pub transport_specific: U16,
    /// Bytes 63:42, reserved.
    pub reserved_42: [u8; 22],
}

const _: () = assert!(size_of::<ErrorInformationEntry>() == 64);
const _: () = assert!(core::mem::offset_of!(ErrorInformationEntry, namespace) == 24);
const _: () = assert!(core::mem::offset_of!(ErrorInformationEntry, command_specific) == 32);

/// The SMART / Health Information log page (512 bytes). 128-bit counters are kept as
/// little-endian byte arrays; [`SmartLog::counter`] and [`SmartLog::set_counter`] read them.
#[repr(C)]
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
pub struct SmartLog {
    /// Byte 0, Critical Warning.
    pub critical_warning: u8,
    /// Bytes 2:1, Composite Temperature in kelvins.
    pub composite_temperature: U16,
    /// Byte 3, Available Spare, percent.
    pub available_spare: u8,
    /// Byte 4, Available Spare Threshold, percent.
    pub available_spare_threshold: u8,
    /// Byte 5, Percentage Used.
    pub percentage_used: u8,
    /// Bytes 31:6: Endurance Group Critical Warning Summary and reserved bytes.
    pub bytes_6_31: [u8; 26],
    /// Bytes 191:32: the 128-bit counters, in [`SmartCounter`] order.
    pub counters: [[u8; 16]; 10],
    /// Bytes 511:192: temperature sensors, thermal management and reserved bytes.
    pub bytes_192_511: [u8; 320],
}

const _: () = assert!(size_of::<SmartLog>() == 512);
const _: () = assert!(core::mem::offset_of!(SmartLog, counters) == 32);

/// The 128-bit counters of the SMART / Health Information page, at bytes 32 + 16 × index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SmartCounter {
    /// Data Units Read: thousands of 512-byte units read by the host, rounded up.
    DataUnitsRead = 0,
    /// Data Units Written: thousands of 512-byte units written, rounded up.
    DataUnitsWritten = 1,
    /// Host Read Commands completed.
    HostReadCommands = 2,
    /// Host Write Commands completed.
    HostWriteCommands = 3,
    /// Controller Busy Time, minutes.
    ControllerBusyTime = 4,
    /// Power Cycles.
    PowerCycles = 5,
    /// Power On Hours.
    PowerOnHours = 6,
    /// Shutdowns that happened without a shutdown notification first.
    ShutdownsWithoutNotification = 7,
    /// Media and Data Integrity Errors.
    MediaErrors = 8,
    /// Number of Error Information Log Entries over the controller's life.
    ErrorLogEntries = 9,
}

impl SmartLog {
    /// A counter's value (the low 64 bits of its 128; this crate never sets the high half).
    pub fn counter(&self, which: SmartCounter) -> u128 {
        self.counters
            .get(which as usize)
            .map_or(0, |bytes| u128::from_le_bytes(*bytes))
    }

    /// Set a counter.
    pub fn set_counter(&mut self, which: SmartCounter, value: u128) {
        if let Some(bytes) = self.counters.get_mut(which as usize) {
            *bytes = value.to_le_bytes();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Opcode;
    use zerocopy::FromZeros;

    #[test]
    fn request_round_trips_through_the_command() {
        let mut sqe = SubmissionEntry::new(Opcode::ADMIN_GET_LOG_PAGE, 1);
        let req = LogPageRequest {
            lid: LID_SMART,
            len: 0x4_0000 * 4,
            offset: 0x1_0000_0004,
        };
        req.write_to(&mut sqe).unwrap();
        // NUMD = 0x3ffff (zero-based) splits into NUMDL = 0xffff and NUMDU = 0x3.
        assert_eq!(sqe.cdw10(), 0xffff_0002);
        assert_eq!(sqe.cdw11(), 0x3);
        assert_eq!((sqe.cdw12(), sqe.cdw13()), (4, 1));
        assert_eq!(LogPageRequest::from_sqe(&sqe), req);
    }

    #[test]
    fn smart_counters_sit_at_their_spec_offsets() {
        let mut log = <SmartLog as FromZeros>::new_zeroed();
        log.set_counter(SmartCounter::HostWriteCommands, 0x0102);
        log.set_counter(SmartCounter::ErrorLogEntries, 7);
        let bytes = log.as_bytes();
        assert_eq!(&bytes[80..82], &[0x02, 0x01]);
        assert_eq!(bytes[176], 7);
        assert_eq!(log.counter(SmartCounter::HostWriteCommands), 0x0102);
    }
}
