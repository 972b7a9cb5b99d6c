#if canImport(Glibc)
import Glibc
#endif

/// A server program in a process of its own, for the echo bench. It says its port on stdout
/// (`port N`, or `not installed` when its event loop is missing); closing its stdin asks it to
/// stop (it prints its last words, if any, and exits); if it does not, SIGTERM, then SIGKILL.
/// Every way out of ``start(_:portTimeout:)`` and ``stop()`` leaves no child behind.
///
/// Spawned with `posix_spawnp` rather than Foundation's `Process`: the pipes must not leak
/// their other ends into the child (or its stdin would never reach end-of-file), and the client
/// process should not gain Foundation's monitoring thread while it measures.
final class ServerProcess {
    /// What the server said first.
    enum Greeting: Equatable {
        case port(Int)
        /// Its event loop is not there (uvloop): the line it printed instead of a port.
        case unavailable(String)
    }

    let pid: pid_t
    private var stdinWrite: Int32
    private let stdoutRead: Int32
    /// Its stderr: an unlinked temporary file, read only to explain a failure. A file, not a
    /// pipe, so that a chatty server never blocks on a pipe nobody reads.
    private let errorFile: Int32
    private var output: [UInt8] = []
    private var exited = false

    private init(pid: pid_t, stdinWrite: Int32, stdoutRead: Int32, errorFile: Int32) {
        self.pid = pid
        self.stdinWrite = stdinWrite
        self.stdoutRead = stdoutRead
        self.errorFile = errorFile
    }

    deinit {
        _ = stop()
        close(stdoutRead)
        close(errorFile)
    }

    /// Starts `arguments` (the first is looked up in PATH) and waits for its greeting.
    /// - Throws: ``EchoBenchError/serverStart(_:)`` when it cannot start, exits, or says
    ///   nothing within `portTimeout` seconds; the child is gone by then.
    static func start(_ arguments: [String], portTimeout: Double = 5) throws(EchoBenchError) -> (ServerProcess, Greeting) {
        var input: [Int32] = [0, 0], output: [Int32] = [0, 0]
        guard closeOnExecPipe(&input) else { throw .system("pipe", errno) }
        guard closeOnExecPipe(&output) else {
            close(input[0]); close(input[1])
            throw .system("pipe", errno)
        }
        var template = Array("/tmp/loopviz-echo-server-XXXXXX".utf8CString)
        let errorFile = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        if errorFile >= 0 {
            template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
            _ = fcntl(errorFile, F_SETFD, FD_CLOEXEC)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // dup2 clears close-on-exec on the copies: the child keeps exactly fds 0, 1 and 2.
        posix_spawn_file_actions_adddup2(&actions, input[0], 0)
        posix_spawn_file_actions_adddup2(&actions, output[1], 1)
        if errorFile >= 0 { posix_spawn_file_actions_adddup2(&actions, errorFile, 2) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Whatever this process ignores, the server must stop on SIGTERM and SIGINT.
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGTERM)
        sigaddset(&defaults, SIGINT)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF))

        let argv = arguments.map { strdup($0) } + [nil]
        defer { for argument in argv { free(argument) } }
        var pid: pid_t = 0
        let code = posix_spawnp(&pid, arguments[0], &actions, &attributes, argv, environ)
        close(input[0])
        close(output[1])
        guard code == 0 else {
            close(input[1]); close(output[0])
            if errorFile >= 0 { close(errorFile) }
            throw .serverStart("cannot start \(arguments[0]): \(String(cString: strerror(code)))")
        }
        let server = ServerProcess(pid: pid, stdinWrite: input[1], stdoutRead: output[0], errorFile: errorFile)
        do {
            return (server, try server.readGreeting(timeout: portTimeout, program: arguments.joined(separator: " ")))
        } catch {
            _ = server.stop(grace: 0)
            throw error
        }
    }

    /// The server's CPU seconds so far, all threads.
    func cpuSeconds() -> Double? { CPUAffinity.processCPUSeconds(pid) }

    /// Asks the server to stop (closes its stdin), waits up to `grace` seconds, then SIGTERM,
    /// then SIGKILL; reaps it. Returns what it printed after its greeting. Idempotent.
    @discardableResult
    func stop(grace: Double = 2) -> String {
        if stdinWrite >= 0 {
            close(stdinWrite)
            stdinWrite = -1
        }
        if !exited && !waitForExit(seconds: grace) {
            kill(pid, SIGTERM)
            if !waitForExit(seconds: 1) {
                kill(pid, SIGKILL)
                var status: Int32 = 0
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                exited = true
            }
        }
        drainOutput(timeoutMilliseconds: 0)
        return String(decoding: output, as: UTF8.self)
    }

    // MARK: - Internals

    /// A pipe whose ends close on exec (glibc's pipe2 needs _GNU_SOURCE): only the copies the
    /// child gets with dup2 survive into it. The bench spawns from one thread, so no other
    /// spawn can slip in between pipe and fcntl.
    private static func closeOnExecPipe(_ ends: inout [Int32]) -> Bool {
        guard pipe(&ends) == 0 else { return false }
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        return true
    }

    private func readGreeting(timeout: Double, program: String) throws(EchoBenchError) -> Greeting {
        let deadline = EchoClient.now() + UInt64(timeout * 1e9)
        while true {
            if let newline = output.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: output[..<newline], as: UTF8.self)
                output.removeSubrange(...newline)
                let words = line.split(separator: " ")
                if words.count == 2, words[0] == "port", let port = Int(words[1]), (1...65535).contains(port) { return .port(port) }
                if line.hasSuffix("not installed") { return .unavailable(line) }
                throw .serverStart("\(program): printed \"\(line)\" instead of its port\(errorTail())")
            }
            let now = EchoClient.now()
            guard now < deadline else {
                throw .serverStart("\(program): no port printed within \(timeout) s\(errorTail())")
            }
            if !drainOutput(timeoutMilliseconds: Int32(min(100, (deadline - now) / 1_000_000 + 1))) {
                throw .serverStart("\(program): exited before printing its port\(errorTail())")
            }
        }
    }

    /// Reads what stdout has, waiting up to `timeoutMilliseconds` for something. False at its end.
    @discardableResult
    private func drainOutput(timeoutMilliseconds: Int32) -> Bool {
        var descriptor = pollfd(fd: stdoutRead, events: Int16(POLLIN), revents: 0)
        let ready = poll(&descriptor, 1, timeoutMilliseconds)
        guard ready > 0 else { return true }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { read(stdoutRead, $0.baseAddress, $0.count) }
        if count > 0 { output += buffer[..<count] }
        return count != 0
    }

    /// Polls for the child's exit, reading its stdout meanwhile (so that its last words are not
    /// stuck in a full pipe). True once it has exited and been reaped.
    private func waitForExit(seconds: Double) -> Bool {
        let deadline = EchoClient.now() + UInt64(seconds * 1e9)
        repeat {
            var status: Int32 = 0
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid || (result < 0 && errno == ECHILD) {
                exited = true
                return true
            }
            if !drainOutput(timeoutMilliseconds: 5) { usleep(5_000) }  // stdout closed: poll would not wait
        } while EchoClient.now() < deadline
        return false
    }

    /// The end of the server's stderr, to explain why it failed.
    private func errorTail() -> String {
        guard errorFile >= 0 else { return "" }
        var buffer = [UInt8](repeating: 0, count: 2048)
        var status = stat()
        let size = fstat(errorFile, &status) == 0 ? status.st_size : 0
        let count = buffer.withUnsafeMutableBytes { pread(errorFile, $0.baseAddress, $0.count, max(0, size - 2048)) }
        guard count > 0 else { return "" }
        let text = String(decoding: buffer[..<count], as: UTF8.self).trimmingTrailingWhitespace
        return text.isEmpty ? "" : "; its stderr ends: \(text)"
    }
}

private extension String {
    var trimmingTrailingWhitespace: String {
        var text = self
        while let last = text.last, last.isWhitespace { text.removeLast() }
        return text
    }
}
