import Testing

@Test func nexCLIPlaceholder() {}
