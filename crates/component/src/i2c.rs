//! How an I2c session's client turns embedded-hal's transactions into the
//! service's transfers ([`I2c::transfer`](crate::I2c::transfer)): the
//! writes, sent back to back, then the reads, one run. embedded-hal sends
//! adjacent operations of one kind without a repeated START, so those
//! transactions are exactly one transfer; a write after a read is not.

use embedded_hal::i2c::Operation;

use crate::I2C_CHUNK;

/// Why a transaction is not one transfer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransferError {
    /// A write after a read.
    Unsupported,
    /// More than [`I2C_CHUNK`] bytes written, or read.
    TooLong,
}

/// The transfer `operations` make: the bytes written, and how many are
/// read after them.
pub fn transfer_of(
    operations: &[Operation<'_>],
) -> Result<(heapless::Vec<u8, I2C_CHUNK>, usize), TransferError> {
    let mut write = heapless::Vec::new();
    let mut read = 0usize;
    let mut reading = false;
    for operation in operations {
        match operation {
            Operation::Write(_) if reading => return Err(TransferError::Unsupported),
            Operation::Write(bytes) => {
                write.extend_from_slice(bytes).map_err(|_| TransferError::TooLong)?
            }
            Operation::Read(buffer) => {
                reading = true;
                read += buffer.len();
            }
        }
    }
    if read > I2C_CHUNK {
        return Err(TransferError::TooLong);
    }
    Ok((write, read))
}

/// Hands the bytes a transfer read to `operations`' reads, in order;
/// false (nothing handed) unless there are exactly as many as they take.
pub fn scatter(data: &[u8], operations: &mut [Operation<'_>]) -> bool {
    let wanted: usize = operations
        .iter()
        .map(|operation| if let Operation::Read(buffer) = operation { buffer.len() } else { 0 })
        .sum();
    if wanted != data.len() {
        return false;
    }
    let mut rest = data;
    for operation in operations {
        if let Operation::Read(buffer) = operation {
            let (these, after) = rest.split_at(buffer.len());
            buffer.copy_from_slice(these);
            rest = after;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use embedded_hal::i2c::Operation;

    use super::{TransferError, scatter, transfer_of};
    use crate::I2C_CHUNK;

    #[test]
    fn writes_then_reads_are_one_transfer() {
        let mut a = [0u8; 2];
        let mut b = [0u8; 3];
        let ops = [
            Operation::Write(&[0x08]),
            Operation::Write(&[1, 2]),
            Operation::Read(&mut a),
            Operation::Read(&mut b),
        ];
        let (write, read) = transfer_of(&ops).unwrap();
        assert_eq!((write.as_slice(), read), (&[0x08, 1, 2][..], 5));
        assert_eq!(transfer_of(&[Operation::Write(&[7])]).unwrap().1, 0);
        let mut c = [0u8; 4];
        let (write, read) = transfer_of(&[Operation::Read(&mut c)]).unwrap();
        assert_eq!((write.len(), read), (0, 4));
        assert_eq!(transfer_of(&[]).unwrap().1, 0);
    }

    #[test]
    fn a_write_after_a_read_is_refused() {
        let mut a = [0u8; 1];
        let ops = [Operation::Write(&[1]), Operation::Read(&mut a), Operation::Write(&[2])];
        assert_eq!(transfer_of(&ops), Err(TransferError::Unsupported));
        // Also after an empty read: it was a read all the same.
        let mut none = [0u8; 0];
        let ops = [Operation::Read(&mut none), Operation::Write(&[2])];
        assert_eq!(transfer_of(&ops), Err(TransferError::Unsupported));
    }

    #[test]
    fn more_than_a_chunk_is_refused() {
        let big = [0u8; I2C_CHUNK + 1];
        assert_eq!(transfer_of(&[Operation::Write(&big)]), Err(TransferError::TooLong));
        let half = [0u8; I2C_CHUNK / 2 + 1];
        let ops = [Operation::Write(&half), Operation::Write(&half)];
        assert_eq!(transfer_of(&ops), Err(TransferError::TooLong));
        let full = [0u8; I2C_CHUNK];
        assert_eq!(transfer_of(&[Operation::Write(&full)]).unwrap().0.len(), I2C_CHUNK);
        let mut a = [0u8; I2C_CHUNK];
        let mut b = [0u8; 1];
        assert_eq!(
            transfer_of(&[Operation::Read(&mut a), Operation::Read(&mut b)]),
            Err(TransferError::TooLong)
        );
        let mut a = [0u8; I2C_CHUNK];
        assert_eq!(transfer_of(&[Operation::Read(&mut a)]).unwrap().1, I2C_CHUNK);
    }

    #[test]
    fn read_bytes_go_to_the_reads_in_order() {
        let mut a = [0u8; 2];
        let mut b = [0u8; 3];
        let mut ops = [Operation::Write(&[9]), Operation::Read(&mut a), Operation::Read(&mut b)];
        assert!(scatter(&[1, 2, 3, 4, 5], &mut ops));
        assert_eq!((a, b), ([1, 2], [3, 4, 5]));
        let mut c = [0u8; 2];
        let mut ops = [Operation::Read(&mut c)];
        assert!(!scatter(&[1, 2, 3], &mut ops), "more bytes than the reads take");
        assert!(!scatter(&[1], &mut ops), "fewer");
        assert_eq!(c, [0, 0], "nothing handed out");
    }
}
