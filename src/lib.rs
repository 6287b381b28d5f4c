//! NVMe data pointers done exactly: the host side builds them, the device side walks them back.
//!
//! An NVMe command says where its data lives with a *data pointer* in its 64-byte submission
//! entry: PRP1/PRP2 and PRP lists ([`prp`]), or an SGL ([`sgl`]). This crate turns physical extents into
//! those pointers for a driver, and turns the pointers back into data segments for a
//! controller or emulator, with the exact NVMe status when a rule is broken.
//!
//! | module | what it holds |
//! |---|---|
//! | [`spec`] | wire formats: submission and completion entries, SGL descriptors, status codes, registers, identify data |
//! | [`extent`] | [`Extent`] (a contiguous run of bus addresses) and [`PageSize`] (CC.MPS) |
//! | [`memory`] | [`DmaMemory`], the memory a controller reaches by DMA; [`SliceMemory`]; `SimMemory` (with `alloc`) |
//! | [`prp`] | PRP rules, [`prp::PrpBuilder`] (host side) and [`prp::PrpWalker`] (device side) |
//! | [`sgl`] | SGL rules, typed descriptors, [`sgl::SglBuilder`] and [`sgl::SglWalker`], metadata pointers |
//! | [`bus`] | [`bus::RegisterAccess`]: BAR0 register reads and writes, where a driver meets a controller |
//! | `controller` (with `alloc`) | `controller::MockController`: a strict mock NVMe controller over simulated memory, with a DMA trace and its PCIe cost; `controller::Machine` |
//! | [`host`] | queue rings, phase tags and CIDs for a driver; a small polling driver over [`bus::RegisterAccess`] and [`DmaMemory`] (with `alloc`) |
//! | [`rule`] | [`rule::Rule`]: every rule a refusal names, with a stable id, the section of the specification and what the rule says and why |
//! | [`dptr`] | choosing PRP or SGL for a request (Linux, SPDK, smallest-footprint policies), filling PSDT/DPTR/MPTR, and decoding them on the device side |
//! | [`guide`] | chapters with worked examples: [PRP alignment rules](guide::prp_rules), [SGL chains](guide::sgl_chains), [PRP or SGL](guide::prp_or_sgl) |
//!
//! # Promises
//!
//! * `no_std`, no allocation, and `#![forbid(unsafe_code)]` in the core: callers own the memory that PRP lists
//!   live in, as real drivers do. The `alloc` feature adds the simulated memory for tests;
//!   `std` (the default) adds `std::error::Error` impls; `arbitrary` derives fuzzing inputs.
//! * No input makes library code panic, loop without bound or overflow: walkers do work bounded
//!   by a formula in the transfer length (stated in [`prp::PrpWalker`]'s docs).
//! * Device-side errors carry the NVMe status to complete the command with; host-side errors
//!   name the extent, the address, the rule and the fix. Every error's `rule()` is its
//!   [`rule::Rule`]: a stable id, the section of the specification, and what the rule says.
//! * A builder that refuses its input writes nothing; a walker reads every descriptor before
//!   the caller moves any data.
//!
//! # Example
//!
//! ```
//! use nvme_dma::{Extent, PageSize};
//! use nvme_dma::prp::{BuildError, PrpBuilder};
//!
//! let builder = PrpBuilder::new(PageSize::SIZE_4K).with_max_transfer(128 * 1024);
//! // Two pages' worth from a buffer 0x800 into a page: PRP2 is the next page, no list needed.
//! let pair = builder.build_inline(Extent::new(0x4_0800, 0x1000))?;
//! assert_eq!((pair.prp1, pair.prp2.raw()), (0x4_0800, 0x4_1000));
//!
//! // A middle extent that ends inside a page cannot be carried by one PRP command.
//! let err = builder
//!     .plan([Extent::new(0x1000, 0x1000), Extent::new(0x8000, 0x200), Extent::new(0xa000, 0x1000)])
//!     .unwrap_err();
//! assert!(matches!(err, BuildError::EndInsidePage { index: 1, .. }));
//! # Ok::<(), BuildError>(())
//! ```
//!
//! The [`prp`] and [`sgl`] modules are the chapters on their rules, with diagrams and worked
//! examples; [`dptr`] covers choosing between them.
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
// On docs.rs, every feature-gated item carries a badge naming its feature.
#![cfg_attr(docsrs, feature(doc_cfg))]
// Library code must not panic on any input: emulators run it on guest-controlled memory.
// These lints keep the obvious panic sources out of non-test code; where an operation is
// provably in range, the code says why at that spot and allows the lint locally.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::unreachable,
        clippy::todo,
        clippy::unimplemented,
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects,
        clippy::cast_possible_truncation,
    )
)]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(any(feature = "std", test))]
extern crate std;

pub mod bus;
#[cfg(feature = "alloc")]
pub mod controller;
pub mod dptr;
pub mod extent;
#[cfg(feature = "fuzzkit")]
pub mod fuzzkit;
pub mod guide;
pub mod host;
pub mod memory;
pub mod piece;
pub mod prp;
pub mod rule;
pub mod sgl;
pub mod spec;
pub mod transfer;
pub mod walk;

pub use extent::{Extent, Extents, PageSize};
#[cfg(feature = "alloc")]
pub use memory::SimMemory;
pub use memory::{DmaFault, DmaMemory, SliceMemory};
pub use piece::Piece;
pub use transfer::{Direction, QueueKind};

/// The README's example, compiled and run as a doctest so it stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
