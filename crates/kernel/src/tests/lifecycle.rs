//! Host tests of how threads and components end: killing a thread in
//! every state it can be in, destroying a component, reaping, and what
//! each leaves behind for the others.
