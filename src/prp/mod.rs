//! PRPs: Physical Region Page entries and lists (NVMe Base Specification 4.3.1).
//!
//! A PRP data pointer describes a transfer as a sequence of memory pages. The controller's
//! memory page size `PS` (CC.MPS) is what "page" means here, not the CPU's page size.
//!
//! # The rules
//!
//! * **PRP1** is the address of the first byte. It may sit anywhere in its page, as long as it
//!   is dword aligned (bits 1:0 clear). Its page is used from there to the page's end.
//! * Every **other** data page is named by an entry with **offset 0**, and every page but the last
//!   is used whole. So a buffer made of several extents is expressible only if every extent
//!   after the first starts on a page boundary and every extent before the last ends on one.
//! * **PRP2** depends on how many pages `N = ceil((offset(PRP1) + length) / PS)` the transfer
//!   touches: unused when `N = 1`; the second data page when `N = 2`; otherwise a pointer to a
//!   **PRP list** of the `N - 1` remaining entries.
//! * A PRP list lives in one memory page. The list pointer in PRP2 only has to be qword aligned,
//!   so the first list may start part-way into its page and then has fewer slots. When more
//!   entries remain than a list page holds, its **last slot** points to the next list page
//!   (page aligned). When the remaining entries fit exactly, the last slot is data.
//!
//! ```text
//!  PS = 4 KiB, a 16 KiB read into a buffer that starts 0x200 into page 0x10000
//!
//!  SQE DPTR                                   host memory
//!  ┌──────────────────┐
//!  │ PRP1 = 0x10200   │──────────────────────▶ page 0x10000  [ offset 0x200 .. end ] 0xe00 bytes
//!  │ PRP2 = 0x80000   │──┐
//!  └──────────────────┘  │   PRP list page 0x80000
//!                        └─▶┌──────────────────┐
//!                           │ [0] 0x11000      │─▶ page 0x11000  whole page          0x1000
//!                           │ [1] 0x12000      │─▶ page 0x12000  whole page          0x1000
//!                           │ [2] 0x13000      │─▶ page 0x13000  whole page          0x1000
//!                           │ [3] 0x14000      │─▶ page 0x14000  [ 0 .. 0x200 ]      0x200
//!                           └──────────────────┘                         total      0x4000
//!
//!  N = ceil((0x200 + 0x4000) / 0x1000) = 5 pages, so 4 list entries and no chaining.
//! ```
//!
//! # Host side and device side
//!
//! * [`PrpBuilder`] turns extents into a [`PrpPair`] and list entries written into
//!   [`PrpListPage`]s the caller owns; [`PrpBuilder::plan`] says first how many list pages that
//!   takes, [`PrpBuilder::build_inline`] is the two-page fast path, and [`PrpBuilder::split`]
//!   cuts what one command cannot carry into the fewest commands that can.
//! * [`PrpWalker`] reads the same pointers back through [`DmaMemory`](crate::DmaMemory), as a
//!   controller does, yielding data segments or the NVMe status for the rule that broke.
//!
//! # A worked example: build, then walk back
//!
//! ```
//! use nvme_dma::{Extent, PageSize, SliceMemory};
//! use nvme_dma::prp::{PrpBuilder, PrpListPage, PrpWalker};
//!
//! let ps = PageSize::SIZE_4K;
//! // A scatter list: the tail of one page, two whole pages elsewhere, the head of a fourth.
//! let extents = [
//!     Extent::new(0x1_0200, 0xe00),
//!     Extent::new(0x5_0000, 0x2000),
//!     Extent::new(0x9_0000, 0x200),
//! ];
//! let builder = PrpBuilder::new(ps);
//! let plan = builder.plan(&extents)?;
//! assert_eq!((plan.len(), plan.pages(), plan.list_entries()), (0x3000, 4, 3));
//!
//! // One list page, at bus address 0x8_0000, in memory we own.
//! let mut list_bytes = [0u8; 4096];
//! assert_eq!(plan.list_pages_needed(0x8_0000), 1);
//! let layout = builder.build(&extents, &mut [PrpListPage::new(0x8_0000, &mut list_bytes)])?;
//! assert_eq!((layout.pair.prp1, layout.pair.prp2.raw()), (0x1_0200, 0x8_0000));
//!
//! // The controller's view: walk PRP1/PRP2 with the list page in its memory.
//! let mem = SliceMemory::new(0x8_0000, &mut list_bytes);
//! let walker = PrpWalker::new(layout.pair.prp1, layout.pair.prp2.raw(), plan.len(), ps, &mem);
//! let segments: Vec<Extent> = walker.extents().collect::<Result<_, _>>().unwrap();
//! assert_eq!(segments, extents); // adjacent pages of extent 1 merge back into one segment
//! # Ok::<(), nvme_dma::prp::BuildError>(())
//! ```

mod build;
mod error;
pub mod geometry;
mod list;
mod split;
mod walk;

pub use build::{Prp2, PrpBuilder, PrpLayout, PrpPair, PrpPlan};
pub use error::{BuildError, WalkError};
pub use list::PrpListPage;
pub use split::{ChunkExtents, PrpChunk, PrpSplit};
pub use walk::PrpWalker;
