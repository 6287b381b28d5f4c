//! The controller's SGL capabilities, as both sides need them: what Identify Controller
//! advertises (SGLS, MSDBD) plus the limits a device-side walker puts on its own work.

use core::fmt;

use crate::spec::{IdentifyController, SglSupport, Sgls};

/// Caps on the work one SGL walk may do. The NVMe specification bounds neither the number of
/// descriptors nor the number of segments, so a controller must bound its own work: past
/// either cap, a walk ends with Invalid Number of SGL Descriptors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct WalkLimits {
    /// Most data descriptors (data blocks and bit buckets, zero-length ones included) one
    /// SGL may hold, SGL1 included.
    pub max_descriptors: u32,
    /// Most segments one SGL may chain through (each one costs a Segment or Last Segment
    /// descriptor to reach).
    pub max_segments: u32,
}

impl WalkLimits {
    /// 4096 data descriptors in at most 256 segments: room for a 16 MiB transfer in scattered
    /// 4 KiB pages, or 4096 descriptors in 256-descriptor pages, with margin.
    pub const DEFAULT: WalkLimits = WalkLimits {
        max_descriptors: 4096,
        max_segments: 256,
    };
}

impl Default for WalkLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// One capability an SGL layout may need, named as Identify Controller names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Capability {
    /// SGLS bits 1:0: SGLs at all.
    Sgl,
    /// SGLS bit 2: Keyed SGL Data Block descriptors.
    Keyed,
    /// SGLS bit 16: SGL Bit Bucket descriptors.
    BitBucket,
    /// SGLS bit 17: a byte-aligned contiguous metadata buffer.
    ByteAlignedMetadata,
    /// SGLS bit 18 (LLDTS): an SGL longer than the transfer.
    Lldts,
    /// SGLS bit 19 (MSDS): MPTR pointing at an SGL segment (PSDT 10b).
    MetadataSgl,
    /// SGLS bit 20 (SAOS): Data Block descriptors addressed by offset.
    AddressAsOffset,
    /// SGLS bit 21: Transport SGL Data Block descriptors.
    TransportDataBlock,
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Capability::Sgl => "SGL support (SGLS bits 1:0)",
            Capability::Keyed => "Keyed SGL Data Block support (SGLS bit 2)",
            Capability::BitBucket => "SGL Bit Bucket support (SGLS bit 16)",
            Capability::ByteAlignedMetadata => {
                "byte-aligned contiguous metadata support (SGLS bit 17)"
            }
            Capability::Lldts => "SGL longer than the data transfer (SGLS bit 18, LLDTS)",
            Capability::MetadataSgl => "MPTR containing an SGL descriptor (SGLS bit 19, MSDS)",
            Capability::AddressAsOffset => "SGL address as offset (SGLS bit 20, SAOS)",
            Capability::TransportDataBlock => "Transport SGL Data Block support (SGLS bit 21)",
        })
    }
}

/// What a controller accepts in an SGL: SGLS and MSDBD from Identify Controller, the
/// in-capsule data size for offset-addressed blocks (fabrics), and the walker's own limits.
///
/// The host-side builder refuses layouts these capabilities forbid; the device-side walker
/// answers them with the status a controller would.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SglCaps {
    sgls: Sgls,
    /// SGLS bits 1:0 decoded once: SGLs usable at all, and dword granular.
    supported: bool,
    dword: bool,
    msdbd: u8,
    capsule_len: u64,
    limits: WalkLimits,
}

impl SglCaps {
    /// Capabilities from an SGLS value, with no MSDBD limit, no in-capsule data and the
    /// default walk limits.
    pub const fn new(sgls: Sgls) -> Self {
        SglCaps {
            sgls,
            supported: sgls.is_supported(),
            dword: matches!(sgls.support(), SglSupport::DwordAligned),
            msdbd: 0,
            capsule_len: 0,
            limits: WalkLimits::DEFAULT,
        }
    }

    /// SGLS and MSDBD from an Identify Controller structure.
    pub const fn from_identify(id: &IdentifyController) -> Self {
        Self::new(id.sgls()).with_msdbd(id.msdbd)
    }

    /// Limit data block descriptors per command to `msdbd` (0 = no limit).
    pub const fn with_msdbd(mut self, msdbd: u8) -> Self {
        self.msdbd = msdbd;
        self
    }

    /// The command capsule carries `bytes` of in-capsule data, which offset-addressed Data
    /// Blocks may name (fabrics; 0, the default, for PCIe).
    pub const fn with_capsule_data(mut self, bytes: u64) -> Self {
        self.capsule_len = bytes;
        self
    }

    /// Use `limits` for walks.
    pub const fn with_limits(mut self, limits: WalkLimits) -> Self {
        self.limits = limits;
        self
    }

    /// The SGLS value.
    pub const fn sgls(&self) -> Sgls {
        self.sgls
    }

    /// Whether SGLs are supported at all (SGLS bits 1:0 are 01b or 10b).
    #[inline]
    pub const fn supported(&self) -> bool {
        self.supported
    }

    /// Whether Data Block addresses and lengths must be dword aligned (SGLS bits 1:0 = 10b).
    #[inline]
    pub const fn dword_granular(&self) -> bool {
        self.dword
    }

    /// Whether the controller has `capability`.
    #[inline]
    pub const fn has(&self, capability: Capability) -> bool {
        let flag = match capability {
            Capability::Sgl => return self.supported,
            Capability::Keyed => Sgls::KEYED,
            Capability::BitBucket => Sgls::BIT_BUCKET,
            Capability::ByteAlignedMetadata => Sgls::BYTE_ALIGNED_CONTIGUOUS_METADATA,
            Capability::Lldts => Sgls::LLDTS,
            Capability::MetadataSgl => Sgls::MPTR_SGL,
            Capability::AddressAsOffset => Sgls::ADDRESS_AS_OFFSET,
            Capability::TransportDataBlock => Sgls::TRANSPORT_DATA_BLOCK,
        };
        self.sgls.contains(flag)
    }

    /// SDT, the recommended maximum number of data and bit bucket descriptors, or `None` when
    /// the controller gives no recommendation. A hint: exceeding it is legal but may be slow.
    #[inline]
    pub const fn sdt(&self) -> Option<u8> {
        match self.sgls.sdt() {
            0 => None,
            n => Some(n),
        }
    }

    /// MSDBD, the most data block descriptors a command may carry, or `None` for no limit.
    #[inline]
    pub const fn msdbd(&self) -> Option<u8> {
        match self.msdbd {
            0 => None,
            n => Some(n),
        }
    }

    /// Bytes of in-capsule data that offset-addressed Data Blocks may name.
    #[inline]
    pub const fn capsule_data(&self) -> u64 {
        self.capsule_len
    }

    /// The walk limits.
    #[inline]
    pub const fn limits(&self) -> WalkLimits {
        self.limits
    }
}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for SglCaps {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(SglCaps::new(Sgls::from_bits_retain(u.arbitrary()?))
            .with_msdbd(u.arbitrary()?)
            .with_capsule_data(u.arbitrary()?)
            .with_limits(WalkLimits {
                max_descriptors: u.int_in_range(0..=1 << 16)?,
                max_segments: u.int_in_range(0..=1 << 12)?,
            }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_sgls_bits() {
        let sgls = Sgls::from_support(SglSupport::DwordAligned)
            .union(Sgls::BIT_BUCKET | Sgls::LLDTS)
            .with_sdt(32);
        let caps = SglCaps::new(sgls).with_msdbd(16);
        assert!(caps.supported() && caps.dword_granular());
        assert!(caps.has(Capability::BitBucket) && caps.has(Capability::Lldts));
        assert!(!caps.has(Capability::Keyed) && !caps.has(Capability::MetadataSgl));
        assert_eq!((caps.sdt(), caps.msdbd()), (Some(32), Some(16)));
        assert_eq!(SglCaps::new(Sgls::empty()).sdt(), None);
        assert!(!SglCaps::new(Sgls::from_support(SglSupport::Reserved)).has(Capability::Sgl));
        assert_eq!(caps.limits(), WalkLimits::DEFAULT);
    }
}
