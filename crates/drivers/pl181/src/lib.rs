//! Arm PrimeCell PL181 MultiMedia Card Interface driver (in progress).
#![no_std]
#![deny(unsafe_code)]
