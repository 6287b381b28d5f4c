//! The host driver brings QEMU's NVMe controller up over qtest, identifies it, runs commands
//! through queues that wrap many times, and shuts it down. One QEMU for the whole file.

mod qemu;

use nvme_dma::host::{Driver, DriverConfig, DriverError, RingError};
use nvme_dma::spec::{BlockRange, Opcode, Status, StatusCodeType, SubmissionEntry};
use nvme_dma::Extent;
use qemu::{Qemu, IMAGE_BYTES};

/// The driver's arena: 1 MiB .. 32 MiB of guest RAM.
const ARENA: Extent = Extent::new(1 << 20, 31 << 20);

/// Generic status 0Ch.
const COMMAND_SEQUENCE_ERROR: Status = Status::new(StatusCodeType::Generic, 0x0c);

fn flush() -> SubmissionEntry {
    SubmissionEntry::new(Opcode::NVM_FLUSH, 0).with_nsid(1)
}

#[test]
fn bring_up_identify_queues_and_shutdown() {
    let Some(qemu) = Qemu::start("bringup", "") else {
        return;
    };
    let config = DriverConfig::new(ARENA)
        .with_io_entries(4)
        .with_io_queue_pairs(2);
    let mut driver = Driver::start(qemu, config).expect("bring-up");

    // What the controller reports, for CONFORMANCE.md.
    let cap = driver.cap();
    let id = *driver.identify().expect("identified");
    eprintln!(
        "QEMU NVMe: VS {}.{}.{}, CAP {:#018x} (MQES+1 {}, CQR {}, TO {} ms, DSTRD {}, pages {}..={} B), \
         MDTS {}, SGLS {:#x}, MSDBD {}, SQES {:#x}, CQES {:#x}, model {:?}",
        id.version().major(),
        id.version().minor(),
        id.version().tertiary(),
        cap.raw(),
        cap.max_queue_entries(),
        cap.cqr(),
        cap.timeout_ms(),
        cap.dstrd(),
        cap.page_size_min(),
        cap.page_size_max(),
        id.mdts,
        id.sgls.get(),
        id.msdbd,
        id.sqes,
        id.cqes,
        id.model_str(),
    );

    // Identify data really crossed the DMA path: the serial number given on QEMU's command line
    // and a namespace as large as the image file.
    assert_eq!(id.serial_str(), Some("nvmedma0"));
    assert_eq!(id.sqes_required(), 6, "64-byte submission entries");
    assert_eq!(id.cqes_required(), 4, "16-byte completion entries");
    let ns = driver.namespace();
    assert_eq!(ns.block_size, 512);
    assert_eq!(ns.blocks * ns.block_size, IMAGE_BYTES);

    // A 4-slot I/O queue holds 3 commands: one at a time, 20 commands wrap it 5 times and
    // flip the completion phase each time.
    for n in 0..20 {
        let done = driver
            .submit(1, flush())
            .unwrap_or_else(|e| panic!("flush {n}: {e}"));
        assert_eq!(done.sqid(), 1);
    }
    // Three in flight at once, again and again: the controller sees the queue full.
    for round in 0..5 {
        let done = driver
            .submit_batch(1, &[flush(), flush(), flush()])
            .unwrap_or_else(|e| panic!("batch {round}: {e}"));
        let mut cids: Vec<u16> = done.iter().map(|c| c.cid()).collect();
        assert!(done.iter().all(|c| c.status().is_success()));
        cids.sort_unstable();
        cids.dedup();
        assert_eq!(cids.len(), 3, "three commands in flight, three CIDs");
    }
    // A fourth would make head == tail: refused before anything is written.
    let err = driver
        .submit_batch(1, &[flush(), flush(), flush(), flush()])
        .unwrap_err();
    assert_eq!(
        err,
        DriverError::Ring {
            qid: 1,
            error: RingError::Full { entries: 4 }
        }
    );
    driver.submit(1, flush()).expect("the queue still works");

    // Errors carry the controller's status.
    let bad_ns = SubmissionEntry::new(Opcode::NVM_FLUSH, 0).with_nsid(0xdead);
    match driver.submit(1, bad_ns) {
        Err(DriverError::Command { status, qid: 1, .. }) => {
            assert!(
                status.same_code(Status::INVALID_NAMESPACE_OR_FORMAT),
                "{status}"
            )
        }
        other => panic!("flush of namespace DEADh: {other:?}"),
    }
    let page = driver.arena_mut().alloc(1).expect("a page");
    let mut past_end = SubmissionEntry::new(Opcode::NVM_READ, 0).with_nsid(1);
    past_end.set_prp1(page.addr);
    // One block at the first LBA past the end.
    past_end.set_block_range(BlockRange::new(ns.blocks, 1).unwrap());
    match driver.submit(1, past_end) {
        Err(DriverError::Command { status, .. }) => {
            assert!(status.same_code(Status::LBA_OUT_OF_RANGE), "{status}")
        }
        other => panic!("read past the end: {other:?}"),
    }

    // A second queue pair comes and goes; the first keeps working.
    // Number of Queues may be set only before I/O queues exist (Command Sequence Error after).
    match driver.set_queue_count(2) {
        Err(DriverError::Command { status, .. }) => {
            assert!(status.same_code(COMMAND_SEQUENCE_ERROR), "{status}")
        }
        other => panic!("Set Features Number of Queues after queue creation: {other:?}"),
    }
    assert_eq!(driver.create_io_queue_pair(8), Ok(2));
    driver.submit(2, flush()).expect("flush on queue 2");
    driver.delete_io_queue_pair().expect("delete queue pair 2");
    assert!(matches!(
        driver.submit(2, flush()),
        Err(DriverError::NoSuchQueue { qid: 2 })
    ));
    driver.submit(1, flush()).expect("queue 1 after deleting 2");

    driver.shutdown().expect("normal shutdown");
    let qemu = driver.into_bus();
    eprintln!("qtest commands sent: {}", qemu.commands_sent());
}
