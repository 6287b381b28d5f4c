//! Device side: the PRP walker.

use zerocopy::little_endian::U64;

use super::error::WalkError;
use super::geometry::{first_page_slots, pages_touched, ENTRY_BYTES};
use crate::extent::{Extent, PageSize};
use crate::memory::DmaMemory;
use crate::piece::Piece;
use crate::walk::{Pieces, Progress, Walk};

/// List entries fetched per memory read, at most (a 512-byte buffer on the stack of the
/// call that walks a list; a walk of one or two pages never makes it).
const BATCH: usize = 64;

/// The buffer for a read of no more than this many entries (128 bytes).
const SMALL_BATCH: usize = 16;

/// Where a walk is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    /// Nothing read: PRP1 and PRP2 are as the command gave them, unchecked.
    Start,
    /// Reading data entries from the PRP list.
    List,
    /// Every page is accounted for; the piece being merged may still be to hand out.
    Done,
}

/// Walks PRP1, PRP2 and PRP lists back into the pieces of a transfer, as a controller does.
///
/// It writes the transfer's pieces ([`Piece::Data`], the only kind a PRP walk yields) in
/// transfer order, physically adjacent pages merged, and stops at the first rule broken with
/// the NVMe status to complete the command with; [`Walk`] states the contract it shares with
/// the SGL walker. [`Walk::fill`] is the fast form; [`Walk::pieces`] (or a `for` loop) is the
/// iterator form. A transfer of one or two pages reads no memory and is walked in one call.
///
/// A walker is 96 bytes of plain state. It fetches list entries in batches of up to 64 that
/// never leave the current list page and never include a slot the transfer does not need. A
/// read takes no more entries than `out` has room for pieces (each entry ends at most one
/// piece), so that nothing read is left over between calls; when that is less than the batch,
/// the whole batch is probed first ([`DmaMemory::probe`]), so that a walk meets a fault, and
/// reports it, the same way whatever room `out` has.
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
/// 8-byte slots ([`list_slots_read`](crate::prp::geometry::list_slots_read)), each read once:
/// each page's entries in batches of up to 64 (fewer when `out` has less room), and each
/// chain pointer in a read of its own. It does `O(N)` work in all. A walk that fails reads no
/// more than a successful one would. Check the transfer length against MDTS before walking:
/// the walker trusts `len`, and a hostile list can only make it do the work that `len`
/// implies, however its pointers chain (a list page that points at itself included).
///
/// # Example
///
/// ```
/// use nvme_dma::{Extent, PageSize, Piece, SliceMemory};
/// use nvme_dma::prp::PrpWalker;
/// use nvme_dma::walk::Walk;
///
/// // An 8 KiB transfer at offset 0x200 touches three pages, so PRP2 points at a list of two.
/// let mut backing = [0u8; 16];
/// backing[..8].copy_from_slice(&0x5000u64.to_le_bytes());
/// backing[8..].copy_from_slice(&0x9000u64.to_le_bytes());
/// let mem = SliceMemory::new(0xf000, &mut backing);
///
/// let mut walker = PrpWalker::new(0x2200, 0xf000, 0x2000, PageSize::SIZE_4K, &mem);
/// let mut out = [Piece::Skip(0); 8];
/// let progress = walker.fill(&mut out)?;
/// assert!(progress.done); // one call: everything fit
/// assert_eq!(out[..progress.written], [
///     Piece::Data(Extent::new(0x2200, 0xe00)),  // PRP1 to the end of its page
///     Piece::Data(Extent::new(0x5000, 0x1000)), // list entry 0
///     Piece::Data(Extent::new(0x9000, 0x200)),  // list entry 1: the rest
/// ]);
/// # Ok::<(), nvme_dma::prp::WalkError>(())
/// ```
#[derive(Debug)]
pub struct PrpWalker<'m, M: DmaMemory + ?Sized> {
    mem: &'m M,
    ps: PageSize,
    prp1: u64,
    prp2: u64,
    stage: Stage,
    /// Bytes of the transfer not yet assigned to a page.
    remaining: u64,
    /// The piece being merged, not yet handed out (none when its length is 0).
    run: Extent,
    /// The next list slot to read.
    slot_addr: u64,
    /// Slots from `slot_addr` to the end of its list page.
    page_slots_left: u64,
    /// List entries (data pages) still to read.
    entries_left: u64,
    /// Entries left in the current batch: the batches a walk with room for every piece reads,
    /// which decide where a fault is met whatever room `out` has.
    batch_left: u64,
}

impl<'m, M: DmaMemory + ?Sized> PrpWalker<'m, M> {
    /// A walker for a transfer of `len` bytes described by `prp1` and `prp2`, reading PRP lists
    /// from `mem`. A zero `len` yields nothing and reads nothing.
    #[inline]
    pub fn new(prp1: u64, prp2: u64, len: u64, page_size: PageSize, mem: &'m M) -> Self {
        PrpWalker {
            mem,
            ps: page_size,
            prp1,
            prp2,
            stage: if len == 0 { Stage::Done } else { Stage::Start },
            remaining: len,
            run: Extent::new(0, 0),
            slot_addr: 0,
            page_slots_left: 0,
            entries_left: 0,
            batch_left: 0,
        }
    }

    /// Check PRP1 and PRP2, and account for the pages they name: all of a transfer of one or
    /// two pages, or PRP1's page before the list. Writes a piece to `out[0]` only when PRP1's
    /// page and PRP2's are not adjacent (the second is then the run); the count written.
    #[inline]
    fn start(&mut self, out: &mut [Piece]) -> Result<usize, WalkError> {
        let (ps, prp1, prp2) = (self.ps, self.prp1, self.prp2);
        if prp1 & 3 != 0 {
            return Err(WalkError::Prp1NotDwordAligned { prp1 });
        }
        let pages = pages_touched(ps, prp1, self.remaining);
        // PRP1's page is used from its offset to the page's end.
        let first = ps
            .bytes()
            .wrapping_sub(ps.offset_of(prp1))
            .min(self.remaining);
        self.remaining = self.remaining.wrapping_sub(first);
        self.run = Extent::new(prp1, first);
        match pages {
            0 | 1 => self.stage = Stage::Done,
            2 => {
                if !ps.is_aligned(prp2) {
                    return Err(WalkError::Prp2Offset { prp2 });
                }
                self.stage = Stage::Done;
                let second = core::mem::take(&mut self.remaining);
                return Ok(self.extend_run(prp2, second, out, 0));
            }
            _ => {
                if prp2 & (ENTRY_BYTES - 1) != 0 {
                    return Err(WalkError::ListPointerMisaligned { prp2 });
                }
                self.stage = Stage::List;
                self.slot_addr = prp2;
                self.page_slots_left = first_page_slots(ps, prp2);
                self.entries_left = pages.wrapping_sub(1);
            }
        }
        Ok(0)
    }

    /// Add `len` bytes at `addr` to the run, or, when `addr` does not continue it, write the
    /// run to `out[written]` and start a new one there; the new count written. The caller
    /// makes sure `out[written]` exists.
    #[inline(always)]
    fn extend_run(&mut self, addr: u64, len: u64, out: &mut [Piece], written: usize) -> usize {
        // Physically adjacent: extend the run (its end is below 2^64).
        if self.run.end() == Some(addr) {
            self.run.len = self.run.len.wrapping_add(len);
            return written;
        }
        let done = core::mem::replace(&mut self.run, Extent::new(addr, len));
        match out.get_mut(written) {
            Some(slot) => {
                *slot = Piece::Data(done);
                written.wrapping_add(1)
            }
            None => written,
        }
    }

    /// Read list entries into pieces from `out[written]` on, until the list is read or `out`
    /// is full; the new count written.
    #[inline(never)]
    fn walk_list(&mut self, out: &mut [Piece], mut written: usize) -> Result<usize, WalkError> {
        while self.entries_left != 0 {
            let room = out.len().saturating_sub(written);
            if room == 0 {
                break;
            }
            // This page's last slot is a pointer only when more entries remain than slots.
            let chains = self.entries_left > self.page_slots_left;
            let data_here = if chains {
                self.page_slots_left.saturating_sub(1)
            } else {
                self.entries_left
            };
            if data_here == 0 {
                self.follow_chain()?;
                continue;
            }
            let fresh = self.batch_left == 0;
            if fresh {
                self.batch_left = data_here.min(BATCH as u64);
            }
            let n = usize::try_from(self.batch_left).unwrap_or(BATCH).min(room);
            if fresh && (n as u64) < self.batch_left {
                // Less room than the batch: the read that would take it whole decides whether
                // a fault is met here, so the answer does not depend on the room `out` has.
                let bytes = self.batch_left.wrapping_mul(ENTRY_BYTES);
                self.mem.probe(self.slot_addr, bytes).map_err(|fault| {
                    WalkError::ListFetchFault {
                        addr: fault.addr,
                        len: fault.len,
                    }
                })?;
            }
            // The buffer is zeroed for every read: a short read gets a short one.
            written = if n <= SMALL_BATCH {
                self.take_entries::<SMALL_BATCH>(n, out, written)?
            } else {
                self.take_entries::<BATCH>(n, out, written)?
            };
        }
        if self.entries_left == 0 {
            self.stage = Stage::Done;
        }
        Ok(written)
    }

    /// Read the next `n` list entries (`n <= N`, within the current batch and page) through a
    /// buffer of `N`, and merge them into pieces from `out[written]` on (`out` has room for
    /// `n`); the new count written.
    #[inline(always)]
    fn take_entries<const N: usize>(
        &mut self,
        n: usize,
        out: &mut [Piece],
        mut written: usize,
    ) -> Result<usize, WalkError> {
        let mut batch = [U64::ZERO; N];
        let mask = self.ps.offset_mask();
        let page = self.ps.bytes();
        let entries = batch.get_mut(..n).unwrap_or_default();
        fetch(self.mem, self.slot_addr, entries)?;
        // The run and the bytes left stay in locals through the loop and are stored once
        // after it.
        let (mut run, mut remaining) = (self.run, self.remaining);
        for (i, entry) in entries.iter().enumerate() {
            let entry = entry.get();
            if entry & mask != 0 {
                // Slots never pass the end of their page, which is at most 2^64.
                let slot = self
                    .slot_addr
                    .wrapping_add((i as u64).wrapping_mul(ENTRY_BYTES));
                return Err(WalkError::ListEntryOffset { slot, entry });
            }
            let len = page.min(remaining);
            remaining = remaining.wrapping_sub(len);
            // Physically adjacent: the run goes on (its end is below 2^64).
            if run.end() == Some(entry) {
                run.len = run.len.wrapping_add(len);
            } else {
                // At most `room` entries are read, so `out[written]` is there.
                if let Some(slot) = out.get_mut(written) {
                    *slot = Piece::Data(run);
                    written = written.wrapping_add(1);
                }
                run = Extent::new(entry, len);
            }
        }
        (self.run, self.remaining) = (run, remaining);
        let n = entries.len() as u64;
        self.slot_addr = self.slot_addr.wrapping_add(n.wrapping_mul(ENTRY_BYTES));
        self.page_slots_left = self.page_slots_left.wrapping_sub(n);
        self.entries_left = self.entries_left.wrapping_sub(n);
        self.batch_left = self.batch_left.wrapping_sub(n);
        Ok(written)
    }

    /// Read the chain pointer in the current page's last slot and move to the page it names.
    fn follow_chain(&mut self) -> Result<(), WalkError> {
        let slot = self.slot_addr;
        let mut entry = [U64::ZERO];
        fetch(self.mem, slot, &mut entry)?;
        let [next] = entry.map(U64::get);
        if !self.ps.is_aligned(next) {
            return Err(WalkError::ChainPointerOffset { slot, entry: next });
        }
        self.slot_addr = next;
        self.page_slots_left = self.ps.entries_per_page();
        Ok(())
    }

    /// Every piece is out: later calls write nothing.
    #[inline(always)]
    fn is_over(&self) -> bool {
        self.stage == Stage::Done && self.run.len == 0
    }

    /// The walk in one function, so that a failure anywhere ends it in [`Walk::fill`].
    #[inline]
    fn advance(&mut self, out: &mut [Piece]) -> Result<Progress, WalkError> {
        let mut written = 0;
        if self.stage == Stage::Start {
            written = self.start(out)?;
        }
        if self.stage == Stage::List {
            written = self.walk_list(out, written)?;
        }
        if self.stage == Stage::Done && self.run.len != 0 {
            if let Some(slot) = out.get_mut(written) {
                *slot = Piece::Data(core::mem::take(&mut self.run));
                written = written.wrapping_add(1);
            }
        }
        Ok(Progress {
            written,
            done: self.is_over(),
        })
    }
}

impl<M: DmaMemory + ?Sized> Walk for PrpWalker<'_, M> {
    type Error = WalkError;

    #[inline]
    fn fill(&mut self, out: &mut [Piece]) -> Result<Progress, WalkError> {
        if out.is_empty() {
            return Ok(Progress {
                written: 0,
                done: self.is_over(),
            });
        }
        self.advance(out).inspect_err(|_| {
            // A walk that failed yields nothing more.
            self.stage = Stage::Done;
            self.run = Extent::new(0, 0);
        })
    }

    /// PRP1 alone: a dword-aligned PRP1 whose page holds the whole transfer.
    #[inline]
    fn sole_piece(&mut self) -> Option<Piece> {
        let (ps, prp1, len) = (self.ps, self.prp1, self.remaining);
        let room = ps.bytes().wrapping_sub(ps.offset_of(prp1));
        if self.stage != Stage::Start || prp1 & 3 != 0 || len > room {
            return None;
        }
        (self.stage, self.remaining) = (Stage::Done, 0);
        Some(Piece::Data(Extent::new(prp1, len)))
    }
}

impl<'m, M: DmaMemory + ?Sized> PrpWalker<'m, M> {
    /// The walk as an iterator over the extents of its pieces (a PRP walk yields nothing but
    /// data), for callers that work with [`Extent`]s.
    pub fn extents(self) -> impl Iterator<Item = Result<Extent, WalkError>> + 'm
    where
        M: 'm,
    {
        self.pieces()
            .map(|piece| piece.map(|p| p.data().unwrap_or_default()))
    }
}

impl<'m, M: DmaMemory + ?Sized> IntoIterator for PrpWalker<'m, M> {
    type Item = Result<Piece, WalkError>;
    type IntoIter = Pieces<Self>;

    fn into_iter(self) -> Pieces<Self> {
        self.pieces()
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
