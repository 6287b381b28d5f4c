//! A small emulator data path, written the way device models are: a Read or Write whose PRPs
//! are mapped into host pieces as QEMU's `nvme_map_prp` maps them (PRP1 to its page's end,
//! PRP2 as the second data page or a list pointer, lists chained through their last entry),
//! then moved against an in-memory namespace.
//!
//! The planted bug ([`fault_planted`](super::fault_planted)): at the last slot of a list
//! page the mapper always takes the entry for a pointer to the next list, even when that
//! entry is the transfer's last data page and no further list exists. A host that fills a
//! list exactly (a list that starts at an offset in its page, or a transfer of exactly one
//! list page of entries) gets its last page read as a list: an offset error, a read of the
//! wrong memory, or a fault, where the command should have succeeded.
//!
//! Everything else follows the specification as a strict controller does, so that with the
//! bug off the kit's oracle ([`Profile::STRICT`](nvme_dma::controller::Profile::STRICT))
//! agrees on every case: PRP1 dword aligned, PRP2 page aligned as a data page and qword
//! aligned as a list pointer, every list entry and chain pointer page aligned, the whole
//! pointer mapped and every buffer checked before a byte moves.

use nvme_dma::spec::{Opcode, Psdt, Status, SubmissionEntry};
use nvme_dma::{DmaMemory, Extent, PageSize};

/// A namespace of `media.len() / block_size` blocks, behind a controller with one page size
/// and no SGL support.
#[derive(Clone, Debug)]
pub struct Emulator {
    /// The memory page size the host enabled (CC.MPS).
    pub page_size: PageSize,
    /// The logical block size in bytes.
    pub block_size: u64,
    /// The namespace's blocks.
    pub media: Vec<u8>,
    /// Whether the planted bug is in ([`fault_planted`](super::fault_planted) when made).
    pub planted: bool,
}

/// Bytes per PRP entry.
const ENTRY: u64 = 8;

/// Every status the data path fails with carries DNR: retrying the same pointer cannot help.
fn fail(status: Status) -> Status {
    status.with_dnr(true)
}

impl Emulator {
    /// A namespace of `blocks` blocks holding a fixed pattern, so that a Read moves bytes the
    /// host memory did not already hold.
    pub fn new(page_size: PageSize, block_size: u64, blocks: u64) -> Self {
        let len = usize::try_from(blocks.saturating_mul(block_size)).unwrap_or(0);
        let media = (0..len)
            .map(|i| (i.wrapping_mul(131) >> 3) as u8 ^ 0xc3)
            .collect();
        Emulator {
            page_size,
            block_size,
            media,
            planted: super::fault_planted(),
        }
    }

    /// Execute one I/O command against host memory `memory`; the completion status.
    pub fn submit<M: DmaMemory + ?Sized>(
        &mut self,
        sqe: &SubmissionEntry,
        memory: &mut M,
    ) -> Status {
        match self.execute(sqe, memory) {
            Ok(()) => Status::SUCCESS,
            Err(status) => status,
        }
    }

    fn execute<M: DmaMemory + ?Sized>(
        &mut self,
        sqe: &SubmissionEntry,
        memory: &mut M,
    ) -> Result<(), Status> {
        let to_host = match sqe.opcode() {
            Opcode::NVM_READ => true,
            Opcode::NVM_WRITE => false,
            _ => return Err(fail(Status::INVALID_OPCODE)),
        };
        // No SGL support: PSDT must say PRPs.
        if sqe.psdt() != Psdt::Prp {
            return Err(fail(Status::INVALID_FIELD));
        }
        let range = sqe.block_range();
        let start = range.slba().checked_mul(self.block_size);
        let len = range.blocks().saturating_mul(self.block_size);
        let media = start
            .and_then(|s| {
                Some(usize::try_from(s).ok()?..usize::try_from(s.checked_add(len)?).ok()?)
            })
            .filter(|r| r.end <= self.media.len())
            .ok_or(fail(Status::LBA_OUT_OF_RANGE))?;
        let pieces = self.map_prp(sqe.prp1(), sqe.prp2(), len, memory)?;
        // Every buffer is checked before anything moves, so a failed command changes neither
        // host memory nor the media.
        for piece in &pieces {
            memory
                .probe(piece.addr, piece.len)
                .map_err(|_| fail(Status::DATA_TRANSFER_ERROR))?;
        }
        let mut at = media.start;
        for piece in &pieces {
            let n = usize::try_from(piece.len).unwrap_or(usize::MAX);
            let end = at.saturating_add(n);
            let bytes = self
                .media
                .get_mut(at..end)
                .ok_or(fail(Status::DATA_TRANSFER_ERROR))?;
            let moved = if to_host {
                memory.write(piece.addr, bytes)
            } else {
                memory.read(piece.addr, bytes)
            };
            moved.map_err(|_| fail(Status::DATA_TRANSFER_ERROR))?;
            at = end;
        }
        Ok(())
    }
}

/// Read `count` list entries at `addr`.
fn read_entries<M: DmaMemory + ?Sized>(
    memory: &M,
    addr: u64,
    count: u64,
) -> Result<Vec<u64>, Status> {
    let mut bytes = vec![0u8; usize::try_from(count.saturating_mul(ENTRY)).unwrap_or(0)];
    memory
        .read(addr, &mut bytes)
        .map_err(|_| fail(Status::DATA_TRANSFER_ERROR))?;
    Ok(bytes
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().unwrap_or_default()))
        .collect())
}

impl Emulator {
    /// The host pieces PRP1 and PRP2 describe for a transfer of `len` bytes, in transfer order.
    pub fn map_prp<M: DmaMemory + ?Sized>(
        &self,
        prp1: u64,
        prp2: u64,
        len: u64,
        memory: &M,
    ) -> Result<Vec<Extent>, Status> {
        let page_size = self.page_size;
        let ps = page_size.bytes();
        let invalid_offset = fail(Status::PRP_OFFSET_INVALID);
        if prp1 & 3 != 0 {
            return Err(invalid_offset);
        }
        // PRP1: from its offset to the end of its page.
        let first = ps.saturating_sub(page_size.offset_of(prp1)).min(len);
        let mut pieces = vec![Extent::new(prp1, first)];
        let mut left = len.saturating_sub(first);
        if left == 0 {
            return Ok(pieces);
        }
        // PRP2: the second and last data page.
        if left <= ps {
            if !page_size.is_aligned(prp2) {
                return Err(invalid_offset);
            }
            pieces.push(Extent::new(prp2, left));
            return Ok(pieces);
        }
        // PRP2: a list, which may start at an offset in its page; its slots run to the page's
        // end. Each list read takes the entries still needed, up to the page's end.
        if prp2 & (ENTRY - 1) != 0 {
            return Err(invalid_offset);
        }
        let mut nents = ps.saturating_sub(page_size.offset_of(prp2)) / ENTRY;
        let mut list = read_entries(memory, prp2, nents.min(left.div_ceil(ps)))?;
        let mut i = 0u64;
        while left > 0 {
            // Each read takes every entry up to its page's end or the transfer's, so the entry
            // is there; a miss would be this mapper's own bug, answered as a transfer error.
            let mut entry = *list
                .get(usize::try_from(i).unwrap_or(usize::MAX))
                .ok_or(fail(Status::DATA_TRANSFER_ERROR))?;
            let last_slot = i.saturating_add(1) == nents;
            // The last slot points to another list only when more than one page remains.
            // PLANTED: with the bug in, it always does, so an exactly full list's last data page
            // is read as a list.
            let chains = if self.planted {
                last_slot
            } else {
                last_slot && left > ps
            };
            if chains {
                if !page_size.is_aligned(entry) {
                    return Err(invalid_offset);
                }
                nents = ps / ENTRY;
                list = read_entries(memory, entry, nents.min(left.div_ceil(ps)))?;
                i = 0;
                entry = *list.first().ok_or(fail(Status::DATA_TRANSFER_ERROR))?;
            }
            if !page_size.is_aligned(entry) {
                return Err(invalid_offset);
            }
            let n = left.min(ps);
            pieces.push(Extent::new(entry, n));
            left = left.saturating_sub(n);
            i = i.saturating_add(1);
        }
        Ok(pieces)
    }
}
