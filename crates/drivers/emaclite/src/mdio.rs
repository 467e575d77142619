//! MDIO access to the PHY through MDIOADDR/MDIOWR/MDIORD/MDIOCTRL.

use ferrode_hal::mmio::{FieldValue, Readable, Writeable};

use crate::error::Error;
use crate::mac::EmacLite;
use crate::regs::{MDIO_DATA, MDIOADDR, MDIOCTRL, Registers};

/// PHY Basic Mode Status Register (IEEE 802.3 clause 22 register 1).
const PHY_BMSR: u8 = 1;
/// BMSR Link Status (latched low).
const BMSR_LINK_STATUS: u16 = 1 << 2;

/// MDIOADDR's PHYADDR and REGADDR.
fn mdio_address(phy: u8, register: u8) -> Result<FieldValue<u32, MDIOADDR::Register>, Error> {
    if phy > 31 || register > 31 {
        return Err(Error::InvalidMdioAddress);
    }
    Ok(MDIOADDR::PHYADDR.val(u32::from(phy)) + MDIOADDR::REGADDR.val(u32::from(register)))
}

/// MDIOCTRL's MDIO Status is clear: no transaction runs.
fn mdio_idle(regs: &impl Registers) -> bool {
    !regs.mdio_ctrl().is_set(MDIOCTRL::MDIO_STATUS)
}

/// MDIOCTRL: start a transaction, MDIO kept enabled.
fn start() -> FieldValue<u32, MDIOCTRL::Register> {
    MDIOCTRL::MDIO_ENABLE::SET + MDIOCTRL::MDIO_STATUS::SET
}

impl<R: Registers, const RING: usize> EmacLite<'_, R, RING> {
    pub(crate) fn enable_mdio(&mut self) {
        self.regs.mdio_ctrl().write(MDIOCTRL::MDIO_ENABLE::SET);
    }

    /// Reads PHY register `register` of PHY `phy`, waiting (bounded) for
    /// the MDIO interface before and after.
    pub fn mdio_read(&mut self, phy: u8, register: u8) -> Result<u16, Error> {
        let address = mdio_address(phy, register)?;
        self.wait_until(mdio_idle)?;
        self.regs.mdio_addr().write(MDIOADDR::OP::Read + address);
        self.regs.mdio_ctrl().write(start());
        self.wait_until(mdio_idle)?;
        Ok(self.regs.mdio_rd().read(MDIO_DATA::DATA) as u16)
    }

    /// Writes `value` to PHY register `register` of PHY `phy`.
    pub fn mdio_write(&mut self, phy: u8, register: u8, value: u16) -> Result<(), Error> {
        let address = mdio_address(phy, register)?;
        self.wait_until(mdio_idle)?;
        self.regs.mdio_addr().write(MDIOADDR::OP::Write + address);
        self.regs.mdio_wr().write(MDIO_DATA::DATA.val(u32::from(value)));
        self.regs.mdio_ctrl().write(start());
        self.wait_until(mdio_idle)
    }

    /// Link state from the PHY's BMSR (read twice: the bit latches low).
    /// Without a configured PHY the link is taken as up.
    pub fn phy_link_up(&mut self) -> Result<bool, Error> {
        let Some(phy) = self.config.phy_address else {
            return Ok(true);
        };
        self.mdio_read(phy, PHY_BMSR)?;
        Ok(self.mdio_read(phy, PHY_BMSR)? & BMSR_LINK_STATUS != 0)
    }
}
