//! Device side: walk PRP1, PRP2 and PRP lists back into data segments, as a controller does.
//!
//! The walker is an iterator over `Result<Extent, WalkError>`: it yields the data segments in
//! transfer order, physically adjacent pages merged, and stops at the first rule broken with the
//! NVMe status to complete the command with. It fetches list entries lazily, in batches that
//! never leave the current list page and never include a slot the transfer does not need.
//!
//! # Work bound
//!
//! For a transfer of `len` bytes whose PRP1 sits at offset `o` in a page of `PS` bytes, with
//! `N = ceil((o + len) / PS)` pages, the walker reads list memory only when `N > 2`, and then
//! exactly
//!
//! ```text
//! slots read = E + (P - 1)            E = N - 1 list entries, P = list pages
//! P = 1                               if E <= S0
//!   = 1 + ceil((E - S0) / (PS/8 - 1)) otherwise, with S0 = (PS - PRP2 offset) / 8
//! ```
//!
//! 8-byte slots ([`list_slots_read`](super::geometry::list_slots_read)), in at most
//! `P + slots / 64` memory reads; it does `O(N)` work in all. A walk that fails reads no more
//! than a successful one would. Check the transfer length against MDTS before walking: the
//! walker trusts `len`, and a hostile list can only make it do the work that `len` implies,
//! however its pointers chain (a list page that points at itself included).
//!
//! # Validate before moving data
//!
//! A controller must not move data for a command whose data pointer is invalid. Walk the whole
//! pointer first ([`PrpWalker::validate`], or collect the segments) and only then transfer.
//! Collecting once is also what keeps a guest from changing a list between a validating walk
//! and a transferring one.

use zerocopy::little_endian::U64;

use super::error::WalkError;
use super::geometry::{first_page_slots, pages_touched, ENTRY_BYTES};
use crate::extent::{Extent, PageSize};
use crate::memory::DmaMemory;

/// Slots fetched per memory read (512 bytes of stack).
const BATCH: usize = 64;

/// What a successful walk described, from [`PrpWalker::validate`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WalkSummary {
    /// Data segments after merging adjacent pages.
    pub segments: u64,
    /// Total bytes (the transfer length).
    pub bytes: u64,
}

/// Where the next data page comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Source {
    /// PRP1, the first page (possibly partial, at an offset).
    Prp1,
    /// PRP2 as the second and last data page.
    Prp2Data,
    /// Entries of the PRP list.
    List,
    /// Nothing left (or an error was returned).
    Done,
}

/// Walks a PRP data pointer; see the [module docs](self).
///
/// ```
/// use nvme_dma::{Extent, PageSize, SliceMemory};
/// use nvme_dma::prp::PrpWalker;
///
/// // An 8 KiB transfer at offset 0x200 touches three pages, so PRP2 points at a list of two.
/// let mut backing = [0u8; 16];
/// backing[..8].copy_from_slice(&0x5000u64.to_le_bytes());
/// backing[8..].copy_from_slice(&0x9000u64.to_le_bytes());
/// let mem = SliceMemory::new(0xf000, &mut backing);
///
/// let walker = PrpWalker::new(0x2200, 0xf000, 0x2000, PageSize::SIZE_4K, &mem);
/// let segments: Vec<Extent> = walker.collect::<Result<_, _>>()?;
/// assert_eq!(segments, [
///     Extent::new(0x2200, 0xe00),  // PRP1 to the end of its page
///     Extent::new(0x5000, 0x1000), // list entry 0
///     Extent::new(0x9000, 0x200),  // list entry 1: the rest
/// ]);
/// # Ok::<(), nvme_dma::prp::WalkError>(())
/// ```
#[derive(Debug)]
pub struct PrpWalker<'m, M: DmaMemory + ?Sized> {
    mem: &'m M,
    ps: PageSize,
    prp1: u64,
    prp2: u64,
    source: Source,
    /// Bytes of the transfer not yet assigned to a page.
    remaining: u64,
    /// Segment being merged, not yet yielded.
    run: Option<Extent>,
    /// Next list slot to consume.
    slot_addr: u64,
    /// Slots from `slot_addr` to the end of its list page.
    page_slots_left: u64,
    /// List entries (data pages) still to produce.
    entries_left: u64,
    batch: [U64; BATCH],
    batch_pos: usize,
    batch_len: usize,
}

impl<'m, M: DmaMemory + ?Sized> PrpWalker<'m, M> {
    /// A walker for a transfer of `len` bytes described by `prp1` and `prp2`, reading PRP lists
    /// from `mem`. A zero `len` yields nothing and reads nothing.
    pub fn new(prp1: u64, prp2: u64, len: u64, page_size: PageSize, mem: &'m M) -> Self {
        PrpWalker {
            mem,
            ps: page_size,
            prp1,
            prp2,
            source: if len == 0 { Source::Done } else { Source::Prp1 },
            remaining: len,
            run: None,
            slot_addr: 0,
            page_slots_left: 0,
            entries_left: 0,
            batch: [U64::ZERO; BATCH],
            batch_pos: 0,
            batch_len: 0,
        }
    }

    /// Walk to the end without keeping the segments: `Ok` means the data pointer is valid.
    pub fn validate(self) -> Result<WalkSummary, WalkError> {
        let mut summary = WalkSummary {
            segments: 0,
            bytes: 0,
        };
        for segment in self {
            let segment = segment?;
            summary.segments = summary.segments.saturating_add(1);
            summary.bytes = summary.bytes.saturating_add(segment.len);
        }
        Ok(summary)
    }

    /// The next data page (address, bytes of the transfer in it), or `None` at the end.
    fn next_page(&mut self) -> Result<Option<Extent>, WalkError> {
        let ps = self.ps;
        match self.source {
            Source::Done => Ok(None),
            Source::Prp1 => {
                if self.prp1 & 3 != 0 {
                    return Err(WalkError::Prp1NotDwordAligned { prp1: self.prp1 });
                }
                let pages = pages_touched(ps, self.prp1, self.remaining);
                let room = ps.bytes().wrapping_sub(ps.offset_of(self.prp1));
                let len = room.min(self.remaining);
                self.remaining = self.remaining.wrapping_sub(len);
                self.source = match pages {
                    0 | 1 => Source::Done,
                    2 => Source::Prp2Data,
                    _ => {
                        if self.prp2 & (ENTRY_BYTES - 1) != 0 {
                            return Err(WalkError::ListPointerMisaligned { prp2: self.prp2 });
                        }
                        self.slot_addr = self.prp2;
                        self.page_slots_left = first_page_slots(ps, self.prp2);
                        self.entries_left = pages.wrapping_sub(1);
                        Source::List
                    }
                };
                Ok(Some(Extent::new(self.prp1, len)))
            }
            Source::Prp2Data => {
                if !ps.is_aligned(self.prp2) {
                    return Err(WalkError::Prp2Offset { prp2: self.prp2 });
                }
                self.source = Source::Done;
                Ok(Some(self.take_page(self.prp2)))
            }
            Source::List => {
                let entry = self.next_entry()?;
                if self.entries_left == 0 {
                    self.source = Source::Done;
                }
                Ok(Some(self.take_page(entry)))
            }
        }
    }

    /// Assign the next (page-aligned) page its share of the remaining bytes.
    fn take_page(&mut self, addr: u64) -> Extent {
        let len = self.ps.bytes().min(self.remaining);
        self.remaining = self.remaining.wrapping_sub(len);
        Extent::new(addr, len)
    }

    /// The next data entry of the list, following chain pointers.
    fn next_entry(&mut self) -> Result<u64, WalkError> {
        loop {
            // The last slot of a page is a pointer only when more entries remain than slots.
            let is_chain = self.page_slots_left == 1 && self.entries_left > 1;
            let slot = self.slot_addr;
            let entry = self.take_slot()?;
            if !self.ps.is_aligned(entry) {
                return Err(if is_chain {
                    WalkError::ChainPointerOffset { slot, entry }
                } else {
                    WalkError::ListEntryOffset { slot, entry }
                });
            }
            if is_chain {
                self.slot_addr = entry;
                self.page_slots_left = self.ps.entries_per_page();
                continue;
            }
            self.entries_left = self.entries_left.wrapping_sub(1);
            return Ok(entry);
        }
    }

    /// Consume one list slot, fetching a batch from the current list page when needed.
    fn take_slot(&mut self) -> Result<u64, WalkError> {
        if self.batch_pos >= self.batch_len {
            // Slots this page still has to give: all of them when the list goes on past it.
            let wanted = self.page_slots_left.min(self.entries_left);
            let n = usize::try_from(wanted).unwrap_or(BATCH).clamp(1, BATCH);
            let buf = self.batch.get_mut(..n).unwrap_or_default();
            let bytes = zerocopy::IntoBytes::as_mut_bytes(buf);
            self.mem
                .read(self.slot_addr, bytes)
                .map_err(|fault| WalkError::ListFetchFault {
                    addr: fault.addr,
                    len: fault.len,
                })?;
            self.batch_pos = 0;
            self.batch_len = n;
        }
        let entry = self.batch.get(self.batch_pos).map_or(0, |e| e.get());
        self.batch_pos = self.batch_pos.wrapping_add(1);
        // Slots never pass the end of their page, which is at most 2^64.
        self.slot_addr = self.slot_addr.wrapping_add(ENTRY_BYTES);
        self.page_slots_left = self.page_slots_left.wrapping_sub(1);
        if self.page_slots_left == 0 {
            // A batch never spans two list pages.
            self.batch_len = self.batch_pos;
        }
        Ok(entry)
    }
}

impl<M: DmaMemory + ?Sized> Iterator for PrpWalker<'_, M> {
    type Item = Result<Extent, WalkError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.next_page() {
                Err(e) => {
                    self.source = Source::Done;
                    self.run = None;
                    return Some(Err(e));
                }
                Ok(None) => return self.run.take().map(Ok),
                Ok(Some(page)) => match self.run {
                    Some(ref mut run) if run.end() == Some(page.addr) => {
                        // Physically adjacent: extend the run (its end is below 2^64).
                        run.len = run.len.wrapping_add(page.len);
                    }
                    _ => {
                        if let Some(done) = self.run.replace(page) {
                            return Some(Ok(done));
                        }
                    }
                },
            }
        }
    }
}
