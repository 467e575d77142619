//! Behavioural model of a GICv1 with one CPU interface, for host tests.

use std::vec::Vec;

use ferrode_hal::RegisterModel;

use crate::regs::Register;

pub struct ModelGic {
    pub lines: usize,
    pub distributor_enabled: bool,
    pub cpu_interface_enabled: bool,
    pub enabled: Vec<bool>,
    pub pending: Vec<bool>,
    pub active: Vec<bool>,
    pub priority: Vec<u8>,
    pub targets: Vec<u8>,
    pub config: Vec<u32>,
    pub priority_mask: u32,
    pub binary_point: u32,
    /// Raw ICCEOIR writes, in order.
    pub end_of_interrupts: Vec<u32>,
    /// Raw ICDSGIR writes, in order.
    pub software_interrupts: Vec<u32>,
    /// Level-sensitive inputs whose device holds its line asserted: such an
    /// interrupt becomes pending again at end of interrupt (GIC
    /// architecture 3.2.4) until its handler clears the device.
    pub asserted: Vec<bool>,
    /// For each pending SGI, the CPU that sent it: ICCIAR reports it in
    /// bits 12:10 (GIC architecture 4.4.4).
    pub sgi_source: Vec<u8>,
}

impl ModelGic {
    /// A GIC with `lines` interrupt IDs (a multiple of 32), in its reset
    /// state but with junk left by a previous boot in the SPI settings.
    pub fn new(lines: usize) -> Self {
        Self {
            lines,
            distributor_enabled: false,
            cpu_interface_enabled: false,
            enabled: std::vec![true; lines],
            pending: (0..lines).map(|id| id >= 32).collect(),
            active: std::vec![false; lines],
            priority: std::vec![0; lines],
            targets: std::vec![0; lines],
            config: std::vec![0xaaaa_aaaa; lines / 16],
            priority_mask: 0,
            binary_point: 0,
            end_of_interrupts: Vec::new(),
            software_interrupts: Vec::new(),
            asserted: std::vec![false; lines],
            sgi_source: std::vec![0; 16],
        }
    }

    /// The interrupt the CPU interface would signal, as ICCIAR computes it.
    fn highest_pending(&self) -> Option<usize> {
        if !self.distributor_enabled || !self.cpu_interface_enabled {
            return None;
        }
        (0..self.lines)
            .filter(|&id| self.pending[id] && self.enabled[id] && !self.active[id])
            .filter(|&id| u32::from(self.priority[id]) < self.priority_mask)
            .min_by_key(|&id| (self.priority[id], id))
    }

    fn bits(flags: &[bool], word: usize) -> u32 {
        (0..32).filter(|&bit| flags[word * 32 + bit]).fold(0, |acc, bit| acc | (1 << bit))
    }

    fn apply_bits(flags: &mut [bool], word: usize, value: u32, set: bool) {
        for bit in (0..32).filter(|&bit| value & (1 << bit) != 0) {
            flags[word * 32 + bit] = set;
        }
    }

    fn bytes(bytes: &[u8], word: usize) -> u32 {
        u32::from_le_bytes(bytes[word * 4..word * 4 + 4].try_into().unwrap())
    }
}

impl RegisterModel<Register> for ModelGic {
    fn read(&mut self, register: Register) -> u32 {
        match register {
            Register::Icddcr => u32::from(self.distributor_enabled),
            Register::Icdictr => (self.lines / 32 - 1) as u32,
            Register::Icdiser(n) | Register::Icdicer(n) => Self::bits(&self.enabled, n),
            Register::Icdispr(n) | Register::Icdicpr(n) => Self::bits(&self.pending, n),
            Register::Icdipr(n) => Self::bytes(&self.priority, n),
            Register::Icdiptr(n) => Self::bytes(&self.targets, n),
            Register::Icdicfr(n) => self.config[n],
            Register::Iccicr => u32::from(self.cpu_interface_enabled),
            Register::Iccpmr => self.priority_mask,
            Register::Iccbpr => self.binary_point,
            Register::Icciar => match self.highest_pending() {
                Some(id) => {
                    self.pending[id] = false;
                    self.active[id] = true;
                    let source = self.sgi_source.get(id).copied().unwrap_or(0);
                    (u32::from(source) << 10) | id as u32
                }
                None => 1023,
            },
            Register::Icchpir => self.highest_pending().map_or(1023, |id| id as u32),
            Register::Icdsgir | Register::Icceoir => 0,
        }
    }

    fn write(&mut self, register: Register, value: u32) {
        match register {
            Register::Icddcr => self.distributor_enabled = value & 1 != 0,
            Register::Icdiser(n) => Self::apply_bits(&mut self.enabled, n, value, true),
            Register::Icdicer(n) => Self::apply_bits(&mut self.enabled, n, value, false),
            Register::Icdispr(n) => Self::apply_bits(&mut self.pending, n, value, true),
            Register::Icdicpr(n) => Self::apply_bits(&mut self.pending, n, value, false),
            Register::Icdipr(n) => {
                self.priority[n * 4..n * 4 + 4].copy_from_slice(&value.to_le_bytes())
            }
            Register::Icdiptr(n) => {
                self.targets[n * 4..n * 4 + 4].copy_from_slice(&value.to_le_bytes())
            }
            Register::Icdicfr(n) => self.config[n] = value,
            Register::Icdsgir => self.software_interrupts.push(value),
            Register::Iccicr => self.cpu_interface_enabled = value & 1 != 0,
            Register::Iccpmr => self.priority_mask = value & 0xff,
            Register::Iccbpr => self.binary_point = value & 7,
            Register::Icceoir => {
                self.end_of_interrupts.push(value);
                let id = (value & 0x3ff) as usize;
                if let Some(active) = self.active.get_mut(id) {
                    *active = false;
                    if self.asserted[id] {
                        self.pending[id] = true;
                    }
                }
            }
            Register::Icdictr | Register::Icciar | Register::Icchpir => {}
        }
    }
}
