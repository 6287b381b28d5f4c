//! Device side: walk SGL1 and its segment chain back into pieces of the transfer, as a
//! controller does; see [`SglWalker`].

use zerocopy::IntoBytes;

use super::caps::{Capability, SglCaps, WalkLimits};
use super::descriptor::{
    DataDescriptor, Descriptor, SegmentKind, SegmentPointer, DESCRIPTOR_BYTES,
};
use super::error::{DescriptorAt, TypeProblem, WalkError};
use super::SglRole;
use crate::extent::Extent;
use crate::memory::DmaMemory;
use crate::piece::{Flat, Kind, Piece};
use crate::spec::{SglDescriptor, SglDescriptorType, SglSubtype};
use crate::Direction;

/// Descriptors fetched per memory read, at most (1 KiB, inside the walker).
pub const BATCH_DESCRIPTORS: usize = 64;

/// The batch buffer a walk makes first when its segment is this short (256 bytes): zeroing
/// a full batch would cost a short walk more than reading its segment, and the smaller
/// buffer keeps the walker smaller.
const SHORT_BATCH: usize = 16;

/// Finished pieces the iterator buffers between calls to the batch loop (768 bytes, made on
/// the iterator's first refill), so that the batch loop's set-up is paid once per 32 pieces
/// rather than once per piece. (64 pieces saved about 3 instructions a piece on long walks
/// but cost about 17 a piece at 16, from zeroing the larger buffer.)
const READY: usize = 32;

/// What a successful walk described, from [`SglWalker::validate`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WalkSummary {
    /// Pieces yielded, after merging.
    pub pieces: u64,
    /// Bytes of the transfer (data and skips).
    pub bytes: u64,
    /// Data descriptors charged to the budget (SGL1's included).
    pub descriptors: u64,
    /// Segments entered.
    pub segments: u64,
}

/// Where the walk starts.
#[derive(Clone, Copy, Debug)]
enum State {
    /// SGL1, from the command.
    Sgl1(SglDescriptor),
    /// Read the one descriptor at MPTR first (PSDT 10b).
    Mptr(u64),
    /// Reading descriptors from the current segment.
    Segment,
    /// A check that failed before anything was read; reported on the first `next`.
    Failed(WalkError),
    /// Nothing left (or an error was returned).
    Done,
}

/// Walks an SGL, as a controller does: an iterator over `Result<Piece, WalkError>`: it yields the transfer's
/// pieces in order (host-memory data, and on reads the bit-bucket skips between them), merging
/// pieces that continue each other, and stops at the first rule broken with the NVMe status to
/// complete the command with.
///
/// [`SglWalker::fill`] is the batch form: it writes the same pieces into a slice the caller
/// owns, many per call, and is the faster of the two (the iterator runs on it, up to 32
/// pieces ahead of its consumer). Both read descriptors in batches of up to
/// [`BATCH_DESCRIPTORS`], one memory read each, and take plain Data Blocks and Bit Buckets
/// through a short loop; every other descriptor goes through the general rules one at a time.
///
/// A walker is about 2.2 KiB, most of it the descriptor batch (a 256-byte one for a short
/// first segment, a 1 KiB one for longer segments) and the iterator's buffer, which are
/// made only when first needed (SGL1 as the whole transfer needs none of them). Moving
/// a walker copies all of it: make it where it is used (`for piece in SglWalker::new(..)`),
/// or iterate `&mut walker`.
///
/// # The rules it checks, in the order it meets them
///
/// * SGL1 (or the MPTR descriptor) is a data descriptor describing the whole transfer, or a
///   Segment / Last Segment descriptor.
/// * Every descriptor has a defined type/subtype pair the controller supports: SGL Descriptor
///   Type Invalid.
/// * A Segment or Last Segment descriptor is the last descriptor of its segment (else Invalid
///   Number of SGL Descriptors, checked first: one in the middle of the last segment gets this
///   status too); it is not inside the last segment, and a segment reached
///   through a Segment descriptor does end with one (else Invalid SGL Segment Descriptor); its
///   length is a non-zero multiple of 16 and its address qword aligned (Invalid SGL Segment
///   Descriptor).
/// * In dword-granular mode a Data Block's address and length have bits 1:0 clear: SGL Data
///   Block Granularity Invalid.
/// * No address + length passes 2^64, the SGL covers the whole transfer, and without LLDTS it
///   describes no more than the transfer (a data block longer than what remains is refused, not
///   truncated): Data SGL Length Invalid, or Metadata SGL Length Invalid for a metadata SGL.
/// * Data block descriptors number at most MSDBD, and the walk stays within its
///   [`WalkLimits`]: Invalid Number of SGL Descriptors.
/// * A segment that cannot be read: Data Transfer Error.
///
/// With LLDTS the walk stops as soon as the transfer is complete: descriptors not needed for
/// the transfer need not be checked. Without it, the walk reads on to the end of the SGL,
/// because only then is it known that the SGL is not longer than the transfer.
///
/// # Work bound
///
/// Every descriptor a walk reads is charged to a budget before it is read (the progress rule):
/// a segment's data descriptors, zero-length ones included, to `max_descriptors`, and the
/// segment itself (with the pointer that ends it) to `max_segments`. A segment whose charge
/// would exceed a budget is refused before any of it is read. So, with `D = max_descriptors`,
/// `S = max_segments` and `B` = [`BATCH_DESCRIPTORS`]:
///
/// ```text
/// descriptors read <= D + S                 (16 bytes each; +1 for the MPTR descriptor)
/// memory reads     <= S + ceil((D + S) / B) (+1 for the MPTR descriptor)
/// ```
///
/// ([`WalkLimits::max_bytes_read`], [`WalkLimits::max_reads`]), and `O(D + S)` work in all,
/// whatever the transfer length. A self-referencing chain ends after `S` segments, a run of
/// zero-length descriptors after `D`, and a segment of 2^28 descriptors before it is read.
/// Batches never run past the end of their segment.
///
/// # Validate before moving data
///
/// A controller must not move data for a command whose data pointer is invalid. Walk the whole
/// SGL first ([`SglWalker::validate`], or collect the pieces) and only then transfer.
/// Collecting once is also what keeps a guest from changing a segment between a validating
/// walk and a transferring one.
///
/// # Example
///
/// ```
/// use nvme_dma::{Extent, SliceMemory};
/// use nvme_dma::sgl::{SglCaps, SglWalker, SegmentKind, SegmentPointer, DataDescriptor};
/// use nvme_dma::{Direction, Piece};
/// use nvme_dma::spec::{Sgls, SglSupport};
/// use zerocopy::IntoBytes;
///
/// // A read of 0x1800 bytes: 0x800 into one buffer, 0x800 discarded, 0x800 into another.
/// let caps = SglCaps::new(Sgls::from_support(SglSupport::ByteAligned) | Sgls::BIT_BUCKET);
/// let segment = [
///     DataDescriptor::Block { addr: 0x10_0000, len: 0x800 }.to_raw(),
///     DataDescriptor::BitBucket { len: 0x800 }.to_raw(),
///     DataDescriptor::Block { addr: 0x20_0000, len: 0x800 }.to_raw(),
/// ];
/// let mut bytes = segment.as_bytes().to_vec();
/// let mem = SliceMemory::new(0x8000, &mut bytes);
/// let sgl1 = SegmentPointer::new(0x8000, 3, SegmentKind::LastSegment).unwrap().to_raw();
///
/// let pieces: Vec<Piece> =
///     SglWalker::new(sgl1, Direction::Read, 0x1800, &caps, &mem).collect::<Result<_, _>>()?;
/// assert_eq!(pieces, [
///     Piece::Data(Extent::new(0x10_0000, 0x800)),
///     Piece::Skip(0x800),
///     Piece::Data(Extent::new(0x20_0000, 0x800)),
/// ]);
/// # Ok::<(), nvme_dma::sgl::WalkError>(())
/// ```
#[derive(Debug)]
pub struct SglWalker<'m, M: DmaMemory + ?Sized> {
    mem: &'m M,
    stage: Stage,
    /// The walk's state, written in place when the walker is made (nothing of it is copied
    /// from one place to another afterwards; see [`Stage`]).
    core: Core,
    /// Pieces the batch loop found ahead of the iterator's consumer. Made on the iterator's
    /// first call: a walker that is only filled, or whose SGL1 is the whole transfer, never
    /// pays for these bytes (a `None` writes no payload).
    ready: Option<[Piece; READY]>,
    ready_pos: usize,
    ready_len: usize,
}

/// How far a walk is.
///
/// A walker is made with its whole state in place, as given and unchecked, and the checks
/// on what it was given come with the first read: the most common SGL of all, SGL1 a Data
/// Block that is the whole transfer, is then answered from a few fields ([`Core::whole`]),
/// and any other walk begins by checking them ([`Core::open`]) where they are. (A walker
/// that kept what it was given in one value and built its state from it on the first read
/// copied that value in blocks that straddle the stores that had just written it; the
/// processor cannot serve such a load from its store buffer and waits for the stores to
/// reach the cache, which cost more than the rest of a one-descriptor walk.)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    /// Nothing read yet: `core` holds what the walker was given, unchecked.
    Fresh,
    /// SGL1 alone was the whole transfer and its piece is out: one data descriptor charged,
    /// no segment entered.
    Whole,
    /// Anything else, under way or over.
    Going,
}

impl Stage {
    /// The walk's state for reading on: opened on the first call; `None` once SGL1 alone was
    /// the whole walk.
    #[inline(always)]
    fn going<'c>(&mut self, core: &'c mut Core) -> Option<&'c mut Core> {
        match *self {
            Stage::Whole => return None,
            Stage::Fresh => {
                *self = Stage::Going;
                core.open();
            }
            Stage::Going => {}
        }
        Some(core)
    }
}

/// Where a walk keeps the descriptors of its current batch. Made when the first segment is
/// entered, so that a walk that reads no segment zeroes none of it, and made short when that
/// segment is short; a longer segment later brings the full one, used from then on. Either
/// way every read takes `min(left in the segment, BATCH_DESCRIPTORS)` descriptors (the short
/// buffer serves only reads that fit it), so a walk makes the reads a full buffer would.
#[derive(Debug)]
struct Batch {
    short: Option<[SglDescriptor; SHORT_BATCH]>,
    full: Option<[SglDescriptor; BATCH_DESCRIPTORS]>,
}

impl Batch {
    /// No buffer yet (writes only the two tags).
    #[inline(always)]
    fn new() -> Batch {
        Batch {
            short: None,
            full: None,
        }
    }

    /// The buffer in use (empty before one is made).
    #[inline(always)]
    fn descriptors(&self) -> &[SglDescriptor] {
        match (&self.full, &self.short) {
            (Some(full), _) => full,
            (None, Some(short)) => short,
            (None, None) => &[],
        }
    }

    /// A buffer of at least `n` descriptors (`n <= BATCH_DESCRIPTORS`), made if needed.
    #[inline(always)]
    fn room_for(&mut self, n: usize) -> &mut [SglDescriptor] {
        if self.full.is_none() && n <= SHORT_BATCH {
            return self
                .short
                .get_or_insert_with(|| [SglDescriptor::default(); SHORT_BATCH]);
        }
        self.full
            .get_or_insert_with(|| [SglDescriptor::default(); BATCH_DESCRIPTORS])
    }
}

/// Reads through the walker's memory; object safe, so the walk itself is compiled once (here,
/// not in every crate that names a memory type) and reaches memory through one dynamic call
/// per batch.
trait Fetch {
    fn fetch(&self, addr: u64, buf: &mut [u8]) -> Result<(), WalkError>;
}

/// A `&M` as a [`Fetch`] (a sized wrapper, so it coerces to `&dyn Fetch` even for unsized `M`).
struct Reader<'m, M: DmaMemory + ?Sized>(&'m M);

impl<M: DmaMemory + ?Sized> Fetch for Reader<'_, M> {
    fn fetch(&self, addr: u64, buf: &mut [u8]) -> Result<(), WalkError> {
        self.0
            .read(addr, buf)
            .map_err(|fault| WalkError::FetchFault {
                addr: fault.addr,
                len: fault.len,
            })
    }
}

/// The walk's state and logic, independent of the memory type.
#[derive(Debug)]
struct Core {
    caps: SglCaps,
    direction: Direction,
    role: SglRole,
    /// Where the walk is; until the walk opens ([`Core::open`]), what the walker was given:
    /// SGL1, MPTR, or a metadata check that already failed.
    state: State,
    /// Bytes the command transfers.
    transfer: u64,
    /// Bits of a Data Block's address and length that must be clear: 3 in dword-granular
    /// mode, else 0 (from `caps`, decoded once).
    granule: u64,
    /// MSDBD as a count (`u64::MAX` for no limit; from `caps`, decoded once).
    data_block_limit: u64,
    /// Bytes of the transfer not yet accounted for.
    remaining: u64,
    /// Piece being merged, not yet yielded (none when empty: then its start means nothing).
    run: Flat,
    /// Data descriptors charged so far.
    descriptors: u64,
    /// Segments entered so far.
    segments: u64,
    /// Data block descriptors met so far (for MSDBD).
    data_blocks: u64,
    /// Address of the next descriptor of the current segment.
    seg_addr: u64,
    /// Descriptors of the current segment not yet consumed.
    seg_left: u64,
    /// Index of the next descriptor in the current segment.
    seg_index: u32,
    /// Whether the current segment is the last one (reached through Last Segment).
    seg_last: bool,
    /// Descriptors fetched from the current segment; made when the first segment is entered,
    /// so that a walk that reads no segment does not zero them.
    batch: Batch,
    batch_pos: usize,
    batch_len: usize,
}

impl<'m, M: DmaMemory + ?Sized> SglWalker<'m, M> {
    #[inline]
    fn with_state(
        state: State,
        role: SglRole,
        direction: Direction,
        len: u64,
        caps: &SglCaps,
        mem: &'m M,
    ) -> Self {
        SglWalker {
            mem,
            stage: Stage::Fresh,
            core: Core::new(state, role, direction, len, caps),
            ready: None,
            ready_pos: 0,
            ready_len: 0,
        }
    }

    /// A walker for a data transfer of `len` bytes in `direction` described by `sgl1`, reading
    /// segments from `mem`. A zero `len` yields nothing and reads nothing. Capabilities that
    /// rule SGLs out entirely are reported by the first call to `next`.
    #[inline]
    pub fn new(
        sgl1: SglDescriptor,
        direction: Direction,
        len: u64,
        caps: &SglCaps,
        mem: &'m M,
    ) -> Self {
        Self::with_state(State::Sgl1(sgl1), SglRole::Data, direction, len, caps, mem)
    }

    /// A walker for a metadata transfer of `len` bytes described by an SGL whose first
    /// descriptor sits in the one-descriptor segment at `mptr` (PSDT 10b). Needs MSDS (SGLS
    /// bit 19) and a qword-aligned `mptr` (else Invalid Field in Command); length errors are
    /// Metadata SGL Length Invalid.
    pub fn metadata(mptr: u64, direction: Direction, len: u64, caps: &SglCaps, mem: &'m M) -> Self {
        let state = if !caps.has(Capability::MetadataSgl) {
            State::Failed(WalkError::NotSupported {
                capability: Capability::MetadataSgl,
            })
        } else if mptr & 7 != 0 {
            State::Failed(WalkError::MetadataMisaligned { mptr, align: 8 })
        } else {
            State::Mptr(mptr)
        };
        Self::with_state(state, SglRole::Metadata, direction, len, caps, mem)
    }

    /// Write the next pieces into `out` until it is full or the walk ends, and return how many
    /// were written: the batch form of the iterator, for callers that build an I/O vector.
    /// Call it until it returns 0 (with a non-empty `out`; an empty one is left alone).
    ///
    /// It yields exactly what the iterator yields, in the same order, and reads exactly the
    /// same descriptors (the iterator runs on this loop). When a rule breaks after some
    /// pieces were written, the call returns those pieces and the next call returns the
    /// error; after an error the walk is over and returns 0. As with the iterator, move no
    /// data until the walk has ended without an error.
    ///
    /// ```
    /// use nvme_dma::{Extent, SliceMemory};
    /// use nvme_dma::sgl::{DataDescriptor, SegmentKind, SegmentPointer, SglCaps, SglWalker};
    /// use nvme_dma::{Direction, Piece};
    /// use nvme_dma::spec::{SglSupport, Sgls};
    /// use zerocopy::IntoBytes;
    ///
    /// let caps = SglCaps::new(Sgls::from_support(SglSupport::DwordAligned));
    /// let segment: Vec<_> = (0..40u64)
    ///     .map(|i| DataDescriptor::Block { addr: 0x10_0000 + i * 0x2000, len: 0x1000 }.to_raw())
    ///     .collect();
    /// let mut bytes = segment.as_bytes().to_vec();
    /// let mem = SliceMemory::new(0x8000, &mut bytes);
    /// let sgl1 = SegmentPointer::new(0x8000, 40, SegmentKind::LastSegment).unwrap().to_raw();
    ///
    /// let mut walker = SglWalker::new(sgl1, Direction::Write, 40 * 0x1000, &caps, &mem);
    /// let mut out = [Piece::Skip(0); 16];
    /// let mut pieces = 0;
    /// loop {
    ///     let n = walker.fill(&mut out)?;
    ///     if n == 0 {
    ///         break;
    ///     }
    ///     pieces += n;
    /// }
    /// assert_eq!(pieces, 40);
    /// assert_eq!(out[7], Piece::Data(Extent::new(0x10_0000 + 39 * 0x2000, 0x1000)));
    /// # Ok::<(), nvme_dma::sgl::WalkError>(())
    /// ```
    #[inline]
    pub fn fill(&mut self, out: &mut [Piece]) -> Result<usize, WalkError> {
        match self.stage {
            // Only a walk under way has pieces the iterator buffered.
            Stage::Going if self.ready_pos >= self.ready_len => {
                self.core.fill(&Reader(self.mem), out)
            }
            Stage::Going => self.fill_buffered(out),
            Stage::Whole => Ok(0),
            Stage::Fresh => {
                if out.is_empty() {
                    return Ok(0);
                }
                if let Some(piece) = self.take_whole() {
                    return Ok(put(out, 0, piece));
                }
                self.stage = Stage::Going;
                self.core.open_and_fill(&Reader(self.mem), out)
            }
        }
    }

    /// SGL1's piece when it alone is the whole transfer ([`Core::whole`]), which ends the walk.
    #[inline(always)]
    fn take_whole(&mut self) -> Option<Flat> {
        let piece = self.core.whole()?;
        self.stage = Stage::Whole;
        Some(piece)
    }

    /// [`SglWalker::fill`] after the iterator has run ahead: the pieces it found come first.
    #[cold]
    fn fill_buffered(&mut self, out: &mut [Piece]) -> Result<usize, WalkError> {
        let buffered = self
            .ready
            .as_ref()
            .and_then(|ready| ready.get(self.ready_pos..self.ready_len))
            .unwrap_or_default();
        let mut written = 0usize;
        for (slot, piece) in out.iter_mut().zip(buffered) {
            *slot = *piece;
            written = written.wrapping_add(1);
        }
        self.ready_pos = self.ready_pos.wrapping_add(written);
        let rest = out.get_mut(written..).unwrap_or_default();
        // The iterator buffered these pieces, so the walk is under way.
        let Some(core) = self.stage.going(&mut self.core) else {
            return Ok(written);
        };
        match core.fill(&Reader(self.mem), rest) {
            Ok(n) => Ok(written.wrapping_add(n)),
            Err(e) if written == 0 => Err(e),
            Err(e) => {
                // Hand out the buffered pieces now and the error on the next call.
                core.state = State::Failed(e);
                Ok(written)
            }
        }
    }

    /// Walk to the end without keeping the pieces: `Ok` means the SGL is valid for the transfer.
    pub fn validate(mut self) -> Result<WalkSummary, WalkError> {
        let (mut pieces, mut bytes) = (0u64, 0u64);
        for piece in self.by_ref() {
            let piece = piece?;
            pieces = pieces.saturating_add(1);
            bytes = bytes.saturating_add(piece.len());
        }
        let (descriptors, segments) = match self.stage {
            Stage::Fresh => (0, 0),
            Stage::Whole => (1, 0),
            Stage::Going => (self.core.descriptors, self.core.segments),
        };
        Ok(WalkSummary {
            pieces,
            bytes,
            descriptors,
            segments,
        })
    }
}

impl Core {
    /// Write merged pieces into `out` until it is full or the walk ends; the number written.
    /// A rule broken after some pieces were written is kept for the next call.
    /// A walk that is over is handled here, inline in the caller; everything else is
    /// [`Core::fill_loop`]'s.
    #[inline]
    fn fill(&mut self, mem: &dyn Fetch, out: &mut [Piece]) -> Result<usize, WalkError> {
        match self.state {
            // Nowhere to put a piece: nothing happens.
            _ if out.is_empty() => Ok(0),
            // Over, with nothing held back.
            State::Done if self.run.len == 0 => Ok(0),
            _ => self.fill_loop(mem, out),
        }
    }

    /// The state of a walk, as given: nothing is checked until the walk opens.
    #[inline(always)]
    fn new(state: State, role: SglRole, direction: Direction, len: u64, caps: &SglCaps) -> Core {
        Core {
            caps: *caps,
            granule: if caps.dword_granular() { 3 } else { 0 },
            data_block_limit: caps.msdbd().map_or(u64::MAX, u64::from),
            direction,
            role,
            state,
            transfer: len,
            remaining: len,
            run: Flat::NONE,
            descriptors: 0,
            segments: 0,
            data_blocks: 0,
            seg_addr: 0,
            seg_left: 0,
            seg_index: 0,
            seg_last: true,
            batch: Batch::new(),
            batch_pos: 0,
            batch_len: 0,
        }
    }

    /// The whole walk when SGL1 is a plain Data Block ([`plain`]) that describes exactly the
    /// transfer, within the descriptor budget (MSDBD allows at least one data block), on a
    /// controller that supports SGLs: its piece, or `None` for the general path. For a walk
    /// that has not opened.
    #[inline(always)]
    fn whole(&self) -> Option<Flat> {
        let State::Sgl1(raw) = self.state else {
            return None;
        };
        // `plain` against the whole transfer refuses a zero length (a zero-length transfer
        // reads nothing) and one longer than the transfer; a shorter one is the general
        // path's (Data SGL Length Invalid).
        let (addr, len, _) = plain(&raw, self.transfer, self.granule)?;
        if len != self.transfer || !self.caps.supported() || self.caps.limits().max_descriptors == 0
        {
            return None;
        }
        Some(Flat {
            kind: Kind::Data,
            key: 0,
            start: addr,
            len,
        })
    }

    /// Open the walk: check what the walker was given. A command that asks for what the
    /// controller lacks is refused even when it moves no data; otherwise a zero-length
    /// transfer reads nothing.
    #[inline(always)]
    fn open(&mut self) {
        if !self.caps.supported() {
            self.state = State::Failed(WalkError::NotSupported {
                capability: Capability::Sgl,
            });
        } else if self.transfer == 0 && !matches!(self.state, State::Failed(_)) {
            self.state = State::Done;
        }
    }

    /// Open the walk and run the batch loop (for [`SglWalker::fill`]; one call from the
    /// caller's code).
    #[inline(never)]
    fn open_and_fill(&mut self, mem: &dyn Fetch, out: &mut [Piece]) -> Result<usize, WalkError> {
        self.open();
        self.fill_loop(mem, out)
    }

    /// [`Core::fill`] past its quick cases: the batch loop.
    #[inline(never)]
    fn fill_loop(&mut self, mem: &dyn Fetch, out: &mut [Piece]) -> Result<usize, WalkError> {
        let mut written = 0usize;
        if let State::Sgl1(raw) = self.state {
            // SGL1 pointing to the first segment needs no parsing: straight to `enter`, which
            // checks the pointer exactly as the general path would.
            if let Some(kind) = pointer_kind(&raw) {
                self.state = State::Done;
                let pointer = SegmentPointer {
                    addr: raw.address(),
                    len: raw.length(),
                    kind,
                };
                if let Err(e) = self.enter(pointer, DescriptorAt::Sgl1) {
                    return self.fail(e, written);
                }
            }
        }
        while written < out.len() {
            if matches!(self.state, State::Segment) {
                if self.batch_pos >= self.batch_len {
                    if !self.needs_descriptor() {
                        // The general path's end of a segment, without its call: the walk is
                        // over, complete or short.
                        self.state = State::Done;
                        if let Err(e) = self.check_complete() {
                            return self.fail(e, written);
                        }
                        return Ok(self.flush(out, written));
                    }
                    // Fetch here rather than in the general path, so that a batch's first
                    // descriptor takes the quick loop too (the general path would make the
                    // same read at the same point, and fail the same way).
                    if let Err(e) = self.refill(mem) {
                        return self.fail(e, written);
                    }
                }
                let before = self.batch_pos;
                written = self.quick_batch(out, written);
                if written >= out.len() {
                    break;
                }
                if self.batch_pos != before && self.batch_pos >= self.batch_len {
                    continue; // the whole batch was plain: on to the next one
                }
            }
            // One descriptor through every rule.
            match self.next_piece(mem) {
                Ok(Some(piece)) => {
                    if let Some(done) = self.run.push(piece) {
                        written = put(out, written, done);
                    }
                }
                Ok(None) if matches!(self.state, State::Done) => {
                    return Ok(self.flush(out, written));
                }
                Ok(None) => {}
                Err(e) => return self.fail(e, written),
            }
        }
        Ok(written)
    }

    /// The walk is over: write the piece being merged, if any, at `out[written]`; the new
    /// count.
    #[inline(always)]
    fn flush(&mut self, out: &mut [Piece], written: usize) -> usize {
        let last = core::mem::replace(&mut self.run, Flat::NONE);
        if last.len != 0 {
            put(out, written, last)
        } else {
            written
        }
    }

    /// End the walk on `e`: the piece being merged is dropped, and when `written` pieces are
    /// already out, they are returned and the error waits for the next call.
    #[cold]
    fn fail(&mut self, e: WalkError, written: usize) -> Result<usize, WalkError> {
        self.run = Flat::NONE;
        if written == 0 {
            self.state = State::Done;
            Err(e)
        } else {
            self.state = State::Failed(e);
            Ok(written)
        }
    }

    /// Whether the general path's next step in a segment reads a descriptor (rather than
    /// ending the walk).
    #[inline(always)]
    fn needs_descriptor(&self) -> bool {
        self.seg_left != 0 && !(self.remaining == 0 && self.caps.has(Capability::Lldts))
    }

    /// The common case without the general machinery: plain Data Blocks (type 0h, subtype
    /// Address, each passing every check: [`plain`]) and supported Bit Buckets, already
    /// fetched, none the final descriptor of a segment that must end with a pointer, within
    /// MSDBD. Merges their pieces into the run, writes each run they end to `out` from
    /// `written` on, and stops at the first other descriptor (the general path,
    /// [`Core::next_piece`], takes that one and applies every rule), at the end of the
    /// batch, or when a run ends and `out` is full. Returns the new `written`.
    #[inline(always)]
    fn quick_batch(&mut self, out: &mut [Piece], written: usize) -> usize {
        // How many fetched descriptors may take this path at most: a segment that must end
        // with a pointer keeps its final descriptor for the general path, and MSDBD may cut
        // in earlier (counting every descriptor as a data block, to be safe).
        let seg_room = if self.seg_last {
            self.seg_left
        } else {
            self.seg_left.saturating_sub(1)
        };
        let blocks = self.data_block_limit.saturating_sub(self.data_blocks);
        let room = usize::try_from(seg_room.min(blocks)).unwrap_or(usize::MAX);
        let end = self.batch_len.min(self.batch_pos.saturating_add(room));
        let fetched = self
            .batch
            .descriptors()
            .get(self.batch_pos..end)
            .unwrap_or_default();
        let granule = self.granule;
        let buckets = self.caps.has(Capability::BitBucket);
        let read = self.direction == Direction::Read;
        let mut remaining = self.remaining;
        let mut run = self.run;
        let mut buckets_taken = 0usize;
        let mut written = written;
        // The descriptors not yet looked at.
        let mut todo = fetched;
        let out_len = out.len();
        while let Some((raw, after)) = todo.split_first() {
            // The hot loop: while the run is data, plain Data Blocks continue or end it. An
            // empty run starts where the first block does; a run that ends at 2^64 (from the
            // general path) is left to the general path. Entered only at a Data Block (type
            // 0h, subtype Address), so that a read that alternates data and bit buckets does
            // not set it up for one descriptor at a time.
            if raw.identifier() == 0 && run.kind == Kind::Data {
                let Some(run_end) = run.start.checked_add(run.len) else {
                    break;
                };
                let (mut start, mut stop) = if run.len == 0 {
                    (raw.address(), raw.address())
                } else {
                    (run.start, run_end)
                };
                // `next` is the descriptors not yet taken, `slots` the output slots not yet
                // written.
                let mut next = todo.iter();
                let mut slots = out.get_mut(written..).unwrap_or_default().iter_mut();
                loop {
                    let here = next.clone();
                    let Some((addr, n, end)) =
                        next.next().and_then(|raw| plain(raw, remaining, granule))
                    else {
                        next = here;
                        break;
                    };
                    if addr != stop {
                        let Some(slot) = slots.next() else {
                            next = here;
                            break;
                        };
                        *slot = Piece::Data(Extent::new(start, stop.wrapping_sub(start)));
                        start = addr;
                    }
                    // `n` is at most what remains of the transfer, so no sum of lengths
                    // wraps; the run ends where this block ends, below 2^64 (`plain`).
                    remaining = remaining.wrapping_sub(n);
                    stop = end;
                }
                written = out_len.wrapping_sub(slots.into_slice().len());
                let before = todo.len();
                todo = next.as_slice();
                run = Flat {
                    kind: Kind::Data,
                    key: 0,
                    start,
                    len: stop.wrapping_sub(start),
                };
                if written >= out_len || todo.len() == before {
                    break; // `out` is full, or a Data Block for the general path
                }
                continue;
            }
            if let Some((addr, n, _)) = plain(raw, remaining, granule) {
                // Data after a skip (or another run from the general path): that run is
                // done, and the block starts a data run.
                if run.len != 0 {
                    let Some(slot) = out.get_mut(written) else {
                        break;
                    };
                    *slot = run.segment();
                    written = written.wrapping_add(1);
                }
                todo = after;
                remaining = remaining.wrapping_sub(n);
                run = Flat {
                    kind: Kind::Data,
                    key: 0,
                    start: addr,
                    len: n,
                };
                continue;
            }
            // A supported Bit Bucket: in a read its bytes are a skip, in a write nothing.
            // One longer than what remains, or any once the transfer is complete, is the
            // general path's (LLDTS decides what happens).
            if raw.identifier() != BIT_BUCKET || !buckets || remaining == 0 {
                break;
            }
            let counted = if read { u64::from(raw.length()) } else { 0 };
            if counted > remaining {
                break;
            }
            // The merge rule of `Flat::extend` for skips.
            let continues = run.kind == Kind::Skip || counted == 0;
            if !continues && run.len != 0 {
                let Some(slot) = out.get_mut(written) else {
                    break;
                };
                // A data run is the common one to end here: written without the general
                // conversion.
                *slot = if run.kind == Kind::Data {
                    Piece::Data(Extent::new(run.start, run.len))
                } else {
                    run.segment()
                };
                written = written.wrapping_add(1);
            }
            todo = after;
            buckets_taken = buckets_taken.wrapping_add(1);
            remaining = remaining.wrapping_sub(counted);
            run = if continues {
                Flat {
                    len: run.len.wrapping_add(counted),
                    ..run
                }
            } else {
                Flat {
                    kind: Kind::Skip,
                    key: 0,
                    start: 0,
                    len: counted,
                }
            };
        }
        // Consume them exactly as `fetch` and `take` would have, one by one.
        let used = fetched.len().wrapping_sub(todo.len());
        let used64 = used as u64;
        self.batch_pos = self.batch_pos.wrapping_add(used);
        self.seg_addr = self
            .seg_addr
            .wrapping_add(used64.wrapping_mul(DESCRIPTOR_BYTES));
        self.seg_left = self.seg_left.wrapping_sub(used64);
        // A segment holds fewer than 2^28 descriptors.
        self.seg_index = self
            .seg_index
            .wrapping_add(u32::try_from(used).unwrap_or(u32::MAX));
        self.data_blocks = self
            .data_blocks
            .wrapping_add(used.wrapping_sub(buckets_taken) as u64);
        self.remaining = remaining;
        self.run = run;
        written
    }

    /// One step of the general path, every rule checked: SGL1, the MPTR descriptor, or one
    /// descriptor of the current segment; the piece it describes, if any. With no piece, the
    /// walk is over when the state is [`State::Done`]; otherwise the step moved on (into a
    /// segment, or past a descriptor that describes no bytes) and the quick path may take the
    /// next descriptors. Kept out of line so the quick path stays small.
    #[inline(never)]
    fn next_piece(&mut self, mem: &dyn Fetch) -> Result<Option<Flat>, WalkError> {
        match self.state {
            State::Done => Ok(None),
            State::Failed(e) => Err(e),
            State::Sgl1(raw) => {
                self.state = State::Done;
                self.first(raw, DescriptorAt::Sgl1)
            }
            State::Mptr(addr) => {
                self.state = State::Done;
                let mut raw = SglDescriptor::default();
                mem.fetch(addr, raw.as_mut_bytes())?;
                self.first(raw, DescriptorAt::Mptr)
            }
            State::Segment => self.segment_step(mem),
        }
    }

    /// SGL1 or the MPTR descriptor: the whole transfer, or the way to the first segment.
    #[inline(always)]
    fn first(&mut self, raw: SglDescriptor, at: DescriptorAt) -> Result<Option<Flat>, WalkError> {
        match Descriptor::parse(&raw) {
            Err(_) => Err(undefined(at, &raw)),
            Ok(Descriptor::Pointer(pointer)) => {
                self.enter(pointer, at)?;
                Ok(None)
            }
            Ok(Descriptor::Data(data)) => {
                self.charge(1, at)?;
                let piece = self.take(data, raw.identifier(), at)?;
                // A data descriptor in SGL1 is the whole SGL: check its length before any of
                // it is yielded.
                self.check_complete()?;
                Ok(piece)
            }
        }
    }

    /// Consume one descriptor of the current segment; a piece when it describes bytes.
    #[inline(always)]
    fn segment_step(&mut self, mem: &dyn Fetch) -> Result<Option<Flat>, WalkError> {
        if self.remaining == 0 && self.caps.has(Capability::Lldts) {
            // The transfer is complete; descriptors not needed for it need not be checked.
            self.state = State::Done;
            return Ok(None);
        }
        if self.seg_left == 0 {
            // Only a last segment runs out without a pointer onward.
            self.state = State::Done;
            self.check_complete()?;
            return Ok(None);
        }
        let (raw, at) = self.fetch(mem)?;
        let final_in_segment = self.seg_left == 0;
        match Descriptor::parse(&raw) {
            Err(_) => Err(undefined(at, &raw)),
            Ok(Descriptor::Pointer(pointer)) => {
                if !final_in_segment {
                    return Err(WalkError::PointerNotLast { at });
                }
                if self.seg_last {
                    return Err(WalkError::PointerInLastSegment { at });
                }
                self.enter(pointer, at)?;
                Ok(None)
            }
            Ok(Descriptor::Data(data)) => {
                if final_in_segment && !self.seg_last {
                    return Err(WalkError::SegmentWithoutPointer { at });
                }
                self.take(data, raw.identifier(), at)
            }
        }
    }

    /// Error unless the SGL so far covers the whole transfer.
    fn check_complete(&self) -> Result<(), WalkError> {
        if self.remaining == 0 {
            return Ok(());
        }
        Err(WalkError::ShorterThanTransfer {
            described: self.transfer.wrapping_sub(self.remaining),
            transfer: self.transfer,
            role: self.role,
        })
    }

    /// Charge `count` data descriptors to the budget.
    #[inline(always)]
    fn charge(&mut self, count: u64, at: DescriptorAt) -> Result<(), WalkError> {
        let limit = self.caps.limits().max_descriptors;
        self.descriptors = self.descriptors.saturating_add(count);
        if self.descriptors > u64::from(limit) {
            return Err(WalkError::TooManyDescriptors { at, limit });
        }
        Ok(())
    }

    /// Check a Segment or Last Segment descriptor, charge its segment, and move there.
    fn enter(&mut self, pointer: SegmentPointer, at: DescriptorAt) -> Result<(), WalkError> {
        if pointer.len == 0 || u64::from(pointer.len) % DESCRIPTOR_BYTES != 0 {
            return Err(WalkError::SegmentLength {
                at,
                len: pointer.len,
            });
        }
        if pointer.addr & 7 != 0 {
            return Err(WalkError::SegmentMisaligned {
                at,
                addr: pointer.addr,
            });
        }
        let len = u64::from(pointer.len);
        if !Extent::new(pointer.addr, len).fits_address_space() {
            return Err(WalkError::AddressOverflow {
                at,
                addr: pointer.addr,
                len,
                role: self.role,
            });
        }
        let limit = self.caps.limits().max_segments;
        self.segments = self.segments.saturating_add(1);
        if self.segments > u64::from(limit) {
            return Err(WalkError::TooManySegments { at, limit });
        }
        let descriptors = u64::from(pointer.descriptors());
        let data = if pointer.is_last() {
            descriptors
        } else {
            descriptors.saturating_sub(1)
        };
        self.charge(data, at)?;
        self.state = State::Segment;
        self.seg_addr = pointer.addr;
        self.seg_left = descriptors;
        self.seg_index = 0;
        self.seg_last = pointer.is_last();
        self.batch_pos = 0;
        self.batch_len = 0;
        Ok(())
    }

    /// The next descriptor of the current segment (which has one left), fetching a batch when
    /// needed, and where it was.
    #[inline(always)]
    fn fetch(&mut self, mem: &dyn Fetch) -> Result<(SglDescriptor, DescriptorAt), WalkError> {
        if self.batch_pos >= self.batch_len {
            self.refill(mem)?;
        }
        let raw = self
            .batch
            .descriptors()
            .get(self.batch_pos)
            .copied()
            .unwrap_or_default();
        let at = DescriptorAt::Segment {
            segment: u32::try_from(self.segments).unwrap_or(u32::MAX),
            index: self.seg_index,
            addr: self.seg_addr,
        };
        self.batch_pos = self.batch_pos.wrapping_add(1);
        // The segment was checked to end below 2^64, and it holds fewer than 2^28 descriptors.
        self.seg_addr = self.seg_addr.wrapping_add(DESCRIPTOR_BYTES);
        self.seg_left = self.seg_left.wrapping_sub(1);
        self.seg_index = self.seg_index.wrapping_add(1);
        Ok((raw, at))
    }

    /// Read the next batch of the current segment: up to [`BATCH_DESCRIPTORS`], never past
    /// the segment's end, in one memory read.
    fn refill(&mut self, mem: &dyn Fetch) -> Result<(), WalkError> {
        let n = usize::try_from(self.seg_left)
            .unwrap_or(BATCH_DESCRIPTORS)
            .clamp(1, BATCH_DESCRIPTORS);
        let buf = self.batch.room_for(n).get_mut(..n).unwrap_or_default();
        mem.fetch(self.seg_addr, buf.as_mut_bytes())?;
        self.batch_pos = 0;
        self.batch_len = n;
        Ok(())
    }

    /// Check a data descriptor and account for it; the piece of the transfer it describes,
    /// or `None` when it describes none.
    #[inline(always)]
    fn take(
        &mut self,
        data: DataDescriptor,
        identifier: u8,
        at: DescriptorAt,
    ) -> Result<Option<Flat>, WalkError> {
        let needs = match data {
            DataDescriptor::Block { .. } => None,
            DataDescriptor::CapsuleBlock { .. } => Some(Capability::AddressAsOffset),
            DataDescriptor::BitBucket { .. } => Some(Capability::BitBucket),
            DataDescriptor::Keyed { .. } => Some(Capability::Keyed),
            DataDescriptor::Transport { .. } => Some(Capability::TransportDataBlock),
        };
        if let Some(capability) = needs.filter(|&c| !self.caps.has(c)) {
            return Err(WalkError::DescriptorType {
                at,
                identifier,
                problem: TypeProblem::Unsupported(capability),
            });
        }
        if data.is_data_block() {
            self.data_blocks = self.data_blocks.saturating_add(1);
            if let Some(limit) = self.caps.msdbd() {
                if self.data_blocks > u64::from(limit) {
                    return Err(WalkError::TooManyDataBlocks { at, limit });
                }
            }
        }
        let len = u64::from(data.len());
        match data {
            DataDescriptor::Block { addr, len: raw_len }
            | DataDescriptor::CapsuleBlock {
                offset: addr,
                len: raw_len,
            } if self.caps.dword_granular() && (addr | u64::from(raw_len)) & 3 != 0 => {
                return Err(WalkError::Granularity {
                    at,
                    addr,
                    len: raw_len,
                });
            }
            DataDescriptor::Block { addr, .. } | DataDescriptor::Keyed { addr, .. }
                if !Extent::new(addr, len).fits_address_space() =>
            {
                return Err(WalkError::AddressOverflow {
                    at,
                    addr,
                    len,
                    role: self.role,
                });
            }
            DataDescriptor::CapsuleBlock {
                offset,
                len: raw_len,
            } if offset
                .checked_add(len)
                .map_or(true, |end| end > self.caps.capsule_data()) =>
            {
                return Err(WalkError::OutsideCapsule {
                    at,
                    offset,
                    len: raw_len,
                });
            }
            _ => {}
        }
        // In a write a bit bucket has no effect: it counts as zero bytes.
        let counted = match data {
            DataDescriptor::BitBucket { .. } if self.direction == Direction::Write => 0,
            _ => len,
        };
        if counted == 0 {
            return Ok(None);
        }
        let take = if counted <= self.remaining {
            counted
        } else if self.caps.has(Capability::Lldts) {
            // The SGL may be longer than the transfer: use what the transfer needs.
            self.remaining
        } else {
            return Err(WalkError::LongerThanTransfer {
                at,
                remaining: self.remaining,
                len: data.len(),
                role: self.role,
            });
        };
        if take == 0 {
            return Ok(None);
        }
        self.remaining = self.remaining.wrapping_sub(take);
        let (kind, key, start) = match data {
            DataDescriptor::Block { addr, .. } => (Kind::Data, 0, addr),
            DataDescriptor::CapsuleBlock { offset, .. } => (Kind::Capsule, 0, offset),
            DataDescriptor::BitBucket { .. } => (Kind::Skip, 0, 0),
            DataDescriptor::Keyed { addr, key, .. } => (Kind::Keyed, key, addr),
            DataDescriptor::Transport { .. } => (Kind::Transport, 0, 0),
        };
        Ok(Some(Flat {
            kind,
            key,
            start,
            len: take,
        }))
    }
}

/// A plain Data Block (type 0h, subtype Address) that passes every rule on its own: non-empty,
/// within the `remaining` bytes of the transfer, granular (no bit of `granule` set in its
/// address or length), and ending below 2^64 (the general path takes one that ends at it).
/// Its address, length and end, or `None` for any other descriptor.
#[inline(always)]
fn plain(raw: &SglDescriptor, remaining: u64, granule: u64) -> Option<(u64, u64, u64)> {
    let (addr, len) = (raw.address(), u64::from(raw.length()));
    // A block that ends exactly at 2^64 is the general path's too, so that a quick run's end
    // is always a plain number.
    let end = addr.checked_add(len)?;
    // `len - 1 >= remaining` is `len == 0 || len > remaining` in one comparison.
    if raw.identifier() != 0 || len.wrapping_sub(1) >= remaining || (addr | len) & granule != 0 {
        return None;
    }
    Some((addr, len, end))
}

/// The kind of segment SGL1 points to when it is a Segment or Last Segment descriptor
/// (subtype Address), the pairs [`Descriptor::parse`] reads as a [`SegmentPointer`].
#[inline(always)]
fn pointer_kind(raw: &SglDescriptor) -> Option<SegmentKind> {
    match raw.identifier() {
        SEGMENT => Some(SegmentKind::Segment),
        LAST_SEGMENT => Some(SegmentKind::LastSegment),
        _ => None,
    }
}

/// The identifier byte of a Segment descriptor (type 2h, subtype Address).
const SEGMENT: u8 =
    SglDescriptor::new(0, 0, SglDescriptorType::Segment, SglSubtype::Address).identifier();

/// The identifier byte of a Last Segment descriptor (type 3h, subtype Address).
const LAST_SEGMENT: u8 =
    SglDescriptor::new(0, 0, SglDescriptorType::LastSegment, SglSubtype::Address).identifier();

/// The identifier byte of a Bit Bucket descriptor (type 1h, subtype 0h).
const BIT_BUCKET: u8 =
    SglDescriptor::new(0, 0, SglDescriptorType::BitBucket, SglSubtype::Address).identifier();

/// The error for a descriptor whose type/subtype pair does not parse.
fn undefined(at: DescriptorAt, raw: &SglDescriptor) -> WalkError {
    WalkError::DescriptorType {
        at,
        identifier: raw.identifier(),
        problem: TypeProblem::Undefined,
    }
}

/// Store `piece` at `out[written]`; the new count.
#[inline(always)]
fn put(out: &mut [Piece], written: usize, piece: Flat) -> usize {
    if let Some(slot) = out.get_mut(written) {
        *slot = piece.segment();
    }
    written.wrapping_add(1)
}

impl<M: DmaMemory + ?Sized> Iterator for SglWalker<'_, M> {
    type Item = Result<Piece, WalkError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.ready_pos >= self.ready_len {
            // The ends of a walk without the look-ahead buffer: a walk that is over, and
            // SGL1 as the whole transfer (as in `SglWalker::fill`).
            match self.stage {
                Stage::Whole => return None,
                Stage::Fresh => {
                    if let Some(piece) = self.take_whole() {
                        return Some(Ok(piece.segment()));
                    }
                }
                Stage::Going => {
                    let core = &self.core;
                    if matches!(core.state, State::Done) && core.run.len == 0 {
                        return None;
                    }
                }
            }
            match self.next_batch() {
                Ok(true) => {}
                Ok(false) => return None,
                Err(e) => return Some(Err(e)),
            }
        }
        let piece = self
            .ready
            .as_ref()
            .and_then(|ready| ready.get(self.ready_pos))
            .copied();
        self.ready_pos = self.ready_pos.wrapping_add(1);
        piece.map(Ok)
    }
}

impl<M: DmaMemory + ?Sized> SglWalker<'_, M> {
    /// The iterator's look-ahead is used up: refill it through the batch loop; whether it
    /// holds pieces again (none when the walk is over).
    fn next_batch(&mut self) -> Result<bool, WalkError> {
        let Some(core) = self.stage.going(&mut self.core) else {
            return Ok(false);
        };
        // Lazily: the buffer is built only the first time, not on every refill.
        #[allow(clippy::unnecessary_lazy_evaluations)]
        let ready = self.ready.get_or_insert_with(|| [Piece::Skip(0); READY]);
        let n = core.fill_loop(&Reader(self.mem), ready)?;
        (self.ready_pos, self.ready_len) = (0, n);
        Ok(n != 0)
    }
}

/// Check a contiguous metadata buffer named by MPTR (PSDT 00b or 01b) and return it.
///
/// MPTR must be dword aligned, except that with SGL data (`sgl_data`, PSDT 01b) a controller
/// reporting byte-aligned contiguous metadata (SGLS bit 17) accepts any address; a misaligned
/// MPTR is Invalid Field in Command. A buffer running past 2^64 is Metadata SGL Length Invalid,
/// as a metadata SGL data block would be. `len` is the metadata the command transfers.
pub fn contiguous_metadata(
    mptr: u64,
    len: u64,
    sgl_data: bool,
    caps: &SglCaps,
) -> Result<Extent, WalkError> {
    let align: u64 = if sgl_data && caps.has(Capability::ByteAlignedMetadata) {
        1
    } else {
        4
    };
    if mptr & align.wrapping_sub(1) != 0 {
        return Err(WalkError::MetadataMisaligned { mptr, align });
    }
    let buffer = Extent::new(mptr, len);
    if !buffer.fits_address_space() {
        return Err(WalkError::AddressOverflow {
            at: DescriptorAt::Mptr,
            addr: mptr,
            len,
            role: SglRole::Metadata,
        });
    }
    Ok(buffer)
}

impl WalkLimits {
    /// The most descriptor bytes one walk under these limits reads:
    /// `16 * (max_descriptors + max_segments)`, plus 16 for a walk that starts at MPTR.
    pub const fn max_bytes_read(&self, from_mptr: bool) -> u64 {
        let descriptors = (self.max_descriptors as u64).saturating_add(self.max_segments as u64);
        descriptors
            .saturating_add(from_mptr as u64)
            .saturating_mul(DESCRIPTOR_BYTES)
    }

    /// The most memory reads one walk under these limits makes:
    /// `max_segments + ceil((max_descriptors + max_segments) / BATCH_DESCRIPTORS)`, plus one for
    /// a walk that starts at MPTR.
    pub const fn max_reads(&self, from_mptr: bool) -> u64 {
        let descriptors = (self.max_descriptors as u64).saturating_add(self.max_segments as u64);
        (self.max_segments as u64)
            .saturating_add(descriptors.div_ceil(BATCH_DESCRIPTORS as u64))
            .saturating_add(from_mptr as u64)
    }
}

impl<M: DmaMemory + ?Sized> crate::walk::Walk for SglWalker<'_, M> {
    type Error = WalkError;

    fn fill(&mut self, out: &mut [Piece]) -> Result<crate::walk::Progress, WalkError> {
        let written = SglWalker::fill(self, out)?;
        Ok(crate::walk::Progress {
            written,
            done: written == 0 && !out.is_empty(),
        })
    }
}
