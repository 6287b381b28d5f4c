//! Every variant of every error type maps to a stable rule id (the matches are exhaustive, so
//! a new variant does not compile until it has one), the ids are unique, and each rule cites a
//! named revision of the specification.

use super::*;
use crate::dptr::{DeviceError, DptrError, DptrWalkError, PsdtError, SglRefusal};
use crate::sgl::{DescriptorAt, SglRole};
use crate::{prp, sgl};
use std::collections::BTreeSet;
use std::vec::Vec;

mod variants;

use variants::{check, move_cases, prp_build_cases, sgl_build_cases, sgl_walk_cases, E, PS};

/// Every id, written out: an id that changes or disappears breaks scripts that read the
/// command's JSON, so changing this list is a deliberate act.
const IDS: &[&str] = &[
    "prp.nonempty",
    "prp.start_dword_aligned",
    "prp.start_on_page_boundary",
    "prp.end_on_page_boundary",
    "prp.address_space",
    "prp.max_transfer",
    "prp.inline_two_pages",
    "prp.list_memory",
    "prp.list_page_size",
    "prp.list_page_alignment",
    "prp.split_block_size",
    "prp.whole_blocks",
    "prp.split_on_block_boundary",
    "sgl.nonempty",
    "sgl.supported",
    "sgl.capability",
    "sgl.bit_bucket_in_read_only",
    "sgl.address_space",
    "sgl.dword_granularity",
    "sgl.capsule",
    "sgl.max_transfer",
    "sgl.covers_transfer",
    "sgl.longer_than_transfer",
    "sgl.msdbd",
    "sgl.inline_one_descriptor",
    "sgl.segment_memory",
    "sgl.segment_size",
    "sgl.segment_alignment",
    "sgl.segment_address_space",
    "sgl.metadata_alignment",
    "sgl.descriptor_type",
    "sgl.segment_chain",
    "sgl.segment_length",
    "sgl.walk_limit",
    "dptr.psdt_reserved",
    "dptr.admin_prps_only",
    "dptr.max_transfer",
    "dptr.split_commands",
    "dptr.piece_room",
    "memory.reachable",
    "memory.within_pieces",
];

#[test]
fn the_table_is_the_published_ids() {
    let ids: Vec<&str> = Rule::all().iter().map(|r| r.id()).collect();
    assert_eq!(ids, IDS);
}

#[test]
fn ids_are_unique_and_well_formed() {
    let mut seen = BTreeSet::new();
    for rule in Rule::all() {
        let id = rule.id();
        assert!(seen.insert(id), "{id} twice");
        let (family, name) = id.split_once('.').expect("family.name");
        assert!(["prp", "sgl", "dptr", "memory"].contains(&family), "{id}");
        assert!(
            !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
            "{id}"
        );
        assert_eq!(Rule::from_id(id), Some(*rule));
        assert_eq!(std::format!("{rule}"), id);
    }
    assert_eq!(Rule::from_id("prp.other"), None);
}

#[test]
fn every_rule_cites_a_named_revision_and_explains_itself() {
    for rule in Rule::all() {
        let section = rule.section();
        assert!(
            section.starts_with(SPEC) || section.starts_with("NVM Command Set Specification 1.1"),
            "{rule}: {section}"
        );
        // A section number follows the document and its revision.
        let number = section.split(", ").nth(1).unwrap_or("");
        assert!(
            number.starts_with(|c: char| c.is_ascii_digit()),
            "{rule}: {section}"
        );
        let summary = rule.summary();
        assert!(!summary.ends_with('.'), "{rule}");
        // Lower case to follow a label, unless it opens with an acronym (PRP1, SGLs).
        let lower = summary.starts_with(|c: char| c.is_ascii_lowercase());
        let acronym = summary.chars().take(2).all(|c| c.is_ascii_uppercase());
        assert!(lower || acronym, "{rule}: {summary}");
        let text = rule.text();
        assert!(text.ends_with('.') || text.ends_with(".)"), "{rule}");
        assert!(text.len() > 150, "{rule}: too short to teach");
        assert!(!text.contains("  "), "{rule}: a doubled space");
    }
}

/// A wrapping error reports its cause's rule, for every cause.
#[test]
fn wrapped_errors_name_their_cause() {
    fn walk_variant(e: &DptrWalkError) -> usize {
        match e {
            DptrWalkError::Prp(_) => 0,
            DptrWalkError::Sgl(_) => 1,
        }
    }
    let mut walks = Vec::new();
    for (e, _) in [
        (prp::WalkError::Prp2Offset { prp2: 0x1200 }, ""),
        (prp::WalkError::ListFetchFault { addr: 0, len: 8 }, ""),
    ] {
        walks.push((DptrWalkError::Prp(e), e.rule().id()));
    }
    for (e, _) in sgl_walk_cases() {
        walks.push((DptrWalkError::Sgl(e), e.rule().id()));
    }
    check(&walks, walk_variant, 2, DptrWalkError::rule);

    fn device_variant(e: &DeviceError) -> usize {
        match e {
            DeviceError::Psdt(_) => 0,
            DeviceError::TransferTooLong { .. } => 1,
            DeviceError::Walk(_) => 2,
            DeviceError::TooManyPieces { .. } => 3,
            DeviceError::Move(_) => 4,
        }
    }
    let mut devices = std::vec![
        (
            DeviceError::Psdt(PsdtError::SglOnAdminQueue),
            "dptr.admin_prps_only"
        ),
        (
            DeviceError::TransferTooLong { len: 2, max: 1 },
            "dptr.max_transfer"
        ),
        (DeviceError::TooManyPieces { room: 1 }, "dptr.piece_room"),
    ];
    for (walk, id) in &walks {
        devices.push((DeviceError::Walk(*walk), id));
    }
    for (e, id) in move_cases() {
        devices.push((DeviceError::Move(e), id));
    }
    check(&devices, device_variant, 5, DeviceError::rule);

    fn dptr_variant(e: &DptrError) -> usize {
        match e {
            DptrError::Inexpressible { .. } => 0,
            DptrError::Metadata(_) => 1,
            DptrError::Prp(_) => 2,
            DptrError::Sgl(_) => 3,
            DptrError::NeedsSplit { .. } => 4,
        }
    }
    let mut dptrs = Vec::new();
    for (e, id) in prp_build_cases() {
        dptrs.push((DptrError::Prp(e), id));
        for sgl in [
            SglRefusal::AdminQueue,
            SglRefusal::NotSupported,
            SglRefusal::Policy,
            SglRefusal::Build(sgl::BuildError::EmptyTransfer),
        ] {
            // The PRP rule decides: PRPs are what every controller accepts.
            dptrs.push((DptrError::Inexpressible { prp: e, sgl }, id));
        }
    }
    for (e, id) in sgl_build_cases() {
        dptrs.push((DptrError::Sgl(e), id));
        dptrs.push((DptrError::Metadata(e), id));
    }
    dptrs.push((DptrError::NeedsSplit { commands: 2 }, "dptr.split_commands"));
    check(&dptrs, dptr_variant, 5, DptrError::rule);
}

/// The same broken rule has one name whether the host's builder or the device's walker
/// finds it.
#[test]
fn host_and_device_agree() {
    let pairs = [
        (
            prp::BuildError::StartNotDwordAligned {
                index: 0,
                extent: E,
            }
            .rule(),
            prp::WalkError::Prp1NotDwordAligned { prp1: 2 }.rule(),
        ),
        (
            prp::BuildError::StartInsidePage {
                index: 1,
                extent: E,
                page_size: PS,
            }
            .rule(),
            prp::WalkError::ListEntryOffset {
                slot: 0,
                entry: 0x1200,
            }
            .rule(),
        ),
        (
            sgl::BuildError::SegmentMisaligned {
                segment: 0,
                addr: 4,
            }
            .rule(),
            sgl::WalkError::SegmentMisaligned {
                at: DescriptorAt::Sgl1,
                addr: 4,
            }
            .rule(),
        ),
        (
            sgl::BuildError::ShorterThanTransfer {
                described: 1,
                transfer: 2,
            }
            .rule(),
            sgl::WalkError::ShorterThanTransfer {
                described: 1,
                transfer: 2,
                role: SglRole::Data,
            }
            .rule(),
        ),
    ];
    for (host, device) in pairs {
        assert_eq!(host, device);
    }
}
