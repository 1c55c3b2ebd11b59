/// CRC-16/XMODEM (polynomial 0x1021, initial value 0), the checksum nkeys append to every key.
enum CRC16 {
    private static let table: [UInt16] = (0..<256).map { index -> UInt16 in
        var crc = UInt16(index) << 8
        for _ in 0..<8 {
            crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1
        }
        return crc
    }

    static func checksum(_ bytes: some Sequence<UInt8>) -> UInt16 {
        var crc: UInt16 = 0
        for byte in bytes {
            crc = (crc << 8) ^ table[Int(UInt8(truncatingIfNeeded: crc >> 8) ^ byte)]
        }
        return crc
    }

    /// The checksum as the two trailing bytes of an encoded key (little-endian, as nats-io/nkeys).
    static func trailer(_ bytes: some Sequence<UInt8>) -> [UInt8] {
        let crc = checksum(bytes)
        return [UInt8(truncatingIfNeeded: crc), UInt8(truncatingIfNeeded: crc >> 8)]
    }
}
