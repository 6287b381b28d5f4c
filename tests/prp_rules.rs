//! One test per PRP rule (NVMe Base Specification 2.1, 4.3.1) and per failure class real
//! drivers and emulators have shipped that touches PRPs, each with the exact error or status
//! expected.

use nvme_dma::memory::AccessKind;
use nvme_dma::prp::geometry::list_slots_read;
use nvme_dma::prp::{BuildError, Prp2, PrpBuilder, PrpListPage, PrpPair, PrpWalker, WalkError};
use nvme_dma::spec::Status;
use nvme_dma::walk::{Progress, Walk};
use nvme_dma::{Extent, PageSize, Piece, SimMemory};
use nvme_dma_testkit::oracle::*;
use nvme_dma_testkit::pattern::*;

const PS: PageSize = PageSize::SIZE_4K;
const P: u64 = 4096;

fn builder() -> PrpBuilder {
    PrpBuilder::new(PS)
}

/// Build, walk and compare data for one contiguous extent of `pages` whole pages.
fn round_trip_contiguous(pages: u64, list_offset: u64) -> (Vec<Extent>, SimMemory, u64) {
    let extents = [Extent::new(0x10_0000_0000, pages * P)];
    let mut mem = SimMemory::new();
    fill_extents(&mut mem, &extents, 7);
    let layout = build_into(&builder(), &extents, list_offset, &mut mem).unwrap();
    mem.clear_log();
    let segments = walk(&layout, PS, &mem).unwrap();
    assert_eq!(gather(&mem, &segments), expected_bytes(7, pages * P));
    (segments, mem, layout.pair.prp2.raw())
}

// ---- Failure class: a list that exactly fills a page treated as chained ----

#[test]
fn exactly_512_list_entries_fill_one_page_without_a_chain() {
    // 513 pages: PRP1 + 512 list entries, which fill a 4 KiB list page exactly.
    let (segments, mem, prp2) = round_trip_contiguous(513, 0);
    assert_eq!(segments, [Extent::new(0x10_0000_0000, 513 * P)]);
    assert_eq!(
        mem.bytes_read(),
        512 * 8,
        "all 512 slots are data, none is a pointer"
    );
    assert_eq!(list_slots_read(PS, prp2, 512), 512);
}

#[test]
fn exactly_513_list_entries_chain_into_a_second_page() {
    let (_, mem, _) = round_trip_contiguous(514, 0);
    // 511 entries + 1 chain pointer in page one, 2 entries in page two.
    assert_eq!(mem.bytes_read(), 514 * 8);
    let reads: Vec<_> = mem
        .accesses()
        .into_iter()
        .map(|a| (a.addr, a.len))
        .collect();
    assert!(
        reads.iter().any(|&(a, _)| a == LIST_REGION + 2 * P),
        "second list page read"
    );
}

#[test]
fn two_full_chained_pages_then_exact_fill() {
    // 511 + 512 = 1023 entries fit two list pages exactly; 1024 need a third.
    let (_, mem, _) = round_trip_contiguous(1024, 0);
    assert_eq!(mem.bytes_read(), (1023 + 1) * 8);
    let (_, mem, _) = round_trip_contiguous(1025, 0);
    assert_eq!(mem.bytes_read(), (1024 + 2) * 8);
}

// ---- Failure class: a PRP2 list pointer with an offset read past its page ----

#[test]
fn list_pointer_with_offset_stops_at_its_page_end() {
    // The list pointer sits 0xf00 into its page: 32 slots, then it must chain.
    let (_, mem, prp2) = round_trip_contiguous(40, 0xf00);
    assert_eq!(prp2, LIST_REGION + 0xf00);
    let page_end = LIST_REGION + P;
    for a in mem.accesses() {
        let inside_first = a.addr >= prp2 && a.addr + a.len <= page_end;
        let inside_second = a.addr >= LIST_REGION + 2 * P && a.addr + a.len <= LIST_REGION + 3 * P;
        assert!(
            inside_first || inside_second,
            "read {a:?} crosses a list page"
        );
    }
    assert_eq!(mem.bytes_read(), (39 + 1) * 8);
}

#[test]
fn list_pointer_whose_offset_leaves_one_slot() {
    // One slot left: with more than one entry it can only hold the chain pointer.
    let (_, mem, _) = round_trip_contiguous(3, P - 8);
    assert_eq!(mem.bytes_read(), 3 * 8, "chain + 2 entries");
    let plan = builder().plan([Extent::new(0, 3 * P)]).unwrap();
    assert_eq!(plan.list_pages_needed(P - 8), 2);
    assert_eq!(plan.list_pages_needed(0), 1);
}

// ---- Failure class: zero-length elements ----

#[test]
fn zero_length_extents_are_skipped_anywhere() {
    let extents = [
        Extent::new(0x3, 0), // unaligned but empty: constrains nothing
        Extent::new(0x1000, P),
        Extent::new(0x5555, 0),
        Extent::new(0x9000, 0x10),
    ];
    let plan = builder().plan(extents).unwrap();
    assert_eq!(
        (plan.len(), plan.pages(), plan.prp1()),
        (P + 0x10, 2, 0x1000)
    );
    assert_eq!(
        builder().plan([Extent::new(0, 0); 3]),
        Err(BuildError::EmptyTransfer)
    );
    assert_eq!(
        builder().plan::<[Extent; 0]>([]),
        Err(BuildError::EmptyTransfer)
    );
}

#[test]
fn zero_length_walk_reads_nothing() {
    let mem = SimMemory::new();
    let segments: Vec<_> = PrpWalker::new(0x1003, 0x5, 0, PS, &mem).extents().collect();
    assert!(segments.is_empty());
    assert_eq!(mem.read_count(), 0);
}

// ---- Failure class: middle extents that do not end on a page boundary ----

#[test]
fn middle_extent_ending_inside_a_page_is_refused() {
    let extents = [
        Extent::new(0x1000, P),
        Extent::new(0x4000, 0x800),
        Extent::new(0x8000, P),
    ];
    let err = builder().plan(extents).unwrap_err();
    assert_eq!(
        err,
        BuildError::EndInsidePage {
            index: 1,
            extent: extents[1],
            page_size: PS
        }
    );
    let text = err.to_string();
    for needle in [
        "extent 1",
        "0x4000+0x800",
        "0x4800",
        "Fix:",
        "0x5000",
        "split",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from: {text}");
    }
}

#[test]
fn later_extent_starting_inside_a_page_is_refused() {
    let extents = [Extent::new(0x1000, P), Extent::new(0x4200, P)];
    let err = builder().plan(extents).unwrap_err();
    assert!(matches!(err, BuildError::StartInsidePage { index: 1, .. }));
    let text = err.to_string();
    assert!(
        text.contains("0x200 bytes into") && text.contains("start it at 0x4000"),
        "{text}"
    );
}

#[test]
fn first_extent_must_be_dword_aligned() {
    let err = builder().plan([Extent::new(0x1002, 8)]).unwrap_err();
    assert!(matches!(
        err,
        BuildError::StartNotDwordAligned { index: 0, .. }
    ));
    assert!(err.to_string().contains("0x1002"));
    assert!(builder().build_inline(Extent::new(0x1001, 8)).is_err());
    // Any dword-aligned offset is fine for PRP1.
    assert!(builder().plan([Extent::new(0x1ffc, 4)]).is_ok());
}

// ---- Failure class: offsets silently masked instead of rejected (device side) ----

fn list_memory(entries: &[u64]) -> SimMemory {
    let mut mem = SimMemory::new();
    mem.map(LIST_REGION, 2 * P).unwrap();
    let bytes: Vec<u8> = entries.iter().flat_map(|e| e.to_le_bytes()).collect();
    mem.poke(LIST_REGION, &bytes).unwrap();
    mem
}

fn walk_err(prp1: u64, prp2: u64, len: u64, mem: &SimMemory) -> WalkError {
    PrpWalker::new(prp1, prp2, len, PS, mem)
        .extents()
        .find_map(Result::err)
        .expect("the walk must fail")
}

#[test]
fn list_entry_with_offset_is_prp_offset_invalid() {
    let mem = list_memory(&[0x2000, 0x3200]);
    let err = walk_err(0x1000, LIST_REGION, 3 * P, &mem);
    assert_eq!(
        err,
        WalkError::ListEntryOffset {
            slot: LIST_REGION + 8,
            entry: 0x3200
        }
    );
    assert_eq!(err.status(), Status::PRP_OFFSET_INVALID.with_dnr(true));
}

#[test]
fn prp2_data_pointer_with_offset_is_prp_offset_invalid() {
    let mem = SimMemory::new();
    let err = walk_err(0x1000, 0x2010, 2 * P, &mem);
    assert_eq!(err, WalkError::Prp2Offset { prp2: 0x2010 });
    assert_eq!(err.status(), Status::PRP_OFFSET_INVALID.with_dnr(true));
}

#[test]
fn prp1_with_bits_1_0_set_is_prp_offset_invalid() {
    let mem = SimMemory::new();
    let err = walk_err(0x1001, 0, 16, &mem);
    assert_eq!(err, WalkError::Prp1NotDwordAligned { prp1: 0x1001 });
    assert_eq!(err.status(), Status::PRP_OFFSET_INVALID.with_dnr(true));
}

#[test]
fn list_pointer_not_qword_aligned_is_prp_offset_invalid() {
    let mem = list_memory(&[0x2000, 0x3000]);
    let err = walk_err(0x1000, LIST_REGION + 4, 3 * P, &mem);
    assert_eq!(
        err,
        WalkError::ListPointerMisaligned {
            prp2: LIST_REGION + 4
        }
    );
    assert_eq!(mem.read_count(), 0, "nothing fetched through a bad pointer");
}

#[test]
fn chain_pointer_with_offset_is_prp_offset_invalid() {
    // PRP2 at the last slot: with 2 entries left, that slot is a chain pointer.
    let mut mem = list_memory(&[]);
    mem.poke(LIST_REGION + P - 8, &(LIST_REGION + P + 0x40).to_le_bytes())
        .unwrap();
    let err = walk_err(0x1000, LIST_REGION + P - 8, 3 * P, &mem);
    assert_eq!(
        err,
        WalkError::ChainPointerOffset {
            slot: LIST_REGION + P - 8,
            entry: LIST_REGION + P + 0x40
        }
    );
}

#[test]
fn unreadable_list_is_data_transfer_error() {
    let mem = SimMemory::new(); // nothing mapped
    let err = walk_err(0x1000, 0x8000, 3 * P, &mem);
    assert_eq!(
        err,
        WalkError::ListFetchFault {
            addr: 0x8000,
            len: 16
        }
    );
    assert_eq!(err.status(), Status::DATA_TRANSFER_ERROR.with_dnr(true));
    assert!(err.to_string().contains("Data Transfer Error"), "{err}");
}

#[test]
fn prp2_ignored_within_one_page_and_prp1_zero_is_legal() {
    let mem = SimMemory::new();
    // PRP1 = 0 is an ordinary address; PRP2 is not even looked at for a one-page transfer.
    let segments: Vec<_> = PrpWalker::new(0, 0xdead_beef, P, PS, &mem)
        .extents()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(segments, [Extent::new(0, P)]);
    let pair = builder().build_inline(Extent::new(0, P)).unwrap();
    assert_eq!(
        pair,
        PrpPair {
            prp1: 0,
            prp2: Prp2::Unused
        }
    );
    assert_eq!(pair.prp2.raw(), 0);
}

#[test]
fn self_referencing_list_is_bounded_by_the_length() {
    // Every slot is 0 (a legal page address); the chain pointer points back at the list page.
    let mut mem = list_memory(&[]);
    mem.poke(LIST_REGION + P - 8, &LIST_REGION.to_le_bytes())
        .unwrap();
    let len = 4000 * P;
    let segments: Vec<_> = PrpWalker::new(0x1000, LIST_REGION, len, PS, &mem)
        .extents()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(segments.iter().map(|s| s.len).sum::<u64>(), len);
    assert_eq!(mem.bytes_read(), 8 * list_slots_read(PS, LIST_REGION, 3999));
}

// ---- Failure class: descriptor memory sized from an undercount and overrun ----

#[test]
fn too_few_list_pages_is_refused_before_writing() {
    let extents = [Extent::new(0x10_0000, 600 * P)];
    let mut page = [0xa5u8; 4096];
    let err = builder()
        .build(&extents, &mut [PrpListPage::new(0x8_0000, &mut page)])
        .unwrap_err();
    assert_eq!(
        err,
        BuildError::ListMemoryTooSmall {
            needed: 2,
            given: 1
        }
    );
    assert!(page.iter().all(|&b| b == 0xa5), "nothing written on error");
}

#[test]
fn a_short_list_buffer_cannot_chain() {
    // A 256-byte pool block holds 32 slots and cannot reach its page's last slot.
    let plan = builder().plan([Extent::new(0x10_0000, 40 * P)]).unwrap();
    assert_eq!(plan.list_pages_needed(0x8_0000), 1);
    let mut small = [0xa5u8; 256];
    let mut second = [0xa5u8; 4096];
    let err = builder()
        .build(
            [Extent::new(0x10_0000, 40 * P)],
            &mut [
                PrpListPage::new(0x8_0000, &mut small),
                PrpListPage::new(0x9_0000, &mut second),
            ],
        )
        .unwrap_err();
    assert_eq!(
        err,
        BuildError::ListPageTooSmall {
            page: 0,
            slots: 32,
            required: 39
        }
    );
    assert!(small.iter().chain(second.iter()).all(|&b| b == 0xa5));
    // The same block is fine when the list fits it.
    let mut small = [0u8; 256];
    let layout = builder()
        .build(
            [Extent::new(0x10_0000, 33 * P)],
            &mut [PrpListPage::new(0x8_0f00, &mut small)],
        )
        .unwrap();
    assert_eq!(layout.pair.prp2.raw(), 0x8_0f00);
}

#[test]
fn builder_never_writes_past_its_buffers() {
    let mut arena = [0xa5u8; 3 * 4096];
    let (first, rest) = arena.split_at_mut(4096);
    let (second, guard) = rest.split_at_mut(4096);
    builder()
        .build(
            [Extent::new(0x10_0000, 700 * P)],
            &mut [
                PrpListPage::new(0x8_0000, first),
                PrpListPage::new(0x9_0000, second),
            ],
        )
        .unwrap();
    assert!(guard.iter().all(|&b| b == 0xa5));
    // Entries 0..511 in page one, then the pointer to page two in the last slot.
    assert_eq!(arena[..8], 0x10_1000u64.to_le_bytes());
    assert_eq!(arena[4088..4096], 0x9_0000u64.to_le_bytes());
    assert_eq!(arena[4096..4104], (0x10_1000u64 + 511 * P).to_le_bytes());
    // 699 entries: 511 in page one, 188 in page two, the rest of page two untouched.
    assert_eq!(arena[4096 + 188 * 8..4096 + 189 * 8], [0xa5; 8]);
}

#[test]
fn misaligned_list_pages_are_refused() {
    let extents = [Extent::new(0x10_0000, 600 * P)];
    let (mut a, mut b) = ([0u8; 4096], [0u8; 4096]);
    let err = builder()
        .build(&extents, &mut [PrpListPage::new(0x8_0004, &mut a)])
        .unwrap_err();
    assert!(matches!(
        err,
        BuildError::ListPageMisaligned { page: 0, .. }
    ));
    let err = builder()
        .build(
            &extents,
            &mut [
                PrpListPage::new(0x8_0000, &mut a),
                PrpListPage::new(0x9_0008, &mut b),
            ],
        )
        .unwrap_err();
    assert!(matches!(
        err,
        BuildError::ListPageMisaligned {
            page: 1,
            addr: 0x9_0008,
            ..
        }
    ));
    assert!(err.to_string().contains("offset 0"), "{err}");
}

// ---- Failure class: lengths that wrap past 2^64 ----

#[test]
fn extent_past_the_top_of_memory_is_refused() {
    let over = Extent::new(u64::MAX - 0xfff, 0x1001);
    let err = builder().plan([over]).unwrap_err();
    assert_eq!(
        err,
        BuildError::AddressOverflow {
            index: 0,
            extent: over
        }
    );
    assert!(builder().build_inline(over).is_err());
    // Ending exactly at 2^64 is fine, and walks back.
    let top = [Extent::new(u64::MAX - 0x1fff, 0x2000)];
    let layout = builder().build(top, &mut []).unwrap();
    let mem = SimMemory::new();
    assert_eq!(walk(&layout, PS, &mem).unwrap(), top);
}

#[test]
fn total_length_that_overflows_is_refused() {
    let huge = [Extent::new(0, 1 << 63), Extent::new(1 << 63, 1 << 63)];
    // Each fits the address space and the rules hold, but together they exceed u64.
    let err = builder().plan(huge).unwrap_err();
    assert!(matches!(err, BuildError::TransferTooLong { .. }), "{err:?}");
}

#[test]
fn maximum_transfer_and_one_byte_more() {
    let mdts = builder().with_max_transfer(128 * 1024);
    assert!(mdts.plan([Extent::new(0, 128 * 1024)]).is_ok());
    assert_eq!(
        mdts.plan([Extent::new(0, 128 * 1024 + 4)]),
        Err(BuildError::TransferTooLong {
            len: 128 * 1024 + 4,
            max: 128 * 1024
        })
    );
}

// ---- The fast path ----

#[test]
fn short_path_covers_one_and_two_pages_only() {
    let b = builder();
    assert_eq!(
        b.build_inline(Extent::new(0x1ff0, 0x10)).unwrap().prp2,
        Prp2::Unused
    );
    assert_eq!(
        b.build_inline(Extent::new(0x1ff0, 0x11)).unwrap().prp2,
        Prp2::Page(0x2000)
    );
    assert_eq!(
        b.build_inline(Extent::new(0x1000, 2 * P)).unwrap().prp2,
        Prp2::Page(0x2000)
    );
    assert_eq!(
        b.build_inline(Extent::new(0x1004, 2 * P)),
        Err(BuildError::NotShort { pages: 3 })
    );
    // And agrees with the general builder, which also needs no list memory here.
    for e in [Extent::new(0x1ff0, 0x11), Extent::new(0x3000, 0x1000)] {
        assert_eq!(
            b.build([e], &mut []).unwrap().pair,
            b.build_inline(e).unwrap()
        );
    }
}

#[test]
fn two_extents_within_two_pages_use_prp2_as_data() {
    let extents = [Extent::new(0x1800, 0x800), Extent::new(0x7000, 0x100)];
    let layout = builder().build(&extents, &mut []).unwrap();
    assert_eq!(
        layout.pair,
        PrpPair {
            prp1: 0x1800,
            prp2: Prp2::Page(0x7000)
        }
    );
    let mem = SimMemory::new();
    assert_eq!(walk(&layout, PS, &mem).unwrap(), extents);
}

#[test]
fn larger_page_sizes_round_trip() {
    for ps in [PageSize::SIZE_64K, PageSize::from_mps(9).unwrap()] {
        let p = ps.bytes();
        let extents = [
            Extent::new(p - 64, 64),
            Extent::new(5 * p, 3 * p),
            Extent::new(p << 8, 100),
        ];
        let mut mem = SimMemory::new();
        fill_extents(&mut mem, &extents, 3);
        let layout = build_into(&PrpBuilder::new(ps), &extents, 8, &mut mem).unwrap();
        let segments = walk(&layout, ps, &mem).unwrap();
        assert_eq!(gather(&mem, &segments), expected_bytes(3, 64 + 3 * p + 100));
        assert!(mem
            .accesses()
            .iter()
            .all(|a| a.kind == AccessKind::Read || a.kind == AccessKind::Write));
    }
}

#[test]
fn split_refuses_a_boundary_inside_a_block() {
    // Extent 0 ends 256 bytes into a page: a cut is forced at byte 256, inside a 512-byte block.
    let extents = [Extent::new(0x1000, 0x100), Extent::new(0x5000, 0x100)];
    let err = builder().split(&extents, 512).unwrap_err();
    assert_eq!(
        err,
        BuildError::BoundaryInsideBlock {
            index: 0,
            extent: extents[0],
            at: 256,
            block_size: 512
        }
    );
    assert!(err.to_string().contains("bounce buffer"));
    assert!(matches!(
        builder().split(&extents, 3),
        Err(BuildError::InvalidBlockSize { .. })
    ));
    assert!(matches!(
        builder().split(&[Extent::new(0, 1000)], 512),
        Err(BuildError::NotBlockMultiple {
            len: 1000,
            block_size: 512
        })
    ));
}

#[test]
fn split_cuts_long_runs_at_the_maximum_transfer() {
    let b = builder().with_max_transfer(128 * 1024);
    let extents = [Extent::new(0x10_0200, 1024 * 1024)];
    let split = b.split(&extents, 512).unwrap();
    assert_eq!(split.commands(), 8);
    let chunks: Vec<_> = split.collect();
    assert!(chunks.iter().all(|c| c.len == 128 * 1024));
    let third: Vec<Extent> = chunks[2].extents(&extents).collect();
    assert_eq!(third, [Extent::new(0x10_0200 + 256 * 1024, 128 * 1024)]);
}

#[test]
fn fill_agrees_with_the_iterator_for_any_output_size() {
    // Scattered pages (nothing merges) then a contiguous run, through a chained list.
    let mut extents: Vec<Extent> = (0..600u64)
        .map(|i| Extent::new((2 * i + 1) * P, P))
        .collect();
    extents.push(Extent::new(0x100_0000, 300 * P));
    let mut mem = SimMemory::new();
    let layout = build_into(&builder(), &extents, 0x10, &mut mem).unwrap();
    let expected = walk(&layout, PS, &mem).unwrap();
    assert_eq!(expected, normalize(&extents));
    for size in [1usize, 2, 7, 64, 1000] {
        let mut walker = PrpWalker::new(
            layout.pair.prp1,
            layout.pair.prp2.raw(),
            layout.plan.len(),
            PS,
            &mem,
        );
        let mut out = vec![Piece::Skip(0); size];
        let mut got = Vec::new();
        let mut calls = 0;
        loop {
            let progress = walker.fill(&mut out).unwrap();
            calls += 1;
            assert!(
                progress.written > 0 || progress.done,
                "fill made no progress"
            );
            got.extend(out[..progress.written].iter().map(|p| p.data().unwrap()));
            if progress.done {
                break;
            }
        }
        assert_eq!(got, expected, "output size {size}");
        if size >= expected.len() {
            assert_eq!(calls, 1, "a walk that fits out ends in one call");
        }
        assert_eq!(
            walker.fill(&mut out),
            Ok(Progress::FINISHED),
            "a finished walk stays finished"
        );
    }
    // An error ends the walk: fill reports it once, then nothing more.
    let bad = list_memory(&[0x2000, 0x3008]);
    let mut walker = PrpWalker::new(0x1000, LIST_REGION, 3 * P, PS, &bad);
    let mut out = [Piece::Skip(0); 8];
    assert!(matches!(
        walker.fill(&mut out),
        Err(WalkError::ListEntryOffset { .. })
    ));
    assert_eq!(walker.fill(&mut out), Ok(Progress::FINISHED));
    // An empty out is left alone: nothing read, the walk not advanced.
    let mut walker = PrpWalker::new(0x1000, LIST_REGION, 3 * P, PS, &bad);
    let reads = bad.read_count();
    assert_eq!(
        walker.fill(&mut []),
        Ok(Progress {
            written: 0,
            done: false
        })
    );
    assert_eq!(bad.read_count(), reads);
}

#[test]
fn iterator_and_fill_yield_the_same_pieces() {
    let extents: Vec<Extent> = (0..100u64)
        .map(|i| Extent::new((3 * i + 1) * P, P))
        .collect();
    let mut mem = SimMemory::new();
    let layout = build_into(&builder(), &extents, 0, &mut mem).unwrap();
    let walker = || {
        PrpWalker::new(
            layout.pair.prp1,
            layout.pair.prp2.raw(),
            layout.plan.len(),
            PS,
            &mem,
        )
    };
    let iterated: Vec<Extent> = walker().extents().map(Result::unwrap).collect();
    assert_eq!(iterated, extents);
    let mut filled = Vec::new();
    let mut w = walker();
    let mut out = [Piece::Skip(0); 7];
    loop {
        let progress = w.fill(&mut out).unwrap();
        filled.extend(out[..progress.written].iter().map(|p| p.data().unwrap()));
        if progress.done {
            break;
        }
    }
    assert_eq!(filled, iterated);
}

#[test]
fn the_answer_does_not_depend_on_the_room_out_has() {
    // 100 scattered pages. The list starts 0x200 before the end of its page, so 63 entries and
    // a chain pointer fit there; the page it chains to is not in memory, so the batch of the
    // last 36 entries faults, whatever part of it a walk with little room would read first.
    let mut mem = SimMemory::new();
    let list = LIST_REGION + P - 0x200;
    mem.map(LIST_REGION, P).unwrap();
    let entries: Vec<u64> = (1..=99u64).map(|i| (2 * i + 1) * P).collect();
    let bytes: Vec<u8> = entries.iter().flat_map(|e| e.to_le_bytes()).collect();
    mem.poke(list, &bytes[..0x200]).unwrap();
    let walk = |mem: &SimMemory, room: usize| {
        let mut walker = PrpWalker::new(P, list, 100 * P, PS, mem);
        let mut out = vec![Piece::Skip(0); room];
        loop {
            match walker.fill(&mut out) {
                Ok(progress) if progress.done => return Ok(()),
                Ok(_) => {}
                Err(e) => return Err(e),
            }
        }
    };
    let fault = walk(&mem, 4096).unwrap_err();
    assert!(matches!(fault, WalkError::ListFetchFault { .. }), "{fault}");
    for room in 1..=80 {
        assert_eq!(walk(&mem, room), Err(fault), "room {room}");
    }
    // An entry with an offset before the fault is what every walk reports.
    mem.poke(list + 3 * 8, &(9 * P + 0x10).to_le_bytes())
        .unwrap();
    for room in [1, 2, 5, 64, 4096] {
        assert!(
            matches!(walk(&mem, room), Err(WalkError::ListEntryOffset { .. })),
            "room {room}"
        );
    }
}
