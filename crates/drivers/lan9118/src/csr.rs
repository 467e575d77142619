//! Indirect access to the MAC control registers (datasheet 5.4) through
//! MAC_CSR_CMD/MAC_CSR_DATA, and to the PHY (5.5) through MII_ACC/MII_DATA.

use crate::Error;
use crate::regs::{Register, Registers};

/// How many polls a busy bit gets before the access counts as hung. The
/// datasheet's slowest case (an MII access, about 40 us) takes far fewer.
const POLL_LIMIT: u32 = 100_000;

/// MAC CSR indices (table 5-6).
pub(crate) mod mac {
    pub const MAC_CR: u32 = 1;
    pub const ADDRH: u32 = 2;
    pub const ADDRL: u32 = 3;
    pub const MII_ACC: u32 = 6;
    pub const MII_DATA: u32 = 7;
}

/// MAC_CR bits (5.4.1).
pub(crate) mod mac_cr {
    pub const RXEN: u32 = 1 << 2;
    pub const TXEN: u32 = 1 << 3;
    pub const FDPX: u32 = 1 << 20;
    pub const PRMS: u32 = 1 << 18;
}

/// The internal PHY's MII address.
const INTERNAL_PHY: u32 = 1;
/// PHY Basic Status Register and its Link Status bit (5.5.2).
pub(crate) const PHY_BASIC_STATUS: u32 = 1;
pub(crate) const PHY_LINK_STATUS: u32 = 1 << 2;
/// PHY Basic Control Register: auto-negotiation enable and restart (5.5.1).
pub(crate) const PHY_BASIC_CONTROL: u32 = 0;
pub(crate) const PHY_AUTONEGOTIATE: u32 = (1 << 12) | (1 << 9);

const CSR_BUSY: u32 = 1 << 31;
const CSR_READ: u32 = 1 << 30;
const MII_BUSY: u32 = 1 << 0;
const MII_WRITE: u32 = 1 << 1;

fn wait_until_clear(
    registers: &mut impl Registers,
    register: Register,
    bit: u32,
) -> Result<(), Error> {
    for _ in 0..POLL_LIMIT {
        if registers.read_register(register) & bit == 0 {
            return Ok(());
        }
        core::hint::spin_loop();
    }
    Err(Error::Timeout)
}

/// Reads MAC CSR `index`.
pub(crate) fn mac_read(registers: &mut impl Registers, index: u32) -> Result<u32, Error> {
    wait_until_clear(registers, Register::MacCsrCmd, CSR_BUSY)?;
    registers.write_register(Register::MacCsrCmd, CSR_BUSY | CSR_READ | index);
    wait_until_clear(registers, Register::MacCsrCmd, CSR_BUSY)?;
    Ok(registers.read_register(Register::MacCsrData))
}

/// Writes `value` to MAC CSR `index`.
pub(crate) fn mac_write(
    registers: &mut impl Registers,
    index: u32,
    value: u32,
) -> Result<(), Error> {
    wait_until_clear(registers, Register::MacCsrCmd, CSR_BUSY)?;
    registers.write_register(Register::MacCsrData, value);
    registers.write_register(Register::MacCsrCmd, CSR_BUSY | index);
    wait_until_clear(registers, Register::MacCsrCmd, CSR_BUSY)
}

fn wait_mii_idle(registers: &mut impl Registers) -> Result<(), Error> {
    for _ in 0..POLL_LIMIT {
        if mac_read(registers, mac::MII_ACC)? & MII_BUSY == 0 {
            return Ok(());
        }
    }
    Err(Error::Timeout)
}

/// Reads register `index` of the internal PHY.
pub(crate) fn phy_read(registers: &mut impl Registers, index: u32) -> Result<u16, Error> {
    wait_mii_idle(registers)?;
    mac_write(
        registers,
        mac::MII_ACC,
        (INTERNAL_PHY << 11) | (index << 6) | MII_BUSY,
    )?;
    wait_mii_idle(registers)?;
    Ok(mac_read(registers, mac::MII_DATA)? as u16)
}

/// Writes `value` to register `index` of the internal PHY.
pub(crate) fn phy_write(
    registers: &mut impl Registers,
    index: u32,
    value: u16,
) -> Result<(), Error> {
    wait_mii_idle(registers)?;
    mac_write(registers, mac::MII_DATA, u32::from(value))?;
    mac_write(
        registers,
        mac::MII_ACC,
        (INTERNAL_PHY << 11) | (index << 6) | MII_WRITE | MII_BUSY,
    )?;
    wait_mii_idle(registers)
}
