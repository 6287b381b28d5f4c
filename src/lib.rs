//! NVMe data pointers done exactly: PRP and SGL builders (host side) and walkers (device
//! side), `no_std` and allocation-free. Wire formats live in [`spec`].
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
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

pub mod dptr;
pub mod extent;
pub mod memory;
pub mod prp;
pub mod sgl;
pub mod spec;

pub use extent::{Extent, PageSize};
#[cfg(feature = "alloc")]
pub use memory::SimMemory;
pub use memory::{DmaFault, DmaMemory, SliceMemory};
pub use sgl::{Direction, SglSegment};
