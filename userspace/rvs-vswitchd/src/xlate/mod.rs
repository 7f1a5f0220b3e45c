//! Translation: from a packet's flow key to datapath actions plus the megaflow mask that says
//! which key bits the decision depended on ("wildcard tracking").
//!
//! [`Xlate`] is the context every pipeline stage shares: it holds the flow as actions modify it,
//! the mask of consulted bits (`consult*` un-wildcard them; a stage must call them for every
//! field it reads before deciding), the datapath actions built so far (VLAN state is tracked so
//! [`Xlate::output`] emits the minimal pop/push before each output), and an optional trace for
//! `ofproto/trace`. [`normal`] is the NORMAL action, [`portcfg`] the port-mod bits both stages
//! honour; the OpenFlow pipeline
//! ([`crate::pipeline::xlate`]) drives the same context: its table lookups consult the fields its
//! classifier examined, its `output:NORMAL` calls [`normal::xlate_normal`].
//!
//! Actions may modify the flow ([`Xlate::flow`]); the datapath learns of modifications lazily:
//! before each output, [`Xlate::commit`] emits `set_masked` actions for the fields written since
//! (and consults them, since whether a set is needed depends on the packet's value). The megaflow
//! is always built from the flow as received.

pub mod normal;
pub mod portcfg;

use std::ops::Range;
use std::time::Instant;

use rvs_core::actions::Action;
use rvs_core::key::{field, FlowKey, VLAN_CFI};
use rvs_core::nla::Writer;
use rvs_core::ovs::key_nl::{ETH_P_8021Q, ETH_P_IP, ETH_P_IPV6};
use rvs_core::ovs_abi::{OVS_KEY_ATTR_ETHERNET, OVS_KEY_ATTR_IPV4, OVS_KEY_ATTR_IPV6, OVS_KEY_ATTR_PRIORITY, OVS_KEY_ATTR_SCTP, OVS_KEY_ATTR_TCP, OVS_KEY_ATTR_UDP};

use crate::odp::ActionBuf;
use crate::pipeline::RuleId;

/// A datapath `set_masked` target: attribute type, leading byte ranges, trailing byte ranges.
type SetGroup = (u16, Vec<Range<usize>>, Vec<Range<usize>>);

/// A packet the translation sends to controllers (the upcall handler builds the packet-in).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ControllerOut {
    /// Why.
    pub reason: rvs_openflow::msg::PacketInReason,
    /// The table whose rule (or miss) sent it.
    pub table_id: u8,
    /// That rule's cookie (all ones for a miss).
    pub cookie: u64,
    /// Bytes of the packet to send (`0xffff`: all).
    pub max_len: u16,
    /// The OpenFlow input port.
    pub in_port: u32,
    /// The metadata register at that point.
    pub metadata: u64,
    /// Length of the datapath actions emitted before (their effects make the packet-in's data).
    pub actions_len: usize,
}

/// VID bits of a TCI.
pub const VLAN_VID_MASK: u16 = 0x0fff;
/// PCP bits of a TCI.
pub const VLAN_PCP_MASK: u16 = 0xe000;

/// A translation in progress.
#[derive(Debug, Clone)]
pub struct Xlate {
    /// The flow as actions so far modified it (NORMAL and table lookups read this).
    pub flow: FlowKey,
    /// The flow as received (the megaflow's key).
    pub orig: FlowKey,
    /// The flow as the datapath packet is after the actions emitted so far (VLAN aside).
    committed: FlowKey,
    /// Bits of `flow` written by actions since translation began.
    written: FlowKey,
    /// Whether anything was written (fast path for [`Xlate::commit`]).
    dirty: bool,
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
    /// OpenFlow rules the packet went through (their counters get the megaflow's traffic).
    pub rules: Vec<RuleId>,
    /// Group buckets the packet went through: (group, bucket index).
    pub buckets: Vec<(u32, usize)>,
    /// Packets for controllers.
    pub controller: Vec<ControllerOut>,
    /// The decision needs this process for every packet (controller output): no megaflow.
    pub slow_path: bool,
}

impl Xlate {
    /// Starts translating `flow`. As Open vSwitch, some fields are always significant: the
    /// recirculation ID, the input port, the ethertype and, for IP, the fragment type.
    pub fn new(flow: FlowKey, may_learn: bool, trace: bool) -> Xlate {
        let mut x = Xlate {
            flow,
            orig: flow,
            committed: flow,
            written: FlowKey::ZERO,
            dirty: false,
            wc: FlowKey::ZERO,
            actions: ActionBuf::default(),
            cur_tci: flow.vlan_tci(),
            may_learn,
            trace: trace.then(Vec::new),
            now: Instant::now(),
            learned: false,
            rules: Vec::new(),
            buckets: Vec::new(),
            controller: Vec::new(),
            slow_path: false,
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
        self.commit();
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

    /// Emits whatever VLAN changes make the packet carry the flow's current TCI, then outputs
    /// to datapath port `port` (the OpenFlow pipeline's output).
    pub fn output_flow_vlan(&mut self, port: u32) {
        self.commit();
        self.sync_vlan();
        self.actions.push(&Action::Output(port));
    }

    /// Emits whatever VLAN changes make the packet carry the flow's current TCI.
    pub fn sync_vlan(&mut self) {
        let want = self.flow.vlan_tci();
        let vlan_written = self.written.vlan_tci() != 0;
        if self.cur_tci != want || vlan_written {
            self.consult_tci(0xffff);
        }
        if self.cur_tci != want {
            if self.cur_tci & VLAN_CFI != 0 {
                self.actions.push(&Action::PopVlan);
            }
            if want & VLAN_CFI != 0 {
                let tpid = match self.flow.vlan_tpid() {
                    0 => ETH_P_8021Q,
                    t => t,
                };
                self.actions.push(&Action::PushVlan { tpid, tci: want });
            }
            self.cur_tci = want;
        }
    }

    /// Records that actions wrote the bits `mask` of [`Xlate::flow`].
    pub fn wrote(&mut self, mask: &FlowKey) {
        for (w, m) in self.written.as_bytes_mut().iter_mut().zip(mask.as_bytes().iter()) {
            *w |= m;
        }
        self.dirty = true;
    }

    /// Emits `set_masked` actions for written fields whose value differs from the datapath
    /// packet's (Ethernet addresses, IPv4/IPv6 addresses, ToS, TTL, label, L4 ports, and
    /// `skb_priority` as a plain set). Written bits are consulted.
    pub fn commit(&mut self) {
        if !self.dirty {
            return;
        }
        let mut wc = self.wc;
        for (w, m) in wc.as_bytes_mut().iter_mut().zip(self.written.as_bytes().iter()) {
            *w |= m;
        }
        // VLAN bits are handled by the output functions, not by sets.
        wc.set_vlan_tci(self.wc.vlan_tci());
        self.wc = wc;
        let et = self.flow.eth_type();
        let proto = self.flow.ip_proto();
        let mut groups: Vec<SetGroup> = vec![(OVS_KEY_ATTR_ETHERNET, vec![field::ETH_SRC, field::ETH_DST], vec![])];
        let l3_tail = vec![field::IP_PROTO..field::IP_PROTO + 1, field::IP_TOS..field::IP_TTL + 1, field::IP_FRAG..field::IP_FRAG + 1];
        if et == ETH_P_IP {
            groups.push((OVS_KEY_ATTR_IPV4, vec![field::IPV4_SRC, field::IPV4_DST], l3_tail.clone()));
        } else if et == ETH_P_IPV6 {
            groups.push((OVS_KEY_ATTR_IPV6, vec![field::IPV6_SRC, field::IPV6_DST, field::IPV6_LABEL], l3_tail));
        }
        if matches!(et, ETH_P_IP | ETH_P_IPV6) {
            let l4 = match proto {
                6 => Some(OVS_KEY_ATTR_TCP),
                17 => Some(OVS_KEY_ATTR_UDP),
                132 => Some(OVS_KEY_ATTR_SCTP),
                _ => None,
            };
            if let Some(a) = l4 {
                self.consult_byte(field::IP_PROTO);
                groups.push((a, vec![field::TP_SRC, field::TP_DST], vec![]));
            }
        }
        for (attr, ranges, tail) in groups {
            let mut value = Vec::new();
            let mut mask = Vec::new();
            let mut differs = false;
            for r in ranges.iter().chain(tail.iter()) {
                // The IP protocol and fragment bytes are not writable: mask 0.
                let writable = *r != (field::IP_PROTO..field::IP_PROTO + 1) && *r != (field::IP_FRAG..field::IP_FRAG + 1);
                for i in r.clone() {
                    let m = if writable { self.written.as_bytes()[i] } else { 0 };
                    let v = self.flow.as_bytes()[i];
                    differs |= (v ^ self.committed.as_bytes()[i]) & m != 0;
                    value.push(v & m);
                    mask.push(m);
                }
            }
            if !differs {
                continue;
            }
            value.extend_from_slice(&mask);
            let mut buf = [0u8; 128];
            let mut w = Writer::new(&mut buf);
            if w.put(attr, &value).is_ok() {
                self.actions.push(&Action::SetMasked(w.written()));
            }
            for r in ranges.iter().chain(tail.iter()) {
                for i in r.clone() {
                    let m = self.written.as_bytes()[i];
                    let b = &mut self.committed.as_bytes_mut()[i];
                    *b = (*b & !m) | (self.flow.as_bytes()[i] & m);
                }
            }
        }
        if self.flow.priority() != self.committed.priority() {
            let mut buf = [0u8; 16];
            let mut w = Writer::new(&mut buf);
            if w.put(OVS_KEY_ATTR_PRIORITY, &self.flow.priority().to_ne_bytes()).is_ok() {
                self.actions.push(&Action::Set(w.written()));
            }
            let p = self.flow.priority();
            self.committed.set_priority(p);
        }
    }

    /// The megaflow: (masked key, mask), from the flow as received.
    pub fn megaflow(&self) -> (FlowKey, FlowKey) {
        (self.orig.masked(&self.wc), self.wc)
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
