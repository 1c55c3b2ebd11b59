import NIOCore
import Testing

@testable import NATSProtocol

/// Feeds `chunks` one after another into one accumulating buffer, the way a channel handler does, and decodes
/// everything complete after each chunk.
func decodeAll(_ chunks: [ByteBuffer], decoder: NATSProtocolDecoder = NATSProtocolDecoder()) throws -> [ServerOp] {
    var decoder = decoder
    var buffer = ByteBuffer()
    var ops: [ServerOp] = []
    for var chunk in chunks {
        buffer.writeBuffer(&chunk)
        while let op = try decoder.decode(buffer: &buffer) {
            ops.append(op)
        }
    }
    #expect(buffer.readableBytes == 0, "bytes left undecoded: \(String(buffer: buffer))")
    return ops
}

func decodeAll(_ chunks: [String], decoder: NATSProtocolDecoder = NATSProtocolDecoder()) throws -> [ServerOp] {
    try decodeAll(chunks.map { ByteBuffer(string: $0) }, decoder: decoder)
}

/// Decodes a single input that must be exactly one operation.
func decodeOne(_ input: String, decoder: NATSProtocolDecoder = NATSProtocolDecoder()) throws -> ServerOp? {
    let ops = try decodeAll([input], decoder: decoder)
    #expect(ops.count == 1)
    return ops.first
}

/// The error a malformed input produces, or nil if it decoded without one.
func decodeError(_ input: String, decoder: NATSProtocolDecoder = NATSProtocolDecoder()) -> NATSProtocolError? {
    var decoder = decoder
    var buffer = ByteBuffer(string: input)
    do {
        while try decoder.decode(buffer: &buffer) != nil {}
        return nil
    } catch let error as NATSProtocolError {
        return error
    } catch {
        Issue.record("unexpected error type: \(error)")
        return nil
    }
}

func message(
    _ subject: String,
    sid: UInt64,
    replyTo: String? = nil,
    headers: NATSHeaders? = nil,
    payload: String
) -> ServerOp {
    .message(InboundMessage(subject: subject, sid: sid, replyTo: replyTo, headers: headers, payload: ByteBuffer(string: payload)))
}

func headers(status: Int? = nil, description: String? = nil, _ fields: [(String, String)] = []) -> NATSHeaders {
    var headers = NATSHeaders()
    headers.status = status
    headers.statusDescription = description
    for (name, value) in fields {
        headers.append(value, for: name)
    }
    return headers
}

extension ServerOp {
    var inboundMessage: InboundMessage? {
        if case .message(let message) = self {
            return message
        }
        return nil
    }
}

/// The INFO line nats-server 2.9.10 sent to a client here (note the blank before the line end).
let realInfoLine = """
    INFO {"server_id":"NARVPGYFS2KTD5NS2WFDTFK4IPFA6BTWTSMKJRUPFDHLXKFDEKOT3ZZT","server_name":"proto-test",\
    "version":"2.9.10","proto":1,"go":"go1.19.8","host":"127.0.0.1","port":35979,"headers":true,\
    "max_payload":1048576,"jetstream":true,"client_id":4,"client_ip":"127.0.0.1"} \r\n
    """

let realInfo = ServerInfo(
    serverID: "NARVPGYFS2KTD5NS2WFDTFK4IPFA6BTWTSMKJRUPFDHLXKFDEKOT3ZZT",
    serverName: "proto-test",
    version: "2.9.10",
    goVersion: "go1.19.8",
    host: "127.0.0.1",
    port: 35979,
    headers: true,
    maxPayload: 1_048_576,
    protocolVersion: 1,
    clientID: 4,
    jetStream: true,
    clientIP: "127.0.0.1"
)
