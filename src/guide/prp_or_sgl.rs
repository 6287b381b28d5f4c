//! # PRP or SGL
//!
//! Both kinds of data pointer can describe most buffers. They differ in what they cost and in
//! what they can describe at all, and the right choice depends on the buffer's shape.
//!
//! | | PRPs | an SGL |
//! |---|---|---|
//! | unit | one 8-byte entry per memory page | one 16-byte descriptor per physically contiguous run |
//! | fits in the command | up to 2 pages (PRP1 + PRP2) | one run (SGL1 is a Data Block) |
//! | pieces must join at page boundaries | yes | no: any address, any length (byte or dword granular) |
//! | can skip bytes of a read | no | yes, with bit buckets |
//! | admin commands (PCIe) | yes | no: admin commands use PRPs only |
//! | controller support | every PCIe controller; fabrics use SGLs only | optional over PCIe (Identify Controller SGLS) |
//!
//! ## What each costs, shape by shape
//!
//! The cost that matters first is the descriptor memory the host writes and the controller
//! must fetch before it can move data: list pages for PRPs, segments for an SGL.
//!
//! ```text
//!  buffer                          PRP list bytes        SGL segment bytes
//!  64 KiB, contiguous              15 entries = 120      0 (SGL1 is the Data Block)
//!  16 scattered 4 KiB pages        15 entries = 120      16 descriptors = 256
//!  8 KiB, page aligned             0 (PRP1 + PRP2)       0 (SGL1 is the Data Block)
//!  3 pieces of 512 bytes           cannot (rule break)   3 descriptors = 48
//! ```
//!
//! ```
//! use nvme_dma::{Extent, PageSize};
//! use nvme_dma::prp::PrpBuilder;
//! use nvme_dma::sgl::{SglBuilder, SglCaps};
//! use nvme_dma::{Direction};
//! use nvme_dma::spec::{SglSupport, Sgls};
//!
//! let prp = PrpBuilder::new(PageSize::SIZE_4K);
//! let sgl = SglBuilder::new(SglCaps::new(Sgls::from_support(SglSupport::ByteAligned)), Direction::Read);
//! // Segments of one 4 KiB page hold 256 descriptors.
//! let costs = |extents: &[Extent]| {
//!     let prp_bytes = prp.plan(extents).ok().map(|p| p.list_entries() * 8);
//!     let sgl_bytes = sgl.plan(extents).unwrap().footprint(256);
//!     (prp_bytes, sgl_bytes)
//! };
//!
//! let contiguous = [Extent::new(0x10_0000, 0x1_0000)];
//! assert_eq!(costs(&contiguous), (Some(120), 0));
//!
//! let scattered: Vec<Extent> = (0..16).map(|i| Extent::new(0x100_0000 + i * 0x3000, 0x1000)).collect();
//! assert_eq!(costs(&scattered), (Some(120), 256));
//!
//! let small = [Extent::new(0x10_0000, 0x2000)];
//! assert_eq!(costs(&small), (Some(0), 0));
//!
//! let pieces = [Extent::new(0x1_0000, 512), Extent::new(0x2_0000, 512), Extent::new(0x3_0000, 512)];
//! assert_eq!(costs(&pieces), (None, 48));
//! ```
//!
//! Fetch cost is not everything: many controllers walk PRPs faster than SGLs for small,
//! page-shaped I/O, and SGL support itself is optional. That is why real drivers differ.
//!
//! ## Policies
//!
//! [`dptr`](crate::dptr) makes the choice under one of four policies; a policy only states a
//! preference, and when the preferred kind cannot carry the request the other one is used.
//!
//! * **Linux** (`nvme-pci`): an SGL when the average physical segment is at least
//!   `sgl_threshold` (32 KiB by default). Large contiguous runs get one descriptor; small
//!   scattered I/O stays on PRPs.
//! * **Always** (SPDK): an SGL whenever the controller supports them, on I/O queues.
//! * **SmallestFootprint**: whichever writes fewer descriptor bytes, PRPs on a tie.
//! * **Never**: PRPs only; what they cannot carry is split into several commands.
//!
//! What no single command can carry (more than MDTS or NLB's 65,536 blocks, or pieces PRPs
//! refuse) becomes a [`Split`](crate::dptr::Split): PRP commands when PRPs can carry every
//! chunk, each cut where a PRP rule breaks or the limit is reached; otherwise, when the policy
//! and the controller allow SGLs, SGL commands, each the most whole blocks the limits allow,
//! cut anywhere in an extent. Either way each chunk is filled as its own command with
//! [`fill_chunk`](crate::dptr::fill_chunk).
//!
//! ```
//! use nvme_dma::{Extent, PageSize};
//! use nvme_dma::dptr::{self, ControllerCaps, Plan, Request, SglPolicy};
//! use nvme_dma::{QueueKind};
//! use nvme_dma::sgl::{SglCaps};
//! use nvme_dma::{Direction};
//! use nvme_dma::spec::{MaxTransfer, SglSupport, Sgls};
//!
//! let ctrl = ControllerCaps {
//!     page_size: PageSize::SIZE_4K,
//!     sgl: SglCaps::new(Sgls::from_support(SglSupport::ByteAligned)),
//!     max_transfer: MaxTransfer::Bytes(1 << 20),
//! };
//! let choose = |extents: &[Extent], queue, policy| {
//!     match dptr::plan(&Request::new(extents, Direction::Read, queue), &ctrl, policy).unwrap() {
//!         Plan::Prp { .. } => "PRP",
//!         Plan::Sgl { .. } => "SGL",
//!         Plan::Split(_) => "split",
//!     }
//! };
//! use QueueKind::{Admin, Io};
//! use SglPolicy::{Always, Never, SmallestFootprint};
//! const LINUX: SglPolicy = SglPolicy::LINUX;
//!
//! // 64 KiB in one run: every SGL-minded policy takes the single Data Block.
//! let contiguous = [Extent::new(0x10_0000, 0x1_0000)];
//! assert_eq!(choose(&contiguous, Io, LINUX), "SGL");
//! assert_eq!(choose(&contiguous, Io, SmallestFootprint), "SGL");
//! assert_eq!(choose(&contiguous, Io, Never), "PRP");
//!
//! // 16 scattered pages: the average segment is 4 KiB, below Linux's threshold, and the PRP
//! // list is smaller than the segment; SPDK's policy takes the SGL anyway.
//! let scattered: Vec<Extent> = (0..16).map(|i| Extent::new(0x100_0000 + i * 0x3000, 0x1000)).collect();
//! assert_eq!(choose(&scattered, Io, LINUX), "PRP");
//! assert_eq!(choose(&scattered, Io, SmallestFootprint), "PRP");
//! assert_eq!(choose(&scattered, Io, Always), "SGL");
//!
//! // Sub-page pieces break the PRP rules: an SGL carries them whatever the preference...
//! let pieces = [Extent::new(0x1_0000, 512), Extent::new(0x2_0000, 512), Extent::new(0x3_0000, 512)];
//! assert_eq!(choose(&pieces, Io, LINUX), "SGL");
//! // ...unless SGLs are out: then one PRP command per piece.
//! assert_eq!(choose(&pieces, Io, Never), "split");
//! assert_eq!(choose(&pieces, Admin, Always), "split");
//!
//! // The admin queue takes PRPs only, whatever the policy.
//! assert_eq!(choose(&contiguous, Admin, Always), "PRP");
//! ```
//!
//! A request need not be a slice of [`Extent`](crate::Extent)s: [`Request::of`](crate::dptr::Request::of)
//! takes any cloneable iterator of them, such as an adapter over a driver's own scatter-list
//! entries, and every policy decides exactly as it does for the slice (the builders walk a
//! clone of it for each pass, so nothing is collected):
//!
//! ```
//! # use nvme_dma::dptr::{self, ControllerCaps, Plan, Request, SglPolicy};
//! # use nvme_dma::sgl::SglCaps;
//! # use nvme_dma::spec::{MaxTransfer, SglSupport, Sgls};
//! # use nvme_dma::{Direction, Extent, PageSize, QueueKind};
//! # let ctrl = ControllerCaps {
//! #     page_size: PageSize::SIZE_4K,
//! #     sgl: SglCaps::new(Sgls::from_support(SglSupport::DwordAligned)),
//! #     max_transfer: MaxTransfer::Bytes(1 << 20),
//! # };
//! // (bus address, length) pairs, as a driver's DMA mapping hands them back.
//! let mapped: [(u64, u32); 2] = [(0x10_0000, 0x8000), (0x20_0000, 0x8000)];
//! let extents = mapped.iter().map(|&(addr, len)| Extent::new(addr, u64::from(len)));
//! let request = Request::of(extents, Direction::Read, QueueKind::Io);
//! // Two 32 KiB segments: Linux's 32 KiB threshold is met.
//! assert!(matches!(dptr::plan(&request, &ctrl, SglPolicy::LINUX), Ok(Plan::Sgl { .. })));
//! ```
//!
//! The `nvme-dma` command shows both layouts for the same extents side by side in
//! `nvme-dma demo`, and for your own with `nvme-dma prp ...` and `nvme-dma sgl ...`; when PRPs
//! refuse a scatter list, `nvme-dma prp` says whether an SGL would carry it.
