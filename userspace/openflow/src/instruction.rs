//! Instructions (OpenFlow 1.1+ `ofp_instruction_*`): the [`Instruction`] model and its codec.
//! An OpenFlow 1.0 action list is modelled as a single [`Instruction::ApplyActions`].

use crate::action::{decode_actions, encode_actions, Action};
use crate::error::{BadInstruction, DecodeError, DecodeResult, EncodeResult};
use crate::types::{table, Version};
use crate::wire::{Put, Reader};

/// One instruction.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Instruction {
    /// Continue in a later table.
    GotoTable(u8),
    /// Write `metadata` under `mask` into the metadata register.
    WriteMetadata {
        /// Value.
        metadata: u64,
        /// Bits to write.
        mask: u64,
    },
    /// Merge actions into the action set.
    WriteActions(Vec<Action>),
    /// Apply actions immediately.
    ApplyActions(Vec<Action>),
    /// Clear the action set.
    ClearActions,
    /// Apply a meter.
    Meter(u32),
    /// An experimenter instruction, kept opaque.
    Experimenter {
        /// Experimenter id.
        experimenter: u32,
        /// Bytes after the experimenter id.
        data: Vec<u8>,
    },
}

/// Instruction type numbers.
pub mod it {
    /// Goto table.
    pub const GOTO_TABLE: u16 = 1;
    /// Write metadata.
    pub const WRITE_METADATA: u16 = 2;
    /// Write actions.
    pub const WRITE_ACTIONS: u16 = 3;
    /// Apply actions.
    pub const APPLY_ACTIONS: u16 = 4;
    /// Clear actions.
    pub const CLEAR_ACTIONS: u16 = 5;
    /// Meter.
    pub const METER: u16 = 6;
    /// Experimenter.
    pub const EXPERIMENTER: u16 = 0xffff;
}

impl Instruction {
    /// The instruction's type number.
    pub fn type_number(&self) -> u16 {
        match self {
            Instruction::GotoTable(_) => it::GOTO_TABLE,
            Instruction::WriteMetadata { .. } => it::WRITE_METADATA,
            Instruction::WriteActions(_) => it::WRITE_ACTIONS,
            Instruction::ApplyActions(_) => it::APPLY_ACTIONS,
            Instruction::ClearActions => it::CLEAR_ACTIONS,
            Instruction::Meter(_) => it::METER,
            Instruction::Experimenter { .. } => it::EXPERIMENTER,
        }
    }
}

fn bad(code: BadInstruction, detail: impl Into<String>) -> DecodeError {
    DecodeError::new(code, detail)
}

/// Decodes an OpenFlow 1.1+ instruction list.
pub fn decode_instructions(version: Version, buf: &[u8]) -> DecodeResult<Vec<Instruction>> {
    let mut r = Reader::new(buf, BadInstruction::BadLen);
    let mut out: Vec<Instruction> = Vec::new();
    while !r.is_empty() {
        let mut h = Reader::new(r.peek(4)?, BadInstruction::BadLen);
        let itype = h.u16()?;
        let len = usize::from(h.u16()?);
        if len < 8 || len % 8 != 0 || len > r.remaining() {
            return Err(bad(BadInstruction::BadLen, format!("instruction {itype} length {len}")));
        }
        let mut b = r.sub(len, BadInstruction::BadLen)?;
        b.skip(4)?;
        let want = |n: usize| {
            if len == n {
                Ok(())
            } else {
                Err(bad(BadInstruction::BadLen, format!("instruction {itype} length {len}")))
            }
        };
        let ins = match itype {
            it::GOTO_TABLE => {
                want(8)?;
                let t = b.u8()?;
                if t > table::MAX {
                    return Err(bad(BadInstruction::BadTableId, format!("goto_table {t}")));
                }
                Instruction::GotoTable(t)
            }
            it::WRITE_METADATA => {
                want(24)?;
                b.skip(4)?;
                Instruction::WriteMetadata { metadata: b.u64()?, mask: b.u64()? }
            }
            it::WRITE_ACTIONS | it::APPLY_ACTIONS => {
                b.skip(4)?;
                let acts = decode_actions(version, b.rest())?;
                if itype == it::WRITE_ACTIONS {
                    Instruction::WriteActions(acts)
                } else {
                    Instruction::ApplyActions(acts)
                }
            }
            it::CLEAR_ACTIONS => {
                want(8)?;
                Instruction::ClearActions
            }
            it::METER => {
                want(8)?;
                Instruction::Meter(b.u32()?)
            }
            it::EXPERIMENTER => {
                let experimenter = b.u32()?;
                Instruction::Experimenter { experimenter, data: b.rest().to_vec() }
            }
            _ => return Err(bad(BadInstruction::UnknownInst, format!("instruction type {itype}"))),
        };
        if out.iter().any(|i| i.type_number() == itype) {
            return Err(bad(BadInstruction::DupInst, format!("duplicate instruction {itype}")));
        }
        out.push(ins);
    }
    // Flow tables keep decoded instruction lists: no spare capacity.
    out.shrink_to_fit();
    Ok(out)
}

/// Appends an OpenFlow 1.1+ instruction list.
pub fn encode_instructions(version: Version, ins: &[Instruction], out: &mut Vec<u8>) -> EncodeResult<()> {
    for i in ins {
        let start = out.len();
        out.put_u16(i.type_number());
        out.put_u16(0);
        match i {
            Instruction::GotoTable(t) => {
                out.put_u8(*t);
                out.put_zeros(3);
            }
            Instruction::WriteMetadata { metadata, mask } => {
                out.put_zeros(4);
                out.put_u64(*metadata);
                out.put_u64(*mask);
            }
            Instruction::WriteActions(a) | Instruction::ApplyActions(a) => {
                out.put_zeros(4);
                encode_actions(version, a, out)?;
            }
            Instruction::ClearActions => out.put_zeros(4),
            Instruction::Meter(m) => out.put_u32(*m),
            Instruction::Experimenter { experimenter, data } => {
                out.put_u32(*experimenter);
                out.extend_from_slice(data);
                out.pad8_from(start);
            }
        }
        out.patch_u16(start.saturating_add(2), out.len().saturating_sub(start))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{BadAction, OfpError};

    #[test]
    fn roundtrip() {
        let v = Version::OF13;
        let ins = vec![
            Instruction::Meter(1),
            Instruction::ApplyActions(vec![Action::Output { port: 1, max_len: 0 }]),
            Instruction::ClearActions,
            Instruction::WriteActions(vec![Action::Group(2)]),
            Instruction::WriteMetadata { metadata: 1, mask: 0xff },
            Instruction::GotoTable(3),
        ];
        let mut b = Vec::new();
        encode_instructions(v, &ins, &mut b).unwrap();
        assert_eq!(decode_instructions(v, &b).unwrap(), ins);
        assert_eq!(&b[..8], &[0, 6, 0, 8, 0, 0, 0, 1]);
    }

    fn err(b: &[u8]) -> OfpError {
        decode_instructions(Version::OF13, b).unwrap_err().error
    }

    #[test]
    fn malformed() {
        assert_eq!(err(&[0, 9, 0, 8, 0, 0, 0, 0]), BadInstruction::UnknownInst.into());
        assert_eq!(err(&[0, 1, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), BadInstruction::BadLen.into());
        assert_eq!(err(&[0, 1, 0, 8, 0xff, 0, 0, 0]), BadInstruction::BadTableId.into());
        assert_eq!(
            err(&[0, 5, 0, 8, 0, 0, 0, 0, 0, 5, 0, 8, 0, 0, 0, 0]),
            BadInstruction::DupInst.into()
        );
        assert_eq!(err(&[0, 5, 0, 9, 0, 0, 0, 0]), BadInstruction::BadLen.into());
        // Errors inside the action list are action errors.
        assert_eq!(
            err(&[0, 4, 0, 16, 0, 0, 0, 0, 0, 99, 0, 8, 0, 0, 0, 0]),
            BadAction::BadType.into()
        );
    }
}
