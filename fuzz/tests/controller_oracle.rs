//! The `controller` target's oracle can fail: each test plays a controller that breaks one
//! rule, by making the DMA calls itself against the monitor of a harness that has brought a
//! real controller up, and expects the monitor to stop it with that rule's message. One test
//! runs a clean round trip through the harness and checks the data arrived.

use nvme_dma::spec::{CommandId, CompletionEntry, Opcode, Status};
use nvme_dma::DmaMemory;
use nvme_dma_fuzz::controller::{
    Action, Addr, Command, Harness, Shape, BAR0, DATA, QUEUES, QUEUE_STRIDE,
};
use nvme_dma_fuzz::memory::MemorySpec;

/// SQ 1's first slot and CQ 1's first slot, where the harness's bring-up put them.
const SQ1: u64 = QUEUES + 3 * QUEUE_STRIDE;
const CQ1: u64 = QUEUES + 2 * QUEUE_STRIDE;
/// Where the planted command reads to (one 512-byte block).
const BUFFER: u64 = DATA + 0x2_0000;

fn harness() -> Harness {
    Harness::new(Shape::default(), &MemorySpec::default())
}

/// A harness with a Read of one block into `BUFFER` waiting in SQ 1's first slot, fetched by
/// the test acting as the controller.
fn fetched() -> Harness {
    let mut h = harness();
    let read = Command {
        nsid: 1,
        prp1: Addr::data(0x2_0000),
        ..Command::new(Opcode::NVM_READ, 7)
    };
    h.memory.mem.poke(SQ1, &read.entry().to_bytes()).unwrap();
    let mut sqe = [0u8; 64];
    h.memory.read(SQ1, &mut sqe).unwrap();
    h
}

fn complete(h: &mut Harness, status: Status, phase: bool, sqhd: u16) {
    let cqe = CompletionEntry::new(CommandId { sqid: 1, cid: 7 }, sqhd, status, phase);
    h.memory.write(CQ1, &cqe.to_bytes()).unwrap();
}

#[test]
fn a_clean_round_trip_passes_and_moves_the_data() {
    let mut h = harness();
    let pattern: Vec<u8> = (0..512u32).map(|i| (i * 7 + 3) as u8).collect();
    h.act(&Action::Store {
        at: Addr::data(0),
        bytes: pattern[..255].to_vec(),
    });
    h.act(&Action::Store {
        at: Addr::data(255),
        bytes: pattern[255..].to_vec(),
    });
    for (op, at, cid) in [(Opcode::NVM_WRITE, 0, 1), (Opcode::NVM_READ, 0x2_0000, 2)] {
        h.act(&Action::Submit {
            queue: 1,
            command: Command {
                nsid: 1,
                prp1: Addr::data(at),
                ..Command::new(op, cid)
            },
            quiet: false,
            hold: false,
        });
    }
    assert_eq!(h.memory.mem.peek_vec(BUFFER, 512).unwrap(), pattern);
    assert_eq!(h.controller.namespace_data(1, 0, 1).unwrap(), pattern);
}

#[test]
#[should_panic(expected = "outside any command")]
fn a_write_with_no_command_in_flight() {
    harness().memory.write(DATA, &[1; 32]).unwrap();
}

#[test]
#[should_panic(expected = "outside its buffers")]
fn a_write_outside_the_command_buffers() {
    fetched().memory.write(BUFFER + 512, &[1; 32]).unwrap();
}

#[test]
#[should_panic(expected = "reaches the register window")]
fn a_write_into_the_register_window() {
    fetched().memory.write(BAR0 - 8, &[1; 32]).unwrap();
}

#[test]
#[should_panic(expected = "but wrote")]
fn a_failed_command_that_wrote() {
    let mut h = fetched();
    h.memory.write(BUFFER, &[1; 512]).unwrap();
    complete(&mut h, Status::DATA_TRANSFER_ERROR, true, 1);
}

#[test]
fn a_successful_command_that_wrote_its_buffer_passes() {
    let mut h = fetched();
    h.memory.write(BUFFER, &[1; 512]).unwrap();
    complete(&mut h, Status::SUCCESS, true, 1);
    let posted = h.memory.take_posted();
    assert_eq!(posted.len(), 1);
    assert_eq!(posted[0].opcode, Some(Opcode::NVM_READ));
}

#[test]
#[should_panic(expected = "wrong phase tag")]
fn a_completion_with_the_wrong_phase() {
    complete(&mut fetched(), Status::SUCCESS, false, 1);
}

#[test]
#[should_panic(expected = "SQ head in the completion")]
fn a_completion_with_the_wrong_sq_head() {
    complete(&mut fetched(), Status::SUCCESS, true, 3);
}

#[test]
#[should_panic(expected = "more than the bound")]
fn a_command_that_reads_past_the_work_bound() {
    let h = fetched();
    let mut buf = vec![0u8; 4096];
    loop {
        h.memory.read(DATA, &mut buf).unwrap();
    }
}

#[test]
#[should_panic(expected = "never completed")]
fn a_command_left_without_a_completion() {
    let h = fetched();
    h.memory.sync(&h.controller, false);
}

#[test]
#[should_panic(expected = "DMA read of 64 bytes at 0x400000 outside any command")]
fn a_read_with_no_command_in_flight() {
    let h = harness();
    let mut buf = [0u8; 64];
    h.memory.read(DATA, &mut buf).unwrap();
}
