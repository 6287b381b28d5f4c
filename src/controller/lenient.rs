//! The data pointer as QEMU's `nvme` device maps it, for the profiles that bend PRP or SGL
//! rules ([`Profile`]).
//!
//! A profile with any PRP (or SGL) switch on walks PRPs (or SGLs) here instead of with the
//! crate's walkers. The structure is that of QEMU 7.2's `nvme_map_prp` and `nvme_map_sgl`
//! (hw/nvme/ctrl.c): what it reads, in which order, how much at a time, and which check comes
//! first. Where QEMU leaves out a check the specification makes, a switch decides: on, QEMU's
//! answer; off, the specification's check at that place. So `QEMU_7_2` answers as QEMU does.
//!
//! A profile with a single leniency still differs from the strict walker in what QEMU's
//! structure brings with it, whatever the switches:
//! * the order of checks, when one command breaks two rules;
//! * a transfer of more than 1024 pieces is Internal Error (QEMU's IOV_MAX);
//! * a data buffer that starts in the register window is Data Transfer Error, one that
//!   merely runs into it is left to the DMA engine (Data Transfer Error too);
//! * a PRP list is read to the end of its page, and a list or segment that cannot be read is
//!   Data Transfer Error, even where the strict walker would not have read that far;
//! * a Data Block that ends exactly at 2^64 is Data SGL Length Invalid;
//! * PRP pieces are not merged;
//! * a metadata SGL is walked by the crate's walker, as QEMU maps MPTR separately.

use alloc::vec::Vec;

use super::profile::{Deviation, Profile};
use crate::extent::{Extent, PageSize};
use crate::memory::DmaMemory;
use crate::sgl::WalkLimits;
use crate::spec::{SglDescriptor, SglDescriptorType, SglSubtype, SglSupport, Sgls, Status};
use crate::Piece;

/// Why a mapping stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stop {
    /// Complete the command with this status (DNR as QEMU sets it).
    Status(Status),
    /// The SGL never ends: QEMU 7.2 would spin here for good.
    Hang,
}

impl From<Status> for Stop {
    fn from(status: Status) -> Self {
        Stop::Status(status)
    }
}

/// Pieces one command may map: QEMU's IOV_MAX.
const MAX_MAPPINGS: usize = 1024;

/// Descriptors QEMU reads from a segment at a time (its stack buffer).
const SEGMENT_CHUNK: usize = 256;

/// Consecutive segments that move no data after which a looping chain is taken to loop for
/// good. A chain of empty segments that reaches data after more than this many would end on
/// QEMU and hangs here; no host has a reason to send one.
const EMPTY_SEGMENTS_BEFORE_HANG: u32 = 1024;

/// Descriptors a profile that follows loops reads before it takes the SGL for one that never
/// ends (2^20: 16 MiB of descriptors, far more than any transfer within MDTS needs).
const LOOP_WORK: u64 = 1 << 20;

fn dnr(status: Status) -> Status {
    status.with_dnr(true)
}

/// What the mapper needs of the controller.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Mapper {
    pub profile: Profile,
    pub page_size: PageSize,
    pub sgls: Sgls,
    pub limits: WalkLimits,
    /// The register window: a data buffer that starts in it is Data Transfer Error.
    pub registers: Extent,
}

impl Mapper {
    /// `nvme_map_addr`: append one piece of data.
    fn map_addr(&self, out: &mut Vec<Piece>, addr: u64, len: u64) -> Result<(), Stop> {
        if len == 0 {
            return Ok(());
        }
        let in_registers = addr
            .checked_sub(self.registers.addr)
            .is_some_and(|offset| offset < self.registers.len);
        if in_registers {
            return Err(Status::DATA_TRANSFER_ERROR.into());
        }
        if out.len() >= MAX_MAPPINGS {
            return Err(dnr(Status::INTERNAL_ERROR).into());
        }
        out.push(Piece::Data(Extent::new(addr, len)));
        Ok(())
    }

    /// `nvme_map_prp`: PRP1 to its page end, then PRP2 as the second page or as a list
    /// pointer; a list's last entry chains on while more than a page is left.
    pub fn map_prp<M: DmaMemory + ?Sized>(
        &self,
        mem: &M,
        (prp1, prp2): (u64, u64),
        len: u64,
        out: &mut Vec<Piece>,
    ) -> Result<(), Stop> {
        let ps = self.page_size.bytes();
        let offset_mask = ps.wrapping_sub(1);
        let invalid_offset = || Stop::Status(dnr(Status::PRP_OFFSET_INVALID));
        if prp1 & 3 != 0 && !self.profile.has(Deviation::Prp1NotDwordAligned) {
            return Err(invalid_offset());
        }
        let mut len = len;
        let first = len.min(ps.saturating_sub(prp1 & offset_mask));
        self.map_addr(out, prp1, first)?;
        len = len.saturating_sub(first);
        if len == 0 {
            return Ok(());
        }
        if len <= ps {
            if prp2 & offset_mask != 0 {
                return Err(invalid_offset());
            }
            return self.map_addr(out, prp2, len);
        }
        if prp2 & 7 != 0 && !self.profile.has(Deviation::PrpListPointerNotQwordAligned) {
            return Err(invalid_offset());
        }
        // QEMU reads the first list to the end of PRP2's page, and each later one for as many
        // entries as the transfer still needs, up to a page.
        let max_entries = usize::try_from(ps / 8).unwrap_or(usize::MAX);
        let mut list = alloc::vec![0u64; max_entries];
        let mut entries = usize::try_from(ps.saturating_sub(prp2 & offset_mask) >> 3).unwrap_or(0);
        if entries == 0 {
            // A list pointer in the last 7 bytes of a page holds no whole entry: QEMU reads
            // none and goes on with whatever its buffer held. Nothing sensible to model.
            return Err(Status::DATA_TRANSFER_ERROR.into());
        }
        read_entries(mem, prp2, list.get_mut(..entries).unwrap_or_default())?;
        let mut i = 0usize;
        while len != 0 {
            let mut entry = list.get(i).copied().unwrap_or(0);
            if i.saturating_add(1) == entries && len > ps {
                if entry & offset_mask != 0 {
                    return Err(invalid_offset());
                }
                i = 0;
                entries = usize::try_from(len.div_ceil(ps))
                    .unwrap_or(usize::MAX)
                    .min(max_entries);
                read_entries(mem, entry, list.get_mut(..entries).unwrap_or_default())?;
                entry = list.first().copied().unwrap_or(0);
            }
            if entry & offset_mask != 0 {
                return Err(invalid_offset());
            }
            let n = len.min(ps);
            self.map_addr(out, entry, n)?;
            len = len.saturating_sub(n);
            i = i.saturating_add(1);
        }
        Ok(())
    }

    /// `nvme_map_sgl`: SGL1 as a Data Block is the whole transfer; otherwise follow the
    /// chain, a segment (read 256 descriptors at a time) at a turn, until one ends in data.
    /// `write` is QEMU's test for a Write command, the one that ignores Bit Buckets whole.
    pub fn map_sgl<M: DmaMemory + ?Sized>(
        &self,
        mem: &M,
        sgl1: SglDescriptor,
        len: u64,
        write: bool,
        out: &mut Vec<Piece>,
    ) -> Result<(), Stop> {
        let mut len = len;
        let invalid_segment = || Stop::Status(dnr(Status::INVALID_SGL_SEGMENT_DESCRIPTOR));
        let too_many = || Stop::Status(dnr(Status::INVALID_NUMBER_OF_SGL_DESCRIPTORS));
        let loops = self.profile.has(Deviation::SglEmptySegmentLoops);
        // QEMU takes only a Data Block in SGL1 for data; the specification any descriptor
        // that carries data.
        let sgl1_type = sgl1.descriptor_type();
        let sgl1_data = sgl1_type == SglDescriptorType::DataBlock
            || !self.profile.has(Deviation::SglNonDataAsSegment) && self.carries_data(sgl1_type);
        let mut work = Work::default();
        if sgl1_data {
            self.map_data(
                core::slice::from_ref(&sgl1),
                &mut len,
                write,
                &mut work,
                out,
            )?;
            return finish(len);
        }
        self.check_pointer_type(sgl1_type)?;
        let mut buffer = [SglDescriptor::default(); SEGMENT_CHUNK];
        let mut pointer = sgl1;
        // Where, in `buffer`, the pointer was read from (none for SGL1): QEMU keeps a
        // reference there and reads the Last Segment check through it after the buffer has
        // been overwritten with the segment it points to.
        let mut pointer_slot: Option<usize> = None;
        let mut empty_run = 0u32;
        loop {
            let before = len;
            match pointer.descriptor_type() {
                SglDescriptorType::Segment | SglDescriptorType::LastSegment => {}
                _ => return Err(invalid_segment()),
            }
            self.check_subtype(&pointer)?;
            let mut addr = pointer.address();
            let seg_len = pointer.length();
            if addr & 7 != 0 && !self.profile.has(Deviation::SglSegmentAlignmentUnchecked) {
                return Err(invalid_segment());
            }
            if seg_len == 0 || seg_len % 16 != 0 {
                return Err(invalid_segment());
            }
            if addr.checked_add(u64::from(seg_len)).is_none() {
                return Err(dnr(Status::DATA_SGL_LENGTH_INVALID).into());
            }
            let mut left = usize::try_from(seg_len / 16).unwrap_or(usize::MAX);
            // The walk limits, before anything of the segment is read. A profile that
            // follows loops has none (QEMU has none): it counts what it reads instead, chunk
            // by chunk as QEMU reads, so that a fault or a bad descriptor still comes first.
            work.segments = work.segments.saturating_add(1);
            if !loops {
                let most = u64::from(self.limits.max_descriptors)
                    .saturating_add(u64::from(self.limits.max_segments));
                let total = work.descriptors.saturating_add(left as u64);
                if work.segments > self.limits.max_segments || total > most {
                    return Err(too_many());
                }
            }
            while left > SEGMENT_CHUNK {
                read_chunk(mem, addr, &mut buffer, &mut work, loops)?;
                self.map_data(&buffer, &mut len, write, &mut work, out)?;
                left = left.saturating_sub(SEGMENT_CHUNK);
                addr = addr.wrapping_add((SEGMENT_CHUNK * 16) as u64);
            }
            let chunk = buffer.get_mut(..left).unwrap_or_default();
            read_chunk(mem, addr, chunk, &mut work, loops)?;
            let Some(&last) = chunk.last() else {
                return Err(invalid_segment());
            };
            if self.carries_data(last.descriptor_type()) {
                // Only a Last Segment may end the SGL; QEMU takes any segment that ends in
                // data for the last.
                if pointer.descriptor_type() == SglDescriptorType::Segment
                    && !self.profile.has(Deviation::SglSegmentEndsInData)
                {
                    return Err(invalid_segment());
                }
                self.map_data(chunk, &mut len, write, &mut work, out)?;
                return finish(len);
            }
            // A type the controller does not take is refused as such first (with
            // `sgl-non-data-as-segment` anything passes here, and QEMU's order holds).
            self.check_pointer_type(last.descriptor_type())?;
            let reached_through = match pointer_slot {
                Some(slot) if self.profile.has(Deviation::SglStaleLastSegmentCheck) => {
                    buffer.get(slot).copied().unwrap_or(pointer)
                }
                _ => pointer,
            };
            if reached_through.descriptor_type() == SglDescriptorType::LastSegment {
                return Err(invalid_segment());
            }
            // The last descriptor is the next turn's pointer; the rest must be data.
            let data = buffer.get(..left.saturating_sub(1)).unwrap_or_default();
            self.map_data(data, &mut len, write, &mut work, out)?;
            (pointer, pointer_slot) = (last, Some(left.saturating_sub(1)));
            if len != before {
                empty_run = 0;
            } else if self.profile.has(Deviation::SglEmptySegmentRefused) {
                return Err(invalid_segment());
            } else {
                empty_run = empty_run.saturating_add(1);
                // A chain that keeps moving no data only ends if it reaches data: QEMU
                // follows it for good, the mock takes this many empty segments for that.
                if loops && empty_run > EMPTY_SEGMENTS_BEFORE_HANG {
                    return Err(Stop::Hang);
                }
            }
        }
    }

    /// Whether a descriptor of `kind` carries data here: a Data Block, or a Bit Bucket where
    /// SGLS advertises them. A segment that ends in one ends the SGL.
    fn carries_data(&self, kind: SglDescriptorType) -> bool {
        kind == SglDescriptorType::DataBlock
            || kind == SglDescriptorType::BitBucket && self.sgls.contains(Sgls::BIT_BUCKET)
    }

    /// The type of a descriptor about to be taken for a segment pointer (SGL1, or a
    /// segment's last descriptor when it carries no data). QEMU takes anything for one and
    /// refuses it on the next turn as Invalid SGL Segment Descriptor; the specification
    /// refuses an unsupported type as SGL Descriptor Type Invalid.
    fn check_pointer_type(&self, kind: SglDescriptorType) -> Result<(), Stop> {
        match kind {
            SglDescriptorType::Segment | SglDescriptorType::LastSegment => Ok(()),
            _ if self.profile.has(Deviation::SglNonDataAsSegment) => Ok(()),
            _ => Err(dnr(Status::SGL_DESCRIPTOR_TYPE_INVALID).into()),
        }
    }

    /// The specification's subtype rule, unless the profile ignores subtypes: only the
    /// Address subtype is valid over PCIe.
    fn check_subtype(&self, d: &SglDescriptor) -> Result<(), Stop> {
        if d.subtype() == SglSubtype::Address || self.profile.has(Deviation::SglSubtypeIgnored) {
            return Ok(());
        }
        Err(dnr(Status::SGL_DESCRIPTOR_TYPE_INVALID).into())
    }

    /// `nvme_map_sgl_data`: map a run of descriptors that must all carry data (Data Blocks,
    /// and Bit Buckets where SGLS advertises them), taking at most `len` bytes.
    fn map_data(
        &self,
        descriptors: &[SglDescriptor],
        len: &mut u64,
        write: bool,
        work: &mut Work,
        out: &mut Vec<Piece>,
    ) -> Result<(), Stop> {
        let excess_allowed = self.sgls.contains(Sgls::LLDTS)
            || self.profile.has(Deviation::SglLongerThanTransferTruncated);
        let dword_granular = self.sgls.support() == SglSupport::DwordAligned;
        for d in descriptors {
            let kind = d.descriptor_type();
            match kind {
                // A Bit Bucket discards what a read would put there; a write has nothing to
                // discard, and the specification counts none of its bytes.
                SglDescriptorType::BitBucket if self.carries_data(kind) => {
                    if write {
                        continue;
                    }
                }
                SglDescriptorType::DataBlock => {}
                SglDescriptorType::Segment | SglDescriptorType::LastSegment => {
                    return Err(dnr(Status::INVALID_NUMBER_OF_SGL_DESCRIPTORS).into());
                }
                _ => return Err(dnr(Status::SGL_DESCRIPTOR_TYPE_INVALID).into()),
            }
            self.check_subtype(d)?;
            work.data = work.data.saturating_add(1);
            let limited = !self.profile.has(Deviation::SglEmptySegmentLoops);
            if limited && work.data > u64::from(self.limits.max_descriptors) {
                return Err(dnr(Status::INVALID_NUMBER_OF_SGL_DESCRIPTORS).into());
            }
            let dlen = u64::from(d.length());
            if kind == SglDescriptorType::DataBlock
                && dword_granular
                && (d.address() | dlen) & 3 != 0
            {
                return Err(dnr(Status::SGL_DATA_BLOCK_GRANULARITY_INVALID).into());
            }
            if dlen == 0 {
                continue;
            }
            if *len == 0 {
                if self.sgls.contains(Sgls::LLDTS) {
                    break;
                }
                return Err(dnr(Status::DATA_SGL_LENGTH_INVALID).into());
            }
            if dlen > *len && !excess_allowed {
                return Err(dnr(Status::DATA_SGL_LENGTH_INVALID).into());
            }
            let take = (*len).min(dlen);
            if kind == SglDescriptorType::BitBucket {
                // Runs of bit buckets are one skip, so that they cannot grow the pieces.
                match out.last_mut() {
                    Some(Piece::Skip(n)) => *n = n.saturating_add(take),
                    _ => out.push(Piece::Skip(take)),
                }
            } else {
                let addr = d.address();
                if addr.checked_add(dlen).is_none() {
                    return Err(dnr(Status::DATA_SGL_LENGTH_INVALID).into());
                }
                self.map_addr(out, addr, take)?;
            }
            *len = len.saturating_sub(take);
        }
        Ok(())
    }
}

/// The work an SGL has cost so far, for the bounds.
#[derive(Clone, Copy, Debug, Default)]
struct Work {
    /// Segments entered.
    segments: u32,
    /// Descriptors read.
    descriptors: u64,
    /// Data descriptors (Data Blocks and Bit Buckets, empty ones included).
    data: u64,
}

/// Read a chunk of a segment and count it; a profile that follows loops takes
/// [`LOOP_WORK`] descriptors read for a loop that never ends.
fn read_chunk<M: DmaMemory + ?Sized>(
    mem: &M,
    addr: u64,
    chunk: &mut [SglDescriptor],
    work: &mut Work,
    loops: bool,
) -> Result<(), Stop> {
    read_descriptors(mem, addr, chunk)?;
    work.descriptors = work.descriptors.saturating_add(chunk.len() as u64);
    if loops && work.descriptors > LOOP_WORK {
        return Err(Stop::Hang);
    }
    Ok(())
}

/// Data left unmapped at the end: the SGL was too short.
fn finish(len: u64) -> Result<(), Stop> {
    if len != 0 {
        return Err(dnr(Status::DATA_SGL_LENGTH_INVALID).into());
    }
    Ok(())
}

/// `nvme_addr_read` of PRP entries.
fn read_entries<M: DmaMemory + ?Sized>(mem: &M, addr: u64, out: &mut [u64]) -> Result<(), Stop> {
    read_as(mem, addr, out, u64::from_le_bytes)
}

/// `nvme_addr_read` of SGL descriptors.
fn read_descriptors<M: DmaMemory + ?Sized>(
    mem: &M,
    addr: u64,
    out: &mut [SglDescriptor],
) -> Result<(), Stop> {
    read_as(mem, addr, out, SglDescriptor::from_bytes)
}

/// `nvme_addr_read`: `out.len()` items of `N` bytes at `addr`; a range that wraps or
/// cannot be read is Data Transfer Error.
fn read_as<M: DmaMemory + ?Sized, T, const N: usize>(
    mem: &M,
    addr: u64,
    out: &mut [T],
    from: fn([u8; N]) -> T,
) -> Result<(), Stop> {
    let mut bytes = alloc::vec![0u8; out.len().saturating_mul(N)];
    let wraps = addr
        .checked_add((bytes.len() as u64).saturating_sub(1))
        .is_none();
    if wraps || mem.read(addr, &mut bytes).is_err() {
        return Err(Status::DATA_TRANSFER_ERROR.into());
    }
    for (item, b) in out.iter_mut().zip(bytes.chunks_exact(N)) {
        *item = from(b.try_into().unwrap_or([0; N]));
    }
    Ok(())
}
