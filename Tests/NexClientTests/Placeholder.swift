import Testing

@Test func nexClientPlaceholder() {}
