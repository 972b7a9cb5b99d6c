import Foundation
import Loop
import Synchronization
import Testing
import Trace
import Visualizer
@testable import LoopViz

/// The attach channel: who may connect, what a viewer receives, and that nothing a viewer does
/// (garbage, vanishing mid-step) disturbs the program.
@Suite("Attach", .serialized)
struct AttachTests {
    // MARK: - Policy

    @Test func onlyTheSameUserMayAttach() {
        #expect(SocketPolicy.allows(peerUID: 1000, ownUID: 1000))
        #expect(!SocketPolicy.allows(peerUID: 1001, ownUID: 1000))  // a fake credential of another user
        #expect(!SocketPolicy.allows(peerUID: nil, ownUID: 1000))  // no credential at all
    }

    @Test func theSocketMustLiveInAFolderOnlyTheUserCanWrite() throws {
        #expect(throws: SocketPolicy.Refusal.self) { try SocketPolicy.checkPath("/tmp/loopviz-shared.sock") }  // /tmp: 1777
        let folder = try Self.privateFolder()
        try SocketPolicy.checkPath(folder + "/ok.sock")
        FileManager.default.createFile(atPath: folder + "/file", contents: Data("x".utf8))
        #expect(throws: SocketPolicy.Refusal(description: "\(folder)/file exists and is not a stale socket of yours")) {
            try SocketPolicy.checkPath(folder + "/file")
        }
    }

    @Test func theSocketFileAppearsListeningPrivateAndAlone() throws {
        // Bound and listening under a temporary name, then linked to the path: whoever sees the
        // file can connect (a viewer started right after the program was sometimes refused).
        let folder = try Self.privateFolder()
        let path = folder + "/served.sock"
        let fd = try UnixSocket.listen(at: path)
        defer { close(fd) }
        #expect(SocketPolicy.isLive(path))
        var status = stat()
        #expect(lstat(path, &status) == 0 && (status.st_mode & S_IFMT) == S_IFSOCK && status.st_mode & 0o777 == 0o600)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["served.sock"])
        // A socket that appears at the path meanwhile is not replaced, and nothing is left behind.
        #expect(throws: SocketPolicy.Refusal(description: "cannot serve on \(path): File exists")) {
            _ = try UnixSocket.listen(at: path)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["served.sock"])
        #expect(SocketPolicy.isLive(path))
    }

    // MARK: - The stream

    @Test func aStreamIsParsedAsItArrivesAndGarbageIsAnErrorNotACrash() throws {
        var stream = TraceStream(source: "test")
        let text = "loopviz-trace 1\nM {\"scenario\":\"x\"}\nN 1 task \"main\"\nR 5 taskSpawned 1 0 0 0 ready\nP slice 1 5\n"
        let bytes = Array(text.utf8)
        var records: [TraceRecord] = []
        for chunk in stride(from: 0, to: bytes.count, by: 7) {  // in odd pieces, as a socket gives them
            records += try stream.feed(bytes[chunk..<min(chunk + 7, bytes.count)])
        }
        #expect(records.count == 1 && stream.names.name(.init(rawValue: 1)) == "main")
        #expect(stream.pending == StepPreview(kind: .taskSlice, subject: .init(rawValue: 1), time: 5))
        _ = try stream.feed(Array("P -\n".utf8))
        #expect(stream.pending == nil)
        #expect(throws: TraceFileError.self) { _ = try stream.feed(Array("R 1 nonsense\n".utf8)) }
        var hostile = TraceStream(source: "test")
        #expect(throws: TraceFileError.self) { _ = try hostile.feed([UInt8](repeating: 0x41, count: 2 << 20)) }
    }

    // MARK: - A served program

    @Test func aViewerGetsTheHistoryStepsTheProgramAndLeavingLetsItRunOn() throws {
        let path = try Self.privateFolder() + "/served.sock"
        let served = Self.serve(path: path, step: true) { loop in
            let tasks = (0..<2).map { _ in loop.spawn("tick") { try await loop.sleep(0.05) } }
            _ = try await loop.gather(tasks)
        }
        let viewer = try Viewer(path: path)
        // The program started paused (--step): the viewer learns where it waits.
        let opening = try viewer.read(until: "P slice")
        #expect(opening.hasPrefix("loopviz-trace 1\nM {"))
        #expect(opening.contains("N 1 task \"main\""))
        try viewer.send("step\n")
        let after = try viewer.read(until: "taskResumed 1")
        #expect(after.contains("R "))
        // Gone mid-step, while the program waits for the next key: it must run on to the end.
        viewer.close()
        #expect(served.wait(timeout: .now() + 10) == .success)
        #expect(served.status == 0)
        #expect(!FileManager.default.fileExists(atPath: path))  // the socket file is removed at the end
    }

    @Test func aViewerThatSendsGarbageIsDisconnectedAndTheNextOneSeesTheHistory() throws {
        let path = try Self.privateFolder() + "/garbage.sock"
        let served = Self.serve(path: path, step: false) { loop in
            for round in 0..<150 {
                // New names while viewers come and go: each must get every name once, in order.
                _ = loop.spawn("round\(round)") {}
                try await loop.sleep(0.01)
            }
        }
        let rude = try Viewer(path: path)
        _ = try rude.read(until: "taskSpawned")
        try rude.send("let me in\n")
        // The server hangs up on it: readToClose returns at the close (it throws after 10 s
        // without one), and nothing more came after the garbage than what was already on its way.
        let afterGarbage = try rude.readToClose()
        #expect(!afterGarbage.contains("E "))  // cut off, not served to the end
        let polite = try Viewer(path: path)
        let history = try polite.read(until: "taskSpawned 1")
        #expect(history.contains("N 1 task \"main\""))
        // Viewers joining one after another while names are being made: each one's stream parses
        // (a name sent twice, or out of order, would be an error here).
        for _ in 0..<12 {
            let late = try Viewer(path: path)
            let text = try late.read(until: "round")
            usleep(15_000)
            var stream = TraceStream(source: path)
            _ = try stream.feed(Array((text + (try late.readAvailable())).utf8))
        }
        #expect(served.wait(timeout: .now() + 10) == .success)
        #expect(served.status == 0)
        let rest = try polite.readToClose()
        #expect(rest.contains("runFinished"))
        #expect(rest.split(separator: "\n").last?.hasPrefix("E ") == true)
        // What a viewer joining mid-run receives is a well-formed stream (names in order, each
        // declared once, before use): the real parser reads all of it.
        var stream = TraceStream(source: path)
        let records = try stream.feed(Array(rest.utf8))
        #expect(stream.ended && records.contains { $0.kind == .runFinished })
    }

    // MARK: - Helpers

    static func privateFolder() throws -> String {
        let folder = NSTemporaryDirectory() + "loopviz-attach-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        return folder
    }

    /// A program served on a thread of its own; `wait` until it ended, then read `status`.
    final class Served: @unchecked Sendable {
        // `@unchecked Sendable`: `status` is written before the semaphore is signalled, read after.
        let done = DispatchSemaphore(value: 0)
        var status: Int32 = -1
        func wait(timeout: DispatchTime) -> DispatchTimeoutResult { done.wait(timeout: timeout) }
    }

    static func serve(path: String, step: Bool, clock: RunOptions.ClockChoice = .real,
                      _ main: @escaping @Sendable (EventLoop) async throws -> Void) -> Served {
        let served = Served()
        var options = RunOptions()
        options.step = step
        options.clock = clock
        let program = LoopProgram(name: "served", main: main)
        let chosen = options
        Thread {
            served.status = LoopViz.serve(program, options: chosen, path: path)
            served.done.signal()
        }.start()
        var tries = 0
        while !FileManager.default.fileExists(atPath: path) && tries < 200 { usleep(10_000); tries += 1 }
        return served
    }

    /// A raw viewer: a Unix socket and a few calls.
    final class Viewer {
        private var fd: Int32

        init(path: String) throws {
            fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                raw.copyBytes(from: Array(path.utf8))
                raw[path.utf8.count] = 0
            }
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
            var timeout = timeval(tv_sec: 10, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        }

        private var received = ""

        /// Reads until `marker` appears (10 s at most); returns all read so far.
        func read(until marker: String) throws -> String {
            var buffer = [UInt8](repeating: 0, count: 65536)
            while !received.contains(marker) {
                let count = Glibc.read(fd, &buffer, buffer.count)
                guard count > 0 else { throw POSIXError(.ETIMEDOUT) }
                received += String(decoding: buffer[0..<count], as: UTF8.self)
            }
            return received
        }

        /// What has arrived by now (waits 50 ms for it).
        func readAvailable() throws -> String {
            var timeout = timeval(tv_sec: 0, tv_usec: 50_000)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            defer {
                var back = timeval(tv_sec: 10, tv_usec: 0)
                setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &back, socklen_t(MemoryLayout<timeval>.size))
            }
            var buffer = [UInt8](repeating: 0, count: 65536)
            let before = received.count
            let deadline = Date().addingTimeInterval(0.05)  // a live stream never pauses by itself
            while Date() < deadline {
                let count = Glibc.read(fd, &buffer, buffer.count)
                guard count > 0 else { break }
                received += String(decoding: buffer[0..<count], as: UTF8.self)
            }
            return String(received.dropFirst(before))
        }

        /// Reads until the server closes the connection.
        func readToClose() throws -> String {
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = Glibc.read(fd, &buffer, buffer.count)
                if count == 0 { return received }
                guard count > 0 else { throw POSIXError(.ETIMEDOUT) }
                received += String(decoding: buffer[0..<count], as: UTF8.self)
            }
        }

        func send(_ text: String) throws {
            let bytes = Array(text.utf8)
            guard bytes.withUnsafeBytes({ Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == bytes.count else {
                throw POSIXError(.EPIPE)
            }
        }

        func close() {
            if fd >= 0 { Glibc.close(fd) }
            fd = -1
        }

        deinit { close() }
    }
}

extension AttachTests {
    @Test func printedTextLeavesTheProgramsNamesWhenItLeavesTheServersHistory() throws {
        let ring = TraceRing(capacity: 1 << 12)
        let names = NameTable()
        let path = try Self.privateFolder() + "/texts.sock"
        let server = try AttachServer(path: path, ring: ring, names: names, meta: [:], gate: StepController(stepping: false),
                                      clock: LiveClock(), historyLimit: 10)
        server.start()
        let task = names.intern("main", kind: .task)
        var texts: [EntityID] = []
        for line in 0..<50 {
            let text = names.intern("line \(line)", kind: .text)
            texts.append(text)
            ring.push(TraceRecord(time: Int64(line), kind: .output, subject: task, value: Int64(text.rawValue)))
            if line % 10 == 9 { usleep(40_000) }  // let the server drain in batches
        }
        server.finish(dropped: 0)
        #expect(names.name(texts[0]) == "")  // long gone from the history: its text too
        #expect(names.name(texts[49]) == "line 49")  // still in the history
        #expect(names.name(task) == "main")  // tasks' names are never forgotten
    }
}

extension AttachTests {
    @Test func aSecondProgramCannotTakeOverALiveSocket() throws {
        let path = try Self.privateFolder() + "/taken.sock"
        let served = Self.serve(path: path, step: true) { loop in try await loop.sleep(0.01) }
        #expect(throws: SocketPolicy.Refusal(description: "\(path) is served by a running program already")) {
            try SocketPolicy.checkPath(path)
        }
        let viewer = try Viewer(path: path)
        _ = try viewer.read(until: "P ")
        try viewer.send("run\n")
        #expect(served.wait(timeout: .now() + 10) == .success)
    }

    @Test func onVirtualTimeARunAfterPauseDoesNotTurnRealTimeOn() throws {
        let path = try Self.privateFolder() + "/virtual.sock"
        let served = Self.serve(path: path, step: true, clock: .virtual) { loop in try await loop.sleep(60) }  // a minute of loop time
        let viewer = try Viewer(path: path)
        _ = try viewer.read(until: "P ")
        try viewer.send("run\n")
        // Virtual time: the minute passes at once (real time would take a minute).
        #expect(served.wait(timeout: .now() + 10) == .success)
    }
}
