//! Counts that a command carries zero-based: the field holds the count minus one, so a field
//! of n bits carries 1 to 2^n and can never say 0.
//!
//! ```text
//! QueueSize      QSIZE, Create I/O Completion / Submission Queue CDW10 31:16   1 ..= 65,536 entries
//! QueueCount     NSQR / NCQR, Number of Queues CDW11; NSQA / NCQA, DW0         1 ..= 65,536 queues
//! DsmRangeCount  NR, Dataset Management CDW10 7:0                              1 ..= 256 ranges
//! ```
//!
//! Each type holds the field as the wire has it, so every field value decodes
//! (`from_zero_based`) and encodes back unchanged (`zero_based`); `new` takes the count as
//! people say it and refuses one the field cannot carry. (NLB, the other zero-based count
//! the crate uses, is part of [`BlockRange`](super::BlockRange).)

use core::fmt;

/// A count that a zero-based field cannot carry: zero, or more than the field's maximum.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CountOutOfRange {
    /// The field, as the specification names it (`QSIZE`, `NSQR`, `NR`, ...).
    pub field: &'static str,
    /// The count that was asked for.
    pub count: u32,
    /// The largest count the field carries.
    pub max: u32,
}

impl fmt::Display for CountOutOfRange {
    #[inline]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} is not a count {} can carry: it holds the count minus one, so 1 to {}",
            self.count, self.field, self.max
        )
    }
}

#[cfg(feature = "std")]
impl std::error::Error for CountOutOfRange {}

/// Defines a count type over a zero-based wire field of type `$wire`.
macro_rules! zero_based_count {
    ($(#[$doc:meta])* $name:ident($wire:ty), $field:literal, $unit:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name($wire);

        impl $name {
            /// The largest count the field carries.
            pub const MAX: u32 = <$wire>::MAX as u32 + 1;

            #[doc = concat!("`count` ", $unit, ", 1 ..= [`Self::MAX`].")]
            ///
            /// # Errors
            /// [`CountOutOfRange`] for 0 or a count above [`Self::MAX`].
            #[inline]
            pub const fn new(count: u32) -> Result<Self, CountOutOfRange> {
                if count == 0 || count > Self::MAX {
                    return Err(CountOutOfRange {
                        field: $field,
                        count,
                        max: Self::MAX,
                    });
                }
                // 1 ..= MAX, so count - 1 fits the field.
                #[allow(clippy::cast_possible_truncation)]
                Ok($name(count.wrapping_sub(1) as $wire))
            }

            #[doc = concat!("The count a ", $field, " field holds (any value: one more than it).")]
            #[inline]
            pub const fn from_zero_based(field: $wire) -> Self {
                $name(field)
            }

            #[doc = concat!("The ", $field, " field: the count minus one.")]
            #[inline]
            pub const fn zero_based(self) -> $wire {
                self.0
            }

            #[doc = concat!("How many ", $unit, ", 1 ..= [`Self::MAX`].")]
            #[inline]
            pub const fn get(self) -> u32 {
                // The field is at most 16 bits: one more fits.
                (self.0 as u32).wrapping_add(1)
            }
        }

        impl fmt::Display for $name {
            #[inline]
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{} {}", self.get(), $unit)
            }
        }
    };
}

zero_based_count! {
    /// How many entries a queue has: QSIZE of Create I/O Completion Queue and Create I/O
    /// Submission Queue, 1 to 65,536. (A controller refuses fewer than 2, or more than
    /// CAP.MQES + 1, with Invalid Queue Size; the field can still say it.)
    QueueSize(u16), "QSIZE", "entries"
}

zero_based_count! {
    /// How many I/O queues of one kind: NSQR or NCQR that a host asks for with Set Features
    /// Number of Queues, NSQA or NCQA that the controller grants, 1 to 65,536. (A host must
    /// not ask for 65,536: the controller answers Invalid Field in Command.)
    QueueCount(u16), "NSQR / NCQR", "queues"
}

zero_based_count! {
    /// How many ranges a Dataset Management command's data holds: NR, 1 to 256.
    DsmRangeCount(u8), "NR", "ranges"
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    #[test]
    fn counts_are_one_more_than_their_field() {
        assert_eq!(QueueSize::new(1).map(QueueSize::zero_based), Ok(0));
        assert_eq!(
            QueueSize::new(65_536).map(QueueSize::zero_based),
            Ok(0xffff)
        );
        assert_eq!(QueueCount::from_zero_based(0xffff).get(), 65_536);
        assert_eq!(DsmRangeCount::from_zero_based(0xff).get(), 256);
        assert_eq!(
            QueueSize::new(64).map(|s| s.to_string()).unwrap(),
            "64 entries"
        );
    }

    #[test]
    fn zero_and_too_many_are_refused() {
        let err = QueueSize::new(0).unwrap_err();
        assert_eq!((err.field, err.count, err.max), ("QSIZE", 0, 65_536));
        assert!(QueueSize::new(65_537).is_err());
        assert!(QueueCount::new(0).is_err());
        let err = DsmRangeCount::new(257).unwrap_err();
        assert_eq!(
            err.to_string(),
            "257 is not a count NR can carry: it holds the count minus one, so 1 to 256"
        );
    }
}
