//! Bit fields inside little-endian dwords and qwords.
//!
//! The NVMe specification names fields as bit ranges ("bits 15:14") inside a register or a
//! command dword. [`Bits`] is that range as a value, so every struct in `spec` states its
//! field positions once, as constants, and reads and writes them through these few functions.
//!
//! This is the only place in `spec` that narrows an integer with `as`: every narrowing below
//! first masks the value to the field's width, and each width is checked against the target
//! type when the constant is built, so nothing can be cut off.

/// A bit range `[shift + width - 1 : shift]` inside a value of up to 64 bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Bits {
    /// The lowest bit of the field.
    pub(crate) shift: u32,
    /// How many bits the field spans (1..=64).
    pub(crate) width: u32,
}

impl Bits {
    /// The field of `width` bits whose lowest bit is `shift`.
    ///
    /// Only used to build constants: a bad range is then a compile error, never a runtime one.
    #[inline]
    pub(crate) const fn new(shift: u32, width: u32) -> Self {
        assert!(width >= 1 && width <= 64, "a bit field spans 1 to 64 bits");
        let end = match shift.checked_add(width) {
            Some(end) => end,
            None => u32::MAX,
        };
        assert!(end <= 64, "a bit field ends at bit 63 or below");
        Self { shift, width }
    }

    /// A single bit.
    #[inline]
    pub(crate) const fn bit(shift: u32) -> Self {
        Self::new(shift, 1)
    }

    /// The field's value mask, not yet shifted into place (`width` one-bits).
    #[inline]
    pub(crate) const fn mask(self) -> u64 {
        match 1u64.checked_shl(self.width) {
            Some(v) => v.wrapping_sub(1),
            None => u64::MAX,
        }
    }

    /// The field's mask shifted into place.
    #[inline]
    pub(crate) const fn mask_in_place(self) -> u64 {
        self.mask().wrapping_shl(self.shift)
    }

    /// Reads the field out of `raw`.
    #[inline]
    pub(crate) const fn get(self, raw: u64) -> u64 {
        raw.wrapping_shr(self.shift) & self.mask()
    }

    /// Reads a 1-bit field as a flag.
    #[inline]
    pub(crate) const fn get_bool(self, raw: u64) -> bool {
        self.get(raw) != 0
    }

    /// Reads a field of at most 8 bits.
    #[inline]
    pub(crate) const fn get_u8(self, raw: u64) -> u8 {
        // Masked to 8 bits: the cast keeps every bit.
        #[allow(clippy::cast_possible_truncation)]
        let v = (self.get(raw) & 0xFF) as u8;
        v
    }

    /// Reads a field of at most 16 bits.
    #[inline]
    pub(crate) const fn get_u16(self, raw: u64) -> u16 {
        // Masked to 16 bits: the cast keeps every bit.
        #[allow(clippy::cast_possible_truncation)]
        let v = (self.get(raw) & 0xFFFF) as u16;
        v
    }

    /// Reads a field of at most 32 bits.
    #[inline]
    pub(crate) const fn get_u32(self, raw: u64) -> u32 {
        // Masked to 32 bits: the cast keeps every bit.
        #[allow(clippy::cast_possible_truncation)]
        let v = (self.get(raw) & 0xFFFF_FFFF) as u32;
        v
    }

    /// Returns `raw` with the field replaced by `value`; bits of `value` beyond the field's
    /// width are dropped, bits of `raw` outside the field are kept.
    #[inline]
    pub(crate) const fn set(self, raw: u64, value: u64) -> u64 {
        (raw & !self.mask_in_place()) | (value & self.mask()).wrapping_shl(self.shift)
    }

    /// [`Bits::set`] for a 1-bit flag.
    #[inline]
    pub(crate) const fn set_bool(self, raw: u64, value: bool) -> u64 {
        self.set(raw, value as u64)
    }

    /// [`Bits::set`] inside a 32-bit value (the field must lie in bits 31:0).
    #[inline]
    pub(crate) const fn set32(self, raw: u32, value: u64) -> u32 {
        // Only bits 31:0 of a 32-bit input can be set, and the field lies in them, so the
        // result fits in 32 bits; the mask makes that visible.
        #[allow(clippy::cast_possible_truncation)]
        let v = (self.set(raw as u64, value) & 0xFFFF_FFFF) as u32;
        v
    }

    /// [`Bits::set`] inside an 8-bit value (the field must lie in bits 7:0).
    #[inline]
    pub(crate) const fn set8(self, raw: u8, value: u64) -> u8 {
        // As in `set32`: the result is masked to the 8 bits the input had.
        #[allow(clippy::cast_possible_truncation)]
        let v = (self.set(raw as u64, value) & 0xFF) as u8;
        v
    }

    /// [`Bits::set`] inside a 16-bit value (the field must lie in bits 15:0).
    #[inline]
    pub(crate) const fn set16(self, raw: u16, value: u64) -> u16 {
        // As in `set32`: the result is masked to the 16 bits the input had.
        #[allow(clippy::cast_possible_truncation)]
        let v = (self.set(raw as u64, value) & 0xFFFF) as u16;
        v
    }
}

#[cfg(test)]
mod tests {
    use super::Bits;

    #[test]
    fn get_and_set_a_middle_field() {
        let f = Bits::new(4, 3);
        assert_eq!(f.mask(), 0b111);
        assert_eq!(f.mask_in_place(), 0b111_0000);
        assert_eq!(f.get(0b1010_0101), 0b010);
        assert_eq!(f.set(0xFFFF, 0), 0xFF8F);
        assert_eq!(f.set(0, 0xFF), 0b111_0000, "extra value bits are dropped");
    }

    #[test]
    fn full_width_field() {
        let f = Bits::new(0, 64);
        assert_eq!(f.mask(), u64::MAX);
        assert_eq!(f.get(0x0123_4567_89AB_CDEF), 0x0123_4567_89AB_CDEF);
        assert_eq!(f.set(0, u64::MAX), u64::MAX);
    }

    #[test]
    fn top_bit() {
        let f = Bits::bit(63);
        assert!(f.get_bool(1 << 63));
        assert_eq!(f.set_bool(0, true), 1 << 63);
    }

    #[test]
    fn narrow_setters_keep_other_bits() {
        let f = Bits::new(8, 8);
        assert_eq!(f.set32(0xAABB_CCDD, 0x11), 0xAABB_11DD);
        assert_eq!(f.set16(0xCCDD, 0x1122), 0x22DD);
        assert_eq!(f.get_u8(0xAABB_CCDD), 0xCC);
    }
}
