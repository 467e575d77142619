//! MDIO access to the PHY through MC, MCR, MWD and MRD.

use ferrode_hal::mmio::{FieldValue, Readable, Writeable};

use crate::driver::{AxiEthernet, MAX_POLLS};
use crate::error::Error;
use crate::regs::{Dma, MCR, MDIO_DATA, Mac};

/// PHY Basic Mode Status Register (IEEE 802.3 clause 22 register 1).
pub const PHY_BMSR: u8 = 1;
/// BMSR Link Status (latched low).
pub const BMSR_LINK_STATUS: u16 = 1 << 2;
/// What MRD holds when no PHY drives MDIO (the bus floats high).
const NO_PHY: u16 = 0xFFFF;

/// MCR's PHYAD and REGAD.
fn mdio_address(phy: u8, register: u8) -> Result<FieldValue<u32, MCR::Register>, Error> {
    if phy > 31 || register > 31 {
        return Err(Error::InvalidMdioAddress);
    }
    Ok(MCR::PHYAD.val(u32::from(phy)) + MCR::REGAD.val(u32::from(register)))
}

impl<M: Mac, D: Dma, const TX: usize, const RX: usize> AxiEthernet<'_, M, D, TX, RX> {
    /// Polls MCR until Ready, at most [`MAX_POLLS`] times.
    fn wait_mdio_ready(&self) -> Result<(), Error> {
        for _ in 0..MAX_POLLS {
            if self.mac.mcr().is_set(MCR::READY) {
                return Ok(());
            }
            core::hint::spin_loop();
        }
        Err(Error::Timeout)
    }

    /// Reads register `register` of PHY `phy`, waiting (bounded) for the
    /// MDIO interface before and after. MDIO must be enabled (it is when
    /// the [`Config`](crate::Config) names a PHY).
    pub fn mdio_read(&mut self, phy: u8, register: u8) -> Result<u16, Error> {
        let address = mdio_address(phy, register)?;
        self.wait_mdio_ready()?;
        self.mac.mcr().write(address + MCR::OP::Read + MCR::INITIATE::SET);
        self.wait_mdio_ready()?;
        Ok(self.mac.mrd().read(MDIO_DATA::DATA) as u16)
    }

    /// Writes `value` to register `register` of PHY `phy`.
    pub fn mdio_write(&mut self, phy: u8, register: u8, value: u16) -> Result<(), Error> {
        let address = mdio_address(phy, register)?;
        self.wait_mdio_ready()?;
        self.mac.mwd().write(MDIO_DATA::DATA.val(u32::from(value)));
        self.mac.mcr().write(address + MCR::OP::Write + MCR::INITIATE::SET);
        self.wait_mdio_ready()
    }

    /// The link state in the configured PHY's BMSR (read twice: the bit
    /// latches low until read). Without a configured PHY the link is taken
    /// as up; a PHY that does not answer (all ones) as down.
    pub fn phy_link_up(&mut self) -> Result<bool, Error> {
        let Some(phy) = self.config.phy_address else {
            return Ok(true);
        };
        self.mdio_read(phy, PHY_BMSR)?;
        let status = self.mdio_read(phy, PHY_BMSR)?;
        Ok(status != NO_PHY && status & BMSR_LINK_STATUS != 0)
    }
}
