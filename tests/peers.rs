//! The peers' ports (`benches/peers`) against the crate, on every case the per-command
//! benchmarks time: before a ratio means anything, both sides must produce the same thing.
//!
//! * Builds: PRP1, PRP2 and the list memory byte for byte (each side writing into zeroed
//!   memory at the same bus address, so stray writes show too); SGL1 and the segment bytes.
//! * Walks: the pieces found, merged where physically adjacent on both sides (QEMU's
//!   `qemu_sglist_add` never merges; the crate always does), and equal to the buffer itself.
//!
//! Where a peer legitimately differs, the test pins the difference down instead.

#[path = "../benches/peers/mod.rs"]
mod peers;

use nvme_dma::{Piece, SliceMemory};

use peers::cases::{Case, Shape, LINUX_PAGE_POOL, LINUX_SMALL_POOL, LIST_BASE, PAGE, SPDK_TRACKER};
use peers::pairs::{self, spdk_payload, spdk_qpair};
use peers::{linux, ours, qemu, spdk, words_to_bytes};

fn linux_dev(sgl: bool) -> linux::Dev {
    let mut dev = linux::Dev::new(LINUX_PAGE_POOL, LINUX_SMALL_POOL, 8);
    dev.sgl_supported = sgl;
    dev
}

/// What a Linux setup wrote, in the crate's terms: the command's two quadwords and the first
/// list block (or, when none was taken, an empty list).
fn linux_out(
    dev: &linux::Dev,
    iod: &linux::Iod,
    cmd: &linux::RwCommand,
) -> (u64, u64, Option<Vec<u8>>) {
    let block = linux::first_block(dev, iod);
    (
        cmd.dptr[0],
        cmd.dptr[1],
        (!block.is_empty()).then(|| words_to_bytes(block)),
    )
}

/// The crate's PRPs with the list where Linux put its list (same address, same size).
fn crate_prps_like(case: &Case, list_addr: u64, list_len: usize) -> (ours::PrpOut, ours::PrpOut) {
    let built = ours::prp_build_out(&case.extents, list_addr, list_len.max(8)).expect("build");
    let filled = ours::fill_sqe_prp_out(&case.extents, list_addr, list_len.max(8)).expect("fill");
    (built, filled)
}

/// Where two byte buffers first differ, for a readable failure.
fn first_difference(a: &[u8], b: &[u8]) -> Option<usize> {
    (0..a.len().max(b.len())).find(|&i| a.get(i) != b.get(i))
}

/// The crate's PRPs against a peer's: PRP1, PRP2, and, when the peer used a list (`list` is
/// `Some`), the list memory byte for byte; when it did not, the crate must not have written
/// one either.
fn check_crate_prps(
    case: &Case,
    peer: (u64, u64, Option<Vec<u8>>),
    ours: &ours::PrpOut,
    what: &str,
) {
    let (prp1, prp2, list) = peer;
    let name = format!("{what} {:?} {}", case.shape, case.size);
    assert_eq!(ours.prp1, prp1, "{name}: PRP1");
    assert_eq!(ours.prp2, prp2, "{name}: PRP2");
    match list {
        Some(list) => assert_eq!(
            first_difference(&ours.list, &list),
            None,
            "{name}: list bytes differ"
        ),
        None => assert!(
            ours.list.iter().all(|&b| b == 0),
            "{name}: crate wrote a list"
        ),
    }
}

#[test]
fn linux_map_data_prps_match_the_crate() {
    for case in Case::all() {
        let mut dev = linux_dev(false);
        let mut iod = linux::Iod::default();
        let mut cmd = linux::RwCommand::default();
        let st = linux::nvme_map_data(&mut dev, &mut iod, &mut cmd, &case.extents, case.len as u32);
        assert_eq!(st, linux::BlkStatus::Ok, "{case:?}");
        let out = linux_out(&dev, &iod, &cmd);
        let list_len = out.2.as_ref().map_or(0, Vec::len);
        let list_addr = if list_len > 0 { out.1 } else { LIST_BASE };
        let (built, filled) = crate_prps_like(&case, list_addr, list_len);
        check_crate_prps(
            &case,
            out.clone(),
            &built,
            "PrpBuilder::build vs nvme_map_data",
        );
        check_crate_prps(&case, out, &filled, "fill_sqe vs nvme_map_data");
        linux::nvme_unmap_data(&mut dev, &iod);
    }
}

#[test]
fn linux_setup_prps_matches_the_crate() {
    for case in Case::all() {
        let mut dev = linux_dev(false);
        let mut iod = linux::Iod::default();
        let mut cmd = linux::RwCommand::default();
        let st = linux::nvme_pci_setup_prps(
            &mut dev,
            &mut iod,
            &mut cmd,
            &case.extents,
            case.len as u32,
        );
        assert_eq!(st, linux::BlkStatus::Ok, "{case:?}");
        let out = linux_out(&dev, &iod, &cmd);
        let list_len = out.2.as_ref().map_or(0, Vec::len);
        let list_addr = if list_len > 0 { out.1 } else { LIST_BASE };
        let (built, _) = crate_prps_like(&case, list_addr, list_len);
        check_crate_prps(
            &case,
            out,
            &built,
            "PrpBuilder::build vs nvme_pci_setup_prps",
        );
    }
}

/// The small pool serves lists of up to 32 entries, the page pool longer ones: both appear.
#[test]
fn linux_prp_cases_use_both_pools() {
    let mut npages = Vec::new();
    for case in Case::all() {
        let mut dev = linux_dev(false);
        let mut iod = linux::Iod::default();
        let mut cmd = linux::RwCommand::default();
        linux::nvme_pci_setup_prps(&mut dev, &mut iod, &mut cmd, &case.extents, case.len as u32);
        npages.push(iod.npages);
    }
    assert!(npages.contains(&0) && npages.contains(&1) && npages.contains(&-1));
}

/// Linux's SGL setup (forced, as `sgl_threshold=1` would) against the crate's builder: equal
/// up to 255 descriptors. At 256 Linux writes a Segment descriptor, not a Last Segment, for a
/// page holding data descriptors alone; the driver never gets there (NVME_MAX_SEGS is 127).
#[test]
fn linux_setup_sgls_matches_the_crate_below_256_descriptors() {
    for case in Case::all() {
        let mut dev = linux_dev(true);
        let mut iod = linux::Iod::default();
        let mut cmd = linux::RwCommand::default();
        let entries = case.extents.len();
        let st = linux::nvme_pci_setup_sgls(&mut dev, &mut iod, &mut cmd, &case.extents, entries);
        assert_eq!(st, linux::BlkStatus::Ok);
        let sgl1 = peers::sgl_bytes(cmd.dptr);
        let block = words_to_bytes(linux::first_block(&dev, &iod));
        let seg_addr = if block.is_empty() {
            LIST_BASE
        } else {
            iod.first_dma
        };
        let ours = ours::sgl_build_out(&case.extents, seg_addr, block.len().max(16)).unwrap();
        if entries < linux::SGES_PER_PAGE {
            assert_eq!(ours.sgl1, sgl1, "{case:?}: SGL1");
            if !block.is_empty() {
                assert_eq!(
                    first_difference(&ours.segment, &block),
                    None,
                    "{case:?}: segment bytes"
                );
            }
        } else {
            assert_eq!(sgl1[15] >> 4, linux::NVME_SGL_FMT_SEG_DESC);
            assert_eq!(ours.sgl1[15] >> 4, linux::NVME_SGL_FMT_LAST_SEG_DESC);
            assert_eq!(
                first_difference(&ours.segment, &block),
                None,
                "{case:?}: the descriptors still agree"
            );
        }
    }
}

/// Linux's choice between PRPs and an SGL (SGLs supported, `sgl_threshold` 32 KiB):
/// `SglPolicy::LINUX` makes Linux's choice and Linux's layout on every case: PRPs for one
/// segment within two pages, one Data Block for one longer segment (`nvme_setup_sgl_simple`,
/// whatever the threshold), the average-segment threshold for scatter lists.
#[test]
fn linux_sgl_choice_matches_the_crate_policy() {
    for case in Case::all() {
        let mut dev = linux_dev(true);
        let mut iod = linux::Iod::default();
        let mut cmd = linux::RwCommand::default();
        let st = linux::nvme_map_data(&mut dev, &mut iod, &mut cmd, &case.extents, case.len as u32);
        assert_eq!(st, linux::BlkStatus::Ok, "{case:?}");
        let linux_sgl = cmd.flags == linux::NVME_CMD_SGL_METABUF;
        let block = words_to_bytes(linux::first_block(&dev, &iod));
        let addr = if block.is_empty() {
            LIST_BASE
        } else {
            iod.first_dma
        };
        // Room for a list when Linux took no block (the crate may want one where Linux did not).
        let len = if block.is_empty() {
            PAGE as usize
        } else {
            block.len()
        };
        let (sgl, dptr, memory) = ours::fill_sqe_linux_out(&case.extents, addr, len).expect("fill");

        assert_eq!(sgl, linux_sgl, "{case:?}: PSDT");
        // DPTR's 16 bytes: PRP1 and PRP2, or SGL1.
        let linux_dptr = peers::sgl_bytes(cmd.dptr);
        assert_eq!(dptr, linux_dptr, "{case:?}: DPTR");
        if !block.is_empty() {
            assert_eq!(
                first_difference(&memory, &block),
                None,
                "{case:?}: list or segment"
            );
        }
    }
}

/// SPDK's tracker: its list sits 72 bytes into a 4 KiB block and holds 503 entries; the
/// crate is given the same place.
fn spdk_list_len() -> usize {
    spdk::NVME_MAX_PRP_LIST_ENTRIES * 8
}

#[test]
fn spdk_prps_match_the_crate() {
    for case in Case::all() {
        let mut tr = spdk::Tracker::new(SPDK_TRACKER);
        let mut req = spdk::Request::new(spdk_payload(&case), case.len as u32);
        let rc = spdk::nvme_pcie_qpair_build_request(&spdk_qpair(false), &mut req, &mut tr);
        assert_eq!(rc, 0, "{case:?}");
        assert_eq!(req.cmd.psdt, spdk::PSDT_PRP);
        // SPDK stores every entry after PRP1 in the tracker, the second one too when PRP2 is
        // that data page rather than the list; only a list PRP2 points at is compared.
        let used = req.cmd.dptr[1] == tr.prp_sgl_bus_addr;
        let list = used.then(|| words_to_bytes(&tr.u));
        let out = (req.cmd.dptr[0], req.cmd.dptr[1], list);
        let (built, filled) = crate_prps_like(&case, tr.prp_sgl_bus_addr, spdk_list_len());
        check_crate_prps(&case, out.clone(), &built, "PrpBuilder::build vs SPDK");
        check_crate_prps(&case, out, &filled, "fill_sqe vs SPDK");
    }
}

#[test]
fn spdk_sgls_match_the_crate() {
    for case in Case::all() {
        let mut tr = spdk::Tracker::new(SPDK_TRACKER);
        let mut req = spdk::Request::new(spdk_payload(&case), case.len as u32);
        let rc = spdk::nvme_pcie_qpair_build_request(&spdk_qpair(true), &mut req, &mut tr);
        let seg_len = spdk::NVME_MAX_SGL_DESCRIPTORS * 16;
        if case.extents.len() > spdk::NVME_MAX_SGL_DESCRIPTORS {
            // SPDK builds one segment in its tracker and refuses what does not fit it.
            assert_eq!(rc, -spdk::EFAULT, "{case:?}");
            assert!(ours::sgl_build_out(&case.extents, LIST_BASE, PAGE as usize).is_some());
            continue;
        }
        assert_eq!(rc, 0, "{case:?}");
        assert_eq!(req.cmd.psdt, spdk::PSDT_SGL_MPTR_CONTIG);
        let sgl1 = peers::sgl_bytes(req.cmd.dptr);
        let segment = words_to_bytes(&tr.u)[..seg_len].to_vec();
        for (what, ours) in [
            (
                "SglBuilder::build",
                ours::sgl_build_out(&case.extents, tr.prp_sgl_bus_addr, seg_len),
            ),
            (
                "fill_sqe",
                ours::fill_sqe_sgl_out(&case.extents, tr.prp_sgl_bus_addr, seg_len),
            ),
        ] {
            let ours = ours.unwrap_or_else(|| panic!("{what} {case:?}"));
            assert_eq!(ours.sgl1, sgl1, "{what} {case:?}: SGL1");
            // A lone Data Block leaves the tracker's copy behind in SPDK, nothing in the crate.
            if case.extents.len() > 1 {
                assert_eq!(
                    first_difference(&ours.segment, &segment),
                    None,
                    "{what} {case:?}: descriptors"
                );
            }
        }
    }
}

/// SPDK merges a scattered element that continues the previous one, as the crate does.
#[test]
fn spdk_sgl_merges_adjacent_elements_like_the_crate() {
    let base = peers::cases::DATA_BASE;
    let extents = [
        nvme_dma::Extent::new(base, PAGE),
        nvme_dma::Extent::new(base + PAGE, PAGE),
        nvme_dma::Extent::new(base + 4 * PAGE, PAGE),
    ];
    let mut tr = spdk::Tracker::new(SPDK_TRACKER);
    let mut req = spdk::Request::new(spdk::Payload::Sgl(&extents), 3 * PAGE as u32);
    assert_eq!(
        spdk::nvme_pcie_qpair_build_request(&spdk_qpair(true), &mut req, &mut tr),
        0
    );
    let seg_len = spdk::NVME_MAX_SGL_DESCRIPTORS * 16;
    let ours = ours::sgl_build_out(&extents, tr.prp_sgl_bus_addr, seg_len).unwrap();
    assert_eq!(ours.sgl1, peers::sgl_bytes(req.cmd.dptr));
    assert_eq!(
        first_difference(&ours.segment, &words_to_bytes(&tr.u)[..seg_len]),
        None
    );
    assert_eq!(u32::from_le_bytes(ours.sgl1[8..12].try_into().unwrap()), 32);
}

fn qemu_pieces(sg: &qemu::NvmeSg) -> Vec<Piece> {
    sg.sg
        .iter()
        .map(|e| Piece::Data(nvme_dma::Extent::new(e.base, e.len)))
        .collect()
}

fn expected(case: &Case) -> Vec<Piece> {
    ours::merged(case.extents.iter().map(|&e| Piece::Data(e)))
}

#[test]
fn qemu_map_prp_finds_what_the_crate_walker_finds() {
    for case in Case::all() {
        let (prp1, prp2, mut buf) = pairs::built_prps(&case);
        let guest_bytes = buf.clone();
        let mem = SliceMemory::new(LIST_BASE, &mut buf);
        let ours = ours::prp_pieces(prp1, prp2, case.len, &mem).expect("crate walk");

        let (st, sg) = qemu_walk_prp(prp1, prp2, case.len, LIST_BASE, &guest_bytes);
        assert_eq!(st, qemu::NVME_SUCCESS, "{case:?}");
        // QEMU adds one entry per PRP entry and never merges.
        let pages = case.len.div_ceil(PAGE) + u64::from(case.shape == Shape::Offset);
        assert_eq!(sg.sg.len() as u64, pages, "{case:?}");
        let theirs = ours::merged(qemu_pieces(&sg));
        assert_eq!(ours::merged(ours.clone()), theirs, "{case:?}");
        assert_eq!(
            ours,
            expected(&case),
            "{case:?}: the crate merges as it walks"
        );
    }
}

/// QEMU's `nvme_map_prp` over `guest_bytes` at `base`: its status and its scatter list.
fn qemu_walk_prp(
    prp1: u64,
    prp2: u64,
    len: u64,
    base: u64,
    guest_bytes: &[u8],
) -> (u16, qemu::NvmeSg) {
    let n = qemu::NvmeCtrl::new();
    let guest = qemu::Guest {
        base,
        bytes: guest_bytes,
    };
    let mut scratch = qemu::Scratch::new(&n);
    let mut sg = qemu::NvmeSg::new();
    let st = qemu::nvme_map_prp(&n, &guest, &mut scratch, &mut sg, prp1, prp2, len as u32);
    (st, sg)
}

fn qemu_walk_sgl(sgl1: [u8; 16], len: u64, guest_bytes: &[u8]) -> (u16, Vec<Piece>) {
    let n = qemu::NvmeCtrl::new();
    let guest = qemu::Guest {
        base: LIST_BASE,
        bytes: guest_bytes,
    };
    let mut scratch = qemu::Scratch::new(&n);
    let mut sg = qemu::NvmeSg::new();
    let d = qemu::NvmeSglDescriptor::from_bytes(&sgl1);
    let st = qemu::nvme_map_sgl(&n, &guest, &mut scratch, &mut sg, d, len);
    (st, qemu_pieces(&sg))
}

#[test]
fn qemu_map_sgl_finds_what_the_crate_walker_finds() {
    let small = pairs::SMALL_WALKS.map(pairs::small_walk_case);
    for case in Case::all().iter().chain(&small) {
        let (sgl1, mut buf) = pairs::built_sgl(&case.extents);
        let guest_bytes = buf.clone();
        let mem = SliceMemory::new(LIST_BASE, &mut buf);
        let ours = ours::sgl_pieces(sgl1, case.len, &mem).expect("crate walk");
        let (st, theirs) = qemu_walk_sgl(sgl1, case.len, &guest_bytes);
        assert_eq!(st, qemu::NVME_SUCCESS, "{case:?}");
        assert_eq!(
            theirs.len(),
            case.extents.len(),
            "{case:?}: one entry per descriptor"
        );
        assert_eq!(ours::merged(ours.clone()), ours::merged(theirs), "{case:?}");
        assert_eq!(ours, expected(case), "{case:?}");
    }
}

/// Both walks refuse a PRP list entry with an offset.
#[test]
fn a_misaligned_prp_list_entry_fails_both_walks() {
    let case = Case::new(Shape::Aligned, ("16KiB", 16 << 10));
    let (prp1, prp2, mut buf) = pairs::built_prps(&case);
    // The second list entry (the third data page) gets an offset.
    buf[8] = 0x00;
    buf[9] = 0x02;
    let guest_bytes = buf.clone();
    let mem = SliceMemory::new(LIST_BASE, &mut buf);
    assert!(ours::prp_pieces(prp1, prp2, case.len, &mem).is_none());

    let (st, sg) = qemu_walk_prp(prp1, prp2, case.len, LIST_BASE, &guest_bytes);
    assert_eq!(st, qemu::NVME_INVALID_PRP_OFFSET | qemu::NVME_DNR);
    assert!(sg.sg.is_empty(), "QEMU unmaps on failure");
}

/// Both walks refuse a Last Segment whose last descriptor is not a Data Block, and an SGL
/// shorter than the transfer.
#[test]
fn bad_sgls_fail_both_walks() {
    let case = pairs::small_walk_case(pairs::SMALL_WALKS[1]);
    let (sgl1, buf) = pairs::built_sgl(&case.extents);

    // The last descriptor becomes a Segment descriptor.
    let mut chained = buf.clone();
    chained[15 * 16 + 15] = 0x20;
    let (st, _) = qemu_walk_sgl(sgl1, case.len, &chained);
    assert_eq!(st, qemu::NVME_INVALID_SGL_SEG_DESCR | qemu::NVME_DNR);
    let guest = chained.clone();
    assert!(ours::sgl_pieces(sgl1, case.len, &SliceMemory::new(LIST_BASE, &mut chained)).is_none());
    drop(guest);

    // One page more than the SGL describes.
    let mut short = buf.clone();
    let (st, _) = qemu_walk_sgl(sgl1, case.len + PAGE, &short);
    assert_eq!(st, qemu::NVME_DATA_SGL_LEN_INVALID | qemu::NVME_DNR);
    assert!(ours::sgl_pieces(
        sgl1,
        case.len + PAGE,
        &SliceMemory::new(LIST_BASE, &mut short)
    )
    .is_none());
}

/// Beyond the benchmarked sizes, where lists and segments chain: 4 MiB of PRPs (two list
/// pages) and 300 scattered SGL descriptors (two segments). Linux chains PRP lists exactly as
/// the crate does and SGL segments but for one length, and QEMU walks the crate's chains to
/// the same pieces.
#[test]
fn chained_lists_and_segments_match() {
    // PRPs: Linux takes page-pool blocks 0 and 1, which are adjacent; the crate gets the same
    // two pages.
    let case = Case::new(Shape::Aligned, ("4MiB", 4 << 20));
    let mut dev = linux_dev(false);
    let mut iod = linux::Iod::default();
    let mut cmd = linux::RwCommand::default();
    let st =
        linux::nvme_pci_setup_prps(&mut dev, &mut iod, &mut cmd, &case.extents, case.len as u32);
    assert_eq!((st, iod.npages), (linux::BlkStatus::Ok, 2));
    let linux_lists = [
        words_to_bytes(dev.prp_page_pool.block(iod.list[0])),
        words_to_bytes(dev.prp_page_pool.block(iod.list[1])),
    ]
    .concat();
    let mut buf = vec![0u8; 2 * PAGE as usize];
    let layout = {
        let mut pages = ours::list_pages(&mut buf, iod.first_dma, PAGE as usize);
        ours::prp_build(&ours::prp_builder(), &case.extents, &mut pages).expect("build")
    };
    assert_eq!(
        (layout.pair.prp1, layout.pair.prp2.raw()),
        (cmd.dptr[0], cmd.dptr[1])
    );
    assert_eq!(first_difference(&buf, &linux_lists), None, "PRP list pages");

    // QEMU walks the crate's two list pages.
    let (prp1, prp2) = (layout.pair.prp1, layout.pair.prp2.raw());
    let guest_bytes = buf.clone();
    let ours_pieces = ours::prp_pieces(
        prp1,
        prp2,
        case.len,
        &SliceMemory::new(iod.first_dma, &mut buf),
    )
    .unwrap();
    let (st, sg) = qemu_walk_prp(prp1, prp2, case.len, iod.first_dma, &guest_bytes);
    assert_eq!(st, qemu::NVME_SUCCESS);
    assert_eq!(sg.sg.len(), 1024);
    assert_eq!(ours::merged(qemu_pieces(&sg)), ours_pieces);
    assert_eq!(ours_pieces, expected(&case));

    // SGL: 300 descriptors, 255 and a pointer in the first page, 45 in the second.
    let extents: Vec<_> = (0..300)
        .map(|i| nvme_dma::Extent::new(peers::cases::DATA_BASE + 2 * i * PAGE, PAGE))
        .collect();
    let mut dev = linux_dev(true);
    let mut iod = linux::Iod::default();
    let mut cmd = linux::RwCommand::default();
    let st = linux::nvme_pci_setup_sgls(&mut dev, &mut iod, &mut cmd, &extents, extents.len());
    assert_eq!((st, iod.npages), (linux::BlkStatus::Ok, 2));
    let linux_segments = [
        words_to_bytes(dev.prp_page_pool.block(iod.list[0])),
        words_to_bytes(dev.prp_page_pool.block(iod.list[1])),
    ]
    .concat();
    let mut buf = vec![0u8; 2 * PAGE as usize];
    let layout = {
        let mut segs = ours::segments(&mut buf, iod.first_dma, PAGE as usize);
        ours::sgl_build(&ours::sgl_builder(), &extents, &mut segs).expect("build")
    };
    let sgl1 = ours::sgl1_raw(&layout).to_bytes();
    assert_eq!(sgl1, peers::sgl_bytes(cmd.dptr), "SGL1");
    // The one difference: the Last Segment descriptor Linux puts in the first page's last
    // slot counts the descriptors still to come when the page filled (44), not the 45 the
    // second page holds (the one moved there from the full page, too). The driver never
    // chains (NVME_MAX_SEGS is 127), so it cannot show.
    let link = 4096 - 16;
    assert_eq!(
        first_difference(&buf, &linux_segments),
        Some(link + 8),
        "segments"
    );
    let seg_len = |b: &[u8]| u32::from_le_bytes(b[link + 8..link + 12].try_into().unwrap());
    assert_eq!(
        (seg_len(&buf), seg_len(&linux_segments)),
        (45 * 16, 44 * 16)
    );
    assert_eq!(
        first_difference(&buf[link + 12..], &linux_segments[link + 12..]),
        None
    );

    let guest_bytes = buf.clone();
    let len = 300 * PAGE;
    let ours_pieces =
        ours::sgl_pieces(sgl1, len, &SliceMemory::new(iod.first_dma, &mut buf)).unwrap();
    let n = qemu::NvmeCtrl::new();
    let guest = qemu::Guest {
        base: iod.first_dma,
        bytes: &guest_bytes,
    };
    let mut scratch = qemu::Scratch::new(&n);
    let mut sg = qemu::NvmeSg::new();
    let d = qemu::NvmeSglDescriptor::from_bytes(&sgl1);
    assert_eq!(
        qemu::nvme_map_sgl(&n, &guest, &mut scratch, &mut sg, d, len),
        qemu::NVME_SUCCESS
    );
    assert_eq!(ours::merged(qemu_pieces(&sg)), ours_pieces);
    assert_eq!(ours_pieces.len(), 300);

    // Walked as Linux wrote it, the SGL comes up one page short.
    let guest = qemu::Guest {
        base: iod.first_dma,
        bytes: &linux_segments,
    };
    let st = qemu::nvme_map_sgl(&n, &guest, &mut scratch, &mut sg, d, len);
    assert_eq!(st, qemu::NVME_DATA_SGL_LEN_INVALID | qemu::NVME_DNR);
}
