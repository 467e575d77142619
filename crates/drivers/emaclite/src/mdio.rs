//! MDIO access to the PHY through MDIOADDR/MDIOWR/MDIORD/MDIOCTRL.

use crate::error::Error;
use crate::mac::EmacLite;
use crate::regs::{MDIOADDR_OP_READ, MDIOCTRL_ENABLE, MDIOCTRL_STATUS, Register, Registers};
use ferrode_hal::mmio::{Readable, Writeable};

/// PHY Basic Mode Status Register (IEEE 802.3 clause 22 register 1).
const PHY_BMSR: u8 = 1;
/// BMSR Link Status (latched low).
const BMSR_LINK_STATUS: u16 = 1 << 2;

fn mdio_address(phy: u8, register: u8) -> Result<u32, Error> {
    if phy > 31 || register > 31 {
        return Err(Error::InvalidMdioAddress);
    }
    Ok(u32::from(phy) << 5 | u32::from(register))
}

impl<R: Registers, const RING: usize> EmacLite<R, RING> {
    pub(crate) fn enable_mdio(&mut self) {
        self.regs.mdio_ctrl().set(MDIOCTRL_ENABLE);
    }

    /// Reads PHY register `register` of PHY `phy`, waiting (bounded) for
    /// the MDIO interface before and after.
    pub fn mdio_read(&mut self, phy: u8, register: u8) -> Result<u16, Error> {
        let address = mdio_address(phy, register)?;
        self.wait_clear(Register::MdioCtrl, MDIOCTRL_STATUS)?;
        self.regs.mdio_addr().set(MDIOADDR_OP_READ | address);
        self.regs.mdio_ctrl().set(MDIOCTRL_ENABLE | MDIOCTRL_STATUS);
        self.wait_clear(Register::MdioCtrl, MDIOCTRL_STATUS)?;
        Ok(self.regs.mdio_rd().get() as u16)
    }

    /// Writes `value` to PHY register `register` of PHY `phy`.
    pub fn mdio_write(&mut self, phy: u8, register: u8, value: u16) -> Result<(), Error> {
        let address = mdio_address(phy, register)?;
        self.wait_clear(Register::MdioCtrl, MDIOCTRL_STATUS)?;
        self.regs.mdio_addr().set(address);
        self.regs.mdio_wr().set(u32::from(value));
        self.regs.mdio_ctrl().set(MDIOCTRL_ENABLE | MDIOCTRL_STATUS);
        self.wait_clear(Register::MdioCtrl, MDIOCTRL_STATUS)
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
