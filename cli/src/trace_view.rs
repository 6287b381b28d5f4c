//! The mock controller's DMA trace and its PCIe cost, as `demo` and `exec` show them (JSON
//! objects *Access*, *Cost* and *Link* in docs/cli-json.md).

use nvme_dma::controller::{DmaAccess, DmaPurpose, DmaTarget, PcieLink, TraceSummary};
use serde::Serialize;

use crate::json::Hex;

/// One DMA access.
#[derive(Clone, Debug, Serialize)]
pub struct AccessJson {
    /// What it was for: a stable snake_case name.
    pub purpose: &'static str,
    /// First bus address.
    pub addr: Hex,
    /// Bytes.
    pub len: u64,
    /// `host`, `cmb` or `refused`.
    pub target: &'static str,
    /// The purpose in words, for text.
    #[serde(skip)]
    pub purpose_name: &'static str,
}

impl From<&DmaAccess> for AccessJson {
    fn from(a: &DmaAccess) -> Self {
        AccessJson {
            purpose: purpose_id(a.purpose),
            addr: Hex(a.addr),
            len: a.len,
            target: match a.target {
                DmaTarget::Host => "host",
                DmaTarget::Cmb => "cmb",
                DmaTarget::Refused => "refused",
            },
            purpose_name: a.purpose.name(),
        }
    }
}

/// The stable JSON name of a purpose.
pub fn purpose_id(p: DmaPurpose) -> &'static str {
    match p {
        DmaPurpose::SqeFetch => "sqe_fetch",
        DmaPurpose::QueueListFetch => "queue_list_fetch",
        DmaPurpose::PrpListFetch => "prp_list_fetch",
        DmaPurpose::SglSegmentFetch => "sgl_segment_fetch",
        DmaPurpose::DataRead => "data_read",
        DmaPurpose::DataWrite => "data_write",
        DmaPurpose::MetadataRead => "metadata_read",
        DmaPurpose::MetadataWrite => "metadata_write",
        DmaPurpose::CqePost => "cqe_post",
    }
}

/// Totals of a trace and what they cost on the link.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct CostJson {
    /// Accesses of every kind.
    pub accesses: u64,
    /// Bytes of PRP lists and SGL segments fetched.
    pub descriptor_bytes: u64,
    /// Descriptor fetches.
    pub descriptor_fetches: u64,
    /// Data and metadata bytes moved.
    pub data_bytes: u64,
    /// SQE fetches, queue PRP lists and CQE posts.
    pub queue_bytes: u64,
    /// Accesses refused (they moved nothing).
    pub refused: u64,
    /// Transaction layer packets on the link.
    pub tlps: u64,
    /// Memory Read Request TLPs.
    pub read_requests: u64,
    /// Completion TLPs carrying read data.
    pub read_completions: u64,
    /// Posted Memory Write TLPs.
    pub writes: u64,
    /// Payload bytes on the link.
    pub payload_bytes: u64,
    /// Header, sequence number, LCRC and framing bytes.
    pub overhead_bytes: u64,
    /// Payload over all bytes on the link, 0 to 1.
    pub efficiency: f64,
}

impl From<&TraceSummary> for CostJson {
    fn from(s: &TraceSummary) -> Self {
        CostJson {
            accesses: s.accesses,
            descriptor_bytes: s.descriptor_bytes,
            descriptor_fetches: s.descriptor_fetches,
            data_bytes: s.data_bytes,
            queue_bytes: s.queue_bytes,
            refused: s.refused,
            tlps: s.pcie.tlps(),
            read_requests: s.pcie.requests,
            read_completions: s.pcie.completions,
            writes: s.pcie.writes,
            payload_bytes: s.pcie.payload_bytes,
            overhead_bytes: s.pcie.overhead_bytes,
            efficiency: s.pcie.efficiency(),
        }
    }
}

/// The link the cost is counted on.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct LinkJson {
    /// Max Payload Size.
    pub max_payload: u64,
    /// Max Read Request Size.
    pub max_read_request: u64,
    /// Read Completion Boundary.
    pub read_completion_boundary: u64,
    /// Bytes each TLP costs beyond its payload.
    pub tlp_overhead: u64,
}

impl From<&PcieLink> for LinkJson {
    fn from(l: &PcieLink) -> Self {
        LinkJson {
            max_payload: l.max_payload,
            max_read_request: l.max_read_request,
            read_completion_boundary: l.read_completion_boundary,
            tlp_overhead: l.tlp_overhead,
        }
    }
}

/// The link in words.
pub fn link_text(l: &LinkJson) -> String {
    format!(
        "PCIe MPS {}, MRRS {}, RCB {}, {} bytes per TLP",
        l.max_payload, l.max_read_request, l.read_completion_boundary, l.tlp_overhead
    )
}

/// A cost in one line.
pub fn cost_text(c: &CostJson) -> String {
    format!(
        "{} TLPs (read requests {}, completions {}, writes {}), {} payload + {} overhead bytes: {:.1}% efficient",
        c.tlps,
        c.read_requests,
        c.read_completions,
        c.writes,
        c.payload_bytes,
        c.overhead_bytes,
        c.efficiency * 100.0
    )
}

/// What the descriptors cost, in words.
pub fn descriptors_text(c: &CostJson) -> String {
    match c.descriptor_fetches {
        0 => "no descriptor fetched".into(),
        1 => format!("{} descriptor bytes in 1 fetch", c.descriptor_bytes),
        n => format!("{} descriptor bytes in {n} fetches", c.descriptor_bytes),
    }
}
