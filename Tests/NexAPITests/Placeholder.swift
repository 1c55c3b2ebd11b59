import Testing

@Test func nexAPIPlaceholder() {}
