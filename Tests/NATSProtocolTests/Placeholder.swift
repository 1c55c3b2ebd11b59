import Testing

@Test func placeholderNATSProtocolTests() {}
