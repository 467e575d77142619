//! The kernel's fixed tables, indexed without a panic site per index.

use core::ops::{Deref, DerefMut, Index, IndexMut};

/// A fixed table of `N` entries, laid out as the array it wraps (the
/// assembly fast paths read the threads, objects and capability spaces
/// at fixed offsets).
///
/// Indexing by position checks the bound as an array does, but a miss
/// (a kernel bug: every id the kernel stores names an entry) ends in one
/// shared panic, [`out_of_range`], instead of a panic call and location
/// per indexing site; the kernel indexes its tables about a hundred times,
/// and those sites cost every image about 2 KiB of text.
#[repr(transparent)]
pub(crate) struct Table<T, const N: usize>(pub(crate) [T; N]);

impl<T, const N: usize> Index<usize> for Table<T, N> {
    type Output = T;

    #[inline(always)]
    fn index(&self, index: usize) -> &T {
        match self.0.get(index) {
            Some(entry) => entry,
            None => out_of_range(),
        }
    }
}

impl<T, const N: usize> IndexMut<usize> for Table<T, N> {
    #[inline(always)]
    fn index_mut(&mut self, index: usize) -> &mut T {
        match self.0.get_mut(index) {
            Some(entry) => entry,
            None => out_of_range(),
        }
    }
}

impl<T, const N: usize> Deref for Table<T, N> {
    type Target = [T; N];

    #[inline(always)]
    fn deref(&self) -> &[T; N] {
        &self.0
    }
}

impl<T, const N: usize> DerefMut for Table<T, N> {
    #[inline(always)]
    fn deref_mut(&mut self) -> &mut [T; N] {
        &mut self.0
    }
}

/// An index past a kernel table: the kernel's state is broken, and the
/// image ends (a kernel panic runs with interrupts masked).
#[cold]
#[inline(never)]
fn out_of_range() -> ! {
    panic!("Ferrode kernel: a table index out of range")
}

impl<'a, T, const N: usize> IntoIterator for &'a Table<T, N> {
    type Item = &'a T;
    type IntoIter = core::slice::Iter<'a, T>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl<'a, T, const N: usize> IntoIterator for &'a mut Table<T, N> {
    type Item = &'a mut T;
    type IntoIter = core::slice::IterMut<'a, T>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter_mut()
    }
}

#[cfg(test)]
mod tests {
    use super::Table;

    #[test]
    fn indexing_reads_and_writes_the_entry_it_names() {
        let mut table = Table([10u32, 20, 30]);
        table[1] += 5;
        assert_eq!((table[0], table[1], table[2]), (10, 25, 30));
        assert_eq!(table.iter().sum::<u32>(), 65);
        for entry in &mut table {
            *entry += 1;
        }
        assert_eq!((&table).into_iter().copied().collect::<std::vec::Vec<_>>(), [11, 26, 31]);
    }

    #[test]
    #[should_panic(expected = "table index out of range")]
    fn an_index_past_the_table_panics() {
        let table = Table([0u8; 4]);
        let _ = table[4];
    }

    #[test]
    #[should_panic(expected = "table index out of range")]
    fn a_mutable_index_past_the_table_panics() {
        let mut table = Table([0u8; 4]);
        table[usize::MAX] = 1;
    }
}
