// NATSProtocol
