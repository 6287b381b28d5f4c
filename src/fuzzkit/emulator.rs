//! Cases for an emulator under test: a Read or Write, its data pointer laid out in host
//! memory, a label, and the oracle.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use arbitrary::{Arbitrary, Result, Unstructured};

use super::generate::{self, Layout};
use super::{MemoryImage, Target};
use crate::controller::lenient::Stop;
use crate::controller::{ControllerConfig, Profile};
use crate::extent::Extent;
use crate::memory::DmaMemory;
use crate::rule::Rule;
use crate::spec::{BlockRange, Opcode, Psdt, Status, SubmissionEntry};
use crate::{Direction, Piece, SimMemory};

/// A valid layout's shape: what a correct controller must accept and move.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Shape {
    /// PRP1 alone: the transfer stays in one page.
    PrpOnePage,
    /// PRP1 and PRP2 as the second data page.
    PrpTwoPages,
    /// PRP2 points to one list, with room to spare.
    PrpList,
    /// One list exactly full: its last entry is data, not a pointer to another list.
    PrpListExactlyFull,
    /// Lists chained through their last entries (the first one at an offset).
    PrpChainedLists,
    /// SGL1 as the whole transfer.
    SglInline,
    /// SGL1 pointing to one Last Segment.
    SglLastSegment,
    /// Segments chained through Segment descriptors.
    SglChain,
    /// A read with Bit Buckets between its data.
    SglBitBuckets,
    /// A zero-length Data Block among the data (valid: it moves nothing).
    SglEmptyDataBlock,
    /// Separate metadata through a metadata SGL (PSDT 10b, MPTR pointing to a
    /// one-descriptor segment).
    MetadataSgl,
    /// Data, lists and segments all in the controller memory buffer.
    CmbPlacement,
}

/// A hostile data pointer's kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Hostile {
    /// A Segment descriptor whose one-descriptor segment points back at itself.
    SelfReferencingSegment,
    /// Two segments pointing at each other, each with an empty Data Block.
    MutuallyReferencingSegments,
    /// Segments that hold only an empty Data Block and a pointer on, ending in data: valid,
    /// but a controller that bounds loops by "a segment moves data" refuses it.
    SegmentsWithoutData,
    /// A Data Block whose address plus length passes 2^64.
    LengthWrapsAddressSpace,
    /// An SGL segment that starts below the register window and runs into it, or a PRP
    /// list in it.
    DescriptorsAcrossRegisterWindow,
    /// Data in the controller's own register window.
    DataInRegisterWindow,
    /// Data in the controller memory buffer, its list or segments in host memory.
    CmbMixedWithHostMemory,
    /// A PRP list that starts in host memory just below the controller memory buffer and
    /// runs into it.
    DescriptorsAcrossCmbEdge,
    /// A valid layout with a few bytes of its data pointer or descriptors flipped.
    BytesNearValid,
}

impl Hostile {
    /// Every kind.
    pub const ALL: [Hostile; 9] = [
        Hostile::SelfReferencingSegment,
        Hostile::MutuallyReferencingSegments,
        Hostile::SegmentsWithoutData,
        Hostile::LengthWrapsAddressSpace,
        Hostile::DescriptorsAcrossRegisterWindow,
        Hostile::DataInRegisterWindow,
        Hostile::CmbMixedWithHostMemory,
        Hostile::DescriptorsAcrossCmbEdge,
        Hostile::BytesNearValid,
    ];
}

/// What a case is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Label {
    /// Made by the crate's builders: every controller must move exactly its pieces.
    Valid(Shape),
    /// A valid layout with exactly this rule broken.
    NearValid(Rule),
    /// Bytes no host should send.
    Hostile(Hostile),
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Label::Valid(shape) => write!(f, "valid {shape:?}"),
            Label::NearValid(rule) => write!(f, "near-valid, {} broken", rule.id()),
            Label::Hostile(kind) => write!(f, "hostile {kind:?}"),
        }
    }
}

/// What a controller does with a case's command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It moves the data through these pieces, in order (bit buckets as
    /// [`Piece::Skip`]), and completes successfully.
    Moves(Vec<Piece>),
    /// It completes with this status, moving nothing.
    Fails(Status),
    /// It never completes the command (QEMU 7.2 on a looping SGL).
    Hangs,
}

/// The oracle's answer for one profile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expected {
    /// The profile asked about.
    pub profile: Profile,
    /// What the controller does with the data.
    pub outcome: Outcome,
    /// The metadata pieces it moves when the outcome is [`Outcome::Moves`] (none without
    /// separate metadata).
    pub metadata: Vec<Piece>,
}

/// A Read or Write whose data pointer is laid out in [`DataPointerCase::image`]; see the
/// [module docs](super).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataPointerCase {
    /// What the case is.
    pub label: Label,
    /// The controller it was made for.
    pub target: Target,
    /// A Read (the controller writes host memory) or a Write.
    pub direction: Direction,
    /// Logical blocks moved (NLB + 1).
    pub blocks: u32,
    /// PSDT: PRPs, an SGL, or an SGL with a metadata SGL.
    pub psdt: Psdt,
    /// MPTR (0 without separate metadata).
    pub mptr: u64,
    /// The metadata buffers as the host meant them.
    pub metadata: Vec<Piece>,
    /// The DPTR field: PRP1 and PRP2, or SGL1.
    pub dptr: [u8; 16],
    /// Host memory: data buffers with their bytes, then lists or segments.
    pub image: MemoryImage,
    /// The buffers as the host meant them (valid cases: exactly what moves).
    pub intended: Vec<Piece>,
}

impl DataPointerCase {
    /// A case for `target` from the fuzzer's bytes: about half valid, a third near-valid,
    /// the rest hostile.
    pub fn generate(u: &mut Unstructured<'_>, target: &Target) -> Result<Self> {
        let (direction, blocks) = generate::draw_command(u, target)?;
        let len = u64::from(blocks).saturating_mul(target.block_size);
        let seed = u.arbitrary::<u64>()?;
        let sgl = target.sgls.is_supported();
        // Now and then everything in the controller memory buffer, where there is one:
        // data, lists, segments and metadata.
        let in_cmb = match generate::in_cmb(target) {
            Some(moved) if u.ratio(1, 6)? => Some(moved),
            _ => None,
        };
        let place = in_cmb.as_ref().unwrap_or(target);
        let valid = |u: &mut Unstructured<'_>| {
            let mut layout = if sgl && u.arbitrary()? {
                generate::valid_sgl(u, place, len, direction, seed)?
            } else {
                generate::valid_prp(u, place, len, seed)?
            };
            if in_cmb.is_some() {
                layout.label = Label::Valid(Shape::CmbPlacement);
            }
            Ok(layout)
        };
        // A draw that finds no place for what it picked (a list to break in a one-page
        // transfer) falls back to the valid layout, so every input makes a case.
        let layout: Layout = match u.int_in_range(0u8..=9)? {
            0..=4 => valid(u)?,
            5..=7 => {
                let base = valid(u)?;
                generate::break_one_rule(u, place, base.clone()).unwrap_or(base)
            }
            _ => match generate::hostile(u, target, len, direction, seed) {
                Ok(layout) => layout,
                Err(_) => valid(u)?,
            },
        };
        let layout = if target.metadata == 0 {
            layout
        } else {
            let meta_len = u64::from(blocks).saturating_mul(u64::from(target.metadata));
            generate::with_metadata(u, place, layout, meta_len, direction, seed)?
        };
        let layout = layout.finish();
        Ok(DataPointerCase {
            label: layout.label,
            target: *target,
            direction,
            blocks,
            psdt: layout.psdt,
            mptr: layout.mptr,
            metadata: layout.metadata,
            dptr: layout.dptr,
            image: layout.image,
            intended: layout.intended,
        })
    }

    /// Bytes the command moves: blocks × block size.
    pub fn data_len(&self) -> u64 {
        u64::from(self.blocks).saturating_mul(self.target.block_size)
    }

    /// Bytes of separate metadata the command moves: blocks × metadata size.
    pub fn metadata_len(&self) -> u64 {
        u64::from(self.blocks).saturating_mul(u64::from(self.target.metadata))
    }

    /// The command: a Read or Write of namespace `nsid` from block `slba`, with this case's
    /// data pointer (CID 0; the caller sets its own).
    pub fn sqe(&self, nsid: u32, slba: u64) -> SubmissionEntry {
        let opcode = match self.direction {
            Direction::Read => Opcode::NVM_READ,
            Direction::Write => Opcode::NVM_WRITE,
        };
        let mut sqe = SubmissionEntry::new(opcode, 0)
            .with_nsid(nsid)
            .with_psdt(self.psdt)
            .with_mptr(self.mptr);
        if let Ok(range) = BlockRange::new(slba, u64::from(self.blocks)) {
            sqe.set_block_range(range);
        }
        let mut bytes = sqe.to_bytes();
        if let Some(dptr) = bytes.get_mut(24..40) {
            dptr.copy_from_slice(&self.dptr);
        }
        SubmissionEntry::from_bytes(bytes)
    }

    /// Map the target's data and descriptor space in `memory` (not the unmapped range), so
    /// that the image can be written into it.
    pub fn map_into(&self, memory: &mut SimMemory) {
        let cmb = self.target.space.cmb.into_iter();
        for space in [self.target.space.data, self.target.space.descriptors]
            .into_iter()
            .chain(cmb)
        {
            // The space is the caller's: a range that cannot be mapped is left out, and the
            // image's writes there fault as they would on the controller.
            let _ = memory.map(space.addr, space.len);
        }
    }

    /// The controller configuration this case's target stands for, with `profile`.
    pub fn config(&self, profile: Profile) -> ControllerConfig {
        let defaults = ControllerConfig::default();
        ControllerConfig {
            mdts: self.target.mdts,
            sgls: self.target.sgls,
            mps_min: 0,
            mps_max: defaults.mps_max.max(self.target.page_size.mps()),
            bar0: self
                .target
                .space
                .registers
                .map_or(defaults.bar0, |r| r.addr),
            cmb: self
                .target
                .space
                .cmb
                .map(|c| crate::controller::CmbConfig::new(c.addr, c.len)),
            profile,
            ..defaults
        }
    }

    /// What a controller with `profile` does with this case's command: the crate's mock
    /// controller's data path, run on the image. With [`Profile::STRICT`] it is the
    /// specification's answer.
    pub fn expected(&self, profile: Profile) -> Expected {
        let mut memory = SimMemory::new();
        memory.set_logging(false);
        self.map_into(&mut memory);
        match self.image.write_to(&mut memory) {
            Ok(()) => self.expected_in(profile, &mut memory),
            Err(_) => Expected {
                profile,
                outcome: Outcome::Fails(Status::DATA_TRANSFER_ERROR.with_dnr(true)),
                metadata: Vec::new(),
            },
        }
    }

    /// As [`DataPointerCase::expected`], over `memory`, which must already hold the image:
    /// for a controller whose memory holds more than the case wrote (a hostile pointer may
    /// lead anywhere). Nothing is written to `memory`.
    pub fn expected_in<M: DmaMemory + ?Sized>(&self, profile: Profile, memory: &mut M) -> Expected {
        let config = self.config(profile);
        let (outcome, metadata) = match crate::controller::data_path(
            &config,
            self.target.page_size,
            &self.sqe(1, 0),
            self.direction,
            (self.data_len(), self.metadata_len()),
            memory,
        ) {
            Ok((data, metadata)) => (Outcome::Moves(data), metadata),
            Err(Stop::Status(status)) => (Outcome::Fails(status), Vec::new()),
            Err(Stop::Hang) => (Outcome::Hangs, Vec::new()),
        };
        Expected {
            profile,
            outcome,
            metadata,
        }
    }

    /// The bytes a successful Write stores: the host's buffers along `pieces`, read from the
    /// image (a bit bucket's bytes are not the host's: zeros).
    pub fn written_bytes(&self, pieces: &[Piece]) -> Vec<u8> {
        let mut out = Vec::new();
        for piece in pieces {
            match piece {
                Piece::Data(e) => {
                    for i in 0..e.len {
                        out.push(self.image.byte_at(e.addr.wrapping_add(i)).unwrap_or(0));
                    }
                }
                other => {
                    let skipped = usize::try_from(other.len()).unwrap_or(0);
                    out.resize(out.len().saturating_add(skipped), 0);
                }
            }
        }
        out
    }

    /// Judge a Write: `status` is what the emulator completed with, `stored` the blocks its
    /// media holds afterwards, `before` what they held before: each the blocks' data, then
    /// their separate metadata when the target has any.
    pub fn check_write(
        &self,
        expected: &Expected,
        status: Status,
        stored: &[u8],
        before: &[u8],
    ) -> core::result::Result<(), String> {
        match &expected.outcome {
            Outcome::Moves(pieces) => {
                if !status.is_success() {
                    return Err(format!("{self}: completed with {status}, expected success"));
                }
                let mut want = self.written_bytes(pieces);
                want.extend(self.written_bytes(&expected.metadata));
                if let Some(at) = first_difference(stored, &want) {
                    return Err(format!("{self}: stored byte {at} differs from the host's"));
                }
                Ok(())
            }
            Outcome::Fails(want) => {
                if status != *want {
                    return Err(format!("{self}: completed with {status}, expected {want}"));
                }
                if stored != before {
                    return Err(format!("{self}: a failed write changed the media"));
                }
                Ok(())
            }
            Outcome::Hangs => Err(format!("{self}: completed, but the profile hangs here")),
        }
    }

    /// Judge a Read: `status` is what the emulator completed with, `media` the blocks it
    /// read from (their data, then their separate metadata when the target has any),
    /// `memory` host memory afterwards. Every byte the image wrote must be as it was except
    /// the bytes of the expected pieces, which must hold `media`.
    pub fn check_read<M: DmaMemory + ?Sized>(
        &self,
        expected: &Expected,
        status: Status,
        media: &[u8],
        memory: &M,
    ) -> core::result::Result<(), String> {
        let moved: Vec<Piece> = match &expected.outcome {
            Outcome::Moves(pieces) => {
                if !status.is_success() {
                    return Err(format!("{self}: completed with {status}, expected success"));
                }
                // The metadata follows the data in `media`, as it follows in the pieces.
                let pad = self
                    .data_len()
                    .saturating_sub(pieces.iter().map(Piece::len).sum());
                let mut all = pieces.clone();
                if pad > 0 {
                    all.push(Piece::Skip(pad));
                }
                all.extend(expected.metadata.iter().copied());
                all
            }
            Outcome::Fails(want) => {
                if status != *want {
                    return Err(format!("{self}: completed with {status}, expected {want}"));
                }
                Vec::new()
            }
            Outcome::Hangs => {
                return Err(format!("{self}: completed, but the profile hangs here"));
            }
        };
        // What must be where: the media's bytes along the pieces, the image elsewhere.
        let mut at = 0u64;
        let mut landed: Vec<(Extent, u64)> = Vec::new();
        for piece in &moved {
            if let Piece::Data(e) = piece {
                landed.push((*e, at));
            }
            at = at.saturating_add(piece.len());
        }
        for region in self.image.regions() {
            let mut bytes = alloc::vec![0u8; usize::try_from(region.len).unwrap_or(0)];
            if memory.read(region.addr, &mut bytes).is_err() {
                return Err(format!(
                    "{self}: host memory at {region} cannot be read back"
                ));
            }
            for (i, got) in bytes.iter().enumerate() {
                let addr = region.addr.wrapping_add(i as u64);
                let from_media = landed.iter().rev().find_map(|(e, offset)| {
                    let inside = addr.checked_sub(e.addr).filter(|d| *d < e.len)?;
                    media.get(usize::try_from(offset.saturating_add(inside)).ok()?)
                });
                let want = from_media.copied().or_else(|| self.image.byte_at(addr));
                if Some(*got) != want {
                    return Err(format!(
                        "{self}: host byte {addr:#x} is {got:#04x}, expected {:#04x}",
                        want.unwrap_or(0)
                    ));
                }
            }
        }
        Ok(())
    }
}

/// The first index where `a` and `b` differ (or where one ends), if any.
fn first_difference(a: &[u8], b: &[u8]) -> Option<usize> {
    a.iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .or_else(|| (a.len() != b.len()).then_some(a.len().min(b.len())))
}

impl fmt::Display for DataPointerCase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.direction {
            Direction::Read => "Read",
            Direction::Write => "Write",
        };
        write!(f, "{kind} of {} blocks, {}", self.blocks, self.label)
    }
}

impl<'a> Arbitrary<'a> for DataPointerCase {
    /// A case for a target drawn from the same bytes ([`Target`]'s `Arbitrary`).
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let target = Target::arbitrary(u)?;
        DataPointerCase::generate(u, &target)
    }
}
