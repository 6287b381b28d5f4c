//! The pairs measured: for each, the crate's call and a peer's port set up on the same case,
//! handed to a [`Runner`] as two closures, each doing one command. Everything a command needs
//! is allocated here, before the closures run; each closure returns a value taken from what it
//! wrote, for the runner to keep from the optimiser.

use std::hint::black_box;

use nvme_dma::dptr::SglPolicy;
use nvme_dma::{Extent, Piece, SliceMemory};

use super::cases::{Case, LINUX_PAGE_POOL, LINUX_SMALL_POOL, LIST_BASE, PAGE, SPDK_TRACKER};
use super::{linux, ours, qemu, spdk};

/// Runs one pair: `ours` is the crate, `theirs` the peer named `peer`.
pub trait Runner {
    /// Measure the two closures (each one command) against each other.
    fn run<A: FnMut() -> u64, B: FnMut() -> u64>(&mut self, peer: &str, ours: A, theirs: B);
}

/// A pair: its name, the peer, and whether it applies to a case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pair {
    /// `fill_sqe` with PRPs only vs Linux `nvme_map_data` (PRPs, with its fast path).
    PrpFillSqe,
    /// `PrpBuilder::build` vs Linux `nvme_pci_setup_prps`.
    PrpBuild,
    /// `PrpBuilder::build` vs SPDK's PRP build (contiguous or scattered payload).
    PrpBuildSpdk,
    /// `fill_sqe` under the Linux policy vs Linux `nvme_map_data` with SGLs supported.
    LinuxPolicy,
    /// `fill_sqe` preferring SGLs vs SPDK's request build with SGLs.
    SglFillSqe,
    /// `SglBuilder::build` vs SPDK's hardware SGL build.
    SglBuild,
    /// `SglBuilder::build` vs Linux `nvme_pci_setup_sgls` (run whatever the threshold).
    SglBuildLinux,
    /// `PrpWalker` vs QEMU `nvme_map_prp`.
    PrpWalk,
    /// `SglWalker` vs QEMU `nvme_map_sgl`.
    SglWalk,
}

impl Pair {
    /// Every pair, in table order.
    pub const ALL: [Pair; 9] = [
        Pair::PrpFillSqe,
        Pair::PrpBuild,
        Pair::PrpBuildSpdk,
        Pair::LinuxPolicy,
        Pair::SglFillSqe,
        Pair::SglBuild,
        Pair::SglBuildLinux,
        Pair::PrpWalk,
        Pair::SglWalk,
    ];

    /// The name in benchmark ids.
    pub fn name(self) -> &'static str {
        match self {
            Pair::PrpFillSqe => "prp_fill_sqe",
            Pair::PrpBuild => "prp_build",
            Pair::PrpBuildSpdk => "prp_build_spdk",
            Pair::LinuxPolicy => "linux_policy_fill_sqe",
            Pair::SglFillSqe => "sgl_fill_sqe",
            Pair::SglBuild => "sgl_build",
            Pair::SglBuildLinux => "sgl_build_linux",
            Pair::PrpWalk => "prp_walk",
            Pair::SglWalk => "sgl_walk",
        }
    }

    /// The peer's name in benchmark ids.
    pub fn peer(self) -> &'static str {
        match self {
            Pair::PrpFillSqe | Pair::PrpBuild | Pair::LinuxPolicy | Pair::SglBuildLinux => "linux",
            Pair::PrpBuildSpdk | Pair::SglFillSqe | Pair::SglBuild => "spdk",
            Pair::PrpWalk | Pair::SglWalk => "qemu",
        }
    }

    /// The row label in the ratio table.
    pub fn row(self) -> &'static str {
        match self {
            Pair::PrpFillSqe => "`fill_sqe` (PRP) / Linux `nvme_map_data`",
            Pair::PrpBuild => "`PrpBuilder::build` / Linux `nvme_pci_setup_prps`",
            Pair::PrpBuildSpdk => "`PrpBuilder::build` / SPDK PRP build",
            Pair::LinuxPolicy => "`fill_sqe` (`SglPolicy::LINUX`) / Linux `nvme_map_data`, SGLs on",
            Pair::SglFillSqe => "`fill_sqe` (SGL) / SPDK request build",
            Pair::SglBuild => "`SglBuilder::build` / SPDK hw SGL build",
            Pair::SglBuildLinux => "`SglBuilder::build` / Linux `nvme_pci_setup_sgls`",
            Pair::PrpWalk => "`PrpWalker` / QEMU `nvme_map_prp`",
            Pair::SglWalk => "`SglWalker` / QEMU `nvme_map_sgl`",
        }
    }

    /// Whether the peer can do the case at all: SPDK's tracker holds 250 SGL descriptors, so
    /// its SGL builds refuse more scattered elements than that.
    pub fn applies(self, case: &Case) -> bool {
        match self {
            Pair::SglFillSqe | Pair::SglBuild => {
                case.extents.len() <= spdk::NVME_MAX_SGL_DESCRIPTORS
            }
            _ => true,
        }
    }

    /// Set the pair up on `case` and hand it to `runner`.
    pub fn run<R: Runner>(self, case: &Case, runner: &mut R) {
        match self {
            Pair::PrpFillSqe => linux_fill_sqe(case, runner, SglPolicy::Never),
            Pair::PrpBuild => prp_build(case, runner),
            Pair::PrpBuildSpdk => prp_build_spdk(case, runner),
            Pair::LinuxPolicy => linux_fill_sqe(case, runner, SglPolicy::LINUX),
            Pair::SglFillSqe => sgl_fill_sqe(case, runner),
            Pair::SglBuild => sgl_build(case, runner),
            Pair::SglBuildLinux => sgl_build_linux(case, runner),
            Pair::PrpWalk => prp_walk(case, runner),
            Pair::SglWalk => sgl_walk(case, &case.extents, runner),
        }
    }
}

/// Two pages of crate descriptor memory: enough list or segment for every case.
fn crate_buffer() -> Vec<u8> {
    vec![0u8; 2 * PAGE as usize]
}

/// A Linux device whose pools have room for any case.
fn linux_dev() -> linux::Dev {
    linux::Dev::new(LINUX_PAGE_POOL, LINUX_SMALL_POOL, 8)
}

/// The SPDK queue pair: 4 KiB pages, dword-aligned SGLs when `sgl`.
pub fn spdk_qpair(sgl: bool) -> spdk::Qpair {
    spdk::Qpair {
        page_size: PAGE as u32,
        sgl_supported: sgl,
        dword_aligned: true,
    }
}

/// SPDK's payload for a case: one buffer when it is one extent, else its elements.
pub fn spdk_payload(case: &Case) -> spdk::Payload<'_> {
    if case.contiguous() {
        spdk::Payload::Contig {
            addr: case.extents[0].addr,
        }
    } else {
        spdk::Payload::Sgl(&case.extents)
    }
}

/// SPDK's per-request build (`nvme_pcie_qpair_build_request`) of `case`, one command per call:
/// the peer side of the pairs that compare against SPDK's whole request path.
fn spdk_request_build<'a>(
    qpair: &'a spdk::Qpair,
    tr: &'a mut spdk::Tracker,
    case: &'a Case,
) -> impl FnMut() -> u64 + 'a {
    let payload = spdk_payload(case);
    let len = case.len as u32;
    move || {
        let mut req = spdk::Request::new(black_box(payload), len);
        let rc = spdk::nvme_pcie_qpair_build_request(qpair, &mut req, tr);
        req.cmd.dptr[1] ^ rc as u64
    }
}

/// `fill_sqe` under `policy` against Linux's `nvme_map_data`, with SGLs on the Linux side
/// when the crate's policy may use them too. Both sides choose between PRPs and an SGL by
/// Linux's rules, and `tests/peers.rs` checks they choose alike.
fn linux_fill_sqe<R: Runner>(case: &Case, runner: &mut R, policy: SglPolicy) {
    let mut list_buf = crate_buffer();
    let mut seg_buf = crate_buffer();
    let mut pages = ours::list_pages(&mut list_buf, LIST_BASE, PAGE as usize);
    let mut segs = ours::segments(&mut seg_buf, LIST_BASE, PAGE as usize);
    let mut mem = ours::descriptor_memory(&mut pages, &mut segs);
    let ctrl = ours::ctrl();
    let req = ours::request(&case.extents);
    let mut sqe = ours::sqe();

    let mut dev = linux_dev();
    dev.sgl_supported = policy != SglPolicy::Never;
    let len = case.len as u32;

    runner.run(
        "linux",
        || {
            let filled = ours::fill_sqe(&mut sqe, black_box(&req), &ctrl, policy, &mut mem);
            sqe.prp2() ^ u64::from(filled)
        },
        || {
            // nvme_queue_rq's fresh iod and command, the mapping, and completion's unmap.
            let mut iod = linux::Iod::default();
            let mut cmd = linux::RwCommand::default();
            let st =
                linux::nvme_map_data(&mut dev, &mut iod, &mut cmd, black_box(&case.extents), len);
            linux::nvme_unmap_data(&mut dev, &iod);
            cmd.dptr[1] ^ (st == linux::BlkStatus::Ok) as u64
        },
    );
}

fn prp_build<R: Runner>(case: &Case, runner: &mut R) {
    let mut buf = crate_buffer();
    let mut pages = ours::list_pages(&mut buf, LIST_BASE, PAGE as usize);
    let builder = ours::prp_builder();

    let mut dev = linux_dev();
    let len = case.len as u32;

    runner.run(
        "linux",
        || {
            let layout = ours::prp_build(&builder, black_box(&case.extents), &mut pages);
            layout.map_or(0, |l| l.pair.prp2.raw())
        },
        || {
            let mut iod = linux::Iod::default();
            let mut cmd = linux::RwCommand::default();
            let st = linux::nvme_pci_setup_prps(
                &mut dev,
                &mut iod,
                &mut cmd,
                black_box(&case.extents),
                len,
            );
            linux::nvme_unmap_data(&mut dev, &iod);
            cmd.dptr[1] ^ (st == linux::BlkStatus::Ok) as u64
        },
    );
}

fn prp_build_spdk<R: Runner>(case: &Case, runner: &mut R) {
    let mut buf = crate_buffer();
    let mut pages = ours::list_pages(&mut buf, LIST_BASE, PAGE as usize);
    let builder = ours::prp_builder();

    let qpair = spdk_qpair(false);
    let mut tr = spdk::Tracker::new(SPDK_TRACKER);

    runner.run(
        "spdk",
        || {
            let layout = ours::prp_build(&builder, black_box(&case.extents), &mut pages);
            layout.map_or(0, |l| l.pair.prp2.raw())
        },
        spdk_request_build(&qpair, &mut tr, case),
    );
}

fn sgl_fill_sqe<R: Runner>(case: &Case, runner: &mut R) {
    let mut buf = crate_buffer();
    let mut segs = ours::segments(&mut buf, LIST_BASE, PAGE as usize);
    let mut mem = ours::descriptor_memory(&mut [], &mut segs);
    let ctrl = ours::ctrl();
    let req = ours::request(&case.extents);
    let mut sqe = ours::sqe();

    let qpair = spdk_qpair(true);
    let mut tr = spdk::Tracker::new(SPDK_TRACKER);

    runner.run(
        "spdk",
        || {
            let filled = ours::fill_sqe(
                &mut sqe,
                black_box(&req),
                &ctrl,
                SglPolicy::Always,
                &mut mem,
            );
            sqe.prp2() ^ u64::from(filled)
        },
        spdk_request_build(&qpair, &mut tr, case),
    );
}

fn sgl_build<R: Runner>(case: &Case, runner: &mut R) {
    let mut buf = crate_buffer();
    let mut segs = ours::segments(&mut buf, LIST_BASE, PAGE as usize);
    let builder = ours::sgl_builder();

    let qpair = spdk_qpair(true);
    let mut tr = spdk::Tracker::new(SPDK_TRACKER);
    let payload = spdk_payload(case);
    let len = case.len as u32;
    let build = if case.contiguous() {
        spdk::nvme_pcie_qpair_build_contig_hw_sgl_request
    } else {
        spdk::nvme_pcie_qpair_build_hw_sgl_request
    };

    runner.run(
        "spdk",
        || {
            // SGL1, what a driver takes from the layout into its command, as the PRP pairs
            // return PRP2 (the segments written are in `segs`).
            let layout = ours::sgl_build(&builder, black_box(&case.extents), &mut segs);
            layout.map_or(0, |l| ours::sgl1_word(&l))
        },
        || {
            let mut req = spdk::Request::new(black_box(payload), len);
            let rc = build(&qpair, &mut req, &mut tr, qpair.dword_aligned);
            req.cmd.dptr[1] ^ rc as u64
        },
    );
}

fn sgl_build_linux<R: Runner>(case: &Case, runner: &mut R) {
    let mut buf = crate_buffer();
    let mut segs = ours::segments(&mut buf, LIST_BASE, PAGE as usize);
    let builder = ours::sgl_builder();

    let mut dev = linux_dev();
    dev.sgl_supported = true;

    runner.run(
        "linux",
        || {
            let layout = ours::sgl_build(&builder, black_box(&case.extents), &mut segs);
            layout.map_or(0, |l| ours::sgl1_word(&l))
        },
        || {
            let mut iod = linux::Iod::default();
            let mut cmd = linux::RwCommand::default();
            let sg = black_box(&case.extents);
            iod.use_sgl = true;
            let st = linux::nvme_pci_setup_sgls(&mut dev, &mut iod, &mut cmd, sg, sg.len());
            linux::nvme_unmap_data(&mut dev, &iod);
            cmd.dptr[1] ^ (st == linux::BlkStatus::Ok) as u64
        },
    );
}

/// The crate's PRP layout for `case` in list memory at [`LIST_BASE`]: PRP1, PRP2 and the list
/// bytes.
pub fn built_prps(case: &Case) -> (u64, u64, Vec<u8>) {
    let mut buf = crate_buffer();
    let layout = {
        let mut pages = ours::list_pages(&mut buf, LIST_BASE, PAGE as usize);
        ours::prp_build(&ours::prp_builder(), &case.extents, &mut pages).expect("PRP build")
    };
    (layout.pair.prp1, layout.pair.prp2.raw(), buf)
}

/// The crate's SGL for `extents` in segment memory at [`LIST_BASE`]: SGL1's 16 bytes and the
/// segment bytes.
pub fn built_sgl(extents: &[Extent]) -> ([u8; 16], Vec<u8>) {
    let mut buf = crate_buffer();
    let layout = {
        let mut segs = ours::segments(&mut buf, LIST_BASE, PAGE as usize);
        ours::sgl_build(&ours::sgl_builder(), extents, &mut segs).expect("SGL build")
    };
    (ours::sgl1_raw(&layout).to_bytes(), buf)
}

fn prp_walk<R: Runner>(case: &Case, runner: &mut R) {
    let (prp1, prp2, mut buf) = built_prps(case);
    let guest_bytes = buf.clone();
    let mem = SliceMemory::new(LIST_BASE, &mut buf);
    let mut out = [Piece::Skip(0); 64];

    let n = qemu::NvmeCtrl::new();
    let guest = qemu::Guest {
        base: LIST_BASE,
        bytes: &guest_bytes,
    };
    let mut scratch = qemu::Scratch::new(&n);
    let mut sg = qemu::NvmeSg::new();
    let len = case.len;

    runner.run(
        "qemu",
        || {
            let pieces = ours::walk_prp(black_box(prp1), prp2, len, &mem, &mut out, |_| {});
            black_box(&out[0]);
            pieces.unwrap_or(0) as u64
        },
        || {
            let st = qemu::nvme_map_prp(
                &n,
                &guest,
                &mut scratch,
                &mut sg,
                black_box(prp1),
                prp2,
                len as u32,
            );
            black_box(&sg.sg);
            sg.sg.len() as u64 ^ u64::from(st)
        },
    );
}

/// The SGL walk pair on the crate's SGL for `extents` (`case` gives the transfer length).
pub fn sgl_walk<R: Runner>(case: &Case, extents: &[Extent], runner: &mut R) {
    let (sgl1, mut buf) = built_sgl(extents);
    let guest_bytes = buf.clone();
    let mem = SliceMemory::new(LIST_BASE, &mut buf);
    let caps = ours::sgl_caps();
    let raw = nvme_dma::spec::SglDescriptor::from_bytes(sgl1);
    let mut out = [Piece::Skip(0); 64];

    let n = qemu::NvmeCtrl::new();
    let guest = qemu::Guest {
        base: LIST_BASE,
        bytes: &guest_bytes,
    };
    let mut scratch = qemu::Scratch::new(&n);
    let mut sg = qemu::NvmeSg::new();
    let qsgl = qemu::NvmeSglDescriptor::from_bytes(&sgl1);
    let len = case.len;

    runner.run(
        "qemu",
        || {
            let pieces = ours::walk_sgl(black_box(raw), len, &caps, &mem, &mut out, |_| {});
            black_box(&out[0]);
            pieces.unwrap_or(0) as u64
        },
        || {
            let st = qemu::nvme_map_sgl(&n, &guest, &mut scratch, &mut sg, black_box(qsgl), len);
            black_box(&sg.sg);
            sg.sg.len() as u64 ^ u64::from(st)
        },
    );
}

/// The small walks: a Last Segment of 2 and of 16 page-sized descriptors on every other page.
pub const SMALL_WALKS: [(&str, u64); 2] = [("last_segment_2", 2), ("last_segment_16", 16)];

/// The case of a small walk from [`SMALL_WALKS`].
pub fn small_walk_case((label, n): (&'static str, u64)) -> Case {
    Case::new(super::cases::Shape::Scattered, (label, n * PAGE))
}
