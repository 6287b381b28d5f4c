//! A fixed workload for counting instructions per command through the mock controller,
//! independent of machine load:
//!
//! ```sh
//! cargo build --release --example controller_round_trips
//! valgrind --tool=callgrind target/release/examples/controller_round_trips 4096    # or 131072
//! ```
//!
//! It runs 10,000 Write + Read pairs of the given size (20,000 commands) through the full
//! host + controller path, after a bring-up of a few hundred thousand instructions: divide the
//! total by 20,000 for instructions per command.

use nvme_dma_testkit::rig;

use nvme_dma::controller::ControllerConfig;
use nvme_dma::dptr::{Request, SglPolicy};
use nvme_dma::spec::Opcode;
use nvme_dma::Direction;
use nvme_dma::Extent;
use nvme_dma::QueueKind;
use nvme_dma_testkit::pattern::pattern;
use rig::{io_sqe, Rig, DATA};

fn main() {
    let size: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(4096);
    let mut rig = Rig::new(ControllerConfig::default());
    rig.create_io_pair(1, 256);
    let blocks = u32::try_from(size / 512).expect("size in blocks");
    rig.poke(DATA, &pattern(1, size as usize));
    let mut write = io_sqe(Opcode::NVM_WRITE, 1, 0, blocks);
    let src = [Extent::new(DATA, size)];
    rig.fill(
        &mut write,
        &Request::new(&src, Direction::Write, QueueKind::Io),
        SglPolicy::Never,
    );
    // The read lands in the same buffer it was written from, so one list serves both.
    let mut read = write;
    read.set_opcode(Opcode::NVM_READ);
    for _ in 0..10_000 {
        let w = rig.exec(1, write);
        let r = rig.exec(1, read);
        assert!(w.status().is_success() && r.status().is_success());
    }
    println!(
        "{}",
        rig.peek(DATA, 8)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
}
