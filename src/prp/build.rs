//! Host side: turn physical extents into PRP1, PRP2 and PRP list pages.
//!
//! Building happens in two steps, both allocation-free:
//!
//! 1. [`PrpBuilder::plan`] checks the extents against the PRP rules and counts what the layout
//!    needs (pages, list entries, list pages). Nothing is written.
//! 2. [`PrpBuilder::build`] checks the caller's list memory against that plan, and only then
//!    writes the list entries. A refused build leaves the list memory untouched.
//!
//! [`PrpBuilder::build_planned`] is step 2 alone, for a caller that already holds the plan
//! (as [`dptr`](crate::dptr) does), and [`PrpBuilder::build_inline`] is the fast path for one
//! extent within two pages: no list, one pass.

use core::borrow::Borrow;

use super::error::BuildError;
use super::geometry::{first_page_slots, list_entries, list_pages, pages_touched};
use super::list::{check_list_memory, write_list, PrpListPage};
use crate::extent::{Extent, PageSize};

/// The two PRP entries of a submission entry's data pointer (DPTR).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct PrpPair {
    /// PRP Entry 1: the first data byte. The only data pointer that may carry a page offset.
    pub prp1: u64,
    /// PRP Entry 2, by what it means for this transfer.
    pub prp2: Prp2,
}

/// What PRP Entry 2 holds: one field with three meanings, told apart by how many memory pages
/// the transfer touches (NVMe Base Specification 2.1, 4.3.1). A driver that unmaps PRP2 after
/// the command must know which it is: a data page belongs to the I/O, a list to the driver.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Prp2 {
    /// The transfer stays within PRP1's page: PRP2 is not used, and is written as 0.
    #[default]
    Unused,
    /// The transfer touches exactly two pages: the second page's address (page aligned).
    Page(u64),
    /// The transfer touches more than two pages: the address of the first PRP list (qword
    /// aligned; it may sit at an offset in its page).
    List(u64),
}

impl Prp2 {
    /// The value of the PRP2 field in the submission entry.
    #[inline]
    pub const fn raw(self) -> u64 {
        match self {
            Prp2::Unused => 0,
            Prp2::Page(addr) | Prp2::List(addr) => addr,
        }
    }
}

/// Builds PRP layouts for one memory page size and, optionally, a maximum transfer size.
///
/// ```
/// use nvme_dma::{Extent, PageSize};
/// use nvme_dma::prp::{Prp2, PrpBuilder, PrpPair};
///
/// let builder = PrpBuilder::new(PageSize::SIZE_4K);
/// // 6 KiB starting 0x800 into a page: touches two pages, so PRP2 is the second data page.
/// let pair = builder.build_inline(Extent::new(0x10_0800, 0x1800))?;
/// assert_eq!(pair, PrpPair { prp1: 0x10_0800, prp2: Prp2::Page(0x10_1000) });
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

    /// The fast path: PRP1 and PRP2 for one extent within two memory pages, both carried in
    /// the command. Touches no list memory; [`BuildError::NotShort`] for a longer extent.
    #[inline]
    pub fn build_inline(&self, extent: Extent) -> Result<PrpPair, BuildError> {
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
        // Where the buffer ends, counted from the start of its first page: one comparison per
        // page count, cheaper than counting pages.
        let end = ps.offset_of(extent.addr).saturating_add(extent.len);
        let prp2 = if end <= ps.bytes() {
            Prp2::Unused
        } else if end <= ps.bytes().saturating_mul(2) {
            // The last byte lies in the next page, so that page's base is below 2^64.
            Prp2::Page(ps.page_base(extent.addr).wrapping_add(ps.bytes()))
        } else {
            return Err(BuildError::NotShort {
                pages: pages_touched(ps, extent.addr, extent.len),
            });
        };
        Ok(PrpPair {
            prp1: extent.addr,
            prp2,
        })
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
    #[inline]
    pub fn plan<I>(&self, extents: I) -> Result<PrpPlan, BuildError>
    where
        I: IntoIterator + Clone,
        I::Item: Borrow<Extent>,
    {
        let mut peek = extents.clone().into_iter();
        let quick = match (peek.next(), peek.next()) {
            (Some(only), None) => scan_one(self.page_size, *only.borrow()),
            _ => None,
        };
        match quick.or_else(|| scan(self.page_size, extents.clone())) {
            Some(plan) => {
                self.check_max(plan.len)?;
                Ok(plan)
            }
            None => Err(self.broken_rule(extents)),
        }
    }

    /// Name the first broken rule, in extent order, for extents that [`scan`] refused.
    fn broken_rule<I>(&self, extents: I) -> BuildError
    where
        I: IntoIterator,
        I::Item: Borrow<Extent>,
    {
        let ps = self.page_size;
        let mask = ps.offset_mask();
        let too_long = BuildError::TransferTooLong {
            len: u64::MAX,
            max: self.max_transfer.unwrap_or(u64::MAX),
        };
        let mut nonempty = extents
            .into_iter()
            .enumerate()
            .map(|(index, e)| (index, *e.borrow()))
            .filter(|(_, e)| e.len > 0);
        let Some((first_index, first)) = nonempty.next() else {
            return BuildError::EmptyTransfer;
        };
        let Some(first_last) = first.last_byte() else {
            return BuildError::AddressOverflow {
                index: first_index,
                extent: first,
            };
        };
        if first.addr & 3 != 0 {
            return BuildError::StartNotDwordAligned {
                index: first_index,
                extent: first,
            };
        }
        let (mut prev_index, mut prev, mut prev_last) = (first_index, first, first_last);
        let mut len = first.len;
        for (index, extent) in nonempty {
            if prev_last & mask != mask {
                return BuildError::EndInsidePage {
                    index: prev_index,
                    extent: prev,
                    page_size: ps,
                };
            }
            let Some(last) = extent.last_byte() else {
                return BuildError::AddressOverflow { index, extent };
            };
            if extent.addr & mask != 0 {
                return BuildError::StartInsidePage {
                    index,
                    extent,
                    page_size: ps,
                };
            }
            let Some(total) = len.checked_add(extent.len) else {
                return too_long;
            };
            (prev_index, prev, prev_last, len) = (index, extent, last, total);
        }
        // `scan` refuses only for the rules above and for a total past 2^64 - 1.
        too_long
    }

    /// Build the layout for `extents`, writing PRP list entries into `lists` when the transfer
    /// touches more than two pages: [`PrpBuilder::plan`], then [`PrpBuilder::build_planned`].
    ///
    /// `lists[0]` is the page PRP2 will point at; further pages are used in order as the list
    /// chains. Supply at least [`PrpPlan::list_pages_needed`] of them (with the first one's
    /// offset). On error nothing has been written.
    #[inline]
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
        self.build_planned(&plan, extents, lists)
    }

    /// Build the layout `plan` describes for `extents`, the extents it was made from, without
    /// checking them again: the list memory is checked against the plan, then the entries are
    /// written in one pass. On error nothing has been written.
    ///
    /// Extents other than the planned ones give a wrong layout (never a panic, and no write
    /// outside the list pages the plan counted).
    #[inline]
    pub fn build_planned<I>(
        &self,
        plan: &PrpPlan,
        extents: I,
        lists: &mut [PrpListPage<'_>],
    ) -> Result<PrpLayout, BuildError>
    where
        I: IntoIterator,
        I::Item: Borrow<Extent>,
    {
        let entries = plan.list_entries();
        let (prp2, list_pages_used) = match plan.pages {
            0 | 1 => (Prp2::Unused, 0),
            2 => (Prp2::Page(plan.second_page), 0),
            _ => {
                let used = check_list_memory(plan.page_size, lists, entries)?;
                let first_list = lists.first().map_or(0, PrpListPage::bus_addr);
                write_list(plan.page_size, extents, lists, entries);
                (Prp2::List(first_list), used)
            }
        };
        Ok(PrpLayout {
            pair: PrpPair {
                prp1: plan.prp1,
                prp2,
            },
            plan: *plan,
            list_pages_used,
        })
    }

    fn check_max(&self, len: u64) -> Result<(), BuildError> {
        match self.max_transfer {
            Some(max) if len > max => Err(BuildError::TransferTooLong { len, max }),
            _ => Ok(()),
        }
    }
}

/// [`scan`] for one extent, the most common request of all, without the loop: `None` when it
/// breaks a rule (or is empty), for `scan` to look again.
#[inline]
fn scan_one(ps: PageSize, extent: Extent) -> Option<PrpPlan> {
    if extent.addr & 3 != 0 {
        return None;
    }
    extent.last_byte()?;
    let pages = pages_touched(ps, extent.addr, extent.len);
    Some(PrpPlan {
        page_size: ps,
        prp1: extent.addr,
        len: extent.len,
        pages,
        second_page: ps.page_base(extent.addr).wrapping_add(ps.bytes()),
    })
}

/// The plan for `extents` when they break no rule, in one branch-light pass; `None` when any
/// rule breaks (then `PrpBuilder::broken_rule` finds which). The maximum transfer is checked by
/// the caller.
// Inline, with the loop out of line: the plan then never passes through memory between calls
// (a struct written by one call and copied by its caller right away stalls the copy until the
// writes land), and the loop keeps a small function of its own.
#[inline]
fn scan<I>(ps: PageSize, extents: I) -> Option<PrpPlan>
where
    I: IntoIterator + Clone,
    I::Item: Borrow<Extent>,
{
    let nonempty = |e: I::Item| Some(*e.borrow()).filter(|e| e.len > 0);
    let mut rest = extents.clone().into_iter().filter_map(nonempty);
    let first = rest.next()?;
    let first_last = first.last_byte()?;
    if first.addr & 3 != 0 {
        return None;
    }
    let len = scan_rest(ps.offset_mask(), first_last, first.len, rest)?;
    // In a valid layout every page after PRP1's is used whole but the last, so the page count
    // follows from PRP1's offset and the length, exactly as the controller computes it.
    let pages = pages_touched(ps, first.addr, len);
    let second_page = if pages == 2 && pages_touched(ps, first.addr, first.len) == 1 {
        // The second page is the second extent's.
        extents.into_iter().filter_map(nonempty).nth(1)?.addr
    } else {
        ps.page_base(first.addr).wrapping_add(ps.bytes())
    };
    Some(PrpPlan {
        page_size: ps,
        prp1: first.addr,
        len,
        pages,
        second_page,
    })
}

/// The extents after the first (the first ends at `prev_last`, and `len` bytes so far): the
/// total length when every one starts on a page boundary, every one before it ends on one,
/// and nothing wraps; `None` otherwise. Its answer comes back in registers.
#[inline(never)]
fn scan_rest(
    mask: u64,
    mut prev_last: u64,
    mut len: u64,
    rest: impl Iterator<Item = Extent>,
) -> Option<u64> {
    // Every broken rule sets a bit; the loop checks them all once at the end.
    let mut broken = 0;
    for extent in rest {
        let (last, wrapped) = extent.addr.overflowing_add(extent.len.wrapping_sub(1));
        let (total, carry) = len.overflowing_add(extent.len);
        // The previous extent must end at a page end, this one start at a page start.
        broken |= (!prev_last | extent.addr) & mask;
        broken |= u64::from(wrapped | carry);
        prev_last = last;
        len = total;
    }
    (broken == 0).then_some(len)
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
