//! Known byte vectors for real commands and completions, written by hand from the
//! specification's layouts, compared with what the `spec` setters produce and read back
//! through the getters.

use nvme_dma::spec::identify::CNS_CONTROLLER;
use nvme_dma::spec::{
    CompletionEntry, DataDirection, Fuse, Opcode, Psdt, SglDescriptor, SglDescriptorType,
    SglSubtype, Status, StatusCodeType, SubmissionEntry,
};

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

#[test]
fn identify_controller_command() {
    let mut cmd = SubmissionEntry::new(Opcode::ADMIN_IDENTIFY, 1);
    cmd.set_prp1(0x1234_5000);
    cmd.set_cdw10(u32::from(CNS_CONTROLLER));
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
    assert_eq!(cmd.cdw10() & 0xFF, 0x01);
}

#[test]
fn read_with_prp1_and_prp2() {
    let slba: u64 = 0x1_2345_6789;
    let nlb_z: u16 = 7;
    let cmd = SubmissionEntry::new(Opcode::NVM_READ, 0x10)
        .with_nsid(1)
        .with_prp1(0x1_0000_0200)
        .with_prp2(0x1_0000_3000)
        .with_cdw10(u32::try_from(slba & 0xFFFF_FFFF).unwrap())
        .with_cdw11(u32::try_from(slba >> 32).unwrap())
        .with_cdw12(u32::from(nlb_z));
    assert_eq!(cmd.to_bytes(), READ_TWO_PAGES);

    let cmd = SubmissionEntry::from_bytes(READ_TWO_PAGES);
    assert_eq!(cmd.opcode(), Opcode::NVM_READ);
    assert_eq!(cmd.opcode().nvm_name(), Some("Read"));
    assert_eq!(cmd.opcode().direction(), DataDirection::ControllerToHost);
    let decoded_slba = u64::from(cmd.cdw11()) << 32 | u64::from(cmd.cdw10());
    assert_eq!(decoded_slba, slba);
    assert_eq!(cmd.cdw12() & 0xFFFF, 7);
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
        .with_cdw12(7);
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
    let done = CompletionEntry::new(1, 0, 1, Status::SUCCESS, true);
    assert_eq!(done.to_bytes(), IDENTIFY_DONE);
    let done = CompletionEntry::from_bytes(IDENTIFY_DONE);
    assert!(done.status().is_success());
    assert!(done.phase());

    let failed = CompletionEntry::new(
        0x11,
        1,
        0x20,
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
    use zerocopy::FromBytes;
    let cmd = SubmissionEntry::ref_from_bytes(&READ_TWO_PAGES[..]).unwrap();
    assert_eq!(cmd.nsid(), 1);
    assert!(SubmissionEntry::ref_from_bytes(&READ_TWO_PAGES[..63]).is_err());
    let cqe = CompletionEntry::read_from_bytes(&SGL_READ_FAILED[..]).unwrap();
    assert_eq!(cqe.cid(), 0x20);
}
