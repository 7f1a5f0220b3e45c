//! Translation: from a packet's flow key to datapath actions plus the megaflow mask that says
//! which key bits the decision depended on ("wildcard tracking").
//!
//! [`Xlate`] is the context every pipeline stage shares: it holds the flow as actions modify it,
//! the mask of consulted bits (`consult*` un-wildcard them; a stage must call them for every
//! field it reads before deciding), the datapath actions built so far (VLAN state is tracked so
//! [`Xlate::output`] emits the minimal pop/push before each output), and an optional trace for
//! `ofproto/trace`. [`normal`] is the NORMAL action; the OpenFlow pipeline (issue 7) is meant to
//! drive the same context (its table lookups consult the fields its classifier examined, its
//! `output:NORMAL` calls [`normal::xlate_normal`]).

pub mod normal;

use std::ops::Range;
use std::time::Instant;

use rvs_core::actions::Action;
use rvs_core::key::{field, FlowKey, VLAN_CFI};
use rvs_core::ovs::key_nl::{ETH_P_8021Q, ETH_P_IP, ETH_P_IPV6};

use crate::odp::ActionBuf;

/// VID bits of a TCI.
pub const VLAN_VID_MASK: u16 = 0x0fff;
/// PCP bits of a TCI.
pub const VLAN_PCP_MASK: u16 = 0xe000;

/// A translation in progress.
#[derive(Debug, Clone)]
pub struct Xlate {
    /// The flow as received.
    pub flow: FlowKey,
    /// Consulted bits.
    pub wc: FlowKey,
    /// Datapath actions so far.
    pub actions: ActionBuf,
    /// The outer TCI the packet carries at this point of the action list (0: untagged).
    cur_tci: u16,
    /// Whether translation may change state (learn MACs): false for traces and revalidation.
    pub may_learn: bool,
    /// Trace lines, when tracing.
    pub trace: Option<Vec<String>>,
    /// The time translation happens at.
    pub now: Instant,
    /// Set when something learned or changed state that other flows depend on.
    pub learned: bool,
}

impl Xlate {
    /// Starts translating `flow`. As Open vSwitch, some fields are always significant: the
    /// recirculation ID, the input port, the ethertype and, for IP, the fragment type.
    pub fn new(flow: FlowKey, may_learn: bool, trace: bool) -> Xlate {
        let mut x = Xlate {
            flow,
            wc: FlowKey::ZERO,
            actions: ActionBuf::default(),
            cur_tci: flow.vlan_tci(),
            may_learn,
            trace: trace.then(Vec::new),
            now: Instant::now(),
            learned: false,
        };
        x.consult(field::RECIRC_ID);
        x.consult(field::IN_PORT);
        x.consult(field::ETH_TYPE);
        if matches!(flow.eth_type(), ETH_P_IP | ETH_P_IPV6) {
            x.consult_byte(field::IP_FRAG);
        }
        if flow.cvlan_tci() != 0 {
            // A second tag: NORMAL does not interpret it, but the datapath key's structure
            // depends on it, so it is matched exactly.
            x.consult(field::CVLAN_TCI);
            x.consult(field::CVLAN_TPID);
            x.consult_tci(0xffff);
        }
        x
    }

    /// Marks a field as significant.
    pub fn consult(&mut self, r: Range<usize>) {
        let len = r.len();
        self.wc.set_bytes(r, &vec![0xff; len]);
    }

    /// Marks a one-byte field as significant.
    pub fn consult_byte(&mut self, i: usize) {
        if let Some(b) = self.wc.as_bytes_mut().get_mut(i) {
            *b = 0xff;
        }
    }

    /// Marks bits of the outer VLAN TCI as significant (and the tag's TPID, which the
    /// datapath always matches exactly on a tagged packet).
    pub fn consult_tci(&mut self, bits: u16) {
        let m = self.wc.vlan_tci() | bits;
        self.wc.set_vlan_tci(m);
        self.consult(field::VLAN_TPID);
    }

    /// Adds a trace line (formatted only when tracing).
    pub fn note(&mut self, f: impl FnOnce() -> String) {
        if let Some(t) = self.trace.as_mut() {
            t.push(f());
        }
    }

    /// Emits whatever VLAN changes make the packet carry VID `vid` (0: untagged), then outputs
    /// to datapath port `port`. A re-tagged packet keeps its original priority.
    pub fn output(&mut self, port: u32, vid: u16) {
        let tagged = self.cur_tci & VLAN_CFI != 0;
        let want_change = if vid == 0 { tagged } else { !tagged || self.cur_tci & VLAN_VID_MASK != vid };
        if want_change {
            if tagged {
                self.actions.push(&Action::PopVlan);
                self.cur_tci = 0;
            }
            if vid != 0 {
                let orig = self.flow.vlan_tci();
                let pcp = if orig & VLAN_CFI != 0 {
                    self.consult_tci(VLAN_PCP_MASK);
                    orig & VLAN_PCP_MASK
                } else {
                    0
                };
                let tci = pcp | VLAN_CFI | vid;
                self.actions.push(&Action::PushVlan { tpid: ETH_P_8021Q, tci });
                self.cur_tci = tci;
            }
        }
        self.actions.push(&Action::Output(port));
    }

    /// The megaflow: (masked key, mask).
    pub fn megaflow(&self) -> (FlowKey, FlowKey) {
        (self.flow.masked(&self.wc), self.wc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::odp::format_actions;

    #[test]
    fn always_significant_fields() {
        let mut k = FlowKey::ZERO;
        k.set_eth_type(ETH_P_IP);
        k.set_in_port(3);
        let x = Xlate::new(k, false, false);
        assert_eq!(x.wc.in_port(), u32::MAX);
        assert_eq!(x.wc.eth_type(), 0xffff);
        assert_eq!(x.wc.ip_frag(), 0xff);
        assert_eq!(x.wc.eth_src(), [0; 6]);
        let mut k2 = k;
        k2.set_eth_type(0x0806);
        assert_eq!(Xlate::new(k2, false, false).wc.ip_frag(), 0);
    }

    #[test]
    fn output_vlan_transitions() {
        let mut k = FlowKey::ZERO;
        k.set_eth_type(ETH_P_IP);
        let mut x = Xlate::new(k, false, false);
        x.output(1, 0);
        x.output(2, 10);
        x.output(3, 10);
        x.output(4, 20);
        x.output(5, 0);
        assert_eq!(format_actions(x.actions.bytes()), "1,push_vlan(vid=10,pcp=0),2,3,pop_vlan,push_vlan(vid=20,pcp=0),4,pop_vlan,5");
        assert_eq!(x.wc.vlan_tci() & VLAN_PCP_MASK, 0, "untagged input: priority not consulted");

        k.set_vlan_tci(VLAN_CFI | 0xa000 | 10);
        let mut x = Xlate::new(k, false, false);
        x.output(1, 10);
        x.output(2, 30);
        assert_eq!(format_actions(x.actions.bytes()), "1,pop_vlan,push_vlan(vid=30,pcp=5),2");
        assert_eq!(x.wc.vlan_tci() & VLAN_PCP_MASK, VLAN_PCP_MASK, "re-tagging keeps (so reads) the priority");
    }
}
