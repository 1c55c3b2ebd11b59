import Foundation
import JavaScriptRuntime
import NATS
import NATSTestSupport
import NexAPI
import NexHostServices
import Testing

@Suite struct JavaScriptHostServicesTests {
    private func withServices(_ body: (NATSClient, any HostServices) async throws -> Void) async throws {
        try await withNATSServer(.init(jetStream: true)) { server in
            try await withNATSClient(try NATSClient.Configuration(url: server.url)) { client in
                try await body(client, NATSHostServicesForTests(client: client))
            }
        }
    }

    @Test func keyValueRoundTripKeepsEveryByte() async throws {
        try await withServices { _, services in
            let source = """
                (subject, payload) => {
                  const b = kv('jsbucket');
                  const revision = b.set('bin', payload);
                  b.set('text', 'héllo');
                  b.set('gone', new Uint8Array([1]));
                  b.delete('gone');
                  const keys = b.keys().sort();
                  const back = b.get('bin');
                  const text = new TextDecoder().decode(b.get('text'));
                  return JSON.stringify({revision: typeof revision, keys, text, missing: b.get('nope'),
                                         same: back.length === payload.length && back.every((v, i) => v === payload[i])});
                }
                """
            let payload = (0..<256).map { UInt8($0) }
            let reply = try await withEngine(source, context: makeContext(hostServices: services)) { engine in
                try await engine.invoke(subject: "kv", payload: payload)
            }
            #expect(String(decoding: reply, as: UTF8.self)
                == #"{"revision":"number","keys":["bin","text"],"text":"héllo","missing":null,"same":true}"#)
            // The bytes really are in the bucket, unchanged.
            let stored = try await services.kvGet(bucket: "jsbucket", key: "bin")
            #expect(stored == payload)
        }
    }

    @Test func objectStoreRoundTrip() async throws {
        try await withServices { _, services in
            let source = """
                (subject, payload) => {
                  const store = objectStore('jsobjects');
                  const info = store.put('hello', payload);
                  store.put('gone', 'x');
                  store.delete('gone');
                  const back = store.get('hello');
                  return JSON.stringify({name: info.name, bucket: info.bucket, size: info.size, chunks: info.chunks,
                                         digest: info.digest.startsWith('SHA-256='), nuid: info.nuid.length > 0,
                                         list: store.list().map(o => o.name),
                                         same: back.length === payload.length && back.every((v, i) => v === payload[i])});
                }
                """
            let payload = (0..<256).map { UInt8($0) } + (0..<256).map { UInt8(255 - $0) }
            let reply = try await withEngine(source, context: makeContext(hostServices: services)) { engine in
                try await engine.invoke(subject: "os", payload: payload)
            }
            #expect(String(decoding: reply, as: UTF8.self)
                == #"{"name":"hello","bucket":"jsobjects","size":512,"chunks":1,"digest":true,"nuid":true,"list":["hello"],"same":true}"#)
            let stored = try await services.objectGet(bucket: "jsobjects", name: "hello")
            #expect(stored == payload)
        }
    }

    @Test func messagingPublishRequestAndRequestMany() async throws {
        try await withServices { client, services in
            let published = try await client.subscribe(to: "js.out")
            let responders = try await (0..<3).asyncMap { index in
                let subscription = try await client.subscribe(to: "js.svc")
                return (index, subscription)
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, subscription) in responders {
                    group.addTask {
                        for try await message in subscription {
                            guard let reply = message.replyTo else { continue }
                            try await client.publish(Array("r\(index):".utf8) + message.bytes, to: reply)
                        }
                    }
                }
                try await client.flush()
                let source = """
                    (subject, payload) => {
                      messaging.publish('js.out', payload);
                      const one = messaging.request('js.svc', 'q', 10000);
                      const many = messaging.requestMany('js.svc', new Uint8Array([0x71]), 3000, 3);
                      const d = new TextDecoder();
                      return JSON.stringify({one: d.decode(one).endsWith(':q'), many: many.map(m => d.decode(m)).sort()});
                    }
                    """
                let reply = try await withEngine(source, context: makeContext(hostServices: services)) { engine in
                    try await engine.invoke(subject: "m", payload: [0, 0xFF, 0x80])
                }
                #expect(String(decoding: reply, as: UTF8.self) == #"{"one":true,"many":["r0:q","r1:q","r2:q"]}"#)
                var iterator = published.makeAsyncIterator()
                let first = try await iterator.next()
                #expect(first?.bytes == [0, 0xFF, 0x80])
                for (_, subscription) in responders { try await subscription.unsubscribe() }
                try await published.unsubscribe()
                group.cancelAll()
            }
        }
    }

    @Test func hostServiceErrorsAreJSErrors() async throws {
        try await withServices { _, services in
            let source = """
                (subject, payload) => {
                  const out = [];
                  try { messaging.request('nobody.home', 'x', 2000); } catch (e) { out.push(e instanceof Error); }
                  try { kv(''); } catch (e) { out.push(e.message); }
                  try { kv('b').set('k', 12); } catch (e) { out.push(e.message); }
                  try { http.get('http://127.0.0.1:1/'); } catch (e) { out.push(e.code); }
                  return JSON.stringify(out);
                }
                """
            let reply = try await withEngine(source, context: makeContext(hostServices: services)) { engine in
                try await engine.invoke(subject: "e", payload: [])
            }
            #expect(String(decoding: reply, as: UTF8.self)
                == #"[true,"bucket name is required","value must be a Uint8Array, an ArrayBuffer or a string","disabled"]"#)
        }
    }

    @Test func theOldHostServicesFormUsesTheWorkloadBucket() async throws {
        try await withServices { _, services in
            let source = """
                (subject, payload) => {
                  this.hostServices.kv.set('hello', payload);
                  this.hostServices.kv.del('hello');
                  this.hostServices.kv.set('hello2', payload);
                  this.hostServices.objectStore.put('hello2', payload);
                  return {
                    keys: this.hostServices.kv.keys(),
                    hello2: String.fromCharCode(...this.hostServices.kv.get('hello2')),
                    object: String.fromCharCode(...this.hostServices.objectStore.get('hello2')),
                    list: this.hostServices.objectStore.list().map(o => o.name),
                  };
                }
                """
            let reply = try await withEngine(source, context: makeContext(hostServices: services, name: "oldstyle")) { engine in
                try await engine.invoke(subject: "old", payload: Array("hi".utf8))
            }
            #expect(String(decoding: reply, as: UTF8.self)
                == #"{"keys":["hello2"],"hello2":"hi","object":"hi","list":["hello2"]}"#)
            let stored = try await services.kvGet(bucket: "oldstyle", key: "hello2")
            #expect(stored == Array("hi".utf8))
        }
    }
}

extension Sequence {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        for element in self { result.append(try await transform(element)) }
        return result
    }
}
