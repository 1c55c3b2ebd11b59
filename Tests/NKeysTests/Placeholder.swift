import Testing

@Test func placeholderNKeysTests() {}
