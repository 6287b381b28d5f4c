//! Each error type's variants, one error of each and the rule id it must report: an
//! exhaustive `variant` match per type numbers the variants, so a new one does not compile
//! until it is numbered, and its test fails until the list has it.

use super::super::*;
use super::IDS;
use crate::dptr::PsdtError;
use crate::memory::{DmaFault, MoveError};
use crate::sgl::{Capability, DescriptorAt, SglRole, TypeProblem};
use crate::{prp, sgl, Extent, PageSize, Piece};
use core::fmt;
use std::collections::BTreeSet;
use std::vec::Vec;

pub(super) fn check<E: fmt::Debug>(
    cases: &[(E, &str)],
    variant: fn(&E) -> usize,
    count: usize,
    rule: fn(&E) -> Rule,
) {
    let mut covered = BTreeSet::new();
    for (error, id) in cases {
        covered.insert(variant(error));
        let got = rule(error);
        assert_eq!(got.id(), *id, "{error:?}");
        assert!(
            Rule::all().contains(&got),
            "{error:?}: {got} is not in the table"
        );
        assert!(IDS.contains(&got.id()), "{error:?}");
    }
    let all: BTreeSet<usize> = (0..count).collect();
    assert_eq!(covered, all, "a variant has no case");
}

pub(super) const E: Extent = Extent::new(0x1000, 0x200);
pub(super) const PS: PageSize = PageSize::SIZE_4K;

fn prp_build_variant(e: &prp::BuildError) -> usize {
    use prp::BuildError as B;
    match e {
        B::EmptyTransfer => 0,
        B::StartNotDwordAligned { .. } => 1,
        B::StartInsidePage { .. } => 2,
        B::EndInsidePage { .. } => 3,
        B::AddressOverflow { .. } => 4,
        B::TransferTooLong { .. } => 5,
        B::NotShort { .. } => 6,
        B::ListMemoryTooSmall { .. } => 7,
        B::ListPageTooSmall { .. } => 8,
        B::ListPageMisaligned { .. } => 9,
        B::InvalidBlockSize { .. } => 10,
        B::NotBlockMultiple { .. } => 11,
        B::BoundaryInsideBlock { .. } => 12,
    }
}

pub(super) fn prp_build_cases() -> Vec<(prp::BuildError, &'static str)> {
    use prp::BuildError as B;
    std::vec![
        (B::EmptyTransfer, "prp.nonempty"),
        (
            B::StartNotDwordAligned {
                index: 0,
                extent: E
            },
            "prp.start_dword_aligned"
        ),
        (
            B::StartInsidePage {
                index: 1,
                extent: E,
                page_size: PS
            },
            "prp.start_on_page_boundary"
        ),
        (
            B::EndInsidePage {
                index: 0,
                extent: E,
                page_size: PS
            },
            "prp.end_on_page_boundary"
        ),
        (
            B::AddressOverflow {
                index: 0,
                extent: E
            },
            "prp.address_space"
        ),
        (B::TransferTooLong { len: 2, max: 1 }, "prp.max_transfer"),
        (B::NotShort { pages: 3 }, "prp.inline_two_pages"),
        (
            B::ListMemoryTooSmall {
                needed: 2,
                given: 1
            },
            "prp.list_memory"
        ),
        (
            B::ListPageTooSmall {
                page: 0,
                slots: 1,
                required: 2
            },
            "prp.list_page_size"
        ),
        (
            B::ListPageMisaligned {
                page: 0,
                addr: 4,
                page_size: PS
            },
            "prp.list_page_alignment"
        ),
        (
            B::ListPageMisaligned {
                page: 1,
                addr: 8,
                page_size: PS
            },
            "prp.list_page_alignment"
        ),
        (
            B::InvalidBlockSize {
                block_size: 3,
                max: None
            },
            "prp.split_block_size"
        ),
        (
            B::NotBlockMultiple {
                len: 3,
                block_size: 512
            },
            "prp.whole_blocks"
        ),
        (
            B::BoundaryInsideBlock {
                index: 0,
                extent: E,
                at: 0x200,
                block_size: 0x1000
            },
            "prp.split_on_block_boundary"
        ),
    ]
}

#[test]
fn every_prp_build_error_names_its_rule() {
    check(
        &prp_build_cases(),
        prp_build_variant,
        13,
        prp::BuildError::rule,
    );
}

#[test]
fn every_prp_walk_error_names_its_rule() {
    use prp::WalkError as W;
    fn variant(e: &W) -> usize {
        match e {
            W::Prp1NotDwordAligned { .. } => 0,
            W::Prp2Offset { .. } => 1,
            W::ListPointerMisaligned { .. } => 2,
            W::ListEntryOffset { .. } => 3,
            W::ChainPointerOffset { .. } => 4,
            W::ListFetchFault { .. } => 5,
        }
    }
    let cases = [
        (
            W::Prp1NotDwordAligned { prp1: 2 },
            "prp.start_dword_aligned",
        ),
        (W::Prp2Offset { prp2: 0x1200 }, "prp.start_on_page_boundary"),
        (
            W::ListPointerMisaligned { prp2: 4 },
            "prp.list_page_alignment",
        ),
        (
            W::ListEntryOffset {
                slot: 0,
                entry: 0x1200,
            },
            "prp.start_on_page_boundary",
        ),
        (
            W::ChainPointerOffset {
                slot: 0,
                entry: 0x1200,
            },
            "prp.list_page_alignment",
        ),
        (W::ListFetchFault { addr: 0, len: 8 }, "memory.reachable"),
    ];
    check(&cases, variant, 6, W::rule);
}

fn sgl_build_variant(e: &sgl::BuildError) -> usize {
    use sgl::BuildError as B;
    match e {
        B::EmptyTransfer => 0,
        B::NotSupported { .. } => 1,
        B::PieceNotSupported { .. } => 2,
        B::SkipInWrite { .. } => 3,
        B::AddressOverflow { .. } => 4,
        B::Granularity { .. } => 5,
        B::OutsideCapsule { .. } => 6,
        B::TransferTooLong { .. } => 7,
        B::ShorterThanTransfer { .. } => 8,
        B::LongerThanTransfer { .. } => 9,
        B::TooManyDataBlocks { .. } => 10,
        B::NotInline { .. } => 11,
        B::SegmentMemoryTooSmall { .. } => 12,
        B::SegmentTooSmall { .. } => 13,
        B::SegmentMisaligned { .. } => 14,
        B::SegmentOverflow { .. } => 15,
        B::MetadataMisaligned { .. } => 16,
    }
}

pub(super) fn sgl_build_cases() -> Vec<(sgl::BuildError, &'static str)> {
    use sgl::BuildError as B;
    let piece = Piece::Data(E);
    std::vec![
        (B::EmptyTransfer, "sgl.nonempty"),
        (
            B::NotSupported {
                capability: Capability::Sgl
            },
            "sgl.supported"
        ),
        (
            B::NotSupported {
                capability: Capability::MetadataSgl
            },
            "sgl.supported"
        ),
        (
            B::PieceNotSupported {
                index: 0,
                piece: Piece::Skip(4),
                capability: Capability::BitBucket
            },
            "sgl.capability"
        ),
        (
            B::SkipInWrite { index: 0, len: 4 },
            "sgl.bit_bucket_in_read_only"
        ),
        (B::AddressOverflow { index: 0, piece }, "sgl.address_space"),
        (B::Granularity { index: 0, run: E }, "sgl.dword_granularity"),
        (
            B::OutsideCapsule {
                index: 0,
                offset: 0,
                len: 8,
                capsule: 4
            },
            "sgl.capsule"
        ),
        (B::TransferTooLong { len: 2, max: 1 }, "sgl.max_transfer"),
        (
            B::ShorterThanTransfer {
                described: 1,
                transfer: 2
            },
            "sgl.covers_transfer"
        ),
        (
            B::LongerThanTransfer {
                described: 2,
                transfer: 1
            },
            "sgl.longer_than_transfer"
        ),
        (B::TooManyDataBlocks { count: 3, msdbd: 2 }, "sgl.msdbd"),
        (B::NotInline { descriptors: 2 }, "sgl.inline_one_descriptor"),
        (
            B::SegmentMemoryTooSmall {
                descriptors: 9,
                given: 0
            },
            "sgl.segment_memory"
        ),
        (
            B::SegmentTooSmall {
                segment: 0,
                capacity: 1
            },
            "sgl.segment_size"
        ),
        (
            B::SegmentMisaligned {
                segment: 0,
                addr: 4
            },
            "sgl.segment_alignment"
        ),
        (
            B::SegmentOverflow {
                segment: 0,
                addr: u64::MAX
            },
            "sgl.segment_address_space"
        ),
        (
            B::MetadataMisaligned { addr: 2, align: 4 },
            "sgl.metadata_alignment"
        ),
    ]
}

#[test]
fn every_sgl_build_error_names_its_rule() {
    check(
        &sgl_build_cases(),
        sgl_build_variant,
        17,
        sgl::BuildError::rule,
    );
}

fn sgl_walk_variant(e: &sgl::WalkError) -> usize {
    use sgl::WalkError as W;
    match e {
        W::NotSupported { .. } => 0,
        W::MetadataMisaligned { .. } => 1,
        W::DescriptorType { .. } => 2,
        W::PointerNotLast { .. } => 3,
        W::PointerInLastSegment { .. } => 4,
        W::SegmentWithoutPointer { .. } => 5,
        W::SegmentLength { .. } => 6,
        W::SegmentMisaligned { .. } => 7,
        W::TooManyDescriptors { .. } => 8,
        W::TooManySegments { .. } => 9,
        W::TooManyDataBlocks { .. } => 10,
        W::Granularity { .. } => 11,
        W::AddressOverflow { .. } => 12,
        W::LongerThanTransfer { .. } => 13,
        W::ShorterThanTransfer { .. } => 14,
        W::OutsideCapsule { .. } => 15,
        W::FetchFault { .. } => 16,
    }
}

pub(super) fn sgl_walk_cases() -> Vec<(sgl::WalkError, &'static str)> {
    use sgl::WalkError as W;
    let at = DescriptorAt::Segment {
        segment: 1,
        index: 0,
        addr: 0x2000,
    };
    let role = SglRole::Data;
    std::vec![
        (
            W::NotSupported {
                capability: Capability::Sgl
            },
            "sgl.supported"
        ),
        (
            W::MetadataMisaligned { mptr: 2, align: 4 },
            "sgl.metadata_alignment"
        ),
        (
            W::DescriptorType {
                at,
                identifier: 0x60,
                problem: TypeProblem::Undefined
            },
            "sgl.descriptor_type"
        ),
        (
            W::DescriptorType {
                at,
                identifier: 0x10,
                problem: TypeProblem::Unsupported(Capability::BitBucket)
            },
            "sgl.capability"
        ),
        (W::PointerNotLast { at }, "sgl.segment_chain"),
        (W::PointerInLastSegment { at }, "sgl.segment_chain"),
        (W::SegmentWithoutPointer { at }, "sgl.segment_chain"),
        (W::SegmentLength { at, len: 15 }, "sgl.segment_length"),
        (
            W::SegmentMisaligned { at, addr: 4 },
            "sgl.segment_alignment"
        ),
        (W::TooManyDescriptors { at, limit: 1 }, "sgl.walk_limit"),
        (W::TooManySegments { at, limit: 1 }, "sgl.walk_limit"),
        (W::TooManyDataBlocks { at, limit: 1 }, "sgl.msdbd"),
        (
            W::Granularity {
                at,
                addr: 1,
                len: 4
            },
            "sgl.dword_granularity"
        ),
        (
            W::AddressOverflow {
                at,
                addr: u64::MAX,
                len: 2,
                role
            },
            "sgl.address_space"
        ),
        (
            W::LongerThanTransfer {
                at,
                remaining: 1,
                len: 2,
                role: SglRole::Metadata
            },
            "sgl.longer_than_transfer"
        ),
        (
            W::ShorterThanTransfer {
                described: 1,
                transfer: 2,
                role
            },
            "sgl.covers_transfer"
        ),
        (
            W::OutsideCapsule {
                at: DescriptorAt::Sgl1,
                offset: 0,
                len: 8
            },
            "sgl.capsule"
        ),
        (W::FetchFault { addr: 0, len: 16 }, "memory.reachable"),
    ]
}

#[test]
fn every_sgl_walk_error_names_its_rule() {
    check(
        &sgl_walk_cases(),
        sgl_walk_variant,
        17,
        sgl::WalkError::rule,
    );
}

#[test]
fn every_psdt_error_names_its_rule() {
    fn variant(e: &PsdtError) -> usize {
        match e {
            PsdtError::Reserved => 0,
            PsdtError::SglOnAdminQueue => 1,
            PsdtError::NotSupported(_) => 2,
        }
    }
    let cases = [
        (PsdtError::Reserved, "dptr.psdt_reserved"),
        (PsdtError::SglOnAdminQueue, "dptr.admin_prps_only"),
        (PsdtError::NotSupported(Capability::Sgl), "sgl.supported"),
        (
            PsdtError::NotSupported(Capability::MetadataSgl),
            "sgl.supported",
        ),
    ];
    check(&cases, variant, 3, PsdtError::rule);
}

fn move_variant(e: &MoveError) -> usize {
    match e {
        MoveError::Fault(_) => 0,
        MoveError::NotHostMemory(_) => 1,
        MoveError::PastEnd { .. } => 2,
    }
}

pub(super) fn move_cases() -> Vec<(MoveError, &'static str)> {
    std::vec![
        (
            MoveError::Fault(DmaFault { addr: 0, len: 1 }),
            "memory.reachable"
        ),
        (
            MoveError::NotHostMemory(Piece::Keyed { extent: E, key: 1 }),
            "sgl.capability"
        ),
        (MoveError::PastEnd { len: 4 }, "memory.within_pieces"),
    ]
}

#[test]
fn every_move_error_names_its_rule() {
    check(&move_cases(), move_variant, 3, MoveError::rule);
}
