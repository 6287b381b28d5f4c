//! Oracles and placement: PRP list pages and SGL segments put where a controller reads them,
//! walks collected, gathering through walked segments, what a walker should report, and
//! acceptance oracles and a reference SGL walk written from the specification alone.

use nvme_dma::memory::{DataMover, DmaFault};
use nvme_dma::prp::{BuildError, PrpBuilder, PrpLayout, PrpListPage, PrpWalker, WalkError};
use nvme_dma::walk::Walk;
use nvme_dma::{DmaMemory, Extent, PageSize, SimMemory};

/// Where tests put PRP list pages: far from any data region the generators use.
pub const LIST_REGION: u64 = 0x7f00_0000_0000;

/// Read the bytes the segments describe, in order, through host-side loads: the library's
/// data mover (what a controller moves a Write's data with) over [`HostLoads`].
pub fn gather(mem: &SimMemory, segments: &[Extent]) -> Vec<u8> {
    let pieces: Vec<Piece> = segments.iter().map(|e| Piece::Data(*e)).collect();
    move_from_host(mem, &pieces)
}

/// The bytes `pieces` (data only) describe, in order, moved by [`DataMover`] through
/// host-side loads.
fn move_from_host(mem: &SimMemory, pieces: &[Piece]) -> Vec<u8> {
    let loads = HostLoads(mem);
    let mut mover = DataMover::new(pieces, &loads).expect("segment is mapped");
    let mut out = vec![0u8; mover.len() as usize];
    mover
        .from_host(&loads, &mut out)
        .expect("segment is mapped");
    out
}

/// A [`SimMemory`] read through host-side loads ([`SimMemory::peek`]): a test looking at
/// memory is not a DMA access, so the counters and the access log the tests check a walk's
/// reads against stay as the walk left them. It only reads: a write is refused.
#[derive(Clone, Copy, Debug)]
pub struct HostLoads<'m>(pub &'m SimMemory);

impl DmaMemory for HostLoads<'_> {
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), DmaFault> {
        self.0.peek(addr, buf)
    }

    fn write(&mut self, addr: u64, data: &[u8]) -> Result<(), DmaFault> {
        Err(DmaFault {
            addr,
            len: data.len() as u64,
        })
    }
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
        layout.pair.prp2.raw(),
        layout.plan.len(),
        ps,
        mem,
    )
    .extents()
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

// ---- SGL helpers ----

use nvme_dma::sgl::{SegmentBuf, SglBuilder, SglCaps, SglLayout, SglWalker};
use nvme_dma::spec::SglDescriptor;
use nvme_dma::{Direction, Piece};

/// Where tests put SGL segments: far from data regions and from the PRP list region.
pub const SEGMENT_REGION: u64 = 0x7e00_0000_0000;

/// Plan, then build into `plan.segments_needed(capacity)` buffers of `capacity` descriptors,
/// 64 KiB apart in the segment region; copy them into `mem` where the controller reads them.
pub fn build_sgl_into(
    builder: &SglBuilder,
    pieces: &[Piece],
    capacity: u64,
    mem: &mut SimMemory,
) -> Result<SglLayout, nvme_dma::sgl::BuildError> {
    let plan = builder.plan(pieces)?;
    let count = plan.segments_needed(capacity).min(1 << 12) as usize;
    let mut buffers: Vec<(u64, Vec<u8>)> = (0..count)
        .map(|i| {
            (
                SEGMENT_REGION + (i as u64) * 0x1_0000,
                vec![0u8; (capacity * 16) as usize],
            )
        })
        .collect();
    let mut segments: Vec<SegmentBuf<'_>> = buffers
        .iter_mut()
        .map(|(addr, bytes)| SegmentBuf::new(*addr, bytes))
        .collect();
    let layout = builder.build(pieces, &mut segments)?;
    drop(segments);
    for (addr, bytes) in &buffers {
        mem.map(*addr, bytes.len() as u64).unwrap();
        mem.poke(*addr, bytes).unwrap();
    }
    Ok(layout)
}

/// Walk an SGL and collect its pieces.
pub fn walk_sgl<M: DmaMemory>(
    sgl1: SglDescriptor,
    direction: Direction,
    len: u64,
    caps: &SglCaps,
    mem: &M,
) -> Result<Vec<Piece>, nvme_dma::sgl::WalkError> {
    SglWalker::new(sgl1, direction, len, caps, mem)
        .pieces()
        .collect()
}

/// Gather the data pieces' bytes in order through host-side loads (skips contribute nothing),
/// with the library's data mover.
pub fn gather_pieces(mem: &SimMemory, pieces: &[Piece]) -> Vec<u8> {
    let data: Vec<Piece> = pieces
        .iter()
        .filter(|p| matches!(p, Piece::Data(_)))
        .copied()
        .collect();
    move_from_host(mem, &data)
}

/// What a walker reports for `pieces`: empty ones dropped, physically adjacent data merged,
/// consecutive skips merged. Written from that definition, not with the library's merge.
pub fn sgl_normalize(pieces: &[Piece]) -> Vec<Piece> {
    let mut out: Vec<Piece> = Vec::new();
    for p in pieces.iter().filter(|p| !p.is_empty()) {
        let merged = match (out.last_mut(), p) {
            (Some(Piece::Data(a)), Piece::Data(b))
                if (a.addr as u128 + a.len as u128) == b.addr as u128
                    && (a.len as u128 + b.len as u128) < (1u128 << 64) =>
            {
                a.len += b.len;
                true
            }
            (Some(Piece::Skip(a)), Piece::Skip(b)) if (*a as u128 + *b as u128) < (1u128 << 64) => {
                *a += b;
                true
            }
            _ => false,
        };
        if !merged {
            out.push(*p);
        }
    }
    out
}

/// What the oracle needs to know of a controller.
#[derive(Clone, Copy, Debug)]
pub struct OracleCaps {
    /// SGLs are supported at all.
    pub supported: bool,
    /// Data blocks must be dword granular (addresses and lengths).
    pub dword: bool,
    /// Bit Bucket descriptors are supported.
    pub bit_bucket: bool,
    /// Keyed SGL Data Block descriptors are supported.
    pub keyed: bool,
    /// A data block may be longer than the transfer (SGLS LLDTS).
    pub lldts: bool,
    /// The most data blocks one command may use (MSDBD), if limited.
    pub msdbd: Option<u64>,
}

/// The oracle: does one SGL express `pieces` for this controller? Written from NVMe Base
/// Specification 2.1, 4.3.2, and Identify Controller's SGLS and MSDBD fields alone, with 128-bit arithmetic and no library code: every piece's kind is
/// supported and bit buckets appear only in reads; nothing runs past 2^64; the total is
/// non-zero, below 2^64, within `max`, covers `transfer` and exceeds it only with LLDTS;
/// after merging adjacent data (and consecutive skips, and adjacent keyed data with one key),
/// dword mode needs every data run dword aligned and granular; each run takes
/// ceil(len / per-descriptor maximum) descriptors, and data blocks (all but bit buckets)
/// number at most MSDBD.
pub fn sgl_oracle_accepts(
    pieces: &[Piece],
    direction: Direction,
    caps: OracleCaps,
    transfer: Option<u64>,
    max: Option<u64>,
) -> bool {
    if !caps.supported {
        return false;
    }
    // (kind, start, len, key): kind 0 data, 1 skip, 2 keyed.
    let mut runs: Vec<(u8, u128, u128, u32)> = Vec::new();
    let mut total: u128 = 0;
    for p in pieces.iter().filter(|p| !p.is_empty()) {
        let (kind, start, len, key) = match *p {
            Piece::Data(e) => (0u8, e.addr as u128, e.len as u128, 0),
            Piece::Skip(n) => {
                if direction == Direction::Write || !caps.bit_bucket {
                    return false;
                }
                (1, 0, n as u128, 0)
            }
            Piece::Keyed { extent, key } => {
                if !caps.keyed {
                    return false;
                }
                (2, extent.addr as u128, extent.len as u128, key)
            }
            _ => return false, // not generated by the tests that use the oracle
        };
        if kind != 1 && start + len > 1u128 << 64 {
            return false;
        }
        total += len;
        match runs.last_mut() {
            Some(r) if r.0 == kind && kind == 1 => r.2 += len,
            Some(r) if r.0 == kind && r.3 == key && r.1 + r.2 == start => r.2 += len,
            _ => runs.push((kind, start, len, key)),
        }
    }
    if total == 0 || total >= 1u128 << 64 {
        return false;
    }
    let t = transfer.map_or(total, |t| t as u128);
    if let Some(m) = max {
        if t > m as u128 {
            return false;
        }
    }
    if total < t || (total > t && !caps.lldts) {
        return false;
    }
    let mut data_blocks: u128 = 0;
    for &(kind, start, len, _) in &runs {
        if caps.dword && kind == 0 && (start % 4 != 0 || len % 4 != 0) {
            return false;
        }
        let mut per: u128 = if kind == 2 {
            (1 << 24) - 1
        } else {
            (1 << 32) - 1
        };
        if caps.dword {
            per -= per % 4;
        }
        if kind != 1 {
            data_blocks += len.div_ceil(per);
        }
    }
    caps.msdbd.map_or(true, |m| data_blocks <= m as u128)
}

/// What the reference walker needs to know of a controller.
#[derive(Clone, Copy, Debug)]
pub struct RefCaps {
    /// SGLs are supported at all.
    pub supported: bool,
    /// Data blocks must be dword granular (addresses and lengths).
    pub dword: bool,
    /// Bit Bucket descriptors are supported.
    pub bit_bucket: bool,
    /// Keyed SGL Data Block descriptors are supported.
    pub keyed: bool,
    /// Transport SGL Data Block descriptors are supported.
    pub transport: bool,
    /// Addresses may be offsets into the capsule (SGLS "address as offset").
    pub offsets: bool,
    /// A data block may be longer than the transfer (SGLS LLDTS).
    pub lldts: bool,
    /// Metadata may be described by an SGL (SGLS MSDS).
    pub msds: bool,
    /// The most data blocks one command may use (MSDBD), if limited.
    pub msdbd: Option<u64>,
    /// In-capsule data bytes, the bound of capsule offsets.
    pub capsule: u64,
    /// The walk limit on descriptors.
    pub max_descriptors: u64,
    /// The walk limit on segments.
    pub max_segments: u64,
}

impl RefCaps {
    /// What `caps` says, field by field.
    pub fn of(caps: &SglCaps) -> Self {
        use nvme_dma::sgl::Capability as C;
        RefCaps {
            supported: caps.supported(),
            dword: caps.dword_granular(),
            bit_bucket: caps.has(C::BitBucket),
            keyed: caps.has(C::Keyed),
            transport: caps.has(C::TransportDataBlock),
            offsets: caps.has(C::AddressAsOffset),
            lldts: caps.has(C::Lldts),
            msds: caps.has(C::MetadataSgl),
            msdbd: caps.msdbd().map(u64::from),
            capsule: caps.capsule_data(),
            max_descriptors: u64::from(caps.limits().max_descriptors),
            max_segments: u64::from(caps.limits().max_segments),
        }
    }
}

/// A reference SGL walker, written from NVMe Base Specification 2.1, 4.3.2, and the walker's documented order of
/// checks, one descriptor at a time, with 128-bit arithmetic and no library code. It reads
/// memory host-side (`peek`), in the same batches the library walker fetches (so a fault is
/// met at the same point). Returns the merged pieces, or the status code (SC) of the first
/// rule broken.
pub fn reference_walk(
    first: Result<[u8; 16], u64>,
    write: bool,
    len: u64,
    caps: RefCaps,
    mem: &SimMemory,
) -> Result<Vec<Piece>, u8> {
    const INVALID_FIELD: u8 = 0x02;
    const TRANSFER: u8 = 0x04;
    const SEGMENT: u8 = 0x0D;
    const NUMBER: u8 = 0x0E;
    const TYPE: u8 = 0x11;
    const OFFSET: u8 = 0x16;
    const GRANULARITY: u8 = 0x1E;
    let metadata = first.is_err();
    let length_sc: u8 = if metadata { 0x10 } else { 0x0F };
    if !caps.supported {
        return Err(INVALID_FIELD);
    }
    if let Err(mptr) = first {
        if !caps.msds || mptr % 8 != 0 {
            return Err(INVALID_FIELD);
        }
    }
    if len == 0 {
        return Ok(Vec::new());
    }
    let first: [u8; 16] = match first {
        Ok(d) => d,
        Err(mptr) => {
            let mut d = [0u8; 16];
            mem.peek(mptr, &mut d).map_err(|_| TRANSFER)?;
            d
        }
    };

    enum D {
        Block(u64, u64),
        Capsule(u64, u64),
        Bucket(u64),
        Keyed(u64, u64, u32),
        Transport(u64),
        Pointer(u64, u64, bool),
    }
    fn classify(d: &[u8; 16]) -> Option<D> {
        let addr = u64::from_le_bytes(d[..8].try_into().unwrap());
        let len = u32::from_le_bytes(d[8..12].try_into().unwrap()) as u64;
        let (t, st) = (d[15] >> 4, d[15] & 0xF);
        Some(match (t, st) {
            (0, 0) => D::Block(addr, len),
            (0, 1) => D::Capsule(addr, len),
            (1, 0) => D::Bucket(len),
            (2, 0) => D::Pointer(addr, len, false),
            (3, 0) => D::Pointer(addr, len, true),
            (4, 0) | (4, 0xA..=0xF) => {
                let key = u32::from_le_bytes([d[11], d[12], d[13], d[14]]);
                D::Keyed(addr, len & 0xFF_FFFF, key)
            }
            (5, 0xA..=0xF) => D::Transport(len),
            _ => return None,
        })
    }

    let mut remaining = len as u128;
    let mut out: Vec<Piece> = Vec::new();
    let (mut descriptors, mut segments, mut blocks) = (0u64, 0u64, 0u64);
    // Returns the piece a data descriptor describes, if any.
    let take = |d: &D, remaining: &mut u128, blocks: &mut u64| -> Result<Option<Piece>, u8> {
        let supported = match d {
            D::Block(..) => true,
            D::Capsule(..) => caps.offsets,
            D::Bucket(_) => caps.bit_bucket,
            D::Keyed(..) => caps.keyed,
            D::Transport(_) => caps.transport,
            D::Pointer(..) => unreachable!(),
        };
        if !supported {
            return Err(TYPE);
        }
        if !matches!(d, D::Bucket(_)) {
            *blocks += 1;
            if caps.msdbd.is_some_and(|m| *blocks > m) {
                return Err(NUMBER);
            }
        }
        match *d {
            D::Block(a, l) | D::Capsule(a, l) if caps.dword && (a % 4 != 0 || l % 4 != 0) => {
                return Err(GRANULARITY)
            }
            D::Block(a, l) | D::Keyed(a, l, _) if a as u128 + l as u128 > 1u128 << 64 => {
                return Err(length_sc)
            }
            D::Capsule(o, l) if o as u128 + l as u128 > caps.capsule as u128 => return Err(OFFSET),
            _ => {}
        }
        let counted = match *d {
            D::Bucket(_) if write => 0,
            D::Block(_, l)
            | D::Capsule(_, l)
            | D::Bucket(l)
            | D::Keyed(_, l, _)
            | D::Transport(l) => l,
            D::Pointer(..) => unreachable!(),
        } as u128;
        if counted == 0 {
            return Ok(None);
        }
        let n = if counted <= *remaining {
            counted
        } else if caps.lldts {
            *remaining
        } else {
            return Err(length_sc);
        };
        if n == 0 {
            return Ok(None);
        }
        *remaining -= n;
        let n = n as u64;
        Ok(Some(match *d {
            D::Block(a, _) => Piece::Data(Extent::new(a, n)),
            D::Capsule(o, _) => Piece::Capsule { offset: o, len: n },
            D::Bucket(_) => Piece::Skip(n),
            D::Keyed(a, _, key) => Piece::Keyed {
                extent: Extent::new(a, n),
                key,
            },
            D::Transport(_) => Piece::Transport(n),
            D::Pointer(..) => unreachable!(),
        }))
    };
    // Check a pointer and return its segment (address, descriptors, last).
    let enter = |a: u64,
                 l: u64,
                 last: bool,
                 descriptors: &mut u64,
                 segments: &mut u64|
     -> Result<(u64, u64, bool), u8> {
        if l == 0 || l % 16 != 0 || a % 8 != 0 {
            return Err(SEGMENT);
        }
        if a as u128 + l as u128 > 1u128 << 64 {
            return Err(length_sc);
        }
        *segments += 1;
        if *segments > caps.max_segments {
            return Err(NUMBER);
        }
        let n = l / 16;
        *descriptors += if last { n } else { n - 1 };
        if *descriptors > caps.max_descriptors {
            return Err(NUMBER);
        }
        Ok((a, n, last))
    };

    let mut segment = match classify(&first) {
        None => return Err(TYPE),
        Some(D::Pointer(a, l, last)) => enter(a, l, last, &mut descriptors, &mut segments)?,
        Some(d) => {
            descriptors += 1;
            if descriptors > caps.max_descriptors {
                return Err(NUMBER);
            }
            let piece = take(&d, &mut remaining, &mut blocks)?;
            if remaining > 0 {
                return Err(length_sc);
            }
            return Ok(sgl_normalize_all(piece.into_iter().collect()));
        }
    };
    'segments: loop {
        let (base, n, last) = segment;
        for i in 0..n {
            if remaining == 0 && caps.lldts {
                break 'segments;
            }
            // The walker's batch size is part of its documented behaviour (where a fault in
            // segment memory is met), so the reference takes it from the library.
            let batch_len = nvme_dma::sgl::BATCH_DESCRIPTORS as u64;
            if i % batch_len == 0 {
                let batch = (n - i).min(batch_len);
                if !mem.is_mapped(base + i * 16, batch * 16) {
                    return Err(TRANSFER);
                }
            }
            let mut d = [0u8; 16];
            mem.peek(base + i * 16, &mut d).unwrap();
            let is_final = i + 1 == n;
            match classify(&d) {
                None => return Err(TYPE),
                Some(D::Pointer(a, l, next_last)) => {
                    if !is_final {
                        return Err(NUMBER);
                    }
                    if last {
                        return Err(SEGMENT);
                    }
                    segment = enter(a, l, next_last, &mut descriptors, &mut segments)?;
                    continue 'segments;
                }
                Some(data) => {
                    if is_final && !last {
                        return Err(SEGMENT);
                    }
                    if let Some(p) = take(&data, &mut remaining, &mut blocks)? {
                        out.push(p);
                    }
                }
            }
        }
        if remaining > 0 {
            return Err(length_sc);
        }
        break;
    }
    Ok(sgl_normalize_all(out))
}

/// Merge runs of every kind the way a walker reports them (reference version, independent of
/// the library): adjacent data, adjacent keyed data with one key, adjacent capsule data,
/// consecutive skips, consecutive transport pieces; nothing whose total would reach 2^64.
pub fn sgl_normalize_all(pieces: Vec<Piece>) -> Vec<Piece> {
    let mut out: Vec<Piece> = Vec::new();
    for p in pieces.into_iter().filter(|p| !p.is_empty()) {
        let fits = |a: u64, b: u64| (a as u128 + b as u128) < (1u128 << 64);
        let merged = match (out.last_mut(), p) {
            (Some(Piece::Data(a)), Piece::Data(b))
                if a.addr as u128 + a.len as u128 == b.addr as u128 && fits(a.len, b.len) =>
            {
                a.len += b.len;
                true
            }
            (Some(Piece::Keyed { extent: a, key }), Piece::Keyed { extent: b, key: k })
                if *key == k
                    && a.addr as u128 + a.len as u128 == b.addr as u128
                    && fits(a.len, b.len) =>
            {
                a.len += b.len;
                true
            }
            (Some(Piece::Capsule { offset, len }), Piece::Capsule { offset: o, len: l })
                if *offset as u128 + *len as u128 == o as u128 && fits(*len, l) =>
            {
                *len += l;
                true
            }
            (Some(Piece::Skip(a)), Piece::Skip(b)) if fits(*a, b) => {
                *a += b;
                true
            }
            (Some(Piece::Transport(a)), Piece::Transport(b)) if fits(*a, b) => {
                *a += b;
                true
            }
            _ => false,
        };
        if !merged {
            out.push(p);
        }
    }
    out
}
