#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization

/// The Python child of `loopviz python`: spawned with one end of a socket pair as fd 3 (the
/// trace stream out, `pause` / `step` / `run` in), its stdout and stderr in a pipe loopviz drains
/// (whatever bypasses the module's capture: a crash, the version check), and — under the live
/// screen — its own process group and /dev/null as stdin, so the terminal's keys and Ctrl-C
/// reach loopviz alone. It never outlives loopviz: loopviz ends it on every way out, and the
/// module exits by itself when its socket closes (loopviz killed).
final class PythonProcess: Sendable {
    let pid: pid_t
    /// loopviz's end of the socket pair (handed over to the session that reads it).
    let socket: Int32
    private let leftovers: Mutex<[UInt8]>
    private let drained = DispatchSemaphore(value: 0)
    private let status = Mutex<Int32?>(nil)

    /// The fd the child finds its socket on (LOOPVIZ_FD).
    static let childSocketFD: Int32 = 3

    /// Starts `python` (a name looked up on PATH, or a path) with `arguments`.
    /// - Parameter ownTerminal: under the live screen: stdin from /dev/null, a process group of its own.
    init(python: String, arguments: [String], environment: [String: String], ownTerminal: Bool) throws(PythonRunError) {
        var pair: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
            throw .cannotPrepare("socketpair: \(String(cString: strerror(errno)))")
        }
        var output: [Int32] = [-1, -1]
        // (pipe2 is not in Glibc's Swift module: pipe, then close-on-exec on both ends.)
        guard pipe(&output) == 0 else {
            close(pair[0]); close(pair[1])
            throw .cannotPrepare("pipe: \(String(cString: strerror(errno)))")
        }
        for end in output { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        // Above the fds the child's dup2 targets, so that no dup2 is a no-op that keeps CLOEXEC.
        let childEnd = fcntl(pair[1], F_DUPFD_CLOEXEC, 10)
        close(pair[1])
        defer { close(childEnd); close(output[1]) }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if ownTerminal { posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0) }
        posix_spawn_file_actions_adddup2(&actions, output[1], 1)
        posix_spawn_file_actions_adddup2(&actions, output[1], 2)
        posix_spawn_file_actions_adddup2(&actions, childEnd, Self.childSocketFD)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // The signals loopviz handles itself go back to their defaults in the child.
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGQUIT] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var noneBlocked = sigset_t()
        sigemptyset(&noneBlocked)
        posix_spawnattr_setsigmask(&attributes, &noneBlocked)
        var flags = Int32(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK)
        if ownTerminal {
            flags |= Int32(POSIX_SPAWN_SETPGROUP)
            posix_spawnattr_setpgroup(&attributes, 0)
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))

        let argv = [python] + arguments
        let envp = environment.map { "\($0.key)=\($0.value)" }
        var child: pid_t = 0
        let result = Self.withCStrings(argv) { argv in
            Self.withCStrings(envp) { envp in
                posix_spawnp(&child, python, &actions, &attributes, argv, envp)
            }
        }
        guard result == 0 else {
            close(pair[0]); close(output[0])
            if result == ENOENT || result == EACCES { throw .noPython(python) }
            throw .cannotPrepare("cannot start \(python): \(String(cString: strerror(result)))")
        }
        pid = child
        socket = pair[0]
        leftovers = Mutex([])
        let readEnd = output[0]
        let thread = Thread { [self] in
            var buffer = [UInt8](repeating: 0, count: 1 << 14)
            while true {
                let count = read(readEnd, &buffer, buffer.count)
                if count > 0 {
                    leftovers.withLock { $0 += buffer[0..<count] }
                } else if count < 0 && errno == EINTR {
                    continue
                } else {
                    break
                }
            }
            close(readEnd)
            drained.signal()
        }
        thread.start()
    }

    /// Waits for the child to end; returns its status as a shell reports it (128 + n after signal n).
    @discardableResult
    func wait() -> Int32 {
        if let known = status.withLock({ $0 }) { return known }
        var raw: Int32 = 0
        while waitpid(pid, &raw, 0) < 0 && errno == EINTR {}
        return record(raw)
    }

    /// Ends the child if it still runs: SIGTERM to it (and its group, when it has its own),
    /// then SIGKILL after `grace` seconds. Returns its status.
    @discardableResult
    func end(grace: Double = 1) -> Int32 {
        if let known = status.withLock({ $0 }) { return known }
        var raw: Int32 = 0
        if waitpid(pid, &raw, WNOHANG) == pid { return record(raw) }
        signalChild(SIGTERM)
        let deadline = Date().addingTimeInterval(grace)
        while Date() < deadline {
            if waitpid(pid, &raw, WNOHANG) == pid { return record(raw) }
            usleep(5_000)
        }
        signalChild(SIGKILL)
        return wait()
    }

    /// What the child wrote to its own stdout and stderr (not through the module), once it ended.
    func leftoverOutput() -> String {
        _ = drained.wait(timeout: .now() + 2)
        drained.signal()
        return String(decoding: leftovers.withLock { $0 }, as: UTF8.self)
    }

    private func signalChild(_ signal: Int32) {
        // Its own group (live screen): whatever it started goes too.
        if getpgid(pid) == pid { kill(-pid, signal) } else { kill(pid, signal) }
    }

    private func record(_ raw: Int32) -> Int32 {
        let code: Int32
        if raw & 0x7f == 0 {
            code = (raw >> 8) & 0xff
        } else {
            code = 128 + (raw & 0x7f)
        }
        status.withLock { $0 = code }
        return code
    }

    private static func withCStrings<R>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
        var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
        pointers.append(nil)
        defer { for pointer in pointers { free(pointer) } }
        return body(pointers)
    }
}
