//! Two small pieces of NVMe code with a bug planted in each, and the fuzz targets
//! `kit_emulator` and `kit_driver` that find them with the fuzzing kit
//! ([`nvme_dma::fuzzkit`]): the proof that the kit finds the bugs real emulators and drivers
//! have shipped, and the examples FUZZING.md shows to anyone fuzzing their own code.
//!
//! | module | what it is | the planted bug |
//! |---|---|---|
//! | [`emulator`] | a device's Read/Write data path that maps PRPs as QEMU's `nvme_map_prp` does | an exactly full PRP list's last entry is taken for a pointer to another list |
//! | [`driver`] | a driver's PRP builder, the loop of Linux's `nvme_pci_setup_prps` | the last extent's bytes past its last page boundary are not described |
//!
//! Each bug is on unless the environment says `NVME_DMA_PLANTED_FAULT=off`: the same
//! targets with the bug removed must then run clean, which shows that what they find is the
//! bug and not a disagreement between the example code and the kit's oracle.

pub mod driver;
pub mod emulator;

use std::sync::OnceLock;

/// The environment variable that switches the planted bugs off (`off`); any other value,
/// or none, leaves them in.
pub const FAULT_VARIABLE: &str = "NVME_DMA_PLANTED_FAULT";

/// Whether the planted bugs are in. Read once: a fuzz target runs millions of inputs, and a
/// switch that changed part-way through a run would make its findings irreproducible.
pub fn fault_planted() -> bool {
    static PLANTED: OnceLock<bool> = OnceLock::new();
    *PLANTED.get_or_init(|| {
        std::env::var(FAULT_VARIABLE).map_or(true, |value| !value.eq_ignore_ascii_case("off"))
    })
}
