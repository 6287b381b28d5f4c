//! Device side: the PRP walker.

use zerocopy::little_endian::U64;

use super::error::WalkError;
use super::geometry::{first_page_slots, pages_touched, ENTRY_BYTES};
use crate::extent::{Extent, PageSize};
use crate::memory::DmaMemory;

/// Slots fetched per memory read (512 bytes of stack).
const BATCH: usize = 64;

/// Finished segments the iterator buffers between calls to the batch loop (256 bytes).
const READY: usize = 16;

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

/// Walks PRP1, PRP2 and PRP lists back into data segments, as a controller does.
///
/// The walker is an iterator over `Result<Extent, WalkError>`: it yields the data segments in
/// transfer order, physically adjacent pages merged, and stops at the first rule broken with the
/// NVMe status to complete the command with. It fetches list entries lazily, in batches that
/// never leave the current list page and never include a slot the transfer does not need.
///
/// # Work bound
///
/// For a transfer of `len` bytes whose PRP1 sits at offset `o` in a page of `PS` bytes, with
/// `N = ceil((o + len) / PS)` pages, the walker reads list memory only when `N > 2`, and then
/// exactly
///
/// ```text
/// slots read = E + (P - 1)            E = N - 1 list entries, P = list pages
/// P = 1                               if E <= S0
///   = 1 + ceil((E - S0) / (PS/8 - 1)) otherwise, with S0 = (PS - PRP2 offset) / 8
/// ```
///
/// 8-byte slots ([`list_slots_read`](crate::prp::geometry::list_slots_read)), in at most
/// `2P - 1 + E / 64` memory reads (each page's entries in batches of up to 64, and each
/// chain pointer in a read of its own); it does `O(N)` work in all. A walk that fails reads no more
/// than a successful one would. Check the transfer length against MDTS before walking: the
/// walker trusts `len`, and a hostile list can only make it do the work that `len` implies,
/// however its pointers chain (a list page that points at itself included).
///
/// # Validate before moving data
///
/// A controller must not move data for a command whose data pointer is invalid. Walk the whole
/// pointer first ([`PrpWalker::validate`], or collect the segments) and only then transfer.
/// Collecting once is also what keeps a guest from changing a list between a validating walk
/// and a transferring one.
///
/// # Example
///
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
    walk: Walk<'m, M>,
    /// Segments found ahead of the iterator's consumer. Kept apart from `walk` so the batch
    /// loop can fill it in place.
    ready: [Extent; READY],
    ready_pos: usize,
    ready_len: usize,
}

/// The walk itself: where it is in PRP1, PRP2 and the lists.
#[derive(Debug)]
struct Walk<'m, M: DmaMemory + ?Sized> {
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
            walk: Walk {
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
            },
            ready: [Extent::new(0, 0); READY],
            ready_pos: 0,
            ready_len: 0,
        }
    }

    /// Write the next segments into `out` until it is full or the walk ends, and return how
    /// many were written: the batch form of the iterator, for callers that build an I/O vector.
    /// Call it until it returns 0 (with a non-empty `out`). After an error the walk is over and
    /// what `out` holds is unspecified.
    pub fn fill(&mut self, out: &mut [Extent]) -> Result<usize, WalkError> {
        let mut written = 0usize;
        // Segments the iterator found ahead of its consumer come first.
        let buffered = self
            .ready
            .get(self.ready_pos..self.ready_len)
            .unwrap_or_default();
        for (slot, segment) in out.iter_mut().zip(buffered) {
            *slot = *segment;
            written = written.wrapping_add(1);
        }
        self.ready_pos = self.ready_pos.wrapping_add(written);
        while let Some(rest) = out.get_mut(written..).filter(|rest| !rest.is_empty()) {
            match self.walk.advance(rest) {
                Ok(0) => break,
                Ok(n) => written = written.saturating_add(n),
                Err(e) => return Err(self.fail(e)),
            }
        }
        Ok(written)
    }

    /// End the walk after an error: a walk that failed yields nothing more.
    fn fail(&mut self, e: WalkError) -> WalkError {
        self.walk.source = Source::Done;
        self.walk.run = None;
        self.ready_len = 0;
        e
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
}

impl<M: DmaMemory + ?Sized> Walk<'_, M> {
    /// Write finished segments into `out` (at least one unless the walk is over or `out` is
    /// empty) and return how many.
    fn advance(&mut self, out: &mut [Extent]) -> Result<usize, WalkError> {
        let ps = self.ps;
        if out.is_empty() {
            return Ok(0);
        }
        loop {
            match self.source {
                Source::Done => {
                    return Ok(put(out, self.run.take()));
                }
                Source::Prp1 => {
                    if self.prp1 & 3 != 0 {
                        return Err(WalkError::Prp1NotDwordAligned { prp1: self.prp1 });
                    }
                    let pages = pages_touched(ps, self.prp1, self.remaining);
                    if pages > 2 && self.prp2 & (ENTRY_BYTES - 1) != 0 {
                        return Err(WalkError::ListPointerMisaligned { prp2: self.prp2 });
                    }
                    // PRP1's page is used from its offset to the page's end.
                    let room = ps.bytes().wrapping_sub(ps.offset_of(self.prp1));
                    let len = room.min(self.remaining);
                    self.remaining = self.remaining.wrapping_sub(len);
                    self.run = Some(Extent::new(self.prp1, len));
                    self.source = match pages {
                        0 | 1 => Source::Done,
                        2 => Source::Prp2Data,
                        _ => {
                            self.slot_addr = self.prp2;
                            self.page_slots_left = first_page_slots(ps, self.prp2);
                            self.entries_left = pages.wrapping_sub(1);
                            Source::List
                        }
                    };
                }
                Source::Prp2Data => {
                    if !ps.is_aligned(self.prp2) {
                        return Err(WalkError::Prp2Offset { prp2: self.prp2 });
                    }
                    self.source = Source::Done;
                    let len = self.remaining;
                    self.remaining = 0;
                    let done = self.extend_run(self.prp2, len);
                    if put(out, done) > 0 {
                        return Ok(1);
                    }
                }
                Source::List => {
                    if self.batch_pos >= self.batch_len {
                        if self.entries_left == 0 {
                            self.source = Source::Done;
                            continue;
                        }
                        self.refill()?;
                    }
                    let written = self.merge_batch(out)?;
                    if written > 0 {
                        return Ok(written);
                    }
                }
            }
        }
    }

    /// Add `len` bytes at `addr` to the current run; return the previous run if `addr` does not
    /// continue it.
    fn extend_run(&mut self, addr: u64, len: u64) -> Option<Extent> {
        match self.run {
            // Physically adjacent: extend the run (its end is below 2^64).
            Some(ref mut run) if run.end() == Some(addr) => {
                run.len = run.len.wrapping_add(len);
                None
            }
            _ => self.run.replace(Extent::new(addr, len)),
        }
    }

    /// Fetch the next batch of data entries from the list, following a chain pointer first
    /// when only the current page's last slot is left and more entries remain.
    fn refill(&mut self) -> Result<(), WalkError> {
        loop {
            // This page's last slot is a pointer only when more entries remain than slots.
            let chains = self.entries_left > self.page_slots_left;
            let data_here = if chains {
                self.page_slots_left.saturating_sub(1)
            } else {
                self.entries_left
            };
            if data_here == 0 {
                let slot = self.slot_addr;
                let mut entry = [U64::ZERO];
                fetch(self.mem, slot, &mut entry)?;
                let [next] = entry.map(U64::get);
                if !self.ps.is_aligned(next) {
                    return Err(WalkError::ChainPointerOffset { slot, entry: next });
                }
                self.slot_addr = next;
                self.page_slots_left = self.ps.entries_per_page();
                continue;
            }
            let n = usize::try_from(data_here).unwrap_or(BATCH).min(BATCH);
            let fetched = self.batch.get_mut(..n).unwrap_or_default();
            fetch(self.mem, self.slot_addr, fetched)?;
            self.batch_pos = 0;
            self.batch_len = n;
            // Slots never pass the end of their page, which is at most 2^64.
            self.slot_addr = self
                .slot_addr
                .wrapping_add((n as u64).wrapping_mul(ENTRY_BYTES));
            self.page_slots_left = self.page_slots_left.wrapping_sub(n as u64);
            return Ok(());
        }
    }

    /// Consume fetched entries, merging adjacent pages into the run and writing each finished
    /// run to `out`, until the batch is used up or `out` is full. Returns the runs written.
    fn merge_batch(&mut self, out: &mut [Extent]) -> Result<usize, WalkError> {
        let page = self.ps.bytes();
        let mask = self.ps.offset_mask();
        let pending = self
            .batch
            .get(self.batch_pos..self.batch_len)
            .unwrap_or_default();
        let mut remaining = self.remaining;
        let mut run = self.run;
        let mut used = 0usize;
        let mut written = 0usize;
        let mut bad = None;
        for slot in pending {
            let entry = slot.get();
            if entry & mask != 0 {
                bad = Some(entry);
                break;
            }
            used = used.wrapping_add(1);
            let len = page.min(remaining);
            remaining = remaining.wrapping_sub(len);
            match run {
                Some(ref mut r) if r.end() == Some(entry) => r.len = r.len.wrapping_add(len),
                _ => {
                    if let Some(done) = run.replace(Extent::new(entry, len)) {
                        if let Some(slot) = out.get_mut(written) {
                            *slot = done;
                        }
                        written = written.wrapping_add(1);
                        if written >= out.len() {
                            break;
                        }
                    }
                }
            }
        }
        let consumed = self.batch_pos.wrapping_add(used);
        if let Some(entry) = bad {
            // The bad entry's slot: the batch was read from just below `slot_addr`.
            let behind = self.batch_len.wrapping_sub(consumed) as u64;
            let slot = self
                .slot_addr
                .wrapping_sub(behind.wrapping_mul(ENTRY_BYTES));
            return Err(WalkError::ListEntryOffset { slot, entry });
        }
        self.batch_pos = consumed;
        self.entries_left = self.entries_left.wrapping_sub(used as u64);
        self.remaining = remaining;
        self.run = run;
        Ok(written)
    }
}

/// Store `segment`, if any, as the first of `out`; returns how many were stored.
fn put(out: &mut [Extent], segment: Option<Extent>) -> usize {
    match (segment, out.first_mut()) {
        (Some(segment), Some(slot)) => {
            *slot = segment;
            1
        }
        _ => 0,
    }
}

/// Read list slots from host memory; a fault is a Data Transfer Error.
fn fetch<M: DmaMemory + ?Sized>(mem: &M, addr: u64, slots: &mut [U64]) -> Result<(), WalkError> {
    let bytes = zerocopy::IntoBytes::as_mut_bytes(slots);
    mem.read(addr, bytes)
        .map_err(|fault| WalkError::ListFetchFault {
            addr: fault.addr,
            len: fault.len,
        })
}

impl<M: DmaMemory + ?Sized> Iterator for PrpWalker<'_, M> {
    type Item = Result<Extent, WalkError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.ready_pos >= self.ready_len {
            // A finished walk (the usual second call for a short transfer) answers at once,
            // without entering the batch loop.
            if self.walk.source == Source::Done && self.walk.run.is_none() {
                return None;
            }
            // Refill the look-ahead through the batch loop; a walk that fails reports the
            // error in place of the segments it had not yet handed out.
            match self.walk.advance(&mut self.ready) {
                Ok(0) => return None,
                Ok(n) => (self.ready_pos, self.ready_len) = (0, n),
                Err(e) => return Some(Err(self.fail(e))),
            }
        }
        let segment = self.ready.get(self.ready_pos).copied();
        self.ready_pos = self.ready_pos.wrapping_add(1);
        segment.map(Ok)
    }
}
