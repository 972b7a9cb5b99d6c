import Foundation
import Scenarios
import Synchronization
import Testing
import Trace
@testable import Loop

/// Real sockets on loopback through the loop's streams: the end of a stream, reset, refused,
/// flow control, cancellation, IPv6, Unix sockets and no fd left open. Serialized, so that the
/// check of open sockets in `/proc/self/fd` sees only this suite's.
@Suite("Sockets and streams", .serialized)
struct SocketTests {
    @Test func theEndOfTheStreamReadsAsEmptyAndIncompleteReadsKeepWhatCame() throws {
        var run = VirtualRun()
        try run.run { loop in
            let server = try await loop.startServer(host: "127.0.0.1", port: 0) { _, writer in
                writer.write("bye\nhalf")
                writer.close()
            }
            let (reader, writer) = try await loop.openConnection(host: "127.0.0.1", port: server.port)
            #expect(try await reader.readLine() == Array("bye\n".utf8))
            await #expect(throws: IncompleteReadError(partial: Array("half".utf8), expected: 8)) {
                try await reader.readExactly(8)
            }
            #expect(try await reader.read(max: 10) == [])
            #expect(reader.atEOF)
            #expect(try await reader.readLine() == [])
            writer.close()
            try await writer.waitClosed()
            server.close()
        }
    }

    @Test func readsTakeWhatIsBufferedAndReadExactlyWaitsForAll() throws {
        var run = VirtualRun()
        try run.run { loop in
            let server = try await loop.startServer(host: "127.0.0.1", port: 0) { reader, writer in
                let header = try await reader.readExactly(4)
                let body = try await reader.readUntil(Array("END".utf8))
                writer.write("\(header.count) \(body.count)\n")
                try await writer.drain()
                writer.close()
            }
            let (reader, writer) = try await loop.openConnection(host: "127.0.0.1", port: server.port)
            writer.write("HE")
            try await loop.sleep(0.1)
            writer.write("AD body END tail")
            let answer = try await reader.readLine()
            #expect(String(decoding: answer, as: UTF8.self) == "4 9\n")  // " body END"
            writer.close()
            server.close()
        }
    }

    @Test func aRefusedConnectionIsAnErrorNamingTheAddress() throws {
        let port = try Self.freePort()
        var run = VirtualRun()
        try run.run { loop in
            let error = await #expect(throws: SocketError.self) {
                _ = try await loop.openConnection(host: "127.0.0.1", port: port)
            }
            #expect(error == .connectionRefused(address: "127.0.0.1:\(port)"))
            #expect(error?.description == "connection refused by 127.0.0.1:\(port)")
        }
    }

    @Test func aTakenAddressIsAnErrorNamingIt() throws {
        var run = VirtualRun()
        try run.run { loop in
            let first = try await loop.startServer(host: "127.0.0.1", port: 0) { _, _ in }
            let error = await #expect(throws: SocketError.self) {
                _ = try await loop.startServer(host: "127.0.0.1", port: first.port) { _, _ in }
            }
            #expect(error == .addressInUse(address: "127.0.0.1:\(first.port)"))
            first.close()
        }
    }

    @Test func aResetConnectionFailsTheReaderAndTheLoopGoesOn() throws {
        var run = VirtualRun()
        try run.run { loop in
            // A bare listener whose accepted socket closes with SO_LINGER 0: the peer gets a RST.
            let listener = try Self.bareListener()
            defer { close(listener.fd) }
            let resetter = loop.spawn("resetter") {
                try await loop.waitReadable(listener.fd)
                let conn = accept(listener.fd, nil, nil)
                var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
                setsockopt(conn, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
                close(conn)
            }
            let (reader, writer) = try await loop.openConnection(host: "127.0.0.1", port: listener.port)
            // A read already waiting when the reset arrives gets the error, not an empty "end".
            let pending = loop.spawn("pending") { try await reader.read(max: 100) }
            try await resetter.value
            await #expect(throws: SocketError.connectionReset) { _ = try await pending.value }
            await #expect(throws: SocketError.connectionReset) { try await reader.readLine() }
            await #expect(throws: SocketError.connectionReset) { try await writer.waitClosed() }
            loop.print("still running")
        }
        #expect(run.output == ["still running"])
    }

    @Test func aFullSendBufferMakesDrainWaitUntilThePeerReads() throws {
        var run = VirtualRun()
        let size = try run.run { loop in
            let gotAll = Event(loop: loop)
            let server = try await loop.startServer(host: "127.0.0.1", port: 0) { reader, writer in
                try await loop.sleep(1)  // read nothing for a while: the client's buffer fills
                let data = try await reader.read()  // up to the end of the stream
                loop.print("server read \(data.count)")
                gotAll.set()
                writer.close()
            }
            let (_, writer) = try await loop.openConnection(host: "127.0.0.1", port: server.port)
            // Megabytes until the transport buffers over the high-water mark: how much the
            // kernel's buffers take first depends on its autotuning (4 MiB sufficed but once).
            var size = 0
            while writer.bufferedCount <= 64 * 1024 && size < 256 << 20 {
                writer.write([UInt8](repeating: 7, count: 1 << 20))
                size += 1 << 20
            }
            #expect(writer.bufferedCount > 64 * 1024)  // over the high-water mark
            try await writer.drain()
            loop.print("drained at \(loop.time)")
            writer.writeEOF()
            try await gotAll.wait()
            writer.close()
            server.close()
            return size
        }
        #expect(run.output == ["drained at 1.0", "server read \(size)"])
        // The client waited in drain: a suspension on I/O for writing.
        let drainWaits = run.records.filter {
            $0.kind == .taskSuspended && $0.detail(as: SuspendReason.self) == .io && $0.value == Int64(IOOperation.write.rawValue)
        }
        #expect(!drainWaits.isEmpty)
        #expect(run.records.contains { $0.kind == .ioWritten && $0.detail(as: IOWriteOutcome.self) == .paused })
    }

    @Test func aPeerThatVanishesMidWriteIsAnErrorNotACrash() throws {
        var run = VirtualRun()
        try run.run { loop in
            let server = try await loop.startServer(host: "127.0.0.1", port: 0) { _, writer in writer.close() }
            let (_, writer) = try await loop.openConnection(host: "127.0.0.1", port: server.port)
            let error = await #expect(throws: SocketError.self) {
                for _ in 0..<1000 {
                    writer.write([UInt8](repeating: 1, count: 64 * 1024))
                    try await writer.drain()
                    try await loop.sleep(0.01)
                }
            }
            #expect(error == .connectionReset || error == .brokenPipe)
            server.close()
            loop.print("loop fine")
        }
        #expect(run.output == ["loop fine"])
    }

    @Test func aReaderCancelledMidLineLeavesTheDataForTheNextRead() throws {
        var run = VirtualRun()
        try run.run { loop in
            let server = try await loop.startServer(host: "127.0.0.1", port: 0) { reader, writer in
                let first = loop.spawn("impatient") { try await reader.readLine() }
                try await loop.sleep(0.1)
                first.cancel()
                await #expect(throws: CancelledError.self) { _ = try await first.value }
                let line = try await reader.readLine()
                loop.print("next reader got \(String(decoding: line, as: UTF8.self).dropLast())")
                writer.close()
            }
            let (_, writer) = try await loop.openConnection(host: "127.0.0.1", port: server.port)
            writer.write("par")
            try await loop.sleep(0.2)
            writer.write("tial line\n")
            try await loop.sleep(0.1)
            writer.close()
            server.close()
        }
        #expect(run.output == ["next reader got partial line"])
    }

    @Test func ipv6AndUnixSocketsEchoToo() throws {
        let path = NSTemporaryDirectory() + "loopviz-test-\(getpid()).sock"
        var run = VirtualRun()
        try run.run { loop in
            let echo: ConnectionHandler = { reader, writer in
                writer.write(try await reader.readLine())
                try await writer.drain()
                writer.close()
            }
            let v6 = try await loop.startServer(host: "::1", port: 0, handler: echo)
            #expect(v6.addresses.first?.description.hasPrefix("[::1]:") == true)
            let unix = try await loop.startUnixServer(path: path, handler: echo)
            for (reader, writer) in [
                try await loop.openConnection(host: "::1", port: v6.port), try await loop.openUnixConnection(path: path),
            ] {
                writer.write("ping\n")
                loop.print(String(decoding: try await reader.readLine(), as: UTF8.self))
                writer.close()
            }
            v6.close()
            unix.close()
        }
        #expect(run.output == ["ping\n", "ping\n"])
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func aNameIsResolvedOffTheLoopThread() throws {
        var run = VirtualRun()
        try run.run { loop in
            let server = try await loop.startServer(host: "127.0.0.1", port: 0) { _, writer in writer.close() }
            let (reader, _) = try await loop.openConnection(host: "localhost", port: server.port)
            #expect(try await reader.read() == [])
            await #expect(throws: SocketError.self) { _ = try await loop.openConnection(host: "no-such-host.invalid", port: 1) }
            server.close()
        }
    }

    @Test func noSocketIsLeftOpenAfterARunEvenWhenTheProgramLeavesThemOpen() throws {
        var run = VirtualRun()
        try run.run { loop in try await EchoScenario().main(on: loop) }
        // Every socket the echo program opened or accepted was closed.
        let opened = Set(run.records.filter { $0.kind == .ioOpened || $0.kind == .ioAccepted }.map(\.subject))
        let closed = Set(run.records.filter { $0.kind == .ioClosed }.map(\.subject))
        #expect(opened.count == 7 && opened == closed)

        let sockets = Mutex<Set<String>>([])
        var careless = VirtualRun()
        try careless.run { loop in
            // A server never closed and a connection never closed: the loop closes both.
            let server = try await loop.startServer(host: "127.0.0.1", port: 0) { reader, _ in _ = try await reader.read() }
            let (_, writer) = try await loop.openConnection(host: "127.0.0.1", port: server.port)
            try await loop.sleep(0.1)
            let open = Set(loop.openSockets.keys.compactMap(Self.socketInode))
            sockets.withLock { $0 = open }
            withExtendedLifetime(writer) {}  // held to the end: a dropped writer closes its connection
        }
        // Compared by inode in /proc/self/fd: other tests may reuse the fd numbers meanwhile.
        let left = sockets.withLock { $0 }
        #expect(left.count == 3)
        #expect(left.isDisjoint(with: Self.openSocketInodes()))
        #expect(careless.loop.state == .closed)
    }

    @Test func theReadmeStreamsExampleRuns() throws {
        let lines = LineCollector()
        // As in the README's "Streams" section, on the real clock.
        let loop = EventLoop()
        loop.onOutput = { line, _ in lines.append(line) }
        try loop.run {
            let server = try await loop.startServer(host: "127.0.0.1", port: 0, name: "handle") { reader, writer in
                while true {
                    let line = try await reader.readLine()      // suspends: lane shows ≈
                    if line.isEmpty { break }                    // end of stream
                    writer.write(line)
                    try await writer.drain()                     // waits only past the high-water mark
                }
                writer.close()
                try await writer.waitClosed()
            }
            let (reader, writer) = try await loop.openConnection(host: "127.0.0.1", port: server.port)
            writer.write("hello\n")
            loop.print(String(decoding: try await reader.readLine(), as: UTF8.self))
            writer.close()
            server.close()
        }
        #expect(lines.lines == ["hello\n"])
    }

    @Test func aHandlerThatThrowsGetsItsConnectionClosed() throws {
        struct Oops: Error {}
        var run = VirtualRun()
        try run.run { loop in
            let server = try await loop.startServer(host: "127.0.0.1", port: 0) { _, _ in throw Oops() }
            let (reader, writer) = try await loop.openConnection(host: "127.0.0.1", port: server.port)
            // As asyncio's done-callback does: the peer reads the end of the stream at once.
            #expect(try await reader.read() == [])
            loop.print("end of stream at \(loop.time)")
            writer.close()
            server.close()
        }
        #expect(run.output == ["end of stream at 0.0"])
    }

    @Test func aSlowReaderPausesTheTransportAndGetsEveryByte() throws {
        let size = 1 << 20
        var run = VirtualRun()
        try run.run { loop in
            let server = try await loop.startServer(host: "127.0.0.1", port: 0) { _, writer in
                writer.write([UInt8](repeating: 9, count: size))
                try await writer.drain()
                writer.close()
            }
            let (reader, writer) = try await loop.openConnection(host: "127.0.0.1", port: server.port, limit: 4096)
            var total = 0
            while true {
                try await loop.sleep(0.001)  // slower than the server: the buffer passes 2 × limit
                let chunk = try await reader.read(max: 16 * 1024)
                if chunk.isEmpty { break }
                total += chunk.count
            }
            loop.print("read \(total)")
            writer.close()
            server.close()
        }
        #expect(run.output == ["read \(size)"])
    }

    @Test func cancellingAConnectionWhileTheNameResolvesLeavesTheTaskFreeToWaitAgain() throws {
        var run = VirtualRun()
        try run.run { loop in
            let task = loop.spawn("t") {
                do {
                    _ = try await loop.openConnection(host: "localhost", port: 9)
                } catch is CancelledError {
                    try await loop.sleep(0.3)  // a stale wake-up from the resolver must not eat this one
                    loop.print("slept after cancel")
                }
            }
            try await loop.sleep(0)
            task.cancel()
            try await task.value
        }
        #expect(run.output == ["slept after cancel"])
    }

    @Test func virtualTimeWaitsForANameToResolve() throws {
        for _ in 0..<5 {
            var run = VirtualRun()
            try run.run { loop in
                let sleeper = loop.spawn("sleeper") {
                    try await loop.sleep(0.05)
                    loop.print("sleeper")
                }
                let server = try await loop.startServer(host: "localhost", port: 0) { _, _ in }
                loop.print("server up at \(loop.time)")
                server.close()
                try await sleeper.value
            }
            #expect(run.output == ["server up at 0.0", "sleeper"])
        }
    }

    @Test func anFdEpollCannotWatchIsAnErrorNotAHang() throws {
        let path = NSTemporaryDirectory() + "loopviz-plain-\(getpid())"
        FileManager.default.createFile(atPath: path, contents: Data("x".utf8))
        let fd = open(path, O_RDONLY)
        defer { close(fd); unlink(path) }
        var run = VirtualRun()
        try run.run { loop in
            let error = await #expect(throws: SocketError.self) { try await loop.waitReadable(fd) }
            #expect(error == .system(call: "epoll_ctl", errno: EPERM))
            #expect(loop.ioRegistrations.isEmpty)
        }
    }

    // MARK: - Helpers

    /// Sockets this process holds (`socket:[inode]` links in /proc/self/fd).
    static func openSocketInodes() -> Set<String> {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return Set(entries.compactMap { Int32($0) }.compactMap(socketInode))
    }

    /// `socket:[12345]` for a socket fd, else nil.
    static func socketInode(_ fd: Int32) -> String? {
        let link = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(fd)")
        return link.flatMap { $0.hasPrefix("socket:") ? $0 : nil }
    }

    /// A port nothing listens on (bound, then released).
    static func freePort() throws -> Int {
        let listener = try bareListener()
        close(listener.fd)
        return listener.port
    }

    /// A listening IPv4 socket on 127.0.0.1, made without the loop.
    static func bareListener() throws -> (fd: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                Glibc.bind(fd, pointer, length) == 0 && listen(fd, 8) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard fd >= 0, bound else { throw POSIXError(.EADDRNOTAVAIL) }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }
}
