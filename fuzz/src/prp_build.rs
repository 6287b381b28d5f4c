//! `prp_build_walk`: the PRP builder against the independent oracle of the integration tests,
//! then the built layout walked back.
//!
//! Checks: the builder accepts exactly the extents the oracle accepts, counting the same
//! pages; an accepted layout walks back to exactly the extents (adjacent ones merged), reading
//! exactly the list slots the layout holds; the builder writes only the list slots the layout
//! needs, in the list pages it was given, and writes nothing at all when it refuses (for bad
//! extents or too little list memory).

use arbitrary::{Arbitrary, Result, Unstructured};
use nvme_dma::prp::{PrpBuilder, PrpListPage, PrpWalker};
use nvme_dma::{Extent, PageSize};
use nvme_dma_testkit::oracle::{normalize, oracle_accepts, oracle_pages, LIST_REGION};

use crate::descriptor_memory::{
    assert_untouched, assert_written_exactly, chained_use, memory_of, pages_of, Buffers, POISON,
};
use crate::encode::{self, Encode};

/// At most this many extents.
pub const MAX_EXTENTS: usize = 12;
/// Layouts of more pages are checked against the oracle but not built (their list memory
/// would be too large to allocate per run).
pub const MAX_BUILD_PAGES: u64 = 4096;
/// Extents touching more pages are only planned (no panic, no hang): the oracle cuts the
/// transfer into pages one by one.
pub const MAX_ORACLE_PAGES: u128 = 1 << 16;

/// One extent, as raw numbers or shaped by pages so that valid layouts are common.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExtentSpec {
    /// Exactly this extent.
    Raw(Extent),
    /// From `head` (modulo the page size) into page `page`, to `tail` (modulo the page size)
    /// into the page `pages` pages later.
    Paged {
        /// First page number.
        page: u32,
        /// Offset of the first byte.
        head: u32,
        /// Pages from the first page to the end page.
        pages: u16,
        /// Offset of the end (one past the last byte) in the end page.
        tail: u32,
    },
}

impl ExtentSpec {
    /// The extent in memory pages of `ps` bytes.
    pub fn resolve(&self, ps: u64) -> Extent {
        match *self {
            ExtentSpec::Raw(e) => e,
            ExtentSpec::Paged {
                page,
                head,
                pages,
                tail,
            } => {
                let base = u64::from(page) * ps;
                let start = base + u64::from(head) % ps;
                let end = base + u64::from(pages) * ps + u64::from(tail) % ps;
                Extent::new(start, end.saturating_sub(start))
            }
        }
    }
}

/// Extents for one command and the builder's settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrpBuildInput {
    /// CC.MPS.
    pub page_size: PageSize,
    /// MDTS in bytes, if any.
    pub max_transfer: Option<u64>,
    /// The first list page's offset in its memory page, in qwords (modulo the page).
    pub list_offset: u16,
    /// List pages supplied beyond what the plan needs (modulo 3).
    pub spare_lists: u8,
    /// The scatter list.
    pub extents: Vec<ExtentSpec>,
}

impl<'a> Arbitrary<'a> for ExtentSpec {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(if u.arbitrary::<bool>()? {
            ExtentSpec::Raw(u.arbitrary()?)
        } else {
            ExtentSpec::Paged {
                page: u.arbitrary()?,
                head: u.arbitrary()?,
                pages: u.arbitrary()?,
                tail: u.arbitrary()?,
            }
        })
    }
}

impl Encode for ExtentSpec {
    fn encode(&self, out: &mut Vec<u8>) {
        match *self {
            ExtentSpec::Raw(e) => {
                true.encode(out);
                e.encode(out);
            }
            ExtentSpec::Paged {
                page,
                head,
                pages,
                tail,
            } => {
                false.encode(out);
                page.encode(out);
                head.encode(out);
                pages.encode(out);
                tail.encode(out);
            }
        }
    }
}

impl<'a> Arbitrary<'a> for PrpBuildInput {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let page_size = u.arbitrary()?;
        let max_transfer = encode::option(u)?;
        let list_offset = u.arbitrary()?;
        let spare_lists = u.arbitrary()?;
        let n = encode::count(u, MAX_EXTENTS)?;
        let extents = (0..n).map(|_| u.arbitrary()).collect::<Result<_>>()?;
        Ok(PrpBuildInput {
            page_size,
            max_transfer,
            list_offset,
            spare_lists,
            extents,
        })
    }
}

impl Encode for PrpBuildInput {
    fn encode(&self, out: &mut Vec<u8>) {
        self.page_size.encode(out);
        self.max_transfer.encode(out);
        self.list_offset.encode(out);
        self.spare_lists.encode(out);
        encode::collection(&self.extents, MAX_EXTENTS, out);
    }
}

/// Run every PRP build-and-walk check on one input.
pub fn check(input: &PrpBuildInput) {
    let ps = input.page_size;
    let psb = ps.bytes();
    let extents: Vec<Extent> = input.extents.iter().map(|e| e.resolve(psb)).collect();
    let mut builder = PrpBuilder::new(ps);
    if let Some(max) = input.max_transfer {
        builder = builder.with_max_transfer(max);
    }
    let plan = builder.plan(&extents);
    let touched: u128 = extents
        .iter()
        .filter(|e| e.len > 0)
        .map(|e| {
            let (a, p) = (u128::from(e.addr), u128::from(psb));
            (a + u128::from(e.len) - 1) / p - a / p + 1
        })
        .sum();
    if touched > MAX_ORACLE_PAGES {
        return;
    }
    let accepted = oracle_accepts(&extents, psb, input.max_transfer);
    assert_eq!(plan.is_ok(), accepted, "{extents:x?}: plan {plan:?}");
    let first_offset = (u64::from(input.list_offset) * 8) % psb;

    let plan = match plan {
        Ok(plan) => plan,
        Err(e) => {
            assert!(!e.to_string().is_empty());
            // Building refuses as planning did, and touches no list memory.
            let mut given: Buffers = vec![(LIST_REGION + first_offset, vec![POISON; 64])];
            let mut lists: Vec<PrpListPage<'_>> = pages_of(&mut given);
            assert_eq!(builder.build(&extents, &mut lists), Err(e));
            drop(lists);
            return assert_untouched(&given, "a refused build");
        }
    };
    let pages = oracle_pages(&extents, psb);
    assert_eq!(plan.pages(), pages);
    let total: u128 = extents.iter().map(|e| u128::from(e.len)).sum();
    assert_eq!(u128::from(plan.len()), total);
    let first = extents.iter().find(|e| e.len > 0).unwrap();
    assert_eq!(plan.prp1(), first.addr);
    if pages > MAX_BUILD_PAGES {
        return;
    }

    // List memory: the pages the chaining rule needs, each buffer sized to hold its entries
    // and a few slots more (or the whole rest of its memory page), then spare pages.
    let entries = if pages > 2 { pages - 1 } else { 0 };
    let used = chained_use(entries, (psb - first_offset) / 8, psb / 8);
    assert_eq!(
        plan.list_pages_needed(LIST_REGION + first_offset),
        used.len() as u64
    );
    // The first list page sits at its offset in memory page 0 of the list region; list page
    // `i > 0` fills memory page `i + 1`.
    let page_addr =
        |i: usize| LIST_REGION + psb * i as u64 + if i == 0 { first_offset } else { psb };
    let mut buffers: Buffers = Vec::new();
    for (i, &slots) in used.iter().enumerate() {
        let room = if i == 0 { psb - first_offset } else { psb };
        let size = room.min(8 * (slots + 4) + 5);
        buffers.push((page_addr(i), vec![POISON; size as usize]));
    }
    for k in 0..usize::from(input.spare_lists % 3) {
        buffers.push((page_addr(used.len() + k), vec![POISON; 64]));
    }

    // One list page too few: refused, nothing written.
    if let Some(short) = used.len().checked_sub(1) {
        let mut lists = pages_of(&mut buffers[..short]);
        assert!(builder.build(&extents, &mut lists).is_err());
        drop(lists);
        assert_untouched(&buffers, "too little list memory");
    }

    let mut lists = pages_of(&mut buffers);
    let layout = builder
        .build(&extents, &mut lists)
        .expect("planned layout builds");
    drop(lists);
    assert_eq!(layout.plan, plan);
    assert_eq!(layout.list_pages_used, used.len());
    assert_eq!(layout.pair.prp1, plan.prp1());
    if !used.is_empty() {
        assert_eq!(layout.pair.prp2.raw(), page_addr(0));
    }
    assert_written_exactly(&buffers, &used, 8);

    // Walk it back over the list pages.
    let mem = memory_of(&buffers);
    let walked: std::result::Result<Vec<Extent>, _> = PrpWalker::new(
        layout.pair.prp1,
        layout.pair.prp2.raw(),
        plan.len(),
        ps,
        &mem,
    )
    .extents()
    .collect();
    assert_eq!(walked, Ok(normalize(&extents)), "walked back");
    assert_eq!(mem.bytes_read(), 8 * used.iter().sum::<u64>());
    assert_eq!(mem.write_count(), 0);

    if let [single] = extents[..] {
        let short = builder.build_inline(single);
        match short {
            Ok(pair) => assert_eq!(pair, layout.pair),
            Err(_) => assert!(pages > 2),
        }
    }
}
