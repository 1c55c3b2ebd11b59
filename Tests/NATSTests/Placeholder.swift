import Testing

@Test func placeholderNATSTests() {}
