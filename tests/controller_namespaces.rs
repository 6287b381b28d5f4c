//! Namespace identifiers the mock controller does not have active: an inactive one (1 to
//! NN) is Invalid Field in Command, an invalid one (0, or past NN) Invalid Namespace or
//! Format (Base 2.1, 3.2.1.5), and Identify Namespace answers an inactive one with zeros.

use nvme_dma_testkit::rig;

use nvme_dma::controller::ControllerConfig;
use nvme_dma::spec::{Opcode, Status, SubmissionEntry};
use rig::{Rig, DATA};

fn rig() -> Rig {
    let mut rig = Rig::new(ControllerConfig {
        namespace_ids: Some(8),
        ..ControllerConfig::default()
    });
    rig.create_io_pair(1, 16);
    rig
}

#[test]
fn io_to_an_inactive_namespace_is_invalid_field_and_past_nn_invalid_namespace() {
    let mut rig = rig();
    for (nsid, want) in [
        (2, Status::INVALID_FIELD),
        (8, Status::INVALID_FIELD),
        (9, Status::INVALID_NAMESPACE_OR_FORMAT),
        (0, Status::INVALID_NAMESPACE_OR_FORMAT),
    ] {
        let read = Rig::io_sqe(Opcode::NVM_READ, nsid, 0, 1).with_prp1(DATA);
        assert_eq!(
            rig.exec(1, read).status(),
            want.with_dnr(true),
            "NSID {nsid}"
        );
    }
    let read = Rig::io_sqe(Opcode::NVM_READ, 1, 0, 1).with_prp1(DATA);
    assert!(rig.exec(1, read).status().is_success());
}

#[test]
fn identify_answers_an_inactive_namespace_with_zeros_and_its_descriptors_with_invalid_field() {
    let mut rig = rig();
    rig.poke(DATA, &[0xa5; 4096]);
    let identify = |cns: u32, nsid: u32| {
        SubmissionEntry::new(Opcode::ADMIN_IDENTIFY, 0)
            .with_cdw10(cns)
            .with_nsid(nsid)
            .with_prp1(DATA)
    };
    assert!(rig.admin(identify(0, 3)).is_success());
    assert_eq!(rig.peek(DATA, 4096), vec![0; 4096]);
    assert_eq!(
        rig.admin(identify(0, 9)),
        Status::INVALID_NAMESPACE_OR_FORMAT.with_dnr(true)
    );
    assert_eq!(
        rig.admin(identify(3, 3)),
        Status::INVALID_FIELD.with_dnr(true)
    );
    // Identify Controller reports NN.
    assert!(rig.admin(identify(1, 0)).is_success());
    let nn = u32::from_le_bytes(rig.peek(DATA + 516, 4).try_into().unwrap());
    assert_eq!(nn, 8);
}

#[test]
fn nn_below_the_namespaces_is_refused() {
    let config = ControllerConfig {
        namespace_ids: Some(0),
        ..ControllerConfig::default()
    };
    let err = nvme_dma::controller::MockController::new(config).unwrap_err();
    assert_eq!(err.field, "namespace_ids");
}
