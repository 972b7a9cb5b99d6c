import Foundation
import Testing
import Trace
@testable import Loop

/// On virtual time, loopback I/O between the loop's own sockets lands before the loop polls
/// again (LoopbackSettling). A ticker task prints a line each pass; where the other lines fall
/// among its ticks says on which pass each step ran, and it must be where CPython puts them
/// (`Tests/Fixtures/cpython/loopback_settling.py`). On a prompt loopback these pass without the
/// settling too; `SlowLoopbackTests` also run this suite where loopback delays every packet,
/// which moves the lines without it. The payloads stay under 34 bytes: that loopback drops
/// bigger packets.
@Suite("Loopback settling", .serialized)
struct LoopbackSettlingTests {
    @Test func aConnectIsAcceptedOnCPythonsPass() throws {
        let output = try Self.runBesideATicker { loop in
            let server = try await loop.startServer(host: "127.0.0.1", port: 0) { _, writer in
                loop.print("handler starts")
                writer.close()
            }
            let (_, writer) = try await loop.openConnection(host: "127.0.0.1", port: server.port)
            loop.print("client connected")
            writer.close()
            try await writer.waitClosed()
            server.close()
        }
        #expect(output == (try CPythonFixture.output("loopback-connect")))
    }

    @Test func aLineWrittenWhileOthersRunIsReadOnCPythonsPass() throws {
        let output = try Self.runBesideATicker { loop in
            let server = try await loop.startServer(host: "127.0.0.1", port: 0) { reader, writer in
                let line = try await reader.readLine()
                loop.print("server read \(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .newlines))")
                writer.write("pong\n")
                writer.close()
            }
            let (reader, writer) = try await loop.openConnection(host: "127.0.0.1", port: server.port)
            writer.write("ping\n")
            let answer = try await reader.readLine()
            loop.print("client read \(String(decoding: answer, as: UTF8.self).trimmingCharacters(in: .newlines))")
            writer.close()
            server.close()
        }
        #expect(output == (try CPythonFixture.output("loopback-line")))
    }

    @Test func aHalfCloseIsSeenOnCPythonsPass() throws {
        let output = try Self.runBesideATicker { loop in
            let server = try await loop.startServer(host: "127.0.0.1", port: 0) { reader, writer in
                let all = try await reader.read()  // up to the end of the stream
                loop.print("server read \(String(decoding: all, as: UTF8.self)) and the end")
                writer.write("ok")
                writer.close()
            }
            let (reader, writer) = try await loop.openConnection(host: "127.0.0.1", port: server.port)
            writer.write("hi")
            try await loop.sleep(0)
            writer.writeEOF()
            let answer = try await reader.read()
            loop.print("client read \(String(decoding: answer, as: UTF8.self)) and the end")
            writer.close()
            server.close()
        }
        #expect(output == (try CPythonFixture.output("loopback-half-close")))
    }

    @Test func aCloseIsSeenOnCPythonsPass() throws {
        let output = try Self.runBesideATicker { loop in
            let server = try await loop.startServer(host: "127.0.0.1", port: 0) { reader, writer in
                let all = try await reader.read()
                loop.print("server read \(String(decoding: all, as: UTF8.self)) and the end")
                writer.close()
            }
            let (_, writer) = try await loop.openConnection(host: "127.0.0.1", port: server.port)
            writer.write("bye")
            try await loop.sleep(0)
            writer.close()
            try await writer.waitClosed()
            loop.print("client closed")
            server.close()
        }
        #expect(output == (try CPythonFixture.output("loopback-close")))
    }

    // MARK: - When there is nothing to wait for

    @Test func aConnectToAListenerWhoseQueueIsOverItsBacklogIsNotWaitedFor() throws {
        let names = NameTable()
        let listener = try Self.listener(at: .ipv4(host: "127.0.0.1", port: 0), names: names)
        #expect(LoopbackSettling.acceptQueueBeforeConnect(listener) == 0)
        // The kernel queues while the queue is not longer than the backlog (1): two connections.
        let clients = try (1...2).map { _ in try Self.connectedClient(to: listener, names: names) }
        #expect(LoopbackSettling.acceptQueueBeforeConnect(listener) == nil)
        #expect(clients.count == 2)
    }

    @Test func theListenerOfAnAddressIsFoundHoweverTheAddressIsWritten() throws {
        let names = NameTable()
        let listener = try Self.listener(at: .ipv6(host: "::1", port: 0), names: names)
        let port = try #require(listener.localAddress).port
        let client = try Self.connectedClient(to: listener, names: names)
        #expect(LoopbackSettling.listener(for: .ipv6(host: "0:0:0:0:0:0:0:1", port: port), among: [client, listener]) === listener)
        #expect(LoopbackSettling.listener(for: .ipv6(host: "::1", port: port + 1), among: [listener]) == nil)
        #expect(LoopbackSettling.listener(for: .ipv4(host: "127.0.0.1", port: port), among: [listener]) == nil)
    }

    @Test func anEndBehindBytesThePeerHasNoRoomForIsNotWaitedFor() throws {
        let names = NameTable()
        let listener = try Self.listener(at: .ipv4(host: "127.0.0.1", port: 0), names: names)
        let client = try Self.connectedClient(to: listener, names: names)
        let server = try #require(try listener.accept(names: names))
        #expect(LoopbackSettling.endGoesOutAtOnce(from: client))
        // The server reads nothing: sends fill its queue, then the client's.
        let chunk = [UInt8](repeating: 7, count: 64 * 1024)
        while try chunk.withUnsafeBytes({ try client.send($0) }) > 0 {}
        #expect(!LoopbackSettling.endGoesOutAtOnce(from: client))
        #expect(LoopbackSettling.bytesQueued(from: client, to: server) ?? 0 > 0)
    }

    // MARK: - Helpers

    /// Runs `body` as `main` on the virtual clock beside a ticker that prints "tick N" and
    /// yields (`sleep(0)`), sixteen times; returns the output.
    static func runBesideATicker(_ body: @escaping @Sendable (EventLoop) async throws -> Void) throws -> [String] {
        var run = VirtualRun()
        try run.run { loop in
            let ticker = loop.spawn("ticker") {
                for tick in 0..<16 {
                    loop.print("tick \(tick)")
                    try await loop.sleep(0)
                }
            }
            try await body(loop)
            try await ticker.value
        }
        return run.output
    }

    /// A listening socket made without a loop, backlog 1.
    static func listener(at address: SocketAddress, names: NameTable) throws -> Socket {
        let listener = try Socket.open(family: address.family, names: names)
        try listener.bind(address)
        try listener.listen(backlog: 1)
        return listener
    }

    /// A client connected to `listener`, waiting in its accept queue.
    static func connectedClient(to listener: Socket, names: NameTable) throws -> Socket {
        let client = try Socket.open(family: listener.family, names: names)
        let queued = LoopbackSettling.acceptQueueBeforeConnect(listener) ?? 0
        _ = try client.connect(try #require(listener.localAddress))
        LoopbackSettling.waitForAccept(on: listener, queued: queued + 1)
        return client
    }
}
