import Testing

@Test func nexNodePlaceholder() {}
