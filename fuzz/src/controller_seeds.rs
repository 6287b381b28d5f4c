//! Seeds of the `controller` target: short host sessions that start the fuzzer at each
//! controller-level hostile case (tests/adversarial.rs names them) and at the ordinary paths
//! around them: round trips through PRP lists, SGL segments and metadata, admin data
//! commands, doorbell errors with an event request waiting, a full completion queue, queue
//! deletion order, CID reuse, resets, queues backed by PRP lists.

use nvme_dma::sgl::DataDescriptor;
use nvme_dma::spec::identify::{CNS_ACTIVE_NAMESPACE_LIST, CNS_CONTROLLER, CNS_NAMESPACE};
use nvme_dma::spec::log::LogPageRequest;
use nvme_dma::spec::{
    BlockRange, CreateIoCq, CreateIoSq, DatasetManagement, DeleteIoQueue, DsmRangeCount, Identify,
    Opcode, QueueSize, SglDescriptor, SglDescriptorType, SglSubtype, SubmissionEntry,
};
use nvme_dma_testkit::guest::slots;

use crate::controller::{Action, Addr, Command, ControllerInput, Shape, BAR0};
use crate::memory::{MemorySpec, Region, Run};
use crate::seeds::Seed;

/// Bits of [`Shape::bits`].
const METADATA_SEPARATE: u8 = 1 << 3;
const METADATA_EXTENDED: u8 = 2 << 3;
const PC0_QUEUE: u8 = 1 << 6;
/// SGL support with bit buckets, metadata SGLs and keyed blocks.
const ALL_SGLS: u8 = 3;

fn shape(bits: u8, sgls: u8) -> Shape {
    Shape {
        bits,
        mdts: 4, // MDTS 5: 128 KiB at 4 KiB pages
        sgls,
        queue_slots: 2, // 4 slots per I/O queue
        admin_slots: 2, // 4 slots per admin queue
    }
}

fn submit(queue: u8, command: Command) -> Action {
    Action::Submit {
        queue,
        command,
        quiet: false,
        hold: false,
    }
}

fn held(queue: u8, command: Command) -> Action {
    Action::Submit {
        queue,
        command,
        quiet: false,
        hold: true,
    }
}

fn quiet(queue: u8, command: Command) -> Action {
    Action::Submit {
        queue,
        command,
        quiet: true,
        hold: true,
    }
}

/// An NVM command on namespace 1: `nlb` blocks from `slba`, data at `data`.
fn io(op: Opcode, cid: u16, slba: u32, nlb: u16, data: Addr) -> Command {
    let range = BlockRange::new(slba.into(), nlb.into()).expect("1 to 65536 blocks");
    Command {
        nsid: 1,
        prp1: data,
        ..Command::new(op, cid)
    }
    .with(|sqe| sqe.set_block_range(range))
}

/// An admin command with its data at `data` and every command dword 0.
fn admin(op: Opcode, cid: u16, data: Addr) -> Command {
    Command {
        prp1: data,
        ..Command::new(op, cid)
    }
}

/// Identify CNS `cns` about `nsid`, into `DATA_2`.
fn identify(cid: u16, cns: u8, nsid: u32) -> Command {
    admin(Opcode::ADMIN_IDENTIFY, cid, DATA_2)
        .with(|sqe| Identify::namespace(cns, nsid).write_to(sqe))
}

/// Delete I/O Submission or Completion Queue (`op`) `qid`.
fn delete(op: Opcode, cid: u16, qid: u16) -> Command {
    admin(op, cid, Addr::default()).with(|sqe| DeleteIoQueue { qid }.write_to(sqe))
}

/// A contiguous queue of 4 slots.
fn four_slots() -> QueueSize {
    QueueSize::new(4).expect("4 slots")
}

fn store(at: Addr, bytes: Vec<u8>) -> Action {
    Action::Store { at, bytes }
}

fn with_sgl(mut command: Command, at: Addr, len: u32, kind: SglDescriptorType) -> Command {
    command.flags = 1 << 6; // PSDT 01b: SGL data, contiguous metadata
    command.prp1 = at;
    command.sgl_len = len;
    command.sgl_id = kind.to_nibble() << 4 | SglSubtype::Address.to_nibble();
    command
}

fn input(shape: Shape, memory: MemorySpec, actions: Vec<Action>) -> ControllerInput {
    ControllerInput {
        shape,
        memory,
        actions,
    }
}

const DATA_1: Addr = Addr::data(0);
const DATA_2: Addr = Addr::data(0x2_0000);

/// The controller target's seeds.
pub fn seeds() -> Vec<Seed> {
    let plain = shape(0, 1);
    let write = |cid, nlb| io(Opcode::NVM_WRITE, cid, 0, nlb, DATA_1);
    let read = |cid, nlb| io(Opcode::NVM_READ, cid, 0, nlb, DATA_2);
    let aer = admin(Opcode::ADMIN_ASYNC_EVENT_REQUEST, 40, Addr::default());
    let mut out = Vec::new();
    let mut add = |name: &str, value: ControllerInput| {
        out.push(crate::seeds::seed("controller", name, &value));
    };

    add(
        "write-read-round-trip",
        input(
            plain,
            MemorySpec::default(),
            vec![submit(1, write(1, 8)), submit(2, read(2, 8))],
        ),
    );
    // 16 KiB through a PRP list: PRP1 the first page, PRP2 a list of the other three.
    let mut listed = io(Opcode::NVM_WRITE, 3, 0, 32, DATA_1);
    listed.prp2 = Addr::lists(0);
    let entries: Vec<u64> = (1..4).map(|i| DATA_1.resolve() + i * 4096).collect();
    let read_entries: Vec<u64> = (1..4).map(|i| DATA_2.resolve() + i * 4096).collect();
    add(
        "prp-list-write-then-read",
        input(
            plain,
            MemorySpec::default(),
            vec![
                store(Addr::lists(0), slots(&entries)),
                submit(1, listed),
                store(Addr::lists(0x1000), slots(&read_entries)),
                submit(1, read(4, 32).with_prp2(Addr::lists(0x1000))),
            ],
        ),
    );
    // A read through a Last Segment of three data blocks and a bit bucket.
    let descriptor = |d: SglDescriptor| d.to_bytes().to_vec();
    let segment: Vec<u8> = [
        DataDescriptor::Block {
            addr: DATA_2.resolve(),
            len: 1024,
        },
        DataDescriptor::BitBucket { len: 512 },
        DataDescriptor::Block {
            addr: DATA_2.resolve() + 0x4000,
            len: 1536,
        },
        DataDescriptor::Block {
            addr: DATA_2.resolve() + 0x8000,
            len: 1024,
        },
    ]
    .iter()
    .map(DataDescriptor::to_raw)
    .flat_map(descriptor)
    .collect();
    add(
        "sgl-last-segment-read-with-bit-bucket",
        input(
            shape(0, ALL_SGLS),
            MemorySpec::default(),
            vec![
                submit(1, write(5, 8)),
                store(Addr::lists(0x100), segment),
                submit(
                    1,
                    with_sgl(
                        read(6, 8),
                        Addr::lists(0x100),
                        64,
                        SglDescriptorType::LastSegment,
                    ),
                ),
            ],
        ),
    );
    // A self-referencing SGL segment, from extra memory given as a generated run.
    let looping = Region {
        addr: 0x7000_0000,
        bytes: Vec::new(),
        run: Run {
            first: [0x7000_0000, 0x2000_0000_0000_0010],
            step: [0, 0],
            count: 1,
        },
    };
    add(
        "sgl-segment-pointing-at-itself",
        input(
            shape(0, ALL_SGLS),
            MemorySpec {
                regions: vec![looping],
            },
            vec![submit(
                1,
                with_sgl(
                    read(7, 8),
                    Addr {
                        kind: 5,
                        offset: 0x7000_0000,
                    },
                    16,
                    SglDescriptorType::Segment,
                ),
            )],
        ),
    );
    add(
        "separate-metadata-round-trip",
        input(
            shape(METADATA_SEPARATE, ALL_SGLS),
            MemorySpec::default(),
            vec![
                submit(1, write(8, 4).with_mptr(Addr::data(0x4_0000))),
                submit(1, read(9, 4).with_mptr(Addr::data(0x5_0000))),
            ],
        ),
    );
    add(
        "extended-lba-read",
        input(
            shape(METADATA_EXTENDED | 4, 1),
            MemorySpec::default(),
            vec![
                // One 4 KiB block and its 8 metadata bytes: 4104 bytes over two pages.
                submit(1, write(10, 1).with_prp2(Addr::data(0x1000))),
                submit(1, read(11, 1).with_prp2(Addr::data(0x2_1000))),
            ],
        ),
    );
    add(
        "identify-and-log-pages-at-and-past-the-end",
        input(
            plain,
            MemorySpec::default(),
            vec![
                submit(0, identify(12, CNS_CONTROLLER, 0)),
                submit(0, identify(13, CNS_NAMESPACE, 1)),
                submit(0, identify(14, CNS_ACTIVE_NAMESPACE_LIST, 0)),
                // SMART (02h), 512 bytes; then 4 bytes at offset 508, then at 512.
                submit(0, log_page(15, 2, 128, 0)),
                submit(0, log_page(16, 2, 1, 508)),
                submit(0, log_page(17, 2, 1, 512)),
                // Error information (01h) at an offset that is not a dword multiple.
                submit(0, log_page(18, 1, 16, 2)),
            ],
        ),
    );
    add(
        "doorbell-past-the-queue-size-with-an-event-request-waiting",
        input(
            plain,
            MemorySpec::default(),
            vec![
                held(0, aer),
                Action::Doorbell {
                    index: 2,
                    value: 100,
                },
                Action::Reap { queue: 0 },
            ],
        ),
    );
    add(
        "doorbell-of-a-missing-queue",
        input(
            plain,
            MemorySpec::default(),
            vec![
                held(0, aer),
                Action::Doorbell { index: 8, value: 1 },
                Action::Reap { queue: 0 },
                submit(1, write(19, 1)),
            ],
        ),
    );
    add(
        "completion-head-never-given",
        input(
            plain,
            MemorySpec::default(),
            vec![
                held(0, aer),
                Action::Doorbell { index: 3, value: 2 },
                Action::Reap { queue: 0 },
            ],
        ),
    );
    add(
        "full-completion-queue-then-reap",
        input(
            plain,
            MemorySpec::default(),
            vec![
                held(1, write(20, 1)),
                held(2, write(21, 1)),
                held(1, write(22, 1)),
                held(2, write(23, 1)), // CQ 1 (4 slots) holds 3: this one waits
                Action::Reap { queue: 1 },
                Action::Reap { queue: 1 },
            ],
        ),
    );
    let create_cq = admin(Opcode::ADMIN_CREATE_IO_CQ, 28, Addr::queues(0x2_0000))
        .with(|sqe| CreateIoCq::polled(1, four_slots()).write_to(sqe));
    add(
        "delete-a-completion-queue-before-its-submission-queues",
        input(
            plain,
            MemorySpec::default(),
            vec![
                submit(0, delete(Opcode::ADMIN_DELETE_IO_CQ, 24, 1)),
                submit(0, delete(Opcode::ADMIN_DELETE_IO_SQ, 25, 1)),
                submit(0, delete(Opcode::ADMIN_DELETE_IO_SQ, 26, 2)),
                submit(0, delete(Opcode::ADMIN_DELETE_IO_CQ, 27, 1)),
                submit(0, create_cq),
            ],
        ),
    );
    // The same in one doorbell, CQ 1 coming back where it was (8 admin slots hold it all).
    let same_place = admin(Opcode::ADMIN_CREATE_IO_CQ, 56, Addr::queues(0x8000))
        .with(|sqe| CreateIoCq::polled(1, four_slots()).write_to(sqe));
    let new_sq = admin(Opcode::ADMIN_CREATE_IO_SQ, 57, Addr::queues(0xc000))
        .with(|sqe| CreateIoSq::contiguous(1, four_slots(), 1).write_to(sqe));
    add(
        "completion-queue-deleted-and-created-again-in-one-doorbell",
        input(
            Shape {
                admin_slots: 6,
                ..plain
            },
            MemorySpec::default(),
            vec![
                submit(1, write(52, 1)),
                quiet(0, delete(Opcode::ADMIN_DELETE_IO_SQ, 53, 1)),
                quiet(0, delete(Opcode::ADMIN_DELETE_IO_SQ, 54, 2)),
                quiet(0, delete(Opcode::ADMIN_DELETE_IO_CQ, 55, 1)),
                quiet(0, same_place),
                quiet(0, new_sq),
                Action::Ring { queue: 0 },
                Action::Reap { queue: 0 },
                submit(1, write(58, 1)),
            ],
        ),
    );
    add(
        "cid-reused-on-one-queue",
        input(
            plain,
            MemorySpec::default(),
            vec![
                quiet(1, write(30, 1)),
                quiet(1, read(30, 1)),
                Action::Ring { queue: 1 },
                Action::Reap { queue: 1 },
            ],
        ),
    );
    add(
        "reset-mid-stream-then-restart",
        input(
            plain,
            MemorySpec::default(),
            vec![
                held(1, write(31, 1)),
                Action::Register {
                    offset: 0x14,
                    value: 0,
                },
                submit(1, write(32, 1)),
                Action::Restart,
                submit(1, read(33, 1)),
            ],
        ),
    );
    add(
        "tail-moved-past-what-the-host-wrote",
        input(
            plain,
            MemorySpec::default(),
            vec![
                // SQ 1's second slot, which the host never submitted; then a tail of 3.
                store(
                    Addr::queues(3 * 0x4000 + 64),
                    read(34, 1).entry().to_bytes().to_vec(),
                ),
                Action::Doorbell { index: 2, value: 3 },
            ],
        ),
    );
    add(
        "queue-backed-by-a-prp-list",
        input(
            shape(PC0_QUEUE, 1),
            MemorySpec::default(),
            vec![submit(2, write(35, 8)), submit(2, read(36, 8))],
        ),
    );
    // A new SQ over SQ 1's memory: two queues, one ring.
    let create_sq = admin(Opcode::ADMIN_CREATE_IO_SQ, 37, Addr::queues(3 * 0x4000))
        .with(|sqe| CreateIoSq::contiguous(3, four_slots(), 1).write_to(sqe));
    add(
        "submission-queue-created-over-another",
        input(
            plain,
            MemorySpec::default(),
            vec![
                submit(0, create_sq),
                submit(1, write(38, 1)),
                Action::Doorbell { index: 6, value: 1 },
            ],
        ),
    );
    add(
        "read-into-the-register-window",
        input(
            plain,
            MemorySpec::default(),
            vec![
                // 2 KiB below the window, then its first page: refused whole.
                submit(
                    1,
                    io(Opcode::NVM_READ, 39, 0, 8, Addr::registers(0x800))
                        .with_prp2(Addr::registers(0x1000)),
                ),
                submit(1, io(Opcode::NVM_READ, 41, 0, 1, Addr::registers(0x1000))),
                // A PRP list inside the window.
                submit(
                    1,
                    io(Opcode::NVM_READ, 52, 0, 24, DATA_2).with_prp2(Addr::registers(0x2000)),
                ),
            ],
        ),
    );
    // MDTS (128 KiB: PRP1 and a list of 31 pages), then one page more.
    let pages: Vec<u64> = (1..32).map(|i| DATA_1.resolve() + i * 4096).collect();
    add(
        "mdts-and-mdts-plus-one",
        input(
            shape(0, 1),
            MemorySpec::default(),
            vec![
                store(Addr::lists(0), slots(&pages)),
                submit(
                    1,
                    io(Opcode::NVM_WRITE, 42, 0, 256, DATA_1).with_prp2(Addr::lists(0)),
                ),
                submit(
                    1,
                    io(Opcode::NVM_WRITE, 43, 0, 264, DATA_1).with_prp2(Addr::lists(0)),
                ),
            ],
        ),
    );
    add(
        "fused-pair-and-reserved-psdt",
        input(
            plain,
            MemorySpec::default(),
            vec![
                submit(1, write(44, 1).with_flags(1)),
                submit(1, read(45, 1).with_flags(3 << 6)),
                submit(0, identify(46, CNS_CONTROLLER, 0).with_flags(1 << 6)),
            ],
        ),
    );
    add(
        "dataset-management-and-write-zeroes",
        input(
            plain,
            MemorySpec::default(),
            vec![
                submit(1, write(47, 8)),
                store(Addr::lists(0x800), slots(&[8u64 << 32, 0])),
                submit(
                    1,
                    // One range, attribute AD: deallocate blocks 0 to 7.
                    Command {
                        nsid: 1,
                        prp1: Addr::lists(0x800),
                        ..Command::new(Opcode::NVM_DATASET_MANAGEMENT, 48)
                    }
                    .with(|sqe| {
                        let one = DsmRangeCount::new(1).expect("one range");
                        DatasetManagement::deallocate(one).write_to(sqe)
                    }),
                ),
                submit(1, io(Opcode::NVM_WRITE_ZEROES, 49, 4, 4, Addr::default())),
                submit(1, read(50, 8)),
            ],
        ),
    );
    add(
        "register-writes-while-enabled",
        input(
            plain,
            MemorySpec::default(),
            vec![
                Action::Register {
                    offset: 0x28,
                    value: BAR0 as u32,
                },
                Action::Register {
                    offset: 0x24,
                    value: 0,
                },
                Action::Register {
                    offset: 0x14,
                    value: 0x46_0001 | 7 << 7,
                },
                submit(1, write(51, 1)),
            ],
        ),
    );
    out
}

/// Get Log Page of `dwords` dwords of log `lid` from byte `offset`, into `DATA_2`.
fn log_page(cid: u16, lid: u8, dwords: u64, offset: u64) -> Command {
    let request = LogPageRequest {
        lid,
        len: dwords * 4,
        offset,
    };
    admin(Opcode::ADMIN_GET_LOG_PAGE, cid, DATA_2).with(|sqe| {
        request
            .write_to(sqe)
            .expect("a log request a command can carry")
    })
}

/// One field changed, for the seeds above.
impl Command {
    fn with_prp2(self, prp2: Addr) -> Self {
        Command { prp2, ..self }
    }

    fn with_mptr(self, mptr: Addr) -> Self {
        Command { mptr, ..self }
    }

    fn with_flags(self, flags: u8) -> Self {
        Command { flags, ..self }
    }

    /// The NSID and command dwords `write` leaves in the command's entry: a typed view's
    /// fields, written over what the command holds.
    fn with(mut self, write: impl FnOnce(&mut SubmissionEntry)) -> Self {
        let mut sqe = self.entry();
        write(&mut sqe);
        self.nsid = sqe.nsid();
        for (n, dword) in (10..=15).zip(self.cdw.iter_mut()) {
            *dword = sqe.cdw(n).expect("CDW10 to CDW15");
        }
        self
    }
}
