@_exported import NATSProtocol
