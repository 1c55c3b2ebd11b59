import NIOCore

/// Encoding of client operations. Every function appends one complete operation, line end included.
///
/// Subjects and queue groups are written as given: validate them with `SubjectValidation` where they come from
/// outside, since a blank or line break in a subject would change the meaning of the line.
extension ByteBuffer {
    /// Writes `CONNECT {json}\r\n`.
    ///
    /// - Throws: the JSON encoder's error (which does not happen for the values `ConnectInfo` can hold).
    public mutating func writeConnect(_ info: ConnectInfo) throws {
        let json = try info.jsonBytes()
        self.reserveCapacity(minimumWritableBytes: json.count + 10)
        self.writeStaticString("CONNECT ")
        self.writeBytes(json)
        self.writeStaticString("\r\n")
    }

    /// Writes `PUB subject [reply] size\r\npayload\r\n`, or `HPUB subject [reply] headerSize totalSize\r\n`
    /// followed by the header block and payload when `headers` is non-nil and not empty.
    public mutating func writePublish(subject: String, replyTo: String?, headers: NATSHeaders?, payload: ByteBuffer) {
        var payload = payload
        self.writePublishHead(subject: subject, replyTo: replyTo, headers: headers, payloadLength: payload.readableBytes)
        self.writeBuffer(&payload)
        self.writeStaticString("\r\n")
    }

    /// Like `writePublish(subject:replyTo:headers:payload:)` with the payload in raw memory.
    public mutating func writePublish(
        subject: String,
        replyTo: String?,
        headers: NATSHeaders?,
        payload: UnsafeRawBufferPointer
    ) {
        self.writePublishHead(subject: subject, replyTo: replyTo, headers: headers, payloadLength: payload.count)
        self.writeBytes(payload)
        self.writeStaticString("\r\n")
    }

    /// Writes the control line (and the header block, for HPUB), reserving room for the whole operation once.
    private mutating func writePublishHead(
        subject: String,
        replyTo: String?,
        headers: NATSHeaders?,
        payloadLength: Int
    ) {
        let replyLength = replyTo.map { $0.utf8.count + 1 } ?? 0
        if let headers, !headers.isEmpty {
            let headerLength = headers.encodedByteCount
            let totalLength = headerLength + payloadLength
            // "HPUB " + subject + [" " reply] + " " + hdr + " " + total + "\r\n" + block + payload + "\r\n"
            self.reserveCapacity(
                minimumWritableBytes: 5 + subject.utf8.count + replyLength + 2 + 40 + 2 + totalLength + 2
            )
            self.writeStaticString("HPUB ")
            self.writeString(subject)
            if let replyTo {
                self.writeInteger(UInt8(ascii: " "))
                self.writeString(replyTo)
            }
            self.writeInteger(UInt8(ascii: " "))
            self.writeDecimal(UInt64(headerLength))
            self.writeInteger(UInt8(ascii: " "))
            self.writeDecimal(UInt64(totalLength))
            self.writeStaticString("\r\n")
            self.writeHeaders(headers)
        } else {
            self.reserveCapacity(minimumWritableBytes: 4 + subject.utf8.count + replyLength + 1 + 20 + 2 + payloadLength + 2)
            self.writeStaticString("PUB ")
            self.writeString(subject)
            if let replyTo {
                self.writeInteger(UInt8(ascii: " "))
                self.writeString(replyTo)
            }
            self.writeInteger(UInt8(ascii: " "))
            self.writeDecimal(UInt64(payloadLength))
            self.writeStaticString("\r\n")
        }
    }

    /// Writes `SUB subject [queue] sid\r\n`.
    public mutating func writeSubscribe(sid: UInt64, subject: String, queue: String?) {
        self.writeStaticString("SUB ")
        self.writeString(subject)
        if let queue {
            self.writeInteger(UInt8(ascii: " "))
            self.writeString(queue)
        }
        self.writeInteger(UInt8(ascii: " "))
        self.writeDecimal(sid)
        self.writeStaticString("\r\n")
    }

    /// Writes `UNSUB sid [max]\r\n`; with `max` the server unsubscribes after that many more messages.
    /// A negative `max` is written as 0 (unsubscribe now), since the protocol has no negative counts.
    public mutating func writeUnsubscribe(sid: UInt64, max: Int?) {
        self.writeStaticString("UNSUB ")
        self.writeDecimal(sid)
        if let max {
            self.writeInteger(UInt8(ascii: " "))
            self.writeDecimal(UInt64(Swift.max(max, 0)))
        }
        self.writeStaticString("\r\n")
    }

    /// Writes `PING\r\n`.
    public mutating func writePing() {
        self.writeStaticString("PING\r\n")
    }

    /// Writes `PONG\r\n`.
    public mutating func writePong() {
        self.writeStaticString("PONG\r\n")
    }
}
