//! `profiles`: the mock controller's behaviour profiles and every switch they are made of,
//! as `exec --profile` and a scenario's `controller.profile` name them.

use nvme_dma::controller::{Deviation, DeviationKind, Profile};
use serde::Serialize;

use crate::style::Style;
use crate::text::{self, Out};

/// Every named profile and every switch.
#[derive(Clone, Debug, Serialize)]
pub struct ProfilesReport {
    /// The named profiles, in the library's order.
    pub profiles: Vec<NamedProfile>,
    /// Every switch, in the library's order.
    pub switches: Vec<Switch>,
}

/// One named profile.
#[derive(Clone, Debug, Serialize)]
pub struct NamedProfile {
    /// Its name, as profile text starts with it.
    pub name: &'static str,
    /// What it stands for.
    pub description: &'static str,
    /// The switches it has on.
    pub switches: Vec<&'static str>,
}

/// One switch.
#[derive(Clone, Debug, Serialize)]
pub struct Switch {
    /// Its name, as `+NAME` and `-NAME` write it.
    pub name: &'static str,
    /// `violation`, `choice` or `observation`.
    pub kind: &'static str,
    /// The rule the strict profile keeps and this switch bends.
    pub rule: &'static str,
    /// The named profiles that have it on.
    pub profiles: Vec<&'static str>,
}

/// How the text after a profile's name turns switches on and off.
const SYNTAX: &str = "A profile is a named profile, then any number of +SWITCH (on) or -SWITCH \
                      (off): strict+prp1-not-dword-aligned, qemu-sgl-empty-segment-loops. Give \
                      it to exec --profile, or as controller.profile in a scenario.";

fn description(name: &str) -> &'static str {
    match name {
        "strict" => "the specification's letter, and the default",
        "qemu" => "QEMU 7.2's nvme device: every way it answers otherwise, as measured on it",
        _ => "a named profile of the library",
    }
}

/// The word for a kind, in JSON and text alike.
pub fn kind_name(kind: DeviationKind) -> &'static str {
    match kind {
        DeviationKind::Violation => "violation",
        DeviationKind::Choice => "choice",
        DeviationKind::Observation => "observation",
    }
}

/// The report, from the library's own lists.
pub fn report() -> ProfilesReport {
    let profiles = Profile::NAMED
        .iter()
        .map(|(name, profile)| NamedProfile {
            name,
            description: description(name),
            switches: profile.deviations().map(Deviation::name).collect(),
        })
        .collect();
    let switches = Deviation::ALL
        .iter()
        .map(|d| Switch {
            name: d.name(),
            kind: kind_name(d.kind()),
            rule: d.rule(),
            profiles: Profile::NAMED
                .iter()
                .filter(|(_, p)| p.has(*d))
                .map(|(name, _)| *name)
                .collect(),
        })
        .collect();
    ProfilesReport { profiles, switches }
}

/// The report as text.
pub fn text(report: &ProfilesReport, style: &Style) -> String {
    let mut out = Out::default();
    out.line(style.heading("Behaviour profiles of the mock controller"));
    out.line(format!("  {}", text::wrap(SYNTAX, 92, "  ")));
    out.blank();
    let width = report
        .profiles
        .iter()
        .map(|p| p.name.len())
        .max()
        .unwrap_or(0);
    for p in &report.profiles {
        let on = match p.switches.len() {
            0 => "no switch on".to_string(),
            1 => "1 switch on".to_string(),
            n => format!("{n} switches on"),
        };
        out.line(format!("  {:width$}  {}; {on}", p.name, p.description));
    }
    out.blank();
    out.line(style.heading("Switches"));
    let kinds = "violation: the specification asks for another answer; choice: it allows \
                 both, and strict gives the other; observation: it says a controller should \
                 not, and one may.";
    out.line(format!("  {}", text::wrap(kinds, 92, "  ")));
    for s in &report.switches {
        out.blank();
        let on = if s.profiles.is_empty() {
            "in no named profile".to_string()
        } else {
            format!("on in {}", s.profiles.join(", "))
        };
        out.line(format!("  {}  {}, {on}", style.addr(s.name), s.kind));
        out.line(format!(
            "    rule: {}",
            text::wrap(s.rule, 88, "          ")
        ));
    }
    out.0
}
