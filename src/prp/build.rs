//! Host side: turn physical extents into PRP1, PRP2 and PRP list pages.
//!
//! Building happens in two steps, both allocation-free:
//!
//! 1. [`PrpBuilder::plan`] checks the extents against the PRP rules and counts what the layout
//!    needs (pages, list entries, list pages). Nothing is written.
//! 2. [`PrpBuilder::build`] checks the caller's list memory against that plan, and only then
//!    writes the list entries. A refused build leaves the list memory untouched.
//!
//! [`PrpBuilder::build_short`] is the fast path for one extent within two pages: no list, no
//! second pass.

use core::borrow::Borrow;

use zerocopy::little_endian::U64;
use zerocopy::FromBytes;

use super::error::BuildError;
use super::geometry::{first_page_slots, list_entries, list_pages, pages_touched, ENTRY_BYTES};
use crate::extent::{Extent, PageSize};

/// The two PRP entries of a submission entry's data pointer (DPTR).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct PrpPair {
    /// PRP Entry 1: the first data byte. The only data pointer that may carry a page offset.
    pub prp1: u64,
    /// PRP Entry 2: unused (zero) for a transfer within one page, the second data page for a
    /// transfer touching two pages, otherwise a pointer to the first PRP list.
    pub prp2: u64,
}

/// Builds PRP layouts for one memory page size and, optionally, a maximum transfer size.
///
/// ```
/// use nvme_dma::{Extent, PageSize};
/// use nvme_dma::prp::{PrpBuilder, PrpPair};
///
/// let builder = PrpBuilder::new(PageSize::SIZE_4K);
/// // 6 KiB starting 0x800 into a page: touches two pages, so PRP2 is the second data page.
/// let pair = builder.build_short(Extent::new(0x10_0800, 0x1800))?;
/// assert_eq!(pair, PrpPair { prp1: 0x10_0800, prp2: 0x10_1000 });
/// # Ok::<(), nvme_dma::prp::BuildError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PrpBuilder {
    page_size: PageSize,
    max_transfer: Option<u64>,
}

/// What a list of extents needs as a PRP layout: the result of [`PrpBuilder::plan`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PrpPlan {
    page_size: PageSize,
    prp1: u64,
    len: u64,
    pages: u64,
    /// Base of the second page touched (meaningful when `pages >= 2`).
    second_page: u64,
}

/// A built PRP layout: the pointers for the submission entry and what was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PrpLayout {
    /// PRP1 and PRP2.
    pub pair: PrpPair,
    /// The plan the layout was built from.
    pub plan: PrpPlan,
    /// List pages written (0 when PRP2 is unused or a data pointer).
    pub list_pages_used: usize,
}

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

    /// How many 8-byte entries the buffer holds.
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }
}

impl PrpBuilder {
    /// A builder for `page_size` with no limit on the transfer size.
    pub const fn new(page_size: PageSize) -> Self {
        PrpBuilder {
            page_size,
            max_transfer: None,
        }
    }

    /// Refuse transfers longer than `bytes` (the controller's MDTS in bytes).
    pub const fn with_max_transfer(mut self, bytes: u64) -> Self {
        self.max_transfer = Some(bytes);
        self
    }

    /// The memory page size.
    pub const fn page_size(&self) -> PageSize {
        self.page_size
    }

    /// The maximum transfer size, if one was set.
    pub const fn max_transfer(&self) -> Option<u64> {
        self.max_transfer
    }

    /// The fast path: PRP1 and PRP2 for one extent within two memory pages. Touches no list
    /// memory and makes no second pass.
    pub fn build_short(&self, extent: Extent) -> Result<PrpPair, BuildError> {
        if extent.len == 0 {
            return Err(BuildError::EmptyTransfer);
        }
        if extent.addr & 3 != 0 {
            return Err(BuildError::StartNotDwordAligned { index: 0, extent });
        }
        if !extent.fits_address_space() {
            return Err(BuildError::AddressOverflow { index: 0, extent });
        }
        self.check_max(extent.len)?;
        let ps = self.page_size;
        match pages_touched(ps, extent.addr, extent.len) {
            1 => Ok(PrpPair {
                prp1: extent.addr,
                prp2: 0,
            }),
            // The last byte lies in the next page, so that page's base is below 2^64.
            2 => Ok(PrpPair {
                prp1: extent.addr,
                prp2: ps.page_base(extent.addr).wrapping_add(ps.bytes()),
            }),
            pages => Err(BuildError::NotShort { pages }),
        }
    }

    /// Check `extents` against the PRP rules and count what the layout needs.
    ///
    /// Accepts a slice (`&[Extent]`), an array, or any cloneable iterator of extents. Empty
    /// extents are skipped: they describe no bytes, so they constrain nothing (their `index`
    /// still counts in errors).
    ///
    /// The rules, in the "device pages" view of NVMe Base 4.3.1 (`PS` = page size):
    /// - the first byte is dword aligned (it may sit anywhere in its page);
    /// - every extent after the first starts on a page boundary;
    /// - every extent before the last ends on a page boundary;
    /// - no extent runs past `2^64`, and the total is non-zero and within the maximum transfer.
    pub fn plan<I>(&self, extents: I) -> Result<PrpPlan, BuildError>
    where
        I: IntoIterator,
        I::Item: Borrow<Extent>,
    {
        let ps = self.page_size;
        let mut plan = PrpPlan {
            page_size: ps,
            prp1: 0,
            len: 0,
            pages: 0,
            second_page: 0,
        };
        // The previous non-empty extent: its index, value and last byte.
        let mut prev: Option<(usize, Extent, u64)> = None;
        for (index, extent) in extents.into_iter().enumerate() {
            let extent = *extent.borrow();
            if extent.len == 0 {
                continue;
            }
            if let Some((prev_index, prev_extent, prev_last)) = prev {
                // Not the last after all, so it must end on a page boundary.
                if ps.offset_of(prev_last) != ps.offset_mask() {
                    return Err(BuildError::EndInsidePage {
                        index: prev_index,
                        extent: prev_extent,
                        page_size: ps,
                    });
                }
            }
            let Some(last) = extent.last_byte() else {
                return Err(BuildError::AddressOverflow { index, extent });
            };
            // Pages this extent adds after the ones already counted.
            let new_pages = (last >> ps.shift())
                .wrapping_sub(extent.addr >> ps.shift())
                .saturating_add(1);
            if prev.is_none() {
                if extent.addr & 3 != 0 {
                    return Err(BuildError::StartNotDwordAligned { index, extent });
                }
                plan.prp1 = extent.addr;
                // With a second page inside this extent, its base is <= `last` < 2^64.
                plan.second_page = ps.page_base(extent.addr).wrapping_add(ps.bytes());
            } else {
                if !ps.is_aligned(extent.addr) {
                    return Err(BuildError::StartInsidePage {
                        index,
                        extent,
                        page_size: ps,
                    });
                }
                if plan.pages == 1 {
                    plan.second_page = extent.addr;
                }
            }
            plan.pages = plan.pages.saturating_add(new_pages);
            plan.len = plan
                .len
                .checked_add(extent.len)
                .ok_or(BuildError::TransferTooLong {
                    len: u64::MAX,
                    max: self.max_transfer.unwrap_or(u64::MAX),
                })?;
            self.check_max(plan.len)?;
            prev = Some((index, extent, last));
        }
        if plan.len == 0 {
            return Err(BuildError::EmptyTransfer);
        }
        Ok(plan)
    }

    /// Build the layout for `extents`, writing PRP list entries into `lists` when the transfer
    /// touches more than two pages.
    ///
    /// `lists[0]` is the page PRP2 will point at; further pages are used in order as the list
    /// chains. Supply at least [`PrpPlan::list_pages_needed`] of them (with the first one's
    /// offset). On error nothing has been written.
    pub fn build<I>(
        &self,
        extents: I,
        lists: &mut [PrpListPage<'_>],
    ) -> Result<PrpLayout, BuildError>
    where
        I: IntoIterator + Clone,
        I::Item: Borrow<Extent>,
    {
        let plan = self.plan(extents.clone())?;
        let entries = plan.list_entries();
        if entries == 0 {
            let prp2 = if plan.pages == 2 { plan.second_page } else { 0 };
            return Ok(PrpLayout {
                pair: PrpPair {
                    prp1: plan.prp1,
                    prp2,
                },
                plan,
                list_pages_used: 0,
            });
        }
        let used = check_list_memory(self.page_size, lists, entries)?;
        let Some(first_list) = lists.first() else {
            return Err(BuildError::ListMemoryTooSmall {
                needed: 1,
                given: 0,
            });
        };
        let prp2 = first_list.bus_addr;
        let mut writer = ListWriter::new(self.page_size, lists, entries);
        write_device_pages(self.page_size, extents, &mut writer);
        Ok(PrpLayout {
            pair: PrpPair {
                prp1: plan.prp1,
                prp2,
            },
            plan,
            list_pages_used: used,
        })
    }

    fn check_max(&self, len: u64) -> Result<(), BuildError> {
        match self.max_transfer {
            Some(max) if len > max => Err(BuildError::TransferTooLong { len, max }),
            _ => Ok(()),
        }
    }
}

impl PrpPlan {
    /// The memory page size the plan is for.
    pub const fn page_size(&self) -> PageSize {
        self.page_size
    }

    /// PRP1: the address of the first byte.
    pub const fn prp1(&self) -> u64 {
        self.prp1
    }

    /// Total bytes described.
    pub const fn len(&self) -> u64 {
        self.len
    }

    /// Always false: a plan describes at least one byte.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Memory pages the transfer touches (each becomes one PRP entry).
    pub const fn pages(&self) -> u64 {
        self.pages
    }

    /// Entries the PRP list holds: zero within two pages, otherwise `pages - 1`.
    pub const fn list_entries(&self) -> u64 {
        list_entries(self.pages)
    }

    /// True when PRP2 must point at a PRP list.
    pub const fn needs_list(&self) -> bool {
        self.pages > 2
    }

    /// How many list pages to supply when the first one starts at `first_list_addr` (only its
    /// offset in the memory page matters: a full page at offset 0 holds `page_size / 8` slots,
    /// a block at offset `o` holds `(page_size - o) / 8`).
    pub const fn list_pages_needed(&self, first_list_addr: u64) -> u64 {
        list_pages(
            self.page_size,
            first_page_slots(self.page_size, first_list_addr),
            self.list_entries(),
        )
    }
}

/// Check that `lists` can hold `entries` entries with the chaining the spec requires, and
/// return how many pages the layout uses. Writes nothing.
fn check_list_memory(
    ps: PageSize,
    lists: &[PrpListPage<'_>],
    entries: u64,
) -> Result<usize, BuildError> {
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

/// Feeds the data pages after the first, in order, to the list writer.
fn write_device_pages<I>(ps: PageSize, extents: I, writer: &mut ListWriter<'_, '_>)
where
    I: IntoIterator,
    I::Item: Borrow<Extent>,
{
    let mut first = true;
    for extent in extents {
        let extent = *extent.borrow();
        let Some(last) = extent.last_byte() else {
            continue; // empty (overflowing extents were refused by `plan`)
        };
        let base = ps.page_base(extent.addr);
        let count = (last >> ps.shift())
            .wrapping_sub(base >> ps.shift())
            .wrapping_add(1);
        if first {
            // PRP1 covers the first page; the list starts with the second.
            first = false;
            writer.push_run(base.wrapping_add(ps.bytes()), count.wrapping_sub(1));
        } else {
            writer.push_run(base, count);
        }
    }
}

/// Writes entries into list pages already checked by `check_list_memory`, chaining pages as it
/// goes: a page's last slot becomes a pointer only when more entries remain than it can hold.
struct ListWriter<'l, 'a> {
    ps: PageSize,
    lists: &'l mut [PrpListPage<'a>],
    page: usize,
    slot: usize,
    /// Data slots left in the current page before it must chain (or before the list ends).
    room: usize,
    /// Data entries not yet written.
    left: u64,
}

impl<'l, 'a> ListWriter<'l, 'a> {
    fn new(ps: PageSize, lists: &'l mut [PrpListPage<'a>], entries: u64) -> Self {
        let first_slots = lists
            .first()
            .map_or(0, |l| first_page_slots(ps, l.bus_addr));
        let mut writer = ListWriter {
            ps,
            lists,
            page: 0,
            slot: 0,
            room: 0,
            left: entries,
        };
        writer.room = writer.data_room(first_slots);
        writer
    }

    /// Data slots a page with `page_slots` slots holds, given the entries left.
    fn data_room(&self, page_slots: u64) -> usize {
        let room = if self.left > page_slots {
            page_slots.saturating_sub(1)
        } else {
            self.left
        };
        // Bounded by the page's slot count, which `check_list_memory` fitted into a buffer.
        usize::try_from(room).unwrap_or(usize::MAX)
    }

    /// Write `count` entries for consecutive pages starting at page-aligned `base`.
    fn push_run(&mut self, mut base: u64, mut count: u64) {
        let step = self.ps.bytes();
        while count > 0 && self.left > 0 {
            if self.room == 0 && !self.chain() {
                return;
            }
            let n = self.room.min(usize::try_from(count).unwrap_or(usize::MAX));
            let Some(list) = self.lists.get_mut(self.page) else {
                return;
            };
            let end = self.slot.saturating_add(n);
            let Some(slots) = list.slots.get_mut(self.slot..end) else {
                return;
            };
            // Entries are consecutive pages of one extent, all below 2^64 (checked by `plan`).
            let mut addr = base;
            for slot in slots.iter_mut() {
                *slot = U64::new(addr);
                addr = addr.wrapping_add(step);
            }
            base = addr;
            self.slot = end;
            self.room = self.room.saturating_sub(n);
            count = count.saturating_sub(n as u64);
            self.left = self.left.saturating_sub(n as u64);
        }
    }

    /// Fill the current page's last slot with the next page's address and move there.
    fn chain(&mut self) -> bool {
        let Some(next_addr) = self
            .lists
            .get(self.page.saturating_add(1))
            .map(|l| l.bus_addr)
        else {
            return false;
        };
        let Some(slot) = self
            .lists
            .get_mut(self.page)
            .and_then(|l| l.slots.get_mut(self.slot))
        else {
            return false;
        };
        *slot = U64::new(next_addr);
        self.page = self.page.saturating_add(1);
        self.slot = 0;
        self.room = self.data_room(self.ps.entries_per_page());
        true
    }
}
