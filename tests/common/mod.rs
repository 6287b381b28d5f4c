//! Helpers shared by the integration tests: data patterns in simulated memory, PRP list
//! placement, gathering through walked segments, and an independent acceptance oracle.
#![allow(dead_code)]

use nvme_dma::prp::{BuildError, PrpBuilder, PrpLayout, PrpListPage, PrpWalker, WalkError};
use nvme_dma::{DmaMemory, Extent, PageSize, SimMemory};

/// Where tests put PRP list pages: far from any data region the generators use.
pub const LIST_REGION: u64 = 0x7f00_0000_0000;

/// The byte at position `pos` of a transfer tagged `seed`: what the data should read as.
pub fn pattern_byte(seed: u64, pos: u64) -> u8 {
    let x = (pos ^ seed.rotate_left(17)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    (x >> 56) as u8 ^ (pos as u8)
}

/// Map every extent and write the transfer pattern into it, byte `k` of the transfer at its
/// place in the extents. Extents must not overlap.
pub fn fill_extents(mem: &mut SimMemory, extents: &[Extent], seed: u64) {
    let mut pos = 0u64;
    for e in extents.iter().filter(|e| e.len > 0) {
        mem.map(e.addr, e.len)
            .expect("extent fits the address space");
        let data: Vec<u8> = (0..e.len).map(|k| pattern_byte(seed, pos + k)).collect();
        mem.poke(e.addr, &data).expect("mapped");
        pos += e.len;
    }
}

/// The transfer as it should arrive: `len` pattern bytes.
pub fn expected_bytes(seed: u64, len: u64) -> Vec<u8> {
    (0..len).map(|k| pattern_byte(seed, k)).collect()
}

/// Read the bytes the segments describe, in order, through host-side loads.
pub fn gather(mem: &SimMemory, segments: &[Extent]) -> Vec<u8> {
    let mut out = Vec::new();
    for s in segments {
        out.extend(
            mem.peek_vec(s.addr, s.len as usize)
                .expect("segment is mapped"),
        );
    }
    out
}

/// Build a layout whose first list page sits `list_offset` bytes into a page of the list
/// region, then copy the list pages into `mem` where the controller will read them.
pub fn build_into(
    builder: &PrpBuilder,
    extents: &[Extent],
    list_offset: u64,
    mem: &mut SimMemory,
) -> Result<PrpLayout, BuildError> {
    let ps = builder.page_size();
    let plan = builder.plan(extents)?;
    let first = LIST_REGION + list_offset;
    let pages = plan.list_pages_needed(first) as usize;
    let mut buffers: Vec<(u64, Vec<u8>)> = (0..pages)
        .map(|i| {
            if i == 0 {
                (first, vec![0u8; (ps.bytes() - list_offset) as usize])
            } else {
                (
                    LIST_REGION + ps.bytes() * (i as u64 + 1),
                    vec![0u8; ps.bytes() as usize],
                )
            }
        })
        .collect();
    let mut lists: Vec<PrpListPage<'_>> = buffers
        .iter_mut()
        .map(|(addr, bytes)| PrpListPage::new(*addr, bytes))
        .collect();
    let layout = builder.build(extents, &mut lists)?;
    drop(lists);
    for (addr, bytes) in &buffers {
        mem.map(*addr, bytes.len() as u64).unwrap();
        mem.poke(*addr, bytes).unwrap();
    }
    Ok(layout)
}

/// Walk a layout and collect its segments.
pub fn walk<M: DmaMemory>(
    layout: &PrpLayout,
    ps: PageSize,
    mem: &M,
) -> Result<Vec<Extent>, WalkError> {
    PrpWalker::new(
        layout.pair.prp1,
        layout.pair.prp2,
        layout.plan.len(),
        ps,
        mem,
    )
    .collect()
}

/// Merge physically adjacent extents and drop empty ones (what a walker reports).
pub fn normalize(extents: &[Extent]) -> Vec<Extent> {
    let mut out: Vec<Extent> = Vec::new();
    for e in extents.iter().filter(|e| e.len > 0) {
        match out.last_mut() {
            Some(last) if last.end() == Some(e.addr) => last.len += e.len,
            _ => out.push(*e),
        }
    }
    out
}

/// The oracle: does one PRP data pointer express `extents`? Written from the "device pages"
/// definition alone (NVMe Base 4.3.1, and the SPDK memory notes): cut the transfer into pieces
/// at page boundaries; the first piece starts dword aligned, every later piece starts on a
/// page boundary, every piece but the last ends on one. Plus the limits: something to move,
/// nothing past 2^64, no more than `max` bytes. Uses 128-bit arithmetic and no library code.
pub fn oracle_accepts(extents: &[Extent], page_size: u64, max: Option<u64>) -> bool {
    let mut pieces: Vec<(u128, u128)> = Vec::new();
    let mut total: u128 = 0;
    let ps = page_size as u128;
    for e in extents.iter().filter(|e| e.len > 0) {
        let (start, end) = (e.addr as u128, e.addr as u128 + e.len as u128);
        if end > 1u128 << 64 {
            return false;
        }
        total += e.len as u128;
        let mut a = start;
        while a < end {
            let page_end = (a / ps + 1) * ps;
            let b = page_end.min(end);
            pieces.push((a, b));
            a = b;
        }
    }
    if total == 0 || total > max.map_or(u64::MAX as u128, |m| m as u128) {
        return false;
    }
    let n = pieces.len();
    pieces.iter().enumerate().all(|(i, &(a, b))| {
        let start_ok = if i == 0 { a % 4 == 0 } else { a % ps == 0 };
        let end_ok = i + 1 == n || b % ps == 0;
        start_ok && end_ok
    })
}

/// How many device pages (PRP entries) the oracle counts for accepted extents.
pub fn oracle_pages(extents: &[Extent], page_size: u64) -> u64 {
    let ps = page_size as u128;
    extents
        .iter()
        .filter(|e| e.len > 0)
        .map(|e| {
            let (a, b) = (e.addr as u128, e.addr as u128 + e.len as u128);
            ((b - 1) / ps - a / ps + 1) as u64
        })
        .sum()
}
