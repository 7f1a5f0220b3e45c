//! The executor's action source for the normal case: actions stored as validated
//! `OVS_ACTION_ATTR_*` netlink bytes, decoded on the fly by the netlink codec.

use super::ActionSource;
use crate::actions::ActionList;
use crate::key::FlowKey;
use crate::ovs::action_nl::ActionIter;
use crate::ovs::error::CodecError;
use crate::ovs::key_nl;

/// Decodes action lists and `set` payloads with [`crate::ovs`]. Both datapaths use this.
#[derive(Clone, Copy, Debug, Default)]
pub struct NetlinkActions;

impl ActionSource for NetlinkActions {
    type Error = CodecError;
    type Iter<'a> = ActionIter<'a>;

    fn actions<'a>(&'a self, list: ActionList<'a>) -> ActionIter<'a> {
        list.iter()
    }

    fn decode_set(&self, payload: &[u8], masked: bool) -> Result<(FlowKey, FlowKey), CodecError> {
        key_nl::decode_set(payload, masked)
    }
}
