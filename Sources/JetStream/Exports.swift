@_exported import NATS
