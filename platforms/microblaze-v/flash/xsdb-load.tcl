# Ferrode: load an image into a MicroBlaze V over JTAG with AMD's xsdb.
# The FPGA must already be configured with the design (bitstream).
#
#   xsdb platforms/microblaze-v/flash/xsdb-load.tcl IMAGE.elf [TARGET-FILTER] [HW-SERVER-URL]
#
# TARGET-FILTER picks the hart among `targets` (default "Hart #0*", the
# first MicroBlaze V core); HW-SERVER-URL is a remote hw_server
# (default: a local one, started if needed). `cargo xtask flash --board
# microblaze-v --app APP --jtag` runs this script.

if { [llength $argv] < 1 } {
    puts stderr "usage: xsdb xsdb-load.tcl IMAGE.elf ?TARGET-FILTER? ?HW-SERVER-URL?"
    exit 2
}
set elf [lindex $argv 0]
set filter [expr { [llength $argv] > 1 ? [lindex $argv 1] : "Hart #0*" }]

if { [llength $argv] > 2 } {
    connect -url [lindex $argv 2]
} else {
    connect
}
if { [catch { targets -set -nocase -filter "name =~ \"$filter\"" } error] } {
    puts stderr "no target matches \"$filter\" ($error); the targets are:"
    puts stderr [targets]
    exit 1
}
# Reset the hart only (not the whole system), stop it, load, start.
rst -processor
catch { stop }
dow $elf
verify $elf
con
puts "ferrode: $elf running on \"$filter\""
disconnect
