//! The two IPsec sides of a lab as a diagnosis sees them: the device under test and the Azure
//! gateway, each with its device (vocabulary), its intent for this run and the child a run
//! starts; and the rendering of a finding in each side's words.

use super::{Diagnosis, Finding};
use crate::device::azure::profile::Effective;
use crate::device::azure::AzureSite;
use crate::device::{Device, Vocabulary};
use crate::ike::intent::{Child, Connection, IpsecIntent};
use crate::ike::proposal::Proposal;
use crate::model::{Lab, Node};

pub(crate) struct Sides<'a> {
    pub lab: &'a Lab,
    pub dut_node: &'a Node,
    pub dut: &'a dyn Device,
    pub fw: &'a IpsecIntent,
    pub fw_conn: &'a Connection,
    pub fw_child: Option<&'a Child>,
    pub gw_node: &'a Node,
    pub site: &'a AzureSite,
    pub gw: &'a IpsecIntent,
    pub gw_conn: &'a Connection,
    /// Azure's behaviour in its own terms (its offer and accept tables).
    pub az: Effective,
    /// The run plan has Azure start the first exchange.
    pub azure_initiates: bool,
}

impl<'a> Sides<'a> {
    pub fn of(lab: &'a Lab) -> Option<Sides<'a>> {
        let (dut_node, dut) = lab.dut()?;
        let (gw_node, site, gw) = lab.azure_gateway()?;
        let fw_conn = dut.intent.connections.first()?;
        let gw_conn = gw.connections.first()?;
        Some(Sides {
            lab,
            dut_node,
            dut: dut.device.as_ref(),
            fw: &dut.intent,
            fw_conn,
            fw_child: fw_conn.children.first(),
            gw_node,
            site,
            gw,
            gw_conn,
            az: site.effective(),
            azure_initiates: lab.plan.initiator == gw_node.name,
        })
    }

    /// The firewall's ESP proposals of the child a run starts.
    pub fn fw_esp(&self) -> &[Proposal] {
        self.fw_child.map(|c| c.esp_proposals.as_slice()).unwrap_or_default()
    }

    /// The CHILD SA rekey times of the firewall's and Azure's started child in lab seconds, as
    /// configured (the intents hold real seconds, rounded at a compressed clock).
    pub fn lab_rekey_times(&self) -> (Option<u64>, Option<u64>) {
        let unscaled = |d: &dyn Device, starts_first: bool| {
            let intent = d.intent(crate::device::RunContext { starts_first, time_scale: 1.0 });
            intent.first_child().and_then(|(_, ch)| ch.rekey_time_s)
        };
        (unscaled(self.dut, !self.azure_initiates), unscaled(self.site, self.azure_initiates))
    }

    /// A finding in each side's words: remedies through each device's vocabulary, with the log
    /// line each writes for the symptom, and each side's command to confirm it.
    pub fn render(&self, f: Finding) -> Diagnosis {
        let side = |voc: &dyn Vocabulary, remedies: &[crate::device::Remedy]| {
            let mut text: Vec<String> = remedies.iter().map(|r| voc.remedy(r)).collect();
            if text.is_empty() {
                text.push(format!("nothing to change on {}", voc.name()));
            }
            let mut out = text.join("; or ");
            if let Some(line) = f.symptom.and_then(|s| voc.log_line(s)) {
                out.push_str(&format!(". Log: {line}"));
            }
            out
        };
        Diagnosis {
            id: f.id,
            title: f.id.title(),
            firewall: side(self.dut, &f.firewall),
            azure: side(self.site, &f.azure),
            network: f.network,
            cause: f.cause,
            change: f.change,
            evidence: f.evidence,
            check: vec![format!("{}: {}", self.dut.name(), self.dut.check()), format!("Azure: {}", self.site.check())],
        }
    }
}
