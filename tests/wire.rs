//! Known byte vectors for real commands and completions, written by hand from the
//! specification's layouts, compared with what the `spec` setters produce and read back
//! through the getters.

use nvme_dma::spec::features::FID_NUMBER_OF_QUEUES;
use nvme_dma::spec::identify::CNS_CONTROLLER;
use nvme_dma::spec::log::{LogPageRequest, LID_SMART};
use nvme_dma::spec::{
    Abort, BlockRange, CommandId, CompletionEntry, CreateIoCq, CreateIoSq, DataDirection,
    DatasetManagement, DeleteIoQueue, DsmRange, DsmRangeCount, Fuse, GetFeatures, Identify,
    NumberOfQueues, Opcode, Psdt, QueueCount, QueuePriority, QueueSize, SetFeatures, SglDescriptor,
    SglDescriptorType, SglSubtype, Status, StatusCodeType, SubmissionEntry, WriteZeroes,
};
use zerocopy::{FromBytes, IntoBytes};

/// Identify Controller: opcode 06h, CID 1, NSID 0, PRP1 = 0x1234_5000 (the 4 KiB buffer),
/// PRP2 unused, CDW10 CNS = 01h.
const IDENTIFY_CONTROLLER: [u8; 64] = [
    0x06, 0x00, 0x01, 0x00, // CDW0: OPC 06h, FUSE 0, PSDT 00b, CID 0001h
    0x00, 0x00, 0x00, 0x00, // NSID 0
    0x00, 0x00, 0x00, 0x00, // CDW2
    0x00, 0x00, 0x00, 0x00, // CDW3
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // MPTR
    0x00, 0x50, 0x34, 0x12, 0x00, 0x00, 0x00, 0x00, // PRP1
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // PRP2
    0x01, 0x00, 0x00, 0x00, // CDW10: CNS 01h, CNTID 0
    0x00, 0x00, 0x00, 0x00, // CDW11
    0x00, 0x00, 0x00, 0x00, // CDW12
    0x00, 0x00, 0x00, 0x00, // CDW13
    0x00, 0x00, 0x00, 0x00, // CDW14
    0x00, 0x00, 0x00, 0x00, // CDW15
];

/// Read: opcode 02h, CID 0010h, NSID 1, 8 blocks of 512 bytes (NLB = 7, zero-based) from
/// SLBA 0x1_2345_6789 into a buffer that starts 0x200 into a page and so spans two pages:
/// PRP1 = 0x1_0000_0200, PRP2 = 0x1_0000_3000 (the second page, offset 0).
const READ_TWO_PAGES: [u8; 64] = [
    0x02, 0x00, 0x10, 0x00, // CDW0: OPC 02h, CID 0010h
    0x01, 0x00, 0x00, 0x00, // NSID 1
    0x00, 0x00, 0x00, 0x00, // CDW2
    0x00, 0x00, 0x00, 0x00, // CDW3
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // MPTR
    0x00, 0x02, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, // PRP1
    0x00, 0x30, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, // PRP2
    0x89, 0x67, 0x45, 0x23, // CDW10: SLBA bits 31:0
    0x01, 0x00, 0x00, 0x00, // CDW11: SLBA bits 63:32
    0x07, 0x00, 0x00, 0x00, // CDW12: NLB 7 (8 blocks)
    0x00, 0x00, 0x00, 0x00, // CDW13
    0x00, 0x00, 0x00, 0x00, // CDW14
    0x00, 0x00, 0x00, 0x00, // CDW15
];

/// Write: opcode 01h, CID BEEFh, NSID 1, 256 blocks (NLB = FFh) at SLBA 0 with FUA (CDW12
/// bit 30); the 128 KiB buffer needs a PRP list: PRP1 = 0x8000_0000 (first page),
/// PRP2 = 0x9000_0000 (PRP List pointer).
const WRITE_PRP_LIST: [u8; 64] = [
    0x01, 0x00, 0xEF, 0xBE, // CDW0: OPC 01h, CID BEEFh
    0x01, 0x00, 0x00, 0x00, // NSID 1
    0x00, 0x00, 0x00, 0x00, // CDW2
    0x00, 0x00, 0x00, 0x00, // CDW3
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // MPTR
    0x00, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, // PRP1
    0x00, 0x00, 0x00, 0x90, 0x00, 0x00, 0x00, 0x00, // PRP2 (list pointer)
    0x00, 0x00, 0x00, 0x00, // CDW10: SLBA bits 31:0
    0x00, 0x00, 0x00, 0x00, // CDW11: SLBA bits 63:32
    0xFF, 0x00, 0x00, 0x40, // CDW12: NLB FFh, FUA
    0x00, 0x00, 0x00, 0x00, // CDW13
    0x00, 0x00, 0x00, 0x00, // CDW14
    0x00, 0x00, 0x00, 0x00, // CDW15
];

/// Read with an SGL: PSDT 01b, CID 0020h, NSID 1, 8 blocks at SLBA 0; SGL1 is one Data Block
/// descriptor: address 0x1_0000_0000, length 4096, type 0h, subtype 0h.
const READ_SGL_DATA_BLOCK: [u8; 64] = [
    0x02, 0x40, 0x20, 0x00, // CDW0: OPC 02h, PSDT 01b (bits 15:14), CID 0020h
    0x01, 0x00, 0x00, 0x00, // NSID 1
    0x00, 0x00, 0x00, 0x00, // CDW2
    0x00, 0x00, 0x00, 0x00, // CDW3
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // MPTR
    0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, // SGL1 address
    0x00, 0x10, 0x00, 0x00, // SGL1 length 4096
    0x00, 0x00, 0x00, // SGL1 reserved
    0x00, // SGL1 identifier: Data Block, Address
    0x00, 0x00, 0x00, 0x00, // CDW10
    0x00, 0x00, 0x00, 0x00, // CDW11
    0x07, 0x00, 0x00, 0x00, // CDW12: NLB 7
    0x00, 0x00, 0x00, 0x00, // CDW13
    0x00, 0x00, 0x00, 0x00, // CDW14
    0x00, 0x00, 0x00, 0x00, // CDW15
];

/// The completion of the Identify above, on a fresh admin CQ: DW0/DW1 0, SQHD 1, SQID 0,
/// CID 1, phase 1, Successful Completion.
const IDENTIFY_DONE: [u8; 16] = [
    0x00, 0x00, 0x00, 0x00, // DW0
    0x00, 0x00, 0x00, 0x00, // DW1
    0x01, 0x00, // SQHD 1
    0x00, 0x00, // SQID 0
    0x01, 0x00, // CID 1
    0x01, 0x00, // P = 1, status 0
];

/// The SGL read failing: SQHD 11h, SQID 1, CID 0020h, phase 0 (second pass of the queue),
/// Data SGL Length Invalid with DNR. Status = 4000h | 0Fh = 400Fh, shifted left one bit
/// above P: 801Eh.
const SGL_READ_FAILED: [u8; 16] = [
    0x00, 0x00, 0x00, 0x00, // DW0
    0x00, 0x00, 0x00, 0x00, // DW1
    0x11, 0x00, // SQHD
    0x01, 0x00, // SQID 1
    0x20, 0x00, // CID 0020h
    0x1E, 0x80, // P = 0, status 400Fh
];

/// Create I/O Completion Queue: opcode 05h, CID 2, 64 entries at PRP1 = 0x10_0000,
/// physically contiguous, interrupts on vector 3.
const CREATE_IO_CQ: [u8; 64] = [
    0x05, 0x00, 0x02, 0x00, // CDW0: OPC 05h, CID 0002h
    0x00, 0x00, 0x00, 0x00, // NSID 0
    0x00, 0x00, 0x00, 0x00, // CDW2
    0x00, 0x00, 0x00, 0x00, // CDW3
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // MPTR
    0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, // PRP1
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // PRP2
    0x01, 0x00, 0x3F, 0x00, // CDW10: QID 1, QSIZE 3Fh (64 entries, zero-based)
    0x03, 0x00, 0x03, 0x00, // CDW11: PC 1, IEN 1, IV 3
    0x00, 0x00, 0x00, 0x00, // CDW12
    0x00, 0x00, 0x00, 0x00, // CDW13
    0x00, 0x00, 0x00, 0x00, // CDW14
    0x00, 0x00, 0x00, 0x00, // CDW15
];

/// Create I/O Submission Queue: opcode 01h, CID 3, 64 entries at PRP1 = 0x20_0000,
/// physically contiguous, priority Medium, feeding completion queue 1.
const CREATE_IO_SQ: [u8; 64] = [
    0x01, 0x00, 0x03, 0x00, // CDW0: OPC 01h, CID 0003h
    0x00, 0x00, 0x00, 0x00, // NSID 0
    0x00, 0x00, 0x00, 0x00, // CDW2
    0x00, 0x00, 0x00, 0x00, // CDW3
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // MPTR
    0x00, 0x00, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, // PRP1
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // PRP2
    0x01, 0x00, 0x3F, 0x00, // CDW10: QID 1, QSIZE 3Fh
    0x05, 0x00, 0x01, 0x00, // CDW11: PC 1, QPRIO 10b (bits 2:1), CQID 1
    0x00, 0x00, 0x00, 0x00, // CDW12: NVMSETID 0
    0x00, 0x00, 0x00, 0x00, // CDW13
    0x00, 0x00, 0x00, 0x00, // CDW14
    0x00, 0x00, 0x00, 0x00, // CDW15
];

/// Delete I/O Submission Queue 1: opcode 00h, CID 4.
const DELETE_IO_SQ: [u8; 64] = [
    0x00, 0x00, 0x04, 0x00, // CDW0: OPC 00h, CID 0004h
    0x00, 0x00, 0x00, 0x00, // NSID 0
    0x00, 0x00, 0x00, 0x00, // CDW2
    0x00, 0x00, 0x00, 0x00, // CDW3
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // MPTR
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // PRP1
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // PRP2
    0x01, 0x00, 0x00, 0x00, // CDW10: QID 1
    0x00, 0x00, 0x00, 0x00, // CDW11
    0x00, 0x00, 0x00, 0x00, // CDW12
    0x00, 0x00, 0x00, 0x00, // CDW13
    0x00, 0x00, 0x00, 0x00, // CDW14
    0x00, 0x00, 0x00, 0x00, // CDW15
];

/// Delete I/O Completion Queue 1: opcode 04h, CID 5.
const DELETE_IO_CQ: [u8; 64] = [
    0x04, 0x00, 0x05, 0x00, // CDW0: OPC 04h, CID 0005h
    0x00, 0x00, 0x00, 0x00, // NSID 0
    0x00, 0x00, 0x00, 0x00, // CDW2
    0x00, 0x00, 0x00, 0x00, // CDW3
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // MPTR
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // PRP1
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // PRP2
    0x01, 0x00, 0x00, 0x00, // CDW10: QID 1
    0x00, 0x00, 0x00, 0x00, // CDW11
    0x00, 0x00, 0x00, 0x00, // CDW12
    0x00, 0x00, 0x00, 0x00, // CDW13
    0x00, 0x00, 0x00, 0x00, // CDW14
    0x00, 0x00, 0x00, 0x00, // CDW15
];

/// Identify, the list of the subsystem's controllers from CNTID 0010h on: opcode 06h, CID 6,
/// CNS 13h, into PRP1 = 0x30_0000.
const IDENTIFY_CONTROLLER_LIST: [u8; 64] = [
    0x06, 0x00, 0x06, 0x00, // CDW0: OPC 06h, CID 0006h
    0x00, 0x00, 0x00, 0x00, // NSID 0
    0x00, 0x00, 0x00, 0x00, // CDW2
    0x00, 0x00, 0x00, 0x00, // CDW3
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // MPTR
    0x00, 0x00, 0x30, 0x00, 0x00, 0x00, 0x00, 0x00, // PRP1
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // PRP2
    0x13, 0x00, 0x10, 0x00, // CDW10: CNS 13h, CNTID 0010h
    0x00, 0x00, 0x00, 0x00, // CDW11
    0x00, 0x00, 0x00, 0x00, // CDW12
    0x00, 0x00, 0x00, 0x00, // CDW13
    0x00, 0x00, 0x00, 0x00, // CDW14
    0x00, 0x00, 0x00, 0x00, // CDW15
];

/// Set Features, Number of Queues: opcode 09h, CID 7, 4 submission and 2 completion queues
/// asked for, not saved.
const SET_NUMBER_OF_QUEUES: [u8; 64] = [
    0x09, 0x00, 0x07, 0x00, // CDW0: OPC 09h, CID 0007h
    0x00, 0x00, 0x00, 0x00, // NSID 0
    0x00, 0x00, 0x00, 0x00, // CDW2
    0x00, 0x00, 0x00, 0x00, // CDW3
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // MPTR
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // PRP1
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // PRP2
    0x07, 0x00, 0x00, 0x00, // CDW10: FID 07h, SV 0
    0x03, 0x00, 0x01, 0x00, // CDW11: NSQR 3, NCQR 1 (zero-based)
    0x00, 0x00, 0x00, 0x00, // CDW12
    0x00, 0x00, 0x00, 0x00, // CDW13
    0x00, 0x00, 0x00, 0x00, // CDW14
    0x00, 0x00, 0x00, 0x00, // CDW15
];

/// Get Features, Number of Queues: opcode 0Ah, CID 8, the current value (SEL 000b).
const GET_NUMBER_OF_QUEUES: [u8; 64] = [
    0x0A, 0x00, 0x08, 0x00, // CDW0: OPC 0Ah, CID 0008h
    0x00, 0x00, 0x00, 0x00, // NSID 0
    0x00, 0x00, 0x00, 0x00, // CDW2
    0x00, 0x00, 0x00, 0x00, // CDW3
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // MPTR
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // PRP1
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // PRP2
    0x07, 0x00, 0x00, 0x00, // CDW10: FID 07h, SEL 0
    0x00, 0x00, 0x00, 0x00, // CDW11
    0x00, 0x00, 0x00, 0x00, // CDW12
    0x00, 0x00, 0x00, 0x00, // CDW13
    0x00, 0x00, 0x00, 0x00, // CDW14
    0x00, 0x00, 0x00, 0x00, // CDW15
];

/// Abort command 0020h of submission queue 1: opcode 08h, CID 9.
const ABORT: [u8; 64] = [
    0x08, 0x00, 0x09, 0x00, // CDW0: OPC 08h, CID 0009h
    0x00, 0x00, 0x00, 0x00, // NSID 0
    0x00, 0x00, 0x00, 0x00, // CDW2
    0x00, 0x00, 0x00, 0x00, // CDW3
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // MPTR
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // PRP1
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // PRP2
    0x01, 0x00, 0x20, 0x00, // CDW10: SQID 1, CID 0020h
    0x00, 0x00, 0x00, 0x00, // CDW11
    0x00, 0x00, 0x00, 0x00, // CDW12
    0x00, 0x00, 0x00, 0x00, // CDW13
    0x00, 0x00, 0x00, 0x00, // CDW14
    0x00, 0x00, 0x00, 0x00, // CDW15
];

/// Write Zeroes: opcode 08h (NVM), CID 000Ah, NSID 1, 16 blocks from SLBA 0x1_0000_1000,
/// deallocating them.
const WRITE_ZEROES_DEALLOCATE: [u8; 64] = [
    0x08, 0x00, 0x0A, 0x00, // CDW0: OPC 08h, CID 000Ah
    0x01, 0x00, 0x00, 0x00, // NSID 1
    0x00, 0x00, 0x00, 0x00, // CDW2
    0x00, 0x00, 0x00, 0x00, // CDW3
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // MPTR
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // PRP1
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // PRP2
    0x00, 0x10, 0x00, 0x00, // CDW10: SLBA bits 31:0
    0x01, 0x00, 0x00, 0x00, // CDW11: SLBA bits 63:32
    0x0F, 0x00, 0x00, 0x02, // CDW12: NLB Fh (16 blocks), DEAC (bit 25)
    0x00, 0x00, 0x00, 0x00, // CDW13
    0x00, 0x00, 0x00, 0x00, // CDW14
    0x00, 0x00, 0x00, 0x00, // CDW15
];

/// Dataset Management: opcode 09h (NVM), CID 000Bh, NSID 1, two ranges at PRP1 = 0x40_0000
/// ([`DSM_RANGES`]), deallocate.
const DSM_DEALLOCATE: [u8; 64] = [
    0x09, 0x00, 0x0B, 0x00, // CDW0: OPC 09h, CID 000Bh
    0x01, 0x00, 0x00, 0x00, // NSID 1
    0x00, 0x00, 0x00, 0x00, // CDW2
    0x00, 0x00, 0x00, 0x00, // CDW3
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // MPTR
    0x00, 0x00, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00, // PRP1
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // PRP2
    0x01, 0x00, 0x00, 0x00, // CDW10: NR 1 (two ranges, zero-based)
    0x04, 0x00, 0x00, 0x00, // CDW11: AD (bit 2); IDR, IDW 0
    0x00, 0x00, 0x00, 0x00, // CDW12
    0x00, 0x00, 0x00, 0x00, // CDW13
    0x00, 0x00, 0x00, 0x00, // CDW14
    0x00, 0x00, 0x00, 0x00, // CDW15
];

/// Get Log Page, SMART / Health Information: opcode 02h, CID 000Ch, NSID FFFFFFFFh, the
/// whole 512-byte page (128 dwords) into PRP1 = 0x50_0000, from offset 0.
const GET_SMART_LOG: [u8; 64] = [
    0x02, 0x00, 0x0C, 0x00, // CDW0: OPC 02h, CID 000Ch
    0xFF, 0xFF, 0xFF, 0xFF, // NSID FFFFFFFFh
    0x00, 0x00, 0x00, 0x00, // CDW2
    0x00, 0x00, 0x00, 0x00, // CDW3
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // MPTR
    0x00, 0x00, 0x50, 0x00, 0x00, 0x00, 0x00, 0x00, // PRP1
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // PRP2
    0x02, 0x00, 0x7F, 0x00, // CDW10: LID 02h, NUMDL 7Fh (128 dwords, zero-based)
    0x00, 0x00, 0x00, 0x00, // CDW11: NUMDU 0
    0x00, 0x00, 0x00, 0x00, // CDW12: LPOL 0
    0x00, 0x00, 0x00, 0x00, // CDW13: LPOU 0
    0x00, 0x00, 0x00, 0x00, // CDW14
    0x00, 0x00, 0x00, 0x00, // CDW15
];

/// The two ranges of [`DSM_DEALLOCATE`]: 8 blocks from LBA 100h, 16 blocks from LBA
/// 0x1_0000_0000; no context attributes.
const DSM_RANGES: [u8; 32] = [
    0x00, 0x00, 0x00, 0x00, // context attributes
    0x08, 0x00, 0x00, 0x00, // length: 8 blocks (not zero-based)
    0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // starting LBA 100h
    0x00, 0x00, 0x00, 0x00, // context attributes
    0x10, 0x00, 0x00, 0x00, // length: 16 blocks
    0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, // starting LBA 0x1_0000_0000
];

/// The completion of [`SET_NUMBER_OF_QUEUES`] from a controller that grants 2 submission and
/// 2 completion queues: DW0 NSQA 1, NCQA 1 (zero-based); SQHD 7, SQID 0, CID 7, phase 1.
const NUMBER_OF_QUEUES_GRANTED: [u8; 16] = [
    0x01, 0x00, 0x01, 0x00, // DW0: NSQA 1 (bits 15:0), NCQA 1 (bits 31:16)
    0x00, 0x00, 0x00, 0x00, // DW1
    0x07, 0x00, // SQHD 7
    0x00, 0x00, // SQID 0
    0x07, 0x00, // CID 7
    0x01, 0x00, // P = 1, status 0
];

#[test]
fn identify_controller_command() {
    let mut cmd = SubmissionEntry::new(Opcode::ADMIN_IDENTIFY, 1);
    cmd.set_prp1(0x1234_5000);
    Identify::namespace(CNS_CONTROLLER, 0).write_to(&mut cmd);
    assert_eq!(cmd.to_bytes(), IDENTIFY_CONTROLLER);

    let cmd = SubmissionEntry::from_bytes(IDENTIFY_CONTROLLER);
    assert_eq!(cmd.opcode().admin_name(), Some("Identify"));
    assert_eq!(cmd.opcode().direction(), DataDirection::ControllerToHost);
    assert_eq!(cmd.psdt(), Psdt::Prp);
    assert_eq!(cmd.fuse(), Fuse::Normal);
    assert_eq!(cmd.cid(), 1);
    assert_eq!(cmd.nsid(), 0);
    assert_eq!(cmd.prp1(), 0x1234_5000);
    assert_eq!(cmd.prp2(), 0);
    assert_eq!(Identify::from_sqe(&cmd).cns, 0x01);
}

#[test]
fn read_with_prp1_and_prp2() {
    let slba: u64 = 0x1_2345_6789;
    let cmd = SubmissionEntry::new(Opcode::NVM_READ, 0x10)
        .with_nsid(1)
        .with_prp1(0x1_0000_0200)
        .with_prp2(0x1_0000_3000)
        .with_block_range(BlockRange::new(slba, 8).unwrap());
    assert_eq!(cmd.to_bytes(), READ_TWO_PAGES);

    let cmd = SubmissionEntry::from_bytes(READ_TWO_PAGES);
    assert_eq!(cmd.opcode(), Opcode::NVM_READ);
    assert_eq!(cmd.opcode().nvm_name(), Some("Read"));
    assert_eq!(cmd.opcode().direction(), DataDirection::ControllerToHost);
    assert_eq!(cmd.block_range().slba(), slba);
    assert_eq!(cmd.block_range().blocks(), 8, "NLB 7, zero-based");
    assert_eq!(cmd.prp1() & 0xFFF, 0x200, "PRP1 may carry an offset");
    assert_eq!(cmd.prp2() & 0xFFF, 0, "PRP2 as a data page has none");
}

#[test]
fn write_with_prp_list() {
    let mut cmd = SubmissionEntry::default();
    cmd.set_opcode(Opcode::NVM_WRITE);
    cmd.set_cid(0xBEEF);
    cmd.set_nsid(1);
    cmd.set_prp1(0x8000_0000);
    cmd.set_prp2(0x9000_0000);
    cmd.set_cdw(12, 0x4000_00FF).unwrap();
    assert_eq!(cmd.to_bytes(), WRITE_PRP_LIST);

    let cmd = SubmissionEntry::from_bytes(WRITE_PRP_LIST);
    assert_eq!(cmd.opcode().direction(), DataDirection::HostToController);
    assert_eq!(cmd.cid(), 0xBEEF);
    assert_eq!(cmd.cdw(12), Ok(0x4000_00FF));
    assert_eq!(cmd.cdw(10), Ok(0));
}

#[test]
fn read_with_sgl_data_block() {
    let sgl1 = SglDescriptor::new(
        0x1_0000_0000,
        4096,
        SglDescriptorType::DataBlock,
        SglSubtype::Address,
    );
    let cmd = SubmissionEntry::new(Opcode::NVM_READ, 0x20)
        .with_psdt(Psdt::Sgl)
        .with_nsid(1)
        .with_sgl1(sgl1)
        .with_block_range(BlockRange::new(0, 8).unwrap());
    assert_eq!(cmd.to_bytes(), READ_SGL_DATA_BLOCK);

    let cmd = SubmissionEntry::from_bytes(READ_SGL_DATA_BLOCK);
    assert!(cmd.psdt().is_sgl());
    let d = cmd.sgl1();
    assert_eq!(d.descriptor_type(), SglDescriptorType::DataBlock);
    assert_eq!(d.subtype(), SglSubtype::Address);
    assert_eq!(d.address(), 0x1_0000_0000);
    assert_eq!(d.length(), 4096);
}

#[test]
fn completions() {
    let done = CompletionEntry::new(CommandId { sqid: 0, cid: 1 }, 1, Status::SUCCESS, true);
    assert_eq!(done.to_bytes(), IDENTIFY_DONE);
    let done = CompletionEntry::from_bytes(IDENTIFY_DONE);
    assert!(done.status().is_success());
    assert!(done.phase());

    let failed = CompletionEntry::new(
        CommandId { sqid: 1, cid: 0x20 },
        0x11,
        Status::DATA_SGL_LENGTH_INVALID.with_dnr(true),
        false,
    );
    assert_eq!(failed.to_bytes(), SGL_READ_FAILED);
    let failed = CompletionEntry::from_bytes(SGL_READ_FAILED);
    assert!(!failed.phase());
    let status = failed.status();
    assert_eq!(status.sct(), StatusCodeType::Generic);
    assert_eq!(status.sc(), 0x0F);
    assert!(status.dnr());
    assert!(!status.more());
    assert_eq!(status.crd(), 0);
    assert!(status.same_code(Status::DATA_SGL_LENGTH_INVALID));
    assert_eq!(
        status.to_string(),
        "Data SGL Length Invalid (SCT 0h, SC 0Fh, DNR)"
    );
    assert_eq!(failed.dw3(), 0x801E_0020);
}

#[test]
fn entries_decode_from_slices_with_zerocopy() {
    let cmd = SubmissionEntry::ref_from_bytes(&READ_TWO_PAGES[..]).unwrap();
    assert_eq!(cmd.nsid(), 1);
    assert!(SubmissionEntry::ref_from_bytes(&READ_TWO_PAGES[..63]).is_err());
    let cqe = CompletionEntry::read_from_bytes(&SGL_READ_FAILED[..]).unwrap();
    assert_eq!(cqe.cid(), 0x20);
}

/// `write_to` on a fresh command with the entry's opcode, CID, NSID and PRP1 gives exactly
/// `bytes`, and `from_sqe` of `bytes` gives `view` back.
macro_rules! assert_vector {
    ($view:expr, $ty:ty, $bytes:expr) => {{
        let bytes: [u8; 64] = $bytes;
        let view: $ty = $view;
        let wire = SubmissionEntry::from_bytes(bytes);
        let mut built = SubmissionEntry::new(wire.opcode(), wire.cid())
            .with_nsid(wire.nsid())
            .with_prp1(wire.prp1());
        view.write_to(&mut built);
        assert_eq!(built.to_bytes(), bytes, "{view:?} encodes to the vector");
        assert_eq!(<$ty>::from_sqe(&wire), view, "the vector decodes");
    }};
}

#[test]
fn queue_creation_and_deletion_commands() {
    let size = QueueSize::new(64).unwrap();
    assert_vector!(
        CreateIoCq {
            qid: 1,
            size,
            contiguous: true,
            interrupts: true,
            vector: 3,
        },
        CreateIoCq,
        CREATE_IO_CQ
    );
    assert_eq!(
        SubmissionEntry::from_bytes(CREATE_IO_CQ).opcode(),
        Opcode::ADMIN_CREATE_IO_CQ
    );
    assert_vector!(
        CreateIoSq {
            priority: QueuePriority::Medium,
            ..CreateIoSq::contiguous(1, size, 1)
        },
        CreateIoSq,
        CREATE_IO_SQ
    );
    assert_eq!(
        SubmissionEntry::from_bytes(CREATE_IO_SQ).opcode(),
        Opcode::ADMIN_CREATE_IO_SQ
    );
    assert_vector!(DeleteIoQueue { qid: 1 }, DeleteIoQueue, DELETE_IO_SQ);
    assert_vector!(DeleteIoQueue { qid: 1 }, DeleteIoQueue, DELETE_IO_CQ);
    assert_eq!(
        SubmissionEntry::from_bytes(DELETE_IO_CQ).opcode(),
        Opcode::ADMIN_DELETE_IO_CQ
    );
}

#[test]
fn identify_commands() {
    assert_vector!(
        Identify::namespace(CNS_CONTROLLER, 0),
        Identify,
        IDENTIFY_CONTROLLER
    );
    assert_vector!(
        Identify {
            cns: 0x13,
            cntid: 0x10,
            nsid: 0,
        },
        Identify,
        IDENTIFY_CONTROLLER_LIST
    );
}

#[test]
fn number_of_queues_commands_and_completion() {
    let asked = NumberOfQueues {
        submission: QueueCount::new(4).unwrap(),
        completion: QueueCount::new(2).unwrap(),
    };
    let set = SetFeatures {
        fid: FID_NUMBER_OF_QUEUES,
        save: false,
    };
    // Set Features' generic fields in CDW10, the feature's in CDW11.
    let mut built = SubmissionEntry::new(Opcode::ADMIN_SET_FEATURES, 7);
    set.write_to(&mut built);
    asked.write_to(&mut built);
    assert_eq!(built.to_bytes(), SET_NUMBER_OF_QUEUES);
    let wire = SubmissionEntry::from_bytes(SET_NUMBER_OF_QUEUES);
    assert_eq!(SetFeatures::from_sqe(&wire), set);
    assert_eq!(NumberOfQueues::from_sqe(&wire), asked);
    assert_vector!(
        GetFeatures {
            fid: FID_NUMBER_OF_QUEUES
        },
        GetFeatures,
        GET_NUMBER_OF_QUEUES
    );
    // SV is the top bit of CDW10: byte 43 of the entry.
    let mut saved = SubmissionEntry::from_bytes(SET_NUMBER_OF_QUEUES);
    let save = SetFeatures {
        fid: FID_NUMBER_OF_QUEUES,
        save: true,
    };
    save.write_to(&mut saved);
    assert_eq!(saved.to_bytes()[40..44], [0x07, 0x00, 0x00, 0x80]);
    assert_eq!(SetFeatures::from_sqe(&saved), save);

    let done = CompletionEntry::from_bytes(NUMBER_OF_QUEUES_GRANTED);
    let granted = NumberOfQueues::from_dw0(done.dw0());
    assert_eq!((granted.submission.get(), granted.completion.get()), (2, 2));
    let built = CompletionEntry::new(CommandId { sqid: 0, cid: 7 }, 7, Status::SUCCESS, true)
        .with_dw0(granted.to_dw0());
    assert_eq!(built.to_bytes(), NUMBER_OF_QUEUES_GRANTED);
}

#[test]
fn abort_command() {
    assert_vector!(Abort { sqid: 1, cid: 0x20 }, Abort, ABORT);
}

#[test]
fn write_zeroes_command() {
    let range = BlockRange::new(0x1_0000_1000, 16).unwrap();
    assert_vector!(
        WriteZeroes {
            range,
            deallocate: true,
        },
        WriteZeroes,
        WRITE_ZEROES_DEALLOCATE
    );
    assert_eq!(
        SubmissionEntry::from_bytes(WRITE_ZEROES_DEALLOCATE).block_range(),
        range
    );
}

#[test]
fn dataset_management_command_and_ranges() {
    assert_vector!(
        DatasetManagement::deallocate(DsmRangeCount::new(2).unwrap()),
        DatasetManagement,
        DSM_DEALLOCATE
    );
    let ranges = [DsmRange::new(0x100, 8), DsmRange::new(0x1_0000_0000, 16)];
    assert_eq!(ranges.as_bytes(), &DSM_RANGES[..]);
    let decoded = <[DsmRange]>::ref_from_bytes(&DSM_RANGES[..]).unwrap();
    assert_eq!(decoded, &ranges[..]);
    assert_eq!(
        (decoded[1].slba.get(), decoded[1].blocks.get()),
        (0x1_0000_0000, 16)
    );
}

#[test]
fn get_log_page_command() {
    let wire = SubmissionEntry::from_bytes(GET_SMART_LOG);
    let req = LogPageRequest {
        lid: LID_SMART,
        len: 512,
        offset: 0,
    };
    let mut built = SubmissionEntry::new(wire.opcode(), wire.cid())
        .with_nsid(u32::MAX)
        .with_prp1(0x50_0000);
    req.write_to(&mut built).unwrap();
    assert_eq!(built.to_bytes(), GET_SMART_LOG);
    assert_eq!(LogPageRequest::from_sqe(&wire), req);
}
