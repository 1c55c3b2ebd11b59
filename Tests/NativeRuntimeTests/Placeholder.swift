import Testing

@Test func nativeRuntimePlaceholder() {}
