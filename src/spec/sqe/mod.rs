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
//!
//! The values packed into Command Dword 0, [`Opcode`] (with [`DataDirection`]), [`Fuse`] and
//! [`Psdt`], are defined in a file of their own and re-exported here.

use core::fmt;

use zerocopy::little_endian::{U32, U64};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use super::bits::Bits;
use super::sgl::SglDescriptor;

mod opcode;

pub use opcode::{DataDirection, Fuse, Opcode, Psdt};

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
mod tests;
