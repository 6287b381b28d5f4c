//! Behaviour profiles: where the mock controller answers otherwise than the specification's
//! letter, switch by switch. The public items are [`Profile`] and [`Deviation`], whose docs
//! say how they work.

use core::fmt;

/// What kind of departure a [`Deviation`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DeviationKind {
    /// The specification asks for another answer.
    Violation,
    /// The specification allows both answers; the strict profile gives the other one.
    Choice,
    /// The specification says a controller *should not*; it may.
    Observation,
}

/// One named way of answering otherwise than the strict profile; see [`Profile`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Deviation {
    /// A segment reached through a Segment descriptor is checked against the descriptor that
    /// happens to sit, in the controller's segment buffer, where the previous segment's last
    /// descriptor was: a valid chain whose Last Segment is as long as the segment before it
    /// is refused, and an invalid one (a pointer after a Last Segment) is followed when the
    /// new segment is longer.
    SglStaleLastSegmentCheck,
    /// A segment reached through a Segment descriptor (not a Last Segment) may end in data,
    /// ending the SGL; the specification asks such a segment to end with a pointer.
    SglSegmentEndsInData,
    /// Anything in SGL1, or at the end of a segment, that is not a Data Block is taken for a
    /// segment pointer: a Keyed Data Block, a Bit Bucket the controller does not support or
    /// a reserved type gets Invalid SGL Segment Descriptor, not SGL Descriptor Type Invalid.
    SglNonDataAsSegment,
    /// A descriptor's subtype is ignored: a Data Block with the Offset subtype is read as an
    /// address.
    SglSubtypeIgnored,
    /// The Data Block that crosses the end of the transfer is cut to it and the command
    /// succeeds (without LLDTS the specification says the controller should not transfer,
    /// and may abort). A further non-empty descriptor is still Data SGL Length Invalid.
    SglLongerThanTransferTruncated,
    /// Segments and segment pointers are read from any address, not only qword-aligned ones.
    SglSegmentAlignmentUnchecked,
    /// A segment that moves no data before pointing on is followed like any other, so a
    /// segment that points back at itself never ends: the controller hangs. The mock never
    /// hangs; it stops, and records [`ControllerEvent::Hung`](super::ControllerEvent::Hung).
    /// The walk limits do not apply either (QEMU has none): the mock takes 1024 empty
    /// segments in a row, or 2^20 descriptors read, for a loop.
    SglEmptySegmentLoops,
    /// A segment that moves no data before pointing on is refused with Invalid SGL Segment
    /// Descriptor (later QEMU), which bounds self-referencing chains but also refuses valid
    /// chains in which a segment carries no data.
    SglEmptySegmentRefused,
    /// PRP1's bits 1:0 are not checked: data moves from the unaligned address.
    Prp1NotDwordAligned,
    /// A PRP list pointer with bits 2:0 set is read from where it points.
    PrpListPointerNotQwordAligned,
    /// MDTS is counted in pages of CC.MPS's size rather than CAP.MPSMIN's.
    MdtsInCcPageUnits,
    /// PSDT 10b without SGLS bit 19 is read as 01b instead of Invalid Field in Command (for
    /// the data pointer; MPTR is still walked as a metadata SGL).
    Psdt10bAs01b,
    /// PSDT is checked only where a data pointer is walked: a Flush with PSDT 11b succeeds,
    /// and on a data command the PSDT check comes after the namespace, range and MDTS
    /// checks.
    PsdtUncheckedWithoutData,
    /// Data buffers outside host memory are not refused: a write from them stores zeros, a
    /// read into them goes nowhere, and the command succeeds. (Lists and segments there are
    /// still Data Transfer Error.)
    DataOutsideMemoryIgnored,
    /// Get Log Page refuses an offset equal to the page's size (the specification refuses
    /// only a greater one).
    LogOffsetAtPageEndRefused,
    /// Get Log Page transfers the page only up to its end, leaving the rest of a longer host
    /// buffer as it was (bytes past the end are undefined; strict sends zeros).
    LogDataStopsAtPageEnd,
    /// Delete I/O Completion Queue answers a queue identifier it cannot delete with
    /// Completion Queue Invalid instead of Invalid Queue Identifier.
    DeleteCqAnswersCompletionQueueInvalid,
    /// Identify CNS 03h returns a Command Set Identifier descriptor alone, without an
    /// EUI64, NGUID or UUID.
    NamespaceDescriptorsWithoutIdentifier,
    /// The Firmware Slot Information page names revision "1.0" for the active slot, while
    /// Identify Controller FR holds the device's version.
    FirmwareSlotRevisionNotFr,
    /// Set Features Number of Queues allocates every queue the controller has, whatever
    /// was asked.
    QueuesAllocatedBeyondRequest,
    /// Create I/O Submission Queue with two faults reports the completion queue's first.
    CompletionQueueCheckedFirst,
    /// A Read or Write past both MDTS and the namespace's end reports MDTS first.
    MdtsCheckedBeforeRange,
    /// An I/O command other than Flush with NSID FFFFFFFFh is refused with Invalid Field in
    /// Command before its opcode is looked at, so an unknown opcode gets Invalid Field rather
    /// than Invalid Opcode.
    BroadcastNsidInvalidField,
    /// Invalid Queue Deletion is answered without DNR.
    InvalidQueueDeletionWithoutDnr,
    /// A fused command (refused: no fused operation is supported) is answered without DNR.
    FusedRefusedWithoutDnr,
}

impl Deviation {
    /// Every switch, in the order of its bit in a [`Profile`].
    pub const ALL: [Deviation; 25] = [
        Deviation::SglStaleLastSegmentCheck,
        Deviation::SglSegmentEndsInData,
        Deviation::SglNonDataAsSegment,
        Deviation::SglSubtypeIgnored,
        Deviation::SglLongerThanTransferTruncated,
        Deviation::SglSegmentAlignmentUnchecked,
        Deviation::SglEmptySegmentLoops,
        Deviation::SglEmptySegmentRefused,
        Deviation::Prp1NotDwordAligned,
        Deviation::PrpListPointerNotQwordAligned,
        Deviation::MdtsInCcPageUnits,
        Deviation::Psdt10bAs01b,
        Deviation::PsdtUncheckedWithoutData,
        Deviation::DataOutsideMemoryIgnored,
        Deviation::LogOffsetAtPageEndRefused,
        Deviation::LogDataStopsAtPageEnd,
        Deviation::DeleteCqAnswersCompletionQueueInvalid,
        Deviation::NamespaceDescriptorsWithoutIdentifier,
        Deviation::FirmwareSlotRevisionNotFr,
        Deviation::QueuesAllocatedBeyondRequest,
        Deviation::CompletionQueueCheckedFirst,
        Deviation::MdtsCheckedBeforeRange,
        Deviation::BroadcastNsidInvalidField,
        Deviation::InvalidQueueDeletionWithoutDnr,
        Deviation::FusedRefusedWithoutDnr,
    ];

    const fn bit(self) -> u32 {
        1 << (self as u32)
    }

    /// Whether the switch bends a rule of SGLs (so that SGLs go through the QEMU-style
    /// mapper when it is on); the switches are listed by kind in [`Deviation::ALL`].
    const fn is_about_sgls(self) -> bool {
        matches!(
            self,
            Deviation::SglStaleLastSegmentCheck
                | Deviation::SglSegmentEndsInData
                | Deviation::SglNonDataAsSegment
                | Deviation::SglSubtypeIgnored
                | Deviation::SglLongerThanTransferTruncated
                | Deviation::SglSegmentAlignmentUnchecked
                | Deviation::SglEmptySegmentLoops
                | Deviation::SglEmptySegmentRefused
        )
    }

    /// Whether the switch bends a rule of PRPs.
    const fn is_about_prps(self) -> bool {
        matches!(
            self,
            Deviation::Prp1NotDwordAligned | Deviation::PrpListPointerNotQwordAligned
        )
    }

    /// The switch's name, as scenarios and the command's flags write it.
    pub const fn name(self) -> &'static str {
        match self {
            Deviation::SglStaleLastSegmentCheck => "sgl-stale-last-segment-check",
            Deviation::SglSegmentEndsInData => "sgl-segment-ends-in-data",
            Deviation::SglNonDataAsSegment => "sgl-non-data-as-segment",
            Deviation::SglSubtypeIgnored => "sgl-subtype-ignored",
            Deviation::SglLongerThanTransferTruncated => "sgl-longer-than-transfer-truncated",
            Deviation::SglSegmentAlignmentUnchecked => "sgl-segment-alignment-unchecked",
            Deviation::SglEmptySegmentLoops => "sgl-empty-segment-loops",
            Deviation::SglEmptySegmentRefused => "sgl-empty-segment-refused",
            Deviation::Prp1NotDwordAligned => "prp1-not-dword-aligned",
            Deviation::PrpListPointerNotQwordAligned => "prp-list-pointer-not-qword-aligned",
            Deviation::MdtsInCcPageUnits => "mdts-in-cc-page-units",
            Deviation::Psdt10bAs01b => "psdt-10b-as-01b",
            Deviation::PsdtUncheckedWithoutData => "psdt-unchecked-without-data",
            Deviation::DataOutsideMemoryIgnored => "data-outside-memory-ignored",
            Deviation::LogOffsetAtPageEndRefused => "log-offset-at-page-end-refused",
            Deviation::LogDataStopsAtPageEnd => "log-data-stops-at-page-end",
            Deviation::DeleteCqAnswersCompletionQueueInvalid => {
                "delete-cq-answers-completion-queue-invalid"
            }
            Deviation::NamespaceDescriptorsWithoutIdentifier => {
                "namespace-descriptors-without-identifier"
            }
            Deviation::FirmwareSlotRevisionNotFr => "firmware-slot-revision-not-fr",
            Deviation::QueuesAllocatedBeyondRequest => "queues-allocated-beyond-request",
            Deviation::CompletionQueueCheckedFirst => "completion-queue-checked-first",
            Deviation::MdtsCheckedBeforeRange => "mdts-checked-before-range",
            Deviation::BroadcastNsidInvalidField => "broadcast-nsid-invalid-field",
            Deviation::InvalidQueueDeletionWithoutDnr => "invalid-queue-deletion-without-dnr",
            Deviation::FusedRefusedWithoutDnr => "fused-refused-without-dnr",
        }
    }

    /// The switch called `name`.
    pub fn by_name(name: &str) -> Option<Deviation> {
        Deviation::ALL.into_iter().find(|d| d.name() == name)
    }

    /// Whether the specification forbids this answer, allows it, or discourages it.
    pub const fn kind(self) -> DeviationKind {
        match self {
            Deviation::SglLongerThanTransferTruncated => DeviationKind::Observation,
            Deviation::QueuesAllocatedBeyondRequest
            | Deviation::LogDataStopsAtPageEnd
            | Deviation::CompletionQueueCheckedFirst
            | Deviation::MdtsCheckedBeforeRange
            | Deviation::BroadcastNsidInvalidField
            | Deviation::InvalidQueueDeletionWithoutDnr
            | Deviation::FusedRefusedWithoutDnr => DeviationKind::Choice,
            _ => DeviationKind::Violation,
        }
    }

    /// The rule the specification states, which the strict profile keeps.
    pub const fn rule(self) -> &'static str {
        match self {
            Deviation::SglStaleLastSegmentCheck => {
                "a segment reached through a Last Segment descriptor ends in data, not with a \
                 pointer (Base 2.1, 4.3.2)"
            }
            Deviation::SglSegmentEndsInData => {
                "a segment reached through a Segment descriptor ends with a Segment or Last \
                 Segment descriptor (Base 2.1, 4.3.2)"
            }
            Deviation::SglNonDataAsSegment | Deviation::SglSubtypeIgnored => {
                "an unsupported descriptor type or subtype is SGL Descriptor Type Invalid \
                 (Base 2.1, 4.3.2)"
            }
            Deviation::SglLongerThanTransferTruncated => {
                "without SGLS bit 18 (LLDTS) a controller should not transfer an SGL longer \
                 than the data, and may abort with Data SGL Length Invalid"
            }
            Deviation::SglSegmentAlignmentUnchecked => {
                "a segment is a qword-aligned array of descriptors; a misaligned one is \
                 Invalid SGL Segment Descriptor"
            }
            Deviation::SglEmptySegmentLoops | Deviation::SglEmptySegmentRefused => {
                "a segment may hold only a pointer to the next one; the controller bounds \
                 the work it does per SGL"
            }
            Deviation::Prp1NotDwordAligned => "PRP entries are dword aligned (bits 1:0 clear)",
            Deviation::PrpListPointerNotQwordAligned => {
                "a PRP list pointer may have an offset but is qword aligned (bits 2:0 clear)"
            }
            Deviation::MdtsInCcPageUnits => "MDTS counts pages of CAP.MPSMIN's size",
            Deviation::Psdt10bAs01b => {
                "PSDT 10b needs SGLS bit 19 (MPTR as an SGL segment); otherwise Invalid Field"
            }
            Deviation::PsdtUncheckedWithoutData => {
                "PSDT 11b is reserved, on any command: Invalid Field in Command"
            }
            Deviation::DataOutsideMemoryIgnored => {
                "data that cannot be transferred is Data Transfer Error"
            }
            Deviation::LogOffsetAtPageEndRefused => {
                "Get Log Page refuses an offset greater than the page's size"
            }
            Deviation::LogDataStopsAtPageEnd => {
                "bytes a Get Log Page asks for past the page's end are undefined; strict \
                 sends zeros"
            }
            Deviation::DeleteCqAnswersCompletionQueueInvalid => {
                "Delete I/O Completion Queue answers a bad identifier with Invalid Queue \
                 Identifier"
            }
            Deviation::NamespaceDescriptorsWithoutIdentifier => {
                "Identify CNS 03h returns an EUI64, NGUID or UUID descriptor"
            }
            Deviation::FirmwareSlotRevisionNotFr => {
                "the active slot's revision is Identify Controller FR"
            }
            Deviation::QueuesAllocatedBeyondRequest => {
                "Number of Queues may allocate more than asked; strict allocates what is asked"
            }
            Deviation::CompletionQueueCheckedFirst | Deviation::MdtsCheckedBeforeRange => {
                "no order of checks is prescribed; strict reports the command's own field first"
            }
            Deviation::BroadcastNsidInvalidField => {
                "no order of checks is prescribed; strict refuses an unknown opcode before it \
                 looks at NSID FFFFFFFFh"
            }
            Deviation::InvalidQueueDeletionWithoutDnr | Deviation::FusedRefusedWithoutDnr => {
                "DNR says a retry cannot succeed; strict sets it on every failure"
            }
        }
    }
}

impl fmt::Display for Deviation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Behaviour profiles: where the mock controller answers otherwise than the specification's
/// letter, switch by switch.
///
/// By default ([`Profile::STRICT`]) the mock is the specification's judge: it gives the one
/// answer the specification asks for, and where it allows two, the one its module docs name.
/// A real controller departs from that in known ways. Each departure the crate knows is a
/// [`Deviation`], a switch with a name, the rule it bends and the answer it gives instead;
/// a [`Profile`] is a set of them. [`Profile::QEMU_7_2`] turns on every way QEMU 7.2's `nvme`
/// device answers otherwise (CONFORMANCE.md measures each on QEMU itself), so that the mock
/// stands in for QEMU exactly; a user whose hardware has only some of those leniencies starts
/// from `STRICT` and turns on just those.
///
/// ```
/// use nvme_dma::controller::{ControllerConfig, Deviation, Profile};
///
/// let lenient = Profile::STRICT.with(Deviation::Prp1NotDwordAligned);
/// assert!(lenient.has(Deviation::Prp1NotDwordAligned));
/// assert!(!lenient.has(Deviation::MdtsInCcPageUnits));
/// assert_eq!(Profile::by_name("qemu"), Some(Profile::QEMU_7_2));
/// let config = ControllerConfig { profile: lenient, ..ControllerConfig::default() };
/// # let _ = config;
/// ```
///
/// # How the data pointer switches work
///
/// The strict data path walks pointers with the crate's own walkers. Turning on any PRP
/// switch (or any SGL switch) hands PRPs (or SGLs) to a mapper written after QEMU's: it reads
/// lists and segments in QEMU's order and makes QEMU's checks, and each switch that is off puts
/// back the specification's check at the place QEMU leaves it out. With every switch of a kind
/// off the crate's walker runs, so `STRICT` is exactly the specification.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Profile {
    switches: u32,
}

impl Profile {
    /// The specification's letter: no deviation.
    pub const STRICT: Profile = Profile { switches: 0 };

    /// QEMU 7.2's `nvme` device: every deviation CONFORMANCE.md measures on it. A segment
    /// that moves no data loops (QEMU 7.2 hangs); later versions refuse it instead
    /// ([`Deviation::SglEmptySegmentRefused`]).
    pub const QEMU_7_2: Profile = Profile::STRICT
        .with(Deviation::SglStaleLastSegmentCheck)
        .with(Deviation::SglSegmentEndsInData)
        .with(Deviation::SglNonDataAsSegment)
        .with(Deviation::SglSubtypeIgnored)
        .with(Deviation::SglLongerThanTransferTruncated)
        .with(Deviation::SglSegmentAlignmentUnchecked)
        .with(Deviation::SglEmptySegmentLoops)
        .with(Deviation::Prp1NotDwordAligned)
        .with(Deviation::PrpListPointerNotQwordAligned)
        .with(Deviation::MdtsInCcPageUnits)
        .with(Deviation::Psdt10bAs01b)
        .with(Deviation::PsdtUncheckedWithoutData)
        .with(Deviation::DataOutsideMemoryIgnored)
        .with(Deviation::LogOffsetAtPageEndRefused)
        .with(Deviation::LogDataStopsAtPageEnd)
        .with(Deviation::DeleteCqAnswersCompletionQueueInvalid)
        .with(Deviation::NamespaceDescriptorsWithoutIdentifier)
        .with(Deviation::FirmwareSlotRevisionNotFr)
        .with(Deviation::QueuesAllocatedBeyondRequest)
        .with(Deviation::CompletionQueueCheckedFirst)
        .with(Deviation::MdtsCheckedBeforeRange)
        .with(Deviation::BroadcastNsidInvalidField)
        .with(Deviation::InvalidQueueDeletionWithoutDnr)
        .with(Deviation::FusedRefusedWithoutDnr);

    /// The named profiles: `strict` and `qemu` (QEMU 7.2).
    pub const NAMED: [(&'static str, Profile); 2] =
        [("strict", Profile::STRICT), ("qemu", Profile::QEMU_7_2)];

    /// The profile called `name` (see [`Profile::NAMED`]).
    pub fn by_name(name: &str) -> Option<Profile> {
        Profile::NAMED
            .into_iter()
            .find(|(n, _)| *n == name)
            .map(|(_, p)| p)
    }

    /// This profile with `deviation` on.
    pub const fn with(self, deviation: Deviation) -> Profile {
        Profile {
            switches: self.switches | deviation.bit(),
        }
    }

    /// This profile with `deviation` off.
    pub const fn without(self, deviation: Deviation) -> Profile {
        Profile {
            switches: self.switches & !deviation.bit(),
        }
    }

    /// Whether `deviation` is on.
    pub const fn has(self, deviation: Deviation) -> bool {
        self.switches & deviation.bit() != 0
    }

    /// The switches that are on, in [`Deviation::ALL`]'s order.
    pub fn deviations(self) -> impl Iterator<Item = Deviation> {
        Deviation::ALL.into_iter().filter(move |d| self.has(*d))
    }

    /// Whether any SGL switch is on, so that SGLs go through the QEMU-style mapper.
    pub(crate) fn maps_sgls_leniently(self) -> bool {
        self.deviations().any(Deviation::is_about_sgls)
    }

    /// Whether any PRP switch is on, so that PRPs go through the QEMU-style mapper.
    pub(crate) fn maps_prps_leniently(self) -> bool {
        self.deviations().any(Deviation::is_about_prps)
    }
}

/// A profile as text: a named profile (`strict`, `qemu`), then any number of switches to
/// turn on (`+NAME`) or off (`-NAME`): `strict+prp1-not-dword-aligned`,
/// `qemu-sgl-stale-last-segment-check`. [`Display`](fmt::Display) writes the `strict+...`
/// form (or a named profile's name), which reads back as the same profile.
impl core::str::FromStr for Profile {
    type Err = ProfileParseError;

    fn from_str(text: &str) -> Result<Profile, ProfileParseError> {
        let base_end = text.find(['+', '-']).unwrap_or(text.len());
        let (base, mut rest) = text.split_at(base_end);
        let mut profile = Profile::by_name(base).ok_or(ProfileParseError::UnknownProfile)?;
        while let Some(sign) = rest.chars().next() {
            let body = rest.get(1..).unwrap_or_default();
            // Switch names hold dashes, so the next switch starts at the longest name that
            // matches here.
            let deviation = Deviation::ALL
                .into_iter()
                .filter(|d| {
                    body.strip_prefix(d.name())
                        .is_some_and(|after| after.is_empty() || after.starts_with(['+', '-']))
                })
                .max_by_key(|d| d.name().len())
                .ok_or(ProfileParseError::UnknownSwitch)?;
            profile = if sign == '+' {
                profile.with(deviation)
            } else {
                profile.without(deviation)
            };
            rest = body.get(deviation.name().len()..).unwrap_or_default();
        }
        Ok(profile)
    }
}

/// Why a profile's text was not understood.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProfileParseError {
    /// The text does not start with a named profile (`strict` or `qemu`).
    UnknownProfile,
    /// A `+` or `-` is followed by no switch's name.
    UnknownSwitch,
}

impl fmt::Display for ProfileParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProfileParseError::UnknownProfile => {
                f.write_str("a profile starts with its name: strict or qemu")
            }
            ProfileParseError::UnknownSwitch => f.write_str(
                "a switch after + or - is not one of the names `nvme-dma profiles` lists",
            ),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for ProfileParseError {}

/// The named profile it equals, else its switches joined by `+`.
impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some((name, _)) = Profile::NAMED.iter().find(|(_, p)| p == self) {
            return f.write_str(name);
        }
        f.write_str("strict")?;
        for d in self.deviations() {
            write!(f, "+{d}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn every_switch_has_its_own_bit_and_name() {
        let mut all = Profile::STRICT;
        for (i, d) in Deviation::ALL.into_iter().enumerate() {
            assert_eq!(d as usize, i, "{d} is out of order in ALL");
            assert!(!all.has(d));
            all = all.with(d);
            assert_eq!(Deviation::by_name(d.name()), Some(d));
        }
        assert_eq!(all.deviations().count(), Deviation::ALL.len());
    }

    #[test]
    fn qemu_profile_names_itself_and_a_custom_one_lists_its_switches() {
        assert_eq!(Profile::QEMU_7_2.to_string(), "qemu");
        assert!(!Profile::QEMU_7_2.has(Deviation::SglEmptySegmentRefused));
        let custom = Profile::STRICT
            .with(Deviation::Prp1NotDwordAligned)
            .with(Deviation::MdtsInCcPageUnits);
        assert_eq!(
            custom.to_string(),
            "strict+prp1-not-dword-aligned+mdts-in-cc-page-units"
        );
        assert!(custom.maps_prps_leniently() && !custom.maps_sgls_leniently());
        assert_eq!(
            custom
                .without(Deviation::Prp1NotDwordAligned)
                .deviations()
                .count(),
            1
        );
    }

    #[test]
    fn a_profile_reads_back_what_it_writes() {
        let custom: Profile = "strict+prp1-not-dword-aligned+mdts-in-cc-page-units"
            .parse()
            .unwrap();
        assert!(custom.has(Deviation::Prp1NotDwordAligned));
        assert!(custom.has(Deviation::MdtsInCcPageUnits));
        assert_eq!(custom.to_string().parse::<Profile>(), Ok(custom));
        let qemu: Profile = "qemu-sgl-empty-segment-loops+sgl-empty-segment-refused"
            .parse()
            .unwrap();
        assert!(!qemu.has(Deviation::SglEmptySegmentLoops));
        assert!(qemu.has(Deviation::SglEmptySegmentRefused));
        assert_eq!("qemu".parse(), Ok(Profile::QEMU_7_2));
        let fails = |text: &str| text.parse::<Profile>().err();
        assert_eq!(fails("lenient"), Some(ProfileParseError::UnknownProfile));
        assert_eq!(
            fails("strict+nonsense"),
            Some(ProfileParseError::UnknownSwitch)
        );
        assert_eq!(fails("strict+"), Some(ProfileParseError::UnknownSwitch));
    }
}
