//! The driver's DMA memory: a range of bus addresses the caller lends it, handed out in
//! memory pages (CC.MPS) for queues, PRP lists, SGL segments and Identify buffers.

use alloc::vec::Vec;
use core::fmt;

use crate::extent::{Extent, PageSize};

/// Why the arena could not be made, or could not give or take back pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ArenaError {
    /// The extent holds no whole memory page once its ends are aligned to the page size.
    NoWholePage {
        /// The extent given.
        extent: Extent,
        /// The memory page size.
        page_size: PageSize,
    },
    /// No run of `pages` free contiguous pages is left.
    Exhausted {
        /// Pages asked for.
        pages: u64,
        /// Pages free in all (perhaps not contiguous).
        free: u64,
        /// Pages in the arena.
        total: u64,
    },
    /// A request for zero pages.
    ZeroPages,
    /// The extent handed back is not a run of pages this arena gave out.
    NotAllocated {
        /// The extent handed back.
        extent: Extent,
    },
}

impl fmt::Display for ArenaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ArenaError::NoWholePage { extent, page_size } => write!(
                f,
                "the DMA arena {extent} holds no whole {page_size} page once aligned: lend the \
                 driver at least one page-aligned page of bus addresses"
            ),
            ArenaError::Exhausted { pages, free, total } => write!(
                f,
                "the DMA arena has no {pages} contiguous free pages ({free} of {total} free): \
                 lend the driver a larger arena, or free buffers first"
            ),
            ArenaError::ZeroPages => f.write_str("asked the DMA arena for zero pages"),
            ArenaError::NotAllocated { extent } => write!(
                f,
                "{extent} was not given out by this DMA arena (or was already freed): free \
                 exactly the extent `alloc` returned"
            ),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for ArenaError {}

/// A first-fit page allocator over one extent of bus addresses.
///
/// ```
/// use nvme_dma::{Extent, PageSize};
/// use nvme_dma::host::DmaArena;
///
/// // An unaligned extent: the arena uses the whole pages inside it.
/// let mut arena = DmaArena::new(Extent::new(0x1_0800, 0x4000), PageSize::SIZE_4K)?;
/// assert_eq!(arena.total_pages(), 3);
/// let two = arena.alloc(2)?;
/// assert_eq!(two, Extent::new(0x1_1000, 0x2000));
/// assert!(arena.alloc(2).is_err());
/// arena.free(two)?;
/// assert_eq!(arena.free_pages(), 3);
/// # Ok::<(), nvme_dma::host::ArenaError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DmaArena {
    base: u64,
    page_size: PageSize,
    pages: u64,
    free: u64,
    /// One flag per page, set while the page is given out.
    used: Vec<bool>,
}

impl DmaArena {
    /// An arena over the whole `page_size` pages inside `extent` (a page that would end at
    /// 2^64 is left out).
    pub fn new(extent: Extent, page_size: PageSize) -> Result<Self, ArenaError> {
        let none = ArenaError::NoWholePage { extent, page_size };
        let mask = page_size.offset_mask();
        let base = extent.addr.checked_add(mask).ok_or(none)? & !mask;
        let end = extent
            .end()
            .map_or(page_size.page_base(u64::MAX), |e| e & !mask);
        let pages = end.checked_sub(base).ok_or(none)? >> page_size.shift();
        let count = usize::try_from(pages).map_err(|_| none)?;
        if pages == 0 {
            return Err(none);
        }
        Ok(DmaArena {
            base,
            page_size,
            pages,
            free: pages,
            used: alloc::vec![false; count],
        })
    }

    /// The memory page size pages are counted in.
    pub const fn page_size(&self) -> PageSize {
        self.page_size
    }

    /// The bus addresses the arena manages (whole pages).
    pub fn extent(&self) -> Extent {
        Extent::new(self.base, self.pages << self.page_size.shift())
    }

    /// Pages in the arena.
    pub const fn total_pages(&self) -> u64 {
        self.pages
    }

    /// Pages not given out.
    pub const fn free_pages(&self) -> u64 {
        self.free
    }

    /// `pages` contiguous pages, page aligned, lowest address first.
    pub fn alloc(&mut self, pages: u64) -> Result<Extent, ArenaError> {
        if pages == 0 {
            return Err(ArenaError::ZeroPages);
        }
        let exhausted = ArenaError::Exhausted {
            pages,
            free: self.free,
            total: self.pages,
        };
        let want = usize::try_from(pages).map_err(|_| exhausted)?;
        let mut run_start = 0usize;
        let mut run_len = 0usize;
        for (index, used) in self.used.iter().enumerate() {
            if *used {
                run_len = 0;
                continue;
            }
            if run_len == 0 {
                run_start = index;
            }
            run_len = run_len.saturating_add(1);
            if run_len == want {
                return self.mark(run_start, want, true).ok_or(exhausted);
            }
        }
        Err(exhausted)
    }

    /// Give back an extent [`DmaArena::alloc`] returned. Every page of it must be given out;
    /// otherwise nothing changes.
    pub fn free(&mut self, extent: Extent) -> Result<(), ArenaError> {
        let wrong = ArenaError::NotAllocated { extent };
        let offset = extent.addr.checked_sub(self.base).ok_or(wrong)?;
        let aligned = self.page_size.is_aligned(offset) && self.page_size.is_aligned(extent.len);
        if !aligned || extent.is_empty() {
            return Err(wrong);
        }
        let first = usize::try_from(offset >> self.page_size.shift()).map_err(|_| wrong)?;
        let count = usize::try_from(extent.len >> self.page_size.shift()).map_err(|_| wrong)?;
        let end = first.checked_add(count).ok_or(wrong)?;
        let all_used = self
            .used
            .get(first..end)
            .is_some_and(|pages| pages.iter().all(|u| *u));
        if !all_used {
            return Err(wrong);
        }
        self.mark(first, count, false).map(|_| ()).ok_or(wrong)
    }

    /// Set `count` pages from `first` to `used`, keep the free count, and return their extent.
    fn mark(&mut self, first: usize, count: usize, used: bool) -> Option<Extent> {
        let end = first.checked_add(count)?;
        self.used.get_mut(first..end)?.fill(used);
        let count = u64::try_from(count).ok()?;
        self.free = if used {
            self.free.checked_sub(count)?
        } else {
            self.free.checked_add(count)?
        };
        let shift = self.page_size.shift();
        let addr = self.base.checked_add(u64::try_from(first).ok()? << shift)?;
        Some(Extent::new(addr, count << shift))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_extent_without_a_whole_page_is_refused() {
        let ps = PageSize::SIZE_4K;
        for extent in [
            Extent::new(0x1001, 0x1ffe), // ends at 0x2fff: page 0x2000 is not whole
            Extent::new(0x1000, 0xfff),
            Extent::new(u64::MAX - 0x800, 0x800),
        ] {
            assert_eq!(
                DmaArena::new(extent, ps),
                Err(ArenaError::NoWholePage {
                    extent,
                    page_size: ps
                })
            );
        }
    }

    #[test]
    fn the_page_ending_at_the_top_of_the_address_space_is_left_out() {
        // Its end (2^64) has no u64 address; the pages below it are used.
        let arena = DmaArena::new(Extent::new(u64::MAX - 0x2fff, 0x3000), PageSize::SIZE_4K);
        assert_eq!(
            arena.map(|a| a.extent()),
            Ok(Extent::new(u64::MAX - 0x2fff, 0x2000))
        );
    }

    #[test]
    fn first_fit_skips_runs_too_short() {
        let mut arena = DmaArena::new(Extent::new(0, 0x5000), PageSize::SIZE_4K).unwrap();
        let a = arena.alloc(1).unwrap();
        let b = arena.alloc(1).unwrap();
        let _c = arena.alloc(1).unwrap();
        arena.free(b).unwrap();
        // Page 1 is free but a run of two starts at page 3.
        assert_eq!(arena.alloc(2), Ok(Extent::new(0x3000, 0x2000)));
        assert_eq!(arena.alloc(1), Ok(b));
        assert_eq!(
            arena.alloc(1),
            Err(ArenaError::Exhausted {
                pages: 1,
                free: 0,
                total: 5
            })
        );
        arena.free(a).unwrap();
        assert_eq!(arena.free_pages(), 1);
    }

    #[test]
    fn only_extents_given_out_come_back() {
        let mut arena = DmaArena::new(Extent::new(0x10_0000, 0x4000), PageSize::SIZE_4K).unwrap();
        let two = arena.alloc(2).unwrap();
        for wrong in [
            Extent::new(0x10_2000, 0x1000), // free page
            Extent::new(0x10_0800, 0x1000), // not page aligned
            Extent::new(0x10_0000, 0x800),  // not whole pages
            Extent::new(0x10_0000, 0x3000), // runs into free pages
            Extent::new(0xf_f000, 0x1000),  // below the arena
            Extent::new(0x10_0000, 0),      // empty
        ] {
            assert_eq!(
                arena.free(wrong),
                Err(ArenaError::NotAllocated { extent: wrong })
            );
        }
        assert_eq!(arena.free_pages(), 2, "refused frees change nothing");
        arena.free(two).unwrap();
        assert!(arena.free(two).is_err(), "twice");
        assert_eq!(arena.alloc(0), Err(ArenaError::ZeroPages));
    }
}
