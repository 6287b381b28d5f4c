//! Rule probes on QEMU's NVMe controller: commands whose data pointers sit on a rule's edge
//! or break it. For each, the status the specification asks for, the status the crate's own
//! device-side walker gives (reading the same guest memory), and the status QEMU completes
//! the command with. Where QEMU differs from the specification, the test pins QEMU's
//! behaviour so a change in QEMU shows up here; CONFORMANCE.md explains each one.

mod qemu;

use nvme_dma::dptr::ControllerCaps;
use nvme_dma::host::{Driver, DriverConfig, DriverError};
use nvme_dma::prp::{PrpBuilder, PrpListPage};
use nvme_dma::spec::identify::CNS_CONTROLLER;
use nvme_dma::spec::{
    Identify, Opcode, Psdt, SglDescriptor, SglDescriptorType as T, SglSubtype, Status,
    SubmissionEntry,
};
use nvme_dma::{Direction, Piece};
use nvme_dma::{DmaMemory, Extent};
use qemu::layouts::{
    io_sqe, place_sgl, segment_places, walk_ours, BLOCK, DESCRIPTOR_REGION, WRITE_REGION,
};
use qemu::Qemu;

/// The driver's arena: 1 MiB .. 16 MiB of guest RAM.
const ARENA: Extent = Extent::new(1 << 20, 15 << 20);

/// Descriptor segments the probes write by hand, 4 KiB apart.
fn segment_addr(k: u64) -> u64 {
    DESCRIPTOR_REGION.addr + 0x10_0000 + k * 0x1000
}

/// Data addresses, one 4 KiB page each, in the write region.
fn data_page(k: u64) -> u64 {
    WRITE_REGION.addr + k * 0x1000
}

fn data(addr: u64, len: u32) -> SglDescriptor {
    SglDescriptor::new(addr, len, T::DataBlock, SglSubtype::Address)
}

fn pointer(kind: T, segment: u64, descriptors: u32) -> SglDescriptor {
    SglDescriptor::new(segment, descriptors * 16, kind, SglSubtype::Address)
}

fn write_segment(qemu: &mut Qemu, addr: u64, descriptors: &[SglDescriptor]) {
    let bytes: Vec<u8> = descriptors.iter().flat_map(|d| d.to_bytes()).collect();
    qemu.write(addr, &bytes).expect("segment in guest RAM");
}

fn with_sgl1(sqe: &mut SubmissionEntry, sgl1: SglDescriptor) {
    sqe.set_psdt(Psdt::Sgl);
    sqe.set_sgl1(sgl1);
}

fn sc(code: u8) -> Option<Status> {
    Some(Status::new(nvme_dma::spec::StatusCodeType::Generic, code))
}

/// One probe: a command, what the specification asks, and what QEMU 7.2 was seen to do.
struct Probe {
    name: &'static str,
    direction: Direction,
    blocks: u64,
    /// The specification's answer (`None`: success).
    spec: Option<Status>,
    /// QEMU's answer, pinned.
    qemu: Option<Status>,
    /// Whether the crate's walker is asked too (not for rules above the data pointer: MDTS,
    /// the admin queue).
    walker: bool,
    /// Queue to submit on.
    qid: u16,
    /// Lay out the data pointer (and write descriptors) into the command.
    build: fn(&mut Qemu, &ControllerCaps, &mut SubmissionEntry),
}

fn probes(max_blocks: u64) -> Vec<Probe> {
    let io = |name, direction, blocks, spec, qemu, build| Probe {
        name,
        direction,
        blocks,
        spec,
        qemu,
        walker: true,
        qid: 1,
        build,
    };
    let invalid_segment = sc(0x0d);
    let sgl_length = sc(0x0f);
    let type_invalid = sc(0x11);
    let prp_offset = sc(0x13);
    vec![
        // Deviation 1: Segment -> [D, Segment] -> [D, Last Segment] -> [D, D]. Valid; QEMU
        // checks the Last Segment rule against a descriptor of the segment it just read.
        io(
            "sgl-equal-segments-chain",
            Direction::Write,
            1,
            None,
            invalid_segment,
            |qemu, ctrl, sqe| {
                let pieces: Vec<Piece> = [100, 100, 100, 212]
                    .iter()
                    .scan(0, |at, &len| {
                        let piece = Piece::Data(Extent::new(data_page(*at), len));
                        *at += 1;
                        Some(piece)
                    })
                    .collect();
                let places = segment_places(segment_addr(0), &[2, 2, 2], 0);
                let used = place_sgl(qemu, ctrl, sqe, Direction::Write, &pieces, &places)
                    .expect("the builder takes it");
                assert_eq!(
                    used, 3,
                    "Segment, then Last Segment, then the final segment"
                );
            },
        ),
        // Deviation 2: a segment reached through a Last Segment descriptor that itself ends
        // with a Segment descriptor. Invalid SGL Segment Descriptor; QEMU follows the chain.
        io(
            "sgl-pointer-after-last-segment",
            Direction::Write,
            1,
            invalid_segment,
            None,
            |qemu, _, sqe| {
                let (s0, s1, s2) = (segment_addr(0), segment_addr(1), segment_addr(2));
                write_segment(
                    qemu,
                    s0,
                    &[data(data_page(0), 100), pointer(T::LastSegment, s1, 3)],
                );
                write_segment(
                    qemu,
                    s1,
                    &[
                        data(data_page(1), 100),
                        data(data_page(2), 100),
                        pointer(T::Segment, s2, 1),
                    ],
                );
                write_segment(qemu, s2, &[data(data_page(3), 212)]);
                with_sgl1(sqe, pointer(T::Segment, s0, 2));
            },
        ),
        // Deviation 3: PRP1 with bits 1:0 set; QEMU moves data from the unaligned address.
        io(
            "prp1-not-dword-aligned",
            Direction::Write,
            1,
            prp_offset,
            None,
            |_, _, sqe| {
                sqe.set_prp1(data_page(0) + 2);
            },
        ),
        io(
            "prp2-data-page-with-offset",
            Direction::Write,
            9,
            prp_offset,
            prp_offset,
            |_, _, sqe| {
                sqe.set_prp1(data_page(0));
                sqe.set_prp2(data_page(1) + 0x100);
            },
        ),
        io(
            "prp-list-entry-with-offset",
            Direction::Write,
            24,
            prp_offset,
            prp_offset,
            |qemu, _, sqe| {
                let list = segment_addr(0);
                let entries = [data_page(1) + 0x200, data_page(2)];
                let bytes: Vec<u8> = entries.iter().flat_map(|e| e.to_le_bytes()).collect();
                qemu.write(list, &bytes).expect("list in guest RAM");
                sqe.set_prp1(data_page(0));
                sqe.set_prp2(list);
            },
        ),
        io(
            "sgl-shorter-than-transfer",
            Direction::Write,
            1,
            sgl_length,
            sgl_length,
            |_, _, sqe| with_sgl1(sqe, data(data_page(0), 511)),
        ),
        // Observation 7: longer than the transfer without SGLS.LLDTS. The controller "should
        // not" transfer and "may" abort with Data SGL Length Invalid: the crate's walker
        // aborts; QEMU transfers the first 512 bytes.
        io(
            "sgl-longer-than-transfer",
            Direction::Write,
            1,
            sgl_length,
            None,
            |_, _, sqe| with_sgl1(sqe, data(data_page(0), 1024)),
        ),
        io(
            "segment-length-not-multiple-of-16",
            Direction::Write,
            1,
            invalid_segment,
            invalid_segment,
            |qemu, _, sqe| {
                write_segment(qemu, segment_addr(0), &[data(data_page(0), 512)]);
                let mut sgl1 = pointer(T::LastSegment, segment_addr(0), 1);
                sgl1.set_length(24);
                with_sgl1(sqe, sgl1);
            },
        ),
        // Deviation 4: an unsupported descriptor type in SGL1; QEMU answers as if it were a
        // broken segment pointer.
        io(
            "keyed-data-block-over-pcie",
            Direction::Write,
            1,
            type_invalid,
            invalid_segment,
            |_, _, sqe| {
                with_sgl1(
                    sqe,
                    SglDescriptor::new(data_page(0), 512, T::KeyedDataBlock, SglSubtype::Address),
                )
            },
        ),
        // Deviation 5: a Bit Bucket (SGLS bit 16 clear) ending a segment; QEMU takes it for a
        // segment pointer inside a last segment.
        io(
            "bit-bucket-not-advertised",
            Direction::Read,
            1,
            type_invalid,
            invalid_segment,
            |qemu, _, sqe| {
                let bucket = SglDescriptor::new(0, 112, T::BitBucket, SglSubtype::Address);
                write_segment(qemu, segment_addr(0), &[data(data_page(0), 400), bucket]);
                with_sgl1(sqe, pointer(T::LastSegment, segment_addr(0), 2));
            },
        ),
        // Deviation 6: the Offset subtype (SGLS bit 20 clear, reserved over PCIe); QEMU ignores
        // the subtype and uses the offset as an address.
        io(
            "data-block-with-offset-subtype",
            Direction::Write,
            1,
            type_invalid,
            None,
            |_, _, sqe| {
                with_sgl1(
                    sqe,
                    SglDescriptor::new(data_page(0), 512, T::DataBlock, SglSubtype::Offset),
                )
            },
        ),
        io(
            "zero-length-data-block-in-segment",
            Direction::Write,
            1,
            None,
            None,
            |qemu, _, sqe| {
                write_segment(
                    qemu,
                    segment_addr(0),
                    &[
                        data(data_page(0), 200),
                        data(data_page(1), 0),
                        data(data_page(2), 312),
                    ],
                );
                with_sgl1(sqe, pointer(T::LastSegment, segment_addr(0), 3));
            },
        ),
        Probe {
            name: "transfer-one-block-over-mdts",
            direction: Direction::Write,
            blocks: max_blocks + 1,
            spec: sc(0x02),
            qemu: sc(0x02),
            walker: false,
            qid: 1,
            build: |qemu, ctrl, sqe| {
                let len = ctrl.max_transfer.bytes().expect("QEMU sets MDTS") + BLOCK;
                let extents = [Extent::new(data_page(0), len)];
                let mut list = vec![0u8; 4096 * 2];
                let (first, second) = list.split_at_mut(4096);
                let lists = &mut [
                    PrpListPage::new(segment_addr(0), first),
                    PrpListPage::new(segment_addr(1), second),
                ];
                let layout = PrpBuilder::new(ctrl.page_size)
                    .build(&extents, lists)
                    .expect("no MDTS in this builder");
                qemu.write(segment_addr(0), &list)
                    .expect("lists in guest RAM");
                sqe.set_prp1(layout.pair.prp1);
                sqe.set_prp2(layout.pair.prp2.raw());
            },
        },
        Probe {
            name: "sgl-on-admin-queue",
            direction: Direction::Read,
            blocks: 0,
            spec: sc(0x02),
            qemu: sc(0x02),
            walker: false,
            qid: 0,
            build: |_, _, sqe| {
                *sqe = SubmissionEntry::new(Opcode::ADMIN_IDENTIFY, 0);
                Identify::namespace(CNS_CONTROLLER, 0).write_to(sqe);
                with_sgl1(sqe, data(data_page(0), 4096));
            },
        },
    ]
}

fn show(status: Option<Status>) -> String {
    status.map_or("success".to_string(), |s| {
        format!("{:?} {:02X}h", s.sct(), s.sc())
    })
}

fn same(a: Option<Status>, b: Option<Status>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => a.same_code(b),
        _ => false,
    }
}

#[test]
fn rule_probes_spec_walker_and_qemu() {
    let Some(qemu) = Qemu::start("deviations", "") else {
        return;
    };
    let mut driver = Driver::start(qemu, DriverConfig::new(ARENA)).expect("bring-up");
    let ctrl = *driver.controller();
    let max_blocks = ctrl.max_transfer.bytes().expect("QEMU sets MDTS") / BLOCK;
    let mut problems = Vec::new();
    for probe in probes(max_blocks) {
        let mut sqe = io_sqe(probe.direction, 0, probe.blocks.max(1));
        (probe.build)(driver.bus_mut(), &ctrl, &mut sqe);
        let ours = probe.walker.then(|| {
            walk_ours(
                driver.bus(),
                &ctrl,
                &sqe,
                probe.direction,
                probe.blocks * BLOCK,
            )
            .err()
        });
        let qemu = match driver.submit(probe.qid, sqe) {
            Ok(_) => None,
            Err(DriverError::Command { status, .. }) => Some(status),
            Err(e) => panic!("{}: {e}", probe.name),
        };
        eprintln!(
            "{:36} spec {:32} walker {:32} QEMU {}",
            probe.name,
            show(probe.spec),
            ours.map_or("-".to_string(), show),
            show(qemu),
        );
        if let Some(ours) = ours {
            if !same(ours, probe.spec) {
                problems.push(format!(
                    "{}: the crate's walker answers {}, the spec {}",
                    probe.name,
                    show(ours),
                    show(probe.spec)
                ));
            }
        }
        if !same(qemu, probe.qemu) {
            problems.push(format!(
                "{}: QEMU answered {}, pinned {} (update CONFORMANCE.md)",
                probe.name,
                show(qemu),
                show(probe.qemu)
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // The queues still work after every refusal.
    driver
        .submit(1, SubmissionEntry::new(Opcode::NVM_FLUSH, 0).with_nsid(1))
        .expect("flush after the probes");
}
