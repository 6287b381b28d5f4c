//! Device side: walk SGL1 and its segment chain back into pieces of the transfer, as a
//! controller does; see [`SglWalker`].

use zerocopy::IntoBytes;

use super::caps::{Capability, SglCaps, WalkLimits};
use super::descriptor::{DataDescriptor, Descriptor, SegmentPointer, DESCRIPTOR_BYTES};
use super::error::{DescriptorAt, TypeProblem, WalkError};
use super::segment::{Flat, Kind, SglSegment};
use super::{Direction, SglRole};
use crate::extent::Extent;
use crate::memory::DmaMemory;
use crate::spec::SglDescriptor;

/// Descriptors fetched per memory read (512 bytes of stack).
pub const BATCH_DESCRIPTORS: usize = 32;

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

/// Walks an SGL, as a controller does: an iterator over `Result<SglSegment, WalkError>`: it yields the transfer's
/// pieces in order (host-memory data, and on reads the bit-bucket skips between them), merging
/// pieces that continue each other, and stops at the first rule broken with the NVMe status to
/// complete the command with.
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
/// use nvme_dma::sgl::{Direction, SglCaps, SglSegment, SglWalker, SegmentKind, SegmentPointer, DataDescriptor};
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
/// let pieces: Vec<SglSegment> =
///     SglWalker::new(sgl1, Direction::Read, 0x1800, &caps, &mem).collect::<Result<_, _>>()?;
/// assert_eq!(pieces, [
///     SglSegment::Data(Extent::new(0x10_0000, 0x800)),
///     SglSegment::Skip(0x800),
///     SglSegment::Data(Extent::new(0x20_0000, 0x800)),
/// ]);
/// # Ok::<(), nvme_dma::sgl::WalkError>(())
/// ```
#[derive(Debug)]
pub struct SglWalker<'m, M: DmaMemory + ?Sized> {
    mem: &'m M,
    core: Core,
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
    /// Bits of a Data Block's address and length that must be clear: 3 in dword-granular
    /// mode, else 0 (from `caps`, decoded once).
    granule: u64,
    /// MSDBD as a count (`u64::MAX` for no limit; from `caps`, decoded once).
    data_block_limit: u64,
    direction: Direction,
    role: SglRole,
    state: State,
    /// Bytes the command transfers.
    transfer: u64,
    /// Bytes of the transfer not yet accounted for.
    remaining: u64,
    /// Piece being merged, not yet yielded ([`Flat::NONE`] for none).
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
    batch: [SglDescriptor; BATCH_DESCRIPTORS],
    batch_pos: usize,
    batch_len: usize,
}

impl<'m, M: DmaMemory + ?Sized> SglWalker<'m, M> {
    fn with_state(
        state: State,
        role: SglRole,
        direction: Direction,
        len: u64,
        caps: &SglCaps,
        mem: &'m M,
    ) -> Self {
        // A command that asks for what the controller lacks is refused even when it moves
        // no data; otherwise a zero-length transfer reads nothing.
        let state = match state {
            _ if !caps.supported() => State::Failed(WalkError::NotSupported {
                capability: Capability::Sgl,
            }),
            State::Failed(_) => state,
            _ if len == 0 => State::Done,
            _ => state,
        };
        SglWalker {
            mem,
            core: Core {
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
                batch: [SglDescriptor::default(); BATCH_DESCRIPTORS],
                batch_pos: 0,
                batch_len: 0,
            },
        }
    }

    /// A walker for a data transfer of `len` bytes in `direction` described by `sgl1`, reading
    /// segments from `mem`. A zero `len` yields nothing and reads nothing. Capabilities that
    /// rule SGLs out entirely are reported by the first call to `next`.
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

    /// Walk to the end without keeping the pieces: `Ok` means the SGL is valid for the transfer.
    pub fn validate(mut self) -> Result<WalkSummary, WalkError> {
        let (mut pieces, mut bytes) = (0u64, 0u64);
        for piece in self.by_ref() {
            let piece = piece?;
            pieces = pieces.saturating_add(1);
            bytes = bytes.saturating_add(piece.len());
        }
        Ok(WalkSummary {
            pieces,
            bytes,
            descriptors: self.core.descriptors,
            segments: self.core.segments,
        })
    }
}

impl Core {
    /// The next merged piece, or the error that ends the walk.
    #[inline(always)]
    fn next(&mut self, mem: &dyn Fetch) -> Option<Result<SglSegment, WalkError>> {
        loop {
            let piece = match self.quick() {
                Some(piece) => piece,
                None if matches!(self.state, State::Done) => return self.flush(),
                None => match self.next_piece(mem) {
                    Err(e) => {
                        self.state = State::Done;
                        self.run = Flat::NONE;
                        return Some(Err(e));
                    }
                    Ok(None) => return self.flush(),
                    Ok(Some(piece)) => piece,
                },
            };
            if let Some(done) = self.run.push(piece) {
                return Some(Ok(done.segment()));
            }
            if matches!(self.state, State::Done) {
                // SGL1 (or the MPTR descriptor) was the whole SGL: nothing follows.
                return self.flush();
            }
        }
    }

    /// The last piece, if one is still being merged.
    #[inline(always)]
    fn flush(&mut self) -> Option<Result<SglSegment, WalkError>> {
        let last = core::mem::replace(&mut self.run, Flat::NONE);
        (last.len != 0).then(|| Ok(last.segment()))
    }

    /// The common case without the general machinery: a plain Data Block (type 0h, subtype
    /// Address) already fetched, not the final descriptor of a segment that must end with a
    /// pointer, that passes every check (non-empty, within what remains of the transfer,
    /// dword granular where required, below 2^64, within MSDBD). Anything else, `None`: the
    /// general path ([`Core::next_piece`]) takes the descriptor and applies every rule.
    #[inline(always)]
    fn quick(&mut self) -> Option<Flat> {
        if !matches!(self.state, State::Segment) || self.batch_pos >= self.batch_len {
            return None;
        }
        if self.seg_left <= 1 && !self.seg_last {
            return None;
        }
        let raw = self.batch.get(self.batch_pos)?;
        if raw.identifier() != 0 {
            return None;
        }
        let (addr, len) = (raw.address(), u64::from(raw.length()));
        if len == 0
            || len > self.remaining
            || (addr | len) & self.granule != 0
            || addr.checked_add(len.wrapping_sub(1)).is_none()
            || self.data_blocks >= self.data_block_limit
        {
            return None;
        }
        // Consume it exactly as `fetch` and `take` would.
        self.batch_pos = self.batch_pos.wrapping_add(1);
        self.seg_addr = self.seg_addr.wrapping_add(DESCRIPTOR_BYTES);
        self.seg_left = self.seg_left.wrapping_sub(1);
        self.seg_index = self.seg_index.wrapping_add(1);
        self.data_blocks = self.data_blocks.wrapping_add(1);
        self.remaining = self.remaining.wrapping_sub(len);
        Some(Flat {
            kind: Kind::Data,
            key: 0,
            start: addr,
            len,
        })
    }

    /// The next non-empty piece of the transfer, or `None` at the end of the SGL: the general
    /// path, every rule checked. Kept out of line so the quick path stays small.
    #[inline(never)]
    fn next_piece(&mut self, mem: &dyn Fetch) -> Result<Option<Flat>, WalkError> {
        loop {
            match self.state {
                State::Done => return Ok(None),
                State::Failed(e) => return Err(e),
                State::Sgl1(raw) => {
                    self.state = State::Done;
                    if let Some(piece) = self.first(raw, DescriptorAt::Sgl1)? {
                        return Ok(Some(piece));
                    }
                }
                State::Mptr(addr) => {
                    self.state = State::Done;
                    let mut raw = SglDescriptor::default();
                    mem.fetch(addr, raw.as_mut_bytes())?;
                    if let Some(piece) = self.first(raw, DescriptorAt::Mptr)? {
                        return Ok(Some(piece));
                    }
                }
                State::Segment => {
                    if let Some(piece) = self.segment_step(mem)? {
                        return Ok(Some(piece));
                    }
                }
            }
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
            let n = usize::try_from(self.seg_left)
                .unwrap_or(BATCH_DESCRIPTORS)
                .clamp(1, BATCH_DESCRIPTORS);
            let buf = self.batch.get_mut(..n).unwrap_or_default();
            mem.fetch(self.seg_addr, buf.as_mut_bytes())?;
            self.batch_pos = 0;
            self.batch_len = n;
        }
        let raw = self.batch.get(self.batch_pos).copied().unwrap_or_default();
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

/// The error for a descriptor whose type/subtype pair does not parse.
fn undefined(at: DescriptorAt, raw: &SglDescriptor) -> WalkError {
    WalkError::DescriptorType {
        at,
        identifier: raw.identifier(),
        problem: TypeProblem::Undefined,
    }
}

impl<M: DmaMemory + ?Sized> Iterator for SglWalker<'_, M> {
    type Item = Result<SglSegment, WalkError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        self.core.next(&Reader(self.mem))
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
