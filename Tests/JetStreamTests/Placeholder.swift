import Testing

@Test func jetStreamPlaceholder() {}
