//! Host tests: the TRM's enable and disable sequences against the model,
//! the errata workarounds each RTL release gets, and the identification,
//! geometry and latency fields decoded.

use core::cell::RefCell;

use std::vec::Vec;

use crate::model::{AUX_CONTROL_AT_RESET, DCL_DWB, ModelL2c, QEMU_CACHE_ID, l2c_310_id};
use crate::{
    CacheId, Errata, Error, Geometry, Operation, POLL_LIMIT, Pl310, RamLatency, Register, Revision,
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
        // r1p0, r2p0 and r3p1: the rest of the TRM's table of RTL
        // releases (cargo-mutants deleted their arms unnoticed).
        (0x4100_00c2, 0, 0b0011, Some((1, 0))),
        (0x4100_00c4, 0, 0b0011, Some((2, 0))),
        (0x4100_00c6, 0, 0b0011, Some((3, 1))),
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

// The errata workarounds, release by release.

const R0P0: u8 = 0x0;
const R1P0: u8 = 0x2;
const R2P0: u8 = 0x4;
const R3P0: u8 = 0x5;
const R3P1: u8 = 0x6;
const R3P2: u8 = 0x8;
const R3P3: u8 = 0x9;

/// Debug Control with DCL and DWB set, and cleared.
const GUARD: (Register, u32) = (Register::DebugControl, DCL_DWB);
const UNGUARD: (Register, u32) = (Register::DebugControl, 0);
const CLEAN: (Register, u32) = (Register::CleanByWay, 0xff);
const INVALIDATE: (Register, u32) = (Register::InvalidateByWay, 0xff);
const CLEAN_INVALIDATE: (Register, u32) = (Register::CleanInvalidateByWay, 0xff);
const CACHE_SYNC: (Register, u32) = (Register::CacheSync, 0);
const DUMMY_SYNC: (Register, u32) = (Register::Dummy, 0);

/// The writes each sequence makes on one release: `enable` from reset,
/// `sync`, `clean_all`, `clean_invalidate_all` and `disable` on a cache in
/// use.
struct Expected {
    enable: Vec<(Register, u32)>,
    sync: Vec<(Register, u32)>,
    clean_all: Vec<(Register, u32)>,
    clean_invalidate_all: Vec<(Register, u32)>,
    disable: Vec<(Register, u32)>,
}

/// Runs every sequence against a model of release `rtl_release` and
/// checks its writes against `expected` and that each leaves the cache as
/// it must: on, off, written back, empty, Debug Control cleared, and the
/// store buffer not stuck (erratum 753970).
fn check_release(rtl_release: u8, expected: &Expected) {
    let release = |start: ModelL2c| driver(start.of_release(rtl_release));
    let in_use = || release(ModelL2c::enabled_and_dirty(AUX_CONTROL_AT_RESET));
    let settled = |after: &ModelL2c| {
        assert_eq!(after.debug_control, 0, "{rtl_release:#x}: Debug Control cleared");
        assert!(!after.store_buffer_stuck_draining, "{rtl_release:#x}: erratum 753970 hit");
    };

    let mut l2 = release(ModelL2c::at_reset(AUX_CONTROL_AT_RESET));
    l2.enable().unwrap();
    let after = model(l2);
    assert_eq!(after.writes, expected.enable, "{rtl_release:#x}: enable");
    assert!(after.enabled() && after.garbage == 0, "{rtl_release:#x}: on over no garbage");
    settled(&after);

    let mut l2 = in_use();
    l2.sync().unwrap();
    let after = model(l2);
    assert_eq!(after.writes, expected.sync, "{rtl_release:#x}: sync");
    settled(&after);

    let mut l2 = in_use();
    l2.clean_all().unwrap();
    let after = model(l2);
    assert_eq!(after.writes, expected.clean_all, "{rtl_release:#x}: clean_all");
    assert!(after.enabled(), "{rtl_release:#x}: clean_all keeps the cache on");
    assert_eq!((after.dirty, after.valid), (0, 0xff), "{rtl_release:#x}: clean, still valid");
    settled(&after);

    let mut l2 = in_use();
    l2.clean_invalidate_all().unwrap();
    let after = model(l2);
    assert_eq!(after.writes, expected.clean_invalidate_all, "{rtl_release:#x}: clean_invalidate");
    assert!(after.enabled(), "{rtl_release:#x}: clean_invalidate_all keeps the cache on");
    assert_eq!((after.dirty, after.valid), (0, 0), "{rtl_release:#x}: written back, empty");
    settled(&after);

    let mut l2 = in_use();
    l2.disable().unwrap();
    let after = model(l2);
    assert_eq!(after.writes, expected.disable, "{rtl_release:#x}: disable");
    assert!(!after.enabled(), "{rtl_release:#x}: off");
    assert_eq!((after.dirty, after.valid), (0, 0), "{rtl_release:#x}: no dirty line lost");
    settled(&after);
}

#[test]
fn the_errata_follow_the_rtl_release() {
    // (RTL release, 588369, 727915, 753970, 752271).
    let table = [
        (R0P0, true, false, false, false),
        (R1P0, true, false, false, false),
        (R2P0, false, true, false, false),
        (R3P0, false, true, true, true),
        (R3P1, false, false, false, true),
        (R3P2, false, false, false, false),
        (R3P3, false, false, false, false),
    ];
    for (rtl_release, e588369, e727915, e753970, e752271) in table {
        let l2 = driver(ModelL2c::at_reset(AUX_CONTROL_AT_RESET).of_release(rtl_release));
        assert_eq!(
            l2.errata(),
            Errata {
                clean_invalidate_keeps_clean_lines: e588369,
                background_clean_invalidate_loses_stores: e727915,
                cache_sync_faulty: e753970,
                double_linefill_corrupts_data: e752271,
            },
            "{rtl_release:#x}"
        );
    }
    assert_eq!(Errata::of(&CacheId::from_register(QEMU_CACHE_ID)), Errata::default());
}

#[test]
fn r0p0_and_r1p0_clean_then_invalidate_with_write_back_and_linefill_off() {
    // Erratum 588369: Clean and Invalidate by Way would leave the clean
    // lines valid; the sync between is the ordinary one.
    let clean_invalidate_all = [GUARD, CLEAN, CACHE_SYNC, INVALIDATE, UNGUARD, CACHE_SYNC].to_vec();
    let mut disable = clean_invalidate_all.clone();
    disable.push((Register::Control, 0));
    let expected = Expected {
        enable: [INVALIDATE, CACHE_SYNC, (Register::Control, 1)].to_vec(),
        sync: [CACHE_SYNC].to_vec(),
        clean_all: [CLEAN, CACHE_SYNC].to_vec(),
        clean_invalidate_all,
        disable,
    };
    check_release(R0P0, &expected);
    check_release(R1P0, &expected);
}

#[test]
fn r2p0_guards_the_operations_by_way_with_write_back_and_linefill_off() {
    // Erratum 727915.
    let expected = Expected {
        enable: [INVALIDATE, CACHE_SYNC, (Register::Control, 1)].to_vec(),
        sync: [CACHE_SYNC].to_vec(),
        clean_all: [GUARD, CLEAN, UNGUARD, CACHE_SYNC].to_vec(),
        clean_invalidate_all: [GUARD, CLEAN_INVALIDATE, UNGUARD, CACHE_SYNC].to_vec(),
        disable: [GUARD, CLEAN_INVALIDATE, UNGUARD, CACHE_SYNC, (Register::Control, 0)].to_vec(),
    };
    check_release(R2P0, &expected);
}

#[test]
fn r3p0_guards_the_operations_by_way_and_syncs_through_the_dummy_register() {
    // Errata 727915 and 753970: no write to Cache Sync at all.
    let expected = Expected {
        enable: [INVALIDATE, DUMMY_SYNC, (Register::Control, 1)].to_vec(),
        sync: [DUMMY_SYNC].to_vec(),
        clean_all: [GUARD, CLEAN, UNGUARD, DUMMY_SYNC].to_vec(),
        clean_invalidate_all: [GUARD, CLEAN_INVALIDATE, UNGUARD, DUMMY_SYNC].to_vec(),
        disable: [GUARD, CLEAN_INVALIDATE, UNGUARD, DUMMY_SYNC, (Register::Control, 0)].to_vec(),
    };
    check_release(R3P0, &expected);
}

#[test]
fn r3p1_and_later_need_no_workaround() {
    // 752271 (r3p1) is the Prefetch Control Register's, which the driver
    // never writes: the sequences are the TRM's own.
    let expected = Expected {
        enable: [INVALIDATE, CACHE_SYNC, (Register::Control, 1)].to_vec(),
        sync: [CACHE_SYNC].to_vec(),
        clean_all: [CLEAN, CACHE_SYNC].to_vec(),
        clean_invalidate_all: [CLEAN_INVALIDATE, CACHE_SYNC].to_vec(),
        disable: [CLEAN_INVALIDATE, CACHE_SYNC, (Register::Control, 0)].to_vec(),
    };
    for rtl_release in [R3P1, R3P2, R3P3] {
        check_release(rtl_release, &expected);
    }
}

#[test]
fn the_guarded_operations_finish_with_write_back_and_linefill_off() {
    for (rtl_release, operations) in [
        (R1P0, [Register::CleanByWay, Register::InvalidateByWay].as_slice()),
        (R2P0, [Register::CleanInvalidateByWay].as_slice()),
        (R3P0, [Register::CleanInvalidateByWay].as_slice()),
        (R3P2, [Register::CleanInvalidateByWay].as_slice()),
    ] {
        let mut l2 =
            driver(ModelL2c::enabled_and_dirty(AUX_CONTROL_AT_RESET).of_release(rtl_release));
        l2.clean_invalidate_all().unwrap();
        let debug = if rtl_release == R3P2 { 0 } else { DCL_DWB };
        let finished: Vec<_> = operations.iter().map(|&operation| (operation, debug)).collect();
        assert_eq!(model(l2).finished, finished, "{rtl_release:#x}");
    }
}

#[test]
fn a_guarded_disable_that_never_finishes_leaves_the_guard_up_and_the_cache_on() {
    for rtl_release in [R1P0, R2P0, R3P0] {
        let mut stuck = ModelL2c::enabled_and_dirty(AUX_CONTROL_AT_RESET).of_release(rtl_release);
        stuck.way_latency = None;
        let mut l2 = driver(stuck);
        let first = if rtl_release == R1P0 {
            Operation::CleanByWay
        } else {
            Operation::CleanInvalidateByWay
        };
        assert_eq!(l2.disable(), Err(Error::Timeout(first)), "{rtl_release:#x}");
        assert!(l2.is_enabled(), "{rtl_release:#x}");
        let model = model(l2);
        assert_eq!(model.debug_control, DCL_DWB, "{rtl_release:#x}: still write-through");
        assert_eq!(model.writes.first(), Some(&GUARD), "{rtl_release:#x}");
        assert_eq!(model.writes.len(), 2, "{rtl_release:#x}: {:?}", model.writes);
    }
}

// The model's errata, so that the tests above can fail.

#[test]
fn the_model_keeps_clean_lines_through_a_clean_and_invalidate_by_way_on_r1p0() {
    let mut model = ModelL2c::enabled_and_dirty(AUX_CONTROL_AT_RESET).of_release(R1P0);
    model.way_latency = Some(0);
    let l2 = RefCell::new(model);
    ferrode_hal::RegisterAccess::write(&l2, Register::CleanInvalidateByWay, 0xff);
    let model = l2.into_inner();
    assert_eq!((model.dirty, model.valid), (0, 0xff), "erratum 588369");
}

#[test]
#[should_panic(expected = "erratum 727915")]
fn the_model_rejects_an_unguarded_clean_and_invalidate_by_way_on_r2p0() {
    let l2 = RefCell::new(ModelL2c::enabled_and_dirty(AUX_CONTROL_AT_RESET).of_release(R2P0));
    ferrode_hal::RegisterAccess::write(&l2, Register::CleanInvalidateByWay, 0xff);
}

#[test]
#[should_panic(expected = "a store after the clean is dropped")]
fn the_model_rejects_an_unguarded_invalidation_of_an_enabled_cache() {
    let mut model = ModelL2c::enabled_and_dirty(AUX_CONTROL_AT_RESET);
    model.dirty = 0;
    let l2 = RefCell::new(model);
    ferrode_hal::RegisterAccess::write(&l2, Register::InvalidateByWay, 0xff);
}

#[test]
fn the_model_records_a_cache_sync_on_r3p0_only() {
    for (rtl_release, stuck) in [(R3P0, true), (R3P1, false)] {
        let l2 = RefCell::new(ModelL2c::at_reset(AUX_CONTROL_AT_RESET).of_release(rtl_release));
        ferrode_hal::RegisterAccess::write(&l2, Register::CacheSync, 0);
        assert_eq!(l2.into_inner().store_buffer_stuck_draining, stuck, "{rtl_release:#x}");
    }
    assert_eq!(l2c_310_id(R3P2), QEMU_CACHE_ID);
}

#[test]
fn each_timeout_names_the_operation_that_did_not_finish() {
    for (operation, text) in [
        (Operation::InvalidateByWay, "invalidate by way did not finish"),
        (Operation::CleanByWay, "clean by way did not finish"),
        (Operation::CleanInvalidateByWay, "clean and invalidate by way did not finish"),
        (Operation::CacheSync, "cache sync did not finish"),
    ] {
        assert_eq!(std::format!("{}", Error::Timeout(operation)), text);
    }
}
