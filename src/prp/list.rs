//! PRP list memory: the pages a caller hands the builder ([`PrpListPage`]), the check that
//! they can hold a layout's list (with the chaining the spec requires), and the writing of
//! the list's entries into them. A list within its first page, every list of up to a page of
//! entries, is written without the chaining machinery.

use core::borrow::Borrow;

use zerocopy::little_endian::U64;
use zerocopy::FromBytes;

use super::error::BuildError;
use super::geometry::{first_page_slots, list_pages, ENTRY_BYTES};
use crate::extent::{Extent, PageSize};

/// One PRP list page in memory the caller owns: its bus address and its bytes.
///
/// The first list page (the one PRP2 points at) may start at any qword-aligned offset in its
/// memory page, as a small pool block does; every later one must be page aligned. A buffer may
/// be shorter than the rest of its memory page (a 256-byte pool block, say): it then holds fewer
/// entries and can only be the last list page, because the pointer to a following page lives in
/// the last slot of the memory page.
#[derive(Debug)]
pub struct PrpListPage<'a> {
    bus_addr: u64,
    slots: &'a mut [U64],
}

impl<'a> PrpListPage<'a> {
    /// A list page at `bus_addr` whose bytes the builder may overwrite. Trailing bytes that do
    /// not make a whole 8-byte slot are left alone.
    pub fn new(bus_addr: u64, bytes: &'a mut [u8]) -> Self {
        let whole = bytes.len() / 8;
        let slots = match <[U64]>::mut_from_prefix_with_elems(bytes, whole) {
            Ok((slots, _rest)) => slots,
            // Cannot happen (U64 is unaligned and `whole` slots fit), but an empty page is a
            // correct answer if it ever did: the builder then reports it as too small.
            Err(_) => &mut [],
        };
        PrpListPage { bus_addr, slots }
    }

    /// Bus address of the first slot.
    pub fn bus_addr(&self) -> u64 {
        self.bus_addr
    }

    /// How many 8-byte entries the buffer holds (a count, as [`SegmentBuf::capacity`] is, in
    /// the `u64` plans count in).
    ///
    /// [`SegmentBuf::capacity`]: crate::sgl::SegmentBuf::capacity
    pub fn capacity(&self) -> u64 {
        self.slots.len() as u64
    }
}

/// Check that `lists` can hold `entries` entries with the chaining the spec requires, and
/// return how many pages the layout uses. Writes nothing.
pub(super) fn check_list_memory(
    ps: PageSize,
    lists: &[PrpListPage<'_>],
    entries: u64,
) -> Result<usize, BuildError> {
    // A list within its first page, as every list of a transfer up to a page of entries is
    // (2 MiB in 4 KiB pages): one page to check, no chain.
    if let Some(first) = lists.first() {
        if first.bus_addr & (ENTRY_BYTES - 1) == 0
            && entries <= first_page_slots(ps, first.bus_addr)
            && entries <= first.slots.len() as u64
        {
            return Ok(1);
        }
    }
    let needed = match lists.first() {
        Some(first) if first.bus_addr & (ENTRY_BYTES - 1) != 0 => {
            return Err(BuildError::ListPageMisaligned {
                page: 0,
                addr: first.bus_addr,
                page_size: ps,
            });
        }
        Some(first) => list_pages(ps, first_page_slots(ps, first.bus_addr), entries),
        None => list_pages(ps, ps.entries_per_page(), entries),
    };
    let given = lists.len();
    let used = usize::try_from(needed)
        .ok()
        .filter(|&n| n <= given)
        .ok_or(BuildError::ListMemoryTooSmall { needed, given })?;
    let mut left = entries;
    for (page, list) in lists.iter().take(used).enumerate() {
        // The first page's qword alignment was checked above; later pages are chain targets.
        if page > 0 && !ps.is_aligned(list.bus_addr) {
            return Err(BuildError::ListPageMisaligned {
                page,
                addr: list.bus_addr,
                page_size: ps,
            });
        }
        let page_slots = first_page_slots(ps, list.bus_addr);
        let slots = (list.slots.len() as u64).min(page_slots);
        // A page that cannot take all remaining entries chains, and its chain pointer sits in
        // the last slot of the memory page, so it needs every slot up to there.
        let (required, data) = if left > page_slots {
            (page_slots, page_slots.saturating_sub(1))
        } else {
            (left, left)
        };
        if slots < required {
            return Err(BuildError::ListPageTooSmall {
                page,
                slots,
                required,
            });
        }
        left = left.saturating_sub(data);
    }
    Ok(used)
}

/// Split one list page's slots into the data slots it holds and, when more entries remain
/// than fit, the last slot of its memory page, which will point to the next list page.
/// `left` counts the data entries still to place.
fn carve<'s>(
    slots: &'s mut [U64],
    page_slots: u64,
    left: &mut u64,
) -> (&'s mut [U64], Option<&'s mut U64>) {
    // Slots past the end of the memory page are not part of the list.
    let in_page = usize::try_from(page_slots)
        .unwrap_or(usize::MAX)
        .min(slots.len());
    let slots = slots.get_mut(..in_page).unwrap_or_default();
    if *left > slots.len() as u64 {
        match slots.split_last_mut() {
            Some((chain, data)) => {
                *left = left.saturating_sub(data.len() as u64);
                (data, Some(chain))
            }
            None => (&mut [], None),
        }
    } else {
        // `left` fits the slot count here, so it fits usize.
        let n = usize::try_from(*left).unwrap_or(0);
        *left = 0;
        (slots.get_mut(..n).unwrap_or_default(), None)
    }
}

/// Write the list entries (every data page after the first) into list pages already checked
/// by `check_list_memory`, chaining pages as it goes.
pub(super) fn write_list<I>(ps: PageSize, extents: I, lists: &mut [PrpListPage<'_>], entries: u64)
where
    I: IntoIterator,
    I::Item: Borrow<Extent>,
{
    let mut pages = lists.iter_mut();
    let Some(first_list) = pages.next() else {
        return;
    };
    let first_slots = first_page_slots(ps, first_list.bus_addr);
    if entries <= first_slots {
        // `entries` fits the page's slot count (checked), so it fits usize.
        let n = usize::try_from(entries).unwrap_or(0);
        let slots = first_list.slots.get_mut(..n).unwrap_or_default();
        write_unchained(ps, extents, slots);
        return;
    }
    let mut left = entries;
    let (data, chain) = carve(first_list.slots, first_slots, &mut left);
    let mut chainer = ListChainer {
        ps,
        pages,
        chain,
        left,
    };
    let Some(((page, count), rest)) = page_runs(ps, extents) else {
        return;
    };
    let mut slots = chainer.push_run(data, page, count).iter_mut();
    for (page, count) in rest {
        if count == 1 {
            // The common scatter-list case: one page, one slot.
            if let Some(slot) = slots.next() {
                *slot = U64::new(page);
                continue;
            }
        }
        slots = chainer.push_run(slots.into_slice(), page, count).iter_mut();
    }
}

/// Write a list that fits one list page into `slots` (exactly its entries, as checked by
/// `check_list_memory`).
#[inline]
fn write_unchained<I>(ps: PageSize, extents: I, mut slots: &mut [U64])
where
    I: IntoIterator,
    I::Item: Borrow<Extent>,
{
    let Some(((page, count), rest)) = page_runs(ps, extents) else {
        return;
    };
    slots = write_pages(ps, slots, page, count);
    for (page, count) in rest {
        slots = if count == 1 {
            // The common scatter-list case: one page, one slot.
            match core::mem::take(&mut slots).split_first_mut() {
                Some((slot, rest)) => {
                    *slot = U64::new(page);
                    rest
                }
                None => return,
            }
        } else {
            write_pages(ps, slots, page, count)
        };
    }
}

/// The list's entries as runs of consecutive pages, `(first page, count)`: the first extent's
/// pages after PRP1's (possibly none), and then, in order, every page of each later extent,
/// which starts on a page boundary (checked by `plan`). `None` for no extents.
#[inline]
fn page_runs<I>(ps: PageSize, extents: I) -> Option<((u64, u64), impl Iterator<Item = (u64, u64)>)>
where
    I: IntoIterator,
    I::Item: Borrow<Extent>,
{
    let (shift, mask) = (ps.shift(), ps.offset_mask());
    let mut extents = extents
        .into_iter()
        .map(|e| *e.borrow())
        .filter(|e| e.len > 0);
    let first = extents.next()?;
    let in_page_end = (first.addr & mask).wrapping_add(first.len.wrapping_sub(1));
    let second_page = (first.addr & !mask).wrapping_add(ps.bytes());
    let rest = extents.map(move |e| (e.addr, (e.len.wrapping_sub(1) >> shift).wrapping_add(1)));
    Some(((second_page, in_page_end >> shift), rest))
}

/// Write the addresses of `count` consecutive pages from page-aligned `page` (all below 2^64,
/// checked by `plan`) into the front of `slots`; the slots left after them.
// Out of line: inlined into a caller, its loop compiles to a slower vector loop.
#[inline(never)]
fn write_pages(ps: PageSize, slots: &mut [U64], mut page: u64, count: u64) -> &mut [U64] {
    let n = usize::try_from(count)
        .unwrap_or(usize::MAX)
        .min(slots.len());
    let (run, rest) = slots.split_at_mut(n);
    let step = ps.bytes();
    for slot in run.iter_mut() {
        *slot = U64::new(page);
        page = page.wrapping_add(step);
    }
    rest
}

/// The cold half of list writing: runs of pages, and moving to the next list page.
struct ListChainer<'l, 'a> {
    ps: PageSize,
    /// The list pages not yet started.
    pages: core::slice::IterMut<'l, PrpListPage<'a>>,
    /// The current page's last slot, when the list continues past it.
    chain: Option<&'l mut U64>,
    /// Data entries not yet given a slot in a started page.
    left: u64,
}

impl<'l> ListChainer<'l, '_> {
    /// Write entries for `count` consecutive pages from page-aligned `base` into `data` (the
    /// current page's free data slots), chaining to further pages as needed. Returns the free
    /// data slots left afterwards.
    fn push_run(
        &mut self,
        mut data: &'l mut [U64],
        mut base: u64,
        mut count: u64,
    ) -> &'l mut [U64] {
        while count > 0 {
            if data.is_empty() {
                let (Some(slot), Some(next)) = (self.chain.take(), self.pages.next()) else {
                    break;
                };
                *slot = U64::new(next.bus_addr);
                (data, self.chain) = carve(next.slots, self.ps.entries_per_page(), &mut self.left);
                if data.is_empty() {
                    break;
                }
            }
            let n = (data.len() as u64).min(count);
            data = write_pages(self.ps, core::mem::take(&mut data), base, n);
            base = base.wrapping_add(n.wrapping_mul(self.ps.bytes()));
            count = count.saturating_sub(n);
        }
        data
    }
}
