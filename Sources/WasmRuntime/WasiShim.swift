// The WASI preview1 shim and the `nex` host-service imports, in JavaScript inside each worker's context.
// Written in JS because JS↔Wasm calls stay inside JSC's JIT (DESIGN.md §5: a recycled invocation costs
// 4–7 µs including the shim); only the clock, randomness, sleeping and host services call into Swift.
//
// Swift defines before evaluating this: `__nexModuleBytes` (Uint8Array), `__nexEnv` (array of Uint8Array,
// `KEY=value`), and the native functions `__nexClock(id) -> [sec, nsec] | null`, `__nexRandom(n) ->
// Uint8Array`, `__nexSleep(ns)`, `__nexHost(op, ...args)`, `__nexInput()` and `__nexDone(...)`. The script defines
// `__nexCompile()` (checks and compiles the module, returns an error string or null), `__nexRun()` and
// `__nexRestore()`.
//
// Recycling (a module the rewriter found recyclable, see `Recyclability`): the first run keeps its instance
// and a snapshot of its memory bytes and mutable globals taken right after instantiation. After a run that
// ended by returning or `proc_exit`, with the memory at its snapshot size, the instance is kept "dirty";
// `__nexRestore()` (or the next run, whichever comes first) copies the snapshot back. A trap, a timeout or a
// grown memory (a Wasm memory cannot shrink) drops it: the next run instantiates afresh.

enum WasiShim {
    static let source = #"""
(function () {
"use strict";
const ESUCCESS = 0, EBADF = 8, EFAULT = 21, EINVAL = 28, ENOSYS = 52, ESPIPE = 70;
const NEX_ERR_FAILED = -1, NEX_ERR_BUFFER_TOO_SMALL = -2, NEX_ERR_MEMORY = -8, NEX_ERR_UNSUPPORTED = -9;
const EXIT = { nexExit: true };
const TIMEOUT = globalThis.__nexTimeout = { nexTimeout: true };
const ARG0 = new Uint8Array([110, 101, 120, 102, 117, 110, 99, 116, 105, 111, 110]); // "nexfunction"
let module = null, imports = null, tickFunction = null;
let S = null; // the state of the running invocation
let recycle = false, globalNames = [], maxSnapshotBytes = 0;
let kept = null; // the recycled instance: { instance, memory, snapshot, globals, values, dirty }

function memory() {
    if (!S.memory) throw new WebAssembly.RuntimeError("the module exports no memory");
    return S.memory;
}
function u8() { return new Uint8Array(memory().buffer); }
function dv() { return new DataView(memory().buffer); }
function view(ptr, len) {
    return new Uint8Array(memory().buffer, ptr >>> 0, len >>> 0);
}

function Output() { this.buf = new Uint8Array(4096); this.len = 0; }
Output.prototype.append = function (bytes) {
    const need = this.len + bytes.length;
    if (need > this.buf.length) {
        let size = this.buf.length * 2;
        while (size < need) size *= 2;
        const grown = new Uint8Array(size);
        grown.set(this.buf.subarray(0, this.len));
        this.buf = grown;
    }
    this.buf.set(bytes, this.len);
    this.len = need;
};
Output.prototype.bytes = function () { return this.buf.subarray(0, this.len); };
// Empties it for the next run; a buffer a large output grew is let go rather than kept for the worker's life.
Output.prototype.reset = function () {
    if (this.buf.length > 1 << 20) this.buf = new Uint8Array(4096);
    this.len = 0;
};
// One pair per worker, reused run after run: Swift copies their bytes out (in `__nexDone`) before the next run.
const STDOUT = new Output(), STDERR = new Output();

function argList() { return [ARG0, S.subject]; }
function sizesOf(list, countPtr, sizePtr) {
    let size = 0;
    for (const item of list) size += item.length + 1;
    const d = dv();
    d.setUint32(countPtr, list.length, true);
    d.setUint32(sizePtr, size, true);
    return ESUCCESS;
}
function copyList(list, ptrsPtr, bufPtr) {
    const d = dv(), m = u8();
    for (let i = 0; i < list.length; i++) {
        d.setUint32(ptrsPtr + 4 * i, bufPtr, true);
        m.set(list[i], bufPtr);
        m[bufPtr + list[i].length] = 0;
        bufPtr += list[i].length + 1;
    }
    return ESUCCESS;
}
function setU64(d, ptr, sec, nsec) {
    const value = BigInt(sec) * 1000000000n + BigInt(nsec);
    d.setBigUint64(ptr, value, true);
}
function nowNs(id) {
    const t = __nexClock(id);
    if (t === null) return null;
    return BigInt(t[0]) * 1000000000n + BigInt(t[1]);
}
function checkDeadline() {
    if (Date.now() > S.deadline) throw TIMEOUT;
}

const wasi = {
    args_sizes_get(countPtr, sizePtr) { return sizesOf(argList(), countPtr, sizePtr); },
    args_get(ptrsPtr, bufPtr) { return copyList(argList(), ptrsPtr, bufPtr); },
    environ_sizes_get(countPtr, sizePtr) { return sizesOf(__nexEnv, countPtr, sizePtr); },
    environ_get(ptrsPtr, bufPtr) { return copyList(__nexEnv, ptrsPtr, bufPtr); },
    fd_read(fd, iovs, iovsLen, nreadPtr) {
        if (fd !== 0) return EBADF;
        const d = dv(), m = u8();
        let total = 0;
        for (let i = 0; i < iovsLen; i++) {
            const ptr = d.getUint32(iovs + 8 * i, true), len = d.getUint32(iovs + 8 * i + 4, true);
            const n = Math.min(len, S.stdin.length - S.stdinPos);
            if (n <= 0) break;
            m.set(S.stdin.subarray(S.stdinPos, S.stdinPos + n), ptr);
            S.stdinPos += n;
            total += n;
        }
        d.setUint32(nreadPtr, total, true);
        return ESUCCESS;
    },
    fd_write(fd, iovs, iovsLen, nwrittenPtr) {
        const out = fd === 1 ? S.stdout : fd === 2 ? S.stderr : null;
        if (out === null) return EBADF;
        const d = dv();
        let total = 0;
        for (let i = 0; i < iovsLen; i++) {
            const ptr = d.getUint32(iovs + 8 * i, true), len = d.getUint32(iovs + 8 * i + 4, true);
            out.append(view(ptr, len));
            total += len;
        }
        d.setUint32(nwrittenPtr, total, true);
        return ESUCCESS;
    },
    fd_close(fd) { return fd <= 2 ? ESUCCESS : EBADF; },
    fd_seek(fd, offset, whence, newOffsetPtr) { return fd <= 2 ? ESPIPE : EBADF; },
    fd_fdstat_get(fd, ptr) {
        if (fd > 2) return EBADF;
        const d = dv();
        d.setUint8(ptr, 2); // character device
        d.setUint8(ptr + 1, 0);
        d.setUint16(ptr + 2, fd === 0 ? 0 : 1, true); // stdout/stderr: append
        d.setUint32(ptr + 4, 0, true);
        d.setBigUint64(ptr + 8, 0xFFFFFFFFFFFFFFFFn, true);
        d.setBigUint64(ptr + 16, 0xFFFFFFFFFFFFFFFFn, true);
        return ESUCCESS;
    },
    fd_filestat_get(fd, ptr) {
        if (fd > 2) return EBADF;
        u8().fill(0, ptr, ptr + 64);
        dv().setUint8(ptr + 16, 2); // character device
        return ESUCCESS;
    },
    fd_prestat_get(fd, ptr) { return EBADF; },
    fd_prestat_dir_name(fd, ptr, len) { return EBADF; },
    proc_exit(code) { S.exitCode = code >>> 0; throw EXIT; },
    clock_time_get(id, precision, timePtr) {
        const t = __nexClock(id);
        if (t === null) return EINVAL;
        setU64(dv(), timePtr, t[0], t[1]);
        return ESUCCESS;
    },
    clock_res_get(id, resPtr) {
        if (id < 0 || id > 3) return EINVAL;
        dv().setBigUint64(resPtr, 1n, true);
        return ESUCCESS;
    },
    random_get(ptr, len) {
        u8().set(__nexRandom(len >>> 0), ptr);
        return ESUCCESS;
    },
    sched_yield() { return ESUCCESS; },
    poll_oneoff(inPtr, outPtr, nsubs, neventsPtr) {
        if (nsubs === 0) return EINVAL;
        const d = dv();
        const events = [];
        let wait = null; // ns
        const clocks = [];
        for (let i = 0; i < nsubs; i++) {
            const sub = inPtr + 48 * i;
            const userdata = d.getBigUint64(sub, true);
            const tag = d.getUint8(sub + 8);
            if (tag === 0) {
                const id = d.getUint32(sub + 16, true);
                let timeout = d.getBigUint64(sub + 24, true);
                const flags = d.getUint16(sub + 40, true);
                if (flags & 1) { // absolute
                    const now = nowNs(id);
                    if (now === null) { events.push([userdata, EINVAL, 0, 0n]); continue; }
                    timeout = timeout > now ? timeout - now : 0n;
                }
                clocks.push([userdata, timeout]);
                if (wait === null || timeout < wait) wait = timeout;
            } else if (tag === 1 || tag === 2) {
                const fd = d.getUint32(sub + 16, true);
                if (fd > 2 || (tag === 1 && fd !== 0) || (tag === 2 && fd === 0)) {
                    events.push([userdata, EBADF, tag, 0n]);
                } else {
                    events.push([userdata, 0, tag, tag === 1 ? BigInt(S.stdin.length - S.stdinPos) : 0n]);
                }
            } else {
                events.push([userdata, EINVAL, tag, 0n]);
            }
        }
        if (events.length === 0 && wait !== null) {
            const left = BigInt(Math.max(0, Math.floor((S.deadline - Date.now()) * 1e6)));
            if (wait > left) { __nexSleep(Number(left)); throw TIMEOUT; }
            if (wait > 0n) __nexSleep(Number(wait));
            for (const [userdata, timeout] of clocks) if (timeout <= wait) events.push([userdata, 0, 0, 0n]);
        }
        for (let i = 0; i < events.length; i++) {
            const ev = outPtr + 32 * i;
            u8().fill(0, ev, ev + 32);
            d.setBigUint64(ev, events[i][0], true);
            d.setUint16(ev + 8, events[i][1], true);
            d.setUint8(ev + 10, events[i][2]);
            d.setBigUint64(ev + 16, events[i][3], true);
        }
        d.setUint32(neventsPtr, events.length, true);
        return ESUCCESS;
    },
};

// Host services: strings and bytes in as (ptr, len), results into a guest buffer (ptr, cap) with the full
// length written to a u32 at lenPtr. Swift answers a Uint8Array (the result), null (not found), an array
// (several results) or a negative number (an error code; the text through last_error).
// Copies: Swift reads the bytes of offset-0 arrays, never a view into linear memory.
function arg(ptr, len) { return view(ptr, len).slice(); }
function deliver(bytes, outPtr, cap, lenPtr) {
    dv().setUint32(lenPtr, bytes.length, true);
    if (bytes.length > (cap >>> 0)) return NEX_ERR_BUFFER_TOO_SMALL;
    u8().set(bytes, outPtr);
    return 0;
}
function host(op, args) {
    let args2;
    try { args2 = args(); } catch (e) { if (e === TIMEOUT || e === EXIT) throw e; return NEX_ERR_MEMORY; }
    return __nexHost(op, ...args2);
}
function getLike(op) {
    return function (bPtr, bLen, kPtr, kLen, outPtr, cap, lenPtr) {
        const r = host(op, () => [arg(bPtr, bLen), arg(kPtr, kLen)]);
        if (typeof r === "number") return r;
        if (r === null) { dv().setUint32(lenPtr, 0, true); return 1; }
        return deliver(r, outPtr, cap, lenPtr);
    };
}
function listLike(op) {
    return function (bPtr, bLen, outPtr, cap, lenPtr) {
        const r = host(op, () => [arg(bPtr, bLen)]);
        if (typeof r === "number") return r;
        return deliver(r, outPtr, cap, lenPtr);
    };
}
const nex = {
    kv_get: getLike("kv_get"),
    kv_set(bPtr, bLen, kPtr, kLen, vPtr, vLen) { return host("kv_set", () => [arg(bPtr, bLen), arg(kPtr, kLen), arg(vPtr, vLen)]); },
    kv_delete(bPtr, bLen, kPtr, kLen) { return host("kv_delete", () => [arg(bPtr, bLen), arg(kPtr, kLen)]); },
    kv_keys: listLike("kv_keys"),
    object_get: getLike("object_get"),
    object_put(bPtr, bLen, nPtr, nLen, vPtr, vLen) { return host("object_put", () => [arg(bPtr, bLen), arg(nPtr, nLen), arg(vPtr, vLen)]); },
    object_delete(bPtr, bLen, nPtr, nLen) { return host("object_delete", () => [arg(bPtr, bLen), arg(nPtr, nLen)]); },
    object_list: listLike("object_list"),
    publish(sPtr, sLen, pPtr, pLen) { return host("publish", () => [arg(sPtr, sLen), arg(pPtr, pLen)]); },
    request(sPtr, sLen, pPtr, pLen, timeoutMs, outPtr, cap, lenPtr) {
        const r = host("request", () => [arg(sPtr, sLen), arg(pPtr, pLen), timeoutMs >>> 0]);
        if (typeof r === "number") return r;
        return deliver(r, outPtr, cap, lenPtr);
    },
    http(mPtr, mLen, uPtr, uLen, bPtr, bLen, statusPtr, hOut, hCap, hLenPtr, bOut, bCap, bLenPtr) {
        const r = host("http", () => [arg(mPtr, mLen), arg(uPtr, uLen), arg(bPtr, bLen)]);
        if (typeof r === "number") return r;
        dv().setUint32(statusPtr, r[0], true);
        const a = deliver(r[1], hOut, hCap, hLenPtr), b = deliver(r[2], bOut, bCap, bLenPtr);
        return a < 0 ? a : b;
    },
    last_error(outPtr, cap) {
        const text = __nexHost("last_error");
        const n = Math.min(text.length, cap >>> 0);
        u8().set(text.subarray(0, n), outPtr);
        return text.length;
    },
};

// A tiny module that re-exports a JS function as a Wasm function, so it can live in a funcref table:
// (module (import "n" "t" (func (result i32))) (export "t" (func 0)))
function makeTick() {
    const bytes = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0,
        1, 5, 1, 96, 0, 1, 127,
        2, 7, 1, 1, 110, 1, 116, 0, 0,
        7, 5, 1, 1, 116, 0, 0]);
    const tick = () => { checkDeadline(); return 65536; };
    return new WebAssembly.Instance(new WebAssembly.Module(bytes), { n: { t: tick } }).exports.t;
}

// Takes the snapshot of a just-instantiated instance; null when its memory is too large to copy per run
// faster than instantiating afresh.
function capture(instance) {
    const memory = instance.exports.__nex_memory || null;
    let snapshot = null;
    if (memory !== null) {
        if (memory.buffer.byteLength > maxSnapshotBytes) return null;
        snapshot = new Uint8Array(memory.buffer).slice();
    }
    const globals = globalNames.map((name) => instance.exports[name]);
    return { instance: instance, memory: memory, snapshot: snapshot, globals: globals,
             values: globals.map((g) => g.value), dirty: false };
}

function restore(k) {
    if (k.memory !== null) new Uint8Array(k.memory.buffer).set(k.snapshot);
    const globals = k.globals, values = k.values;
    for (let i = 0; i < globals.length; i++) globals[i].value = values[i];
    k.dirty = false;
}

globalThis.__nexRestore = function () {
    if (kept !== null && kept.dirty) restore(kept);
};

// `recyclable`: the rewriter's verdict; `snapshotLimit`: the largest memory (bytes) worth restoring.
globalThis.__nexCompile = function (recyclable, snapshotLimit) {
    try {
        module = new WebAssembly.Module(__nexModuleBytes);
    } catch (e) {
        return String(e);
    }
    if (!WebAssembly.Module.exports(module).some((e) => e.name === "_start" && e.kind === "function")) {
        return "the module does not export a _start function (not a WASI command)";
    }
    imports = { wasi_snapshot_preview1: {}, nex: {} };
    for (const imp of WebAssembly.Module.imports(module)) {
        if (imp.module === "wasi_snapshot_preview1" && imp.kind === "function") {
            imports.wasi_snapshot_preview1[imp.name] = wasi[imp.name] || (() => ENOSYS);
        } else if (imp.module === "nex" && imp.kind === "function") {
            imports.nex[imp.name] = nex[imp.name] || (() => NEX_ERR_UNSUPPORTED);
        } else {
            return "unresolved import " + imp.module + "." + imp.name + " (" + imp.kind + "): only wasi_snapshot_preview1 and nex functions are provided";
        }
    }
    tickFunction = makeTick();
    recycle = recyclable === true;
    maxSnapshotBytes = snapshotLimit;
    globalNames = WebAssembly.Module.exports(module)
        .filter((e) => e.kind === "global" && e.name.startsWith("__nex_global_")).map((e) => e.name);
    return null;
};

// Takes its input from Swift (`__nexInput()` -> [subject, stdin, timeoutMs]) and hands the outcome back through
// `__nexDone(status, detail, stdout, stderr, memoryBytes, growRefused, recycled)`: status 0 = exited with code
// `detail`, 1 = trapped (detail = the message), 2 = timed out, 3 = could not instantiate. Both are native
// functions called from here, so the whole run is one call from Swift into the context: every JSC C API call
// inside it finds the VM's lock already held, where each call from outside takes and releases it (measured as
// about a quarter of the worker's time per recycled run).
globalThis.__nexRun = function () {
    const input = __nexInput();
    STDOUT.reset();
    STDERR.reset();
    S = { subject: input[0], stdin: input[1], stdinPos: 0, stdout: STDOUT, stderr: STDERR,
          exitCode: 0, memory: null, deadline: Date.now() + input[2] };
    let status = 0, detail = 0;
    let instance;
    const recycled = kept !== null;
    if (recycled) {
        if (kept.dirty) restore(kept); // not restored eagerly after the last run
        instance = kept.instance;
    } else {
        try {
            instance = new WebAssembly.Instance(module, imports);
        } catch (e) {
            __nexDone(3, String(e), S.stdout.bytes(), S.stderr.bytes(), 0, false, false);
            S = null;
            return;
        }
        const table = instance.exports.__nex_tick_table;
        if (table) table.set(0, tickFunction);
        if (recycle) kept = capture(instance);
    }
    const mem = instance.exports.memory;
    S.memory = mem instanceof WebAssembly.Memory ? mem : null;
    try {
        instance.exports._start();
    } catch (e) {
        if (e === EXIT) { detail = S.exitCode; }
        else if (e === TIMEOUT) { status = 2; }
        else { status = 1; detail = String(e); }
    }
    const growFailed = instance.exports.__nex_grow_failed;
    __nexDone(status, detail, S.stdout.bytes(), S.stderr.bytes(), S.memory ? S.memory.buffer.byteLength : 0,
              growFailed instanceof WebAssembly.Global && growFailed.value === 1, recycled);
    if (kept !== null) {
        // Only a run that ended as the guest meant it leaves a state the snapshot can undo for sure.
        const grown = kept.memory !== null && kept.memory.buffer.byteLength !== kept.snapshot.length;
        if (status === 0 && !grown) kept.dirty = true; else kept = null;
    }
    S = null;
};
})();
"""#
}
