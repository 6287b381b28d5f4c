//! Physical extents and the memory page size: the vocabulary both PRPs and SGLs are built from.
//!
//! An [`Extent`] is a run of bytes that is contiguous in the address space the controller DMAs
//! into (host physical memory, or IO virtual addresses behind an IOMMU). A driver's scatter list
//! is a slice of extents; a walker's output is a sequence of extents.
//!
//! [`PageSize`] is the controller's *memory page size* (CC.MPS), not the CPU's: PRP alignment
//! rules are stated in it, and it may be anything from 4 KiB to 128 MiB.

use core::borrow::Borrow;
use core::fmt;

use crate::Piece;

/// A run of `len` bytes starting at bus address `addr`.
///
/// An extent may end exactly at the top of the 64-bit address space (`addr + len == 2^64`), but
/// not beyond it; [`Extent::last_byte`] tells which. A zero-length extent describes no bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Extent {
    /// Bus address of the first byte.
    pub addr: u64,
    /// Number of bytes.
    pub len: u64,
}

impl Extent {
    /// An extent of `len` bytes at `addr`.
    pub const fn new(addr: u64, len: u64) -> Self {
        Extent { addr, len }
    }

    /// True when the extent describes no bytes.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Address of the last byte, or `None` when the extent is empty or runs past `2^64 - 1`.
    pub const fn last_byte(&self) -> Option<u64> {
        match self.len.checked_sub(1) {
            Some(extra) => self.addr.checked_add(extra),
            None => None,
        }
    }

    /// One past the last byte, or `None` when that is not representable (the extent ends at or
    /// beyond `2^64`).
    pub const fn end(&self) -> Option<u64> {
        self.addr.checked_add(self.len)
    }

    /// True when every byte lies below `2^64` (an empty extent always fits).
    pub const fn fits_address_space(&self) -> bool {
        self.len == 0 || self.last_byte().is_some()
    }
}

impl fmt::Display for Extent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#x}+{:#x}", self.addr, self.len)
    }
}

/// A scatter list as the host side takes it: any cloneable iterable whose items are
/// [`Extent`]s, by value or by reference, in transfer order. `&[Extent]`, `&Vec<Extent>` and
/// `&[Extent; N]` are extents, and so is an adapter over a driver's own scatter-list type,
/// such as `bvecs.iter().map(|v| Extent::new(v.dma_addr, v.len))`.
///
/// The builders walk the list more than once (a check, then a write), each time from a
/// fresh clone, so cloning should be cheap: a slice, or an adapter over one, clones in a
/// copy. Nothing is collected or allocated. Every type that meets the bound is `Extents`
/// (there is nothing to implement).
// A trait rather than the bound written out: `E: Extents` is one word in every signature of
// `dptr` and of the PRP splitter, reads as what it is in the docs, and keeps the bound in one
// place should it change. The blanket impl below makes it an alias, never a thing to
// implement. The items are what both builders take as they are (`Borrow<Extent>` for PRPs,
// `Into<Piece>` for SGLs), which `Extent` and `&Extent` are: then a slice reaches the SGL
// builder unchanged, where an adapter turning any `Borrow<Extent>` into an `Extent` cost a
// 4-extent SGL command about 3% more instructions.
pub trait Extents: IntoIterator<Item: Borrow<Extent> + Into<Piece>> + Clone {}

impl<T> Extents for T
where
    T: IntoIterator + Clone,
    T::Item: Borrow<Extent> + Into<Piece>,
{
}

/// The controller's memory page size: a power of two from 4 KiB (`CC.MPS = 0`) to 128 MiB
/// (`CC.MPS = 15`), equal to `2^(12 + CC.MPS)`.
///
/// Every PRP rule is stated in this size: an address's *offset* is its low `log2(size)` bits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PageSize {
    /// A whole word, though it fits a byte: a byte would leave seven of padding in the plans,
    /// builders and walkers that hold a page size, and a copy of a struct with padding, right
    /// after it was written, waits for the writes to land (the padding is copied in pieces
    /// that straddle them).
    shift: u64,
}

impl PageSize {
    /// log2 of the smallest memory page size (4 KiB).
    pub const MIN_SHIFT: u8 = 12;
    /// log2 of the largest memory page size (128 MiB, CC.MPS = 15).
    pub const MAX_SHIFT: u8 = 27;
    /// 4 KiB, the page size almost every controller runs with.
    pub const SIZE_4K: PageSize = PageSize { shift: 12 };
    /// 64 KiB, the CPU page size of some arm64 and ppc64 hosts.
    pub const SIZE_64K: PageSize = PageSize { shift: 16 };

    /// The page size of `bytes`, or `None` unless it is a power of two in 4 KiB ..= 128 MiB.
    pub const fn new(bytes: u64) -> Option<Self> {
        if !bytes.is_power_of_two() {
            return None;
        }
        // trailing_zeros of a u64 is at most 64, so it fits a u8.
        #[allow(clippy::cast_possible_truncation)]
        let shift = bytes.trailing_zeros() as u8;
        Self::from_shift(shift)
    }

    /// The page size `2^shift`, or `None` unless `12 <= shift <= 27`.
    pub const fn from_shift(shift: u8) -> Option<Self> {
        if shift < Self::MIN_SHIFT || shift > Self::MAX_SHIFT {
            None
        } else {
            Some(PageSize {
                shift: shift as u64,
            })
        }
    }

    /// The page size selected by a CC.MPS value (`2^(12 + mps)`), or `None` when `mps > 15`.
    pub const fn from_mps(mps: u8) -> Option<Self> {
        match Self::MIN_SHIFT.checked_add(mps) {
            Some(shift) => Self::from_shift(shift),
            None => None,
        }
    }

    /// The size in bytes.
    pub const fn bytes(self) -> u64 {
        1u64 << self.shift
    }

    /// log2 of the size in bytes.
    pub const fn shift(self) -> u8 {
        // At most MAX_SHIFT.
        #[allow(clippy::cast_possible_truncation)]
        let shift = self.shift as u8;
        shift
    }

    /// The CC.MPS value that selects this size.
    pub const fn mps(self) -> u8 {
        self.shift().wrapping_sub(Self::MIN_SHIFT)
    }

    /// Mask of the offset bits (`size - 1`).
    pub const fn offset_mask(self) -> u64 {
        self.bytes().wrapping_sub(1)
    }

    /// The offset of `addr` within its page.
    pub const fn offset_of(self, addr: u64) -> u64 {
        addr & self.offset_mask()
    }

    /// The address of the page that holds `addr`.
    pub const fn page_base(self, addr: u64) -> u64 {
        addr & !self.offset_mask()
    }

    /// True when `addr` is the first byte of a page.
    pub const fn is_aligned(self, addr: u64) -> bool {
        self.offset_of(addr) == 0
    }

    /// How many 8-byte PRP entries one page holds.
    pub const fn entries_per_page(self) -> u64 {
        self.bytes() >> 3
    }
}

impl fmt::Debug for PageSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PageSize({self})")
    }
}

impl fmt::Display for PageSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bytes = self.bytes();
        if self.shift >= 20 {
            write!(f, "{} MiB", bytes >> 20)
        } else {
            write!(f, "{} KiB", bytes >> 10)
        }
    }
}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for PageSize {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        let shift = u.int_in_range(Self::MIN_SHIFT..=Self::MAX_SHIFT)?;
        Ok(PageSize {
            shift: u64::from(shift),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    #[test]
    fn page_size_accepts_only_spec_sizes() {
        assert_eq!(PageSize::new(4096), Some(PageSize::SIZE_4K));
        assert_eq!(PageSize::new(128 << 20).map(PageSize::mps), Some(15));
        assert_eq!(PageSize::new(2048), None);
        assert_eq!(PageSize::new(256 << 20), None);
        assert_eq!(PageSize::new(12288), None);
        assert_eq!(PageSize::new(0), None);
        assert_eq!(PageSize::from_mps(4).map(PageSize::bytes), Some(65536));
        assert_eq!(PageSize::from_mps(16), None);
        assert_eq!(PageSize::from_mps(255), None);
    }

    #[test]
    fn page_arithmetic() {
        let ps = PageSize::SIZE_4K;
        assert_eq!(ps.offset_of(0x1234), 0x234);
        assert_eq!(ps.page_base(0x1234), 0x1000);
        assert!(ps.is_aligned(0x3000));
        assert_eq!(ps.entries_per_page(), 512);
        assert_eq!(PageSize::SIZE_64K.to_string(), "64 KiB");
        assert_eq!(
            PageSize::from_mps(15).map(|p| p.to_string()).as_deref(),
            Some("128 MiB")
        );
    }

    #[test]
    fn extent_ends_at_top_of_address_space() {
        let top = Extent::new(u64::MAX - 0xfff, 0x1000);
        assert_eq!(top.last_byte(), Some(u64::MAX));
        assert_eq!(top.end(), None);
        assert!(top.fits_address_space());
        let over = Extent::new(u64::MAX - 0xfff, 0x1001);
        assert!(!over.fits_address_space());
        assert!(Extent::new(u64::MAX, 0).fits_address_space());
        assert_eq!(Extent::new(0x1000, 0x10).to_string(), "0x1000+0x10");
    }
}
