//! The SD memory card's side of the protocol (SD Physical Layer Simplified
//! Specification, version 9.10): the commands the driver sends, the card
//! status of an R1 response, the OCR of an R3, and the capacity in the CSD
//! of an R2. Pure functions over response words, table-tested.

use crate::{CardKind, Error};

/// What a command's response is (Physical Layer 4.9).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Response {
    /// No response (CMD0).
    None,
    /// R1: the card status (48 bits, CRC7).
    R1,
    /// R1b: R1, and the card may hold DAT0 low while busy.
    R1b,
    /// R2: CID or CSD (136 bits); its CRC is the register's own.
    R2,
    /// R3: the OCR (48 bits), with no CRC: the CRC field is all ones.
    R3,
    /// R6: the published RCA and part of the card status (48 bits, CRC7).
    R6,
    /// R7: the card interface condition (48 bits, CRC7).
    R7,
}

impl Response {
    /// Whether the controller waits for a response at all.
    pub(crate) const fn expected(self) -> bool {
        !matches!(self, Response::None)
    }

    /// Whether it is a long (136-bit) response.
    pub(crate) const fn long(self) -> bool {
        matches!(self, Response::R2)
    }

    /// Whether the response carries a CRC the controller can check. R3's
    /// CRC field is all ones, so a PL181 reports CmdCrcFail for a good R3
    /// (Linux's mmci driver ignores CRC failures for such responses).
    pub(crate) const fn has_crc(self) -> bool {
        !matches!(self, Response::R3)
    }
}

/// A command: its index and its response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Command {
    pub(crate) index: u8,
    pub(crate) response: Response,
}

const fn command(index: u8, response: Response) -> Command {
    Command { index, response }
}

/// CMD0 GO_IDLE_STATE: every card to idle.
pub(crate) const GO_IDLE_STATE: Command = command(0, Response::None);
/// CMD2 ALL_SEND_CID: the card's CID; ready to identification.
pub(crate) const ALL_SEND_CID: Command = command(2, Response::R2);
/// CMD3 SEND_RELATIVE_ADDR: publish an RCA; to stand-by.
pub(crate) const SEND_RELATIVE_ADDR: Command = command(3, Response::R6);
/// CMD7 SELECT/DESELECT_CARD: stand-by to transfer.
pub(crate) const SELECT_CARD: Command = command(7, Response::R1b);
/// CMD8 SEND_IF_COND: supply voltage and check pattern (version 2.00 on).
pub(crate) const SEND_IF_COND: Command = command(8, Response::R7);
/// CMD9 SEND_CSD: the card-specific data.
pub(crate) const SEND_CSD: Command = command(9, Response::R2);
/// CMD12 STOP_TRANSMISSION: ends a multiple-block transfer.
pub(crate) const STOP_TRANSMISSION: Command = command(12, Response::R1b);
/// CMD13 SEND_STATUS: the card status.
pub(crate) const SEND_STATUS: Command = command(13, Response::R1);
/// CMD16 SET_BLOCKLEN: the block length of standard-capacity cards.
pub(crate) const SET_BLOCKLEN: Command = command(16, Response::R1);
/// CMD17 READ_SINGLE_BLOCK.
pub(crate) const READ_SINGLE_BLOCK: Command = command(17, Response::R1);
/// CMD18 READ_MULTIPLE_BLOCK, until CMD12.
pub(crate) const READ_MULTIPLE_BLOCK: Command = command(18, Response::R1);
/// CMD24 WRITE_BLOCK.
pub(crate) const WRITE_BLOCK: Command = command(24, Response::R1);
/// CMD25 WRITE_MULTIPLE_BLOCK, until CMD12.
pub(crate) const WRITE_MULTIPLE_BLOCK: Command = command(25, Response::R1);
/// ACMD41 SD_SEND_OP_COND: host capacity support and voltage window; the
/// card's OCR.
pub(crate) const SD_SEND_OP_COND: Command = command(41, Response::R3);
/// CMD55 APP_CMD: the next command is an application command.
pub(crate) const APP_CMD: Command = command(55, Response::R1);

/// CMD8's argument: VHS 0b0001 (2.7-3.6 V) and check pattern 0xAA.
pub(crate) const IF_COND_CHECK: u32 = 0x1aa;

/// ACMD41's voltage window: 2.7-3.6 V (OCR bits 15..23).
pub(crate) const OCR_VOLTAGE_WINDOW: u32 = 0x00ff_8000;
/// OCR bit 30, CCS (in the response) / HCS (in ACMD41's argument): a
/// high-capacity card, block addressed / a host that drives one.
pub(crate) const OCR_CCS: u32 = 1 << 30;
/// OCR bit 31: power-up finished (0 while the card is busy).
pub(crate) const OCR_POWERED_UP: u32 = 1 << 31;

/// R1 card status bit 5, APP_CMD: the card takes the next command as an
/// application command.
pub(crate) const STATUS_APP_CMD: u32 = 1 << 5;
/// R1 card status bit 8, READY_FOR_DATA.
pub(crate) const STATUS_READY_FOR_DATA: u32 = 1 << 8;
/// R1 card status bit 31, OUT_OF_RANGE.
pub(crate) const STATUS_OUT_OF_RANGE: u32 = 1 << 31;

/// The error bits of the card status (Physical Layer table 4-42):
/// OUT_OF_RANGE, ADDRESS_ERROR, BLOCK_LEN_ERROR, ERASE_SEQ_ERROR,
/// ERASE_PARAM, WP_VIOLATION, LOCK_UNLOCK_FAILED, COM_CRC_ERROR,
/// ILLEGAL_COMMAND, CARD_ECC_FAILED, CC_ERROR, ERROR, CSD_OVERWRITE,
/// AKE_SEQ_ERROR.
pub(crate) const STATUS_ERRORS: u32 = 0xfdf9_0008;

/// The card's state in CURRENT_STATE, card status bits 9..12.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CardState {
    Idle,
    Ready,
    Identification,
    StandBy,
    Transfer,
    SendingData,
    ReceivingData,
    Programming,
    Disconnect,
    Reserved(u8),
}

impl CardState {
    /// The state a card status reports.
    pub(crate) const fn of(status: u32) -> Self {
        match (status >> 9) & 0xf {
            0 => CardState::Idle,
            1 => CardState::Ready,
            2 => CardState::Identification,
            3 => CardState::StandBy,
            4 => CardState::Transfer,
            5 => CardState::SendingData,
            6 => CardState::ReceivingData,
            7 => CardState::Programming,
            8 => CardState::Disconnect,
            other => CardState::Reserved(other as u8),
        }
    }

    /// The CURRENT_STATE field for this state.
    #[cfg(test)]
    pub(crate) const fn bits(self) -> u32 {
        let code = match self {
            CardState::Idle => 0,
            CardState::Ready => 1,
            CardState::Identification => 2,
            CardState::StandBy => 3,
            CardState::Transfer => 4,
            CardState::SendingData => 5,
            CardState::ReceivingData => 6,
            CardState::Programming => 7,
            CardState::Disconnect => 8,
            CardState::Reserved(code) => code as u32,
        };
        code << 9
    }
}

/// The card status an R6 response's low 16 bits stand for (Physical Layer
/// 4.9.5): bits 15, 14 and 13 are the status's 23 (COM_CRC_ERROR), 22
/// (ILLEGAL_COMMAND) and 19 (ERROR), bits 0..12 are its own.
pub(crate) const fn r6_card_status(r6: u32) -> u32 {
    ((r6 & 0xc000) << 8) | ((r6 & 0x2000) << 6) | (r6 & 0x1fff)
}

/// A bit field of a 128-bit register held as MCIResponse0-3 holds it
/// (word 0 the most significant): bits `lsb..lsb + width` of the register.
fn field(register: &[u32; 4], lsb: u32, width: u32) -> u32 {
    let mut value = 0u64;
    for bit in (lsb..lsb + width).rev() {
        let word = register[3 - (bit / 32) as usize];
        value = (value << 1) | u64::from((word >> (bit % 32)) & 1);
    }
    value as u32
}

/// The capacity in 512-byte blocks the CSD gives (Physical Layer 5.3),
/// with the kind of card each CSD structure belongs to: version 1.0
/// (CSD_STRUCTURE 0, standard capacity) computes it from C_SIZE,
/// C_SIZE_MULT and READ_BL_LEN; version 2.0 (CSD_STRUCTURE 1, high and
/// extended capacity) is (C_SIZE + 1) * 512 KiB. A capacity past
/// `u32::MAX` blocks (the last one of the largest SDXC cards) is cut to it.
///
/// # Errors
/// [`Error::Unsupported`] for another CSD structure (3.0, SDUC) or a
/// READ_BL_LEN the specification does not allow (9..=11 only).
pub(crate) fn csd_capacity(csd: &[u32; 4]) -> Result<(CardKind, u32), Error> {
    match field(csd, 126, 2) {
        0 => {
            let read_bl_len = field(csd, 80, 4);
            if !(9..=11).contains(&read_bl_len) {
                return Err(Error::Unsupported);
            }
            let c_size = u64::from(field(csd, 62, 12));
            let c_size_mult = field(csd, 47, 3);
            let blocks = (c_size + 1) << (c_size_mult + 2 + read_bl_len - 9);
            Ok((CardKind::Sdsc, blocks as u32))
        }
        1 => {
            let c_size = u64::from(field(csd, 48, 22));
            let blocks = (c_size + 1) * 1024;
            Ok((CardKind::Sdhc, blocks.min(u64::from(u32::MAX)) as u32))
        }
        _ => Err(Error::Unsupported),
    }
}

#[cfg(test)]
mod tests {
    use super::r6_card_status;

    /// R6's bits 15, 14 and 13 land on the card status's 23, 22 and 19;
    /// bits 0..12 stay where they are.
    #[test]
    fn an_r6_status_is_spread_as_the_card_status_has_it() {
        assert_eq!(r6_card_status(0x8000), 1 << 23);
        assert_eq!(r6_card_status(0x4000), 1 << 22);
        assert_eq!(r6_card_status(0x2000), 1 << 19);
        assert_eq!(r6_card_status(0x0920), 0x0920);
        assert_eq!(r6_card_status(0xffff), (1 << 23) | (1 << 22) | (1 << 19) | 0x1fff);
        assert_eq!(r6_card_status(0xb368_0000), 0, "the RCA is no status");
    }
}
