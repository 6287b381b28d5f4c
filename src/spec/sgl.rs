//! The SGL descriptor as it sits in memory (NVMe Base Specification, "Scatter Gather List
//! (SGL)": "SGL Descriptor Format", "SGL Descriptor Type", "SGL Descriptor Sub Type").
//!
//! Every SGL descriptor is 16 bytes, little-endian:
//!
//! ```text
//!  bytes   every type                            Keyed SGL Data Block (type 4h)
//!  07:00   Address                               Address
//!  10:08   Length, bits 23:0                     Length (24 bits)
//!  11      Length, bits 31:24                    Key, bits 7:0
//!  14:12   type specific (reserved)              Key, bits 31:8
//!  15      SGL Identifier: type 7:4 · sub 3:0    SGL Identifier
//! ```
//!
//! This module is only the wire format: every 16-byte pattern decodes, unknown types and
//! subtypes keep their bits, and nothing is validated. The typed, checked descriptors are
//! built on top of it elsewhere in the crate.

use core::fmt;

use zerocopy::little_endian::{U32, U64};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use super::bits::Bits;

/// Bit positions inside the descriptor's fields.
mod field {
    use super::Bits;

    /// Descriptor Type: bits 7:4 of the identifier byte (byte 15).
    pub(super) const TYPE: Bits = Bits::new(4, 4);
    /// Descriptor Sub Type: bits 3:0 of the identifier byte (byte 15).
    pub(super) const SUBTYPE: Bits = Bits::new(0, 4);
    /// Keyed Data Block length: bits 23:0 of the length dword (bytes 10:8).
    pub(super) const KEYED_LENGTH: Bits = Bits::new(0, 24);
    /// Keyed Data Block key, bits 7:0: bits 31:24 of the length dword (byte 11). Key bits 31:8
    /// are the three type-specific bytes 14:12.
    pub(super) const KEY_LOW: Bits = Bits::new(24, 8);
}

/// SGL Descriptor Type, bits 7:4 of byte 15.
///
/// An open enum: every nibble decodes, and [`SglDescriptorType::to_nibble`] gives it back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SglDescriptorType {
    /// 0h, SGL Data Block: `length` bytes of data at `address`. Length 0 is valid and moves
    /// nothing; an all-zero descriptor is the null descriptor.
    DataBlock,
    /// 1h, SGL Bit Bucket: `length` bytes to discard on a read; no address.
    BitBucket,
    /// 2h, SGL Segment: `address`/`length` locate the next segment of descriptors.
    Segment,
    /// 3h, SGL Last Segment: locates the final segment, which holds no Segment or Last
    /// Segment descriptor.
    LastSegment,
    /// 4h, Keyed SGL Data Block (fabrics): 64-bit address, 24-bit length, 32-bit key.
    KeyedDataBlock,
    /// 5h, Transport SGL Data Block (fabrics): data the transport carries; length only.
    TransportDataBlock,
    /// 6h–Eh, reserved: a controller answers SGL Descriptor Type Invalid. Holds the nibble.
    Reserved(u8),
    /// Fh, Vendor Specific.
    VendorSpecific,
}

impl SglDescriptorType {
    /// Decodes a descriptor type nibble; bits 7:4 of `nibble` are ignored.
    #[must_use]
    #[inline]
    pub const fn from_nibble(nibble: u8) -> Self {
        match nibble & 0xF {
            0x0 => Self::DataBlock,
            0x1 => Self::BitBucket,
            0x2 => Self::Segment,
            0x3 => Self::LastSegment,
            0x4 => Self::KeyedDataBlock,
            0x5 => Self::TransportDataBlock,
            0xF => Self::VendorSpecific,
            other => Self::Reserved(other),
        }
    }

    /// The 4-bit type code (a `Reserved` value is masked to 4 bits).
    #[must_use]
    #[inline]
    pub const fn to_nibble(self) -> u8 {
        match self {
            Self::DataBlock => 0x0,
            Self::BitBucket => 0x1,
            Self::Segment => 0x2,
            Self::LastSegment => 0x3,
            Self::KeyedDataBlock => 0x4,
            Self::TransportDataBlock => 0x5,
            Self::VendorSpecific => 0xF,
            Self::Reserved(v) => v & 0xF,
        }
    }
}

/// SGL Descriptor Sub Type, bits 3:0 of byte 15: how to read the address field.
///
/// An open enum: every nibble decodes, and [`SglSubtype::to_nibble`] gives it back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SglSubtype {
    /// 0h, Address: the address field is a memory address (types 0h, 2h, 3h, 4h; a bit
    /// bucket must use this value).
    Address,
    /// 1h, Offset: the address field is an offset (types 0h, 2h, 3h; reserved over PCIe).
    Offset,
    /// Ah–Fh, NVMe transport specific. Holds the nibble.
    TransportSpecific(u8),
    /// 2h–9h, reserved. Holds the nibble.
    Reserved(u8),
}

impl SglSubtype {
    /// Decodes a subtype nibble; bits 7:4 of `nibble` are ignored.
    #[must_use]
    #[inline]
    pub const fn from_nibble(nibble: u8) -> Self {
        match nibble & 0xF {
            0x0 => Self::Address,
            0x1 => Self::Offset,
            v @ 0xA..=0xF => Self::TransportSpecific(v),
            v => Self::Reserved(v),
        }
    }

    /// The 4-bit subtype code (a held value is masked to 4 bits).
    #[must_use]
    #[inline]
    pub const fn to_nibble(self) -> u8 {
        match self {
            Self::Address => 0x0,
            Self::Offset => 0x1,
            Self::TransportSpecific(v) | Self::Reserved(v) => v & 0xF,
        }
    }
}

/// One 16-byte SGL descriptor exactly as it sits in memory: in SGL1 of a submission entry,
/// in an SGL segment, or behind MPTR.
///
/// No accessor panics and no bit is out of reach: the getters and setters together cover all
/// 128 bits. Nothing here checks that the descriptor makes sense.
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
pub struct SglDescriptor {
    /// Bytes 7:0, Address (or offset, per the subtype).
    address: U64,
    /// Bytes 11:8, Length in bytes (for a Keyed Data Block: 24-bit length plus key bits 7:0).
    length: U32,
    /// Bytes 14:12, type specific (reserved for most types; key bits 31:8 in a Keyed Data
    /// Block).
    type_specific: [u8; 3],
    /// Byte 15, SGL Identifier: descriptor type in bits 7:4, subtype in bits 3:0.
    identifier: u8,
}

const _: () = assert!(size_of::<SglDescriptor>() == 16);

impl SglDescriptor {
    /// Size of a descriptor in bytes.
    pub const SIZE: usize = 16;

    /// A descriptor with the given address, length, type and subtype; bytes 14:12 zero.
    #[must_use]
    #[inline]
    pub const fn new(
        address: u64,
        length: u32,
        descriptor_type: SglDescriptorType,
        subtype: SglSubtype,
    ) -> Self {
        Self {
            address: U64::new(address),
            length: U32::new(length),
            type_specific: [0; 3],
            identifier: Self::identifier_of(descriptor_type, subtype),
        }
    }

    /// The identifier byte (byte 15) for a type and subtype.
    #[inline]
    const fn identifier_of(descriptor_type: SglDescriptorType, subtype: SglSubtype) -> u8 {
        let raw = field::TYPE.set8(0, descriptor_type.to_nibble() as u64);
        field::SUBTYPE.set8(raw, subtype.to_nibble() as u64)
    }

    /// Decodes 16 bytes (any bytes decode).
    #[must_use]
    #[inline]
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        zerocopy::transmute!(bytes)
    }

    /// The 16 bytes of this descriptor.
    #[must_use]
    #[inline]
    pub fn to_bytes(self) -> [u8; 16] {
        zerocopy::transmute!(self)
    }

    /// Bytes 7:0, Address: a memory address, or an offset when the subtype is
    /// [`SglSubtype::Offset`]. Unused by Bit Bucket and Transport Data Block descriptors.
    #[must_use]
    #[inline]
    pub const fn address(&self) -> u64 {
        self.address.get()
    }

    /// Sets bytes 7:0, Address.
    #[inline]
    pub fn set_address(&mut self, address: u64) {
        self.address = U64::new(address);
    }

    /// Bytes 11:8, Length in bytes (all 32 bits; see [`SglDescriptor::keyed_length`] for
    /// type 4h).
    #[must_use]
    #[inline]
    pub const fn length(&self) -> u32 {
        self.length.get()
    }

    /// Sets bytes 11:8, Length.
    #[inline]
    pub fn set_length(&mut self, length: u32) {
        self.length = U32::new(length);
    }

    /// Bytes 14:12, the type-specific bytes (reserved except in a Keyed Data Block).
    #[must_use]
    #[inline]
    pub const fn type_specific(&self) -> [u8; 3] {
        self.type_specific
    }

    /// Sets bytes 14:12.
    #[inline]
    pub fn set_type_specific(&mut self, bytes: [u8; 3]) {
        self.type_specific = bytes;
    }

    /// Byte 15, the SGL Identifier (type in bits 7:4, subtype in bits 3:0).
    #[must_use]
    #[inline]
    pub const fn identifier(&self) -> u8 {
        self.identifier
    }

    /// Sets byte 15, the SGL Identifier.
    #[inline]
    pub fn set_identifier(&mut self, identifier: u8) {
        self.identifier = identifier;
    }

    /// The SGL Descriptor Type, bits 7:4 of byte 15.
    #[must_use]
    #[inline]
    pub const fn descriptor_type(&self) -> SglDescriptorType {
        SglDescriptorType::from_nibble(field::TYPE.get_u8(self.identifier as u64))
    }

    /// Sets the SGL Descriptor Type, keeping the subtype.
    #[inline]
    pub fn set_descriptor_type(&mut self, descriptor_type: SglDescriptorType) {
        self.identifier = field::TYPE.set8(self.identifier, u64::from(descriptor_type.to_nibble()));
    }

    /// The SGL Descriptor Sub Type, bits 3:0 of byte 15.
    #[must_use]
    #[inline]
    pub const fn subtype(&self) -> SglSubtype {
        SglSubtype::from_nibble(field::SUBTYPE.get_u8(self.identifier as u64))
    }

    /// Sets the SGL Descriptor Sub Type, keeping the type.
    #[inline]
    pub fn set_subtype(&mut self, subtype: SglSubtype) {
        self.identifier = field::SUBTYPE.set8(self.identifier, u64::from(subtype.to_nibble()));
    }

    /// Keyed SGL Data Block view: the 24-bit Length in bytes 10:8.
    #[must_use]
    #[inline]
    pub const fn keyed_length(&self) -> u32 {
        field::KEYED_LENGTH.get_u32(self.length.get() as u64)
    }

    /// Keyed SGL Data Block view: sets the 24-bit Length in bytes 10:8 (bits above 23 of
    /// `length` are dropped); byte 11, part of the key, is kept.
    #[inline]
    pub fn set_keyed_length(&mut self, length: u32) {
        let raw = field::KEYED_LENGTH.set32(self.length.get(), u64::from(length));
        self.length = U32::new(raw);
    }

    /// Keyed SGL Data Block view: the 32-bit Key in bytes 14:11.
    #[must_use]
    #[inline]
    pub const fn key(&self) -> u32 {
        let low = field::KEY_LOW.get_u8(self.length.get() as u64);
        let [b1, b2, b3] = self.type_specific;
        u32::from_le_bytes([low, b1, b2, b3])
    }

    /// Keyed SGL Data Block view: sets the 32-bit Key in bytes 14:11; the 24-bit length in
    /// bytes 10:8 is kept.
    #[inline]
    pub fn set_key(&mut self, key: u32) {
        let [low, b1, b2, b3] = key.to_le_bytes();
        let raw = field::KEY_LOW.set32(self.length.get(), u64::from(low));
        self.length = U32::new(raw);
        self.type_specific = [b1, b2, b3];
    }

    /// Builder form of [`SglDescriptor::set_type_specific`].
    #[must_use]
    #[inline]
    pub fn with_type_specific(mut self, bytes: [u8; 3]) -> Self {
        self.set_type_specific(bytes);
        self
    }

    /// Builder form of [`SglDescriptor::set_key`].
    #[must_use]
    #[inline]
    pub fn with_key(mut self, key: u32) -> Self {
        self.set_key(key);
        self
    }
}

/// Any 16 bytes, as the wire holds them.
#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for SglDescriptor {
    #[inline]
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(Self::from_bytes(u.arbitrary()?))
    }
}

impl fmt::Debug for SglDescriptor {
    #[inline]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SglDescriptor")
            .field("type", &self.descriptor_type())
            .field("subtype", &self.subtype())
            .field("address", &format_args!("{:#x}", self.address()))
            .field("length", &self.length())
            .field("type_specific", &self.type_specific)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::{SglDescriptor, SglDescriptorType, SglSubtype};
    use zerocopy::FromBytes;

    /// A Data Block descriptor: address 0x0000_0001_2345_6780, 4096 bytes, type 0h sub 0h.
    const DATA_BLOCK: [u8; 16] = [
        0x80, 0x67, 0x45, 0x23, 0x01, 0x00, 0x00, 0x00, // address
        0x00, 0x10, 0x00, 0x00, // length 4096
        0x00, 0x00, 0x00, // reserved
        0x00, // type 0h, subtype 0h
    ];

    /// A Last Segment descriptor: address 0xABCD_E000, 3 descriptors (48 bytes).
    const LAST_SEGMENT: [u8; 16] = [
        0x00, 0xE0, 0xCD, 0xAB, 0x00, 0x00, 0x00, 0x00, // address
        0x30, 0x00, 0x00, 0x00, // length 48
        0x00, 0x00, 0x00, // reserved
        0x30, // type 3h, subtype 0h
    ];

    /// A Keyed Data Block: address 0x1000, length 0x020000, key 0xDEADBEEF, subtype Ah.
    const KEYED: [u8; 16] = [
        0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // address
        0x00, 0x00, 0x02, // length (24 bits)
        0xEF, 0xBE, 0xAD, 0xDE, // key
        0x4A, // type 4h, subtype Ah
    ];

    #[test]
    fn test_parse_data_block() {
        let d = SglDescriptor::from_bytes(DATA_BLOCK);
        assert_eq!(d.address(), 0x1_2345_6780);
        assert_eq!(d.length(), 4096);
        assert_eq!(d.descriptor_type(), SglDescriptorType::DataBlock);
        assert_eq!(d.subtype(), SglSubtype::Address);
        assert_eq!(d.type_specific(), [0; 3]);
    }

    #[test]
    fn test_parse_last_segment() {
        let d = SglDescriptor::read_from_bytes(&LAST_SEGMENT[..]).unwrap();
        assert_eq!(d.address(), 0xABCD_E000);
        assert_eq!(d.length(), 48);
        assert_eq!(d.descriptor_type(), SglDescriptorType::LastSegment);
        assert_eq!(d.identifier(), 0x30);
    }

    #[test]
    fn test_parse_keyed() {
        let d = SglDescriptor::from_bytes(KEYED);
        assert_eq!(d.descriptor_type(), SglDescriptorType::KeyedDataBlock);
        assert_eq!(d.subtype(), SglSubtype::TransportSpecific(0xA));
        assert_eq!(d.keyed_length(), 0x02_0000);
        assert_eq!(d.key(), 0xDEAD_BEEF);
    }

    #[test]
    fn test_emit_into_poisoned_buffer() {
        let mut buf = [0xA5u8; 16];
        let d = SglDescriptor::new(
            0x1_2345_6780,
            4096,
            SglDescriptorType::DataBlock,
            SglSubtype::Address,
        );
        buf.copy_from_slice(zerocopy::IntoBytes::as_bytes(&d));
        assert_eq!(buf, DATA_BLOCK);

        let mut d = SglDescriptor::from_bytes([0xA5; 16]);
        d.set_address(0xABCD_E000);
        d.set_length(48);
        d.set_type_specific([0; 3]);
        d.set_descriptor_type(SglDescriptorType::LastSegment);
        d.set_subtype(SglSubtype::Address);
        assert_eq!(d.to_bytes(), LAST_SEGMENT);
    }

    #[test]
    fn test_emit_keyed() {
        let mut d = SglDescriptor::from_bytes([0xA5; 16]);
        d.set_address(0x1000);
        d.set_keyed_length(0x02_0000);
        d.set_key(0xDEAD_BEEF);
        d.set_identifier(0x4A);
        assert_eq!(d.to_bytes(), KEYED);
        // The two views share byte 11: setting one keeps the other.
        d.set_keyed_length(0xFFFF_FFFF);
        assert_eq!(d.key(), 0xDEAD_BEEF);
        assert_eq!(d.keyed_length(), 0xFF_FFFF);
    }

    #[test]
    fn type_nibbles_round_trip() {
        for n in 0..16u8 {
            assert_eq!(SglDescriptorType::from_nibble(n).to_nibble(), n);
            assert_eq!(SglSubtype::from_nibble(n).to_nibble(), n);
        }
        assert_eq!(
            SglDescriptorType::from_nibble(6),
            SglDescriptorType::Reserved(6)
        );
        assert_eq!(
            SglDescriptorType::from_nibble(0xE),
            SglDescriptorType::Reserved(0xE)
        );
        assert_eq!(
            SglDescriptorType::from_nibble(0xF),
            SglDescriptorType::VendorSpecific
        );
        assert_eq!(SglSubtype::from_nibble(9), SglSubtype::Reserved(9));
        assert_eq!(
            SglSubtype::from_nibble(0xA),
            SglSubtype::TransportSpecific(0xA)
        );
    }

    #[test]
    fn type_and_subtype_setters_are_independent() {
        let mut d = SglDescriptor::default();
        d.set_subtype(SglSubtype::Offset);
        d.set_descriptor_type(SglDescriptorType::Segment);
        assert_eq!(d.identifier(), 0x21);
        d.set_descriptor_type(SglDescriptorType::VendorSpecific);
        assert_eq!(d.identifier(), 0xF1);
        d.set_subtype(SglSubtype::TransportSpecific(0xC));
        assert_eq!(d.identifier(), 0xFC);
    }

    #[test]
    fn default_is_the_null_data_block() {
        let d = SglDescriptor::default();
        assert_eq!(d.to_bytes(), [0; 16]);
        assert_eq!(d.descriptor_type(), SglDescriptorType::DataBlock);
    }
}
