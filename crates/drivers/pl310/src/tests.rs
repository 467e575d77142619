//! Host tests: the TRM's enable and disable sequences against the model,
//! and the identification, geometry and latency fields decoded.

use core::cell::RefCell;

use crate::model::{AUX_CONTROL_AT_RESET, ModelL2c, QEMU_CACHE_ID};
use crate::{
    CacheId, Error, Geometry, Operation, POLL_LIMIT, Pl310, RamLatency, Register, Revision,
};

/// Auxiliary Control bit 16: 16 ways.
const SIXTEEN_WAYS: u32 = 1 << 16;
const KIB: u32 = 1024;

type Driver = Pl310<RefCell<ModelL2c>>;

fn driver(model: ModelL2c) -> Driver {
    Pl310::new(RefCell::new(model))
}

fn model(driver: Driver) -> ModelL2c {
    driver.release().into_inner()
}

#[test]
fn enable_invalidates_every_way_and_syncs_before_setting_the_enable_bit() {
    let mut l2 = driver(ModelL2c::at_reset(AUX_CONTROL_AT_RESET));
    assert!(!l2.is_enabled());
    l2.enable().unwrap();
    assert!(l2.is_enabled());
    let model = model(l2);
    assert_eq!(
        model.writes,
        [(Register::InvalidateByWay, 0xff), (Register::CacheSync, 0), (Register::Control, 1)]
    );
    assert_eq!(model.garbage, 0);
    assert_eq!(model.aux_control, AUX_CONTROL_AT_RESET, "Auxiliary Control as reset left it");
}

#[test]
fn a_16_way_cache_is_invalidated_with_a_16_bit_way_mask() {
    let mut l2 = driver(ModelL2c::at_reset(AUX_CONTROL_AT_RESET | SIXTEEN_WAYS));
    l2.enable().unwrap();
    let model = model(l2);
    assert_eq!(model.writes[0], (Register::InvalidateByWay, 0xffff));
    assert_eq!(model.garbage, 0, "every way invalidated before the enable");
}

#[test]
fn way_masks_have_a_bit_per_way_and_no_more() {
    assert_eq!(Geometry { ways: 8, way_size: 16 * KIB }.way_mask(), 0xff);
    assert_eq!(Geometry { ways: 16, way_size: 512 * KIB }.way_mask(), 0xffff);
}

#[test]
fn enabling_an_enabled_cache_writes_nothing() {
    let mut l2 = driver(ModelL2c::enabled_and_dirty(AUX_CONTROL_AT_RESET));
    l2.enable().unwrap();
    let model = model(l2);
    assert!(model.writes.is_empty(), "{:?}", model.writes);
    assert_eq!(model.dirty, 0xff, "the dirty lines are still there");
}

#[test]
fn an_invalidation_that_never_finishes_times_out_and_leaves_the_cache_off() {
    let mut stuck = ModelL2c::at_reset(AUX_CONTROL_AT_RESET);
    stuck.way_latency = None;
    let mut l2 = driver(stuck);
    assert_eq!(l2.enable(), Err(Error::Timeout(Operation::InvalidateByWay)));
    assert!(!l2.is_enabled());
    assert_eq!(model(l2).writes, [(Register::InvalidateByWay, 0xff)]);
}

#[test]
fn a_sync_that_never_finishes_times_out_before_the_enable_bit() {
    let mut stuck = ModelL2c::at_reset(AUX_CONTROL_AT_RESET);
    stuck.sync_latency = None;
    let mut l2 = driver(stuck);
    assert_eq!(l2.enable(), Err(Error::Timeout(Operation::CacheSync)));
    assert!(!l2.is_enabled());
    assert_eq!(model(l2).writes, [(Register::InvalidateByWay, 0xff), (Register::CacheSync, 0)]);
}

#[test]
fn the_poll_gives_up_after_exactly_the_limit() {
    // Done on the last read allowed: waited for.
    let mut slow = ModelL2c::at_reset(AUX_CONTROL_AT_RESET);
    slow.way_latency = Some(POLL_LIMIT - 1);
    let mut l2 = driver(slow);
    assert_eq!(l2.enable(), Ok(()));
    // One read later: given up.
    let mut slower = ModelL2c::at_reset(AUX_CONTROL_AT_RESET);
    slower.way_latency = Some(POLL_LIMIT);
    let mut l2 = driver(slower);
    assert_eq!(l2.enable(), Err(Error::Timeout(Operation::InvalidateByWay)));
}

#[test]
fn disable_cleans_and_invalidates_every_way_and_syncs_before_clearing_the_enable_bit() {
    let mut l2 = driver(ModelL2c::enabled_and_dirty(AUX_CONTROL_AT_RESET | SIXTEEN_WAYS));
    l2.disable().unwrap();
    assert!(!l2.is_enabled());
    let model = model(l2);
    assert_eq!(
        model.writes,
        [
            (Register::CleanInvalidateByWay, 0xffff),
            (Register::CacheSync, 0),
            (Register::Control, 0)
        ]
    );
    assert_eq!((model.dirty, model.garbage), (0, 0), "written back and empty");
}

#[test]
fn a_disable_whose_clean_never_finishes_leaves_the_cache_on() {
    let mut stuck = ModelL2c::enabled_and_dirty(AUX_CONTROL_AT_RESET);
    stuck.way_latency = None;
    let mut l2 = driver(stuck);
    assert_eq!(l2.disable(), Err(Error::Timeout(Operation::CleanInvalidateByWay)));
    assert!(l2.is_enabled(), "its dirty lines are still in it");
}

#[test]
fn disabling_a_disabled_cache_writes_nothing() {
    let mut l2 = driver(ModelL2c::at_reset(AUX_CONTROL_AT_RESET));
    l2.disable().unwrap();
    assert!(model(l2).writes.is_empty());
}

#[test]
fn clean_all_writes_dirty_lines_back_and_keeps_the_cache_on() {
    let mut l2 = driver(ModelL2c::enabled_and_dirty(AUX_CONTROL_AT_RESET));
    l2.clean_all().unwrap();
    assert!(l2.is_enabled());
    let model = model(l2);
    assert_eq!(model.writes, [(Register::CleanByWay, 0xff), (Register::CacheSync, 0)]);
    assert_eq!(model.dirty, 0);
}

#[test]
fn clean_invalidate_all_leaves_an_enabled_cache_on_and_empty() {
    let mut l2 = driver(ModelL2c::enabled_and_dirty(AUX_CONTROL_AT_RESET));
    l2.clean_invalidate_all().unwrap();
    l2.sync().unwrap();
    assert!(l2.is_enabled());
    let model = model(l2);
    assert_eq!(
        model.writes,
        [
            (Register::CleanInvalidateByWay, 0xff),
            (Register::CacheSync, 0),
            (Register::CacheSync, 0)
        ]
    );
    assert_eq!(model.dirty, 0);
}

#[test]
fn geometry_follows_the_auxiliary_control_registers_way_size_and_associativity() {
    // (Auxiliary Control, ways, way size, total).
    let table = [
        // Reset value (and QEMU's): 8 ways of 16 KiB.
        (AUX_CONTROL_AT_RESET, 8, 16 * KIB, 128 * KIB),
        // Way size 0b011, 8 ways: the Zynq-7000's 512 KiB.
        (0x0206_0000, 8, 64 * KIB, 512 * KIB),
        (0x0206_0000 | SIXTEEN_WAYS, 16, 64 * KIB, 1024 * KIB),
        (0x020a_0000, 8, 256 * KIB, 2048 * KIB),
        (0x020c_0000 | SIXTEEN_WAYS, 16, 512 * KIB, 8192 * KIB),
        // The reserved encodings: 0b000 acts as 16 KiB, 0b111 as 512 KiB.
        (0x0200_0000, 8, 16 * KIB, 128 * KIB),
        (0x020e_0000, 8, 512 * KIB, 4096 * KIB),
        // Other fields (prefetch, force write allocate) change nothing.
        (0x3288_0000 | SIXTEEN_WAYS, 16, 128 * KIB, 2048 * KIB),
    ];
    for (aux_control, ways, way_size, size) in table {
        let geometry = Geometry::from_aux_control(aux_control);
        assert_eq!(geometry, Geometry { ways, way_size }, "{aux_control:#x}");
        assert_eq!(geometry.size(), size, "{aux_control:#x}");
    }
    assert_eq!(Geometry::from_aux_control(AUX_CONTROL_AT_RESET).sets(), 512);
}

#[test]
fn the_cache_id_names_the_part_and_its_release() {
    // (Cache ID, CACHEID pins, part number, revision).
    let table = [
        // QEMU's model: r3p2.
        (QEMU_CACHE_ID, 0, 0b0011, Some((3, 2))),
        // The r3p3 in Microchip's SAMA5D2.
        (0x4100_00c9, 0, 0b0011, Some((3, 3))),
        // CACHEID pins 1, r3p0.
        (0x4100_04c5, 1, 0b0011, Some((3, 0))),
        (0x4100_00c0, 0, 0b0011, Some((0, 0))),
        // An RTL release the TRM's table does not list.
        (0x4100_00c3, 0, 0b0011, None),
    ];
    for (value, cache_id, part_number, revision) in table {
        let id = CacheId::from_register(value);
        assert_eq!(id.implementer, CacheId::ARM, "{value:#x}");
        assert_eq!((id.cache_id, id.part_number), (cache_id, part_number), "{value:#x}");
        assert_eq!(
            id.revision(),
            revision.map(|(major, patch)| Revision { major, patch }),
            "{value:#x}"
        );
        assert!(id.is_l2c_310());
    }
    // An L210 (part 0b0001) is not an L2C-310, nor is another implementer's.
    assert!(!CacheId::from_register(0x4100_0041).is_l2c_310());
    assert!(!CacheId::from_register(0x4200_00c8).is_l2c_310());
}

#[test]
fn ram_latencies_are_the_fields_plus_one() {
    assert_eq!(RamLatency::from_register(0), RamLatency { setup: 1, read: 1, write: 1 });
    assert_eq!(RamLatency::from_register(0x0765), RamLatency { setup: 6, read: 7, write: 8 });
}

#[test]
fn the_driver_reads_what_the_controller_reports() {
    let mut reset = ModelL2c::at_reset(AUX_CONTROL_AT_RESET);
    reset.tag_ram_latency = 0x0111;
    reset.data_ram_latency = 0x0222;
    let l2 = driver(reset);
    assert_eq!(l2.id(), CacheId::from_register(QEMU_CACHE_ID));
    assert_eq!(l2.geometry(), Geometry { ways: 8, way_size: 16 * KIB });
    assert_eq!(l2.aux_control(), AUX_CONTROL_AT_RESET);
    // Cache Type's data way size (bits 22:20) mirrors Auxiliary Control.
    assert_eq!((l2.cache_type() >> 20) & 0b111, 1);
    assert_eq!(l2.tag_ram_latency(), RamLatency { setup: 2, read: 2, write: 2 });
    assert_eq!(l2.data_ram_latency(), RamLatency { setup: 3, read: 3, write: 3 });
    assert!(model(l2).writes.is_empty(), "reading writes nothing");
}
