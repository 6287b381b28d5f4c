//! The 64-byte submission queue entry (NVMe Base Specification, "Submission Queue Entry -
//! Command Format" and "Command Dword 0").
//!
//! ```text
//!  bytes   field          dword     contents
//!  03:00   CDW0           0         opcode 7:0 · FUSE 9:8 · reserved 13:10 · PSDT 15:14 · CID 31:16
//!  07:04   NSID           1         namespace identifier
//!  11:08   CDW2           2         command specific
//!  15:12   CDW3           3         command specific
//!  23:16   MPTR           4..5      metadata pointer (address, or SGL segment when PSDT = 10b)
//!  31:24   DPTR.PRP1      6..7      PRP entry 1          ┐ or, when PSDT ≠ 00b, one 16-byte
//!  39:32   DPTR.PRP2      8..9      PRP entry 2 / list   ┘ SGL descriptor: SGL1
//!  43:40   CDW10          10        command specific
//!  47:44   CDW11          11        command specific
//!  51:48   CDW12          12        command specific
//!  55:52   CDW13          13        command specific
//!  59:56   CDW14          14        command specific
//!  63:60   CDW15          15        command specific
//! ```
//!
//! All multi-byte fields are little-endian. [`SubmissionEntry`] is that layout as a zerocopy
//! struct: any 64 bytes decode, every bit has a getter and a setter, and nothing panics.

use core::fmt;

use zerocopy::little_endian::{U32, U64};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use super::bits::Bits;
use super::sgl::SglDescriptor;

/// Bit positions inside Command Dword 0.
mod field {
    use super::Bits;

    /// OPC, Opcode: bits 7:0.
    pub(super) const OPCODE: Bits = Bits::new(0, 8);
    /// FUSE, Fused Operation: bits 9:8.
    pub(super) const FUSE: Bits = Bits::new(8, 2);
    /// Reserved: bits 13:10.
    pub(super) const RESERVED: Bits = Bits::new(10, 4);
    /// PSDT, PRP or SGL for Data Transfer: bits 15:14.
    pub(super) const PSDT: Bits = Bits::new(14, 2);
    /// CID, Command Identifier: bits 31:16.
    pub(super) const CID: Bits = Bits::new(16, 16);
    /// Data transfer direction: bits 1:0 of the opcode.
    pub(super) const DIRECTION: Bits = Bits::new(0, 2);
}

/// Command opcode (CDW0 bits 7:0).
///
/// An open newtype: every byte is an `Opcode`. Admin and NVM command set opcodes share one
/// number space (02h is Get Log Page on the admin queue and Read on an I/O queue; only the
/// queue tells them apart), so the named constants carry an `ADMIN_` or `NVM_` prefix.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Opcode(pub u8);

/// Admin command set opcodes (valid on the admin submission queue, queue 0).
impl Opcode {
    /// 00h Delete I/O Submission Queue.
    pub const ADMIN_DELETE_IO_SQ: Self = Self(0x00);
    /// 01h Create I/O Submission Queue.
    pub const ADMIN_CREATE_IO_SQ: Self = Self(0x01);
    /// 02h Get Log Page.
    pub const ADMIN_GET_LOG_PAGE: Self = Self(0x02);
    /// 04h Delete I/O Completion Queue.
    pub const ADMIN_DELETE_IO_CQ: Self = Self(0x04);
    /// 05h Create I/O Completion Queue.
    pub const ADMIN_CREATE_IO_CQ: Self = Self(0x05);
    /// 06h Identify.
    pub const ADMIN_IDENTIFY: Self = Self(0x06);
    /// 08h Abort.
    pub const ADMIN_ABORT: Self = Self(0x08);
    /// 09h Set Features.
    pub const ADMIN_SET_FEATURES: Self = Self(0x09);
    /// 0Ah Get Features.
    pub const ADMIN_GET_FEATURES: Self = Self(0x0A);
    /// 0Ch Asynchronous Event Request.
    pub const ADMIN_ASYNC_EVENT_REQUEST: Self = Self(0x0C);
}

/// NVM command set opcodes (valid on I/O submission queues).
impl Opcode {
    /// 00h Flush.
    pub const NVM_FLUSH: Self = Self(0x00);
    /// 01h Write.
    pub const NVM_WRITE: Self = Self(0x01);
    /// 02h Read.
    pub const NVM_READ: Self = Self(0x02);
    /// 05h Compare.
    pub const NVM_COMPARE: Self = Self(0x05);
    /// 08h Write Zeroes.
    pub const NVM_WRITE_ZEROES: Self = Self(0x08);
    /// 09h Dataset Management.
    pub const NVM_DATASET_MANAGEMENT: Self = Self(0x09);
}

impl Opcode {
    /// The data transfer direction encoded in opcode bits 1:0, which holds for every
    /// standard opcode of every command set.
    #[must_use]
    #[inline]
    pub const fn direction(self) -> DataDirection {
        match field::DIRECTION.get_u8(self.0 as u64) {
            0b00 => DataDirection::None,
            0b01 => DataDirection::HostToController,
            0b10 => DataDirection::ControllerToHost,
            _ => DataDirection::Bidirectional,
        }
    }

    /// The specification's name of this opcode read as an admin command, if it is one of the
    /// named `ADMIN_*` constants.
    #[must_use]
    #[inline]
    pub const fn admin_name(self) -> Option<&'static str> {
        Some(match self {
            Self::ADMIN_DELETE_IO_SQ => "Delete I/O Submission Queue",
            Self::ADMIN_CREATE_IO_SQ => "Create I/O Submission Queue",
            Self::ADMIN_GET_LOG_PAGE => "Get Log Page",
            Self::ADMIN_DELETE_IO_CQ => "Delete I/O Completion Queue",
            Self::ADMIN_CREATE_IO_CQ => "Create I/O Completion Queue",
            Self::ADMIN_IDENTIFY => "Identify",
            Self::ADMIN_ABORT => "Abort",
            Self::ADMIN_SET_FEATURES => "Set Features",
            Self::ADMIN_GET_FEATURES => "Get Features",
            Self::ADMIN_ASYNC_EVENT_REQUEST => "Asynchronous Event Request",
            _ => return None,
        })
    }

    /// The specification's name of this opcode read as an NVM command set I/O command, if it
    /// is one of the named `NVM_*` constants.
    #[must_use]
    #[inline]
    pub const fn nvm_name(self) -> Option<&'static str> {
        Some(match self {
            Self::NVM_FLUSH => "Flush",
            Self::NVM_WRITE => "Write",
            Self::NVM_READ => "Read",
            Self::NVM_COMPARE => "Compare",
            Self::NVM_WRITE_ZEROES => "Write Zeroes",
            Self::NVM_DATASET_MANAGEMENT => "Dataset Management",
            _ => return None,
        })
    }
}

impl fmt::Debug for Opcode {
    #[inline]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Opcode({:02X}h)", self.0)
    }
}

/// Data transfer direction, opcode bits 1:0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DataDirection {
    /// 00b: no data transfer.
    None,
    /// 01b: host to controller (the controller reads host memory, e.g. Write).
    HostToController,
    /// 10b: controller to host (the controller writes host memory, e.g. Read, Identify).
    ControllerToHost,
    /// 11b: bidirectional.
    Bidirectional,
}

/// FUSE, Fused Operation (CDW0 bits 9:8).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Fuse {
    /// 00b: normal operation.
    #[default]
    Normal,
    /// 01b: first command of a fused operation.
    FirstOfFused,
    /// 10b: second command of a fused operation.
    SecondOfFused,
    /// 11b: reserved.
    Reserved,
}

impl Fuse {
    /// Decodes the 2-bit field; bits above bit 1 of `bits` are ignored.
    #[must_use]
    #[inline]
    pub const fn from_bits(bits: u8) -> Self {
        match bits & 0b11 {
            0b00 => Self::Normal,
            0b01 => Self::FirstOfFused,
            0b10 => Self::SecondOfFused,
            _ => Self::Reserved,
        }
    }

    /// The 2-bit field value.
    #[must_use]
    #[inline]
    pub const fn to_bits(self) -> u8 {
        match self {
            Self::Normal => 0b00,
            Self::FirstOfFused => 0b01,
            Self::SecondOfFused => 0b10,
            Self::Reserved => 0b11,
        }
    }
}

/// PSDT, PRP or SGL for Data Transfer (CDW0 bits 15:14): how DPTR and MPTR are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Psdt {
    /// 00b: PRPs are used for this transfer (DPTR = PRP1 + PRP2; MPTR is a dword-aligned
    /// metadata address). The only value allowed for admin commands over PCIe.
    #[default]
    Prp,
    /// 01b: an SGL is used for the data (DPTR = SGL1); MPTR, when the command has metadata,
    /// is the address of one contiguous metadata buffer. What a command without metadata
    /// sets to use an SGL.
    Sgl,
    /// 10b: an SGL is used for the data (DPTR = SGL1) and for the metadata: MPTR is the
    /// qword-aligned address of an SGL segment holding exactly one metadata SGL descriptor.
    SglMetadataSgl,
    /// 11b: reserved; a controller answers Invalid Field in Command.
    Reserved,
}

impl Psdt {
    /// Decodes the 2-bit field; bits above bit 1 of `bits` are ignored.
    #[must_use]
    #[inline]
    pub const fn from_bits(bits: u8) -> Self {
        match bits & 0b11 {
            0b00 => Self::Prp,
            0b01 => Self::Sgl,
            0b10 => Self::SglMetadataSgl,
            _ => Self::Reserved,
        }
    }

    /// The 2-bit field value.
    #[must_use]
    #[inline]
    pub const fn to_bits(self) -> u8 {
        match self {
            Self::Prp => 0b00,
            Self::Sgl => 0b01,
            Self::SglMetadataSgl => 0b10,
            Self::Reserved => 0b11,
        }
    }

    /// Whether DPTR holds SGL1 (01b or 10b).
    #[must_use]
    #[inline]
    pub const fn is_sgl(self) -> bool {
        matches!(self, Self::Sgl | Self::SglMetadataSgl)
    }
}

/// A command dword number outside CDW10..=CDW15 was passed to [`SubmissionEntry::cdw`] or
/// [`SubmissionEntry::set_cdw`]. Holds the number that was asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CdwOutOfRange(pub u8);

impl fmt::Display for CdwOutOfRange {
    #[inline]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "command dword {} is not one of the command-specific dwords CDW10..=CDW15; \
             use the named accessor for dwords 0 to 9 (opcode, NSID, MPTR, DPTR, ...)",
            self.0
        )
    }
}

/// One 64-byte submission queue entry, exactly as it sits in a submission queue.
///
/// Any 64 bytes decode ([`SubmissionEntry::from_bytes`], or zerocopy's
/// `read_from_bytes`/`ref_from_bytes` on a slice); the getters and setters together reach all
/// 512 bits; none of them panics. `Default` is the all-zero entry.
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
pub struct SubmissionEntry {
    /// Bytes 3:0, Command Dword 0: opcode, FUSE, PSDT, CID.
    cdw0: U32,
    /// Bytes 7:4, NSID.
    nsid: U32,
    /// Bytes 11:8, Command Dword 2.
    cdw2: U32,
    /// Bytes 15:12, Command Dword 3.
    cdw3: U32,
    /// Bytes 23:16, MPTR.
    mptr: U64,
    /// Bytes 31:24, DPTR PRP Entry 1 (first half of SGL1).
    prp1: U64,
    /// Bytes 39:32, DPTR PRP Entry 2 (second half of SGL1).
    prp2: U64,
    /// Bytes 43:40, Command Dword 10.
    cdw10: U32,
    /// Bytes 47:44, Command Dword 11.
    cdw11: U32,
    /// Bytes 51:48, Command Dword 12.
    cdw12: U32,
    /// Bytes 55:52, Command Dword 13.
    cdw13: U32,
    /// Bytes 59:56, Command Dword 14.
    cdw14: U32,
    /// Bytes 63:60, Command Dword 15.
    cdw15: U32,
}

const _: () = assert!(size_of::<SubmissionEntry>() == 64);
const _: () = assert!(core::mem::offset_of!(SubmissionEntry, mptr) == 16);
const _: () = assert!(core::mem::offset_of!(SubmissionEntry, prp1) == 24);
const _: () = assert!(core::mem::offset_of!(SubmissionEntry, cdw10) == 40);
const _: () = assert!(core::mem::offset_of!(SubmissionEntry, cdw15) == 60);

/// Getter, setter and builder for a whole little-endian field of `SubmissionEntry`.
macro_rules! whole_field {
    ($($get:ident, $set:ident, $with:ident: $ty:ty = $wire:ident, $bytes:literal, $doc:literal;)*) => {
        $(
            #[doc = concat!($doc, " (bytes ", $bytes, ").")]
            #[must_use]
            pub const fn $get(&self) -> $ty {
                self.$get.get()
            }

            #[doc = concat!("Sets bytes ", $bytes, ": ", $doc, ".")]
            pub fn $set(&mut self, value: $ty) {
                self.$get = $wire::new(value);
            }

            #[doc = concat!("Builder form of [`SubmissionEntry::", stringify!($set), "`].")]
            #[must_use]
            pub fn $with(mut self, value: $ty) -> Self {
                self.$set(value);
                self
            }
        )*
    };
}

impl SubmissionEntry {
    /// Size of a submission queue entry in bytes (SQES = 6, 2^6).
    pub const SIZE: usize = 64;

    /// An all-zero entry with `opcode` and command identifier `cid` (FUSE normal, PSDT PRP).
    #[must_use]
    #[inline]
    pub fn new(opcode: Opcode, cid: u16) -> Self {
        Self::default().with_opcode(opcode).with_cid(cid)
    }

    /// Decodes 64 bytes (any bytes decode).
    #[must_use]
    #[inline]
    pub fn from_bytes(bytes: [u8; 64]) -> Self {
        zerocopy::transmute!(bytes)
    }

    /// The 64 bytes of this entry.
    #[must_use]
    #[inline]
    pub fn to_bytes(self) -> [u8; 64] {
        zerocopy::transmute!(self)
    }

    #[inline]
    fn update_cdw0(&mut self, bits: Bits, value: u64) {
        self.cdw0 = U32::new(bits.set32(self.cdw0.get(), value));
    }

    whole_field! {
        cdw0, set_cdw0, with_cdw0: u32 = U32, "3:0",
            "Command Dword 0 as one value: opcode, FUSE, reserved bits, PSDT and CID";
        nsid, set_nsid, with_nsid: u32 = U32, "7:4",
            "NSID, the Namespace Identifier (0 = not used, FFFFFFFFh = every namespace)";
        cdw2, set_cdw2, with_cdw2: u32 = U32, "11:8", "Command Dword 2 (command specific)";
        cdw3, set_cdw3, with_cdw3: u32 = U32, "15:12", "Command Dword 3 (command specific)";
        mptr, set_mptr, with_mptr: u64 = U64, "23:16",
            "MPTR, the Metadata Pointer: a metadata buffer address, or with PSDT = 10b the \
             address of an SGL segment holding one metadata descriptor";
        prp1, set_prp1, with_prp1: u64 = U64, "31:24",
            "DPTR PRP Entry 1: the first data page; the only data entry that may have an offset";
        prp2, set_prp2, with_prp2: u64 = U64, "39:32",
            "DPTR PRP Entry 2: unused, the second data page, or a PRP List pointer";
        cdw10, set_cdw10, with_cdw10: u32 = U32, "43:40", "Command Dword 10 (command specific)";
        cdw11, set_cdw11, with_cdw11: u32 = U32, "47:44", "Command Dword 11 (command specific)";
        cdw12, set_cdw12, with_cdw12: u32 = U32, "51:48", "Command Dword 12 (command specific)";
        cdw13, set_cdw13, with_cdw13: u32 = U32, "55:52", "Command Dword 13 (command specific)";
        cdw14, set_cdw14, with_cdw14: u32 = U32, "59:56", "Command Dword 14 (command specific)";
        cdw15, set_cdw15, with_cdw15: u32 = U32, "63:60", "Command Dword 15 (command specific)";
    }

    /// OPC, the Opcode (CDW0 bits 7:0).
    #[must_use]
    #[inline]
    pub const fn opcode(&self) -> Opcode {
        Opcode(field::OPCODE.get_u8(self.cdw0.get() as u64))
    }

    /// Sets OPC, the Opcode.
    #[inline]
    pub fn set_opcode(&mut self, opcode: Opcode) {
        self.update_cdw0(field::OPCODE, u64::from(opcode.0));
    }

    /// Builder form of [`SubmissionEntry::set_opcode`].
    #[must_use]
    #[inline]
    pub fn with_opcode(mut self, opcode: Opcode) -> Self {
        self.set_opcode(opcode);
        self
    }

    /// FUSE, Fused Operation (CDW0 bits 9:8).
    #[must_use]
    #[inline]
    pub const fn fuse(&self) -> Fuse {
        Fuse::from_bits(field::FUSE.get_u8(self.cdw0.get() as u64))
    }

    /// Sets FUSE.
    #[inline]
    pub fn set_fuse(&mut self, fuse: Fuse) {
        self.update_cdw0(field::FUSE, u64::from(fuse.to_bits()));
    }

    /// Builder form of [`SubmissionEntry::set_fuse`].
    #[must_use]
    #[inline]
    pub fn with_fuse(mut self, fuse: Fuse) -> Self {
        self.set_fuse(fuse);
        self
    }

    /// CDW0 bits 13:10, reserved (0 in a well-formed command). Exposed so every bit of the
    /// entry can be read and written, e.g. to build a malformed command on purpose.
    #[must_use]
    #[inline]
    pub const fn cdw0_reserved(&self) -> u8 {
        field::RESERVED.get_u8(self.cdw0.get() as u64)
    }

    /// Sets CDW0 bits 13:10 to the low 4 bits of `bits`.
    #[inline]
    pub fn set_cdw0_reserved(&mut self, bits: u8) {
        self.update_cdw0(field::RESERVED, u64::from(bits));
    }

    /// PSDT, PRP or SGL for Data Transfer (CDW0 bits 15:14).
    #[must_use]
    #[inline]
    pub const fn psdt(&self) -> Psdt {
        Psdt::from_bits(field::PSDT.get_u8(self.cdw0.get() as u64))
    }

    /// Sets PSDT.
    #[inline]
    pub fn set_psdt(&mut self, psdt: Psdt) {
        self.update_cdw0(field::PSDT, u64::from(psdt.to_bits()));
    }

    /// Builder form of [`SubmissionEntry::set_psdt`].
    #[must_use]
    #[inline]
    pub fn with_psdt(mut self, psdt: Psdt) -> Self {
        self.set_psdt(psdt);
        self
    }

    /// CID, the Command Identifier (CDW0 bits 31:16): unique among the commands outstanding
    /// on one submission queue; echoed in the completion entry. FFFFh should not be used.
    #[must_use]
    #[inline]
    pub const fn cid(&self) -> u16 {
        field::CID.get_u16(self.cdw0.get() as u64)
    }

    /// Sets CID.
    #[inline]
    pub fn set_cid(&mut self, cid: u16) {
        self.update_cdw0(field::CID, u64::from(cid));
    }

    /// Builder form of [`SubmissionEntry::set_cid`].
    #[must_use]
    #[inline]
    pub fn with_cid(mut self, cid: u16) -> Self {
        self.set_cid(cid);
        self
    }

    /// DPTR (bytes 39:24) read as SGL1, one SGL descriptor: the same 16 bytes as PRP1 + PRP2.
    /// Meaningful when [`SubmissionEntry::psdt`] is an SGL value.
    #[must_use]
    #[inline]
    pub fn sgl1(&self) -> SglDescriptor {
        zerocopy::transmute!([self.prp1, self.prp2])
    }

    /// Writes SGL1 into DPTR (bytes 39:24), replacing PRP1 and PRP2. PSDT is not changed.
    #[inline]
    pub fn set_sgl1(&mut self, descriptor: SglDescriptor) {
        let [prp1, prp2]: [U64; 2] = zerocopy::transmute!(descriptor);
        self.prp1 = prp1;
        self.prp2 = prp2;
    }

    /// Builder form of [`SubmissionEntry::set_sgl1`].
    #[must_use]
    #[inline]
    pub fn with_sgl1(mut self, descriptor: SglDescriptor) -> Self {
        self.set_sgl1(descriptor);
        self
    }

    /// Command dword `n` for `n` in 10..=15 (the command-specific dwords), by number.
    ///
    /// # Errors
    /// [`CdwOutOfRange`] for any other `n`.
    #[inline]
    pub const fn cdw(&self, n: u8) -> Result<u32, CdwOutOfRange> {
        Ok(match n {
            10 => self.cdw10.get(),
            11 => self.cdw11.get(),
            12 => self.cdw12.get(),
            13 => self.cdw13.get(),
            14 => self.cdw14.get(),
            15 => self.cdw15.get(),
            other => return Err(CdwOutOfRange(other)),
        })
    }

    /// Sets command dword `n` for `n` in 10..=15.
    ///
    /// # Errors
    /// [`CdwOutOfRange`] for any other `n`; the entry is then unchanged.
    #[inline]
    pub fn set_cdw(&mut self, n: u8, value: u32) -> Result<(), CdwOutOfRange> {
        let slot = match n {
            10 => &mut self.cdw10,
            11 => &mut self.cdw11,
            12 => &mut self.cdw12,
            13 => &mut self.cdw13,
            14 => &mut self.cdw14,
            15 => &mut self.cdw15,
            other => return Err(CdwOutOfRange(other)),
        };
        *slot = U32::new(value);
        Ok(())
    }
}

/// Any 64 bytes, as the wire holds them.
#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for SubmissionEntry {
    #[inline]
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(Self::from_bytes(u.arbitrary()?))
    }
}

impl fmt::Debug for SubmissionEntry {
    #[inline]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SubmissionEntry")
            .field("opcode", &self.opcode())
            .field("fuse", &self.fuse())
            .field("psdt", &self.psdt())
            .field("cid", &self.cid())
            .field("nsid", &self.nsid())
            .field("mptr", &format_args!("{:#x}", self.mptr()))
            .field("prp1", &format_args!("{:#x}", self.prp1()))
            .field("prp2", &format_args!("{:#x}", self.prp2()))
            .field(
                "cdw2_3",
                &format_args!("[{:#x}, {:#x}]", self.cdw2(), self.cdw3()),
            )
            .field(
                "cdw10_15",
                &format_args!(
                    "[{:#x}, {:#x}, {:#x}, {:#x}, {:#x}, {:#x}]",
                    self.cdw10(),
                    self.cdw11(),
                    self.cdw12(),
                    self.cdw13(),
                    self.cdw14(),
                    self.cdw15()
                ),
            )
            .field("cdw0_reserved", &self.cdw0_reserved())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::{CdwOutOfRange, DataDirection, Fuse, Opcode, Psdt, SubmissionEntry};
    use crate::spec::sgl::{SglDescriptor, SglDescriptorType, SglSubtype};

    /// A Read (02h), CID 0x1234, PSDT SGL-contiguous, FUSE first, reserved bits 1010b,
    /// NSID 1, CDW2 0x0A0B0C0D, CDW3 0x11223344, MPTR 0x8877665544332211,
    /// PRP1 0x0000_0001_0000_1008, PRP2 0x0000_0000_CAFE_F000, CDW10..15 = 10..15 * 0x0101_0101.
    const ENTRY: [u8; 64] = [
        0x02, 0x69, 0x34, 0x12, // CDW0: opc 02h; 0x69 = PSDT 01b, rsvd 1010b, FUSE 01b
        0x01, 0x00, 0x00, 0x00, // NSID
        0x0D, 0x0C, 0x0B, 0x0A, // CDW2
        0x44, 0x33, 0x22, 0x11, // CDW3
        0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, // MPTR
        0x08, 0x10, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, // PRP1
        0x00, 0xF0, 0xFE, 0xCA, 0x00, 0x00, 0x00, 0x00, // PRP2
        0x0A, 0x0A, 0x0A, 0x0A, // CDW10
        0x0B, 0x0B, 0x0B, 0x0B, // CDW11
        0x0C, 0x0C, 0x0C, 0x0C, // CDW12
        0x0D, 0x0D, 0x0D, 0x0D, // CDW13
        0x0E, 0x0E, 0x0E, 0x0E, // CDW14
        0x0F, 0x0F, 0x0F, 0x0F, // CDW15
    ];

    #[test]
    fn test_parse() {
        let e = SubmissionEntry::from_bytes(ENTRY);
        assert_eq!(e.opcode(), Opcode::NVM_READ);
        assert_eq!(e.fuse(), Fuse::FirstOfFused);
        assert_eq!(e.cdw0_reserved(), 0b1010);
        assert_eq!(e.psdt(), Psdt::Sgl);
        assert_eq!(e.cid(), 0x1234);
        assert_eq!(e.nsid(), 1);
        assert_eq!(e.cdw2(), 0x0A0B_0C0D);
        assert_eq!(e.cdw3(), 0x1122_3344);
        assert_eq!(e.mptr(), 0x8877_6655_4433_2211);
        assert_eq!(e.prp1(), 0x1_0000_1008);
        assert_eq!(e.prp2(), 0xCAFE_F000);
        for n in 10..=15u8 {
            assert_eq!(e.cdw(n), Ok(u32::from(n) * 0x0101_0101));
        }
        assert_eq!(e.cdw10(), 0x0A0A_0A0A);
        assert_eq!(e.cdw15(), 0x0F0F_0F0F);
    }

    #[test]
    fn test_emit_into_poisoned_buffer() {
        let mut e = SubmissionEntry::from_bytes([0xA5; 64]);
        e.set_opcode(Opcode::NVM_READ);
        e.set_fuse(Fuse::FirstOfFused);
        e.set_cdw0_reserved(0b1010);
        e.set_psdt(Psdt::Sgl);
        e.set_cid(0x1234);
        e.set_nsid(1);
        e.set_cdw2(0x0A0B_0C0D);
        e.set_cdw3(0x1122_3344);
        e.set_mptr(0x8877_6655_4433_2211);
        e.set_prp1(0x1_0000_1008);
        e.set_prp2(0xCAFE_F000);
        for n in 10..=15u8 {
            e.set_cdw(n, u32::from(n) * 0x0101_0101).unwrap();
        }
        assert_eq!(e.to_bytes(), ENTRY);

        let mut buf = [0xA5u8; 64];
        buf.copy_from_slice(zerocopy::IntoBytes::as_bytes(&e));
        assert_eq!(buf, ENTRY);
    }

    #[test]
    fn builder_matches_setters() {
        let built = SubmissionEntry::new(Opcode::ADMIN_IDENTIFY, 7)
            .with_nsid(0)
            .with_prp1(0x1000)
            .with_cdw10(1);
        let mut set = SubmissionEntry::default();
        set.set_opcode(Opcode::ADMIN_IDENTIFY);
        set.set_cid(7);
        set.set_prp1(0x1000);
        set.set_cdw10(1);
        assert_eq!(built, set);
        assert_eq!(built.cdw0(), 0x0007_0006);
    }

    #[test]
    fn cdw0_fields_do_not_overlap() {
        let mut e = SubmissionEntry::default();
        e.set_cdw0(u32::MAX);
        e.set_fuse(Fuse::Normal);
        assert_eq!(e.cdw0(), 0xFFFF_FCFF);
        e.set_psdt(Psdt::Prp);
        assert_eq!(e.cdw0(), 0xFFFF_3CFF);
        e.set_cdw0_reserved(0);
        assert_eq!(e.cdw0(), 0xFFFF_00FF);
        e.set_cid(0);
        assert_eq!(e.cdw0(), 0x0000_00FF);
        e.set_opcode(Opcode(0));
        assert_eq!(e.cdw0(), 0);
    }

    #[test]
    fn sgl1_is_prp1_and_prp2() {
        let d = SglDescriptor::new(
            0x1122_3344_5566_7788,
            0x200,
            SglDescriptorType::LastSegment,
            SglSubtype::Address,
        );
        let e = SubmissionEntry::default().with_sgl1(d);
        assert_eq!(e.prp1(), 0x1122_3344_5566_7788);
        assert_eq!(e.prp2(), 0x3000_0000_0000_0200);
        assert_eq!(e.sgl1(), d);
        let bytes = e.to_bytes();
        assert_eq!(bytes[24..40], d.to_bytes());
    }

    #[test]
    fn cdw_out_of_range() {
        let mut e = SubmissionEntry::from_bytes(ENTRY);
        assert_eq!(e.cdw(9), Err(CdwOutOfRange(9)));
        assert_eq!(e.cdw(16), Err(CdwOutOfRange(16)));
        assert_eq!(e.set_cdw(0, 5), Err(CdwOutOfRange(0)));
        assert_eq!(e.to_bytes(), ENTRY);
    }

    #[test]
    fn opcode_direction() {
        assert_eq!(Opcode::NVM_FLUSH.direction(), DataDirection::None);
        assert_eq!(
            Opcode::NVM_WRITE.direction(),
            DataDirection::HostToController
        );
        assert_eq!(
            Opcode::NVM_READ.direction(),
            DataDirection::ControllerToHost
        );
        assert_eq!(
            Opcode::ADMIN_IDENTIFY.direction(),
            DataDirection::ControllerToHost
        );
        assert_eq!(
            Opcode::NVM_COMPARE.direction(),
            DataDirection::HostToController
        );
        assert_eq!(Opcode(0x03).direction(), DataDirection::Bidirectional);
    }

    #[test]
    fn opcode_names_depend_on_the_command_set() {
        assert_eq!(Opcode(0x02).admin_name(), Some("Get Log Page"));
        assert_eq!(Opcode(0x02).nvm_name(), Some("Read"));
        assert_eq!(Opcode(0x06).nvm_name(), None);
        assert_eq!(Opcode(0x0A).admin_name(), Some("Get Features"));
    }

    #[test]
    fn two_bit_enums_round_trip() {
        for bits in 0..4u8 {
            assert_eq!(Fuse::from_bits(bits).to_bits(), bits);
            assert_eq!(Psdt::from_bits(bits).to_bits(), bits);
        }
        assert!(Psdt::SglMetadataSgl.is_sgl());
        assert!(!Psdt::Reserved.is_sgl());
    }
}
