//! The fuzzing kit checked against the crate itself: its labels are true, its oracle is the
//! mock controller's answer, its checkers accept what a correct emulator or driver does and
//! catch what a broken one does, and its cases are reproducible from the bytes.

use arbitrary::{Arbitrary, Unstructured};
use std::collections::BTreeSet;

use nvme_dma::controller::{Deviation, NamespaceConfig, Profile};
use nvme_dma::dptr::{self, DescriptorMemory, DeviceCommand, SglPolicy, Transfer};
use nvme_dma::fuzzkit::{
    DataPointerCase, DriverCase, DriverFinding, Hostile, Label, Outcome, Space, Target,
};
use nvme_dma::prp::PrpListPage;
use nvme_dma::rule::Rule;
use nvme_dma::sgl::SegmentBuf;
use nvme_dma::spec::Status;
use nvme_dma::spec::{BlockRange, Opcode, Sgls, SubmissionEntry};
use nvme_dma::{Direction, DmaMemory, Extent, Piece, QueueKind, SimMemory};
use nvme_dma_testkit::rig::Rig;

/// `n` byte strings of assorted lengths from a fixed seed.
fn inputs(n: usize) -> impl Iterator<Item = Vec<u8>> {
    nvme_dma_testkit::pattern::byte_strings(0x6e76_6d65_6b69_7421u64, n, 64, 2048)
}

/// Adjacent data pieces merged, empty ones dropped: the form a walk yields.
fn merged(pieces: &[Piece]) -> Vec<Piece> {
    let mut out: Vec<Piece> = Vec::new();
    for &p in pieces.iter().filter(|p| !p.is_empty()) {
        if !out.last_mut().is_some_and(|last| last.try_merge(&p)) {
            out.push(p);
        }
    }
    out
}

/// The walker's refusal of a case's data pointer, as (status, rule).
fn strict_refusal(case: &DataPointerCase) -> Option<(Status, Rule)> {
    let mut memory = SimMemory::new();
    case.map_into(&mut memory);
    case.image.write_to(&mut memory).ok()?;
    let transfer = match case.direction {
        Direction::Read => Transfer::read(case.data_len()),
        Direction::Write => Transfer::write(case.data_len()),
    };
    let caps = case.target.caps();
    let sqe = case.sqe(1, 0);
    let err = match DeviceCommand::decode(&sqe, QueueKind::Io, &caps, transfer) {
        Err(e) => e,
        Ok(command) => {
            let mut out = vec![Piece::Skip(0); 4096];
            match command.data_pieces(&memory, &mut out) {
                Ok(n) => {
                    // The walk is valid; a buffer with no memory behind it still fails.
                    let unreachable = out[..n].iter().any(|p| match p {
                        Piece::Data(e) => memory.probe(e.addr, e.len).is_err(),
                        _ => false,
                    });
                    return unreachable.then_some((
                        Status::DATA_TRANSFER_ERROR.with_dnr(true),
                        Rule::MemoryReachable,
                    ));
                }
                Err(e) => e,
            }
        }
    };
    Some((err.status(), err.rule()))
}

#[test]
fn labels_are_true_and_every_kind_is_made() {
    let mut shapes = BTreeSet::new();
    let mut rules = BTreeSet::new();
    let mut hostile = BTreeSet::new();
    for bytes in inputs(6000) {
        let mut u = Unstructured::new(&bytes);
        let target = if bytes[0] % 2 == 0 {
            Target::DEFAULT
        } else {
            match Target::arbitrary(&mut u) {
                Ok(t) => t,
                Err(_) => continue,
            }
        };
        let Ok(case) = DataPointerCase::generate(&mut u, &target) else {
            continue;
        };
        let strict = case.expected(Profile::STRICT);
        match case.label {
            Label::Valid(shape) => {
                shapes.insert(format!("{shape:?}"));
                assert_eq!(
                    strict.outcome,
                    Outcome::Moves(merged(&case.intended)),
                    "{case}: a valid case must move exactly its pieces"
                );
            }
            Label::NearValid(rule) => {
                rules.insert(rule.id());
                let Outcome::Fails(status) = strict.outcome else {
                    panic!(
                        "{case}: a near-valid case must fail, got {:?}",
                        strict.outcome
                    );
                };
                let (walker_status, walker_rule) = strict_refusal(&case)
                    .unwrap_or_else(|| panic!("{case}: the walker accepts it"));
                assert_eq!(walker_rule, rule, "{case}: the walker names another rule");
                assert_eq!(
                    walker_status, status,
                    "{case}: the walker's status is not the mock's"
                );
            }
            Label::Hostile(kind) => {
                hostile.insert(format!("{kind:?}"));
                assert_ne!(strict.outcome, Outcome::Hangs, "{case}: strict never hangs");
                if kind == Hostile::SelfReferencingSegment {
                    assert_eq!(case.expected(Profile::QEMU_7_2).outcome, Outcome::Hangs);
                }
            }
        }
    }
    eprintln!("shapes {shapes:?}\nrules {rules:?}\nhostile {hostile:?}");
    assert_eq!(shapes.len(), 12, "every shape: {shapes:?}");
    assert!(rules.len() >= 8, "near-valid rules: {rules:?}");
    assert_eq!(
        hostile.len(),
        Hostile::ALL.len(),
        "every hostile kind: {hostile:?}"
    );
}

#[test]
fn the_same_bytes_make_the_same_case() {
    for bytes in inputs(200) {
        let a = DataPointerCase::arbitrary(&mut Unstructured::new(&bytes));
        let b = DataPointerCase::arbitrary(&mut Unstructured::new(&bytes));
        assert_eq!(a.ok(), b.ok());
        let a = DriverCase::arbitrary(&mut Unstructured::new(&bytes));
        let b = DriverCase::arbitrary(&mut Unstructured::new(&bytes));
        assert_eq!(a.ok(), b.ok());
    }
}

/// The blocks' data, then their separate metadata: the media a checker compares.
fn media(rig: &Rig, slba: u64, blocks: u64) -> Vec<u8> {
    let c = &rig.m.controller;
    let mut out = c.namespace_data(1, slba, blocks).unwrap();
    out.extend(c.namespace_metadata(1, slba, blocks).unwrap());
    out
}

/// The mock controller, strict, as the emulator under test: the checkers must accept every
/// answer it gives, and the oracle must be its answer. Targets with separate metadata
/// (contiguous and through metadata SGLs) and with a controller memory buffer included.
#[test]
fn the_mock_controller_passes_the_emulator_checkers() {
    let metadata = Target {
        metadata: 16,
        sgls: Target::DEFAULT.sgls.union(Sgls::MPTR_SGL),
        ..Target::DEFAULT
    };
    let cmb = Target {
        space: Space::WITH_CMB,
        ..Target::DEFAULT
    };
    let mut checked = 0;
    let mut shapes = BTreeSet::new();
    for (i, bytes) in inputs(1200).enumerate() {
        let target = [Target::DEFAULT, metadata, cmb][i % 3];
        let Ok(case) = DataPointerCase::generate(&mut Unstructured::new(&bytes), &target) else {
            continue;
        };
        if let Label::Valid(shape) = case.label {
            shapes.insert(format!("{shape:?}"));
        }
        let mut config = case.config(Profile::STRICT);
        config.namespaces =
            vec![NamespaceConfig::new(128 * 1024, 512).with_metadata(target.metadata, false)];
        let mut rig = Rig::new(config);
        rig.create_io_pair(1, 16);
        case.image
            .write_to(&mut rig.m)
            .expect("the rig maps the default space");
        // The rig maps more memory than the case's space: a hostile pointer may reach it.
        let expected = case.expected_in(Profile::STRICT, &mut rig.m);
        let (slba, blocks) = (100, u64::from(case.blocks));
        let before = media(&rig, slba, blocks);
        let status = rig.exec(1, case.sqe(1, slba)).status();
        let after = media(&rig, slba, blocks);
        let verdict = match case.direction {
            Direction::Write => case.check_write(&expected, status, &after, &before),
            Direction::Read => case.check_read(&expected, status, &before, &rig.m),
        };
        verdict.unwrap_or_else(|e| panic!("{e}"));
        checked += 1;
    }
    assert!(checked > 1100, "{checked} cases checked");
    assert!(
        shapes.contains("MetadataSgl") && shapes.contains("CmbPlacement"),
        "{shapes:?}"
    );
}

/// An emulator that drops the last byte of every read's last piece is caught.
#[test]
fn the_read_checker_catches_a_short_copy() {
    let mut caught = 0;
    'cases: for bytes in inputs(300) {
        let Ok(case) = DataPointerCase::generate(&mut Unstructured::new(&bytes), &Target::DEFAULT)
        else {
            continue;
        };
        let expected = case.expected(Profile::STRICT);
        let (Direction::Read, Outcome::Moves(pieces)) = (case.direction, &expected.outcome) else {
            continue;
        };
        let mut memory = SimMemory::new();
        case.map_into(&mut memory);
        case.image.write_to(&mut memory).unwrap();
        let media: Vec<u8> = (0..case.data_len())
            .map(|i| (i % 251) as u8 ^ 0x5a)
            .collect();
        let last_data = pieces.iter().rposition(|p| matches!(p, Piece::Data(_)));
        let mut at = 0usize;
        for (k, piece) in pieces.iter().enumerate() {
            if let Piece::Data(e) = piece {
                let mut n = e.len as usize;
                if Some(k) == last_data {
                    n -= 1;
                    // The byte left behind must differ from the one the media holds, or the
                    // short copy cannot be seen: such a case is left out.
                    if case.image.byte_at(e.addr + n as u64) == Some(media[at + n]) {
                        continue 'cases;
                    }
                }
                memory.write(e.addr, &media[at..at + n]).unwrap();
            }
            at += piece.len() as usize;
        }
        assert!(case
            .check_read(&expected, Status::SUCCESS, &media, &memory)
            .is_err());
        caught += 1;
    }
    assert!(caught > 50, "{caught}");
}

/// Build `case`'s request with the crate's own one-call API, lists and segments in the
/// case's descriptor pages; `None` when no single command carries it.
fn build_with_the_crate(case: &DriverCase) -> Option<(SubmissionEntry, SimMemory)> {
    let page = case.target.page_size.bytes();
    let mut buffers: Vec<Vec<u8>> = case
        .descriptor_pages
        .iter()
        .map(|_| vec![0u8; page as usize])
        .collect();
    let (prp, sgl) = buffers.split_at_mut(4);
    let mut lists: Vec<PrpListPage<'_>> = prp
        .iter_mut()
        .zip(&case.descriptor_pages)
        .map(|(b, &addr)| PrpListPage::new(addr, b))
        .collect();
    let mut segments: Vec<SegmentBuf<'_>> = sgl
        .iter_mut()
        .zip(&case.descriptor_pages[4..])
        .map(|(b, &addr)| SegmentBuf::new(addr, b))
        .collect();
    let mut memory = DescriptorMemory {
        prp_lists: &mut lists,
        sgl_segments: &mut segments,
        metadata_segments: &mut [],
    };
    let blocks = (case.len() / case.target.block_size) as u32;
    let mut sqe = Rig::io_sqe(Opcode::NVM_WRITE, 1, 0, blocks);
    let request = dptr::Request::new(&case.extents, case.direction, QueueKind::Io);
    let caps = case.target.caps();
    match dptr::fill_sqe(
        &mut sqe,
        &request,
        &caps,
        SglPolicy::SmallestFootprint,
        &mut memory,
    ) {
        Ok(dptr::Outcome::Filled(_)) => {}
        _ => return None,
    }
    drop(lists);
    drop(segments);
    let mut host = SimMemory::new();
    for (addr, bytes) in case.descriptor_pages.iter().zip(&buffers) {
        host.map(*addr, page).unwrap();
        host.write(*addr, bytes).unwrap();
    }
    Some((sqe, host))
}

/// The crate's own driver path passes the driver checker; the same command with a wrong NLB,
/// or judged against a request one extent longer, does not.
#[test]
fn the_driver_checker_accepts_the_builders_and_names_what_is_wrong() {
    let mut accepted = 0;
    for bytes in inputs(600) {
        let Ok(case) = DriverCase::arbitrary(&mut Unstructured::new(&bytes)) else {
            continue;
        };
        let Some((sqe, host)) = build_with_the_crate(&case) else {
            continue;
        };
        case.check(&sqe, &host).unwrap_or_else(|e| panic!("{e}"));
        accepted += 1;
        if case.len() > case.target.block_size {
            let mut short = sqe;
            let range = short.block_range();
            short.set_block_range(BlockRange::new(range.slba(), range.blocks() - 1).unwrap());
            assert!(matches!(
                case.check(&short, &host),
                Err(DriverFinding::WrongLength { .. })
            ));
        }
        let mut longer = case.clone();
        longer
            .extents
            .push(Extent::new(0x7000_0000, case.target.block_size));
        let mut more = sqe;
        let range = more.block_range();
        more.set_block_range(BlockRange::new(range.slba(), range.blocks() + 1).unwrap());
        assert!(longer.check(&more, &host).is_err());
    }
    assert!(accepted > 100, "{accepted} requests built and accepted");
}

/// A profile with one SGL leniency sends SGLs through the QEMU-style mapper with the
/// specification's checks otherwise: on every valid and near-valid case whose rule is not
/// that leniency's, it must answer as the strict walker does.
#[test]
fn one_sgl_leniency_answers_every_other_case_as_strict() {
    let lenient = Profile::STRICT.with(Deviation::SglSubtypeIgnored);
    let mut compared = 0;
    for bytes in inputs(3000) {
        let Ok(case) = DataPointerCase::generate(&mut Unstructured::new(&bytes), &Target::DEFAULT)
        else {
            continue;
        };
        let subtype_rule = matches!(case.label, Label::NearValid(Rule::SglCapability));
        if matches!(case.label, Label::Hostile(_)) || subtype_rule {
            continue;
        }
        let strict = case.expected(Profile::STRICT);
        let one = case.expected(lenient);
        let same = match (&strict.outcome, &one.outcome) {
            // The mapper does not merge PRP pieces: compare what they cover.
            (Outcome::Moves(a), Outcome::Moves(b)) => merged(a) == merged(b),
            (a, b) => a == b,
        };
        assert!(
            same,
            "{case}: strict {:?}, {lenient} {:?}",
            strict.outcome, one.outcome
        );
        compared += 1;
    }
    assert!(compared > 2000, "{compared}");
}
