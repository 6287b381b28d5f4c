//! Ports of the per-command data pointer loops of three peers, for benchmarking the crate
//! against them on the same inputs (`benches/per_command.rs`, `benches/per_command_ratios.rs`)
//! and for checking that they agree with it (`tests/peers.rs`).
//!
//! * [`linux`]: the Linux nvme-pci driver's host-side PRP and SGL setup.
//! * [`spdk`]: SPDK's PCIe transport, host-side PRP and SGL builds.
//! * [`qemu`]: QEMU's emulated NVMe controller, device-side PRP and SGL walks.
//!
//! Each port keeps its peer's checks and loop structure. What the peers get from elsewhere
//! is modelled at its cheapest: DMA addresses are the extents' addresses (identity
//! translation), pools and descriptor arrays are preallocated, and guest memory is a byte
//! array. Each function's doc comment names what it ports and what it leaves out.
//!
//! [`cases`] holds the inputs (sizes, shapes, addresses), [`ours`] the crate's side of every
//! pair (in one place, so that an API change touches one file), and [`pairs`] the pairs
//! measured.

// The benches and the tests each use a part of the ports.
#![allow(dead_code)]

pub mod cases;
pub mod linux;
pub mod ours;
pub mod pairs;
pub mod qemu;
pub mod spdk;

/// An SGL descriptor as two little-endian quadwords: the address, then length (bits 31:0) and
/// the identifier byte (type in bits 63:60, subtype in bits 59:56), reserved bytes zero.
#[inline(always)]
pub fn sgl_words(addr: u64, len: u32, sgl_type: u8, subtype: u8) -> [u64; 2] {
    [
        addr,
        u64::from(len) | (u64::from((sgl_type << 4) | subtype) << 56),
    ]
}

/// The 16 bytes of a descriptor held as [`sgl_words`].
pub fn sgl_bytes(words: [u64; 2]) -> [u8; 16] {
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&words[0].to_le_bytes());
    out[8..].copy_from_slice(&words[1].to_le_bytes());
    out
}

/// Quadwords as their little-endian bytes, for comparing list and segment memory.
pub fn words_to_bytes(words: &[u64]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}
