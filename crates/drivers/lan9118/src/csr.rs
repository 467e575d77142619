//! Indirect access to the MAC control registers (datasheet 5.4) through
//! MAC_CSR_CMD/MAC_CSR_DATA, and to the PHY (5.5) through MII_ACC/MII_DATA,
//! each wait bounded in time (see [`crate::wait`]).

use embedded_hal::delay::DelayNs;

use crate::Error;
use crate::error::Operation;
use ferrode_hal::mmio::{Readable, Writeable};

use crate::regs::{MAC_CSR_CMD, Registers};
use crate::wait::{Budget, timeouts};

/// MAC CSR indices (table 5-6).
pub(crate) mod mac {
    pub const MAC_CR: u32 = 1;
    pub const ADDRH: u32 = 2;
    pub const ADDRL: u32 = 3;
    pub const MII_ACC: u32 = 6;
    pub const MII_DATA: u32 = 7;
    pub const FLOW: u32 = 8;
}

/// MAC_CR bits (5.4.1).
pub(crate) mod mac_cr {
    pub const RXEN: u32 = 1 << 2;
    pub const TXEN: u32 = 1 << 3;
    pub const FDPX: u32 = 1 << 20;
    pub const PRMS: u32 = 1 << 18;
}

/// FLOW bits (5.4.8): pause time FCPT (31:16), FCEN (1).
pub(crate) mod flow {
    /// Longest pause, in 512-bit-time quanta.
    pub const FCPT_MAX: u32 = 0xffff << 16;
    pub const FCEN: u32 = 1 << 1;
}

/// The internal PHY's MII address.
const INTERNAL_PHY: u32 = 1;

/// PHY registers and bits (5.5).
pub(crate) mod phy {
    /// Basic Control: Reset (15, self-clearing), Auto-Negotiation Enable
    /// (12), Restart Auto-Negotiation (9).
    pub const BASIC_CONTROL: u32 = 0;
    pub const CONTROL_RESET: u16 = 1 << 15;
    pub const CONTROL_AUTONEGOTIATE: u16 = (1 << 12) | (1 << 9);
    /// Basic Status: Auto-Negotiate Complete (5).
    pub const BASIC_STATUS: u32 = 1;
    pub const STATUS_AUTONEGOTIATION_COMPLETE: u16 = 1 << 5;
    /// Auto-Negotiation Advertisement and Link Partner Ability: 100FD (8),
    /// 100HD (7), 10FD (6), 10HD (5), symmetric pause (10), selector
    /// IEEE 802.3 (0b00001).
    pub const ADVERTISEMENT: u32 = 4;
    pub const PARTNER_ABILITY: u32 = 5;
    pub const ABILITY_100_FULL: u16 = 1 << 8;
    pub const ABILITY_100_HALF: u16 = 1 << 7;
    pub const ABILITY_10_FULL: u16 = 1 << 6;
    pub const ABILITY_10_HALF: u16 = 1 << 5;
    pub const ABILITY_PAUSE: u16 = 1 << 10;
    pub const SELECTOR_802_3: u16 = 1;
    /// Interrupt Source (clear on read) and Interrupt Mask: INT6
    /// auto-negotiation complete, INT4 link down.
    pub const INTERRUPT_SOURCE: u32 = 29;
    pub const INTERRUPT_MASK: u32 = 30;
    pub const INTERRUPT_AUTONEGOTIATION_COMPLETE: u16 = 1 << 6;
    pub const INTERRUPT_LINK_DOWN: u16 = 1 << 4;
}

const MII_BUSY: u32 = 1 << 0;
const MII_WRITE: u32 = 1 << 1;

fn wait_csr_idle(
    registers: &impl Registers,
    delay: &mut impl DelayNs,
    budget: &mut Budget,
) -> Result<(), Error> {
    while registers.mac_csr_cmd().is_set(MAC_CSR_CMD::CSR_BUSY) {
        budget.tick(delay)?;
    }
    Ok(())
}

fn mac_read_within(
    registers: &impl Registers,
    delay: &mut impl DelayNs,
    budget: &mut Budget,
    index: u32,
) -> Result<u32, Error> {
    wait_csr_idle(registers, delay, budget)?;
    registers.mac_csr_cmd().write(
        MAC_CSR_CMD::CSR_BUSY::SET + MAC_CSR_CMD::R_NW::SET + MAC_CSR_CMD::CSR_ADDRESS.val(index),
    );
    wait_csr_idle(registers, delay, budget)?;
    Ok(registers.mac_csr_data().get())
}

fn mac_write_within(
    registers: &impl Registers,
    delay: &mut impl DelayNs,
    budget: &mut Budget,
    index: u32,
    value: u32,
) -> Result<(), Error> {
    wait_csr_idle(registers, delay, budget)?;
    registers.mac_csr_data().set(value);
    registers.mac_csr_cmd().write(MAC_CSR_CMD::CSR_BUSY::SET + MAC_CSR_CMD::CSR_ADDRESS.val(index));
    wait_csr_idle(registers, delay, budget)
}

/// Reads MAC CSR `index` ([`timeouts::MAC_CSR_US`]).
pub(crate) fn mac_read(
    registers: &impl Registers,
    delay: &mut impl DelayNs,
    index: u32,
) -> Result<u32, Error> {
    let mut budget = Budget::new(Operation::MacCsr, timeouts::MAC_CSR_US);
    mac_read_within(registers, delay, &mut budget, index)
}

/// Writes `value` to MAC CSR `index` ([`timeouts::MAC_CSR_US`]).
pub(crate) fn mac_write(
    registers: &impl Registers,
    delay: &mut impl DelayNs,
    index: u32,
    value: u32,
) -> Result<(), Error> {
    let mut budget = Budget::new(Operation::MacCsr, timeouts::MAC_CSR_US);
    mac_write_within(registers, delay, &mut budget, index, value)
}

fn wait_mii_idle(
    registers: &impl Registers,
    delay: &mut impl DelayNs,
    budget: &mut Budget,
) -> Result<(), Error> {
    while mac_read_within(registers, delay, budget, mac::MII_ACC)? & MII_BUSY != 0 {
        budget.tick(delay)?;
    }
    Ok(())
}

/// Reads register `index` of the internal PHY; the whole access (its MAC
/// CSR accesses included) within [`timeouts::PHY_ACCESS_US`].
pub(crate) fn phy_read(
    registers: &impl Registers,
    delay: &mut impl DelayNs,
    index: u32,
) -> Result<u16, Error> {
    let mut budget = Budget::new(Operation::PhyAccess, timeouts::PHY_ACCESS_US);
    wait_mii_idle(registers, delay, &mut budget)?;
    let command = (INTERNAL_PHY << 11) | (index << 6) | MII_BUSY;
    mac_write_within(registers, delay, &mut budget, mac::MII_ACC, command)?;
    wait_mii_idle(registers, delay, &mut budget)?;
    Ok(mac_read_within(registers, delay, &mut budget, mac::MII_DATA)? as u16)
}

/// Writes `value` to register `index` of the internal PHY, within
/// [`timeouts::PHY_ACCESS_US`].
pub(crate) fn phy_write(
    registers: &impl Registers,
    delay: &mut impl DelayNs,
    index: u32,
    value: u16,
) -> Result<(), Error> {
    let mut budget = Budget::new(Operation::PhyAccess, timeouts::PHY_ACCESS_US);
    wait_mii_idle(registers, delay, &mut budget)?;
    mac_write_within(registers, delay, &mut budget, mac::MII_DATA, u32::from(value))?;
    let command = (INTERNAL_PHY << 11) | (index << 6) | MII_WRITE | MII_BUSY;
    mac_write_within(registers, delay, &mut budget, mac::MII_ACC, command)?;
    wait_mii_idle(registers, delay, &mut budget)
}

/// Duplex and pause of a link, resolved from what both ends advertised.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinkMode {
    /// Full duplex (MAC_CR.FDPX).
    pub full_duplex: bool,
    /// Both ends do symmetric PAUSE flow control (full duplex only).
    pub pause: bool,
}

/// IEEE 802.3 clause 28B.3 priority resolution: the best ability both
/// advertised (100FD, 100HD, 10FD, 10HD), and PAUSE if both offered it on
/// a full-duplex link. Without negotiation the link is half duplex.
pub const fn resolve_link(advertised: u16, partner: u16) -> LinkMode {
    let common = advertised & partner;
    let full_duplex = if common & phy::ABILITY_100_FULL != 0 {
        true
    } else if common & phy::ABILITY_100_HALF != 0 {
        false
    } else {
        common & phy::ABILITY_10_FULL != 0
    };
    LinkMode { full_duplex, pause: full_duplex && common & phy::ABILITY_PAUSE != 0 }
}
