// Conversions between Swift values and JavaScriptCore values, through the C API. All of these run on a worker
// thread that holds the context; none of them is thread-safe on its own.

import CJavaScriptCore

enum JSValues {
    /// A JS string for `text` (UTF-16, so NUL and any scalar survive).
    static func string(_ ctx: JSContextRef, _ text: String) -> JSValueRef {
        let ref = jsString(text)
        defer { JSStringRelease(ref) }
        return JSValueMakeString(ctx, ref)
    }

    /// A retained JSStringRef; the caller releases it.
    static func jsString(_ text: String) -> JSStringRef {
        let units = Array(text.utf16)
        return units.withUnsafeBufferPointer { JSStringCreateWithCharacters($0.baseAddress, $0.count) }
    }

    /// The Swift string of a JSStringRef (lone surrogates become U+FFFD).
    static func swiftString(_ ref: JSStringRef) -> String {
        let count = JSStringGetLength(ref)
        guard count > 0, let characters = JSStringGetCharactersPtr(ref) else { return "" }
        return String(decoding: UnsafeBufferPointer(start: characters, count: count), as: UTF16.self)
    }

    /// `String(value)` in JS terms; `nil` if the conversion itself threw.
    static func toString(_ ctx: JSContextRef, _ value: JSValueRef?) -> String? {
        guard let value else { return nil }
        var exception: JSValueRef?
        guard let ref = JSValueToStringCopy(ctx, value, &exception) else { return nil }
        defer { JSStringRelease(ref) }
        return swiftString(ref)
    }

    /// The value if it is a JS string.
    static func stringValue(_ ctx: JSContextRef, _ value: JSValueRef?) -> String? {
        guard let value, JSValueIsString(ctx, value) else { return nil }
        return toString(ctx, value)
    }

    /// The value as a number if it is one.
    static func number(_ ctx: JSContextRef, _ value: JSValueRef?) -> Double? {
        guard let value, JSValueIsNumber(ctx, value) else { return nil }
        return JSValueToNumber(ctx, value, nil)
    }

    /// A copy of the bytes of a `Uint8Array` (the view's bytes, wherever it starts in its buffer).
    static func bytes(_ ctx: JSContextRef, _ value: JSValueRef?) -> [UInt8]? {
        guard let value, JSValueGetTypedArrayType(ctx, value, nil) == kJSTypedArrayTypeUint8Array,
              let object = JSValueToObject(ctx, value, nil) else { return nil }
        let length = JSObjectGetTypedArrayByteLength(ctx, object, nil)
        guard length > 0 else { return [] }
        // The view's own bytes pointer does not include its byte offset in every JSC version; the buffer's base
        // plus the offset is unambiguous.
        let offset = JSObjectGetTypedArrayByteOffset(ctx, object, nil)
        guard let buffer = JSObjectGetTypedArrayBuffer(ctx, object, nil),
              let base = JSObjectGetArrayBufferBytesPtr(ctx, buffer, nil) else { return nil }
        let start = base.advanced(by: offset).assumingMemoryBound(to: UInt8.self)
        return Array(UnsafeBufferPointer(start: start, count: length))
    }

    /// A new `Uint8Array` holding a copy of `bytes`.
    static func uint8Array(_ ctx: JSContextRef, _ bytes: [UInt8]) -> JSValueRef? {
        var exception: JSValueRef?
        guard let array = JSObjectMakeTypedArray(ctx, kJSTypedArrayTypeUint8Array, bytes.count, &exception) else {
            return nil
        }
        if !bytes.isEmpty, let destination = JSObjectGetTypedArrayBytesPtr(ctx, array, nil) {
            bytes.withUnsafeBytes { destination.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        }
        return array
    }

    /// A JS array of `values`.
    static func array(_ ctx: JSContextRef, _ values: [JSValueRef?]) -> JSValueRef? {
        values.withUnsafeBufferPointer { JSObjectMakeArray(ctx, $0.count, $0.baseAddress, nil) }
    }

    static func property(_ ctx: JSContextRef, _ object: JSObjectRef, _ name: String) -> JSValueRef? {
        let key = jsString(name)
        defer { JSStringRelease(key) }
        return JSObjectGetProperty(ctx, object, key, nil)
    }

    static func setProperty(_ ctx: JSContextRef, _ object: JSObjectRef, _ name: String, _ value: JSValueRef?) {
        let key = jsString(name)
        defer { JSStringRelease(key) }
        JSObjectSetProperty(ctx, object, key, value, JSPropertyAttributes(kJSPropertyAttributeNone), nil)
    }

    /// A JS `Error` with `message` (and a `code` property when given).
    static func error(_ ctx: JSContextRef, _ message: String, code: String? = nil) -> JSValueRef? {
        var arguments: [JSValueRef?] = [string(ctx, message)]
        let error = arguments.withUnsafeMutableBufferPointer { JSObjectMakeError(ctx, 1, $0.baseAddress, nil) }
        if let error, let code { setProperty(ctx, error, "code", string(ctx, code)) }
        return error
    }
}
