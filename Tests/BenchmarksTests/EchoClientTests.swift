@testable import Benchmarks
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The echo bench's machinery, not its figures: the client's closed loop moves every byte and
/// notices a wrong or silent server; a server process that misbehaves ends in an error, and
/// never outlives the bench.
@Suite("echo bench")
struct EchoClientTests {
    @Test func closedLoopGetsBackEveryByteItSent() throws {
        let server = try ThreadedServer { $0 }
        let round = try EchoClient(.init(port: server.port, connections: 3, messageSize: 100 * 1024,
                                         warmup: 0.01, duration: 0.05, verifyAll: true)).run()
        #expect(round.requests > 0)
        #expect(round.bytesSent > 0)
        #expect(round.bytesReceived == round.bytesSent)
        #expect(round.bytesSent % (100 * 1024) == 0, "only whole messages: every request finished")
        #expect(round.p99Microseconds >= round.p50Microseconds && round.p50Microseconds > 0)
    }

    @Test func wrongEchoIsAnError() throws {
        let server = try ThreadedServer { bytes in bytes.map { $0 ^ 1 } }
        #expect(throws: EchoBenchError.self) {
            _ = try EchoClient(.init(port: server.port, connections: 1, messageSize: 1024, warmup: 0, duration: 0.05)).run()
        }
    }

    @Test func silentServerIsAnErrorNotAHang() throws {
        let server = try ThreadedServer { _ in [] }
        let started = Date()
        #expect(throws: EchoBenchError.self) {
            _ = try EchoClient(.init(port: server.port, connections: 2, messageSize: 1024, warmup: 0, duration: 0.05,
                                     stallTimeout: 0.3)).run()
        }
        #expect(Date().timeIntervalSince(started) < 5)
    }

    @Test func serverThatSaysNoPortIsKilledWithAClearError() throws {
        let pidFile = NSTemporaryDirectory() + "loopviz-echo-test-\(getpid()).pid"
        defer { try? FileManager.default.removeItem(atPath: pidFile) }
        do {
            _ = try ServerProcess.start(["sh", "-c", "echo $$ > \(pidFile); exec sleep 30"], portTimeout: 0.3)
            Issue.record("start returned")
        } catch {
            #expect("\(error)".contains("no port printed within 0.3 s"))
        }
        let pid = try #require(Int32(String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(kill(pid, 0) != 0 && errno == ESRCH, "the child is gone")
    }

    @Test func serverThatExitsSaysWhy() throws {
        #expect {
            _ = try ServerProcess.start(["sh", "-c", "echo cannot listen >&2; exit 3"], portTimeout: 5)
        } throws: { error in
            "\(error)".contains("exited before printing its port") && "\(error)".contains("cannot listen")
        }
    }

    @Test func stopKillsAServerThatIgnoresItsStdinAndSIGTERM() throws {
        let (server, greeting) = try ServerProcess.start(["sh", "-c", "trap '' TERM; echo port 1234; exec sleep 30"])
        #expect(greeting == .port(1234))
        server.stop(grace: 0.1)
        #expect(kill(server.pid, 0) != 0 && errno == ESRCH)
    }

    @Test func pythonProgramSaysItsPortOrThatItIsMissing() throws {
        // uvloop may be absent: then the program says so instead of a port. No python3: nothing to test.
        // (A Result, not a do/catch with a pattern: that form crashes Swift 6.3.1's ClosureLifetimeFixup.)
        let started = Result<(ServerProcess, ServerProcess.Greeting), EchoBenchError> { () throws(EchoBenchError) in try ServerProcess.start(EchoServer.uvloop.command(executable: "", cpu: nil)) }
        if case .failure(.serverStart(let why)) = started, why.hasPrefix("cannot start") { return }
        let (server, greeting) = try started.get()
        defer { server.stop() }
        if case .port(let port) = greeting {
            let round = try EchoClient(.init(port: port, connections: 2, messageSize: 10 * 1024, warmup: 0, duration: 0.05,
                                             verifyAll: true)).run()
            #expect(round.requests > 0 && round.bytesReceived == round.bytesSent)
        } else {
            #expect(greeting == .unavailable("uvloop not installed"))
        }
    }
}

/// A blocking echo server on 127.0.0.1: a thread per connection, each sending back
/// `transform(what it read)`. Closed (and its threads ended) when dropped.
private final class ThreadedServer: Sendable {
    let port: Int
    private let listener: Int32

    init(transform: @escaping @Sendable ([UInt8]) -> [UInt8]) throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) == 0 && getsockname(listener, $0, &length) == 0 }
        }
        guard bound, listen(listener, 16) == 0 else {
            close(listener)
            throw POSIXError(.EADDRNOTAVAIL)
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        self.listener = listener
        Thread.detachNewThread {
            while true {
                let connection = accept(listener, nil, nil)
                guard connection >= 0 else {
                    // Shut down (deinit): only now is the fd closed. Closed in deinit, its number
                    // could be reused by another test's socket before this thread's next accept,
                    // which would then take that test's connections.
                    close(listener)
                    return
                }
                Thread.detachNewThread {
                    var buffer = [UInt8](repeating: 0, count: 65536)
                    while true {
                        let count = buffer.withUnsafeMutableBytes { recv(connection, $0.baseAddress, $0.count, 0) }
                        guard count > 0 else { break }
                        let reply = transform(Array(buffer[..<count]))
                        var offset = 0
                        while offset < reply.count {
                            let sent = reply.withUnsafeBytes { send(connection, $0.baseAddress! + offset, reply.count - offset, Int32(MSG_NOSIGNAL)) }
                            guard sent > 0 else { break }
                            offset += sent
                        }
                    }
                    close(connection)
                }
            }
        }
    }

    deinit {
        shutdown(listener, Int32(SHUT_RDWR))  // wakes the accepting thread, which closes it
    }
}

/// The one way bench measurements read a child process: its output, nil when it fails, and a
/// child that hangs is killed instead of hanging the bench.
@Suite("Bench child processes")
struct ChildOutputTests {
    @Test func outputOfAChildThatSucceedsNilForOneThatFailsOrHangs() {
        #expect(ChildOutput.run("/bin/sh", ["-c", "echo 12 3"]) == "12 3\n")
        #expect(ChildOutput.run("/bin/sh", ["-c", "echo partial; exit 2"]) == nil)
        #expect(ChildOutput.run("/nonexistent/program", []) == nil)
        #expect(ChildOutput.run("/bin/sh", ["-c", "exec sleep 30"], timeout: 0.3) == nil, "killed, not waited for")
    }
}
