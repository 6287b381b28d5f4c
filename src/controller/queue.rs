//! Submission and completion queues as the controller keeps them.
//!
//! A queue of `size` slots is empty when head == tail and full when tail + 1 == head (mod
//! size), so it holds at most `size - 1` entries. The controller owns the SQ head and the CQ
//! tail; the host moves the SQ tail and the CQ head through doorbells.

use alloc::vec::Vec;

/// Where a queue's slots live.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum QueueMemory {
    /// One physically contiguous run starting at this page-aligned address.
    Contiguous(u64),
    /// PC = 0: the pages a PRP list named, in order, each a whole memory page.
    Pages(Vec<u64>),
}

impl QueueMemory {
    /// Bus address of slot `index` for entries of `entry_size` bytes on `page_size` pages.
    pub fn slot(&self, index: u16, entry_size: u64, page_size: u64) -> Option<u64> {
        let offset = u64::from(index).checked_mul(entry_size)?;
        match self {
            QueueMemory::Contiguous(base) => base.checked_add(offset),
            QueueMemory::Pages(pages) => {
                let page = usize::try_from(offset.checked_div(page_size)?).ok()?;
                pages.get(page)?.checked_add(offset.checked_rem(page_size)?)
            }
        }
    }
}

/// Slot after `index` in a queue of `size` slots.
pub(crate) fn next_slot(index: u16, size: u16) -> u16 {
    let next = index.wrapping_add(1);
    if next >= size {
        0
    } else {
        next
    }
}

/// A submission queue.
#[derive(Clone, Debug)]
pub(crate) struct SubmissionQueue {
    pub memory: QueueMemory,
    pub size: u16,
    /// Next slot the controller fetches.
    pub head: u16,
    /// The host's last tail doorbell value.
    pub tail: u16,
    /// The completion queue its completions go to.
    pub cqid: u16,
}

impl SubmissionQueue {
    pub fn is_empty(&self) -> bool {
        self.head == self.tail
    }

    /// Whether the host may move the tail to `tail`: inside the queue, and adding no more
    /// entries than the queue has free. The controller knows how many it has not fetched yet
    /// (head to the old tail), so a tail that goes past the head, which would make a full
    /// queue look empty (or nearly so) and lose the commands in it, is over-filling it.
    pub fn tail_is_valid(&self, tail: u16) -> bool {
        if tail >= self.size {
            return false;
        }
        let size = u32::from(self.size);
        // Entries from `from` to `to`, going round the ring.
        let between = |from: u16, to: u16| {
            u32::from(to)
                .wrapping_add(size)
                .wrapping_sub(u32::from(from))
                .checked_rem(size)
                .unwrap_or(0)
        };
        let free = size
            .saturating_sub(1)
            .saturating_sub(between(self.head, self.tail));
        between(self.tail, tail) <= free
    }
}

/// A completion queue.
#[derive(Clone, Debug)]
pub(crate) struct CompletionQueue {
    pub memory: QueueMemory,
    pub size: u16,
    /// The host's last head doorbell value.
    pub head: u16,
    /// Next slot the controller posts to.
    pub tail: u16,
    /// Phase tag the controller writes on this pass (starts at 1).
    pub phase: bool,
    /// An SQ stopped fetching because this queue was full: wake it when the head moves.
    pub stalled: bool,
}

impl CompletionQueue {
    pub fn new(memory: QueueMemory, size: u16) -> Self {
        CompletionQueue {
            memory,
            size,
            head: 0,
            tail: 0,
            phase: true,
            stalled: false,
        }
    }

    /// No free slot: posting now would overwrite an entry the host has not consumed.
    pub fn is_full(&self) -> bool {
        next_slot(self.tail, self.size) == self.head
    }

    /// Whether a head doorbell value `head` only releases entries the controller posted:
    /// it must lie in the posted window `self.head ..= self.tail` (mod size).
    pub fn head_is_valid(&self, head: u16) -> bool {
        if head >= self.size {
            return false;
        }
        // Entries from the current head up to `to`, going round the ring.
        let posted = |to: u16| {
            u32::from(to)
                .wrapping_add(u32::from(self.size))
                .wrapping_sub(u32::from(self.head))
                .checked_rem(u32::from(self.size))
                .unwrap_or(0)
        };
        posted(head) <= posted(self.tail)
    }

    /// Advance the tail after posting, flipping the phase on wrap.
    pub fn advance_tail(&mut self) {
        self.tail = next_slot(self.tail, self.size);
        if self.tail == 0 {
            self.phase = !self.phase;
        }
    }
}

/// What one queue looks like from inside the controller, for tests, debuggers and fuzz
/// oracles: where its slots are, its head and tail, and (for a completion queue) the phase
/// tag the next entry will carry. A copy: it does not change when the controller does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueView {
    /// Queue id (0 is the admin queue).
    pub qid: u16,
    /// Submission or completion, with what only that kind has.
    pub role: QueueRole,
    /// Slots in the queue.
    pub size: u16,
    /// SQ: the next slot the controller fetches. CQ: the host's last head doorbell value.
    pub head: u16,
    /// SQ: the host's last tail doorbell value. CQ: the next slot the controller posts to.
    pub tail: u16,
    memory: QueueMemory,
    page_bytes: u64,
}

/// Which side of a queue pair a [`QueueView`] shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueueRole {
    /// A submission queue and the completion queue its commands complete to.
    Submission {
        /// The completion queue's id.
        cqid: u16,
    },
    /// A completion queue.
    Completion {
        /// The phase tag the controller writes on this pass round the ring.
        phase: bool,
    },
}

impl QueueView {
    pub(crate) fn submission(qid: u16, sq: &SubmissionQueue, page_bytes: u64) -> Self {
        QueueView {
            qid,
            role: QueueRole::Submission { cqid: sq.cqid },
            size: sq.size,
            head: sq.head,
            tail: sq.tail,
            memory: sq.memory.clone(),
            page_bytes,
        }
    }

    pub(crate) fn completion(qid: u16, cq: &CompletionQueue, page_bytes: u64) -> Self {
        QueueView {
            qid,
            role: QueueRole::Completion { phase: cq.phase },
            size: cq.size,
            head: cq.head,
            tail: cq.tail,
            memory: cq.memory.clone(),
            page_bytes,
        }
    }

    /// Bytes per entry: 64 for a submission queue, 16 for a completion queue.
    pub fn entry_bytes(&self) -> u64 {
        match self.role {
            QueueRole::Submission { .. } => super::SQE_BYTES,
            QueueRole::Completion { .. } => super::CQE_BYTES,
        }
    }

    /// Bus address of slot `index` (`None` past the end of the queue).
    pub fn slot(&self, index: u16) -> Option<u64> {
        if index >= self.size {
            return None;
        }
        self.memory.slot(index, self.entry_bytes(), self.page_bytes)
    }

    /// The slot that starts at bus address `addr`, if one does.
    pub fn slot_at(&self, addr: u64) -> Option<u16> {
        let entry = self.entry_bytes();
        match &self.memory {
            QueueMemory::Contiguous(base) => {
                let index = u16::try_from(addr.checked_sub(*base)?.checked_div(entry)?).ok()?;
                (self.slot(index) == Some(addr)).then_some(index)
            }
            QueueMemory::Pages(_) => (0..self.size).find(|&i| self.slot(i) == Some(addr)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sq(size: u16, head: u16, tail: u16) -> SubmissionQueue {
        SubmissionQueue {
            memory: QueueMemory::Contiguous(0),
            size,
            head,
            tail,
            cqid: 1,
        }
    }

    #[test]
    fn a_tail_may_add_only_as_many_entries_as_are_free() {
        // Empty: any tail inside the queue adds at most size - 1.
        let empty = sq(4, 2, 2);
        assert!((0..4).all(|t| empty.tail_is_valid(t)));
        assert!(!empty.tail_is_valid(4));
        // Full (head 3, tail 2): only the same tail, which adds nothing.
        let full = sq(4, 3, 2);
        assert_eq!(
            (0..4)
                .filter(|&t| full.tail_is_valid(t))
                .collect::<Vec<_>>(),
            [2]
        );
        // Two queued (head 1, tail 3), one free: tails 3 and 0, not 1 or 2.
        let two = sq(4, 1, 3);
        assert_eq!(
            (0..4).filter(|&t| two.tail_is_valid(t)).collect::<Vec<_>>(),
            [0, 3]
        );
        // The smallest queue holds one entry.
        assert!(sq(2, 0, 0).tail_is_valid(1));
        assert!(!sq(2, 0, 1).tail_is_valid(0));
    }

    #[test]
    fn paged_queue_slots_follow_the_page_list() {
        let mem = QueueMemory::Pages(alloc::vec![0x5000, 0x2000]);
        assert_eq!(mem.slot(0, 64, 4096), Some(0x5000));
        assert_eq!(mem.slot(63, 64, 4096), Some(0x5000 + 63 * 64));
        assert_eq!(mem.slot(64, 64, 4096), Some(0x2000));
        assert_eq!(mem.slot(128, 64, 4096), None);
    }

    #[test]
    fn queue_views_find_slots_both_ways() {
        let sq = SubmissionQueue {
            memory: QueueMemory::Pages(alloc::vec![0x5000, 0x2000]),
            size: 100,
            head: 0,
            tail: 0,
            cqid: 1,
        };
        let view = QueueView::submission(3, &sq, 4096);
        assert_eq!(view.slot(64), Some(0x2000));
        assert_eq!(view.slot(100), None);
        assert_eq!(view.slot_at(0x2000 + 64), Some(65));
        assert_eq!(view.slot_at(0x2000 + 65), None);
        let cq = CompletionQueue::new(QueueMemory::Contiguous(0x9000), 4);
        let view = QueueView::completion(1, &cq, 4096);
        assert_eq!(view.role, QueueRole::Completion { phase: true });
        assert_eq!(view.slot_at(0x9030), Some(3));
        assert_eq!(view.slot_at(0x9040), None, "past the last slot");
        assert_eq!(view.slot_at(0x8ff0), None);
    }

    #[test]
    fn completion_queue_full_and_head_window() {
        let mut cq = CompletionQueue::new(QueueMemory::Contiguous(0), 4);
        assert!(!cq.is_full());
        for _ in 0..3 {
            cq.advance_tail();
        }
        assert!(cq.is_full());
        assert_eq!((cq.tail, cq.phase), (3, true));
        assert!(cq.head_is_valid(2) && cq.head_is_valid(3));
        assert!(!cq.head_is_valid(4));
        cq.head = 3;
        cq.advance_tail();
        assert_eq!((cq.tail, cq.phase), (0, false));
        // Posted window is 3..=0 (wrapping): 3 and 0 are valid heads, 1 and 2 are not.
        assert!(cq.head_is_valid(0) && cq.head_is_valid(3));
        assert!(!cq.head_is_valid(1) && !cq.head_is_valid(2));
    }
}
