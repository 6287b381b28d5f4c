//! The device side in three calls: decode against the controller (PSDT, MDTS), walk into a
//! caller's buffer, move the data through the pieces with nothing moved on any failure.

use nvme_dma::dptr::{ControllerCaps, DeviceCommand, DeviceError, Transfer};
use nvme_dma::memory::{DataMover, MoveError};
use nvme_dma::prp::{PrpBuilder, PrpListPage};
use nvme_dma::sgl::{SegmentBuf, SglBuilder, SglCaps};
use nvme_dma::spec::{MaxTransfer, Opcode, Psdt, SglSupport, Sgls, Status, SubmissionEntry};
use nvme_dma::{DmaFault, Extent, PageSize, Piece, QueueKind, SimMemory};

const LIST: u64 = 0x8000_0000;

fn caps(max: u64) -> ControllerCaps {
    ControllerCaps {
        page_size: PageSize::SIZE_4K,
        sgl: SglCaps::new(Sgls::from_support(SglSupport::DwordAligned) | Sgls::BIT_BUCKET),
        max_transfer: MaxTransfer::Bytes(max),
    }
}

/// Host memory with every extent and the list page mapped, the data areas poisoned.
fn memory(extents: &[Extent]) -> SimMemory {
    let mut mem = SimMemory::new();
    for e in extents {
        mem.map(e.addr, e.len).unwrap();
        mem.poke(e.addr, &vec![0xee; e.len as usize]).unwrap();
    }
    mem.map(LIST, 0x1000).unwrap();
    mem
}

/// A Read SQE whose PRPs describe `extents`, with the list written into `mem`.
fn prp_read(extents: &[Extent], mem: &mut SimMemory) -> SubmissionEntry {
    let mut list = vec![0u8; 4096];
    let layout = PrpBuilder::new(PageSize::SIZE_4K)
        .build(extents, &mut [PrpListPage::new(LIST, &mut list)])
        .unwrap();
    mem.poke(LIST, &list).unwrap();
    SubmissionEntry::new(Opcode::NVM_READ, 1)
        .with_prp1(layout.pair.prp1)
        .with_prp2(layout.pair.prp2.raw())
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + 3) as u8).collect()
}

#[test]
fn a_read_lands_in_every_extent_in_order() {
    let extents = [
        Extent::new(0x1_0200, 0xe00),
        Extent::new(0x5_0000, 0x2000),
        Extent::new(0x9_0000, 0x200),
    ];
    let mut mem = memory(&extents);
    let sqe = prp_read(&extents, &mut mem);
    let data = pattern(0x3000);
    let cmd =
        DeviceCommand::decode(&sqe, QueueKind::Io, &caps(1 << 20), Transfer::read(0x3000)).unwrap();
    let mut pieces = [Piece::Skip(0); 8];
    let n = cmd.data_pieces(&mem, &mut pieces).unwrap();
    assert_eq!(n, 3);
    DataMover::new(&pieces[..n], &mem)
        .unwrap()
        .to_host(&mut mem, &data)
        .unwrap();
    let mut at = 0;
    for e in &extents {
        assert_eq!(
            mem.peek_vec(e.addr, e.len as usize).unwrap(),
            data[at..at + e.len as usize],
            "{e}"
        );
        at += e.len as usize;
    }
}

#[test]
fn a_write_gathers_in_chunks_of_any_size() {
    let extents = [Extent::new(0x1_0000, 0x1000), Extent::new(0x3_0000, 0x800)];
    let mut mem = memory(&extents);
    let host = pattern(0x1800);
    mem.poke(0x1_0000, &host[..0x1000]).unwrap();
    mem.poke(0x3_0000, &host[0x1000..]).unwrap();
    let pieces: Vec<Piece> = extents.iter().map(Piece::from).collect();
    for chunk in [1usize, 7, 0x200, 0x1001, 0x1800] {
        let mut mover = DataMover::new(&pieces, &mem).unwrap();
        let mut got = vec![0u8; 0x1800];
        for part in got.chunks_mut(chunk) {
            mover.from_host(&mem, part).unwrap();
        }
        assert_eq!(mover.remaining(), 0);
        assert_eq!(got, host, "chunks of {chunk}");
    }
}

#[test]
fn bit_buckets_are_skipped_and_count_toward_the_transfer() {
    let mut mem = memory(&[Extent::new(0x1000, 0x100), Extent::new(0x4000, 0x100)]);
    let pieces = [
        Piece::Data(Extent::new(0x1000, 0x100)),
        Piece::Skip(0x300),
        Piece::Data(Extent::new(0x4000, 0x100)),
    ];
    let data = pattern(0x500);
    let mut mover = DataMover::new(&pieces, &mem).unwrap();
    assert_eq!(mover.len(), 0x500);
    mover.to_host(&mut mem, &data).unwrap();
    assert_eq!(mem.peek_vec(0x1000, 0x100).unwrap(), data[..0x100]);
    assert_eq!(mem.peek_vec(0x4000, 0x100).unwrap(), data[0x400..]);
    assert_eq!(mem.bytes_written(), 0x200, "nothing written for the bucket");
}

#[test]
fn a_buffer_that_faults_anywhere_moves_nothing() {
    // The second buffer is not backed: the first must not be written either.
    let mut mem = memory(&[Extent::new(0x1000, 0x1000)]);
    let pieces = [
        Piece::Data(Extent::new(0x1000, 0x1000)),
        Piece::Data(Extent::new(0x7000, 0x1000)),
    ];
    let err = DataMover::new(&pieces, &mem).unwrap_err();
    assert_eq!(
        err,
        MoveError::Fault(DmaFault {
            addr: 0x7000,
            len: 0x1000
        })
    );
    assert_eq!(err.status(), Status::DATA_TRANSFER_ERROR.with_dnr(true));
    assert_eq!(mem.write_count(), 0);
    assert_eq!(mem.peek_vec(0x1000, 0x1000).unwrap(), vec![0xee; 0x1000]);
    let device: DeviceError = err.into();
    assert_eq!(device.status(), Status::DATA_TRANSFER_ERROR.with_dnr(true));
    // The mover never overruns the pieces, whatever it is handed.
    let mut mover = DataMover::new(&pieces[..1], &mem).unwrap();
    assert_eq!(
        mover.to_host(&mut mem, &[0; 0x1001]),
        Err(MoveError::PastEnd { len: 0x1000 })
    );
    assert_eq!(mem.write_count(), 0);
}

#[test]
fn fabrics_pieces_are_not_host_memory() {
    let mem = SimMemory::new();
    let piece = Piece::Capsule {
        offset: 0,
        len: 0x10,
    };
    let err = DataMover::new(&[piece], &mem).unwrap_err();
    assert_eq!(err, MoveError::NotHostMemory(piece));
    assert_eq!(
        err.status(),
        Status::SGL_DESCRIPTOR_TYPE_INVALID.with_dnr(true)
    );
}

#[test]
fn mdts_psdt_and_walk_errors_each_carry_their_status() {
    let extents = [Extent::new(0x1_0000, 0x3000)];
    let mut mem = memory(&extents);
    let sqe = prp_read(&extents, &mut mem);
    // One byte over MDTS: Invalid Field in Command, before anything is read.
    let err = DeviceCommand::decode(&sqe, QueueKind::Io, &caps(0x2000), Transfer::read(0x3000))
        .unwrap_err();
    assert_eq!(
        err,
        DeviceError::TransferTooLong {
            len: 0x3000,
            max: 0x2000
        }
    );
    assert_eq!(err.status(), Status::INVALID_FIELD.with_dnr(true));
    assert!(err.to_string().contains("MDTS"), "{err}");
    assert!(
        DeviceCommand::decode(&sqe, QueueKind::Io, &caps(0x3000), Transfer::read(0x3000)).is_ok()
    );
    // PSDT 11b.
    let reserved = sqe.with_psdt(Psdt::Reserved);
    let err = DeviceCommand::decode(&reserved, QueueKind::Io, &caps(1 << 20), Transfer::read(1))
        .unwrap_err();
    assert_eq!(err.status(), Status::INVALID_FIELD.with_dnr(true));
    // A list entry with an offset: PRP Offset Invalid from the walk.
    mem.poke(LIST, &0x1_2010u64.to_le_bytes()).unwrap();
    let cmd =
        DeviceCommand::decode(&sqe, QueueKind::Io, &caps(1 << 20), Transfer::read(0x3000)).unwrap();
    let err = cmd.data_pieces(&mem, &mut [Piece::Skip(0); 4]).unwrap_err();
    assert_eq!(err.status(), Status::PRP_OFFSET_INVALID.with_dnr(true));
}

#[test]
fn a_buffer_too_small_for_the_walk_is_said_so() {
    let extents: Vec<Extent> = (0..4u64)
        .map(|i| Extent::new((2 * i + 1) << 16, 0x1000))
        .collect();
    let mut mem = memory(&extents);
    let sqe = prp_read(&extents, &mut mem);
    let cmd =
        DeviceCommand::decode(&sqe, QueueKind::Io, &caps(1 << 20), Transfer::read(0x4000)).unwrap();
    assert_eq!(
        cmd.data_pieces(&mem, &mut [Piece::Skip(0); 3]),
        Err(DeviceError::TooManyPieces { room: 3 })
    );
    assert_eq!(cmd.data_pieces(&mem, &mut [Piece::Skip(0); 4]), Ok(4));
}

/// `ControllerCaps::max_data_pieces` is room enough for the worst PRP command MDTS allows (its
/// first byte on the last dword of a page, every page elsewhere), and one piece less is not.
#[test]
fn max_data_pieces_fits_the_worst_prp_command_exactly() {
    let mdts = 0x2_0000;
    let prp_only = ControllerCaps {
        sgl: SglCaps::new(Sgls::empty()),
        ..caps(mdts)
    };
    let room = prp_only.max_data_pieces().unwrap();
    assert_eq!(room, 33);
    // 4 bytes, 31 whole pages, then the rest of the transfer, each on a page of its own.
    let mut extents = vec![Extent::new(0x10_0ffc, 4)];
    extents.extend((0..31u64).map(|i| Extent::new((2 * i + 3) << 16, 0x1000)));
    extents.push(Extent::new(0x100 << 16, mdts - 4 - 31 * 0x1000));
    let mut mem = memory(&extents);
    let sqe = prp_read(&extents, &mut mem);
    let cmd = DeviceCommand::decode(&sqe, QueueKind::Io, &prp_only, Transfer::read(mdts)).unwrap();
    let mut out = vec![Piece::Skip(0); room as usize];
    assert_eq!(cmd.data_pieces(&mem, &mut out), Ok(33));
    assert_eq!(
        cmd.data_pieces(&mem, &mut out[..32]),
        Err(DeviceError::TooManyPieces { room: 32 })
    );
    // With SGLs the walk limits decide; without an MDTS there is no bound to give.
    assert_eq!(caps(mdts).max_data_pieces(), Some(4096));
    let unlimited = ControllerCaps {
        max_transfer: MaxTransfer::Unlimited,
        ..prp_only
    };
    assert_eq!(unlimited.max_data_pieces(), None);
}

#[test]
fn an_sgl_read_with_a_bit_bucket_moves_around_it() {
    let c = caps(1 << 20);
    let pieces = [
        Piece::Data(Extent::new(0x1_0000, 0x800)),
        Piece::Skip(0x200),
        Piece::Data(Extent::new(0x2_0000, 0x600)),
    ];
    let mut mem = memory(&[Extent::new(0x1_0000, 0x800), Extent::new(0x2_0000, 0x600)]);
    let mut segment = vec![0u8; 256];
    let layout = SglBuilder::new(c.sgl, nvme_dma::Direction::Read)
        .build(&pieces, &mut [SegmentBuf::new(LIST, &mut segment)])
        .unwrap();
    mem.poke(LIST, &segment).unwrap();
    let sqe = SubmissionEntry::new(Opcode::NVM_READ, 1)
        .with_psdt(Psdt::Sgl)
        .with_sgl1(layout.sgl1.to_raw());
    let cmd = DeviceCommand::decode(&sqe, QueueKind::Io, &c, Transfer::read(0x1000)).unwrap();
    let mut out = [Piece::Skip(0); 8];
    let n = cmd.data_pieces(&mem, &mut out).unwrap();
    assert_eq!(out[..n], pieces);
    let data = pattern(0x1000);
    DataMover::new(&out[..n], &mem)
        .unwrap()
        .to_host(&mut mem, &data)
        .unwrap();
    assert_eq!(mem.peek_vec(0x1_0000, 0x800).unwrap(), data[..0x800]);
    assert_eq!(mem.peek_vec(0x2_0000, 0x600).unwrap(), data[0xa00..]);
}
