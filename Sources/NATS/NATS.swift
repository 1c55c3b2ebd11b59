// NATS
