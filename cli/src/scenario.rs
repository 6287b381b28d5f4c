//! The scenario file `exec` runs: its JSON schema (`nvme-dma-scenario/1`, described in
//! docs/scenario.md) as serde types, and loading it so that every error names the field.
//!
//! These types hold what the file says, barely checked; [`crate::scenario_build`] turns them
//! into a controller, memory, commands and steps, and checks what serde cannot.

use std::fmt;
use std::path::Path;

use nvme_dma::Extent;
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

use crate::parse;

/// The schema identifier a scenario file must carry.
pub const SCHEMA: &str = "nvme-dma-scenario/1";

/// A whole scenario file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Must be [`SCHEMA`].
    pub schema: String,
    /// A short title.
    #[serde(default)]
    pub name: Option<String>,
    /// What the scenario shows.
    #[serde(default)]
    pub description: Option<String>,
    /// The controller's capabilities and limits.
    #[serde(default)]
    pub controller: ControllerJson,
    /// Namespaces 1, 2, ... in order; one namespace of 2048 512-byte blocks if absent.
    #[serde(default)]
    pub namespaces: Option<Vec<NamespaceJson>>,
    /// Where the host keeps its own queues and descriptors.
    #[serde(default)]
    pub host: HostJson,
    /// Host memory (and CMB) contents before the first command.
    #[serde(default)]
    pub memory: Vec<RegionJson>,
    /// I/O queue pairs to create; one pair, queue 1 of 16 slots, if absent.
    #[serde(default)]
    pub queues: Option<Vec<QueueJson>>,
    /// The PCIe link the trace's cost is counted on.
    #[serde(default)]
    pub link: LinkJson,
    /// The commands, run one at a time in order; excludes `steps`.
    #[serde(default)]
    pub commands: Option<Vec<CommandJson>>,
    /// Host actions in order (commands, submissions, doorbells, reaps, register accesses,
    /// resets, shutdowns); excludes `commands`.
    #[serde(default)]
    pub steps: Option<Vec<StepJson>>,
    /// Contents to compare after the last command.
    #[serde(default)]
    pub checks: Vec<CheckJson>,
    /// Extra ranges to digest (every region and namespace is digested anyway).
    #[serde(default)]
    pub digests: Vec<DigestJson>,
}

/// `controller`: each field defaults to the library's `ControllerConfig::default()`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ControllerJson {
    /// The memory page size the host enables the controller with (CC.MPS), in bytes.
    pub page_size: Option<Num>,
    /// CAP.MPSMIN, in bytes.
    pub min_page_size: Option<Num>,
    /// CAP.MPSMAX, in bytes.
    pub max_page_size: Option<Num>,
    /// MDTS: 2^mdts minimum-size pages (0 = no limit).
    pub mdts: Option<u8>,
    /// SGLS.
    pub sgls: Option<SglsJson>,
    /// CAP.MQES + 1.
    pub max_queue_entries: Option<u32>,
    /// CAP.CQR.
    pub contiguous_queues_required: Option<bool>,
    /// CAP.DSTRD.
    pub doorbell_stride: Option<u8>,
    /// I/O queues the host may create.
    pub max_io_queues: Option<u16>,
    /// Bus address of the register window.
    pub bar0: Option<Num>,
    /// A controller memory buffer.
    pub cmb: Option<CmbJson>,
    /// The behaviour profile, as `Profile`'s text: `strict` (the default), `qemu`, or either
    /// with `+switch` / `-switch` after it.
    pub profile: Option<String>,
}

/// `controller.sgls`: the raw dword, or named fields over the default.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SglsJson {
    /// The whole SGLS dword; excludes every other field.
    pub raw: Option<Num>,
    /// Bits 1:0.
    pub support: Option<SglSupportJson>,
    /// Bit 16.
    pub bit_bucket: Option<bool>,
    /// Bit 17.
    pub byte_aligned_metadata: Option<bool>,
    /// Bit 18.
    pub lldts: Option<bool>,
    /// Bit 19.
    pub metadata_sgl: Option<bool>,
    /// Bits 15:8.
    pub sdt: Option<u8>,
}

/// SGLS bits 1:0.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SglSupportJson {
    /// 00b.
    None,
    /// 01b.
    ByteAligned,
    /// 10b.
    DwordAligned,
}

/// `controller.cmb`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CmbJson {
    /// Bus address.
    pub addr: Num,
    /// Bytes.
    pub size: Num,
    /// CMBSZ.SQS.
    #[serde(default = "yes")]
    pub submission_queues: bool,
    /// CMBSZ.CQS.
    #[serde(default = "yes")]
    pub completion_queues: bool,
    /// CMBSZ.LISTS.
    #[serde(default = "yes")]
    pub lists: bool,
    /// CMBSZ.RDS.
    #[serde(default = "yes")]
    pub read_data: bool,
    /// CMBSZ.WDS.
    #[serde(default = "yes")]
    pub write_data: bool,
}

fn yes() -> bool {
    true
}

/// `namespaces[]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamespaceJson {
    /// Size in logical blocks.
    pub blocks: Num,
    /// Bytes per block.
    #[serde(default = "default_lba_size")]
    pub lba_size: Num,
    /// Metadata bytes per block.
    #[serde(default)]
    pub metadata_size: u16,
    /// Metadata inside the data buffer (extended LBAs).
    #[serde(default)]
    pub extended: bool,
}

fn default_lba_size() -> Num {
    Num(512)
}

/// `host`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostJson {
    /// Where the host puts the admin queues and the I/O queues not placed by `queues`.
    pub queue_memory: Option<Num>,
    /// Where the host writes the PRP lists and SGL segments of `data` commands.
    pub descriptor_memory: Option<Num>,
}

/// `memory[]`: one region, mapped (or, inside the CMB, written there) and filled.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionJson {
    /// Bus address.
    pub addr: Num,
    /// Bytes; the contents' own length if absent.
    pub len: Option<Num>,
    /// Every byte this value.
    pub fill: Option<Num>,
    /// The documented pattern from this seed.
    pub pattern: Option<Num>,
    /// These bytes.
    pub hex: Option<String>,
    /// PRP entries, 8 bytes each, little-endian.
    pub prp_list: Option<Vec<Num>>,
    /// SGL descriptors, 16 bytes each.
    pub sgl: Option<Vec<DescriptorJson>>,
}

/// An SGL descriptor: `raw` bytes, or typed fields.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DescriptorJson {
    /// The 16 bytes in hex; excludes every other field.
    pub raw: Option<String>,
    /// The type, by name or number (0 to 15).
    #[serde(rename = "type")]
    pub kind: Option<Token>,
    /// The subtype (0 to 15); 0 (Address) if absent.
    pub subtype: Option<u8>,
    /// Address field.
    pub addr: Option<Num>,
    /// Length field.
    pub len: Option<Num>,
}

/// `queues[]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueJson {
    /// Queue identifier of the pair (1 or more).
    pub qid: u16,
    /// Slots in each queue of the pair.
    #[serde(default = "default_entries")]
    pub entries: u16,
    /// Submission queue base; host queue memory if absent.
    pub sq_addr: Option<Num>,
    /// Completion queue base; host queue memory if absent.
    pub cq_addr: Option<Num>,
}

fn default_entries() -> u16 {
    16
}

/// `link`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkJson {
    /// Max Payload Size.
    pub max_payload: Option<Num>,
    /// Max Read Request Size.
    pub max_read_request: Option<Num>,
    /// Read Completion Boundary.
    pub read_completion_boundary: Option<Num>,
    /// Overhead bytes per TLP.
    pub tlp_overhead: Option<Num>,
}

/// `commands[]`: a raw submission entry, or one built from fields.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandJson {
    /// A label for the output.
    pub name: Option<String>,
    /// The queue (0 = admin); 1 if absent.
    pub queue: Option<u16>,
    /// The 64 bytes in hex; excludes every field below but `name`, `queue`, `expect`.
    pub sqe: Option<String>,
    /// The opcode, by name or number.
    pub opcode: Option<Token>,
    /// Command identifier; the command's position (1, 2, ...) if absent.
    pub cid: Option<u16>,
    /// Namespace; 1 on I/O queues and 0 on the admin queue if absent.
    pub nsid: Option<Num>,
    /// Starting LBA (CDW10-11).
    pub slba: Option<Num>,
    /// Number of blocks, 1 to 65536 (CDW12 bits 15:0 hold nlb - 1).
    pub nlb: Option<Num>,
    /// PSDT, by name or number.
    pub psdt: Option<Token>,
    /// PRP1.
    pub prp1: Option<Num>,
    /// PRP2.
    pub prp2: Option<Num>,
    /// SGL1.
    pub sgl1: Option<DescriptorJson>,
    /// MPTR.
    pub mptr: Option<Num>,
    /// A data pointer the library lays out for these extents.
    pub data: Option<DataJson>,
    /// Command dwords, written last.
    pub cdw2: Option<Num>,
    /// CDW3.
    pub cdw3: Option<Num>,
    /// CDW10.
    pub cdw10: Option<Num>,
    /// CDW11.
    pub cdw11: Option<Num>,
    /// CDW12.
    pub cdw12: Option<Num>,
    /// CDW13.
    pub cdw13: Option<Num>,
    /// CDW14.
    pub cdw14: Option<Num>,
    /// CDW15.
    pub cdw15: Option<Num>,
    /// What the completion must say.
    pub expect: Option<ExpectJson>,
}

/// `commands[].data`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataJson {
    /// The buffer's extents, `ADDR+LEN`, in transfer order.
    pub extents: Vec<ExtentArg>,
    /// PRP or SGL, and how to choose.
    #[serde(default)]
    pub policy: PolicyJson,
    /// The metadata buffer's extents, for a namespace with separate metadata.
    pub metadata: Option<Vec<ExtentArg>>,
}

/// `commands[].data.policy`.
#[derive(Clone, Copy, Debug, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyJson {
    /// PRPs only.
    Prp,
    /// An SGL whenever the controller supports one (SPDK).
    Sgl,
    /// Linux's rule: an SGL when the average segment is at least 32 KiB.
    #[default]
    Linux,
    /// Whichever writes fewer descriptor bytes.
    SmallestFootprint,
}

/// `commands[].expect`, and each entry of `reap.expect`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectJson {
    /// The status: its name, `SC` (generic) or `SCT/SC` in hex.
    pub status: String,
    /// DNR must be this.
    pub dnr: Option<bool>,
    /// Completion DW0 must be this.
    pub dw0: Option<Num>,
    /// The completion's CID must be this.
    pub cid: Option<u16>,
    /// The completion's SQ identifier must be this.
    pub sqid: Option<u16>,
    /// The completion's SQ head pointer must be this.
    pub sq_head: Option<u16>,
}

/// `steps[]`: one host action, named by its only key.
#[derive(Debug)]
pub enum StepJson {
    /// A command run as in `commands`: submitted, rung, and every completion reaped.
    Command(CommandJson),
    /// A command written into the next slot of its submission queue; the doorbell is not
    /// rung.
    Submit(CommandJson),
    /// The SQ tail doorbell rung with the host's tail: everything submitted so far.
    Ring(RingJson),
    /// A doorbell written with any value.
    Doorbell(DoorbellJson),
    /// Completions taken off a completion queue.
    Reap(ReapJson),
    /// A register written.
    Write(WriteJson),
    /// A register read.
    Read(ReadJson),
    /// CC.EN cleared, and the controller brought back up.
    Reset(ResetJson),
    /// CC.SHN written.
    Shutdown(ShutdownJson),
}

/// The step kinds, as `steps[]` keys.
const STEP_KINDS: &[&str] = &[
    "command", "submit", "ring", "doorbell", "reap", "write", "read", "reset", "shutdown",
];

impl<'de> Deserialize<'de> for StepJson {
    // By hand rather than derived: a step with two keys (`{"ring": ..., "reap": ...}`) then
    // gets an error that says so, and the value is read in place, so errors inside it keep
    // their field path and line.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct StepVisitor;
        impl<'de> Visitor<'de> for StepVisitor {
            type Value = StepJson;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "an object with one key: {}", STEP_KINDS.join(", "))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<StepJson, A::Error> {
                let Some(kind) = map.next_key::<String>()? else {
                    return Err(de::Error::custom(format!(
                        "an empty step: give one of {}",
                        STEP_KINDS.join(", ")
                    )));
                };
                let step = match kind.as_str() {
                    "command" => StepJson::Command(map.next_value()?),
                    "submit" => StepJson::Submit(map.next_value()?),
                    "ring" => StepJson::Ring(map.next_value()?),
                    "doorbell" => StepJson::Doorbell(map.next_value()?),
                    "reap" => StepJson::Reap(map.next_value()?),
                    "write" => StepJson::Write(map.next_value()?),
                    "read" => StepJson::Read(map.next_value()?),
                    "reset" => StepJson::Reset(map.next_value()?),
                    "shutdown" => StepJson::Shutdown(map.next_value()?),
                    other => {
                        return Err(de::Error::custom(format!(
                            "`{other}` is not a step: give one of {}",
                            STEP_KINDS.join(", ")
                        )))
                    }
                };
                if let Some(more) = map.next_key::<String>()? {
                    return Err(de::Error::custom(format!(
                        "a step is one action, but this one has `{kind}` and `{more}`: give \
                         each its own step"
                    )));
                }
                Ok(step)
            }
        }
        d.deserialize_map(StepVisitor)
    }
}

/// `steps[].ring`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RingJson {
    /// A label for the report.
    pub name: Option<String>,
    /// The submission queue; 1 if absent.
    pub queue: Option<u16>,
}

/// `steps[].doorbell`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DoorbellJson {
    /// A label for the report.
    pub name: Option<String>,
    /// The queue identifier whose doorbell is written: any, created or not.
    pub queue: u16,
    /// Write the SQ tail doorbell with this value; excludes `cq_head`.
    pub sq_tail: Option<Num>,
    /// Write the CQ head doorbell with this value; excludes `sq_tail`.
    pub cq_head: Option<Num>,
}

/// `steps[].reap`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReapJson {
    /// A label for the report.
    pub name: Option<String>,
    /// The completion queue; 1 if absent.
    pub queue: Option<u16>,
    /// Take at most this many; every one posted if absent.
    pub count: Option<u16>,
    /// What the completions taken must be, in order; `[]` says none is waiting.
    pub expect: Option<Vec<ExpectJson>>,
    /// Ring the CQ head doorbell afterwards; true if absent.
    pub doorbell: Option<bool>,
}

/// `steps[].write`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WriteJson {
    /// A label for the report.
    pub name: Option<String>,
    /// The register: its name (`cc`, `aqa`, ...) or its offset in BAR0.
    pub register: Token,
    /// 32 or 64; the register's own width if absent (32 for an unnamed offset).
    pub bits: Option<u8>,
    /// The value written.
    pub value: Num,
}

/// `steps[].read`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadJson {
    /// A label for the report.
    pub name: Option<String>,
    /// The register: its name (`cap`, `csts`, ...) or its offset in BAR0.
    pub register: Token,
    /// 32 or 64; the register's own width if absent (32 for an unnamed offset).
    pub bits: Option<u8>,
    /// The value the read must return (under `mask`).
    pub expect: Option<Num>,
    /// Only these bits are compared; every bit if absent.
    pub mask: Option<Num>,
}

/// `steps[].reset`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResetJson {
    /// A label for the report.
    pub name: Option<String>,
    /// Bring the controller back up and create the queues again; true if absent.
    pub enable: Option<bool>,
    /// What CSTS must say right after CC.EN = 0.
    pub expect: Option<CstsJson>,
}

/// `steps[].shutdown`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShutdownJson {
    /// A label for the report.
    pub name: Option<String>,
    /// `normal` or `abrupt`; normal if absent.
    pub kind: Option<ShutdownKindJson>,
    /// What CSTS must say right after the write.
    pub expect: Option<CstsJson>,
}

/// CC.SHN as a scenario names it.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShutdownKindJson {
    /// 01b.
    Normal,
    /// 10b.
    Abrupt,
}

/// CSTS fields that must hold.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CstsJson {
    /// RDY.
    pub rdy: Option<bool>,
    /// CFS.
    pub cfs: Option<bool>,
    /// SHST: `normal`, `occurring`, `complete`.
    pub shst: Option<ShstJson>,
    /// NSSRO.
    pub nssro: Option<bool>,
    /// PP.
    pub pp: Option<bool>,
}

/// CSTS.SHST as a scenario names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShstJson {
    /// 00b.
    Normal,
    /// 01b.
    Occurring,
    /// 10b.
    Complete,
}

/// `checks[]`: a memory range or namespace blocks that must hold given contents.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckJson {
    /// A memory range, `ADDR+LEN`.
    pub memory: Option<ExtentArg>,
    /// A namespace.
    pub namespace: Option<u32>,
    /// First block (with `namespace`).
    pub slba: Option<Num>,
    /// Blocks (with `namespace`).
    pub nlb: Option<Num>,
    /// What it must hold.
    pub equals: ContentJson,
}

/// `checks[].equals`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContentJson {
    /// Every byte this value.
    pub fill: Option<Num>,
    /// The documented pattern from this seed.
    pub pattern: Option<Num>,
    /// These bytes.
    pub hex: Option<String>,
    /// The bytes at this address, as they are after the last command.
    pub memory: Option<Num>,
}

/// `digests[]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DigestJson {
    /// A memory range, `ADDR+LEN`.
    pub memory: Option<ExtentArg>,
    /// A namespace.
    pub namespace: Option<u32>,
    /// First block (with `namespace`); 0 if absent.
    pub slba: Option<Num>,
    /// Blocks (with `namespace`); to the end if absent.
    pub nlb: Option<Num>,
    /// The FNV-1a 64 the bytes must have.
    pub fnv1a64: Option<Num>,
}

/// A number: a JSON number, or a string in decimal (`4096`, `4K`) or hex (`0x1000`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Num(pub u64);

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct NumVisitor;
        impl Visitor<'_> for NumVisitor {
            type Value = Num;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "a number, or a string holding one in decimal (4096, 4K) or hex (0x1000)",
                )
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Num, E> {
                Ok(Num(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Num, E> {
                u64::try_from(v)
                    .map(Num)
                    .map_err(|_| E::custom(format!("{v} is negative")))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Num, E> {
                parse::number(v).map(Num).map_err(E::custom)
            }
        }
        d.deserialize_any(NumVisitor)
    }
}

/// A name or a number: an opcode, a descriptor type, a PSDT value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Token {
    /// Given by name.
    Name(String),
    /// Given by value.
    Number(u64),
}

impl<'de> Deserialize<'de> for Token {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct TokenVisitor;
        impl Visitor<'_> for TokenVisitor {
            type Value = Token;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a name or a number")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Token, E> {
                Ok(Token::Number(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Token, E> {
                Ok(parse::number(v).map_or_else(|_| Token::Name(v.to_string()), Token::Number))
            }
        }
        d.deserialize_any(TokenVisitor)
    }
}

/// An extent written `ADDR+LEN`, as on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExtentArg(pub Extent);

impl<'de> Deserialize<'de> for ExtentArg {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        parse::extent(&text)
            .map(ExtentArg)
            .map_err(de::Error::custom)
    }
}

/// Why a scenario could not be loaded or set up: the field at fault and what is wrong.
#[derive(Debug)]
pub struct ScenarioError {
    /// The field's path (`commands[2].prp2`), or empty for the file as a whole.
    pub field: String,
    /// What is wrong, and what it should be.
    pub message: String,
}

impl ScenarioError {
    /// An error at `field`.
    pub fn at(field: impl Into<String>, message: impl Into<String>) -> Self {
        ScenarioError {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.field, self.message)
        }
    }
}

/// Read and parse a scenario file. A JSON error names the field it is in (`commands[1].nlb`)
/// and the line and column.
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ScenarioError::at("", format!("cannot read the scenario: {e}")))?;
    let mut json = serde_json::Deserializer::from_str(&text);
    let scenario: Scenario = serde_path_to_error::deserialize(&mut json).map_err(|e| {
        // A syntax error has no field yet: the path then ends in `?`.
        let path = e.path().to_string();
        let field = path.trim_end_matches('?').trim_end_matches('.');
        ScenarioError::at(field.to_string(), e.into_inner().to_string())
    })?;
    if scenario.schema != SCHEMA {
        return Err(ScenarioError::at(
            "schema",
            format!(
                "`{}` is not a schema this tool reads: write \"{SCHEMA}\"",
                scenario.schema
            ),
        ));
    }
    Ok(scenario)
}
