//! One entry decoded from and encoded to its 64 bytes, builders against setters, the CDW0
//! fields kept apart, SGL1 over PRP1 and PRP2, and the opcode, FUSE and PSDT values.

use super::{CdwOutOfRange, DataDirection, Fuse, Opcode, Psdt, SubmissionEntry};
use crate::spec::sgl::{SglDescriptor, SglDescriptorType, SglSubtype};

/// A Read (02h), CID 0x1234, PSDT SGL-contiguous, FUSE first, reserved bits 1010b,
/// NSID 1, CDW2 0x0A0B0C0D, CDW3 0x11223344, MPTR 0x8877665544332211,
/// PRP1 0x0000_0001_0000_1008, PRP2 0x0000_0000_CAFE_F000, CDW10..15 = 10..15 * 0x0101_0101.
const ENTRY: [u8; 64] = [
    0x02, 0x69, 0x34, 0x12, // CDW0: opc 02h; 0x69 = PSDT 01b, rsvd 1010b, FUSE 01b
    0x01, 0x00, 0x00, 0x00, // NSID
    0x0D, 0x0C, 0x0B, 0x0A, // CDW2
    0x44, 0x33, 0x22, 0x11, // CDW3
    0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, // MPTR
    0x08, 0x10, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, // PRP1
    0x00, 0xF0, 0xFE, 0xCA, 0x00, 0x00, 0x00, 0x00, // PRP2
    0x0A, 0x0A, 0x0A, 0x0A, // CDW10
    0x0B, 0x0B, 0x0B, 0x0B, // CDW11
    0x0C, 0x0C, 0x0C, 0x0C, // CDW12
    0x0D, 0x0D, 0x0D, 0x0D, // CDW13
    0x0E, 0x0E, 0x0E, 0x0E, // CDW14
    0x0F, 0x0F, 0x0F, 0x0F, // CDW15
];

#[test]
fn test_parse() {
    let e = SubmissionEntry::from_bytes(ENTRY);
    assert_eq!(e.opcode(), Opcode::NVM_READ);
    assert_eq!(e.fuse(), Fuse::FirstOfFused);
    assert_eq!(e.cdw0_reserved(), 0b1010);
    assert_eq!(e.psdt(), Psdt::Sgl);
    assert_eq!(e.cid(), 0x1234);
    assert_eq!(e.nsid(), 1);
    assert_eq!(e.cdw2(), 0x0A0B_0C0D);
    assert_eq!(e.cdw3(), 0x1122_3344);
    assert_eq!(e.mptr(), 0x8877_6655_4433_2211);
    assert_eq!(e.prp1(), 0x1_0000_1008);
    assert_eq!(e.prp2(), 0xCAFE_F000);
    for n in 10..=15u8 {
        assert_eq!(e.cdw(n), Ok(u32::from(n) * 0x0101_0101));
    }
    assert_eq!(e.cdw10(), 0x0A0A_0A0A);
    assert_eq!(e.cdw15(), 0x0F0F_0F0F);
}

#[test]
fn test_emit_into_poisoned_buffer() {
    let mut e = SubmissionEntry::from_bytes([0xA5; 64]);
    e.set_opcode(Opcode::NVM_READ);
    e.set_fuse(Fuse::FirstOfFused);
    e.set_cdw0_reserved(0b1010);
    e.set_psdt(Psdt::Sgl);
    e.set_cid(0x1234);
    e.set_nsid(1);
    e.set_cdw2(0x0A0B_0C0D);
    e.set_cdw3(0x1122_3344);
    e.set_mptr(0x8877_6655_4433_2211);
    e.set_prp1(0x1_0000_1008);
    e.set_prp2(0xCAFE_F000);
    for n in 10..=15u8 {
        e.set_cdw(n, u32::from(n) * 0x0101_0101).unwrap();
    }
    assert_eq!(e.to_bytes(), ENTRY);

    let mut buf = [0xA5u8; 64];
    buf.copy_from_slice(zerocopy::IntoBytes::as_bytes(&e));
    assert_eq!(buf, ENTRY);
}

#[test]
fn builder_matches_setters() {
    let built = SubmissionEntry::new(Opcode::ADMIN_IDENTIFY, 7)
        .with_nsid(0)
        .with_prp1(0x1000)
        .with_cdw10(1);
    let mut set = SubmissionEntry::default();
    set.set_opcode(Opcode::ADMIN_IDENTIFY);
    set.set_cid(7);
    set.set_prp1(0x1000);
    set.set_cdw10(1);
    assert_eq!(built, set);
    assert_eq!(built.cdw0(), 0x0007_0006);
}

#[test]
fn cdw0_fields_do_not_overlap() {
    let mut e = SubmissionEntry::default();
    e.set_cdw0(u32::MAX);
    e.set_fuse(Fuse::Normal);
    assert_eq!(e.cdw0(), 0xFFFF_FCFF);
    e.set_psdt(Psdt::Prp);
    assert_eq!(e.cdw0(), 0xFFFF_3CFF);
    e.set_cdw0_reserved(0);
    assert_eq!(e.cdw0(), 0xFFFF_00FF);
    e.set_cid(0);
    assert_eq!(e.cdw0(), 0x0000_00FF);
    e.set_opcode(Opcode(0));
    assert_eq!(e.cdw0(), 0);
}

#[test]
fn sgl1_is_prp1_and_prp2() {
    let d = SglDescriptor::new(
        0x1122_3344_5566_7788,
        0x200,
        SglDescriptorType::LastSegment,
        SglSubtype::Address,
    );
    let e = SubmissionEntry::default().with_sgl1(d);
    assert_eq!(e.prp1(), 0x1122_3344_5566_7788);
    assert_eq!(e.prp2(), 0x3000_0000_0000_0200);
    assert_eq!(e.sgl1(), d);
    let bytes = e.to_bytes();
    assert_eq!(bytes[24..40], d.to_bytes());
}

#[test]
fn cdw_out_of_range() {
    let mut e = SubmissionEntry::from_bytes(ENTRY);
    assert_eq!(e.cdw(9), Err(CdwOutOfRange(9)));
    assert_eq!(e.cdw(16), Err(CdwOutOfRange(16)));
    assert_eq!(e.set_cdw(0, 5), Err(CdwOutOfRange(0)));
    assert_eq!(e.to_bytes(), ENTRY);
}

#[test]
fn opcode_direction() {
    assert_eq!(Opcode::NVM_FLUSH.direction(), DataDirection::None);
    assert_eq!(
        Opcode::NVM_WRITE.direction(),
        DataDirection::HostToController
    );
    assert_eq!(
        Opcode::NVM_READ.direction(),
        DataDirection::ControllerToHost
    );
    assert_eq!(
        Opcode::ADMIN_IDENTIFY.direction(),
        DataDirection::ControllerToHost
    );
    assert_eq!(
        Opcode::NVM_COMPARE.direction(),
        DataDirection::HostToController
    );
    assert_eq!(Opcode(0x03).direction(), DataDirection::Bidirectional);
}

#[test]
fn opcode_names_depend_on_the_command_set() {
    assert_eq!(Opcode(0x02).admin_name(), Some("Get Log Page"));
    assert_eq!(Opcode(0x02).nvm_name(), Some("Read"));
    assert_eq!(Opcode(0x06).nvm_name(), None);
    assert_eq!(Opcode(0x0A).admin_name(), Some("Get Features"));
}

#[test]
fn two_bit_enums_round_trip() {
    for bits in 0..4u8 {
        assert_eq!(Fuse::from_bits(bits).to_bits(), bits);
        assert_eq!(Psdt::from_bits(bits).to_bits(), bits);
    }
    assert!(Psdt::SglMetadataSgl.is_sgl());
    assert!(!Psdt::Reserved.is_sgl());
}
