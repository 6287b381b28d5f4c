//! SGLS, the SGL Support field of Identify Controller: [`Sgls`], its two-bit support field
//! [`SglSupport`], and their bit positions. The SGL builders and walkers take this one field
//! on its own (through `SglCaps`), without the rest of the Identify structure.

use crate::spec::bits::Bits;

/// Bit positions inside SGLS.
mod field {
    use super::Bits;

    /// SGLS bits 1:0, SGL support and alignment.
    pub(super) const SGLS_SUPPORT: Bits = Bits::new(0, 2);
    /// SGLS bits 15:8, SDT, SGL Descriptor Threshold.
    pub(super) const SGLS_SDT: Bits = Bits::new(8, 8);
}

/// SGL support, SGLS bits 1:0: whether the controller takes SGLs for NVM commands, and with
/// what alignment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum SglSupport {
    /// 00b: SGLs are not supported (PRPs only).
    #[default]
    None,
    /// 01b: SGLs are supported with no alignment or granularity requirement on data blocks.
    ByteAligned,
    /// 10b: SGLs are supported; data block addresses and lengths must be dword aligned and
    /// dword granular (else SGL Data Block Granularity Invalid).
    DwordAligned,
    /// 11b: reserved.
    Reserved,
}

impl SglSupport {
    /// Decodes the 2-bit field; bits above bit 1 of `bits` are ignored.
    #[must_use]
    pub const fn from_bits(bits: u8) -> Self {
        match bits & 0b11 {
            0b00 => Self::None,
            0b01 => Self::ByteAligned,
            0b10 => Self::DwordAligned,
            _ => Self::Reserved,
        }
    }

    /// The 2-bit field value.
    #[must_use]
    pub const fn to_bits(self) -> u8 {
        match self {
            Self::None => 0b00,
            Self::ByteAligned => 0b01,
            Self::DwordAligned => 0b10,
            Self::Reserved => 0b11,
        }
    }
}

bitflags::bitflags! {
    /// SGLS, SGL Support (Identify Controller bytes 539:536).
    ///
    /// Bits 1:0 are one 2-bit field, not two flags: read it with [`Sgls::support`] and write it
    /// with [`Sgls::with_support`]; the two flags below only name its bits. Bits 15:8 are SDT,
    /// a count, read with [`Sgls::sdt`]. Build from the raw dword with `Sgls::from_bits_retain`,
    /// which keeps every bit, named or not.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
    pub struct Sgls: u32 {
        /// Bit 0 of the support field (01b: supported, any alignment).
        const SUPPORTED_ANY_ALIGNMENT = 1 << 0;
        /// Bit 1 of the support field (10b: supported, dword alignment and granularity).
        const SUPPORTED_DWORD_ALIGNED = 1 << 1;
        /// Bit 2: the Keyed SGL Data Block descriptor is supported (fabrics).
        const KEYED = 1 << 2;
        /// Bit 16: the SGL Bit Bucket descriptor is supported.
        const BIT_BUCKET = 1 << 16;
        /// Bit 17: a byte-aligned contiguous physical buffer of metadata (MPTR with
        /// PSDT = 01b) is supported.
        const BYTE_ALIGNED_CONTIGUOUS_METADATA = 1 << 17;
        /// Bit 18 (LLDTS): a data or metadata SGL may describe more bytes than the command
        /// transfers; without it such an SGL is Data/Metadata SGL Length Invalid.
        const LLDTS = 1 << 18;
        /// Bit 19 (MSDS): MPTR may point to an SGL segment holding one SGL descriptor
        /// (PSDT = 10b).
        const MPTR_SGL = 1 << 19;
        /// Bit 20 (SAOS): the address field of an SGL Data Block, Segment or Last Segment
        /// descriptor may be an offset (subtype 1h).
        const ADDRESS_AS_OFFSET = 1 << 20;
        /// Bit 21: the Transport SGL Data Block descriptor is supported.
        const TRANSPORT_DATA_BLOCK = 1 << 21;
    }
}

impl Sgls {
    /// An SGLS value with only the support field set.
    #[must_use]
    pub const fn from_support(support: SglSupport) -> Self {
        Self::empty().with_support(support)
    }

    /// The support field, bits 1:0.
    #[must_use]
    pub const fn support(self) -> SglSupport {
        SglSupport::from_bits(field::SGLS_SUPPORT.get_u8(self.bits() as u64))
    }

    /// This value with the support field replaced; other bits kept.
    #[must_use]
    pub const fn with_support(self, support: SglSupport) -> Self {
        Self::from_bits_retain(field::SGLS_SUPPORT.set32(self.bits(), support.to_bits() as u64))
    }

    /// Whether SGLs are usable at all: the support field is 01b or 10b.
    #[must_use]
    pub const fn is_supported(self) -> bool {
        matches!(
            self.support(),
            SglSupport::ByteAligned | SglSupport::DwordAligned
        )
    }

    /// SDT, SGL Descriptor Threshold (bits 15:8): the recommended maximum number of data and
    /// bit bucket descriptors per command for best performance; 0 = no recommendation. A
    /// hint, not a limit.
    #[must_use]
    pub const fn sdt(self) -> u8 {
        field::SGLS_SDT.get_u8(self.bits() as u64)
    }

    /// This value with SDT replaced; other bits kept.
    #[must_use]
    pub const fn with_sdt(self, sdt: u8) -> Self {
        Self::from_bits_retain(field::SGLS_SDT.set32(self.bits(), sdt as u64))
    }
}
