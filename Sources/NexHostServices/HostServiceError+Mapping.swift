import AsyncHTTPClient
import JetStream
import NATS
import NIOCore

extension HostServiceError {
    /// Classifies a failure of the layers underneath once, so guest code sees a code it can act on and a
    /// message that names the operation (`kv get: …`).
    static func from(_ error: any Error, operation: String) -> HostServiceError {
        if let error = error as? HostServiceError {
            return error
        }
        if let error = error as? KeyValueError {
            switch error.code {
            case .invalidBucketName, .invalidKey, .valueTooLarge:
                return HostServiceError(code: .invalidArgument, message: "\(operation): \(error.message)")
            default:
                if let underlying = error.jetStreamError { return from(underlying, operation: operation) }
                return HostServiceError(code: .failed, message: "\(operation): \(error.message)")
            }
        }
        if let error = error as? ObjectStoreError {
            switch error.code {
            case .invalidBucketName, .invalidObjectName:
                return HostServiceError(code: .invalidArgument, message: "\(operation): \(error.message)")
            default:
                if let underlying = error.underlying { return from(underlying, operation: operation) }
                return HostServiceError(code: .failed, message: "\(operation): \(error.message)")
            }
        }
        if let error = error as? JetStreamError {
            switch error.code {
            case .timeout:
                return HostServiceError(code: .timeout, message: "\(operation): JetStream did not answer in time")
            case .notEnabled:
                return HostServiceError(code: .failed, message: "\(operation): JetStream is not enabled for this account")
            case .client:
                if let underlying = error.underlying { return from(underlying, operation: operation) }
                return HostServiceError(code: .failed, message: "\(operation): \(error.message)")
            default:
                return HostServiceError(code: .failed, message: "\(operation): \(error.message)")
            }
        }
        if let error = error as? NATSError {
            switch error.code {
            case .timeout:
                return HostServiceError(code: .timeout, message: "\(operation): no reply in time")
            case .noResponders:
                return HostServiceError(code: .noResponders, message: "\(operation): no responders")
            case .invalidSubject, .maxPayloadExceeded:
                return HostServiceError(code: .invalidArgument, message: "\(operation): \(error.message)")
            default:
                return HostServiceError(code: .failed, message: "\(operation): \(error.message)")
            }
        }
        if let error = error as? HTTPClientError {
            let timeouts: [HTTPClientError] = [.deadlineExceeded, .readTimeout, .writeTimeout, .connectTimeout,
                                               .tlsHandshakeTimeout, .getConnectionFromPoolTimeout]
            if timeouts.contains(error) {
                return HostServiceError(code: .timeout, message: "\(operation): timed out")
            }
            if [HTTPClientError.invalidURL, .emptyHost, .emptyScheme].contains(error) {
                return HostServiceError(code: .invalidArgument, message: "\(operation): \(error)")
            }
            return HostServiceError(code: .failed, message: "\(operation): \(error)")
        }
        if let error = error as? NIOTooManyBytesError {
            return HostServiceError(code: .failed,
                                    message: "\(operation): response larger than \(error.maxBytes.map(String.init) ?? "the limit") bytes")
        }
        if error is CancellationError {
            return HostServiceError(code: .failed, message: "\(operation): cancelled")
        }
        return HostServiceError(code: .failed, message: "\(operation): \(error)")
    }
}
