//! Test helpers shared by nvme-dma's integration tests, benches and fuzz package.
//!
//! - [`contract`]: the walk contract's iterator form and `fill` held against each other.
//! - [`oracle`]: placement of PRP lists and SGL segments, walk collection, and oracles written
//!   from the specification alone, to check the library against.
//! - [`pattern`]: deterministic data patterns and the bytes a transfer should deliver.
//! - [`guest`]: what a guest writes for a controller to read (PRP slots, SGL descriptors).
//! - [`rig`]: a minimal host for the mock controller, independent of the library's driver.
//!
//! The allocation-counting global allocator is not here: a `#[global_allocator]` belongs to
//! one binary, so the test and bench files that count allocations include it themselves
//! (`tests/common/counting_alloc.rs`).
#![warn(missing_docs)]

pub mod contract;
pub mod guest;
pub mod oracle;
pub mod pattern;
pub mod rig;
