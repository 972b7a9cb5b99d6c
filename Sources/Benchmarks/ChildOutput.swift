import Foundation

/// What a bench child process printed: every fresh-process measurement (ping, task costs, the
/// CPython references) runs one and reads its standard output.
enum ChildOutput {
    /// Runs `executable arguments` (stderr discarded) and returns its standard output, or nil
    /// when it cannot start, fails, or is still running after `timeout` seconds (then it is
    /// killed: a hung child must not hang the bench).
    static func run(_ executable: String, _ arguments: [String], timeout: Double = 300) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let pid = process.processIdentifier
        let watchdog = DispatchWorkItem { if process.isRunning { kill(pid, SIGKILL) } }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: watchdog)
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        watchdog.cancel()
        guard process.terminationReason == .exit, process.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self)
    }
}
