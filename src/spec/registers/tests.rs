//! Register offsets, field positions and round trips of every register, the doorbell
//! arithmetic and the page size helper, against values from the specification and QEMU.

use super::*;

#[test]
fn offsets_match_the_spec() {
    assert_eq!(
        [
            offset::CAP,
            offset::VS,
            offset::INTMS,
            offset::INTMC,
            offset::CC,
            offset::CSTS,
            offset::NSSR,
            offset::AQA,
            offset::ASQ,
            offset::ACQ,
            offset::CMBLOC,
            offset::CMBSZ,
            offset::DOORBELL_BASE,
        ],
        [0x00, 0x08, 0x0C, 0x10, 0x14, 0x1C, 0x20, 0x24, 0x28, 0x30, 0x38, 0x3C, 0x1000]
    );
}

/// QEMU-like CAP: MQES 7FFh, CQR 1, AMS 0, TO 0Fh, DSTRD 0, NSSRS 0, CSS 1 (NVM),
/// MPSMIN 0, MPSMAX 4, CMBS 1.
const CAP: u64 = 0x0240_0020_0F01_07FF;

#[test]
fn test_parse_cap() {
    let cap = Cap(CAP);
    assert_eq!(cap.mqes_z(), 0x7FF);
    assert_eq!(cap.max_queue_entries(), 2048);
    assert!(cap.cqr());
    assert_eq!(cap.ams(), 0);
    assert_eq!(cap.to(), 0x0F);
    assert_eq!(cap.timeout_ms(), 7500);
    assert_eq!(cap.dstrd(), 0);
    assert!(!cap.nssrs());
    assert_eq!(cap.css(), 1);
    assert_eq!(cap.mpsmin(), 0);
    assert_eq!(cap.mpsmax(), 4);
    assert!(cap.cmbs());
    assert_eq!(cap.page_size_min(), 4096);
    assert_eq!(cap.page_size_max(), 65536);
}

#[test]
fn test_emit_cap() {
    let cap = Cap::new()
        .with_mqes_z(0x7FF)
        .with_cqr(true)
        .with_to(0x0F)
        .with_css(1)
        .with_mpsmax(4)
        .with_cmbs(true);
    assert_eq!(cap.raw(), CAP);
    // Every field at its maximum, then cleared again: fields do not overlap.
    let full = Cap::new()
        .with_mqes_z(u16::MAX)
        .with_cqr(true)
        .with_ams(3)
        .with_to(u8::MAX)
        .with_dstrd(15)
        .with_nssrs(true)
        .with_css(u8::MAX)
        .with_mpsmin(15)
        .with_mpsmax(15)
        .with_cmbs(true);
    assert_eq!(full.raw(), 0x02FF_1FFF_FF07_FFFF);
    assert_eq!(
        Cap(u64::MAX).with_dstrd(0).with_mpsmin(0).raw(),
        0xFFF0_FFF0_FFFF_FFFF
    );
    // Setters mask to the field width.
    assert_eq!(Cap::new().with_dstrd(0xFF).raw(), 0xF_0000_0000);
    assert_eq!(Cap::new().with_ams(0xFF).raw(), 0x6_0000);
}

#[test]
fn cc_fields() {
    // EN 1, CSS 0, MPS 0, AMS 0, SHN 0, IOSQES 6, IOCQES 4: what Linux writes.
    let cc = Cc::new().with_en(true).with_iosqes(6).with_iocqes(4);
    assert_eq!(cc.raw(), 0x0046_0001);
    let cc = Cc(0x0046_4981);
    assert!(cc.en());
    assert_eq!(cc.css(), 0);
    assert_eq!(cc.mps(), 3);
    assert_eq!(cc.page_size(), 32768);
    assert_eq!(cc.ams(), 1);
    assert_eq!(cc.shn(), ShutdownNotification::Normal);
    assert_eq!(cc.iosqes(), 6);
    assert_eq!(cc.iocqes(), 4);
    let rebuilt = Cc::new()
        .with_en(true)
        .with_mps(3)
        .with_ams(1)
        .with_shn(ShutdownNotification::Normal)
        .with_iosqes(6)
        .with_iocqes(4);
    assert_eq!(rebuilt, cc);
    assert_eq!(Cc::new().with_css(0b110).raw(), 0x60);
    assert_eq!(
        Cc(u32::MAX).with_shn(ShutdownNotification::None).raw(),
        0xFFFF_3FFF
    );
}

#[test]
fn csts_flags_and_shst() {
    let csts = Csts::from_bits_retain(0b11_1001);
    assert!(csts.contains(Csts::RDY | Csts::NSSRO | Csts::PP));
    assert!(!csts.contains(Csts::CFS));
    assert_eq!(csts.shst(), ShutdownStatus::Complete);
    let csts = csts.with_shst(ShutdownStatus::Occurring);
    assert_eq!(csts.bits(), 0b11_0101);
    assert_eq!(Csts::RDY.with_shst(ShutdownStatus::Reserved).bits(), 0b1101);
    // Unknown bits survive.
    assert_eq!(Csts::from_bits_retain(0x8000_0000).bits(), 0x8000_0000);
}

#[test]
fn aqa_and_vs() {
    let aqa = Aqa::new().with_asqs_z(31).with_acqs_z(63);
    assert_eq!(aqa.raw(), 0x003F_001F);
    assert_eq!(Aqa(0xFFFF_FFFF).asqs_z(), 0xFFF);
    assert_eq!(Aqa(0xFFFF_FFFF).acqs_z(), 0xFFF);
    assert_eq!(Aqa::new().with_asqs_z(0xFFFF).raw(), 0xFFF);

    assert_eq!(Vs::V1_4.raw(), 0x0001_0400);
    assert_eq!(Vs(0x0002_0100).major(), 2);
    assert_eq!(Vs(0x0002_0103).minor(), 1);
    assert_eq!(Vs(0x0002_0103).tertiary(), 3);
    assert!(Vs::V2_0 > Vs::V1_4);
}

#[test]
fn doorbells() {
    assert_eq!(sq_tail_doorbell(0, 0), Some(0x1000));
    assert_eq!(cq_head_doorbell(0, 0), Some(0x1004));
    assert_eq!(sq_tail_doorbell(1, 0), Some(0x1008));
    assert_eq!(cq_head_doorbell(1, 0), Some(0x100C));
    assert_eq!(sq_tail_doorbell(1, 1), Some(0x1010));
    assert_eq!(cq_head_doorbell(3, 2), Some(0x1000 + 7 * 16));
    assert_eq!(
        cq_head_doorbell(u16::MAX, 15),
        Some(0x1000 + (2 * 65535 + 1) * (4u64 << 15))
    );
    assert_eq!(sq_tail_doorbell(0, 16), None);
    assert_eq!(cq_head_doorbell(1, u8::MAX), None);
}

#[test]
fn cmb() {
    let sz = CmbSz::new()
        .with_sqs(true)
        .with_lists(true)
        .with_rds(true)
        .with_wds(true)
        .with_szu(2)
        .with_sz(64);
    assert_eq!(sz.raw(), 0x0004_021D);
    assert!(sz.sqs() && !sz.cqs() && sz.lists() && sz.rds() && sz.wds());
    assert_eq!(sz.size_unit_bytes(), Some(1 << 20));
    assert_eq!(sz.size_bytes(), Some(64 << 20));
    assert_eq!(CmbSz::new().with_szu(7).size_bytes(), None);
    assert_eq!(
        CmbSz(u32::MAX).with_szu(6).size_bytes(),
        Some(0xF_FFFFu64 << 36)
    );

    let loc = CmbLoc::new().with_bir(2).with_ofst(3);
    assert_eq!(loc.raw(), 0x3002);
    assert_eq!(loc.bir(), 2);
    assert_eq!(loc.offset_bytes(sz), Some(3 << 20));
}

#[test]
fn page_sizes() {
    assert_eq!(page_size_bytes(0), 4096);
    assert_eq!(page_size_bytes(15), 128 << 20);
    assert_eq!(page_size_bytes(0x10), 4096, "only 4 bits are used");
}
