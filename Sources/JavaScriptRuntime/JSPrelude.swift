// The JavaScript half of the runtime: evaluated in every fresh context before the guest's script, it installs
// the globals guest code may use (console, TextEncoder/TextDecoder, the host services) on top of one native
// function, and returns the runner that calls the guest function and turns its result into reply bytes.
//
// Doing the shaping in JS keeps the native surface to one callback with numbered operations (cheap to install per
// context) and the conversions where the values live. Everything the prelude relies on is captured before guest
// code runs, so a guest that overwrites `Uint8Array` or `JSON` only affects itself.

/// The operations of the native function (`native(op, ...args)`), shared by the prelude and ``JSWorker``.
enum NativeOperation: Int {
    case log = 0
    case utf8Encode = 1
    case utf8Decode = 2
    case kvGet = 10, kvSet = 11, kvDelete = 12, kvKeys = 13
    case objectGet = 20, objectPut = 21, objectDelete = 22, objectList = 23
    case publish = 30, request = 31, requestMany = 32
    case http = 40
}

enum JSPrelude {
    /// Evaluates the guest's script as direct `eval` code of a sloppy function (so the script keeps its own
    /// strictness): its completion value is the result, and its top-level declarations live in this call's scope,
    /// not on the global object, so they start afresh every invocation even in a reused context.
    static let evaluatorSource = "(function () { return eval(arguments[0]); })"

    /// A function expression `(native, workloadName, evaluate) => [run, check]`: `run(source, subject, payload)`
    /// runs one invocation and returns `[state, reply, error]` (filled in later for a promise), `check()` (after it)
    /// tells whether the context may serve the next one.
    static let source = #"""
    (function (native, workloadName, evaluate) {
      'use strict';
      const g = globalThis;
      const U8 = Uint8Array, AB = ArrayBuffer, isView = ArrayBuffer.isView, apply = Reflect.apply;
      const ownKeys = Reflect.ownKeys, describe = Object.getOwnPropertyDescriptor, defineProperty = Object.defineProperty;
      const freeze = Object.freeze, protoOf = Object.getPrototypeOf, isExtensible = Object.isExtensible, same = Object.is;
      const regExpExec = RegExp.prototype.exec;
      const stringify = JSON.stringify, parse = JSON.parse, PromiseResolve = Promise.resolve.bind(Promise);
      const ErrorType = Error, TypeErr = TypeError, RangeErr = RangeError;
      const define = (name, value) =>
        Object.defineProperty(g, name, { value, writable: true, configurable: true, enumerable: false });

      // Bytes for the host: always a Uint8Array that starts at offset 0 of its own buffer.
      function bytesOf(v, what) {
        if (v instanceof U8) return (v.byteOffset === 0 && v.byteLength === v.buffer.byteLength) ? v : v.slice();
        if (isView(v)) return new U8(v.buffer, v.byteOffset, v.byteLength).slice();
        if (v instanceof AB) return new U8(v);
        if (typeof v === 'string') return native(1, v);
        throw new TypeErr(what + ' must be a Uint8Array, an ArrayBuffer or a string');
      }
      const optionalBytes = (v, what) => (v === undefined || v === null) ? new U8(0) : bytesOf(v, what);
      function required(v, what) {
        if (typeof v !== 'string' || v === '') throw new TypeErr(what + ' is required');
        return v;
      }
      const optionalNumber = v => (v === undefined || v === null) ? undefined : Number(v);

      // console: arguments joined with spaces, objects as JSON where they have one.
      function text(v) {
        if (typeof v === 'string') return v;
        if (v instanceof ErrorType) return String(v);
        if (v !== null && typeof v === 'object') {
          try { const s = stringify(v); if (s !== undefined) return s; } catch (e) { /* cyclic: fall through */ }
        }
        return String(v);
      }
      const logger = level => function (...args) { native(0, level, args.map(text).join(' ')); };
      define('console', Object.freeze({
        log: logger(0), info: logger(0), warn: logger(4), error: logger(8), debug: logger(-4), trace: logger(-4),
      }));

      // TextEncoder / TextDecoder (UTF-8 only, as in the web platform's encoder; the decoder does not stream).
      const utf8Length = s => {
        let n = 0;
        for (const ch of s) {
          const cp = ch.codePointAt(0);
          n += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
        }
        return n;
      };
      class TextEncoder {
        get encoding() { return 'utf-8'; }
        encode(input = '') { return native(1, String(input)); }
        encodeInto(input, destination) {
          const s = String(input);
          let read = 0, written = 0;
          for (const ch of s) {
            const n = utf8Length(ch);
            if (written + n > destination.length) break;
            written += n; read += ch.length;
          }
          destination.set(native(1, s.slice(0, read)));
          return { read, written };
        }
      }
      class TextDecoder {
        #fatal; #ignoreBOM;
        constructor(label = 'utf-8', options = {}) {
          const name = String(label).trim().toLowerCase();
          if (name !== 'utf-8' && name !== 'utf8' && name !== 'unicode-1-1-utf-8')
            throw new RangeErr('The "' + label + '" encoding is not supported');
          this.#fatal = !!(options && options.fatal);
          this.#ignoreBOM = !!(options && options.ignoreBOM);
        }
        get encoding() { return 'utf-8'; }
        get fatal() { return this.#fatal; }
        get ignoreBOM() { return this.#ignoreBOM; }
        decode(input) {
          if (input === undefined) return '';
          if (typeof input === 'string') throw new TypeErr('TextDecoder.decode takes an ArrayBuffer or a view');
          const bytes = bytesOf(input, 'input');
          try { return native(2, bytes, this.#fatal, this.#ignoreBOM); } catch (e) { throw new TypeErr(e.message); }
        }
      }
      define('TextEncoder', TextEncoder);
      define('TextDecoder', TextDecoder);

      // Host services. The native side throws when the node offers none.
      const decoder = new TextDecoder();
      const kvOf = bucket => ({
        get: key => native(10, bucket, required(key, 'key')),
        set: (key, value) => {
          required(key, 'key');
          if (value === undefined) throw new TypeErr('key and value are required');
          return native(11, bucket, key, bytesOf(value, 'value'));
        },
        delete: key => { native(12, bucket, required(key, 'key')); },
        keys: () => parse(native(13, bucket)),
      });
      const objectStoreOf = bucket => ({
        get: name => native(20, bucket, required(name, 'name')),
        put: (name, value) => {
          required(name, 'name');
          if (value === undefined) throw new TypeErr('name and value are required');
          return parse(native(21, bucket, name, bytesOf(value, 'value')));
        },
        delete: name => { native(22, bucket, required(name, 'name')); },
        list: () => parse(native(23, bucket)),
      });
      const withDel = o => { o.del = o.delete; return Object.freeze(o); };
      const messaging = Object.freeze({
        publish: (subject, payload) => { native(30, required(subject, 'subject'), optionalBytes(payload, 'payload')); },
        request: (subject, payload, timeoutMs) =>
          native(31, required(subject, 'subject'), optionalBytes(payload, 'payload'), optionalNumber(timeoutMs)),
        requestMany: (subject, payload, timeoutMs, maxReplies) =>
          native(32, required(subject, 'subject'), optionalBytes(payload, 'payload'), optionalNumber(timeoutMs),
                 optionalNumber(maxReplies)),
      });
      const httpMethod = method => (url, body) => {
        const [status, headers, bytes] = native(40, method, required(url, 'url'),
          (body === undefined || body === null) ? undefined : bytesOf(body, 'body'));
        const response = { status, headers: parse(headers) };
        if (method !== 'HEAD') {
          response.response = bytes === null ? '' : decoder.decode(bytes);
          response.body = bytes === null ? new U8(0) : bytes;
        }
        return response;
      };
      const http = withDel({
        get: httpMethod('GET'), post: httpMethod('POST'), put: httpMethod('PUT'),
        patch: httpMethod('PATCH'), delete: httpMethod('DELETE'), head: httpMethod('HEAD'),
      });
      define('http', http);
      define('messaging', messaging);
      define('kv', bucket => Object.freeze(kvOf(required(bucket, 'bucket name'))));
      define('objectStore', bucket => Object.freeze(objectStoreOf(required(bucket, 'bucket name'))));
      // The 0.2.x form: one bucket per workload, named after it.
      define('hostServices', Object.freeze({
        kv: withDel(kvOf(workloadName)), objectStore: withDel(objectStoreOf(workloadName)), messaging, http,
      }));

      // The runner: calls the guest function and leaves the outcome in a state object the host reads after the
      // call (and after the microtask queue drained, for a promise).
      function errorText(e) {
        try {
          if (e instanceof ErrorType || typeof e !== 'object' || e === null) return String(e);
          const s = stringify(e);
          return s === undefined ? String(e) : s;
        } catch (x) {
          return 'uncaught exception';
        }
      }
      function reply(v) {
        if (v === undefined || v === null) return null;
        if (typeof v === 'string') return v;
        if (v instanceof AB || isView(v)) return bytesOf(v, 'reply');
        const s = stringify(v);
        return s === undefined ? null : s;
      }
      function run(source, subject, payload) {
        // [state (0 pending, 1 replied, 2 failed), reply, error text]: read by index from the host.
        const st = [0, null, ''];
        const ok = v => { try { st[1] = reply(v); st[0] = 1; } catch (e) { fail(e); } };
        const fail = e => { st[2] = errorText(e); st[0] = 2; };
        let fn;
        try { fn = evaluate(source); } catch (e) { fail(e); return st; }
        if (typeof fn !== 'function') {
          fail('the script\'s completion value is not a function (it is ' + (fn === null ? 'null' : typeof fn) + ')');
          return st;
        }
        let result;
        try { result = apply(fn, g, [subject, payload]); } catch (e) { fail(e); return st; }
        if (result !== null && (typeof result === 'object' || typeof result === 'function')) {
          let then;
          try { then = result.then; } catch (e) { fail(e); return st; }
          if (typeof then === 'function') { PromiseResolve(result).then(ok, fail); return st; }
        }
        ok(result);
        return st;
      }

      // Hardening, so that this context can serve invocation after invocation with nothing carried over
      // (docs/javascript-functions.md, "Isolation"). What an invocation could change is either made immutable here
      // or checked by `check()` afterwards, which retires the context when anything changed.
      //
      // 1. APIs whose callbacks would run after the invocation ended retire the context when used.
      let retired = false;
      const retire = () => { retired = true; };
      if (typeof g.FinalizationRegistry === 'function') {
        const Registry = g.FinalizationRegistry;
        define('FinalizationRegistry', class FinalizationRegistry extends Registry {
          constructor(cleanup) { retire(); super(cleanup); }
        });
      }
      const retiringWrap = (object, names) => {
        for (const name of names) {
          const original = object && object[name];
          if (typeof original !== 'function') continue;
          object[name] = { [name](...args) { retire(); return apply(original, this, args); } }[name];
        }
      };
      retiringWrap(g.WebAssembly, ['compile', 'instantiate', 'compileStreaming', 'instantiateStreaming']);
      retiringWrap(g.Atomics, ['waitAsync']);

      // 2. Inherited properties that code commonly assigns on its own objects (`MyError.prototype.name = …`,
      //    `obj.toString = …`) become accessors: assigning defines an own property on the object, as it would
      //    if the built-in were not frozen; assigning on the built-in itself throws.
      const tame = (object, names) => {
        if (!object) return;
        for (const name of names) {
          const d = describe(object, name);
          if (!d || !('value' in d) || !d.writable) continue;
          const value = d.value;
          defineProperty(object, name, {
            get() { return value; },
            set(v) {
              if (this === object) throw new TypeErr('Cannot assign to ' + String(name) + ' of a frozen built-in object');
              if (this === null || (typeof this !== 'object' && typeof this !== 'function')) return;
              defineProperty(this, name, { value: v, writable: true, enumerable: true, configurable: true });
            },
            enumerable: d.enumerable, configurable: false,
          });
        }
      };
      const F = Function.prototype;
      tame(Object.prototype, ['constructor', 'hasOwnProperty', 'isPrototypeOf', 'propertyIsEnumerable',
                              'toLocaleString', 'toString', 'valueOf']);
      tame(Array.prototype, ['constructor', 'toString', 'push', 'concat']);
      tame(F, ['constructor', 'bind', 'toString', 'apply', 'call']);
      tame(Promise.prototype, ['constructor']);
      tame(protoOf(U8.prototype), ['constructor', 'toString']);
      for (const E of [Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError,
                       g.AggregateError]) {
        if (E) tame(E.prototype, ['constructor', 'message', 'name', 'toString']);
      }

      // 3. Every built-in object reachable from the global object, through prototypes and accessors, and the
      //    intrinsics that no global names (iterator, generator and async function prototypes) is frozen.
      const hidden = [];
      const collect = make => { try { const v = make(); if (v !== undefined) hidden.push(v); } catch (e) { /* absent */ } };
      collect(() => protoOf(function* () {}));
      collect(() => protoOf(async function () {}));
      collect(() => protoOf(async function* () {}));
      collect(() => protoOf([][Symbol.iterator]()));
      collect(() => protoOf(new Map()[Symbol.iterator]()));
      collect(() => protoOf(new Set()[Symbol.iterator]()));
      collect(() => protoOf(''[Symbol.iterator]()));
      collect(() => protoOf(/a/[Symbol.matchAll]('')));
      collect(() => protoOf([].values().map(x => x)));
      collect(() => protoOf(g.Iterator.from({ next() { return { done: true }; } })));
      collect(() => new Intl.Segmenter().segment(''));
      collect(() => protoOf(new Intl.Segmenter().segment('')[Symbol.iterator]()));
      collect(() => describe(function () { 'use strict'; return arguments; }(), 'callee').get);
      const seen = new Set();
      const pending = [];
      const visit = v => {
        if (v === null || (typeof v !== 'object' && typeof v !== 'function') || seen.has(v)) return;
        seen.add(v);
        pending.push(v);
      };
      visit(g);
      for (const v of hidden) visit(v);
      visit(evaluate); // reachable from guest code as `arguments.callee`
      while (pending.length > 0) {
        const object = pending.pop();
        visit(protoOf(object));
        for (const key of ownKeys(object)) {
          const d = describe(object, key);
          if ('value' in d) { visit(d.value); } else { visit(d.get); visit(d.set); }
        }
        if (object !== g) freeze(object);
      }

      // 4. The global object stays extensible (sloppy code may create globals), but what it holds now is read-only,
      //    like the built-ins. An invocation can only add properties; `check()` deletes them.
      const globalProto = protoOf(g);
      const globalKeys = ownKeys(g);
      for (const key of globalKeys) {
        const d = describe(g, key);
        defineProperty(g, key, 'value' in d ? { writable: false, configurable: false } : { configurable: false });
      }
      const globalKeyCount = globalKeys.length;
      const originalKeys = new Set(globalKeys), has = Set.prototype.has, deleteProperty = Reflect.deleteProperty;
      const emptyMatch = /(?:)/;

      // After an invocation: clears RegExp's legacy statics (RegExp.$1, lastMatch, input…, which would otherwise
      // hold the last invocation's match) and deletes the globals the invocation added; answers whether the context
      // is now exactly as prepared (false: a global it cannot delete, a changed global object, a retiring API).
      function check() {
        apply(regExpExec, emptyMatch, ['']);
        if (retired || !isExtensible(g) || protoOf(g) !== globalProto) return false;
        const keys = ownKeys(g);
        if (keys.length === globalKeyCount) return true;
        for (const key of keys) {
          if (!apply(has, originalKeys, [key]) && !deleteProperty(g, key)) return false;
        }
        return true;
      }
      return [run, check];
    })
    """#
}
