//! What a DMA access costs on the PCIe link: the transaction layer packets (TLPs) it becomes.
//!
//! A controller writing host memory sends posted Memory Write TLPs, each carrying at most
//! Max Payload Size (MPS) bytes. A controller reading host memory sends Memory Read Request
//! TLPs (no payload), each asking for at most Max Read Request Size (MRRS) bytes, and the host
//! answers with Completion TLPs of at most MPS bytes each, split on Read Completion Boundary
//! (RCB) aligned addresses. No request crosses a 4 KiB address boundary. Every TLP pays a
//! fixed overhead for its header, sequence number, LCRC and framing.
//!
//! ```text
//! read of 0x2000 bytes at 0x1f80, MRRS 512, MPS 256, RCB 64:
//!   requests    [1f80..2000) [2000..2200) … [3e00..3f80)   4 KiB boundary at 0x2000 cuts the first
//!   completions each request answered in ≤ 256-byte pieces ending on 64-byte boundaries
//! ```
//!
//! Comparing two layouts of the same buffer through [`PcieCost`] shows what the layout costs
//! beyond the data itself: descriptor fetches are small reads, each paying a request and a
//! completion.

use super::trace::DmaAccess;

/// PCIe never lets one request cross a 4 KiB address boundary.
const BOUNDARY: u64 = 4096;

/// The link parameters that decide how an access splits into TLPs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PcieLink {
    /// Max Payload Size: 128, 256, 512, 1024, 2048 or 4096 bytes.
    pub max_payload: u64,
    /// Max Read Request Size: 128 to 4096 bytes, a power of two.
    pub max_read_request: u64,
    /// Read Completion Boundary: 64 or 128 bytes.
    pub read_completion_boundary: u64,
    /// Bytes each TLP costs beyond its payload: a 4-dword header with a 64-bit address
    /// (16), sequence number (2), LCRC (4) and framing (2) make the default 24.
    pub tlp_overhead: u64,
}

impl PcieLink {
    /// A common configuration: MPS 256, MRRS 512, RCB 64, 24 bytes of overhead per TLP.
    pub const TYPICAL: PcieLink = PcieLink {
        max_payload: 256,
        max_read_request: 512,
        read_completion_boundary: 64,
        tlp_overhead: 24,
    };

    /// A link with these sizes, or `None` when one is not a size PCIe allows.
    pub fn new(max_payload: u64, max_read_request: u64, rcb: u64) -> Option<PcieLink> {
        let size_ok = |n: u64| n.is_power_of_two() && (128..=4096).contains(&n);
        (size_ok(max_payload) && size_ok(max_read_request) && (rcb == 64 || rcb == 128)).then_some(
            PcieLink {
                max_payload,
                max_read_request,
                read_completion_boundary: rcb,
                ..PcieLink::TYPICAL
            },
        )
    }

    /// The TLPs that carry `access` across the link.
    pub fn cost(&self, access: &DmaAccess) -> PcieCost {
        let mut cost = PcieCost {
            payload_bytes: access.len,
            ..PcieCost::default()
        };
        let end = access.addr.saturating_add(access.len);
        if access.purpose.is_read() {
            for (start, stop) in pieces(access.addr, end, self.max_read_request, BOUNDARY) {
                cost.requests = cost.requests.saturating_add(1);
                let rcb = self.read_completion_boundary.max(1);
                cost.completions = cost
                    .completions
                    .saturating_add(pieces(start, stop, self.max_payload, rcb).count() as u64);
            }
        } else {
            cost.writes = pieces(access.addr, end, self.max_payload, BOUNDARY).count() as u64;
        }
        cost.overhead_bytes = cost.tlps().saturating_mul(self.tlp_overhead);
        cost
    }
}

impl Default for PcieLink {
    fn default() -> Self {
        PcieLink::TYPICAL
    }
}

/// Split `[start, end)` into pieces of at most `max` bytes that end on `align`-aligned
/// addresses (except the last). `max` and `align` are powers of two with `align <= max` or
/// `align` a multiple of `max`, so every piece makes progress.
fn pieces(start: u64, end: u64, max: u64, align: u64) -> impl Iterator<Item = (u64, u64)> {
    let max = max.max(1);
    let align = align.max(1);
    let mut at = start;
    core::iter::from_fn(move || {
        if at >= end {
            return None;
        }
        let limit = at.saturating_add(max);
        // The furthest aligned address not past `limit`: the piece may end there.
        let aligned = limit.saturating_sub(limit.checked_rem(align).unwrap_or(0));
        let stop = if aligned > at { aligned } else { limit }.min(end);
        let piece = (at, stop);
        at = stop;
        Some(piece)
    })
}

/// TLPs and bytes on the link.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PcieCost {
    /// Memory Read Request TLPs (device to host, no payload).
    pub requests: u64,
    /// Completion TLPs carrying read data (host to device).
    pub completions: u64,
    /// Posted Memory Write TLPs (device to host, with payload).
    pub writes: u64,
    /// Payload bytes.
    pub payload_bytes: u64,
    /// Header, sequence, LCRC and framing bytes of all those TLPs.
    pub overhead_bytes: u64,
}

impl PcieCost {
    /// All TLPs.
    pub fn tlps(&self) -> u64 {
        self.requests
            .saturating_add(self.completions)
            .saturating_add(self.writes)
    }

    /// Payload over everything on the wire, 0.0 to 1.0 (1.0 when nothing moved).
    pub fn efficiency(&self) -> f64 {
        let wire = self.payload_bytes.saturating_add(self.overhead_bytes);
        if wire == 0 {
            1.0
        } else {
            self.payload_bytes as f64 / wire as f64
        }
    }

    /// The sum of two costs.
    pub fn plus(self, other: PcieCost) -> PcieCost {
        PcieCost {
            requests: self.requests.saturating_add(other.requests),
            completions: self.completions.saturating_add(other.completions),
            writes: self.writes.saturating_add(other.writes),
            payload_bytes: self.payload_bytes.saturating_add(other.payload_bytes),
            overhead_bytes: self.overhead_bytes.saturating_add(other.overhead_bytes),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::trace::{DmaPurpose, DmaTarget};
    use super::*;

    fn access(purpose: DmaPurpose, addr: u64, len: u64) -> DmaAccess {
        DmaAccess {
            purpose,
            addr,
            len,
            target: DmaTarget::Host,
        }
    }

    #[test]
    fn writes_split_at_max_payload_and_4k() {
        let link = PcieLink::TYPICAL;
        // 0x300 bytes from 0xf80: [f80,1000) stops at the 4 KiB boundary, then 256 + 256 + 0x80.
        let c = link.cost(&access(DmaPurpose::DataWrite, 0xf80, 0x300));
        assert_eq!((c.writes, c.requests, c.completions), (4, 0, 0));
        assert_eq!(c.overhead_bytes, 4 * 24);
        // A 16-byte CQE is one write.
        assert_eq!(link.cost(&access(DmaPurpose::CqePost, 0x10, 16)).tlps(), 1);
    }

    #[test]
    fn reads_pay_requests_and_rcb_split_completions() {
        let link = PcieLink::TYPICAL;
        // 4 KiB aligned read: 8 requests of 512, each answered by 2 completions of 256.
        let c = link.cost(&access(DmaPurpose::DataRead, 0x1000, 4096));
        assert_eq!((c.requests, c.completions), (8, 16));
        // 64 bytes 32 bytes into an RCB block: one request; one completion fits MPS.
        let c = link.cost(&access(DmaPurpose::SqeFetch, 0x20, 64));
        assert_eq!((c.requests, c.completions), (1, 1));
        let c = link.cost(&access(DmaPurpose::PrpListFetch, 0x3ff0, 32));
        // Crosses 4 KiB: two requests, each with one completion.
        assert_eq!((c.requests, c.completions), (2, 2));
    }

    #[test]
    fn efficiency_counts_overhead() {
        let link = PcieLink::TYPICAL;
        let c = link.cost(&access(DmaPurpose::DataWrite, 0, 256));
        assert!((c.efficiency() - 256.0 / 280.0).abs() < 1e-9);
        assert!(PcieLink::new(100, 512, 64).is_none());
        assert!(PcieLink::new(256, 512, 32).is_none());
    }
}
