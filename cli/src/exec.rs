//! `exec`: run a scenario on the mock controller and report each completion, each command's
//! DMA trace and PCIe cost, the checks, and digests of memory and namespaces.

use nvme_dma::controller::{ControllerEvent, DmaAccess, PcieLink};
use nvme_dma::dptr::{self, ControllerCaps, DescriptorMemory, Outcome, Request};
use nvme_dma::prp::PrpListPage;
use nvme_dma::sgl::{SegmentBuf, SglCaps};
use nvme_dma::spec::{
    CompletionEntry, Csts, ShutdownNotification, ShutdownStatus, Status, SubmissionEntry,
};
use nvme_dma::{DmaMemory, Extent, SimMemory};
use serde::Serialize;

use crate::digest::fnv1a64;
use crate::json::{ExtentJson, Hex};
use crate::mock_host::{MockHost, Observed, Ran};
use crate::scenario::ScenarioError;
use crate::scenario_build::{
    target_len, Check, Command, CstsExpect, DataFill, Digest, Expect, Form, Reap, Register, Setup,
    Step, StepSpec, Target, Wanted, DESCRIPTOR_PAGES, MAX_RANGE_BYTES,
};
use crate::trace_view::{AccessJson, CostJson, LinkJson};

/// The scenario as the report names it.
#[derive(Clone, Debug, Serialize)]
pub struct ScenarioInfo {
    /// The file, as given.
    pub file: String,
    /// Its `name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Its `description`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// The whole run.
#[derive(Clone, Debug, Serialize)]
pub struct ExecReport {
    /// Which scenario.
    pub scenario: ScenarioInfo,
    /// The controller it ran on.
    pub controller: ControllerInfo,
    /// The link costs are counted on.
    pub link: LinkJson,
    /// Every command, in order (a scenario with `steps` reports them there).
    pub commands: Vec<CommandReport>,
    /// Every step, in order, for a scenario with `steps`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub steps: Option<Vec<StepReport>>,
    /// Steps not run because a reset could not bring the controller back up.
    #[serde(skip_serializing_if = "is_zero")]
    pub not_run: usize,
    /// All commands' traces together.
    pub total: CostJson,
    /// The content checks.
    pub checks: Vec<CheckReport>,
    /// Digests of every region, every namespace, and the ranges asked for.
    pub digests: Vec<DigestReport>,
    /// How many expectations there were, and how many failed.
    pub expectations: Tally,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// Expectations counted.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Tally {
    /// Expectations stated (command statuses, checks, digests with a value).
    pub total: u64,
    /// Those that did not hold.
    pub failed: u64,
}

/// The controller, as set up.
#[derive(Clone, Debug, Serialize)]
pub struct ControllerInfo {
    /// Its behaviour profile, as text (`strict`, `qemu`, `strict+...`).
    pub profile: String,
    /// The memory page size it was enabled with.
    pub page_size: u64,
    /// MDTS in bytes (absent: no limit).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_transfer: Option<u64>,
    /// SGLS.
    pub sgls: Hex,
    /// The register window.
    pub bar0: ExtentJson,
    /// The controller memory buffer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cmb: Option<ExtentJson>,
    /// Namespaces 1, 2, ...
    pub namespaces: Vec<NamespaceInfo>,
}

/// One namespace.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct NamespaceInfo {
    /// Its identifier.
    pub nsid: u32,
    /// Blocks.
    pub blocks: u64,
    /// Bytes per block.
    pub lba_size: u32,
    /// Metadata bytes per block.
    pub metadata_size: u16,
    /// Metadata inside the data (extended LBAs).
    pub extended: bool,
}

/// One command's run.
#[derive(Clone, Debug, Serialize)]
pub struct CommandReport {
    /// Position in `commands`, from 0.
    pub index: usize,
    /// Its `name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The queue it went to.
    pub queue: u16,
    /// The opcode.
    pub opcode: u8,
    /// The opcode's name, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opcode_name: Option<&'static str>,
    /// CID.
    pub cid: u16,
    /// The data pointer the library laid out for `data`: `prp` or `sgl`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layout: Option<&'static str>,
    /// The 64 bytes submitted, in hex.
    pub sqe: String,
    /// The completion for it (same SQ and CID); absent when none was posted.
    pub completion: Option<CompletionJson>,
    /// Other completions posted meanwhile.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub other_completions: Vec<CompletionJson>,
    /// What the controller recorded that no completion reports.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<String>,
    /// What the scenario expected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expect: Option<ExpectJson>,
    /// Whether the expectation held (true without one).
    pub ok: bool,
    /// What did not hold.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<String>,
    /// Every DMA access, in order.
    pub trace: Vec<AccessJson>,
    /// Their totals and cost.
    pub cost: CostJson,
}

/// A completion entry.
#[derive(Clone, Debug, Serialize)]
pub struct CompletionJson {
    /// CID.
    pub cid: u16,
    /// SQ identifier.
    pub sqid: u16,
    /// SQ head pointer.
    pub sq_head: u16,
    /// Phase tag.
    pub phase: bool,
    /// The status.
    pub status: StatusJson,
    /// DW0.
    pub dw0: u32,
    /// DW1.
    pub dw1: u32,
}

/// A status field.
#[derive(Clone, Debug, Serialize)]
pub struct StatusJson {
    /// The specification's name, when the tool knows it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<&'static str>,
    /// Status Code Type.
    pub sct: u8,
    /// Status Code.
    pub sc: u8,
    /// Do Not Retry.
    pub dnr: bool,
    /// More.
    pub more: bool,
    /// Command Retry Delay.
    pub crd: u8,
    /// All of it in words.
    pub text: String,
}

impl From<Status> for StatusJson {
    fn from(s: Status) -> Self {
        StatusJson {
            name: s.name(),
            sct: s.sct().to_raw(),
            sc: s.sc(),
            dnr: s.dnr(),
            more: s.more(),
            crd: s.crd(),
            text: s.to_string(),
        }
    }
}

impl From<&CompletionEntry> for CompletionJson {
    fn from(c: &CompletionEntry) -> Self {
        CompletionJson {
            cid: c.cid(),
            sqid: c.sqid(),
            sq_head: c.sqhd(),
            phase: c.phase(),
            status: c.status().into(),
            dw0: c.dw0(),
            dw1: c.dw1(),
        }
    }
}

/// An expectation, as the report shows it.
#[derive(Clone, Debug, Serialize)]
pub struct ExpectJson {
    /// The status, by name.
    pub status: String,
    /// DNR, when it matters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dnr: Option<bool>,
    /// DW0, when it matters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dw0: Option<u32>,
    /// CID, when it matters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cid: Option<u16>,
    /// SQ identifier, when it matters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sqid: Option<u16>,
    /// SQ head, when it matters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sq_head: Option<u16>,
}

impl From<&Expect> for ExpectJson {
    fn from(e: &Expect) -> Self {
        ExpectJson {
            status: status_words(e.status),
            dnr: e.dnr,
            dw0: e.dw0,
            cid: e.cid,
            sqid: e.sqid,
            sq_head: e.sq_head,
        }
    }
}

/// One step's run, for a scenario with `steps`. Which fields are present depends on `kind`.
#[derive(Clone, Debug, Serialize)]
pub struct StepReport {
    /// Position in `steps`, from 0.
    pub index: usize,
    /// `command`, `submit`, `ring`, `doorbell`, `reap`, `write`, `read`, `reset`, `shutdown`.
    pub kind: &'static str,
    /// Its `name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The queue it names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue: Option<u16>,
    /// command, submit: the opcode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opcode: Option<u8>,
    /// command, submit: the opcode's name, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opcode_name: Option<&'static str>,
    /// command, submit: CID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cid: Option<u16>,
    /// command, submit: the data pointer the library laid out for `data`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layout: Option<&'static str>,
    /// command, submit: the 64 bytes, in hex.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sqe: Option<String>,
    /// submit: the slot's address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slot: Option<Hex>,
    /// command: the completion for it (null when none was posted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completion: Option<Option<CompletionJson>>,
    /// command: other completions taken meanwhile.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub other_completions: Vec<CompletionJson>,
    /// ring, doorbell, reap: the doorbell written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub doorbell: Option<DoorbellReport>,
    /// write, read: the register and its value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub register: Option<RegisterReport>,
    /// reap: the completions taken, in order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completions: Option<Vec<CompletionJson>>,
    /// reset: whether the controller was brought back up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable: Option<bool>,
    /// shutdown: `normal` or `abrupt`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shutdown: Option<&'static str>,
    /// reset: CSTS right after CC.EN = 0; shutdown: CSTS right after CC.SHN.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csts: Option<CstsReport>,
    /// What the scenario expected, as it said it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expect: Option<serde_json::Value>,
    /// Whether the expectation held (true without one).
    pub ok: bool,
    /// What did not hold.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<String>,
    /// What the controller recorded that no completion reports.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<String>,
    /// Every DMA access the controller made during the step.
    pub trace: Vec<AccessJson>,
    /// Their totals and cost.
    pub cost: CostJson,
}

/// A doorbell write.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct DoorbellReport {
    /// `sq_tail` or `cq_head`.
    pub register: &'static str,
    /// Its BAR0 offset.
    pub offset: Hex,
    /// The value written.
    pub value: u32,
}

/// A register access.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct RegisterReport {
    /// Its name, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<&'static str>,
    /// Its BAR0 offset.
    pub offset: Hex,
    /// 32 or 64.
    pub bits: u8,
    /// The value written, or read.
    pub value: Hex,
}

/// CSTS, decoded.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct CstsReport {
    /// The register.
    pub raw: Hex,
    /// Ready.
    pub rdy: bool,
    /// Controller Fatal Status.
    pub cfs: bool,
    /// Shutdown Status: `normal`, `occurring`, `complete`, `reserved`.
    pub shst: &'static str,
    /// NVM Subsystem Reset Occurred.
    pub nssro: bool,
    /// Processing Paused.
    pub pp: bool,
}

fn shst_name(s: ShutdownStatus) -> &'static str {
    match s {
        ShutdownStatus::Normal => "normal",
        ShutdownStatus::Occurring => "occurring",
        ShutdownStatus::Complete => "complete",
        ShutdownStatus::Reserved => "reserved",
    }
}

impl From<Csts> for CstsReport {
    fn from(c: Csts) -> Self {
        CstsReport {
            raw: Hex(u64::from(c.bits())),
            rdy: c.contains(Csts::RDY),
            cfs: c.contains(Csts::CFS),
            shst: shst_name(c.shst()),
            nssro: c.contains(Csts::NSSRO),
            pp: c.contains(Csts::PP),
        }
    }
}

/// An expectation on CSTS, as the report shows it.
#[derive(Clone, Copy, Debug, Serialize)]
struct CstsExpectJson {
    #[serde(skip_serializing_if = "Option::is_none")]
    rdy: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cfs: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    shst: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    nssro: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pp: Option<bool>,
}

/// What of `expect` CSTS does not meet.
fn csts_unmet(expect: &CstsExpect, got: Csts) -> Vec<String> {
    let mut failures = Vec::new();
    let mut flag = |name: &str, want: Option<bool>, bit: Csts| {
        if let Some(want) = want.filter(|&w| w != got.contains(bit)) {
            failures.push(format!(
                "expected CSTS.{name} {}, got {}",
                u8::from(want),
                u8::from(!want)
            ));
        }
    };
    flag("RDY", expect.rdy, Csts::RDY);
    flag("CFS", expect.cfs, Csts::CFS);
    flag("NSSRO", expect.nssro, Csts::NSSRO);
    flag("PP", expect.pp, Csts::PP);
    if let Some(want) = expect.shst.filter(|&w| w != got.shst()) {
        failures.push(format!(
            "expected CSTS.SHST {} ({:02b}b), got {} ({:02b}b)",
            shst_name(want),
            want.to_bits(),
            shst_name(got.shst()),
            got.shst().to_bits()
        ));
    }
    failures
}

fn csts_expect_json(e: &CstsExpect) -> serde_json::Value {
    serde_json::to_value(CstsExpectJson {
        rdy: e.rdy,
        cfs: e.cfs,
        shst: e.shst.map(shst_name),
        nssro: e.nssro,
        pp: e.pp,
    })
    .unwrap_or_default()
}

/// A step run: its report, and what the run as a whole needs from it.
struct StepRun {
    report: StepReport,
    /// The command's report, for a scenario with `commands`.
    command: Option<CommandReport>,
    accesses: Vec<DmaAccess>,
    /// Whether the step stated an expectation.
    expected: bool,
    ok: bool,
}

/// Run one step. The flag is false when the run cannot go on (a reset did not bring the
/// controller back up).
fn step(
    host: &mut MockHost,
    setup: &Setup,
    index: usize,
    spec: &StepSpec,
    link: &PcieLink,
) -> Result<(StepRun, bool), ScenarioError> {
    let err = |e: String| ScenarioError::at(spec.field.clone(), e);
    let mut report = StepReport {
        index,
        kind: "",
        name: spec.name.clone(),
        queue: None,
        opcode: None,
        opcode_name: None,
        cid: None,
        layout: None,
        sqe: None,
        slot: None,
        completion: None,
        other_completions: Vec::new(),
        doorbell: None,
        register: None,
        completions: None,
        enable: None,
        shutdown: None,
        csts: None,
        expect: None,
        ok: true,
        failures: Vec::new(),
        events: Vec::new(),
        trace: Vec::new(),
        cost: CostJson::from(&nvme_dma::controller::summarize(&[], link)),
    };
    let mut expected = false;
    let mut went_on = true;
    let observed: (Vec<DmaAccess>, Vec<ControllerEvent>) = match &spec.step {
        Step::Command(command) => {
            let mut sqe = command.sqe;
            let layout = match &command.data {
                Some(fill) => Some(lay_out(host, setup, fill, &mut sqe, &command.field)?),
                None => None,
            };
            let ran = host.run(command.queue, sqe).map_err(err)?;
            let c = report_command(index, command, sqe, layout, &ran, link);
            let accesses = ran.trace.accesses().to_vec();
            let ok = c.ok;
            report = StepReport {
                kind: "command",
                queue: Some(c.queue),
                opcode: Some(c.opcode),
                opcode_name: c.opcode_name,
                cid: Some(c.cid),
                layout: c.layout,
                sqe: Some(c.sqe.clone()),
                completion: Some(c.completion.clone()),
                other_completions: c.other_completions.clone(),
                expect: c.expect.as_ref().and_then(|e| serde_json::to_value(e).ok()),
                ok: c.ok,
                failures: c.failures.clone(),
                events: c.events.clone(),
                trace: c.trace.clone(),
                cost: c.cost,
                ..report
            };
            return Ok((
                StepRun {
                    report,
                    command: Some(c),
                    accesses,
                    expected: command.expect.is_some(),
                    ok,
                },
                true,
            ));
        }
        Step::Submit(command) => {
            let mut sqe = command.sqe;
            report.layout = match &command.data {
                Some(fill) => Some(lay_out(host, setup, fill, &mut sqe, &command.field)?),
                None => None,
            };
            let seen = host
                .observe(|h| h.submit(command.queue, sqe))
                .map_err(err)?;
            report.kind = "submit";
            report.queue = Some(command.queue);
            let opcode = sqe.opcode();
            report.opcode = Some(opcode.0);
            report.opcode_name = if command.queue == 0 {
                opcode.admin_name()
            } else {
                opcode.nvm_name()
            };
            report.cid = Some(sqe.cid());
            report.sqe = Some(sqe.to_bytes().iter().map(|b| format!("{b:02x}")).collect());
            report.slot = Some(Hex(seen.value));
            parts(seen)
        }
        Step::Ring(queue) => {
            let seen = host.observe(|h| h.ring(*queue)).map_err(err)?;
            report.kind = "ring";
            report.queue = Some(*queue);
            report.doorbell = Some(DoorbellReport {
                register: "sq_tail",
                offset: Hex(sq_tail_offset(*queue, setup)),
                value: u32::from(seen.value),
            });
            parts(seen)
        }
        Step::Doorbell {
            queue,
            cq_head,
            offset,
            value,
        } => {
            let seen = host
                .observe(|h| {
                    h.write32(*offset, *value);
                    Ok(())
                })
                .map_err(err)?;
            report.kind = "doorbell";
            report.queue = Some(*queue);
            report.doorbell = Some(DoorbellReport {
                register: if *cq_head { "cq_head" } else { "sq_tail" },
                offset: Hex(*offset),
                value: *value,
            });
            parts(seen)
        }
        Step::Reap(reap) => {
            let seen = host.observe(|h| take(h, reap)).map_err(err)?;
            report.kind = "reap";
            report.queue = Some(reap.queue);
            let (taken, rung) = &seen.value;
            report.doorbell = rung.map(|(offset, value)| DoorbellReport {
                register: "cq_head",
                offset: Hex(offset),
                value: u32::from(value),
            });
            if let Some(list) = &reap.expect {
                expected = true;
                report.expect =
                    serde_json::to_value(list.iter().map(ExpectJson::from).collect::<Vec<_>>())
                        .ok();
                report.failures = reap_unmet(list, taken, reap.queue);
            }
            report.completions = Some(taken.iter().map(CompletionJson::from).collect());
            parts(seen)
        }
        Step::Write { register, value } => {
            let seen = host
                .observe(|h| {
                    if register.bits == 64 {
                        h.write64(register.offset, *value);
                    } else {
                        h.write32(register.offset, *value as u32);
                    }
                    Ok(())
                })
                .map_err(err)?;
            report.kind = "write";
            report.register = Some(register_report(register, *value));
            parts(seen)
        }
        Step::Read { register, expect } => {
            let seen = host
                .observe(|h| {
                    Ok(if register.bits == 64 {
                        h.read64(register.offset)
                    } else {
                        u64::from(h.read32(register.offset))
                    })
                })
                .map_err(err)?;
            report.kind = "read";
            let got = seen.value;
            report.register = Some(register_report(register, got));
            if let Some((value, mask)) = *expect {
                expected = true;
                let all = register.bits == 32 && mask == u64::from(u32::MAX)
                    || register.bits == 64 && mask == u64::MAX;
                report.expect = Some(if all {
                    serde_json::json!({ "value": Hex(value) })
                } else {
                    serde_json::json!({ "value": Hex(value), "mask": Hex(mask) })
                });
                if got & mask != value {
                    let what = register_words(register);
                    report.failures.push(if all {
                        format!("expected {what} = {value:#x}, got {got:#x}")
                    } else {
                        format!(
                            "expected {what} & {mask:#x} = {value:#x}, got {:#x} (the register                              reads {got:#x})",
                            got & mask
                        )
                    });
                }
            }
            parts(seen)
        }
        Step::Reset { enable, expect } => {
            let seen = host.observe(|h| Ok(h.reset(*enable)));
            let seen = seen.map_err(err)?;
            report.kind = "reset";
            report.enable = Some(*enable);
            let csts = match &seen.value {
                Ok(csts) => Some(*csts),
                Err(e) => {
                    went_on = false;
                    report.failures.push(format!(
                        "the controller did not come back up ({e}): the steps after this one                          were not run"
                    ));
                    None
                }
            };
            if let Some(csts) = csts {
                report.csts = Some(csts.into());
                if let Some(e) = expect {
                    expected = true;
                    report.expect = Some(csts_expect_json(e));
                    report.failures.extend(csts_unmet(e, csts));
                }
            }
            parts(seen)
        }
        Step::Shutdown { kind, expect } => {
            let seen = host.observe(|h| h.shutdown(*kind)).map_err(err)?;
            report.kind = "shutdown";
            report.shutdown = Some(match kind {
                ShutdownNotification::Abrupt => "abrupt",
                _ => "normal",
            });
            report.csts = Some(seen.value.into());
            if let Some(e) = expect {
                expected = true;
                report.expect = Some(csts_expect_json(e));
                report.failures.extend(csts_unmet(e, seen.value));
            }
            parts(seen)
        }
    };
    let (accesses, events) = observed;
    report.ok = report.failures.is_empty();
    report.events = events.iter().map(event_words).collect();
    report.trace = accesses.iter().map(AccessJson::from).collect();
    report.cost = CostJson::from(&nvme_dma::controller::summarize(&accesses, link));
    let ok = report.ok;
    Ok((
        StepRun {
            report,
            command: None,
            accesses,
            expected,
            ok,
        },
        went_on,
    ))
}

/// The trace and events of an observed action.
fn parts<T>(seen: Observed<T>) -> (Vec<DmaAccess>, Vec<ControllerEvent>) {
    (seen.trace.accesses().to_vec(), seen.events)
}

fn sq_tail_offset(queue: u16, setup: &Setup) -> u64 {
    nvme_dma::spec::registers::sq_tail_doorbell(queue, setup.config.doorbell_stride).unwrap_or(0)
}

/// The completions a reap took, and the CQ head doorbell it rang (offset, value), if it did.
type Taken = (Vec<CompletionEntry>, Option<(u64, u16)>);

/// Take what `reap` asks for.
fn take(host: &mut MockHost, reap: &Reap) -> Result<Taken, String> {
    // A CQ of n slots never holds more than n - 1 new entries: the bound also stops a
    // controller that overwrote entries from being read round and round.
    let most = host.entries(reap.queue).unwrap_or(0);
    let most = reap.count.map_or(most, |c| c.min(most));
    let mut taken = Vec::new();
    while taken.len() < usize::from(most) {
        match host.take(reap.queue)? {
            Some(c) => taken.push(c),
            None => break,
        }
    }
    let rung = if reap.doorbell {
        let value = host.ring_cq_head(reap.queue)?;
        let offset =
            nvme_dma::spec::registers::cq_head_doorbell(reap.queue, host.dstrd()).unwrap_or(0);
        Some((offset, value))
    } else {
        None
    };
    Ok((taken, rung))
}

/// What of a reap's expectations the completions taken do not meet.
fn reap_unmet(expect: &[Expect], taken: &[CompletionEntry], queue: u16) -> Vec<String> {
    let mut failures = Vec::new();
    let completions = |n: usize| {
        if n == 1 {
            "1 completion".to_string()
        } else {
            format!("{n} completions")
        }
    };
    if expect.len() != taken.len() {
        failures.push(match (expect.len(), taken.len()) {
            (0, n) => format!(
                "expected no completion waiting on queue {queue}, but the controller posted {n}"
            ),
            (e, 0) => format!(
                "expected {} on queue {queue}, but none was posted",
                completions(e)
            ),
            (e, n) => format!("expected {} on queue {queue}, took {n}", completions(e)),
        });
    }
    for (i, (e, c)) in expect.iter().zip(taken).enumerate() {
        for f in unmet(e, Some(c)) {
            failures.push(format!("completion {} (CID {}): {f}", i + 1, c.cid()));
        }
    }
    failures
}

fn register_report(r: &Register, value: u64) -> RegisterReport {
    RegisterReport {
        name: r.name,
        offset: Hex(r.offset),
        bits: r.bits,
        value: Hex(value),
    }
}

/// A register in words: its name, or its offset.
pub fn register_words(r: &Register) -> String {
    match r.name {
        Some(name) => name.to_string(),
        None => format!("register {:#x}", r.offset),
    }
}

/// Where a check or digest looked.
#[derive(Clone, Copy, Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TargetJson {
    /// Memory.
    Memory {
        /// First address.
        addr: Hex,
        /// Bytes.
        len: u64,
    },
    /// Namespace blocks.
    Namespace {
        /// The namespace.
        nsid: u32,
        /// First block.
        slba: u64,
        /// Blocks.
        nlb: u64,
    },
}

impl From<Target> for TargetJson {
    fn from(t: Target) -> Self {
        match t {
            Target::Memory(e) => TargetJson::Memory {
                addr: Hex(e.addr),
                len: e.len,
            },
            Target::Namespace { nsid, slba, nlb } => TargetJson::Namespace { nsid, slba, nlb },
        }
    }
}

/// One content check.
#[derive(Clone, Debug, Serialize)]
pub struct CheckReport {
    /// Where.
    pub target: TargetJson,
    /// What it had to hold, in words.
    pub wanted: String,
    /// Whether it did.
    pub ok: bool,
    /// Where it differed, or why it could not be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// One digest.
#[derive(Clone, Debug, Serialize)]
pub struct DigestReport {
    /// Where.
    pub target: TargetJson,
    /// Bytes digested.
    pub bytes: u64,
    /// FNV-1a 64 of them (absent when they could not be read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fnv1a64: Option<Hex>,
    /// The value the scenario expected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<Hex>,
    /// Whether it matched (true without an expectation).
    pub ok: bool,
    /// Why there is no digest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A status in words: its name, or SCT/SC when it has none.
pub fn status_words(s: Status) -> String {
    match s.name() {
        Some(name) => name.to_string(),
        None => format!("SCT {:X}h, SC {:02X}h", s.sct().to_raw(), s.sc()),
    }
}

/// An event in words.
pub fn event_words(e: &ControllerEvent) -> String {
    match *e {
        ControllerEvent::EnableRefused(r) => format!("enable refused: {r}"),
        ControllerEvent::DoorbellWhileNotReady { offset, value } => {
            format!("doorbell {offset:#x} written with {value} while not ready: ignored")
        }
        ControllerEvent::InvalidDoorbellRegister { offset, value } => {
            format!("doorbell {offset:#x} (no such queue) written with {value}: ignored")
        }
        ControllerEvent::InvalidDoorbellValue { offset, value } => {
            format!("doorbell {offset:#x} written with the invalid value {value}: ignored")
        }
        ControllerEvent::ReadOnlyRegister { offset } => {
            format!("register {offset:#x} is read-only: the write was ignored")
        }
        ControllerEvent::SqeFetchFailed { qid, addr } => format!(
            "fatal: the submission entry of queue {qid} at {addr:#x} could not be fetched (CSTS.CFS)"
        ),
        ControllerEvent::CqePostFailed { cqid, addr } => format!(
            "fatal: a completion could not be posted to queue {cqid} at {addr:#x} (CSTS.CFS)"
        ),    ControllerEvent::Hung { .. } => e.to_string(),
    }
}

/// Run `setup` on a fresh controller.
pub fn run(
    setup: &Setup,
    scenario: ScenarioInfo,
    link: &PcieLink,
) -> Result<ExecReport, ScenarioError> {
    let mut host = bring_up(setup)?;
    // Steps can leave commands in flight, so a full queue is a mistake worth naming; a
    // `commands` scenario runs as it always has.
    host.refuse_full = setup.form == Form::Steps;
    let mut tally = Tally::default();
    let mut reports = Vec::new();
    let mut all = Vec::new();
    let mut not_run = 0;
    for (index, spec) in setup.steps.iter().enumerate() {
        let (report, went_on) = step(&mut host, setup, index, spec, link)?;
        all.extend(report.accesses.iter().cloned());
        if report.expected {
            tally.total += 1;
            tally.failed += u64::from(!report.ok);
        }
        reports.push(report);
        if !went_on {
            // The controller did not come back up: nothing after this can run as written.
            not_run = setup.steps.len() - index - 1;
            tally.total += 1;
            tally.failed += 1;
            break;
        }
    }
    let (commands, steps) = match setup.form {
        Form::Commands => (
            reports.into_iter().filter_map(|r| r.command).collect(),
            None,
        ),
        Form::Steps => (
            Vec::new(),
            Some(reports.into_iter().map(|r| r.report).collect()),
        ),
    };
    let checks: Vec<CheckReport> = setup
        .checks
        .iter()
        .map(|c| check(&host, c, setup))
        .collect();
    for c in &checks {
        tally.total += 1;
        tally.failed += u64::from(!c.ok);
    }
    let digests = digests(&host, setup);
    for d in digests.iter().filter(|d| d.expected.is_some()) {
        tally.total += 1;
        tally.failed += u64::from(!d.ok);
    }
    let config = host.machine.controller.config();
    Ok(ExecReport {
        scenario,
        controller: ControllerInfo {
            profile: config.profile.to_string(),
            page_size: setup.page_size.bytes(),
            max_transfer: match config.max_transfer() {
                nvme_dma::spec::MaxTransfer::Unlimited => None,
                nvme_dma::spec::MaxTransfer::Bytes(n) => Some(n),
            },
            sgls: Hex(u64::from(config.sgls.bits())),
            bar0: host.machine.controller.register_window().into(),
            cmb: config.cmb.map(|c| Extent::new(c.addr, c.size).into()),
            namespaces: config
                .namespaces
                .iter()
                .zip(1u32..)
                .map(|(ns, nsid)| NamespaceInfo {
                    nsid,
                    blocks: ns.blocks,
                    lba_size: ns.lba_size,
                    metadata_size: ns.metadata_size,
                    extended: ns.extended,
                })
                .collect(),
        },
        link: LinkJson::from(link),
        total: CostJson::from(&nvme_dma::controller::summarize(&all, link)),
        commands,
        steps,
        not_run,
        checks,
        digests,
        expectations: tally,
    })
}

/// Map host memory, bring the controller up, fill memory and the CMB, create the queues.
fn bring_up(setup: &Setup) -> Result<MockHost, ScenarioError> {
    let mut memory = SimMemory::new();
    memory.set_logging(false);
    let map = |memory: &mut SimMemory, e: Extent, field: &str| {
        memory
            .map(e.addr, e.len)
            .map_err(|err| ScenarioError::at(field, format!("cannot map {e}: {err}")))
    };
    map(&mut memory, setup.queue_area, "host.queue_memory")?;
    map(&mut memory, setup.descriptor_area, "host.descriptor_memory")?;
    for (i, r) in setup.regions.iter().enumerate().filter(|(_, r)| !r.in_cmb) {
        let field = format!("memory[{i}]");
        map(&mut memory, r.extent(), &field)?;
        memory
            .poke(r.addr, &r.bytes)
            .map_err(|e| ScenarioError::at(field, e.to_string()))?;
    }
    let mut host = MockHost::bring_up(setup.config.clone(), memory, setup.page_size, setup.admin)
        .map_err(|e| ScenarioError::at("controller", e))?;
    for (i, r) in setup.regions.iter().enumerate().filter(|(_, r)| r.in_cmb) {
        host.machine
            .write(r.addr, &r.bytes)
            .map_err(|e| ScenarioError::at(format!("memory[{i}]"), e.to_string()))?;
    }
    for (i, (qid, at)) in setup.queues.iter().enumerate() {
        host.create_io_pair(*qid, *at)
            .map_err(|e| ScenarioError::at(format!("queues[{i}]"), e))?;
    }
    Ok(host)
}

/// Lay out `fill` with the library's `dptr` into the host's descriptor memory and `sqe`.
fn lay_out(
    host: &mut MockHost,
    setup: &Setup,
    fill: &DataFill,
    sqe: &mut SubmissionEntry,
    command: &str,
) -> Result<&'static str, ScenarioError> {
    let field = format!("{command}.data");
    let config = host.machine.controller.config();
    let caps = ControllerCaps {
        page_size: setup.page_size,
        sgl: SglCaps::new(config.sgls).with_limits(config.walk_limits),
        max_transfer: config.max_transfer(),
    };
    let page = setup.page_size.bytes();
    let base = setup.descriptor_area.addr;
    let addr = |kind: u64, i: u64| base + (kind * DESCRIPTOR_PAGES + i) * page;
    let mut buffers: Vec<Vec<u8>> = (0..3 * DESCRIPTOR_PAGES)
        .map(|_| vec![0u8; page as usize])
        .collect();
    let mut request =
        Request::new(&fill.extents, fill.direction, fill.queue).with_block_size(fill.block_size);
    if let Some(m) = &fill.metadata {
        request = request.with_metadata(m);
    }
    let outcome = {
        let (prp, rest) = buffers.split_at_mut(DESCRIPTOR_PAGES as usize);
        let (sgl, meta) = rest.split_at_mut(DESCRIPTOR_PAGES as usize);
        let mut prp_lists: Vec<PrpListPage<'_>> = prp
            .iter_mut()
            .zip(0..)
            .map(|(b, i)| PrpListPage::new(addr(0, i), b))
            .collect();
        let mut sgl_segments: Vec<SegmentBuf<'_>> = sgl
            .iter_mut()
            .zip(0..)
            .map(|(b, i)| SegmentBuf::new(addr(1, i), b))
            .collect();
        let mut metadata_segments: Vec<SegmentBuf<'_>> = meta
            .iter_mut()
            .zip(0..)
            .map(|(b, i)| SegmentBuf::new(addr(2, i), b))
            .collect();
        let mut memory = DescriptorMemory {
            prp_lists: &mut prp_lists,
            sgl_segments: &mut sgl_segments,
            metadata_segments: &mut metadata_segments,
        };
        dptr::fill_sqe(sqe, &request, &caps, fill.policy, &mut memory)
    };
    let layout = match outcome {
        Ok(Outcome::Filled(f)) => {
            if f.psdt.is_sgl() {
                "sgl"
            } else {
                "prp"
            }
        }
        Ok(Outcome::Split(split)) => {
            return Err(ScenarioError::at(
                field,
                format!(
                    "one command cannot carry these extents; the library would split them into {} \
                     {} commands: give each its own command",
                    split.commands(),
                    match split.pointer() {
                        dptr::PointerKind::Prp => "PRP",
                        dptr::PointerKind::Sgl => "SGL",
                    }
                ),
            ))
        }
        Err(e) => {
            return Err(ScenarioError::at(
                field,
                format!("the host cannot lay these extents out: {e}"),
            ))
        }
    };
    for (i, bytes) in (0..).zip(&buffers) {
        host.machine
            .write(base + i * page, bytes)
            .map_err(|e| ScenarioError::at(&field, format!("writing descriptors: {e}")))?;
    }
    Ok(layout)
}

fn report_command(
    index: usize,
    command: &Command,
    sqe: SubmissionEntry,
    layout: Option<&'static str>,
    ran: &Ran,
    link: &PcieLink,
) -> CommandReport {
    let opcode = sqe.opcode();
    let opcode_name = if command.queue == 0 {
        opcode.admin_name()
    } else {
        opcode.nvm_name()
    };
    let failures = command
        .expect
        .as_ref()
        .map(|e| unmet(e, ran.completion.as_ref()))
        .unwrap_or_default();
    CommandReport {
        index,
        name: command.name.clone(),
        queue: command.queue,
        opcode: opcode.0,
        opcode_name,
        cid: sqe.cid(),
        layout,
        sqe: sqe.to_bytes().iter().map(|b| format!("{b:02x}")).collect(),
        completion: ran.completion.as_ref().map(CompletionJson::from),
        other_completions: ran.others.iter().map(CompletionJson::from).collect(),
        events: ran.events.iter().map(event_words).collect(),
        expect: command.expect.as_ref().map(ExpectJson::from),
        ok: failures.is_empty(),
        failures,
        trace: ran.trace.accesses().iter().map(AccessJson::from).collect(),
        cost: CostJson::from(&ran.trace.summary(link)),
    }
}

/// What of `expect` the completion does not meet.
fn unmet(expect: &Expect, completion: Option<&CompletionEntry>) -> Vec<String> {
    let Some(c) = completion else {
        return vec![format!(
            "expected {}, but the controller posted no completion",
            status_words(expect.status)
        )];
    };
    let got = c.status();
    let mut failures = Vec::new();
    if !got.same_code(expect.status) {
        failures.push(format!(
            "expected {}, got {}",
            status_words(expect.status),
            status_words(got)
        ));
    }
    if let Some(dnr) = expect.dnr.filter(|&d| d != got.dnr()) {
        failures.push(format!(
            "expected DNR {}, got {}",
            u8::from(dnr),
            u8::from(got.dnr())
        ));
    }
    if let Some(dw0) = expect.dw0.filter(|&d| d != c.dw0()) {
        failures.push(format!("expected DW0 {dw0:#x}, got {:#x}", c.dw0()));
    }
    if let Some(cid) = expect.cid.filter(|&v| v != c.cid()) {
        failures.push(format!("expected CID {cid}, got {}", c.cid()));
    }
    if let Some(sqid) = expect.sqid.filter(|&v| v != c.sqid()) {
        failures.push(format!("expected SQ {sqid}, got {}", c.sqid()));
    }
    if let Some(head) = expect.sq_head.filter(|&v| v != c.sqhd()) {
        failures.push(format!("expected SQ head {head}, got {}", c.sqhd()));
    }
    failures
}

/// The bytes at a target now.
fn read(host: &MockHost, target: Target, setup: &Setup) -> Result<Vec<u8>, String> {
    match target {
        Target::Memory(e) => {
            let mut buf = vec![0u8; e.len as usize];
            host.machine
                .read(e.addr, &mut buf)
                .map_err(|err| format!("cannot read {e}: {err}"))?;
            Ok(buf)
        }
        Target::Namespace { nsid, slba, nlb } => host
            .machine
            .controller
            .namespace_data(nsid, slba, nlb)
            .filter(|b| b.len() as u64 == target_len(&target, &setup.config))
            .ok_or_else(|| format!("cannot read blocks {slba}+{nlb} of namespace {nsid}")),
    }
}

fn check(host: &MockHost, c: &Check, setup: &Setup) -> CheckReport {
    let len = target_len(&c.target, &setup.config);
    let (wanted, want) = match &c.equals {
        Wanted::Bytes { bytes, said } => (said.clone(), Ok(bytes.clone())),
        Wanted::Memory(addr) => (
            format!("the bytes at {addr:#x}"),
            read(host, Target::Memory(Extent::new(*addr, len)), setup),
        ),
    };
    let outcome = want.and_then(|want| read(host, c.target, setup).map(|got| (got, want)));
    let (ok, detail) = match outcome {
        Ok((got, want)) => match got.iter().zip(&want).position(|(a, b)| a != b) {
            None => (true, None),
            Some(i) => (
                false,
                Some(format!(
                    "byte {i} is {:#04x}, not {:#04x}",
                    got.get(i).copied().unwrap_or_default(),
                    want.get(i).copied().unwrap_or_default()
                )),
            ),
        },
        Err(e) => (false, Some(e)),
    };
    CheckReport {
        target: c.target.into(),
        wanted,
        ok,
        detail,
    }
}

/// Every region, every namespace, then what the scenario listed.
fn digests(host: &MockHost, setup: &Setup) -> Vec<DigestReport> {
    let config = host.machine.controller.config();
    let regions = setup.regions.iter().map(|r| Digest {
        target: Target::Memory(r.extent()),
        fnv1a64: None,
    });
    let namespaces = config
        .namespaces
        .iter()
        .zip(1u32..)
        .map(|(ns, nsid)| Digest {
            target: Target::Namespace {
                nsid,
                slba: 0,
                nlb: ns.blocks,
            },
            fnv1a64: None,
        });
    let listed = setup.digests.iter().map(|d| Digest {
        target: d.target,
        fnv1a64: d.fnv1a64,
    });
    regions
        .chain(namespaces)
        .chain(listed)
        .map(|d| {
            let bytes = target_len(&d.target, &setup.config);
            let value = if bytes > MAX_RANGE_BYTES {
                Err(format!(
                    "{bytes} bytes is more than this tool digests whole ({MAX_RANGE_BYTES}): list a \
                     range in `digests`"
                ))
            } else {
                read(host, d.target, setup).map(|b| fnv1a64(&b))
            };
            let (value, note) = match value {
                Ok(v) => (Some(v), None),
                Err(e) => (None, Some(e)),
            };
            DigestReport {
                target: d.target.into(),
                bytes,
                fnv1a64: value.map(Hex),
                expected: d.fnv1a64.map(Hex),
                ok: d.fnv1a64.is_none() || d.fnv1a64 == value,
                note,
            }
        })
        .collect()
}
