//! From a scenario file to what `exec` runs: the controller's configuration, the memory
//! contents, the queues and the commands or steps, with every value checked and every error
//! naming its field.

use nvme_dma::controller::{
    CmbConfig, ControllerConfig, MockController, NamespaceConfig, PcieLink, Profile,
};
use nvme_dma::dptr::SglPolicy;
use nvme_dma::spec::registers::{cq_head_doorbell, offset, sq_tail_doorbell};
use nvme_dma::spec::{
    BlockRange, DataDirection, Opcode, Psdt, SglDescriptor, SglDescriptorType, SglSubtype,
    SglSupport, Sgls, ShutdownNotification, ShutdownStatus, Status, StatusCodeType,
    SubmissionEntry,
};
use nvme_dma::Direction;
use nvme_dma::QueueKind;
use nvme_dma::{Extent, PageSize};

use crate::mock_host::{pair_bytes, QueuePlacement, ADMIN_ENTRIES};
use crate::parse;
use crate::scenario::{
    CheckJson, CommandJson, ContentJson, ControllerJson, CstsJson, DataJson, DescriptorJson,
    DigestJson, ExpectJson, Num, PolicyJson, RegionJson, Scenario, ScenarioError, SglSupportJson,
    ShstJson, ShutdownKindJson, StepJson, Token,
};

/// Most bytes one memory region, check or digest range may span (they are held in memory).
pub const MAX_RANGE_BYTES: u64 = 64 << 20;
/// Where the host keeps its queues unless `host.queue_memory` says otherwise.
pub const DEFAULT_QUEUE_MEMORY: u64 = 0x0800_0000;
/// Where the host writes `data` commands' descriptors unless `host.descriptor_memory` says.
pub const DEFAULT_DESCRIPTOR_MEMORY: u64 = 0x0c00_0000;
/// Memory pages of each kind (PRP lists, SGL segments, metadata segments) the host offers a
/// `data` command.
pub const DESCRIPTOR_PAGES: u64 = 32;

type Result<T> = std::result::Result<T, ScenarioError>;

/// Everything `exec` needs, checked.
#[derive(Debug)]
pub struct Setup {
    /// The controller to build.
    pub config: ControllerConfig,
    /// The memory page size the host enables it with.
    pub page_size: PageSize,
    /// The link costs are counted on.
    pub link: PcieLink,
    /// Memory contents, in order (later regions overwrite earlier ones where they overlap).
    pub regions: Vec<Region>,
    /// Host memory the host maps for its queues.
    pub queue_area: Extent,
    /// Host memory the host maps for `data` commands' descriptors.
    pub descriptor_area: Extent,
    /// The admin queue pair.
    pub admin: QueuePlacement,
    /// The I/O queue pairs, in creation order.
    pub queues: Vec<(u16, QueuePlacement)>,
    /// Whether the scenario said `commands` or `steps` (the report follows it).
    pub form: Form,
    /// What the host does, in order (each of `commands` is a [`Step::Command`]).
    pub steps: Vec<StepSpec>,
    /// Contents to compare at the end.
    pub checks: Vec<Check>,
    /// Extra digests asked for.
    pub digests: Vec<Digest>,
}

/// One region of initial memory.
#[derive(Debug)]
pub struct Region {
    /// Bus address.
    pub addr: u64,
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// Whether it lies in the controller memory buffer (written there, not mapped).
    pub in_cmb: bool,
}

impl Region {
    /// The region as an extent.
    pub fn extent(&self) -> Extent {
        Extent::new(self.addr, self.bytes.len() as u64)
    }
}

/// Which list a scenario gave its actions in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// `commands`: each one run to completion.
    Commands,
    /// `steps`: any host action.
    Steps,
}

/// One host action, with where the scenario said it.
#[derive(Debug)]
pub struct StepSpec {
    /// A label, if the scenario gave one.
    pub name: Option<String>,
    /// The field it came from (`steps[3].reap`, `commands[1]`), for errors found running it.
    pub field: String,
    /// What to do.
    pub step: Step,
}

/// A host action.
#[derive(Debug)]
pub enum Step {
    /// Submit, ring, reap every completion, compare.
    Command(Command),
    /// Write the entry into the next slot; do not ring.
    Submit(Command),
    /// Ring queue `.0`'s SQ tail doorbell with the host's tail.
    Ring(u16),
    /// Write a doorbell with any value.
    Doorbell {
        /// The queue named (created or not).
        queue: u16,
        /// The CQ head doorbell (else the SQ tail doorbell).
        cq_head: bool,
        /// Its BAR0 offset.
        offset: u64,
        /// The value written.
        value: u32,
    },
    /// Take completions off a completion queue.
    Reap(Reap),
    /// Write a register.
    Write {
        /// Which.
        register: Register,
        /// The value.
        value: u64,
    },
    /// Read a register.
    Read {
        /// Which.
        register: Register,
        /// `(value, mask)` the read must give: `got & mask == value`.
        expect: Option<(u64, u64)>,
    },
    /// Clear CC.EN (and CC.SHN); bring the controller back up if `enable`.
    Reset {
        /// Bring it back up and create the queues again.
        enable: bool,
        /// CSTS right after CC.EN = 0.
        expect: Option<CstsExpect>,
    },
    /// Write CC.SHN.
    Shutdown {
        /// Normal or abrupt.
        kind: ShutdownNotification,
        /// CSTS right after.
        expect: Option<CstsExpect>,
    },
}

/// `reap`, checked.
#[derive(Debug)]
pub struct Reap {
    /// The completion queue.
    pub queue: u16,
    /// Most completions to take (`None`: all posted).
    pub count: Option<u16>,
    /// What they must be, in order.
    pub expect: Option<Vec<Expect>>,
    /// Ring the CQ head doorbell afterwards.
    pub doorbell: bool,
}

/// A BAR0 register.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Register {
    /// Its name, when it has one.
    pub name: Option<&'static str>,
    /// Its offset in BAR0.
    pub offset: u64,
    /// 32 or 64.
    pub bits: u8,
}

/// CSTS fields that must hold.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CstsExpect {
    /// RDY.
    pub rdy: Option<bool>,
    /// CFS.
    pub cfs: Option<bool>,
    /// SHST.
    pub shst: Option<ShutdownStatus>,
    /// NSSRO.
    pub nssro: Option<bool>,
    /// PP.
    pub pp: Option<bool>,
}

/// One command, ready to submit.
#[derive(Debug)]
pub struct Command {
    /// A label, if the scenario gave one.
    pub name: Option<String>,
    /// The field it came from (`commands[2]`, `steps[4].submit`).
    pub field: String,
    /// The queue.
    pub queue: u16,
    /// The entry (its data pointer still empty when `data` is set).
    pub sqe: SubmissionEntry,
    /// A data pointer to lay out from extents just before submission.
    pub data: Option<DataFill>,
    /// What the completion must say.
    pub expect: Option<Expect>,
}

/// A data pointer the library lays out.
#[derive(Debug)]
pub struct DataFill {
    /// The buffer.
    pub extents: Vec<Extent>,
    /// The metadata buffer.
    pub metadata: Option<Vec<Extent>>,
    /// How to choose PRP or SGL.
    pub policy: SglPolicy,
    /// Which way the data moves.
    pub direction: Direction,
    /// Admin or I/O.
    pub queue: QueueKind,
    /// The namespace's block size, for the split a refusal suggests.
    pub block_size: u64,
}

/// An expected completion.
#[derive(Clone, Debug)]
pub struct Expect {
    /// SCT and SC (DNR, M and CRD are compared only as `dnr` says).
    pub status: Status,
    /// DNR, when it matters.
    pub dnr: Option<bool>,
    /// DW0, when it matters.
    pub dw0: Option<u32>,
    /// CID, when it matters.
    pub cid: Option<u16>,
    /// SQ identifier, when it matters.
    pub sqid: Option<u16>,
    /// SQ head pointer, when it matters.
    pub sq_head: Option<u16>,
}

/// Where a check or digest looks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// Host memory or the CMB.
    Memory(Extent),
    /// Blocks of a namespace.
    Namespace {
        /// The namespace.
        nsid: u32,
        /// First block.
        slba: u64,
        /// Blocks.
        nlb: u64,
    },
}

/// A content check.
#[derive(Debug)]
pub struct Check {
    /// Where.
    pub target: Target,
    /// What it must hold.
    pub equals: Wanted,
}

/// The contents a check wants.
#[derive(Debug)]
pub enum Wanted {
    /// These bytes.
    Bytes {
        /// The bytes.
        bytes: Vec<u8>,
        /// How the scenario said them.
        said: String,
    },
    /// The bytes at this address at the end.
    Memory(u64),
}

/// A digest asked for.
#[derive(Debug)]
pub struct Digest {
    /// Where.
    pub target: Target,
    /// The value it must have.
    pub fnv1a64: Option<u64>,
}

/// The documented pattern: an xorshift64 generator seeded with `seed × 0x9e3779b97f4a7c15 | 1`
/// that yields its low byte after each step (`x ^= x << 13; x ^= x >> 7; x ^= x << 17`).
pub fn pattern(seed: u64, len: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// Check and lay out a scenario.
pub fn build(s: &Scenario) -> Result<Setup> {
    let (config, page_size) = controller(&s.controller, s.namespaces.as_deref())?;
    let link = link(&s.link)?;
    let bar0 = Extent::new(config.bar0, config.bar0_size());
    let cmb = config.cmb.map(|c| Extent::new(c.addr, c.size));
    let regions = s
        .memory
        .iter()
        .enumerate()
        .map(|(i, r)| region(r, &format!("memory[{i}]"), cmb))
        .collect::<Result<Vec<_>>>()?;

    // Queues: where the scenario put them, or in the host's queue memory.
    let queue_base = aligned(
        s.host.queue_memory,
        DEFAULT_QUEUE_MEMORY,
        page_size,
        "host.queue_memory",
    )?;
    let mut next = queue_base;
    let mut past_the_end = false;
    let mut take = |bytes: u64| {
        let at = next;
        match next.checked_add(bytes) {
            Some(n) => next = n,
            None => past_the_end = true,
        }
        at
    };
    let (sq_bytes, cq_bytes) = pair_bytes(ADMIN_ENTRIES, page_size);
    let admin = QueuePlacement {
        sq: take(sq_bytes),
        cq: take(cq_bytes),
        entries: ADMIN_ENTRIES,
    };
    let declared = s.queues.as_deref();
    let mut queues = Vec::new();
    match declared {
        None => {
            let (sq_bytes, cq_bytes) = pair_bytes(16, page_size);
            let (sq, cq) = (take(sq_bytes), take(cq_bytes));
            queues.push((
                1,
                QueuePlacement {
                    sq,
                    cq,
                    entries: 16,
                },
            ));
        }
        Some(list) => {
            for (i, q) in list.iter().enumerate() {
                let field = format!("queues[{i}]");
                if q.qid == 0 || q.qid > config.max_io_queues {
                    return Err(ScenarioError::at(
                        format!("{field}.qid"),
                        format!("must be 1 to {} (max_io_queues)", config.max_io_queues),
                    ));
                }
                if queues.iter().any(|(qid, _)| *qid == q.qid) {
                    return Err(ScenarioError::at(
                        format!("{field}.qid"),
                        format!("queue {} is declared twice", q.qid),
                    ));
                }
                if q.entries < 2 || u32::from(q.entries) > config.max_queue_entries {
                    return Err(ScenarioError::at(
                        format!("{field}.entries"),
                        format!(
                            "must be 2 to {} (max_queue_entries)",
                            config.max_queue_entries
                        ),
                    ));
                }
                let (sq_bytes, cq_bytes) = pair_bytes(q.entries, page_size);
                let sq = q.sq_addr.map_or_else(|| take(sq_bytes), |n| n.0);
                let cq = q.cq_addr.map_or_else(|| take(cq_bytes), |n| n.0);
                queues.push((
                    q.qid,
                    QueuePlacement {
                        sq,
                        cq,
                        entries: q.entries,
                    },
                ));
            }
        }
    }
    let queue_area = Extent::new(queue_base, next - queue_base);
    let descriptor_base = aligned(
        s.host.descriptor_memory,
        DEFAULT_DESCRIPTOR_MEMORY,
        page_size,
        "host.descriptor_memory",
    )?;
    let descriptor_area = Extent::new(descriptor_base, 3 * DESCRIPTOR_PAGES * page_size.bytes());
    for (area, field, past) in [
        (queue_area, "host.queue_memory", past_the_end),
        (descriptor_area, "host.descriptor_memory", false),
    ] {
        if past || !area.fits_address_space() {
            return Err(ScenarioError::at(
                field,
                "the host's memory would run past the end of the address space",
            ));
        }
    }
    for (area, field) in [
        (queue_area, "host.queue_memory"),
        (descriptor_area, "host.descriptor_memory"),
    ] {
        let mut others: Vec<(Extent, String)> =
            vec![(bar0, "the register window (controller.bar0)".into())];
        others.extend(cmb.map(|c| {
            (
                c,
                "the controller memory buffer (controller.cmb)".to_string(),
            )
        }));
        others.extend(
            regions
                .iter()
                .enumerate()
                .map(|(i, r)| (r.extent(), format!("memory[{i}]"))),
        );
        if field == "host.descriptor_memory" {
            others.push((queue_area, "host.queue_memory".into()));
        }
        if let Some((e, what)) = others.iter().find(|(e, _)| overlaps(area, *e)) {
            return Err(ScenarioError::at(
                field,
                format!(
                    "the host's {:#x}+{:#x} overlaps {what} ({:#x}+{:#x}): give the host another address",
                    area.addr, area.len, e.addr, e.len
                ),
            ));
        }
    }

    let qids: Vec<u16> = queues.iter().map(|(qid, _)| *qid).collect();
    let (form, steps) = match (&s.commands, &s.steps) {
        (Some(_), Some(_)) => {
            return Err(ScenarioError::at(
                "steps",
                "give `commands` or `steps`, not both (a `command` step is a command)",
            ))
        }
        (None, None) => {
            return Err(ScenarioError::at(
                "commands",
                "give `commands` (or `steps`) with at least one entry",
            ))
        }
        (Some(list), None) => {
            let commands = list
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let field = format!("commands[{i}]");
                    Ok(StepSpec {
                        name: c.name.clone(),
                        step: Step::Command(command(c, &field, i + 1, &qids, &config)?),
                        field,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            (Form::Commands, commands)
        }
        (None, Some(list)) => (Form::Steps, steps(list, &qids, &config)?),
    };
    if steps.is_empty() {
        let field = match form {
            Form::Commands => "commands",
            Form::Steps => "steps",
        };
        return Err(ScenarioError::at(field, "give at least one entry"));
    }
    let checks = s
        .checks
        .iter()
        .enumerate()
        .map(|(i, c)| check(c, &format!("checks[{i}]"), &config))
        .collect::<Result<Vec<_>>>()?;
    let digests = s
        .digests
        .iter()
        .enumerate()
        .map(|(i, d)| digest(d, &format!("digests[{i}]"), &config))
        .collect::<Result<Vec<_>>>()?;
    Ok(Setup {
        config,
        page_size,
        link,
        regions,
        queue_area,
        descriptor_area,
        admin,
        queues,
        form,
        steps,
        checks,
        digests,
    })
}

fn overlaps(a: Extent, b: Extent) -> bool {
    let end = |e: Extent| e.addr.saturating_add(e.len);
    a.len > 0 && b.len > 0 && a.addr < end(b) && b.addr < end(a)
}

/// A number that must fit `T`, or an error naming `field`.
fn fit<T: TryFrom<u64>>(n: Num, field: &str, what: &str) -> Result<T> {
    T::try_from(n.0)
        .map_err(|_| ScenarioError::at(field, format!("{:#x} does not fit {what}", n.0)))
}

/// A page-aligned host address, or the default.
fn aligned(given: Option<Num>, default: u64, ps: PageSize, field: &str) -> Result<u64> {
    let addr = given.map_or(default, |n| n.0);
    if !ps.is_aligned(addr) {
        return Err(ScenarioError::at(
            field,
            format!("{addr:#x} is not aligned to the {ps} memory page"),
        ));
    }
    Ok(addr)
}

fn page_size(given: Option<Num>, default: u64, field: &str) -> Result<PageSize> {
    let bytes = given.map_or(default, |n| n.0);
    PageSize::new(bytes).ok_or_else(|| {
        ScenarioError::at(
            field,
            format!("{bytes} is not a memory page size: a power of two from 4096 to 128M"),
        )
    })
}

fn controller(
    c: &ControllerJson,
    namespaces: Option<&[crate::scenario::NamespaceJson]>,
) -> Result<(ControllerConfig, PageSize)> {
    let base = ControllerConfig::default();
    let min = page_size(
        c.min_page_size,
        4096 << base.mps_min,
        "controller.min_page_size",
    )?;
    let max = page_size(
        c.max_page_size,
        4096 << base.mps_max,
        "controller.max_page_size",
    )?;
    let ps = page_size(c.page_size, 4096, "controller.page_size")?;
    if ps.bytes() < min.bytes() || ps.bytes() > max.bytes() {
        return Err(ScenarioError::at(
            "controller.page_size",
            format!(
                "{ps} is outside the controller's {min} to {max} (min_page_size, max_page_size)"
            ),
        ));
    }
    let mut config = ControllerConfig {
        mps_min: min.mps(),
        mps_max: max.mps(),
        mdts: c.mdts.unwrap_or(base.mdts),
        max_queue_entries: c.max_queue_entries.unwrap_or(base.max_queue_entries),
        contiguous_queues_required: c
            .contiguous_queues_required
            .unwrap_or(base.contiguous_queues_required),
        doorbell_stride: c.doorbell_stride.unwrap_or(base.doorbell_stride),
        max_io_queues: c.max_io_queues.unwrap_or(base.max_io_queues),
        bar0: c.bar0.map_or(base.bar0, |n| n.0),
        ..base.clone()
    };
    if let Some(sgls) = &c.sgls {
        config.sgls = match sgls.raw {
            Some(raw) => {
                let named = sgls.support.is_some()
                    || sgls.bit_bucket.is_some()
                    || sgls.byte_aligned_metadata.is_some()
                    || sgls.lldts.is_some()
                    || sgls.metadata_sgl.is_some()
                    || sgls.sdt.is_some();
                if named {
                    return Err(ScenarioError::at(
                        "controller.sgls.raw",
                        "give the raw dword alone, or the named fields",
                    ));
                }
                Sgls::from_bits_retain(fit(raw, "controller.sgls.raw", "32 bits")?)
            }
            None => {
                let mut v = base.sgls;
                if let Some(support) = sgls.support {
                    v = v.with_support(match support {
                        SglSupportJson::None => SglSupport::None,
                        SglSupportJson::ByteAligned => SglSupport::ByteAligned,
                        SglSupportJson::DwordAligned => SglSupport::DwordAligned,
                    });
                }
                for (flag, on) in [
                    (Sgls::BIT_BUCKET, sgls.bit_bucket),
                    (
                        Sgls::BYTE_ALIGNED_CONTIGUOUS_METADATA,
                        sgls.byte_aligned_metadata,
                    ),
                    (Sgls::LLDTS, sgls.lldts),
                    (Sgls::MPTR_SGL, sgls.metadata_sgl),
                ] {
                    if let Some(on) = on {
                        v.set(flag, on);
                    }
                }
                sgls.sdt.map_or(v, |sdt| v.with_sdt(sdt))
            }
        };
    }
    if let Some(text) = &c.profile {
        config.profile = text
            .parse::<Profile>()
            .map_err(|e| ScenarioError::at("controller.profile", format!("{text:?}: {e}")))?;
    }
    if let Some(cmb) = &c.cmb {
        config.cmb = Some(CmbConfig {
            submission_queues: cmb.submission_queues,
            completion_queues: cmb.completion_queues,
            lists: cmb.lists,
            read_data: cmb.read_data,
            write_data: cmb.write_data,
            ..CmbConfig::new(cmb.addr.0, cmb.size.0)
        });
    }
    if let Some(list) = namespaces {
        if list.is_empty() {
            return Err(ScenarioError::at(
                "namespaces",
                "give at least one namespace",
            ));
        }
        config.namespaces = list
            .iter()
            .enumerate()
            .map(|(i, ns)| {
                let lba_size = fit(ns.lba_size, &format!("namespaces[{i}].lba_size"), "32 bits")?;
                Ok(NamespaceConfig::new(ns.blocks.0, lba_size)
                    .with_metadata(ns.metadata_size, ns.extended))
            })
            .collect::<Result<_>>()?;
    } else {
        config.namespaces = vec![NamespaceConfig::new(2048, 512)];
    }
    // The library checks the rest; name its fields as the scenario spells them.
    MockController::new(config.clone()).map_err(|e| {
        let field = match e.field {
            "mps_min/mps_max" => "controller.min_page_size".to_string(),
            f if f.starts_with("namespaces") => f.to_string(),
            f => format!("controller.{f}"),
        };
        ScenarioError::at(field, e.rule)
    })?;
    Ok((config, ps))
}

fn link(l: &crate::scenario::LinkJson) -> Result<PcieLink> {
    let typical = PcieLink::TYPICAL;
    let mps = l.max_payload.map_or(typical.max_payload, |n| n.0);
    let mrrs = l.max_read_request.map_or(typical.max_read_request, |n| n.0);
    let rcb = l
        .read_completion_boundary
        .map_or(typical.read_completion_boundary, |n| n.0);
    let mut link = PcieLink::new(mps, mrrs, rcb).ok_or_else(|| {
        ScenarioError::at(
            "link",
            format!(
                "MPS {mps}, MRRS {mrrs}, RCB {rcb} is not a PCIe link: MPS and MRRS are powers of \
                 two from 128 to 4096, RCB is 64 or 128"
            ),
        )
    })?;
    if let Some(n) = l.tlp_overhead {
        link.tlp_overhead = n.0;
    }
    Ok(link)
}

/// The bytes a content spec gives, `len` of them where the spec has no length of its own.
fn content_bytes(
    field: &str,
    fill: Option<Num>,
    pattern_seed: Option<Num>,
    hex: Option<&str>,
    len: Option<u64>,
) -> Result<Option<(Vec<u8>, String)>> {
    let need_len = |what: &str| {
        len.ok_or_else(|| {
            ScenarioError::at(format!("{field}.len"), format!("`{what}` needs a length"))
        })
    };
    Ok(match (fill, pattern_seed, hex) {
        (Some(b), None, None) => {
            let byte: u8 = fit(b, &format!("{field}.fill"), "a byte")?;
            Some((
                vec![byte; need_len("fill")? as usize],
                format!("every byte {byte:#04x}"),
            ))
        }
        (None, Some(seed), None) => Some((
            pattern(seed.0, need_len("pattern")?),
            format!("pattern {}", seed.0),
        )),
        (None, None, Some(h)) => {
            let bytes = parse::hex_bytes(&[h.to_string()])
                .map_err(|e| ScenarioError::at(format!("{field}.hex"), e))?;
            let n = bytes.len();
            Some((bytes, format!("the {n} bytes given")))
        }
        (None, None, None) => None,
        _ => {
            return Err(ScenarioError::at(
                field,
                "give one of `fill`, `pattern`, `hex`",
            ))
        }
    })
}

fn region(r: &RegionJson, field: &str, cmb: Option<Extent>) -> Result<Region> {
    let len = r.len.map(|n| n.0);
    // Before any contents are made: a region's bytes are held in memory.
    if len.is_some_and(|len| len > MAX_RANGE_BYTES) {
        return Err(ScenarioError::at(
            format!("{field}.len"),
            format!("at most {MAX_RANGE_BYTES} bytes per region"),
        ));
    }
    let structured = match (&r.prp_list, &r.sgl) {
        (Some(entries), None) => Some(
            entries
                .iter()
                .flat_map(|e| e.0.to_le_bytes())
                .collect::<Vec<u8>>(),
        ),
        (None, Some(descriptors)) => {
            let mut bytes = Vec::new();
            for (i, d) in descriptors.iter().enumerate() {
                bytes.extend(descriptor(d, &format!("{field}.sgl[{i}]"))?.to_bytes());
            }
            Some(bytes)
        }
        (None, None) => None,
        (Some(_), Some(_)) => {
            return Err(ScenarioError::at(
                field,
                "give `prp_list` or `sgl`, not both",
            ))
        }
    };
    let simple = content_bytes(field, r.fill, r.pattern, r.hex.as_deref(), len);
    let mut bytes = match (structured, simple?) {
        (Some(b), None) => b,
        (None, Some((b, _))) => b,
        (None, None) => vec![
            0u8;
            len.ok_or_else(|| ScenarioError::at(
                format!("{field}.len"),
                "a region without contents needs a length"
            ))? as usize
        ],
        (Some(_), Some(_)) => {
            return Err(ScenarioError::at(
                field,
                "give one of `fill`, `pattern`, `hex`, `prp_list`, `sgl`",
            ))
        }
    };
    if let Some(len) = len {
        if (bytes.len() as u64) > len {
            return Err(ScenarioError::at(
                format!("{field}.len"),
                format!(
                    "{len} bytes cannot hold the {} bytes of contents",
                    bytes.len()
                ),
            ));
        }
        bytes.resize(len as usize, 0);
    }
    let extent = Extent::new(r.addr.0, bytes.len() as u64);
    if bytes.is_empty() || !extent.fits_address_space() {
        return Err(ScenarioError::at(
            field,
            "a region needs at least one byte, below 2^64",
        ));
    }
    let in_cmb = match cmb {
        Some(c) if overlaps(extent, c) => {
            let end = |e: Extent| e.addr.saturating_add(e.len);
            let inside = extent.addr >= c.addr && end(extent) <= end(c);
            if !inside {
                return Err(ScenarioError::at(
                    field,
                    "the region runs across the CMB's edge: keep it inside or outside",
                ));
            }
            true
        }
        _ => false,
    };
    Ok(Region {
        addr: r.addr.0,
        bytes,
        in_cmb,
    })
}

/// An SGL descriptor from JSON.
fn descriptor(d: &DescriptorJson, field: &str) -> Result<SglDescriptor> {
    if let Some(raw) = &d.raw {
        if d.kind.is_some() || d.subtype.is_some() || d.addr.is_some() || d.len.is_some() {
            return Err(ScenarioError::at(
                format!("{field}.raw"),
                "give `raw` alone, or `type`, `addr`, `len`",
            ));
        }
        let bytes = parse::hex_bytes(std::slice::from_ref(raw))
            .map_err(|e| ScenarioError::at(format!("{field}.raw"), e))?;
        let bytes: [u8; 16] = bytes.try_into().map_err(|b: Vec<u8>| {
            ScenarioError::at(
                format!("{field}.raw"),
                format!("{} bytes given; a descriptor is 16", b.len()),
            )
        })?;
        return Ok(SglDescriptor::from_bytes(bytes));
    }
    let kind = match &d.kind {
        None => {
            return Err(ScenarioError::at(
                field,
                "give `type` (and `addr`, `len`), or `raw`",
            ))
        }
        Some(Token::Number(n)) if *n <= 15 => *n as u8,
        Some(Token::Number(n)) => {
            return Err(ScenarioError::at(
                format!("{field}.type"),
                format!("{n} is not a 4-bit type"),
            ))
        }
        Some(Token::Name(name)) => match name.as_str() {
            "data_block" => 0,
            "bit_bucket" => 1,
            "segment" => 2,
            "last_segment" => 3,
            "keyed_data_block" => 4,
            "transport_data_block" => 5,
            "vendor_specific" => 15,
            other => {
                return Err(ScenarioError::at(
                    format!("{field}.type"),
                    format!(
                        "`{other}` is not a descriptor type: data_block, bit_bucket, segment, \
                         last_segment, keyed_data_block, transport_data_block, vendor_specific, \
                         or a number 0 to 15"
                    ),
                ))
            }
        },
    };
    let subtype = d.subtype.unwrap_or(0);
    if subtype > 15 {
        return Err(ScenarioError::at(
            format!("{field}.subtype"),
            format!("{subtype} is not a 4-bit subtype"),
        ));
    }
    let len: u32 = fit(
        d.len.unwrap_or(Num(0)),
        &format!("{field}.len"),
        "the 32-bit length field",
    )?;
    Ok(SglDescriptor::new(
        d.addr.map_or(0, |n| n.0),
        len,
        SglDescriptorType::from_nibble(kind),
        SglSubtype::from_nibble(subtype),
    ))
}

/// Lower case, letters and digits only: how names are compared.
fn normalized(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn opcode(token: &Token, admin: bool, field: &str) -> Result<Opcode> {
    let name = match token {
        Token::Number(n) => return Ok(Opcode(fit(Num(*n), field, "an 8-bit opcode")?)),
        Token::Name(name) => name,
    };
    let want = normalized(name);
    let alias = match want.as_str() {
        "createiosq" => Some(Opcode::ADMIN_CREATE_IO_SQ),
        "createiocq" => Some(Opcode::ADMIN_CREATE_IO_CQ),
        "deleteiosq" => Some(Opcode::ADMIN_DELETE_IO_SQ),
        "deleteiocq" => Some(Opcode::ADMIN_DELETE_IO_CQ),
        "asynceventrequest" => Some(Opcode::ADMIN_ASYNC_EVENT_REQUEST),
        "dsm" => Some(Opcode::NVM_DATASET_MANAGEMENT),
        _ => None,
    };
    let named = |op: Opcode| {
        if admin {
            op.admin_name()
        } else {
            op.nvm_name()
        }
    };
    if let Some(op) = alias.filter(|op| named(*op).is_some()) {
        return Ok(op);
    }
    (0..=255u8)
        .map(Opcode)
        .find(|op| named(*op).is_some_and(|n| normalized(n) == want))
        .ok_or_else(|| {
            let names: Vec<&str> = (0..=255u8).map(Opcode).filter_map(named).collect();
            ScenarioError::at(
                field,
                format!(
                    "`{name}` is not {} opcode this tool names: {}, or a number",
                    if admin { "an admin" } else { "an NVM I/O" },
                    names.join(", ")
                ),
            )
        })
}

/// An expected status: its name, `SC` (generic) or `SCT/SC`.
pub fn status(text: &str, field: &str) -> Result<Status> {
    let bad = |why: String| ScenarioError::at(field, why);
    if let Some((sct, sc)) = text.split_once('/') {
        let sct = parse::number(sct).map_err(bad)?;
        let sc = parse::number(sc).map_err(bad)?;
        if sct > 7 || sc > 255 {
            return Err(bad(format!(
                "SCT {sct:#x} / SC {sc:#x}: SCT is 3 bits and SC 8"
            )));
        }
        return Ok(Status::new(StatusCodeType::from_raw(sct as u8), sc as u8));
    }
    if let Ok(sc) = parse::number(text) {
        let sc =
            u8::try_from(sc).map_err(|_| bad(format!("{sc:#x} is not an 8-bit status code")))?;
        return Ok(Status::new(StatusCodeType::Generic, sc));
    }
    let want = normalized(text);
    if want == "success" {
        return Ok(Status::SUCCESS);
    }
    let found: Vec<Status> = Status::named()
        .filter(|(_, n)| normalized(n) == want)
        .map(|(s, _)| s)
        .collect();
    match found.as_slice() {
        [one] => Ok(*one),
        [] => Err(bad(format!(
            "no status is named `{text}`: write its name as the NVMe specification does \
             (\"PRP Offset Invalid\"), its generic status code (\"0x13\"), or SCT/SC (\"1/0x02\")"
        ))),
        _ => Err(bad(format!(
            "`{text}` names more than one status: write SCT/SC in hex"
        ))),
    }
}

fn psdt(token: &Token, field: &str) -> Result<Psdt> {
    Ok(match token {
        Token::Number(n) if *n <= 3 => Psdt::from_bits(*n as u8),
        Token::Name(n) if n == "prp" => Psdt::Prp,
        Token::Name(n) if n == "sgl" => Psdt::Sgl,
        Token::Name(n) if n == "sgl_mptr_segment" => Psdt::SglMetadataSgl,
        Token::Name(n) if n == "reserved" => Psdt::Reserved,
        _ => {
            return Err(ScenarioError::at(
                field,
                "PSDT is `prp` (00b), `sgl` (01b), `sgl_mptr_segment` (10b), `reserved` (11b), or 0 to 3",
            ))
        }
    })
}

/// A command at `field`; `position` (from 1) is its CID unless it gives one.
fn command(
    c: &CommandJson,
    field: &str,
    position: usize,
    qids: &[u16],
    config: &ControllerConfig,
) -> Result<Command> {
    let at = |name: &str| format!("{field}.{name}");
    let queue = c.queue.unwrap_or(1);
    if queue != 0 && !qids.contains(&queue) {
        return Err(ScenarioError::at(
            at("queue"),
            format!(
                "queue {queue} is not created: use 0 (admin) or a queue from `queues` ({qids:?})"
            ),
        ));
    }
    let expect = c
        .expect
        .as_ref()
        .map(|e| expectation(e, &at("expect")))
        .transpose()?;
    let structured: [(&str, bool); 19] = [
        ("opcode", c.opcode.is_some()),
        ("cid", c.cid.is_some()),
        ("nsid", c.nsid.is_some()),
        ("slba", c.slba.is_some()),
        ("nlb", c.nlb.is_some()),
        ("psdt", c.psdt.is_some()),
        ("prp1", c.prp1.is_some()),
        ("prp2", c.prp2.is_some()),
        ("sgl1", c.sgl1.is_some()),
        ("mptr", c.mptr.is_some()),
        ("data", c.data.is_some()),
        ("cdw2", c.cdw2.is_some()),
        ("cdw3", c.cdw3.is_some()),
        ("cdw10", c.cdw10.is_some()),
        ("cdw11", c.cdw11.is_some()),
        ("cdw12", c.cdw12.is_some()),
        ("cdw13", c.cdw13.is_some()),
        ("cdw14", c.cdw14.is_some()),
        ("cdw15", c.cdw15.is_some()),
    ];
    if let Some(hex) = &c.sqe {
        if let Some((name, _)) = structured.iter().find(|(_, given)| *given) {
            return Err(ScenarioError::at(
                at(name),
                "a raw `sqe` is sent as given: leave out the other fields",
            ));
        }
        let bytes = parse::hex_bytes(std::slice::from_ref(hex))
            .map_err(|e| ScenarioError::at(at("sqe"), e))?;
        let bytes: [u8; 64] = bytes.try_into().map_err(|b: Vec<u8>| {
            ScenarioError::at(
                at("sqe"),
                format!("{} bytes given; a submission entry is 64", b.len()),
            )
        })?;
        return Ok(Command {
            name: c.name.clone(),
            field: field.to_string(),
            queue,
            sqe: SubmissionEntry::from_bytes(bytes),
            data: None,
            expect,
        });
    }
    let op = match &c.opcode {
        Some(t) => opcode(t, queue == 0, &at("opcode"))?,
        None => {
            return Err(ScenarioError::at(
                field,
                "give `sqe` (the 64 bytes in hex) or `opcode` (and the fields it needs)",
            ))
        }
    };
    let cid = c.cid.unwrap_or(position as u16);
    let mut sqe = SubmissionEntry::new(op, cid);
    let nsid: u32 = match c.nsid {
        Some(n) => fit(n, &at("nsid"), "32 bits")?,
        None if queue == 0 => 0,
        None => 1,
    };
    sqe.set_nsid(nsid);
    if c.slba.is_some() || c.nlb.is_some() {
        // Either alone leaves the other at its zero: LBA 0, or NLB 0 (one block).
        let blocks = c.nlb.map_or(1, |n| n.0);
        let range = BlockRange::new(c.slba.map_or(0, |n| n.0), blocks).map_err(|_| {
            ScenarioError::at(
                at("nlb"),
                format!("{blocks} blocks: a command moves 1 to 65536"),
            )
        })?;
        sqe.set_block_range(range);
    }
    let pointer_given = [
        ("prp1", c.prp1.is_some()),
        ("prp2", c.prp2.is_some()),
        ("sgl1", c.sgl1.is_some()),
        ("psdt", c.psdt.is_some()),
        ("mptr", c.mptr.is_some()),
    ];
    if c.sgl1.is_some() && (c.prp1.is_some() || c.prp2.is_some()) {
        return Err(ScenarioError::at(
            at("sgl1"),
            "SGL1 and PRP1/PRP2 are the same 16 bytes of DPTR: give one",
        ));
    }
    if let Some(p) = &c.psdt {
        sqe.set_psdt(psdt(p, &at("psdt"))?);
    }
    if let Some(n) = c.prp1 {
        sqe.set_prp1(n.0);
    }
    if let Some(n) = c.prp2 {
        sqe.set_prp2(n.0);
    }
    if let Some(d) = &c.sgl1 {
        sqe.set_sgl1(descriptor(d, &at("sgl1"))?);
        if c.psdt.is_none() {
            sqe.set_psdt(Psdt::Sgl);
        }
    }
    if let Some(n) = c.mptr {
        sqe.set_mptr(n.0);
    }
    let data = match &c.data {
        None => None,
        Some(d) => {
            if let Some((name, _)) = pointer_given.iter().find(|(_, given)| *given) {
                return Err(ScenarioError::at(
                    at(name),
                    "`data` lays out the data pointer: leave out prp1, prp2, sgl1, psdt and mptr",
                ));
            }
            Some(data_fill(d, op, queue, nsid, config, &at("data"))?)
        }
    };
    for (name, value, n) in [
        ("cdw2", c.cdw2, 2u8),
        ("cdw3", c.cdw3, 3),
        ("cdw10", c.cdw10, 10),
        ("cdw11", c.cdw11, 11),
        ("cdw12", c.cdw12, 12),
        ("cdw13", c.cdw13, 13),
        ("cdw14", c.cdw14, 14),
        ("cdw15", c.cdw15, 15),
    ] {
        let Some(value) = value else { continue };
        let value: u32 = fit(value, &at(name), "32 bits")?;
        match n {
            2 => sqe.set_cdw2(value),
            3 => sqe.set_cdw3(value),
            n => {
                let _ = sqe.set_cdw(n, value);
            }
        }
    }
    Ok(Command {
        name: c.name.clone(),
        field: field.to_string(),
        queue,
        sqe,
        data,
        expect,
    })
}

fn data_fill(
    d: &DataJson,
    op: Opcode,
    queue: u16,
    nsid: u32,
    config: &ControllerConfig,
    field: &str,
) -> Result<DataFill> {
    let direction = match op.direction() {
        DataDirection::HostToController => Direction::Write,
        DataDirection::ControllerToHost => Direction::Read,
        DataDirection::None | DataDirection::Bidirectional => {
            return Err(ScenarioError::at(
                field,
                format!(
                    "opcode {:#04x} moves no data one way (its bits 1:0 are not 01b or 10b)",
                    op.0
                ),
            ))
        }
    };
    if d.extents.is_empty() {
        return Err(ScenarioError::at(
            format!("{field}.extents"),
            "give at least one extent",
        ));
    }
    let block_size = nsid
        .checked_sub(1)
        .and_then(|i| config.namespaces.get(i as usize))
        .map_or(512, |ns| u64::from(ns.lba_size));
    Ok(DataFill {
        extents: d.extents.iter().map(|e| e.0).collect(),
        metadata: d.metadata.as_ref().map(|m| m.iter().map(|e| e.0).collect()),
        policy: match d.policy {
            PolicyJson::Prp => SglPolicy::Never,
            PolicyJson::Sgl => SglPolicy::Always,
            PolicyJson::Linux => SglPolicy::LINUX,
            PolicyJson::SmallestFootprint => SglPolicy::SmallestFootprint,
        },
        direction,
        queue: if queue == 0 {
            QueueKind::Admin
        } else {
            QueueKind::Io
        },
        block_size,
    })
}

/// Where a check or digest looks.
fn target(
    memory: Option<crate::scenario::ExtentArg>,
    namespace: Option<u32>,
    (slba, nlb): (Option<Num>, Option<Num>),
    field: &str,
    config: &ControllerConfig,
) -> Result<Target> {
    let t = match (memory, namespace) {
        (Some(e), None) => {
            if slba.is_some() || nlb.is_some() {
                return Err(ScenarioError::at(
                    field,
                    "`slba` and `nlb` go with `namespace`, not `memory`",
                ));
            }
            Target::Memory(e.0)
        }
        (None, Some(nsid)) => {
            let ns = nsid
                .checked_sub(1)
                .and_then(|i| config.namespaces.get(i as usize))
                .ok_or_else(|| {
                    ScenarioError::at(
                        format!("{field}.namespace"),
                        format!(
                            "namespace {nsid} does not exist (there are {})",
                            config.namespaces.len()
                        ),
                    )
                })?;
            let slba = slba.map_or(0, |n| n.0);
            let nlb = nlb.map_or(ns.blocks.saturating_sub(slba), |n| n.0);
            if nlb == 0 {
                return Err(ScenarioError::at(
                    format!("{field}.nlb"),
                    "give at least 1 block",
                ));
            }
            if slba.checked_add(nlb).is_none_or(|end| end > ns.blocks) {
                return Err(ScenarioError::at(
                    field,
                    format!(
                        "blocks {slba}+{nlb} are not inside namespace {nsid}'s {} blocks",
                        ns.blocks
                    ),
                ));
            }
            Target::Namespace { nsid, slba, nlb }
        }
        _ => {
            return Err(ScenarioError::at(
                field,
                "give `memory` (ADDR+LEN) or `namespace`",
            ))
        }
    };
    if target_len(&t, config) > MAX_RANGE_BYTES {
        return Err(ScenarioError::at(
            field,
            format!("at most {MAX_RANGE_BYTES} bytes: name a smaller range"),
        ));
    }
    Ok(t)
}

/// Bytes a target covers.
pub fn target_len(t: &Target, config: &ControllerConfig) -> u64 {
    match *t {
        Target::Memory(e) => e.len,
        Target::Namespace { nsid, nlb, .. } => {
            let lba = config
                .namespaces
                .get(nsid.saturating_sub(1) as usize)
                .map_or(0, |ns| u64::from(ns.lba_size));
            lba.saturating_mul(nlb)
        }
    }
}

fn check(c: &CheckJson, field: &str, config: &ControllerConfig) -> Result<Check> {
    let target = target(c.memory, c.namespace, (c.slba, c.nlb), field, config)?;
    let len = target_len(&target, config);
    let e: &ContentJson = &c.equals;
    let equals_field = format!("{field}.equals");
    let simple = content_bytes(
        &equals_field,
        e.fill,
        e.pattern,
        e.hex.as_deref(),
        Some(len),
    )?;
    let equals = match (simple, e.memory) {
        (Some((bytes, said)), None) => {
            if bytes.len() as u64 != len {
                return Err(ScenarioError::at(
                    format!("{equals_field}.hex"),
                    format!("{} bytes given for a range of {len}", bytes.len()),
                ));
            }
            Wanted::Bytes { bytes, said }
        }
        (None, Some(addr)) => Wanted::Memory(addr.0),
        _ => {
            return Err(ScenarioError::at(
                equals_field,
                "give one of `fill`, `pattern`, `hex`, `memory`",
            ))
        }
    };
    Ok(Check { target, equals })
}

fn digest(d: &DigestJson, field: &str, config: &ControllerConfig) -> Result<Digest> {
    Ok(Digest {
        target: target(d.memory, d.namespace, (d.slba, d.nlb), field, config)?,
        fnv1a64: d.fnv1a64.map(|n| n.0),
    })
}

/// A completion expectation at `field`.
fn expectation(e: &ExpectJson, field: &str) -> Result<Expect> {
    Ok(Expect {
        status: status(&e.status, &format!("{field}.status"))?,
        dnr: e.dnr,
        dw0: e
            .dw0
            .map(|n| fit(n, &format!("{field}.dw0"), "32 bits"))
            .transpose()?,
        cid: e.cid,
        sqid: e.sqid,
        sq_head: e.sq_head,
    })
}

/// A queue the host created: 0 (admin) or one of `queues`.
fn host_queue(queue: Option<u16>, qids: &[u16], field: &str) -> Result<u16> {
    let queue = queue.unwrap_or(1);
    if queue != 0 && !qids.contains(&queue) {
        return Err(ScenarioError::at(
            field,
            format!(
                "queue {queue} is not created: use 0 (admin) or a queue from `queues` ({qids:?}); \
                 a `doorbell` step reaches any queue"
            ),
        ));
    }
    Ok(queue)
}

/// BAR0 registers by name: (name, offset, bits).
const REGISTERS: [(&str, u64, u8); 12] = [
    ("CAP", offset::CAP, 64),
    ("VS", offset::VS, 32),
    ("INTMS", offset::INTMS, 32),
    ("INTMC", offset::INTMC, 32),
    ("CC", offset::CC, 32),
    ("CSTS", offset::CSTS, 32),
    ("NSSR", offset::NSSR, 32),
    ("AQA", offset::AQA, 32),
    ("ASQ", offset::ASQ, 64),
    ("ACQ", offset::ACQ, 64),
    ("CMBLOC", offset::CMBLOC, 32),
    ("CMBSZ", offset::CMBSZ, 32),
];

/// A register named or given by offset, `bits` wide, inside the register window.
fn register(
    token: &Token,
    bits: Option<u8>,
    config: &ControllerConfig,
    field: &str,
) -> Result<Register> {
    let at = |name: &str| format!("{field}.{name}");
    let (name, offset, own_bits) = match token {
        Token::Number(n) => (None, *n, 32),
        Token::Name(n) => {
            let want = normalized(n);
            let (name, offset, bits) = REGISTERS
                .iter()
                .find(|(name, _, _)| normalized(name) == want)
                .ok_or_else(|| {
                    let names: Vec<&str> = REGISTERS.iter().map(|(n, _, _)| *n).collect();
                    ScenarioError::at(
                        at("register"),
                        format!(
                            "`{n}` is not a register this tool names: {}, or an offset in BAR0",
                            names.join(", ")
                        ),
                    )
                })?;
            (Some(*name), *offset, *bits)
        }
    };
    let bits = match (bits, name) {
        (None, _) => own_bits,
        (Some(b), Some(name)) if b != own_bits => {
            return Err(ScenarioError::at(
                at("bits"),
                format!(
                    "{name} is {own_bits} bits: leave `bits` out, or give the offset of the half \
                     to reach"
                ),
            ))
        }
        (Some(b @ (32 | 64)), _) => b,
        (Some(b), _) => {
            return Err(ScenarioError::at(
                at("bits"),
                format!("{b}: a register access is 32 or 64 bits"),
            ))
        }
    };
    let bytes = u64::from(bits / 8);
    // Registers are reached at their natural alignment; anything else is not an access
    // a host can make.
    if offset % bytes != 0 {
        return Err(ScenarioError::at(
            at("register"),
            format!("offset {offset:#x} is not aligned for a {bits}-bit access"),
        ));
    }
    let window = config.bar0_size();
    if offset.checked_add(bytes).is_none_or(|end| end > window) {
        return Err(ScenarioError::at(
            at("register"),
            format!("offset {offset:#x} is outside the {window:#x}-byte register window"),
        ));
    }
    Ok(Register { name, offset, bits })
}

/// A value that fits a register `bits` wide.
fn register_value(n: Num, bits: u8, field: &str) -> Result<u64> {
    if bits == 32 && n.0 > u64::from(u32::MAX) {
        return Err(ScenarioError::at(
            field,
            format!("{:#x} does not fit a 32-bit register", n.0),
        ));
    }
    Ok(n.0)
}

fn csts_expect(c: &CstsJson) -> CstsExpect {
    CstsExpect {
        rdy: c.rdy,
        cfs: c.cfs,
        shst: c.shst.map(|s| match s {
            ShstJson::Normal => ShutdownStatus::Normal,
            ShstJson::Occurring => ShutdownStatus::Occurring,
            ShstJson::Complete => ShutdownStatus::Complete,
        }),
        nssro: c.nssro,
        pp: c.pp,
    }
}

/// `steps`, checked.
fn steps(list: &[StepJson], qids: &[u16], config: &ControllerConfig) -> Result<Vec<StepSpec>> {
    let mut out = Vec::with_capacity(list.len());
    // Commands are numbered across `command` and `submit` steps, for their default CIDs.
    let mut position = 0;
    for (i, s) in list.iter().enumerate() {
        let (kind, name) = match s {
            StepJson::Command(c) => ("command", c.name.clone()),
            StepJson::Submit(c) => ("submit", c.name.clone()),
            StepJson::Ring(r) => ("ring", r.name.clone()),
            StepJson::Doorbell(d) => ("doorbell", d.name.clone()),
            StepJson::Reap(r) => ("reap", r.name.clone()),
            StepJson::Write(w) => ("write", w.name.clone()),
            StepJson::Read(r) => ("read", r.name.clone()),
            StepJson::Reset(r) => ("reset", r.name.clone()),
            StepJson::Shutdown(sd) => ("shutdown", sd.name.clone()),
        };
        let field = format!("steps[{i}].{kind}");
        let at = |name: &str| format!("{field}.{name}");
        let step = match s {
            StepJson::Command(c) => {
                position += 1;
                Step::Command(command(c, &field, position, qids, config)?)
            }
            StepJson::Submit(c) => {
                position += 1;
                if c.expect.is_some() {
                    return Err(ScenarioError::at(
                        at("expect"),
                        "a submitted command's completion is checked where it is taken: give the \
                         `reap` step that takes it an `expect` entry",
                    ));
                }
                Step::Submit(command(c, &field, position, qids, config)?)
            }
            StepJson::Ring(r) => Step::Ring(host_queue(r.queue, qids, &at("queue"))?),
            StepJson::Doorbell(d) => {
                let (cq_head, value, which) = match (d.sq_tail, d.cq_head) {
                    (Some(v), None) => (false, v, "sq_tail"),
                    (None, Some(v)) => (true, v, "cq_head"),
                    _ => {
                        return Err(ScenarioError::at(
                            &field,
                            "give `sq_tail` or `cq_head` (the value to write), one of them",
                        ))
                    }
                };
                let value = fit(value, &at(which), "a 32-bit doorbell")?;
                let dstrd = config.doorbell_stride;
                let offset = if cq_head {
                    cq_head_doorbell(d.queue, dstrd)
                } else {
                    sq_tail_doorbell(d.queue, dstrd)
                };
                let window = config.bar0_size();
                let inside = |o: &u64| o.checked_add(4).is_some_and(|end| end <= window);
                let offset = offset.filter(inside).ok_or_else(|| {
                    // Each queue has two doorbells, `4 << DSTRD` bytes apart, from 1000h.
                    let pair = 8u64 << dstrd.min(15);
                    let last = (window.saturating_sub(offset::DOORBELL_BASE) / pair).saturating_sub(1);
                    ScenarioError::at(
                        at("queue"),
                        format!(
                            "queue {}'s doorbell lies outside the {window:#x}-byte register window, \
                             which holds the doorbells of queues 0 to {last}",
                            d.queue
                        ),
                    )
                })?;
                Step::Doorbell {
                    queue: d.queue,
                    cq_head,
                    offset,
                    value,
                }
            }
            StepJson::Reap(r) => {
                let queue = host_queue(r.queue, qids, &at("queue"))?;
                if r.count == Some(0) {
                    return Err(ScenarioError::at(
                        at("count"),
                        "take at least 1 (leave `count` out to take every completion posted)",
                    ));
                }
                let expect = r
                    .expect
                    .as_ref()
                    .map(|list| {
                        list.iter()
                            .enumerate()
                            .map(|(k, e)| expectation(e, &format!("{field}.expect[{k}]")))
                            .collect::<Result<Vec<_>>>()
                    })
                    .transpose()?;
                if let (Some(count), Some(list)) = (r.count, &expect) {
                    if list.len() > usize::from(count) {
                        return Err(ScenarioError::at(
                            at("expect"),
                            format!(
                                "{} completions expected, but `count` takes at most {count}",
                                list.len()
                            ),
                        ));
                    }
                }
                Step::Reap(Reap {
                    queue,
                    count: r.count,
                    expect,
                    doorbell: r.doorbell.unwrap_or(true),
                })
            }
            StepJson::Write(w) => {
                let register = register(&w.register, w.bits, config, &field)?;
                Step::Write {
                    register,
                    value: register_value(w.value, register.bits, &at("value"))?,
                }
            }
            StepJson::Read(r) => {
                let register = register(&r.register, r.bits, config, &field)?;
                let all = if register.bits == 64 {
                    u64::MAX
                } else {
                    u64::from(u32::MAX)
                };
                let mask = r
                    .mask
                    .map(|m| register_value(m, register.bits, &at("mask")))
                    .transpose()?;
                let expect = match (r.expect, mask) {
                    (None, None) => None,
                    (None, Some(_)) => {
                        return Err(ScenarioError::at(
                            at("mask"),
                            "a mask says which bits `expect` compares: give `expect` too",
                        ))
                    }
                    (Some(v), mask) => {
                        let value = register_value(v, register.bits, &at("expect"))?;
                        let mask = mask.unwrap_or(all);
                        if value & !mask != 0 {
                            return Err(ScenarioError::at(
                                at("expect"),
                                format!(
                                    "{value:#x} has bits outside the mask {mask:#x}: they would \
                                     never compare"
                                ),
                            ));
                        }
                        Some((value, mask))
                    }
                };
                Step::Read { register, expect }
            }
            StepJson::Reset(r) => Step::Reset {
                enable: r.enable.unwrap_or(true),
                expect: r.expect.as_ref().map(csts_expect),
            },
            StepJson::Shutdown(sd) => Step::Shutdown {
                kind: match sd.kind.unwrap_or(ShutdownKindJson::Normal) {
                    ShutdownKindJson::Normal => ShutdownNotification::Normal,
                    ShutdownKindJson::Abrupt => ShutdownNotification::Abrupt,
                },
                expect: sd.expect.as_ref().map(csts_expect),
            },
        };
        out.push(StepSpec { name, field, step });
    }
    Ok(out)
}
