//! Typed SGL descriptors over the raw wire struct [`SglDescriptor`].
//!
//! [`SglDescriptor`] is the 16 bytes as they sit in memory: every pattern decodes and nothing is
//! checked. The types here are the checked values, in the manner of a `Repr` over a packet view:
//! [`Descriptor::parse`] turns a raw descriptor into a [`DataDescriptor`] or a
//! [`SegmentPointer`], or reports why a controller would answer SGL Descriptor Type Invalid, and
//! `to_raw` emits the 16 bytes again.
//!
//! Three things that share the 16-byte format are kept apart by type, because confusing them is
//! a real bug: a [`DataDescriptor`] describes bytes of the transfer, a [`SegmentPointer`] locates
//! the next segment of descriptors, and [`Sgl1`] is the one descriptor inside the command.
//!
//! | type | subtype | parses as |
//! |---|---|---|
//! | 0h Data Block | 0h Address | [`DataDescriptor::Block`] |
//! | 0h Data Block | 1h Offset | [`DataDescriptor::CapsuleBlock`] |
//! | 1h Bit Bucket | 0h | [`DataDescriptor::BitBucket`] |
//! | 2h Segment | 0h Address | [`SegmentPointer`] with [`SegmentKind::Segment`] |
//! | 3h Last Segment | 0h Address | [`SegmentPointer`] with [`SegmentKind::LastSegment`] |
//! | 4h Keyed Data Block | 0h, Ah–Fh | [`DataDescriptor::Keyed`] |
//! | 5h Transport Data Block | Ah–Fh | [`DataDescriptor::Transport`] |
//! | 6h–Eh reserved, Fh vendor | any | [`DescriptorError`] |
//!
//! Where each subtype is valid (NVMe Base Specification 2.1, 4.3.2, SGL Descriptor Sub Type):
//!
//! - **Address (0h)** names host memory: valid for Data Block, Segment, Last Segment and Keyed
//!   Data Block, and the only value a Bit Bucket takes. Over PCIe it is the only subtype a
//!   data pointer uses.
//! - **Offset (1h)** names a place in the command capsule's in-capsule data: valid for Data
//!   Block, Segment and Last Segment, in NVMe over Fabrics only. Over PCIe there is no capsule,
//!   so a Data Block with the Offset subtype describes no host memory:
//!   [`DataDescriptor::CapsuleBlock`] parses it, and a PCIe controller must not move data
//!   through it (the data mover refuses a capsule piece).
//! - **Transport specific (Ah–Fh)**: Keyed and Transport Data Blocks, fabrics only.
//!
//! Segment and Last Segment descriptors with the Offset subtype are valid in fabrics (a chain
//! of segments inside the capsule) but not modelled here: they parse as
//! [`DescriptorError::UnsupportedSubtype`], which is the answer of a controller that does not
//! support in-capsule segments, and the right answer over PCIe.
//!
//! Reserved bytes (14:12 of every type but the keyed one, and the address of a bit bucket or
//! transport block) are ignored when parsing and written as zero.

use core::fmt;

use crate::spec::{SglDescriptor, SglDescriptorType, SglSubtype, Status};

/// Bytes in one SGL descriptor.
pub const DESCRIPTOR_BYTES: u64 = 16;

/// [`DESCRIPTOR_BYTES`] in the width of a descriptor's length field.
const DESCRIPTOR_LEN: u32 = 16;

/// The largest length a Keyed SGL Data Block can carry (24 bits).
pub const MAX_KEYED_LEN: u32 = 0x00FF_FFFF;

/// A descriptor that accounts for bytes of the transfer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DataDescriptor {
    /// SGL Data Block, subtype Address: `len` bytes at bus address `addr`. Length 0 is valid
    /// and moves nothing; the all-zero descriptor is the null descriptor.
    Block {
        /// Bus address of the first byte.
        addr: u64,
        /// Number of bytes.
        len: u32,
    },
    /// SGL Data Block, subtype Offset: `len` bytes at `offset` in the command capsule's data
    /// (fabrics in-capsule data; reserved over PCIe).
    CapsuleBlock {
        /// Offset into the capsule's data area.
        offset: u64,
        /// Number of bytes.
        len: u32,
    },
    /// SGL Bit Bucket: in a read, `len` bytes of the transfer are discarded; in a write it has
    /// no effect.
    BitBucket {
        /// Number of bytes.
        len: u32,
    },
    /// Keyed SGL Data Block (fabrics): `len` bytes (at most [`MAX_KEYED_LEN`]) at remote
    /// address `addr`, accessed with `key`.
    Keyed {
        /// Remote address.
        addr: u64,
        /// Number of bytes (24 bits).
        len: u32,
        /// The 32-bit key.
        key: u32,
        /// Address (0h) or a transport-specific subtype (Ah–Fh), e.g. RDMA's "invalidate key".
        subtype: SglSubtype,
    },
    /// Transport SGL Data Block (fabrics): `len` bytes the transport carries.
    Transport {
        /// Number of bytes.
        len: u32,
        /// The transport-specific subtype (Ah–Fh).
        subtype: SglSubtype,
    },
}

/// Which kind of segment a [`SegmentPointer`] leads to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SegmentKind {
    /// SGL Segment (2h): the next segment is not the last one, so its final descriptor is
    /// another Segment or Last Segment descriptor.
    Segment,
    /// SGL Last Segment (3h): the next segment is the last one and holds only data
    /// descriptors.
    LastSegment,
}

/// A Segment or Last Segment descriptor: where the next segment of descriptors lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SegmentPointer {
    /// Bus address of the segment (qword aligned in a valid SGL).
    pub addr: u64,
    /// Length of the segment in bytes (a non-zero multiple of 16 in a valid SGL).
    pub len: u32,
    /// Whether the segment it points to is the last one.
    pub kind: SegmentKind,
}

/// One descriptor read from a segment: data, or a pointer to the next segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Descriptor {
    /// A descriptor that accounts for bytes of the transfer.
    Data(DataDescriptor),
    /// A Segment or Last Segment descriptor.
    Pointer(SegmentPointer),
}

/// SGL1: the one descriptor in a command's DPTR. It either describes the whole transfer (a
/// data descriptor) or points to the first segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Sgl1(Descriptor);

/// Why a raw descriptor does not parse: a controller answers SGL Descriptor Type Invalid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DescriptorError {
    /// A reserved descriptor type (6h–Eh); holds the type nibble.
    ReservedType(u8),
    /// The vendor specific descriptor type (Fh), which this crate does not interpret.
    VendorSpecific,
    /// A defined type with a subtype it cannot have, or (for Segment and Last Segment) the
    /// Offset subtype: valid in fabrics capsules, not modelled here, and invalid over PCIe.
    UnsupportedSubtype {
        /// The descriptor type.
        descriptor_type: SglDescriptorType,
        /// The subtype it carried.
        subtype: SglSubtype,
    },
}

impl DescriptorError {
    /// The completion status: SGL Descriptor Type Invalid, with DNR set.
    pub const fn status(&self) -> Status {
        Status::SGL_DESCRIPTOR_TYPE_INVALID.with_dnr(true)
    }
}

impl fmt::Display for DescriptorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            DescriptorError::ReservedType(t) => write!(f, "descriptor type {t:X}h is reserved"),
            DescriptorError::VendorSpecific => {
                write!(f, "descriptor type Fh is vendor specific")
            }
            DescriptorError::UnsupportedSubtype {
                descriptor_type,
                subtype,
            } => write!(
                f,
                "descriptor type {:X}h cannot have subtype {:X}h",
                descriptor_type.to_nibble(),
                subtype.to_nibble()
            ),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for DescriptorError {}

/// In the specification's words, with lengths and addresses in hex: `Data Block 0x1000 bytes
/// at 0x10000`, `Bit Bucket 0x200 bytes`, `Keyed Data Block 0x1000 bytes at 0x10000, key
/// 0x7`, `Data Block 0x200 bytes at capsule offset 0x40`, `Transport Data Block 0x1000 bytes`.
impl fmt::Display for DataDescriptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            DataDescriptor::Block { addr, len } => {
                write!(f, "Data Block {len:#x} bytes at {addr:#x}")
            }
            DataDescriptor::CapsuleBlock { offset, len } => {
                write!(f, "Data Block {len:#x} bytes at capsule offset {offset:#x}")
            }
            DataDescriptor::BitBucket { len } => write!(f, "Bit Bucket {len:#x} bytes"),
            DataDescriptor::Keyed { addr, len, key, .. } => {
                write!(
                    f,
                    "Keyed Data Block {len:#x} bytes at {addr:#x}, key {key:#x}"
                )
            }
            DataDescriptor::Transport { len, .. } => {
                write!(f, "Transport Data Block {len:#x} bytes")
            }
        }
    }
}

/// `Segment of 4 descriptors at 0x8000` or `Last Segment of 2 descriptors at 0x9000`; a length
/// that is not a whole number of descriptors is shown in bytes.
impl fmt::Display for SegmentPointer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            SegmentKind::Segment => "Segment",
            SegmentKind::LastSegment => "Last Segment",
        };
        if self.len % DESCRIPTOR_LEN == 0 {
            write!(
                f,
                "{kind} of {} descriptors at {:#x}",
                self.descriptors(),
                self.addr
            )
        } else {
            write!(f, "{kind} of {:#x} bytes at {:#x}", self.len, self.addr)
        }
    }
}

impl fmt::Display for Descriptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Descriptor::Data(d) => d.fmt(f),
            Descriptor::Pointer(p) => p.fmt(f),
        }
    }
}

impl fmt::Display for Sgl1 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl DataDescriptor {
    /// The number of bytes this descriptor names (for a bit bucket: the bytes it discards).
    pub const fn len(&self) -> u32 {
        match *self {
            DataDescriptor::Block { len, .. }
            | DataDescriptor::CapsuleBlock { len, .. }
            | DataDescriptor::BitBucket { len }
            | DataDescriptor::Keyed { len, .. }
            | DataDescriptor::Transport { len, .. } => len,
        }
    }

    /// True when the descriptor names no bytes.
    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether MSDBD (Maximum SGL Data Block Descriptors) counts this descriptor: every data
    /// block kind does (plain, capsule, keyed, transport); a bit bucket does not.
    pub const fn is_data_block(&self) -> bool {
        !matches!(self, DataDescriptor::BitBucket { .. })
    }

    /// The 16 bytes of this descriptor. A keyed length above 24 bits is cut to 24 bits.
    #[inline]
    pub fn to_raw(&self) -> SglDescriptor {
        match *self {
            DataDescriptor::Block { addr, len } => {
                SglDescriptor::new(addr, len, SglDescriptorType::DataBlock, SglSubtype::Address)
            }
            DataDescriptor::CapsuleBlock { offset, len } => SglDescriptor::new(
                offset,
                len,
                SglDescriptorType::DataBlock,
                SglSubtype::Offset,
            ),
            DataDescriptor::BitBucket { len } => {
                SglDescriptor::new(0, len, SglDescriptorType::BitBucket, SglSubtype::Address)
            }
            DataDescriptor::Keyed {
                addr,
                len,
                key,
                subtype,
            } => {
                let mut raw =
                    SglDescriptor::new(addr, 0, SglDescriptorType::KeyedDataBlock, subtype);
                raw.set_keyed_length(len);
                raw.set_key(key);
                raw
            }
            DataDescriptor::Transport { len, subtype } => {
                SglDescriptor::new(0, len, SglDescriptorType::TransportDataBlock, subtype)
            }
        }
    }
}

impl SegmentPointer {
    /// A pointer to a segment of `descriptors` descriptors at `addr`, or `None` when that many
    /// descriptors do not fit the 32-bit length field.
    pub const fn new(addr: u64, descriptors: u32, kind: SegmentKind) -> Option<Self> {
        match descriptors.checked_mul(DESCRIPTOR_LEN) {
            Some(len) => Some(SegmentPointer { addr, len, kind }),
            None => None,
        }
    }

    /// Whether the segment it points to is the last one.
    pub const fn is_last(&self) -> bool {
        matches!(self.kind, SegmentKind::LastSegment)
    }

    /// How many whole descriptors the segment holds (`len / 16`).
    pub const fn descriptors(&self) -> u32 {
        self.len / DESCRIPTOR_LEN
    }

    /// The 16 bytes of this descriptor.
    #[inline]
    pub fn to_raw(&self) -> SglDescriptor {
        let descriptor_type = match self.kind {
            SegmentKind::Segment => SglDescriptorType::Segment,
            SegmentKind::LastSegment => SglDescriptorType::LastSegment,
        };
        SglDescriptor::new(self.addr, self.len, descriptor_type, SglSubtype::Address)
    }
}

impl Descriptor {
    /// Check a raw descriptor's type and subtype and read it as a typed descriptor.
    ///
    /// Only the type/subtype pair is checked here; whether the controller supports the type,
    /// and every rule about lengths, alignment and position, is the walker's job.
    #[inline(always)]
    pub fn parse(raw: &SglDescriptor) -> Result<Descriptor, DescriptorError> {
        let descriptor_type = raw.descriptor_type();
        let subtype = raw.subtype();
        let (addr, len) = (raw.address(), raw.length());
        let pointer = |kind| Descriptor::Pointer(SegmentPointer { addr, len, kind });
        Ok(match (descriptor_type, subtype) {
            (SglDescriptorType::DataBlock, SglSubtype::Address) => {
                Descriptor::Data(DataDescriptor::Block { addr, len })
            }
            (SglDescriptorType::DataBlock, SglSubtype::Offset) => {
                Descriptor::Data(DataDescriptor::CapsuleBlock { offset: addr, len })
            }
            (SglDescriptorType::BitBucket, SglSubtype::Address) => {
                Descriptor::Data(DataDescriptor::BitBucket { len })
            }
            (SglDescriptorType::Segment, SglSubtype::Address) => pointer(SegmentKind::Segment),
            (SglDescriptorType::LastSegment, SglSubtype::Address) => {
                pointer(SegmentKind::LastSegment)
            }
            (
                SglDescriptorType::KeyedDataBlock,
                SglSubtype::Address | SglSubtype::TransportSpecific(_),
            ) => Descriptor::Data(DataDescriptor::Keyed {
                addr,
                len: raw.keyed_length(),
                key: raw.key(),
                subtype,
            }),
            (SglDescriptorType::TransportDataBlock, SglSubtype::TransportSpecific(_)) => {
                Descriptor::Data(DataDescriptor::Transport { len, subtype })
            }
            (SglDescriptorType::Reserved(nibble), _) => {
                return Err(DescriptorError::ReservedType(nibble))
            }
            (SglDescriptorType::VendorSpecific, _) => return Err(DescriptorError::VendorSpecific),
            _ => {
                return Err(DescriptorError::UnsupportedSubtype {
                    descriptor_type,
                    subtype,
                })
            }
        })
    }

    /// The 16 bytes of this descriptor.
    #[inline]
    pub fn to_raw(&self) -> SglDescriptor {
        match self {
            Descriptor::Data(d) => d.to_raw(),
            Descriptor::Pointer(p) => p.to_raw(),
        }
    }
}

impl Sgl1 {
    /// SGL1 as a data descriptor that describes the whole transfer.
    pub const fn data(descriptor: DataDescriptor) -> Self {
        Sgl1(Descriptor::Data(descriptor))
    }

    /// SGL1 as a pointer to the first segment.
    pub const fn segment(pointer: SegmentPointer) -> Self {
        Sgl1(Descriptor::Pointer(pointer))
    }

    /// The descriptor inside.
    pub const fn descriptor(&self) -> Descriptor {
        self.0
    }

    /// Parse the SGL1 field of a command (see [`Descriptor::parse`]).
    pub fn parse(raw: &SglDescriptor) -> Result<Self, DescriptorError> {
        Descriptor::parse(raw).map(Sgl1)
    }

    /// The 16 bytes to write into the command's DPTR
    /// ([`SubmissionEntry::set_sgl1`](crate::spec::SubmissionEntry::set_sgl1)).
    #[inline]
    pub fn to_raw(&self) -> SglDescriptor {
        self.0.to_raw()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(d: Descriptor) {
        let raw = d.to_raw();
        assert_eq!(Descriptor::parse(&raw), Ok(d), "{raw:?}");
        assert_eq!(
            raw.type_specific() == [0; 3],
            !matches!(d, Descriptor::Data(DataDescriptor::Keyed { .. }))
        );
    }

    #[test]
    fn descriptors_read_in_the_specification_s_words() {
        use std::string::ToString;
        let cases: [(Descriptor, &str); 6] = [
            (
                Descriptor::Data(DataDescriptor::Block {
                    addr: 0x1_0000,
                    len: 0x1000,
                }),
                "Data Block 0x1000 bytes at 0x10000",
            ),
            (
                Descriptor::Data(DataDescriptor::BitBucket { len: 0x200 }),
                "Bit Bucket 0x200 bytes",
            ),
            (
                Descriptor::Data(DataDescriptor::Keyed {
                    addr: 0x1_0000,
                    len: 0x1000,
                    key: 7,
                    subtype: SglSubtype::Address,
                }),
                "Keyed Data Block 0x1000 bytes at 0x10000, key 0x7",
            ),
            (
                Descriptor::Pointer(SegmentPointer {
                    addr: 0x8000,
                    len: 64,
                    kind: SegmentKind::Segment,
                }),
                "Segment of 4 descriptors at 0x8000",
            ),
            (
                Descriptor::Pointer(SegmentPointer {
                    addr: 0x9000,
                    len: 20,
                    kind: SegmentKind::LastSegment,
                }),
                "Last Segment of 0x14 bytes at 0x9000",
            ),
            (
                Descriptor::Data(DataDescriptor::CapsuleBlock {
                    offset: 0x40,
                    len: 0x200,
                }),
                "Data Block 0x200 bytes at capsule offset 0x40",
            ),
        ];
        for (descriptor, text) in cases {
            assert_eq!(descriptor.to_string(), text);
        }
        let sgl1 = Sgl1::data(DataDescriptor::BitBucket { len: 4 });
        assert_eq!(sgl1.to_string(), "Bit Bucket 0x4 bytes");
    }

    #[test]
    fn every_defined_type_round_trips() {
        round_trip(Descriptor::Data(DataDescriptor::Block {
            addr: 0x1234_5678_9abc,
            len: 4096,
        }));
        round_trip(Descriptor::Data(DataDescriptor::CapsuleBlock {
            offset: 64,
            len: 512,
        }));
        round_trip(Descriptor::Data(DataDescriptor::BitBucket { len: 7 }));
        round_trip(Descriptor::Data(DataDescriptor::Keyed {
            addr: 0x1000,
            len: MAX_KEYED_LEN,
            key: 0xdead_beef,
            subtype: SglSubtype::TransportSpecific(0xF),
        }));
        round_trip(Descriptor::Data(DataDescriptor::Transport {
            len: 99,
            subtype: SglSubtype::TransportSpecific(0xA),
        }));
        for kind in [SegmentKind::Segment, SegmentKind::LastSegment] {
            round_trip(Descriptor::Pointer(
                SegmentPointer::new(0x8000, 3, kind).unwrap(),
            ));
        }
    }

    #[test]
    fn bad_pairs_are_type_invalid() {
        let mut raw = SglDescriptor::default();
        raw.set_identifier(0x60);
        assert_eq!(
            Descriptor::parse(&raw),
            Err(DescriptorError::ReservedType(6))
        );
        raw.set_identifier(0xF0);
        assert_eq!(
            Descriptor::parse(&raw),
            Err(DescriptorError::VendorSpecific)
        );
        for id in [0x11, 0x21, 0x31, 0x02, 0x50, 0x41, 0x0A, 0x1A] {
            raw.set_identifier(id);
            let err = Descriptor::parse(&raw).unwrap_err();
            assert!(
                matches!(err, DescriptorError::UnsupportedSubtype { .. }),
                "{id:#x}"
            );
            assert_eq!(
                err.status(),
                Status::SGL_DESCRIPTOR_TYPE_INVALID.with_dnr(true)
            );
        }
    }

    #[test]
    fn segment_pointer_length_is_descriptor_count() {
        let p = SegmentPointer::new(0x1000, 256, SegmentKind::LastSegment).unwrap();
        assert_eq!((p.len, p.descriptors(), p.is_last()), (4096, 256, true));
        assert_eq!(SegmentPointer::new(0, 1 << 28, SegmentKind::Segment), None);
        let raw = p.to_raw();
        assert_eq!(raw.identifier(), 0x30);
        assert_eq!(
            Sgl1::parse(&raw).unwrap().descriptor(),
            Descriptor::Pointer(p)
        );
    }
}
