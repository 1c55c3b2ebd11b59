// NativeRuntime
