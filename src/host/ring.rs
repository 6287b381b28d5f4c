//! Submission and completion queue rings as the host sees them: indices, wrap, full and empty,
//! and the phase tag. Pure bookkeeping: no memory, no registers, no allocation.
//!
//! A queue of `N` slots is a circle of indices `0 .. N`. The producer writes at the tail and
//! moves it on; the consumer reads at the head. Head equal to tail means empty, so at most
//! `N - 1` entries are ever in a queue (one slot always stays free).
//!
//! * [`SqRing`]: the host produces. It moves the tail when it writes a command, and learns how
//!   far the controller has consumed from the SQ Head Pointer (SQHD) in each completion.
//! * [`CqRing`]: the controller produces. The host finds new entries by their phase tag: the
//!   queue starts zeroed, the controller writes phase 1 on its first pass and inverts it on
//!   every wrap, so an entry whose phase equals the one expected is new.

use core::fmt;

use crate::spec::CompletionEntry;

/// Most slots an NVMe queue can have (a zero-based 16-bit size).
pub const MAX_QUEUE_ENTRIES: u32 = 65_536;

/// Fewest slots a queue can have.
pub const MIN_QUEUE_ENTRIES: u32 = 2;

/// A queue ring that could not be made, or a step the ring cannot take.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RingError {
    /// A queue has 2 ..= 65536 slots.
    InvalidSize {
        /// The size asked for.
        entries: u32,
    },
    /// The submission queue holds `entries - 1` commands already: reap completions first.
    Full {
        /// The queue's number of slots.
        entries: u32,
    },
    /// A completion's SQ Head Pointer lies outside the commands in flight: the controller
    /// claims to have consumed entries the host never submitted.
    HeadOutOfRange {
        /// SQHD from the completion.
        sqhd: u16,
        /// The head the host knew.
        head: u32,
        /// The tail the host last wrote.
        tail: u32,
    },
}

impl fmt::Display for RingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            RingError::InvalidSize { entries } => write!(
                f,
                "a queue of {entries} slots is not allowed: NVMe queues have \
                 {MIN_QUEUE_ENTRIES} to {MAX_QUEUE_ENTRIES} slots"
            ),
            RingError::Full { entries } => write!(
                f,
                "the submission queue is full ({} of {entries} slots in use; one always stays \
                 free): reap completions before submitting more",
                entries.saturating_sub(1)
            ),
            RingError::HeadOutOfRange { sqhd, head, tail } => write!(
                f,
                "a completion reports SQ head {sqhd}, outside the submitted entries {head} .. \
                 {tail}: the controller consumed commands that were never submitted"
            ),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for RingError {}

/// `index + 1` on a circle of `entries` slots (`index < entries`).
fn next(index: u32, entries: u32) -> u32 {
    match index.checked_add(1) {
        Some(n) if n < entries => n,
        _ => 0,
    }
}

/// Steps from `from` forward to `to` on a circle of `entries` slots (both `< entries`).
fn distance(from: u32, to: u32, entries: u32) -> u32 {
    if to >= from {
        to.wrapping_sub(from)
    } else {
        entries.wrapping_sub(from).wrapping_add(to)
    }
}

fn check_size(entries: u32) -> Result<(), RingError> {
    if (MIN_QUEUE_ENTRIES..=MAX_QUEUE_ENTRIES).contains(&entries) {
        Ok(())
    } else {
        Err(RingError::InvalidSize { entries })
    }
}

/// The host's view of a submission queue: where the next command goes (tail) and how far the
/// controller has consumed (head, from completions).
///
/// ```
/// use nvme_dma::host::SqRing;
///
/// let mut sq = SqRing::new(4)?;
/// assert_eq!(sq.push()?, 0); // write the command into slot 0 ...
/// assert_eq!(sq.tail(), 1); // ... then ring the tail doorbell with 1
/// sq.push()?;
/// sq.push()?;
/// assert!(sq.is_full()); // 3 of 4 slots: one always stays free
/// sq.update_head(2)?; // a completion says the controller fetched two
/// assert_eq!(sq.len(), 1);
/// # Ok::<(), nvme_dma::host::RingError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SqRing {
    entries: u32,
    head: u32,
    tail: u32,
}

impl SqRing {
    /// An empty ring of `entries` slots (2 ..= 65536).
    pub fn new(entries: u32) -> Result<Self, RingError> {
        check_size(entries)?;
        Ok(SqRing {
            entries,
            head: 0,
            tail: 0,
        })
    }

    /// Number of slots.
    pub const fn entries(&self) -> u32 {
        self.entries
    }

    /// The zero-based size, as Create I/O SQ and AQA take it.
    pub const fn size_z(&self) -> u16 {
        // entries is 2 ..= 65536, so entries - 1 fits 16 bits.
        #[allow(clippy::cast_possible_truncation)]
        let z = self.entries.wrapping_sub(1) as u16;
        z
    }

    /// The slot the next command goes into; also the value last written to the tail doorbell.
    pub const fn tail(&self) -> u32 {
        self.tail
    }

    /// The oldest slot the controller may not have fetched yet.
    pub const fn head(&self) -> u32 {
        self.head
    }

    /// Commands submitted and not yet known to be fetched.
    pub fn len(&self) -> u32 {
        distance(self.head, self.tail, self.entries)
    }

    /// Most commands the ring holds at once: `entries - 1`.
    pub const fn capacity(&self) -> u32 {
        self.entries.saturating_sub(1)
    }

    /// True when no command is outstanding.
    pub const fn is_empty(&self) -> bool {
        self.head == self.tail
    }

    /// True when another command would make head equal tail (which would read as empty).
    pub fn is_full(&self) -> bool {
        next(self.tail, self.entries) == self.head
    }

    /// Claim the tail slot for a new command and move the tail on; returns the slot to write.
    /// After writing the command there, ring the doorbell with [`SqRing::tail`].
    pub fn push(&mut self) -> Result<u32, RingError> {
        if self.is_full() {
            return Err(RingError::Full {
                entries: self.entries,
            });
        }
        let slot = self.tail;
        self.tail = next(self.tail, self.entries);
        Ok(slot)
    }

    /// Take the SQ Head Pointer from a completion: the controller has fetched every entry
    /// before `sqhd`. It must lie between the known head and the tail (inclusive); otherwise
    /// the ring is left unchanged and the error says so.
    pub fn update_head(&mut self, sqhd: u16) -> Result<(), RingError> {
        let sqhd32 = u32::from(sqhd);
        if sqhd32 >= self.entries
            || distance(self.head, sqhd32, self.entries)
                > distance(self.head, self.tail, self.entries)
        {
            return Err(RingError::HeadOutOfRange {
                sqhd,
                head: self.head,
                tail: self.tail,
            });
        }
        self.head = sqhd32;
        Ok(())
    }
}

/// The host's view of a completion queue: the slot to look at next and the phase tag a new
/// entry there carries.
///
/// ```
/// use nvme_dma::host::CqRing;
/// use nvme_dma::spec::{CommandId, CompletionEntry, Status};
///
/// let mut cq = CqRing::new(2)?;
/// let fresh = CompletionEntry::new(CommandId { sqid: 1, cid: 7 }, 1, Status::SUCCESS, true); // first pass: phase 1
/// let stale = CompletionEntry::default(); // the zeroed queue: phase 0
/// assert!(!cq.consume(&stale));
/// assert!(cq.consume(&fresh));
/// assert!(cq.consume(&fresh)); // slot 1, still the first pass
/// assert_eq!((cq.head(), cq.phase()), (0, false)); // wrapped: new entries now carry phase 0
/// assert!(!cq.consume(&fresh));
/// # Ok::<(), nvme_dma::host::RingError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CqRing {
    entries: u32,
    head: u32,
    phase: bool,
}

impl CqRing {
    /// A ring of `entries` slots (2 ..= 65536) over a zeroed queue: the first new entry is in
    /// slot 0 with phase 1.
    pub fn new(entries: u32) -> Result<Self, RingError> {
        check_size(entries)?;
        Ok(CqRing {
            entries,
            head: 0,
            phase: true,
        })
    }

    /// Number of slots.
    pub const fn entries(&self) -> u32 {
        self.entries
    }

    /// The zero-based size, as Create I/O CQ and AQA take it.
    pub const fn size_z(&self) -> u16 {
        // entries is 2 ..= 65536, so entries - 1 fits 16 bits.
        #[allow(clippy::cast_possible_truncation)]
        let z = self.entries.wrapping_sub(1) as u16;
        z
    }

    /// The slot to read next; after consuming, the value for the head doorbell.
    pub const fn head(&self) -> u32 {
        self.head
    }

    /// The phase tag a new entry in the head slot carries.
    pub const fn phase(&self) -> bool {
        self.phase
    }

    /// True when `entry`, read from the head slot, is new (its phase tag is the expected one).
    pub const fn is_new(&self, entry: &CompletionEntry) -> bool {
        entry.phase() == self.phase
    }

    /// If `entry`, read from the head slot, is new: move past it (inverting the expected phase
    /// on a wrap) and return true. Otherwise change nothing and return false.
    pub fn consume(&mut self, entry: &CompletionEntry) -> bool {
        if !self.is_new(entry) {
            return false;
        }
        self.head = next(self.head, self.entries);
        if self.head == 0 {
            self.phase = !self.phase;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{CommandId, Status};

    #[test]
    fn sizes_outside_the_spec_are_refused() {
        for bad in [0, 1, MAX_QUEUE_ENTRIES + 1, u32::MAX] {
            assert_eq!(
                SqRing::new(bad),
                Err(RingError::InvalidSize { entries: bad })
            );
            assert_eq!(
                CqRing::new(bad),
                Err(RingError::InvalidSize { entries: bad })
            );
        }
        let big = SqRing::new(MAX_QUEUE_ENTRIES).unwrap();
        assert_eq!((big.size_z(), big.capacity()), (0xffff, 65_535));
        assert_eq!(CqRing::new(2).unwrap().size_z(), 1);
    }

    #[test]
    fn sq_fills_to_entries_minus_one_and_wraps() {
        let mut sq = SqRing::new(3).unwrap();
        assert_eq!(sq.push(), Ok(0));
        assert_eq!(sq.push(), Ok(1));
        assert_eq!(sq.push(), Err(RingError::Full { entries: 3 }));
        sq.update_head(1).unwrap();
        assert_eq!(sq.push(), Ok(2));
        assert_eq!(sq.tail(), 0, "the tail wraps to slot 0");
        assert!(sq.is_full());
        sq.update_head(0).unwrap();
        assert!(sq.is_empty());
        assert_eq!(sq.len(), 0);
    }

    #[test]
    fn sq_head_must_stay_within_the_submitted_entries() {
        let mut sq = SqRing::new(8).unwrap();
        for _ in 0..3 {
            sq.push().unwrap();
        }
        sq.update_head(2).unwrap();
        // Behind the known head (would mean the controller un-fetched commands).
        assert_eq!(
            sq.update_head(1),
            Err(RingError::HeadOutOfRange {
                sqhd: 1,
                head: 2,
                tail: 3
            })
        );
        // Past the tail, and past the queue's end.
        assert!(sq.update_head(4).is_err());
        assert!(sq.update_head(8).is_err());
        assert_eq!(sq.head(), 2, "a refused update changes nothing");
        sq.update_head(3).unwrap();
        assert!(sq.is_empty());
    }

    #[test]
    fn cq_phase_flips_on_every_wrap() {
        let mut cq = CqRing::new(3).unwrap();
        let with_phase =
            |p| CompletionEntry::new(CommandId { sqid: 0, cid: 0 }, 0, Status::SUCCESS, p);
        for pass in 0..4 {
            let phase = pass % 2 == 0;
            for slot in 0..3 {
                assert_eq!((cq.head(), cq.phase()), (slot, phase));
                assert!(!cq.consume(&with_phase(!phase)), "an old entry is not new");
                assert!(cq.consume(&with_phase(phase)));
            }
        }
    }
}
