// NATSTestSupport
