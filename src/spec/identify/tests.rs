//! Identify Controller and Identify Namespace decoded from and encoded to the bytes the
//! specification lays out, SGLS and MDTS arithmetic, LBA formats and FLBAS, and the CNS values.

use super::*;
use zerocopy::{FromBytes, IntoBytes};

#[test]
fn sgls_fields() {
    // Dword-aligned SGLs, keyed, SDT 8, bit bucket, MPTR SGL, transport data block.
    let raw = 0b10_1001_0000_1000_0000_0110;
    let s = Sgls::from_bits_retain(raw);
    assert_eq!(s.support(), SglSupport::DwordAligned);
    assert!(s.is_supported());
    assert!(s.contains(Sgls::KEYED | Sgls::BIT_BUCKET | Sgls::MPTR_SGL));
    assert!(s.contains(Sgls::TRANSPORT_DATA_BLOCK));
    assert!(!s.contains(Sgls::LLDTS));
    assert_eq!(s.sdt(), 8);

    let built = Sgls::from_support(SglSupport::DwordAligned)
        .union(Sgls::KEYED | Sgls::BIT_BUCKET | Sgls::MPTR_SGL | Sgls::TRANSPORT_DATA_BLOCK)
        .with_sdt(8);
    assert_eq!(built.bits(), raw);
    assert_eq!(
        (Sgls::LLDTS | Sgls::ADDRESS_AS_OFFSET | Sgls::BYTE_ALIGNED_CONTIGUOUS_METADATA).bits(),
        0b1_0110 << 16
    );
    assert_eq!(built.with_support(SglSupport::None).bits(), raw & !0b11);
    assert!(!Sgls::from_support(SglSupport::Reserved).is_supported());
    assert_eq!(Sgls::from_bits_retain(0xFFFF_FFFF).sdt(), 0xFF);
}

#[test]
fn mdts() {
    assert_eq!(mdts_bytes(0, 4096), MaxTransfer::Unlimited);
    assert_eq!(mdts_bytes(5, 4096), MaxTransfer::Bytes(128 * 1024));
    assert_eq!(mdts_bytes(1, 65536), MaxTransfer::Bytes(131_072));
    assert_eq!(mdts_bytes(51, 4096), MaxTransfer::Bytes(1 << 63));
    assert_eq!(mdts_bytes(52, 4096), MaxTransfer::Unlimited, "exactly 2^64");
    assert_eq!(mdts_bytes(64, 4096), MaxTransfer::Unlimited);
    assert_eq!(mdts_bytes(255, 4096), MaxTransfer::Unlimited);
    assert!(MaxTransfer::Bytes(4096).allows(4096));
    assert!(!MaxTransfer::Bytes(4096).allows(4097));
    assert!(MaxTransfer::Unlimited.allows(u64::MAX));
    assert_eq!(MaxTransfer::Unlimited.bytes(), None);
}

#[test]
fn test_parse_controller() {
    let mut bytes = [0u8; 4096];
    bytes[0..2].copy_from_slice(&[0x86, 0x80]); // VID 8086h
    bytes[4..24].copy_from_slice(b"SN0001              ");
    bytes[24..64].copy_from_slice(b"nvme-dma mock controller                ");
    bytes[64..72].copy_from_slice(b"1.0     ");
    bytes[77] = 5; // MDTS
    bytes[78..80].copy_from_slice(&[0x01, 0x00]); // CNTLID 1
    bytes[80..84].copy_from_slice(&[0x00, 0x04, 0x01, 0x00]); // VER 1.4.0
    bytes[512] = 0x66; // SQES
    bytes[513] = 0x44; // CQES
    bytes[516..520].copy_from_slice(&[0x01, 0x00, 0x00, 0x00]); // NN 1
    bytes[536..540].copy_from_slice(&[0x01, 0x00, 0x05, 0x00]); // SGLS
    bytes[1803] = 16; // MSDBD
    let id = IdentifyController::read_from_bytes(&bytes[..]).unwrap();
    assert_eq!(id.vid.get(), 0x8086);
    assert_eq!(id.serial_str(), Some("SN0001"));
    assert_eq!(id.model_str(), Some("nvme-dma mock controller"));
    assert_eq!(id.firmware_revision_str(), Some("1.0"));
    assert_eq!(id.serial(), b"SN0001              ");
    assert_eq!(id.max_transfer(4096), MaxTransfer::Bytes(128 * 1024));
    assert_eq!(id.cntlid.get(), 1);
    assert_eq!(id.version(), Vs::V1_4);
    assert_eq!((id.sqes_required(), id.sqes_max()), (6, 6));
    assert_eq!((id.cqes_required(), id.cqes_max()), (4, 4));
    assert_eq!(id.nn.get(), 1);
    assert_eq!(
        id.sgls(),
        Sgls::from_support(SglSupport::ByteAligned) | Sgls::BIT_BUCKET | Sgls::LLDTS
    );
    assert_eq!(id.msdbd, 16);
    assert_eq!(id.as_bytes(), &bytes[..]);
}

#[test]
fn test_emit_controller_into_poisoned_buffer() {
    let mut id = IdentifyController::read_from_bytes(&[0xA5u8; 4096][..]).unwrap();
    id.set_sgls(Sgls::from_support(SglSupport::DwordAligned).with_sdt(3));
    id.mdts = 0;
    id.msdbd = 1;
    let bytes = id.as_bytes();
    assert_eq!(bytes[536..540], [0x02, 0x03, 0x00, 0x00]);
    assert_eq!(bytes[77], 0);
    assert_eq!(bytes[1803], 1);
    assert_eq!(bytes[535], 0xA5);
    assert_eq!(bytes[540], 0xA5);
    assert_eq!(bytes[1802], 0xA5);
    assert_eq!(bytes[1804], 0xA5);
    assert_eq!(IdentifyController::default().as_bytes(), &[0u8; 4096][..]);
}

#[test]
fn lba_format() {
    let f = LbaFormat::read_from_bytes(&[0x08, 0x00, 0x0C, 0xFE][..]).unwrap();
    assert_eq!(f.metadata_size(), 8);
    assert_eq!(f.lbads, 12);
    assert_eq!(f.lba_size_bytes(), Some(4096));
    assert_eq!(f.relative_performance(), 2);
    assert_eq!(
        LbaFormat::new(8, 12, 0xFE).as_bytes(),
        &[0x08, 0x00, 0x0C, 0x02]
    );
    assert_eq!(LbaFormat::new(0, 9, 0).lba_size_bytes(), Some(512));
    assert_eq!(LbaFormat::new(0, 8, 0).lba_size_bytes(), None);
    assert_eq!(LbaFormat::new(0, 0, 0).lba_size_bytes(), None);
    assert_eq!(LbaFormat::new(0, 63, 0).lba_size_bytes(), Some(1 << 63));
    assert_eq!(LbaFormat::new(0, 64, 0).lba_size_bytes(), None);
    assert_eq!(LbaFormat::new(0, 255, 0).lba_size_bytes(), None);
}

#[test]
fn test_parse_namespace() {
    let mut bytes = [0u8; 4096];
    bytes[0..8].copy_from_slice(&0x10_0000u64.to_le_bytes()); // NSZE
    bytes[8..16].copy_from_slice(&0x10_0000u64.to_le_bytes()); // NCAP
    bytes[16..24].copy_from_slice(&0x8_0000u64.to_le_bytes()); // NUSE
    bytes[25] = 1; // NLBAF: two formats
    bytes[26] = 0b0001_0001; // FLBAS: format 1, extended metadata
    bytes[128..132].copy_from_slice(&[0x00, 0x00, 0x09, 0x00]); // LBAF0: 512 B
    bytes[132..136].copy_from_slice(&[0x08, 0x00, 0x0C, 0x00]); // LBAF1: 4 KiB + 8
    bytes[380..384].copy_from_slice(&[0x00, 0x00, 0x10, 0x01]); // LBAF63
    let ns = IdentifyNamespace::read_from_bytes(&bytes[..]).unwrap();
    assert_eq!(ns.nsze.get(), 0x10_0000);
    assert_eq!(ns.nuse.get(), 0x8_0000);
    assert_eq!(ns.lba_format_count(), 2);
    assert_eq!(ns.flbas_index(), 1);
    assert!(ns.metadata_extended());
    let f = ns.current_lba_format().unwrap();
    assert_eq!((f.lba_size_bytes(), f.metadata_size()), (Some(4096), 8));
    assert_eq!(ns.lba_format(0).unwrap().lba_size_bytes(), Some(512));
    assert_eq!(ns.lba_format(63).unwrap().lba_size_bytes(), Some(65536));
    assert_eq!(ns.lba_format(64), None);
    assert_eq!(ns.as_bytes(), &bytes[..]);
}

#[test]
fn flbas_index_uses_bits_6_5() {
    let mut ns = IdentifyNamespace {
        flbas: 0b1111_1111,
        ..IdentifyNamespace::default()
    };
    assert_eq!(ns.flbas_index(), 63);
    ns.set_flbas_index(0b10_0101);
    assert_eq!(ns.flbas, 0b1101_0101);
    ns.set_metadata_extended(false);
    assert_eq!(ns.flbas, 0b1100_0101);
    assert_eq!(ns.flbas_index(), 0b10_0101);
    ns.set_flbas_index(0);
    assert_eq!(ns.flbas, 0b1000_0000);
}

#[test]
fn cns_values() {
    assert_eq!(
        (CNS_NAMESPACE, CNS_CONTROLLER, CNS_ACTIVE_NAMESPACE_LIST),
        (0, 1, 2)
    );
}
