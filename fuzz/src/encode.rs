//! The inverse of `arbitrary` for the input types: the bytes from which `Arbitrary` decodes a
//! given value. Seeds are written as typed values and encoded here; `seeds::seed` decodes
//! every one again and insists on getting the same value back, so a change in `arbitrary`'s
//! byte format shows up as a failing test, not as a corpus that quietly means something else.
//!
//! The primitives mirror arbitrary 1.x: integers are little-endian and fixed width, a bool is
//! one byte (bit 0), a derived enum picks its variant from a `u32` scaled by the variant count,
//! and `int_in_range` reads just enough big-endian bytes to cover the range.

use arbitrary::{Result, Unstructured};
use nvme_dma::sgl::SglCaps;
use nvme_dma::spec::{CompletionEntry, SglDescriptor, SubmissionEntry};
use nvme_dma::QueueKind;
use nvme_dma::{Direction, Piece};
use nvme_dma::{Extent, PageSize};

/// A value that can be written as the bytes `Arbitrary` reads it from.
pub trait Encode {
    /// Append the bytes that decode to `self`.
    fn encode(&self, out: &mut Vec<u8>);
}

macro_rules! little_endian {
    ($($ty:ty),*) => {
        $(impl Encode for $ty {
            fn encode(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
        })*
    };
}
little_endian!(u8, u16, u32, u64, i32);

impl Encode for bool {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(u8::from(*self));
    }
}

impl<const N: usize> Encode for [u8; N] {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self);
    }
}

/// `Some(v)` as a true byte then `v`; `None` as a false byte (the decoder reads no value).
impl<T: Encode> Encode for Option<T> {
    fn encode(&self, out: &mut Vec<u8>) {
        self.is_some().encode(out);
        if let Some(v) = self {
            v.encode(out);
        }
    }
}

/// `Encode` for a struct whose `Arbitrary` is derived: its fields in declaration order.
#[macro_export]
macro_rules! encode_fields {
    ($ty:ty { $($field:ident),* $(,)? }) => {
        impl $crate::encode::Encode for $ty {
            fn encode(&self, out: &mut Vec<u8>) {
                $($crate::encode::Encode::encode(&self.$field, out);)*
            }
        }
    };
}

/// Decode an option written by the `Option` encoder.
pub fn option<'a, T: arbitrary::Arbitrary<'a>>(u: &mut Unstructured<'a>) -> Result<Option<T>> {
    Ok(if u.arbitrary::<bool>()? {
        Some(u.arbitrary()?)
    } else {
        None
    })
}

/// The `u32` a derived `Arbitrary` enum of `count` variants reads as variant `index`: the
/// smallest `v` with `v * count >> 32 == index`.
pub fn variant(index: u32, count: u32, out: &mut Vec<u8>) {
    let v = (u64::from(index) << 32).div_ceil(u64::from(count));
    u32::try_from(v).expect("index < count").encode(out);
}

/// The bytes `Unstructured::int_in_range(start..=end)` reads as `value`, for ranges of at most
/// 64 bits: one big-endian byte per byte of `end - start`.
pub fn in_range(value: u64, start: u64, end: u64, out: &mut Vec<u8>) {
    assert!(
        (start..=end).contains(&value),
        "{value} outside {start}..={end}"
    );
    let delta = end - start;
    let width = (0..8).take_while(|&i| delta >> (8 * i) > 0).count();
    out.extend_from_slice(&(value - start).to_be_bytes()[8 - width..]);
}

/// A count decoded from one byte, at most `max` (the fuzz inputs' own collections use this
/// rather than `Vec`'s `Arbitrary`, whose length comes from the end of the data).
pub fn count(u: &mut Unstructured<'_>, max: usize) -> Result<usize> {
    Ok(usize::from(u.arbitrary::<u8>()?) % (max + 1))
}

/// Encode a collection for [`count`]: its length as one byte, then each element.
pub fn collection<T: Encode>(items: &[T], max: usize, out: &mut Vec<u8>) {
    assert!(items.len() <= max, "{} items, at most {max}", items.len());
    u8::try_from(items.len()).expect("max < 256").encode(out);
    for item in items {
        item.encode(out);
    }
}

macro_rules! wire_bytes {
    ($($ty:ty),*) => {
        $(impl Encode for $ty {
            fn encode(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_bytes());
            }
        })*
    };
}
wire_bytes!(SubmissionEntry, CompletionEntry, SglDescriptor);

impl Encode for Extent {
    fn encode(&self, out: &mut Vec<u8>) {
        self.addr.encode(out);
        self.len.encode(out);
    }
}

impl Encode for Direction {
    fn encode(&self, out: &mut Vec<u8>) {
        variant(
            match self {
                Direction::Read => 0,
                Direction::Write => 1,
            },
            2,
            out,
        );
    }
}

impl Encode for QueueKind {
    fn encode(&self, out: &mut Vec<u8>) {
        variant(
            match self {
                QueueKind::Admin => 0,
                QueueKind::Io => 1,
            },
            2,
            out,
        );
    }
}

impl Encode for PageSize {
    fn encode(&self, out: &mut Vec<u8>) {
        in_range(
            u64::from(self.shift()),
            u64::from(PageSize::MIN_SHIFT),
            u64::from(PageSize::MAX_SHIFT),
            out,
        );
    }
}

impl Encode for SglCaps {
    fn encode(&self, out: &mut Vec<u8>) {
        self.sgls().bits().encode(out);
        self.msdbd().unwrap_or(0).encode(out);
        self.capsule_data().encode(out);
        in_range(u64::from(self.limits().max_descriptors), 0, 1 << 16, out);
        in_range(u64::from(self.limits().max_segments), 0, 1 << 12, out);
    }
}

impl Encode for Piece {
    fn encode(&self, out: &mut Vec<u8>) {
        match *self {
            Piece::Data(extent) => {
                variant(0, 5, out);
                extent.encode(out);
            }
            Piece::Skip(n) => {
                variant(1, 5, out);
                n.encode(out);
            }
            Piece::Keyed { extent, key } => {
                variant(2, 5, out);
                extent.encode(out);
                key.encode(out);
            }
            Piece::Capsule { offset, len } => {
                variant(3, 5, out);
                offset.encode(out);
                len.encode(out);
            }
            Piece::Transport(n) => {
                variant(4, 5, out);
                n.encode(out);
            }
        }
    }
}
