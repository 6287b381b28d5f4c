//! How a mock controller is built: capabilities, limits, namespaces, and where it sits on the bus.

use alloc::vec::Vec;
use core::fmt;

use super::namespace::NamespaceConfig;
use super::profile::Profile;
use crate::sgl::WalkLimits;
use crate::spec::{mdts_bytes, MaxTransfer, SglSupport, Sgls, Vs};

/// An optional controller memory buffer (reported in CMBLOC/CMBSZ, mapped at `addr`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CmbConfig {
    /// Bus address of the buffer (where the host mapped the BAR that holds it).
    pub addr: u64,
    /// Size in bytes: a multiple of 4 KiB, at most 4 GiB.
    pub size: u64,
    /// CMBSZ.SQS: submission queues may live in it.
    pub submission_queues: bool,
    /// CMBSZ.CQS: completion queues may live in it.
    pub completion_queues: bool,
    /// CMBSZ.LISTS: PRP lists and SGL segments may live in it.
    pub lists: bool,
    /// CMBSZ.RDS: read data may land in it.
    pub read_data: bool,
    /// CMBSZ.WDS: write data may come from it.
    pub write_data: bool,
}

impl CmbConfig {
    /// A buffer of `size` bytes at `addr` that may hold everything.
    pub const fn new(addr: u64, size: u64) -> Self {
        CmbConfig {
            addr,
            size,
            submission_queues: true,
            completion_queues: true,
            lists: true,
            read_data: true,
            write_data: true,
        }
    }
}

/// Everything that shapes a [`MockController`](super::MockController).
///
/// [`ControllerConfig::default`] is a 1.4 controller with one 64 MiB namespace of 512-byte
/// blocks, 4 KiB to 64 KiB pages, MDTS of 128 KiB, dword-aligned SGLs with bit buckets,
/// its registers at `0xfebf_0000` and no CMB.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ControllerConfig {
    /// CAP.MQES + 1: the most slots an I/O queue may have (2 to 65536).
    pub max_queue_entries: u32,
    /// CAP.CQR: queues must be physically contiguous (no PC = 0 queues).
    pub contiguous_queues_required: bool,
    /// CAP.DSTRD: doorbells are `4 << dstrd` bytes apart.
    pub doorbell_stride: u8,
    /// CAP.MPSMIN: smallest page size as 2^(12 + n).
    pub mps_min: u8,
    /// CAP.MPSMAX: largest page size as 2^(12 + n).
    pub mps_max: u8,
    /// CAP.TO: worst-case time to become ready, in 500 ms units.
    pub timeout_500ms: u8,
    /// VS.
    pub version: Vs,
    /// MDTS as 2^n minimum pages (0 = no limit).
    pub mdts: u8,
    /// SGLS as Identify Controller reports it.
    pub sgls: Sgls,
    /// Caps on the SGL walker's work per command.
    pub walk_limits: WalkLimits,
    /// Most I/O submission (and completion) queues the host may create (1 to 65535).
    pub max_io_queues: u16,
    /// Interrupt vectors a completion queue may name (IV below this).
    pub interrupt_vectors: u16,
    /// AERL + 1: Asynchronous Event Requests the controller holds at once.
    pub async_event_limit: u8,
    /// ELPE + 1: entries the Error Information log keeps.
    pub error_log_entries: u8,
    /// Bus address of BAR0, the register window; DMA into it is refused.
    pub bar0: u64,
    /// The controller memory buffer, if any.
    pub cmb: Option<CmbConfig>,
    /// Namespaces 1, 2, … in order.
    pub namespaces: Vec<NamespaceConfig>,
    /// Identify Controller NN: namespace identifiers 1 to NN are valid, and those past the
    /// configured namespaces inactive (Identify Namespace returns zeros for them). `None`:
    /// NN is the number of namespaces.
    pub namespace_ids: Option<u32>,
    /// Identify Controller SN.
    pub serial: &'static str,
    /// Identify Controller MN.
    pub model: &'static str,
    /// Where the controller answers otherwise than the specification's letter (none by
    /// default; [`Profile::QEMU_7_2`] stands in for QEMU).
    pub profile: Profile,
}

impl Default for ControllerConfig {
    fn default() -> Self {
        ControllerConfig {
            max_queue_entries: 1024,
            contiguous_queues_required: false,
            doorbell_stride: 0,
            mps_min: 0,
            mps_max: 4,
            timeout_500ms: 20,
            version: Vs::V1_4,
            mdts: 5,
            sgls: Sgls::from_support(SglSupport::DwordAligned)
                .union(Sgls::BIT_BUCKET)
                .union(Sgls::MPTR_SGL)
                .union(Sgls::BYTE_ALIGNED_CONTIGUOUS_METADATA),
            walk_limits: WalkLimits::DEFAULT,
            max_io_queues: 64,
            interrupt_vectors: 65,
            async_event_limit: 4,
            error_log_entries: 64,
            bar0: 0xfebf_0000,
            cmb: None,
            namespaces: alloc::vec![NamespaceConfig::new(128 * 1024, 512)],
            namespace_ids: None,
            serial: "NVMEDMA-0001",
            model: "nvme-dma mock controller",
            profile: Profile::STRICT,
        }
    }
}

/// A configuration the controller cannot be built from: the field and what is wrong with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// The field of [`ControllerConfig`] at fault.
    pub field: &'static str,
    /// What it must be.
    pub rule: &'static str,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "controller configuration: `{}` {}",
            self.field, self.rule
        )
    }
}

#[cfg(feature = "std")]
impl std::error::Error for ConfigError {}

impl ControllerConfig {
    /// Size of the register window: the registers, then the doorbells of every queue,
    /// rounded up to 16 KiB.
    pub fn bar0_size(&self) -> u64 {
        let stride = 4u64 << self.doorbell_stride.min(15);
        // At most 2 × 65536 × 128 KiB: far below 2^64.
        let doorbells = (u64::from(self.max_io_queues).saturating_add(1))
            .saturating_mul(2)
            .saturating_mul(stride);
        doorbells.saturating_add(0x1000).next_multiple_of(0x4000)
    }

    /// The largest transfer MDTS allows (MDTS counts pages of CAP.MPSMIN's size).
    pub fn max_transfer(&self) -> MaxTransfer {
        mdts_bytes(self.mdts, 4096u64 << self.mps_min.min(15))
    }

    pub(crate) fn check(&self) -> Result<(), ConfigError> {
        let fail = |field, rule| Err(ConfigError { field, rule });
        if !(2..=65536).contains(&self.max_queue_entries) {
            return fail("max_queue_entries", "must be 2 to 65536");
        }
        if self.doorbell_stride > 15 {
            return fail("doorbell_stride", "must be 0 to 15");
        }
        if self.mps_min > self.mps_max || self.mps_max > 15 {
            return fail("mps_min/mps_max", "must satisfy mps_min <= mps_max <= 15");
        }
        if self.max_io_queues == 0 || self.max_io_queues == u16::MAX {
            return fail("max_io_queues", "must be 1 to 65534");
        }
        let namespaces = u32::try_from(self.namespaces.len()).unwrap_or(u32::MAX);
        if self
            .namespace_ids
            .is_some_and(|nn| nn < namespaces || nn == u32::MAX)
        {
            return fail(
                "namespace_ids",
                "must be at least the number of namespaces and below FFFFFFFFh",
            );
        }
        if self.async_event_limit == 0 || self.error_log_entries == 0 {
            return fail("async_event_limit/error_log_entries", "must be at least 1");
        }
        if self.bar0 % 0x4000 != 0 || self.bar0.checked_add(self.bar0_size()).is_none() {
            return fail(
                "bar0",
                "must be 16 KiB aligned with the whole window below 2^64",
            );
        }
        if self.namespaces.iter().any(|ns| ns.lbads().is_none()) {
            return fail(
                "namespaces",
                "need a power-of-two block size from 512 to 65536",
            );
        }
        if self.namespaces.iter().any(|ns| {
            u64::from(ns.lba_size)
                .saturating_add(u64::from(ns.metadata_size))
                .checked_mul(ns.blocks)
                .is_none()
                || ns.blocks == 0
        }) {
            return fail("namespaces", "need 1 to 2^64 / block size blocks");
        }
        if let Some(cmb) = &self.cmb {
            if cmb.size == 0 || cmb.size % 4096 != 0 || cmb.size > 1 << 32 {
                return fail(
                    "cmb.size",
                    "must be a non-zero multiple of 4 KiB, at most 4 GiB",
                );
            }
            let overlaps_bar0 = cmb.addr < self.bar0.saturating_add(self.bar0_size())
                && self.bar0 < cmb.addr.saturating_add(cmb.size);
            if cmb.addr % 4096 != 0 || cmb.addr.checked_add(cmb.size).is_none() || overlaps_bar0 {
                return fail(
                    "cmb.addr",
                    "must be 4 KiB aligned, below 2^64 - size, apart from BAR0",
                );
            }
        }
        Ok(())
    }
}
