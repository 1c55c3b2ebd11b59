// JavaScript functions on JavaScriptCore: see FunctionContract.swift in NexHostServices.
