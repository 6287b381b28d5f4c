//! The planted examples (`src/planted/`) judged by the fuzzing kit over fixed inputs, with
//! each bug in and out, on any toolchain: the kit's checkers catch each bug, catch nothing
//! once it is out, and what they catch is the case the bug is about. The fuzz targets
//! `kit_emulator` and `kit_driver` run the same harness under libFuzzer
//! (`scripts/fuzz.sh planted`).

use arbitrary::{Arbitrary, Unstructured};
use nvme_dma::controller::Profile;
use nvme_dma::fuzzkit::{DataPointerCase, DriverCase, Hostile, Label, Shape, Target, MAX_BLOCKS};
use nvme_dma::spec::{SglSupport, Sgls};
use nvme_dma::{Direction, PageSize, SimMemory};
use nvme_dma_fuzz::planted::driver::Driver;
use nvme_dma_fuzz::planted::emulator::Emulator;

/// `n` byte strings of assorted lengths from a fixed seed.
fn inputs(n: usize) -> impl Iterator<Item = Vec<u8>> {
    nvme_dma_testkit::pattern::byte_strings(0x706c_616e_7465_6421u64, n, 32, 1024)
}

/// The `kit_emulator` target's harness: the case, and the checker's finding if any.
fn emulator_case(data: &[u8], planted: bool) -> Option<(DataPointerCase, Result<(), String>)> {
    let mut u = Unstructured::new(data);
    let target = Target {
        page_size: PageSize::from_mps(u.int_in_range(0..=2).ok()?)?,
        sgls: Sgls::from_support(SglSupport::None),
        ..Target::DEFAULT
    };
    let case = DataPointerCase::generate(&mut u, &target).ok()?;
    let mut memory = SimMemory::new();
    case.map_into(&mut memory);
    case.image.write_to(&mut memory).ok()?;
    let mut emulator = Emulator::new(target.page_size, target.block_size, MAX_BLOCKS.into());
    emulator.planted = planted;
    let before = emulator.media.clone();
    let status = emulator.submit(&case.sqe(1, 0), &mut memory);
    let expected = case.expected(Profile::STRICT);
    let len = case.data_len() as usize;
    let verdict = match case.direction {
        Direction::Read => case.check_read(&expected, status, &before[..len], &memory),
        Direction::Write => {
            case.check_write(&expected, status, &emulator.media[..len], &before[..len])
        }
    };
    Some((case, verdict))
}

#[test]
fn the_emulator_agrees_with_the_oracle_without_its_bug_and_not_with_it() {
    let (mut cases, mut exactly_full, mut failing, mut found) = (0, 0, 0, 0);
    for bytes in inputs(3000) {
        let Some((case, clean)) = emulator_case(&bytes, false) else {
            continue;
        };
        clean.unwrap_or_else(|finding| panic!("without the bug: {finding}"));
        cases += 1;
        if !matches!(
            case.expected(Profile::STRICT).outcome,
            nvme_dma::fuzzkit::Outcome::Moves(_)
        ) {
            failing += 1;
        }
        let (_, planted) = emulator_case(&bytes, true).unwrap();
        if case.label == Label::Valid(Shape::PrpListExactlyFull) {
            exactly_full += 1;
            // Every exactly full list gets its last data page read as a list.
            planted
                .as_ref()
                .expect_err("the planted bug on an exactly full list");
        }
        if let Err(finding) = planted {
            found += 1;
            // A valid case the bug changes is always an exactly full list.
            if let Label::Valid(shape) = case.label {
                assert_eq!(shape, Shape::PrpListExactlyFull, "{finding}");
            }
        }
    }
    eprintln!("{cases} cases, {failing} refused, {exactly_full} exactly full, {found} findings");
    // The inputs reach every kind of answer: success, refusal, and the bug's case.
    assert!(cases > 2500, "{cases} cases");
    assert!(failing > 300, "{failing} refused cases");
    assert!(exactly_full > 50, "{exactly_full} exactly full lists");
    assert!(found >= exactly_full, "{found} findings");
}

#[test]
fn the_driver_passes_the_checker_without_its_bug_and_not_with_it() {
    let (mut built, mut partial_tail, mut found) = (0, 0, 0);
    for bytes in inputs(8000) {
        let Ok(case) = DriverCase::arbitrary(&mut Unstructured::new(&bytes)) else {
            continue;
        };
        let mut driver = Driver::new(case.target.page_size, case.target.block_size);
        driver.planted = false;
        let Some(clean) = driver.build(&case.extents, case.direction, &case.descriptor_pages)
        else {
            continue;
        };
        let mut memory = SimMemory::new();
        clean.write_lists(&mut memory).unwrap();
        case.check(&clean.sqe, &memory)
            .unwrap_or_else(|finding| panic!("without the bug: {finding}"));
        built += 1;

        driver.planted = true;
        let planted = driver
            .build(&case.extents, case.direction, &case.descriptor_pages)
            .unwrap();
        let mut memory = SimMemory::new();
        planted.write_lists(&mut memory).unwrap();
        let verdict = case.check(&planted.sqe, &memory);
        // The bug shows exactly when a list is needed (over two pages) and the transfer ends
        // inside a page.
        let page = case.target.page_size;
        let first = case.extents[0].addr;
        let pages = (page.offset_of(first) + case.len()).div_ceil(page.bytes());
        let end = case.extents.last().and_then(|e| e.end()).unwrap();
        let shows = pages > 2 && !page.is_aligned(end);
        assert_eq!(verdict.is_err(), shows, "{case:x?}: {verdict:?}");
        partial_tail += usize::from(shows);
        found += usize::from(verdict.is_err());
    }
    eprintln!("{built} built, {partial_tail} with a partial tail, {found} findings");
    assert!(built > 300, "{built} requests built");
    assert!(
        partial_tail > 50,
        "{partial_tail} requests with a partial last page"
    );
    assert_eq!(found, partial_tail);
}

/// Whether a case is the one a seed is wanted for.
type IsIt = fn(&DataPointerCase) -> bool;

/// Seeds for the classic cases, found by search: byte strings from a fixed stream, decoded
/// as `DataPointerCase::arbitrary` decodes them, until each case wanted is made. FUZZING.md
/// shows the same search writing a target's corpus.
fn classic_seeds() -> Vec<(&'static str, Vec<u8>)> {
    let offset_list = |c: &DataPointerCase| {
        let prp2 = u64::from_le_bytes(c.dptr[8..16].try_into().unwrap());
        let list = matches!(
            c.label,
            Label::Valid(Shape::PrpList | Shape::PrpListExactlyFull | Shape::PrpChainedLists)
        );
        list && c.target.page_size.offset_of(prp2) != 0
    };
    let wanted: [(&str, IsIt); 6] = [
        ("exactly-full-prp-list", |c| {
            c.label == Label::Valid(Shape::PrpListExactlyFull)
        }),
        ("offset-list-pointer", offset_list),
        ("self-referencing-segment", |c| {
            c.label == Label::Hostile(Hostile::SelfReferencingSegment)
        }),
        ("segments-without-data", |c| {
            c.label == Label::Hostile(Hostile::SegmentsWithoutData)
        }),
        ("empty-data-block", |c| {
            c.label == Label::Valid(Shape::SglEmptyDataBlock)
        }),
        ("length-wraps-2-64", |c| {
            c.label == Label::Hostile(Hostile::LengthWrapsAddressSpace)
        }),
    ];
    let mut seeds = Vec::new();
    for (name, is_it) in wanted {
        let found = inputs(20_000).find(|bytes| {
            DataPointerCase::arbitrary(&mut Unstructured::new(bytes)).is_ok_and(|c| is_it(&c))
        });
        if let Some(bytes) = found {
            seeds.push((name, bytes));
        }
    }
    seeds
}

#[test]
fn seeds_for_the_classic_cases_are_found_by_search() {
    let seeds = classic_seeds();
    let names: Vec<&str> = seeds.iter().map(|(name, _)| *name).collect();
    assert_eq!(names.len(), 6, "found only {names:?}");
    // A seed decodes to the same case every time.
    for (name, bytes) in &seeds {
        let a = DataPointerCase::arbitrary(&mut Unstructured::new(bytes)).unwrap();
        let b = DataPointerCase::arbitrary(&mut Unstructured::new(bytes)).unwrap();
        assert_eq!(a, b, "{name}");
    }
}
