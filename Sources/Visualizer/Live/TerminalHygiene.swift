import Foundation
import Synchronization

/// While the screen is up, the process's stdout and stderr go into a pipe (shown in the log
/// pane), so nothing is printed over the screen; ncurses draws on a duplicate of the original
/// stdout. ``end()`` puts both back.
final class OutputCapture {
    private var savedOut: Int32 = -1
    private var savedErr: Int32 = -1
    private var readFD: Int32 = -1
    private var partial = Data()

    /// Starts capturing. Returns the terminal's file descriptor for ncurses, or nil on failure.
    func begin() -> Int32? {
        fflush(nil)  // every C stream: nothing buffered before the switch lands in the pipe
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { return nil }
        let terminal = dup(STDOUT_FILENO)
        savedOut = dup(STDOUT_FILENO)
        savedErr = dup(STDERR_FILENO)
        guard terminal >= 0, savedOut >= 0, savedErr >= 0 else { return nil }
        _ = fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK)
        dup2(fds[1], STDOUT_FILENO)
        dup2(fds[1], STDERR_FILENO)
        close(fds[1])
        readFD = fds[0]
        return terminal
    }

    /// Complete lines written since the last call (nil when not capturing).
    func readAvailable() -> [String]? {
        guard readFD >= 0 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(readFD, &buffer, buffer.count)
            if count <= 0 { break }
            partial.append(contentsOf: buffer[0..<count])
        }
        guard let lastNewline = partial.lastIndex(of: UInt8(ascii: "\n")) else { return [] }
        let complete = partial[partial.startIndex..<lastNewline]
        partial = Data(partial[(lastNewline + 1)...])
        return String(decoding: complete, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }

    /// Restores stdout and stderr. Safe to call more than once.
    func end() {
        guard savedOut >= 0 else { return }
        let rest = readAvailable() ?? []
        dup2(savedOut, STDOUT_FILENO)
        dup2(savedErr, STDERR_FILENO)
        close(savedOut)
        close(savedErr)
        close(readFD)
        savedOut = -1
        readFD = -1
        if !rest.isEmpty { StandardStream.error.write(rest.joined(separator: "\n") + "\n") }
    }
}

/// Turns SIGTERM, SIGINT and SIGHUP into a flag the UI loop checks, so that a signal ends the
/// session through the same path as `q`: the terminal is restored before the process exits.
final class SignalWatch {
    private final class Flag: Sendable {
        let raised = Atomic<Int32>(0)
    }

    private let flag = Flag()
    private let sources: [any DispatchSourceSignal]

    init() {
        let flag = self.flag
        var sources: [any DispatchSourceSignal] = []
        for signalNumber in [SIGTERM, SIGINT, SIGHUP] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { flag.raised.store(signalNumber, ordering: .releasing) }
            source.resume()
            sources.append(source)
        }
        self.sources = sources
    }

    /// The signal received, if any.
    var received: Int32? {
        let number = flag.raised.load(ordering: .acquiring)
        return number == 0 ? nil : number
    }
}
