//! The record of every DMA access the controller makes, and what it cost.

use alloc::vec::Vec;
use core::fmt;

use super::pcie::{PcieCost, PcieLink};

/// What a DMA access was for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DmaPurpose {
    /// Fetching one submission queue entry.
    SqeFetch,
    /// Reading the PRP list that backs a queue created with PC = 0.
    QueueListFetch,
    /// Reading a PRP list page of a data or metadata pointer.
    PrpListFetch,
    /// Reading an SGL segment of a data or metadata pointer.
    SglSegmentFetch,
    /// Reading data from host memory (a Write, Compare or Dataset Management command).
    DataRead,
    /// Writing data to host memory (a Read, Identify or Get Log Page command).
    DataWrite,
    /// Reading a separate metadata buffer.
    MetadataRead,
    /// Writing a separate metadata buffer.
    MetadataWrite,
    /// Posting one completion queue entry.
    CqePost,
}

impl DmaPurpose {
    /// True when the device reads memory (a PCIe memory read request), false when it writes.
    pub const fn is_read(self) -> bool {
        !matches!(
            self,
            DmaPurpose::DataWrite | DmaPurpose::MetadataWrite | DmaPurpose::CqePost
        )
    }

    /// True for the descriptor fetches that are overhead of the data pointer's layout.
    pub const fn is_descriptor(self) -> bool {
        matches!(self, DmaPurpose::PrpListFetch | DmaPurpose::SglSegmentFetch)
    }

    /// A short name for tables.
    pub const fn name(self) -> &'static str {
        match self {
            DmaPurpose::SqeFetch => "SQE fetch",
            DmaPurpose::QueueListFetch => "queue PRP list fetch",
            DmaPurpose::PrpListFetch => "PRP list fetch",
            DmaPurpose::SglSegmentFetch => "SGL segment fetch",
            DmaPurpose::DataRead => "data read",
            DmaPurpose::DataWrite => "data write",
            DmaPurpose::MetadataRead => "metadata read",
            DmaPurpose::MetadataWrite => "metadata write",
            DmaPurpose::CqePost => "CQE post",
        }
    }
}

impl fmt::Display for DmaPurpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where an access landed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DmaTarget {
    /// Host memory, across the PCIe link.
    Host,
    /// The controller's own memory buffer: no PCIe traffic.
    Cmb,
    /// Nowhere: the access was refused (it faulted, or touched the register window) and
    /// moved nothing.
    Refused,
}

/// One DMA access.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DmaAccess {
    /// What it was for.
    pub purpose: DmaPurpose,
    /// First bus address.
    pub addr: u64,
    /// Bytes.
    pub len: u64,
    /// Where it landed.
    pub target: DmaTarget,
}

impl fmt::Display for DmaAccess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:<20} {:#014x} {:>7} B",
            self.purpose.name(),
            self.addr,
            self.len
        )?;
        match self.target {
            DmaTarget::Host => Ok(()),
            DmaTarget::Cmb => f.write_str(" (CMB)"),
            DmaTarget::Refused => f.write_str(" (refused)"),
        }
    }
}

/// Totals over a list of accesses, for comparing two layouts of the same buffer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TraceSummary {
    /// Accesses of every kind.
    pub accesses: u64,
    /// Bytes of PRP lists and SGL segments fetched.
    pub descriptor_bytes: u64,
    /// Descriptor fetches.
    pub descriptor_fetches: u64,
    /// Data and metadata bytes moved.
    pub data_bytes: u64,
    /// Bytes of queue traffic: SQE fetches, queue lists and CQE posts.
    pub queue_bytes: u64,
    /// Accesses that were refused.
    pub refused: u64,
    /// The PCIe cost of the accesses that crossed the link (host memory, not refused).
    pub pcie: PcieCost,
}

/// Sum up `accesses` and their PCIe cost on `link`.
pub fn summarize(accesses: &[DmaAccess], link: &PcieLink) -> TraceSummary {
    let mut sum = TraceSummary::default();
    for a in accesses {
        sum.accesses = sum.accesses.saturating_add(1);
        match a.purpose {
            p if p.is_descriptor() => {
                sum.descriptor_bytes = sum.descriptor_bytes.saturating_add(a.len);
                sum.descriptor_fetches = sum.descriptor_fetches.saturating_add(1);
            }
            DmaPurpose::SqeFetch | DmaPurpose::QueueListFetch | DmaPurpose::CqePost => {
                sum.queue_bytes = sum.queue_bytes.saturating_add(a.len);
            }
            _ => sum.data_bytes = sum.data_bytes.saturating_add(a.len),
        }
        match a.target {
            DmaTarget::Host => sum.pcie = sum.pcie.plus(link.cost(a)),
            DmaTarget::Cmb => {}
            DmaTarget::Refused => sum.refused = sum.refused.saturating_add(1),
        }
    }
    sum
}

/// The accesses a controller has made since tracing was turned on or the trace was taken.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DmaTrace {
    accesses: Vec<DmaAccess>,
}

impl DmaTrace {
    /// The accesses in the order they happened.
    pub fn accesses(&self) -> &[DmaAccess] {
        &self.accesses
    }

    /// Totals and PCIe cost on `link`.
    pub fn summary(&self, link: &PcieLink) -> TraceSummary {
        summarize(&self.accesses, link)
    }

    pub(crate) fn push(&mut self, access: DmaAccess) {
        self.accesses.push(access);
    }
}
