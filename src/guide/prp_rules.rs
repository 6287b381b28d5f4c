//! # PRP alignment rules
//!
//! A PRP (Physical Region Page) data pointer names a transfer page by page (NVMe Base
//! Specification 2.x, 4.3.1). "Page" is the controller's memory page size `PS`, set in CC.MPS
//! (4 KiB to 128 MiB), not the CPU's. Every rule below follows from one idea: **after the first
//! byte, the controller only ever needs page bases**, so nothing but the first entry and the
//! list pointer may carry an offset.
//!
//! ## Rule 1: PRP1 is the first byte, and only PRP1 has an offset
//!
//! PRP1 may point anywhere in its page as long as it is dword aligned: the host shall clear bits
//! 1:0. A controller is not required to check them; it may report PRP Offset Invalid when they
//! are set, and if it does not, it operates as if they were 00b (NVMe Base Specification 2.1,
//! 4.3.1). The mock controller and [`PrpWalker`](crate::prp::PrpWalker) report the error, one
//! of the two answers the specification allows. The
//! transfer uses its page from there to the page's end. Every other data page is named by an
//! entry with offset 0 and, except the last, used whole.
//!
//! ```text
//!  PS = 4 KiB                 page 0x10000                  page 0x11000
//!                            ┌────────────────────────┐    ┌────────────────────────┐
//!  PRP1 = 0x10200 ─────────▶ │··░░░░░░░░░░░░░░░░░░░░░░│    │░░░░░░░░░░░·············│ ◀── PRP2 = 0x11000
//!                            └────────────────────────┘    └────────────────────────┘
//!                              0x200        ..   0x1000      0      ..   0x600
//! ```
//!
//! How many pages a transfer touches follows from PRP1's offset and the length alone:
//! `N = ceil((offset(PRP1) + len) / PS)`. That number decides what PRP2 is.
//!
//! ## Rule 2: PRP2 has three meanings, chosen by N
//!
//! | N | PRP2 |
//! |---|---|
//! | 1 | unused (zero): the transfer stays in PRP1's page |
//! | 2 | the second data page's base (offset 0) |
//! | 3 or more | a pointer to a PRP list holding the other N - 1 page bases |
//!
//! The same 0x1000 bytes are one page or two depending on where they start:
//!
//! ```
//! use nvme_dma::{Extent, PageSize};
//! use nvme_dma::prp::geometry::pages_touched;
//! use nvme_dma::prp::{Prp2, PrpBuilder, PrpPair};
//!
//! let ps = PageSize::SIZE_4K;
//! let builder = PrpBuilder::new(ps);
//!
//! // Page aligned: one page, PRP2 unused.
//! assert_eq!(pages_touched(ps, 0x1_0000, 0x1000), 1);
//! assert_eq!(builder.build_inline(Extent::new(0x1_0000, 0x1000))?, PrpPair { prp1: 0x1_0000, prp2: Prp2::Unused });
//!
//! // 0x200 into the page: the last 0x200 bytes spill into the next page, so PRP2 names it.
//! assert_eq!(pages_touched(ps, 0x1_0200, 0x1000), 2);
//! assert_eq!(
//!     builder.build_inline(Extent::new(0x1_0200, 0x1000))?,
//!     PrpPair { prp1: 0x1_0200, prp2: Prp2::Page(0x1_1000) }
//! );
//!
//! // Three pages need a list: the fast path says so instead of guessing.
//! assert!(builder.build_inline(Extent::new(0x1_0200, 0x2000)).is_err());
//! # Ok::<(), nvme_dma::prp::BuildError>(())
//! ```
//!
//! ## Rule 3: a PRP list is one page of 8-byte entries; its pointer may have an offset
//!
//! The list pointer in PRP2 only has to be qword aligned (bits 2:0 clear). A list that starts
//! part-way into its page (a small pool block, as Linux uses for short lists) has fewer slots:
//! `(PS - offset) / 8`. The list never crosses into the next page on its own.
//!
//! ```
//! use nvme_dma::{Extent, PageSize, SliceMemory};
//! use nvme_dma::prp::{PrpBuilder, PrpListPage, PrpWalker};
//!
//! let ps = PageSize::SIZE_4K;
//! // 16 KiB from 0x2_0000 touches 4 pages: PRP1 and 3 list entries.
//! let extents = [Extent::new(0x2_0000, 0x4000)];
//! let builder = PrpBuilder::new(ps);
//! let plan = builder.plan(&extents)?;
//! assert_eq!(plan.list_entries(), 3);
//!
//! // A 256-byte pool block at 0x8_0f00: 32 slots to the end of its page, plenty for 3.
//! assert_eq!(plan.list_pages_needed(0x8_0f00), 1);
//! let mut block = [0u8; 256];
//! let layout = builder.build(&extents, &mut [PrpListPage::new(0x8_0f00, &mut block)])?;
//! assert_eq!(layout.pair.prp2.raw(), 0x8_0f00);
//!
//! // The entries are page bases, in order, packed from the first slot.
//! let entries: Vec<u64> = block[..24]
//!     .chunks_exact(8)
//!     .map(|e| u64::from_le_bytes(e.try_into().unwrap()))
//!     .collect();
//! assert_eq!(entries, [0x2_1000, 0x2_2000, 0x2_3000]);
//!
//! // The controller reads it back into one run of bytes.
//! let mem = SliceMemory::new(0x8_0f00, &mut block);
//! let back: Vec<Extent> = PrpWalker::new(layout.pair.prp1, layout.pair.prp2.raw(), plan.len(), ps, &mem)
//!     .extents()
//!     .collect::<Result<_, _>>()
//!     .unwrap();
//! assert_eq!(back, extents);
//! # Ok::<(), nvme_dma::prp::BuildError>(())
//! ```
//!
//! ## Rule 4: a full list page chains through its last slot, unless the entries fit exactly
//!
//! When more entries remain than a list page has slots, its **last** slot holds the address
//! of the next list page (page aligned) instead of data. When the remaining entries fit
//! exactly, the last slot is data and nothing chains. Getting this one wrong, treating an
//! exactly full page as chained, is a classic bug in drivers and emulators.
//!
//! ```text
//!  513 pages → 512 entries: one list page, filled exactly, no chain
//!  ┌─────────────────┐
//!  │ [0]   page 1    │
//!  │  …              │
//!  │ [511] page 512  │  ← data
//!  └─────────────────┘
//!
//!  514 pages → 513 entries: slot 511 points on, the next page holds the last two
//!  ┌─────────────────┐        ┌─────────────────┐
//!  │ [0]   page 1    │   ┌──▶ │ [0] page 512    │
//!  │  …              │   │    │ [1] page 513    │
//!  │ [511] next ─────┼───┘    └─────────────────┘
//!  └─────────────────┘
//! ```
//!
//! ```
//! use nvme_dma::{Extent, PageSize, SimMemory};
//! use nvme_dma::prp::{PrpBuilder, PrpListPage, PrpWalker};
//!
//! let ps = PageSize::SIZE_4K;
//! let builder = PrpBuilder::new(ps);
//! let slot = |page: &[u8], n: usize| u64::from_le_bytes(page[n * 8..n * 8 + 8].try_into().unwrap());
//!
//! // 513 pages: the 512 entries fill one list page exactly.
//! let exact = [Extent::new(0x100_0000, 513 * 0x1000)];
//! let plan = builder.plan(&exact)?;
//! assert_eq!((plan.list_entries(), plan.list_pages_needed(0)), (512, 1));
//! let mut only = vec![0u8; 4096];
//! builder.build(&exact, &mut [PrpListPage::new(0x8_0000, &mut only)])?;
//! assert_eq!(slot(&only, 511), 0x100_0000 + 512 * 0x1000); // data, not a pointer
//!
//! // One page more: slot 511 now points at the second list page.
//! let chained = [Extent::new(0x100_0000, 514 * 0x1000)];
//! let plan = builder.plan(&chained)?;
//! assert_eq!((plan.list_entries(), plan.list_pages_needed(0)), (513, 2));
//! let (mut first, mut second) = (vec![0u8; 4096], vec![0u8; 4096]);
//! let layout = builder.build(
//!     &chained,
//!     &mut [PrpListPage::new(0x8_0000, &mut first), PrpListPage::new(0x9_0000, &mut second)],
//! )?;
//! assert_eq!(slot(&first, 511), 0x9_0000);
//! assert_eq!(slot(&second, 0), 0x100_0000 + 512 * 0x1000);
//! assert_eq!(slot(&second, 1), 0x100_0000 + 513 * 0x1000);
//!
//! // Walked back through both pages, it is the one extent again.
//! let mut mem = SimMemory::new();
//! for (addr, bytes) in [(0x8_0000, &first), (0x9_0000, &second)] {
//!     mem.map(addr, 4096).unwrap();
//!     mem.poke(addr, bytes).unwrap();
//! }
//! let back: Vec<Extent> = PrpWalker::new(layout.pair.prp1, layout.pair.prp2.raw(), plan.len(), ps, &mem)
//!     .extents()
//!     .collect::<Result<_, _>>()
//!     .unwrap();
//! assert_eq!(back, chained);
//! # Ok::<(), nvme_dma::prp::BuildError>(())
//! ```
//!
//! A list pointer with an offset makes the first page smaller, so a chain can start at once:
//! at offset `0xff8` there is one slot, and with more than one entry to place it must hold the
//! pointer to the next page (`nvme-dma prp 0x10000+0x4000 --list 0x80ff8,0x90000` draws it).
//!
//! ## What a scatter list can break
//!
//! A buffer in several pieces ("extents") fits one PRP data pointer only if the pieces join at
//! page boundaries: every extent **after the first starts** on a page boundary, and every
//! extent **before the last ends** on one. Each break has its own error, which names the
//! extent, the address, the rule and the fixes.
//!
//! ```text
//!  extent 0  0x1000+0x1000  ████████████████   ends on a boundary       ✓
//!  extent 1  0x8000+0x200   ██··············   ends 0x200 into a page   ✗ not the last extent
//!  extent 2  0xa000+0x1000  ████████████████
//! ```
//!
//! ```
//! use nvme_dma::{Extent, PageSize};
//! use nvme_dma::prp::{BuildError, PrpBuilder};
//!
//! let builder = PrpBuilder::new(PageSize::SIZE_4K);
//!
//! // The first byte must be dword aligned.
//! let err = builder.plan([Extent::new(0x1_0002, 0x100)]).unwrap_err();
//! assert!(matches!(err, BuildError::StartNotDwordAligned { index: 0, .. }));
//!
//! // A later extent must start on a page boundary.
//! let err = builder
//!     .plan([Extent::new(0x1000, 0x1000), Extent::new(0x8100, 0xf00)])
//!     .unwrap_err();
//! assert!(matches!(err, BuildError::StartInsidePage { index: 1, .. }));
//!
//! // An earlier extent must end on one.
//! let scattered = [Extent::new(0x1000, 0x1000), Extent::new(0x8000, 0x200), Extent::new(0xa000, 0x1000)];
//! let err = builder.plan(scattered).unwrap_err();
//! assert!(matches!(err, BuildError::EndInsidePage { index: 1, .. }));
//! // The message says what would fix it.
//! assert!(err.to_string().contains("extend it to 0x9000"));
//!
//! // One fix without copying: cut the transfer where the rule breaks, at a block boundary.
//! let split = builder.split(&scattered, 512)?;
//! assert_eq!(split.commands(), 2);
//! let cuts: Vec<u64> = split.map(|chunk| chunk.offset).collect();
//! assert_eq!(cuts, [0, 0x1200]);
//! # Ok::<(), BuildError>(())
//! ```
//!
//! The other fixes are an SGL, which has no page rule at all (see [`sgl_chains`](super::sgl_chains)),
//! or a bounce buffer. `nvme-dma prp 0x1000+0x1000 0x8000+0x200 0xa000+0x1000` prints all three
//! for these extents.
//!
//! ## The controller's side
//!
//! A controller sees PRP1, PRP2 and the list entries: page addresses, never the extents the
//! driver started from. So it checks only what those addresses show: that PRP2 and every list
//! entry after PRP1 carry no offset, that the list pointer is qword aligned. A break is the
//! status PRP Offset Invalid. Here PRP2 names the second data page of a two-page transfer but
//! carries an offset:
//!
//! ```
//! use nvme_dma::{Extent, PageSize, SliceMemory};
//! use nvme_dma::prp::{PrpWalker, WalkError};
//! use nvme_dma::spec::Status;
//!
//! let mut nothing = [0u8; 0];
//! let mem = SliceMemory::new(0, &mut nothing);
//! let walk = PrpWalker::new(0x1_0200, 0x1_1100, 0x1000, PageSize::SIZE_4K, &mem);
//! let err = walk.extents().find_map(Result::err).unwrap();
//! assert_eq!(err, WalkError::Prp2Offset { prp2: 0x1_1100 });
//! assert_eq!(err.status(), Status::PRP_OFFSET_INVALID.with_dnr(true));
//! ```
//!
//! Do Not Retry is the mock's choice, and this crate's: the same command fails the same way
//! every time. The specification leaves DNR to the controller.
//!
//! What a controller cannot see is an extent that ends inside its page. Every page after the
//! first is used whole but the last, so the controller takes each entry's page whole. A driver
//! that writes an entry per extent for a middle extent ending mid-page gets no error: the
//! command completes *successfully with the wrong bytes*. Here the middle extent has 0x800
//! bytes, but the controller moves the whole page 0x20000, and the last extent loses its
//! second half:
//!
//! ```
//! use nvme_dma::{Extent, PageSize, SliceMemory};
//! use nvme_dma::prp::{BuildError, PrpBuilder, PrpWalker};
//!
//! let ps = PageSize::SIZE_4K;
//! let extents = [
//!     Extent::new(0x1_0000, 0x1000),
//!     Extent::new(0x2_0000, 0x800), // ends mid-page: no PRP layout can say so
//!     Extent::new(0x3_0000, 0x1000),
//! ];
//! // The builder refuses, naming the extent and the rule.
//! let err = PrpBuilder::new(ps).plan(&extents).unwrap_err();
//! assert!(matches!(err, BuildError::EndInsidePage { index: 1, .. }));
//!
//! // A naive driver writes one entry per extent anyway: PRP1, then a list of two.
//! let mut list = [0u8; 16];
//! list[..8].copy_from_slice(&0x2_0000u64.to_le_bytes());
//! list[8..].copy_from_slice(&0x3_0000u64.to_le_bytes());
//! let mem = SliceMemory::new(0x9_0000, &mut list);
//! let walk = PrpWalker::new(0x1_0000, 0x9_0000, 0x2800, ps, &mem);
//! let moved: Vec<Extent> = walk.extents().collect::<Result<_, _>>()?;
//! // The walk is valid, and not what the driver meant.
//! assert_eq!(
//!     moved,
//!     [
//!         Extent::new(0x1_0000, 0x1000),
//!         Extent::new(0x2_0000, 0x1000), // 0x800 bytes past the extent's end
//!         Extent::new(0x3_0000, 0x800),  // half of the last extent
//!     ]
//! );
//! # Ok::<(), nvme_dma::prp::WalkError>(())
//! ```
//!
//! That is why the page rules are the host's to keep: the builder checks what the controller
//! cannot.
