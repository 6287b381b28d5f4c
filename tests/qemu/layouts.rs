//! Commands whose data pointers the tests lay out themselves with the crate's builders (PRP
//! lists at chosen offsets, SGL segments of chosen sizes), data moved through guest RAM, and
//! the crate's own device-side walker run over the same memory QEMU reads.

use nvme_dma::dptr::{self, ControllerCaps};
use nvme_dma::prp::{PrpBuilder, PrpListPage};
use nvme_dma::sgl::{SegmentBuf, SglBuilder};
use nvme_dma::spec::{BlockRange, Opcode, Psdt, Status, SubmissionEntry};
use nvme_dma::walk::Walk;
use nvme_dma::QueueKind;
use nvme_dma::{Direction, Piece};
use nvme_dma::{DmaMemory, Extent};

/// Guest RAM for PRP list pages and SGL segments the tests place (8 MiB from 16 MiB).
pub const DESCRIPTOR_REGION: Extent = Extent::new(16 << 20, 8 << 20);
/// Guest RAM for buffers written from (32 MiB .. 64 MiB).
pub const WRITE_REGION: Extent = Extent::new(32 << 20, 32 << 20);
/// Guest RAM for buffers read into (64 MiB .. 96 MiB).
pub const READ_REGION: Extent = Extent::new(64 << 20, 32 << 20);

/// The logical block size of the image QEMU presents.
pub const BLOCK: u64 = 512;

/// A small deterministic generator for test data and layout choices.
#[derive(Clone, Debug)]
pub struct XorShift(pub u64);

impl XorShift {
    pub fn next(&mut self) -> u64 {
        // Never zero: xorshift stays at zero once there.
        let mut x = self.0 | 1;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// A value in `0 .. n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next().checked_rem(n).unwrap_or(0)
    }

    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }
}

/// A Read or Write of `blocks` blocks at `lba` on namespace 1, data pointer still empty.
pub fn io_sqe(direction: Direction, lba: u64, blocks: u64) -> SubmissionEntry {
    let opcode = match direction {
        Direction::Write => Opcode::NVM_WRITE,
        Direction::Read => Opcode::NVM_READ,
    };
    let range = BlockRange::new(lba, blocks).expect("1 to 65536 blocks");
    SubmissionEntry::new(opcode, 0)
        .with_nsid(1)
        .with_block_range(range)
}

/// Build PRPs for `extents` with the first list page at `first_list` (any qword-aligned
/// offset); later list pages follow it page by page. Writes the list pages into guest RAM
/// and PRP1/PRP2 into `sqe`. Returns the number of list pages used.
pub fn place_prp<M: DmaMemory>(
    qemu: &mut M,
    ctrl: &ControllerCaps,
    sqe: &mut SubmissionEntry,
    extents: &[Extent],
    first_list: u64,
) -> Result<usize, nvme_dma::prp::BuildError> {
    let ps = ctrl.page_size;
    let mut builder = PrpBuilder::new(ps);
    if let Some(max) = ctrl.max_transfer.bytes() {
        builder = builder.with_max_transfer(max);
    }
    let plan = builder.plan(extents)?;
    let pages = if plan.needs_list() {
        plan.list_pages_needed(first_list) as usize
    } else {
        0
    };
    let first_len = (ps.bytes() - ps.offset_of(first_list)) as usize;
    let mut buffers: Vec<(u64, Vec<u8>)> = (0..pages)
        .map(|k| {
            if k == 0 {
                (first_list, vec![0u8; first_len])
            } else {
                let addr = ps.page_base(first_list) + k as u64 * ps.bytes();
                (addr, vec![0u8; ps.bytes() as usize])
            }
        })
        .collect();
    let mut lists: Vec<PrpListPage<'_>> = buffers
        .iter_mut()
        .map(|(addr, bytes)| PrpListPage::new(*addr, bytes))
        .collect();
    let layout = builder.build(extents, &mut lists)?;
    drop(lists);
    for (addr, bytes) in buffers.iter().take(layout.list_pages_used) {
        qemu.write(*addr, bytes).expect("list page in guest RAM");
    }
    sqe.set_psdt(Psdt::Prp);
    sqe.set_prp1(layout.pair.prp1);
    sqe.set_prp2(layout.pair.prp2.raw());
    Ok(layout.list_pages_used)
}

/// Build an SGL for `pieces` into segment buffers at the given (address, capacity in
/// descriptors) places, used in order. Writes the segments into guest RAM and SGL1 (PSDT 01b)
/// into `sqe`. Returns the number of segments used.
pub fn place_sgl<M: DmaMemory>(
    qemu: &mut M,
    ctrl: &ControllerCaps,
    sqe: &mut SubmissionEntry,
    direction: Direction,
    pieces: &[Piece],
    places: &[(u64, usize)],
) -> Result<usize, nvme_dma::sgl::BuildError> {
    let mut builder = SglBuilder::new(ctrl.sgl, direction);
    if let Some(max) = ctrl.max_transfer.bytes() {
        builder = builder.with_max_transfer(max);
    }
    let mut buffers: Vec<(u64, Vec<u8>)> = places
        .iter()
        .map(|&(addr, capacity)| (addr, vec![0u8; capacity * 16]))
        .collect();
    let mut segments: Vec<SegmentBuf<'_>> = buffers
        .iter_mut()
        .map(|(addr, bytes)| SegmentBuf::new(*addr, bytes))
        .collect();
    let layout = builder.build(pieces, &mut segments)?;
    drop(segments);
    for (addr, bytes) in buffers.iter().take(layout.segments_used) {
        qemu.write(*addr, bytes).expect("segment in guest RAM");
    }
    sqe.set_psdt(Psdt::Sgl);
    sqe.set_sgl1(layout.sgl1.to_raw());
    Ok(layout.segments_used)
}

/// Places for segment buffers of the given capacities, one after another from `first` with
/// `gap` bytes between them.
pub fn segment_places(first: u64, capacities: &[usize], gap: u64) -> Vec<(u64, usize)> {
    let mut at = first;
    capacities
        .iter()
        .map(|&capacity| {
            let place = (at, capacity);
            at += capacity as u64 * 16 + gap;
            place
        })
        .collect()
}

/// What the crate's device-side walker makes of `sqe`'s data pointer for `len` bytes, reading
/// descriptors from the same guest RAM QEMU reads: the data pieces, or the status it would
/// complete the command with.
pub fn walk_ours<M: DmaMemory>(
    qemu: &M,
    ctrl: &ControllerCaps,
    sqe: &SubmissionEntry,
    direction: Direction,
    len: u64,
) -> Result<Vec<Piece>, Status> {
    let pointers = dptr::decode(sqe, QueueKind::Io, &ctrl.sgl).map_err(|e| e.status())?;
    pointers
        .walk_data(direction, len, ctrl.page_size, &ctrl.sgl, qemu)
        .pieces()
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.status())
}

/// The data pieces of a walk, merged where adjacent, for comparing layouts.
pub fn data_extents(pieces: &[Piece]) -> Vec<Extent> {
    let mut out: Vec<Extent> = Vec::new();
    for piece in pieces {
        let Piece::Data(e) = piece else {
            continue;
        };
        if e.len == 0 {
            continue;
        }
        match out.last_mut() {
            Some(last) if last.addr + last.len == e.addr => last.len += e.len,
            _ => out.push(*e),
        }
    }
    out
}

/// Write `data` into `extents` in order.
///
/// `scatter` and `gather` are the host's side of a transfer, written apart from the library's
/// `memory::DataMover` on purpose: the mock controller moves every command's data with the
/// mover, so a mover that put bytes in the wrong place would, if these used it too, read back
/// what it wrote and hide its own bug.
pub fn scatter<M: DmaMemory>(qemu: &mut M, extents: &[Extent], data: &[u8]) {
    let mut at = 0usize;
    for e in extents {
        let end = at + e.len as usize;
        qemu.write(e.addr, &data[at..end])
            .expect("buffer in guest RAM");
        at = end;
    }
    assert_eq!(at, data.len(), "extents cover the data");
}

/// Read `extents` in order into one vector.
pub fn gather<M: DmaMemory>(qemu: &M, extents: &[Extent]) -> Vec<u8> {
    let mut out = Vec::new();
    for e in extents {
        let mut bytes = vec![0u8; e.len as usize];
        qemu.read(e.addr, &mut bytes).expect("buffer in guest RAM");
        out.extend_from_slice(&bytes);
    }
    out
}

/// What a read into `pieces` leaves in `around` (which holds them), when `around` held
/// `before`: `data` in the pieces, in order, and `before` everywhere else.
pub fn after_read(around: Extent, before: &[u8], pieces: &[Extent], data: &[u8]) -> Vec<u8> {
    let mut expected = before.to_vec();
    let mut at = 0usize;
    for piece in pieces {
        let from = (piece.addr - around.addr) as usize;
        let len = piece.len as usize;
        expected[from..from + len].copy_from_slice(&data[at..at + len]);
        at += len;
    }
    expected
}
