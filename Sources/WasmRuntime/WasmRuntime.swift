// WebAssembly (WASI preview1 command) functions on JavaScriptCore: see FunctionContract.swift in NexHostServices.
