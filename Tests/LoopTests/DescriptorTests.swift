import Foundation
import Scenarios
import Synchronization
import Testing
@testable import Loop

/// What a loop does with file descriptors: a closed loop has released every one it opened (its
/// own epoll fd and eventfd included), and TCP sockets are set up as asyncio sets them up.
@Suite("Descriptors")
struct DescriptorTests {
    /// Counts all of `/proc/self/fd` before and after. In a child process (an exit test): in
    /// this one, tests running in parallel open and close descriptors all the time, and a closed
    /// number is soon reused by someone else.
    /// Counts all of `/proc/self/fd` before and after. In a child process (an exit test): in
    /// this one, tests running in parallel open and close descriptors all the time, and a closed
    /// number is soon reused by someone else. The exit status says what was left open: 1 the
    /// selector's epoll fd or eventfd, 2 another descriptor (a socket), 3 no selector at all.
    @Test func aClosedLoopHasReleasedEveryDescriptorItsOwnIncluded() async {
        await #expect(processExitsWith: .success) {
            // A first run opens whatever the process opens once (the runtime's, Foundation's).
            var warmup = VirtualRun()
            try warmup.run { loop in try await EchoScenario().main(on: loop) }

            let before = Self.openDescriptors()
            var run = VirtualRun()
            let own = run.loop.selector?.ownDescriptors ?? []
            try run.run { loop in
                try await EchoScenario().main(on: loop)
                // And a careless program: a server and a connection it never closes.
                let server = try await loop.startServer(host: "127.0.0.1", port: 0) { reader, _ in _ = try await reader.read() }
                let (_, writer) = try await loop.openConnection(host: "127.0.0.1", port: server.port)
                try await loop.sleep(0.1)
                withExtendedLifetime(writer) {}
            }
            run.loop.close()
            let after = Self.openDescriptors()
            // Checked while the loop is alive: its selector's deinit would close them too, and
            // this is about close().
            withExtendedLifetime(run.loop) {}
            if own.count != 2 || own.contains(where: { $0 < 0 }) { exit(3) }
            if own.contains(where: { after[$0] != nil }) { exit(1) }
            if after != before { exit(2) }
        }
    }

    @Test func tcpSocketsAreSetNoDelayOnBothEnds() throws {
        let flags = Mutex<[String: Int32]>([:])
        var run = VirtualRun()
        try run.run { loop in
            let served = Event(loop: loop)
            let server = try await loop.startServer(host: "127.0.0.1", port: 0) { reader, writer in
                flags.withLock { $0["accepted"] = Self.noDelay(writer.transport.socket.fd) }
                served.set()
                _ = try await reader.read()
                writer.close()
            }
            let (_, writer) = try await loop.openConnection(host: "127.0.0.1", port: server.port)
            flags.withLock { $0["connected"] = Self.noDelay(writer.transport.socket.fd) }
            try await served.wait()
            writer.close()
            server.close()
        }
        // getsockopt answers 1 (on); -1 would mean it could not be read.
        #expect(flags.withLock { $0 } == ["accepted": 1, "connected": 1])
    }

    // MARK: - Helpers

    /// Every open descriptor of the process and what it is (`socket:[123]`, `anon_inode:[eventpoll]`).
    static func openDescriptors() -> [Int32: String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        var open: [Int32: String] = [:]
        for entry in entries {
            guard let fd = Int32(entry),
                  let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(entry)")
            else { continue }  // the directory listing's own descriptor, gone by now
            open[fd] = target
        }
        return open
    }

    /// `TCP_NODELAY` as the kernel reports it for `fd`, -1 if it cannot be read.
    static func noDelay(_ fd: Int32) -> Int32 {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &value, &length) == 0 else { return -1 }
        return value
    }

    /// A program may keep a writer after its loop is gone: letting go of it later must not
    /// touch the loop (the transport holds it unowned; the loop closed the socket when it ended).
    @Test func aWriterThatOutlivesItsLoopCanBeLetGo() async {
        // In a child process: the trap this guards against would otherwise end the whole run.
        await #expect(processExitsWith: .success) {
            let kept = Mutex<StreamWriter?>(nil)
            do {
                var run = VirtualRun()
                try run.run { loop in
                    let server = try await loop.startServer(host: "127.0.0.1", port: 0) { reader, _ in _ = try await reader.read() }
                    let (_, writer) = try await loop.openConnection(host: "127.0.0.1", port: server.port)
                    kept.withLock { $0 = writer }
                }
            }
            kept.withLock { $0 = nil }  // the loop and the run are gone by now
        }
    }
}
