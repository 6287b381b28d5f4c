//! The crate's host driver on the crate's mock controller: bring-up, identify, queue creation
//! and deletion, reads and writes under every `SglPolicy` and every page size the controller
//! allows, error statuses, and shutdown. The two halves meet only through registers and
//! memory (`Machine` implements `RegisterAccess + DmaMemory`), so every check here is one a
//! real controller would have to pass too.

use nvme_dma::bus::RegisterAccess;
use nvme_dma::controller::{ControllerConfig, Machine, MockController, NamespaceConfig};
use nvme_dma::dptr::SglPolicy;
use nvme_dma::host::{Driver, DriverConfig, DriverError, RingError};
use nvme_dma::spec::registers::offset;
use nvme_dma::spec::{
    BlockRange, Cc, Csts, Opcode, Psdt, SglSupport, Sgls, ShutdownStatus, Status, StatusCodeType,
    SubmissionEntry,
};
use nvme_dma::{Extent, PageSize, SimMemory};

/// Host RAM the machine maps: 0 .. 64 MiB.
const RAM: u64 = 64 << 20;
/// The driver's arena: 1 MiB .. 9 MiB.
const ARENA: Extent = Extent::new(1 << 20, 8 << 20);
/// Data buffers written from: 16 MiB .. 32 MiB.
const WRITE_BUFFERS: u64 = 16 << 20;
/// Data buffers read into: 32 MiB .. 48 MiB.
const READ_BUFFERS: u64 = 32 << 20;

#[allow(dead_code)]
#[path = "qemu/layouts.rs"]
mod layouts;

use layouts::{after_read, gather, scatter};
use nvme_dma_testkit::pattern::pattern;

type Mock = Machine<SimMemory>;

fn machine(config: ControllerConfig) -> Mock {
    let mut memory = SimMemory::new();
    memory.set_logging(false);
    memory.map(0, RAM).expect("map host RAM");
    Machine::new(
        MockController::new(config).expect("a valid configuration"),
        memory,
    )
}

/// The status a failed command completed with.
fn status_of<T: std::fmt::Debug>(
    result: Result<T, DriverError<std::convert::Infallible>>,
) -> Status {
    match result {
        Err(DriverError::Command { status, .. }) => status,
        other => panic!("expected a command error, got {other:?}"),
    }
}

/// Policies that pick PRPs whenever PRPs can carry the data.
fn prefers_prp(policy: SglPolicy) -> bool {
    matches!(policy, SglPolicy::Never | SglPolicy::Linux { threshold: 0 })
}

fn flush() -> SubmissionEntry {
    SubmissionEntry::new(Opcode::NVM_FLUSH, 0).with_nsid(1)
}

#[test]
fn bring_up_reports_what_the_controller_was_built_with() {
    let config = ControllerConfig {
        max_queue_entries: 256,
        contiguous_queues_required: true,
        mdts: 6,
        serial: "DRIVER-ON-MOCK",
        namespaces: vec![
            NamespaceConfig::new(4096, 512),
            NamespaceConfig::new(100, 4096),
        ],
        ..ControllerConfig::default()
    };
    let mut driver = Driver::start(machine(config.clone()), DriverConfig::new(ARENA)).unwrap();
    let cap = driver.cap();
    assert_eq!(cap.max_queue_entries(), 256);
    assert!(cap.cqr());
    assert_eq!((cap.page_size_min(), cap.page_size_max()), (4096, 65536));
    let id = *driver.identify().expect("identified");
    assert_eq!(id.serial_str(), Some("DRIVER-ON-MOCK"));
    assert_eq!(id.mdts, 6);
    assert_eq!(id.sgls.get(), config.sgls.bits());
    // MDTS counts CAP.MPSMIN pages: 2^6 × 4 KiB.
    assert_eq!(driver.controller().max_transfer.bytes(), Some(256 * 1024));
    assert!(driver.controller().sgl.supported() && driver.controller().sgl.dword_granular());
    let ns = driver.namespace();
    assert_eq!(
        (ns.nsid, ns.blocks, ns.block_size, ns.metadata_size),
        (1, 4096, 512, 0)
    );
    let ns2 = driver.identify_namespace(2).unwrap();
    assert_eq!((ns2.blocks, ns2.block_size), (100, 4096));
    // The controller holds what the driver set up: admin queues and queue pair 1.
    let controller = &driver.bus().controller;
    assert!(controller.is_ready());
    assert!(controller.events().is_empty(), "{:?}", controller.events());
    let status = status_of(driver.identify_namespace(3));
    assert_eq!(status, Status::INVALID_NAMESPACE_OR_FORMAT.with_dnr(true));
}

#[test]
fn reads_and_writes_under_every_policy_and_page_size() {
    // Dword-aligned SGLs with bit buckets (the default), and byte-aligned SGLs as QEMU has
    // them; MDTS 512 KiB, so that the shapes below fit one command with 64 KiB pages too.
    let dword_aligned = ControllerConfig {
        mdts: 7,
        ..ControllerConfig::default()
    };
    let byte_aligned = ControllerConfig {
        sgls: Sgls::from_support(SglSupport::ByteAligned),
        ..dword_aligned.clone()
    };
    let policies = [
        SglPolicy::Never,
        SglPolicy::LINUX,
        SglPolicy::Linux { threshold: 0 },
        SglPolicy::Always,
        SglPolicy::SmallestFootprint,
    ];
    let mut commands = 0;
    let (mut prp, mut sgl) = (0, 0);
    for config in [dword_aligned, byte_aligned] {
        let (min, max) = (config.mps_min, config.mps_max);
        let mut bus = machine(config);
        for mps in min..=max {
            let ps = PageSize::from_mps(mps).unwrap();
            let mut driver =
                Driver::start(bus, DriverConfig::new(ARENA).with_page_size(ps)).unwrap();
            assert_eq!(driver.controller().page_size, ps);
            let p = ps.bytes();
            // PRP-shaped: a dword offset into the first page, whole pages after, a short tail.
            let prp_shaped = [
                Extent::new(WRITE_BUFFERS + 0x40, p - 0x40),
                Extent::new(WRITE_BUFFERS + 3 * p, 2 * p),
                Extent::new(WRITE_BUFFERS + 8 * p, 0x40),
            ];
            // SGL-shaped: pieces that end inside pages (no PRP command can carry them).
            let sgl_shaped = [
                Extent::new(WRITE_BUFFERS + 0x100, 0x300),
                Extent::new(WRITE_BUFFERS + 2 * p + 0x20, 0x500),
                Extent::new(WRITE_BUFFERS + 5 * p, 0x400),
            ];
            // One large contiguous run: Linux's threshold picks an SGL for it.
            let contiguous = [Extent::new(WRITE_BUFFERS + p, 64 * 1024)];
            for (shape, write_pieces) in [
                ("prp-shaped", &prp_shaped[..]),
                ("sgl-shaped", &sgl_shaped[..]),
                ("contiguous", &contiguous[..]),
            ] {
                for (k, &policy) in policies.iter().enumerate() {
                    let len: u64 = write_pieces.iter().map(|e| e.len).sum();
                    let lba = 8 * k as u64 + 64 * u64::from(mps);
                    let data = pattern(lba + len, len as usize);
                    scatter(driver.bus_mut(), write_pieces, &data);
                    let what = format!("{ps} {shape} {policy:?}");
                    let written = match driver.write(lba, write_pieces, policy) {
                        Ok(done) => done,
                        // A piece that ends inside a page, then more data: only an SGL
                        // carries that, and these policies allow PRPs only.
                        Err(DriverError::NeedsSplit { .. } | DriverError::Dptr(_))
                            if shape == "sgl-shaped"
                                && matches!(
                                    policy,
                                    SglPolicy::Never | SglPolicy::Linux { threshold: 0 }
                                ) =>
                        {
                            continue;
                        }
                        Err(e) => panic!("{what}: {e}"),
                    };
                    let written = *written.last().expect("a command ran");
                    assert!(written.completion.status().is_success(), "{what}");
                    assert_eq!(written.completion.sqid(), 1);
                    let stored = driver
                        .bus()
                        .controller
                        .namespace_data(1, lba, len / 512)
                        .unwrap();
                    assert!(
                        stored == data,
                        "{what}: the namespace holds what was written"
                    );

                    // Read back into other buffers of the same shape, with a marker around them.
                    let read_pieces: Vec<Extent> = write_pieces
                        .iter()
                        .map(|e| Extent::new(e.addr - WRITE_BUFFERS + READ_BUFFERS, e.len))
                        .collect();
                    let end = read_pieces.iter().map(|e| e.addr + e.len).max().unwrap();
                    let around = Extent::new(READ_BUFFERS, end - READ_BUFFERS + p);
                    let marker = pattern(!lba, around.len as usize);
                    scatter(driver.bus_mut(), &[around], &marker);
                    let read = driver.read(lba, &read_pieces, policy).unwrap();
                    let read = *read.last().expect("a command ran");
                    assert!(read.completion.status().is_success(), "{what}");
                    assert!(
                        gather(driver.bus(), &read_pieces) == data,
                        "{what}: read data"
                    );
                    let expected = after_read(around, &marker, &read_pieces, &data);
                    assert!(
                        gather(driver.bus(), &[around]) == expected,
                        "{what}: bytes around"
                    );

                    for transfer in [written, read] {
                        match transfer.filled.psdt {
                            Psdt::Prp => prp += 1,
                            Psdt::Sgl => sgl += 1,
                            other => panic!("{what}: PSDT {other:?} for data without metadata"),
                        }
                        if prefers_prp(policy) && shape != "sgl-shaped" {
                            assert_eq!(transfer.filled.psdt, Psdt::Prp, "{what}");
                        }
                        if matches!(policy, SglPolicy::Always) {
                            assert_ne!(transfer.filled.psdt, Psdt::Prp, "{what}");
                        }
                    }
                    commands += 2;
                }
            }
            driver.shutdown().unwrap();
            bus = driver.into_bus();
            assert!(
                bus.controller.events().is_empty(),
                "{:?}",
                bus.controller.events()
            );
        }
    }
    eprintln!("driver on the mock: {commands} reads and writes, {prp} with PRPs, {sgl} with SGLs");
    assert!(prp > 0 && sgl > 0);
}

#[test]
fn queues_wrap_pairs_come_and_go_and_errors_carry_the_status() {
    let config = DriverConfig::new(ARENA)
        .with_io_entries(4)
        .with_io_queue_pairs(3);
    let mut driver = Driver::start(machine(ControllerConfig::default()), config).unwrap();
    // A 4-slot queue holds 3: one at a time, 10 commands wrap it and flip the phase each time.
    for n in 0..10u16 {
        let done = driver.submit(1, flush()).unwrap();
        assert_eq!((done.sqid(), done.sqhd()), (1, (n + 1) % 4), "command {n}");
    }
    for _ in 0..4 {
        let done = driver
            .submit_batch(1, &[flush(), flush(), flush()])
            .unwrap();
        let mut cids: Vec<u16> = done.iter().map(|c| c.cid()).collect();
        cids.sort_unstable();
        cids.dedup();
        assert_eq!(cids.len(), 3);
        assert!(done.iter().all(|c| c.status().is_success()));
    }
    assert_eq!(
        driver.submit_batch(1, &[flush(), flush(), flush(), flush()]),
        Err(DriverError::Ring {
            qid: 1,
            error: RingError::Full { entries: 4 }
        })
    );

    // Number of Queues is fixed once a queue exists.
    let status = status_of(driver.set_queue_count(8));
    assert_eq!(
        status,
        Status::new(StatusCodeType::Generic, 0x0c).with_dnr(true)
    );
    // Pairs 2 and 3 were granted; a fourth is refused by the controller.
    assert_eq!(driver.create_io_queue_pair(16), Ok(2));
    assert_eq!(driver.create_io_queue_pair(2), Ok(3));
    let status = status_of(driver.create_io_queue_pair(8));
    assert_eq!(status, Status::INVALID_QUEUE_IDENTIFIER.with_dnr(true));
    for qid in 1..=3 {
        driver.submit(qid, flush()).unwrap();
    }
    driver.delete_io_queue_pair().unwrap();
    driver.delete_io_queue_pair().unwrap();
    assert_eq!(
        driver.submit(2, flush()),
        Err(DriverError::NoSuchQueue { qid: 2 })
    );
    // Queue 2 is gone in the controller too: the identifier can be created again.
    assert_eq!(driver.create_io_queue_pair(8), Ok(2));
    driver.submit(2, flush()).unwrap();

    // Errors: an unknown namespace, a block past the end, more than MDTS.
    let bad_ns = flush().with_nsid(9);
    assert_eq!(
        status_of(driver.submit(1, bad_ns)),
        Status::INVALID_NAMESPACE_OR_FORMAT.with_dnr(true)
    );
    let blocks = driver.namespace().blocks;
    let past_end = [Extent::new(WRITE_BUFFERS, 1024)];
    assert_eq!(
        status_of(driver.read(blocks - 1, &past_end, SglPolicy::Never)),
        Status::LBA_OUT_OF_RANGE.with_dnr(true)
    );
    let max = driver.controller().max_transfer.bytes().unwrap();
    let too_long = [Extent::new(WRITE_BUFFERS, max + 4096)];
    // More than MDTS: the driver splits it into two commands, each at its own blocks, and the
    // bytes read back through another split are the bytes written.
    let data = pattern(7, (max + 4096) as usize);
    scatter(driver.bus_mut(), &too_long, &data);
    let written = driver.write(0, &too_long, SglPolicy::Never).unwrap();
    // Two commands, the second starting where the first ended, MDTS worth of blocks first.
    let blocks_of = |report: &nvme_dma::host::IoReport| {
        report
            .commands
            .iter()
            .map(|c| (c.blocks.slba(), c.blocks.blocks()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        blocks_of(&written),
        [(0, max / 512), (max / 512, 8)],
        "each chunk at its own blocks"
    );
    let back = [Extent::new(READ_BUFFERS, max + 4096)];
    let read = driver.read(0, &back, SglPolicy::Never).unwrap();
    assert_eq!(blocks_of(&read), blocks_of(&written));
    assert!(
        gather(driver.bus(), &back) == data,
        "split write, split read"
    );
    // The same command built by hand reaches the controller, which refuses it.
    let mut sqe = SubmissionEntry::new(Opcode::NVM_WRITE, 0).with_nsid(1);
    sqe.set_block_range(BlockRange::new(0, (max + 4096) / 512).unwrap());
    sqe.set_prp1(WRITE_BUFFERS);
    assert_eq!(
        status_of(driver.submit(1, sqe)),
        Status::INVALID_FIELD.with_dnr(true)
    );
    // Every refusal left the queues working.
    driver.submit(1, flush()).unwrap();

    driver.shutdown().unwrap();
    let mut bus = driver.into_bus();
    let csts = Csts::from_bits_retain(bus.read32(offset::CSTS).unwrap());
    assert_eq!(csts.shst(), ShutdownStatus::Complete);
    assert!(
        Cc(bus.read32(offset::CC).unwrap()).en(),
        "shutdown leaves CC.EN set"
    );
    // The driver deleted every I/O queue before shutting down: a restart can create them
    // again with the same identifiers.
    let mut driver = Driver::start(bus, DriverConfig::new(ARENA)).unwrap();
    driver.submit(1, flush()).unwrap();
}

#[test]
fn a_controller_without_sgls_gets_prps_whatever_the_policy() {
    let config = ControllerConfig {
        sgls: Sgls::empty(),
        ..ControllerConfig::default()
    };
    let mut driver = Driver::start(machine(config), DriverConfig::new(ARENA)).unwrap();
    assert!(!driver.controller().sgl.supported());
    let pieces = [Extent::new(WRITE_BUFFERS, 0x3000)];
    let data = pattern(7, 0x3000);
    scatter(driver.bus_mut(), &pieces, &data);
    for policy in [
        SglPolicy::Always,
        SglPolicy::LINUX,
        SglPolicy::SmallestFootprint,
    ] {
        let done = driver.write(0, &pieces, policy).unwrap();
        assert_eq!(done.commands.len(), 1, "{policy:?}");
        assert_eq!(done.commands[0].filled.psdt, Psdt::Prp, "{policy:?}");
    }
    assert!(driver.bus().controller.namespace_data(1, 0, 24).unwrap() == data);
}
