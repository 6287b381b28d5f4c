//! A small driver PRP builder, the loop of Linux's `nvme_pci_setup_prps`: PRP1 is the first
//! byte, PRP2 the second page or a list, and the list is filled page by page, a new list page
//! taking over the old one's last entry when it fills.
//!
//! The planted bug ([`fault_planted`](super::fault_planted)): the list loop stops as soon
//! as less than a whole page remains, so the last extent's bytes past its last page boundary
//! are not described. The command's NLB still counts them, so a controller reads one list
//! entry more than the driver wrote and moves the tail of the transfer to or from whatever
//! that slot holds.

use nvme_dma::spec::{BlockRange, Opcode, SubmissionEntry};
use nvme_dma::{Direction, DmaMemory, Extent, PageSize, SimMemory};

/// A built command: its submission entry and the list pages it points into.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Built {
    /// The Read or Write, with PRP1, PRP2 and the block range set.
    pub sqe: SubmissionEntry,
    /// Each list page used, as (bus address, its whole page of bytes).
    pub lists: Vec<(u64, Vec<u8>)>,
}

impl Built {
    /// Map the list pages in `memory` and write them there, as a driver's DMA-coherent pool
    /// would hold them.
    pub fn write_lists(&self, memory: &mut SimMemory) -> Result<(), nvme_dma::DmaFault> {
        for (addr, bytes) in &self.lists {
            memory.map(*addr, bytes.len() as u64)?;
            memory.write(*addr, bytes)?;
        }
        Ok(())
    }
}

/// Whether `extents` can be one PRP data pointer: the first starts dword aligned, every other
/// one starts on a page, and every one but the last ends on a page. A driver that cannot
/// express a request this way bounces or splits it; this one declines.
fn prp_compatible(extents: &[Extent], page_size: PageSize) -> bool {
    let last = extents.len().saturating_sub(1);
    extents.iter().enumerate().all(|(i, e)| {
        let Some(end) = e.end() else {
            return false;
        };
        e.len > 0
            && (if i == 0 {
                e.addr & 3 == 0
            } else {
                page_size.is_aligned(e.addr)
            })
            && (i == last || page_size.is_aligned(end))
    })
}

/// The driver's view of one controller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Driver {
    /// The memory page size it enabled (CC.MPS).
    pub page_size: PageSize,
    /// The namespace's logical block size in bytes.
    pub block_size: u64,
    /// Whether the planted bug is in ([`fault_planted`](super::fault_planted) when made).
    pub planted: bool,
}

impl Driver {
    /// A driver for `page_size` pages and `block_size`-byte blocks.
    pub fn new(page_size: PageSize, block_size: u64) -> Self {
        Driver {
            page_size,
            block_size,
            planted: super::fault_planted(),
        }
    }

    /// Build a Read or Write of namespace 1 from block 0 carrying `extents` (a whole number of
    /// blocks), with PRP lists in `list_pages` (page-aligned, one page each). `None` when the
    /// extents are not PRP-compatible, are not whole blocks, or need more list pages than given.
    pub fn build(
        &self,
        extents: &[Extent],
        direction: Direction,
        list_pages: &[u64],
    ) -> Option<Built> {
        let (page_size, block_size) = (self.page_size, self.block_size);
        if extents.is_empty() || !prp_compatible(extents, page_size) {
            return None;
        }
        let total = extents
            .iter()
            .try_fold(0u64, |sum, e| sum.checked_add(e.len))?;
        if block_size == 0 || total % block_size != 0 {
            return None;
        }
        let opcode = match direction {
            Direction::Read => Opcode::NVM_READ,
            Direction::Write => Opcode::NVM_WRITE,
        };
        let range = BlockRange::new(0, total / block_size).ok()?;
        let mut sqe = SubmissionEntry::new(opcode, 0)
            .with_nsid(1)
            .with_block_range(range);

        // The loop in Linux's shape: signed lengths, a cursor (`dma_addr`, `dma_len`) in the
        // current extent.
        let ps = i128::from(page_size.bytes());
        let mut rest = extents.iter();
        let first = rest.next()?;
        let mut dma_addr = first.addr;
        let mut dma_len = i128::from(first.len);
        let offset = i128::from(page_size.offset_of(dma_addr));
        let mut length = i128::from(total) - (ps - offset);
        sqe.set_prp1(dma_addr);
        if length <= 0 {
            return Some(Built {
                sqe,
                lists: Vec::new(),
            });
        }
        dma_len -= ps - offset;
        if dma_len > 0 {
            dma_addr = dma_addr.checked_add(u64::try_from(ps - offset).ok()?)?;
        } else {
            let next = rest.next()?;
            dma_addr = next.addr;
            dma_len = i128::from(next.len);
        }
        if length <= ps {
            sqe.set_prp2(dma_addr);
            return Some(Built {
                sqe,
                lists: Vec::new(),
            });
        }

        let slots = usize::try_from(page_size.entries_per_page()).ok()?;
        let mut pages = list_pages.iter();
        let mut lists: Vec<(u64, Vec<u64>)> = vec![(*pages.next()?, Vec::with_capacity(slots))];
        sqe.set_prp2(lists.first()?.0);
        loop {
            if lists.last()?.1.len() == slots {
                // The page is full: a new one takes over its last entry, which becomes the
                // pointer to it.
                let next = *pages.next()?;
                let full = &mut lists.last_mut()?.1;
                let moved = full.pop()?;
                full.push(next);
                lists.push((next, vec![moved]));
            }
            lists.last_mut()?.1.push(dma_addr);
            dma_len -= ps;
            dma_addr = dma_addr.wrapping_add(page_size.bytes());
            length -= ps;
            // PLANTED: with the bug in, the loop stops once less than a whole page remains,
            // dropping a trailing partial page.
            let done = if self.planted {
                length < ps
            } else {
                length <= 0
            };
            if done {
                break;
            }
            if dma_len > 0 {
                continue;
            }
            let next = rest.next()?;
            dma_addr = next.addr;
            dma_len = i128::from(next.len);
        }
        let lists = lists
            .into_iter()
            .map(|(addr, entries)| {
                let mut page = vec![0u8; usize::try_from(page_size.bytes()).unwrap_or(0)];
                for (slot, entry) in page.chunks_exact_mut(8).zip(entries) {
                    slot.copy_from_slice(&entry.to_le_bytes());
                }
                (addr, page)
            })
            .collect();
        Some(Built { sqe, lists })
    }
}
