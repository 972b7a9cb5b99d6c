import Foundation

/// The built `loopviz` binary, run as a child process.
enum Loopviz {
    /// Next to the test bundle in the build folder (SwiftPM builds it for this test target).
    static var path: String {
        let bundleDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [bundleDirectory, bundleDirectory.deletingLastPathComponent()] {
            let binary = candidate.appendingPathComponent("loopviz").path
            if FileManager.default.isExecutableFile(atPath: binary) { return binary }
        }
        return packageRoot.appendingPathComponent(".build/debug/loopviz").path
    }

    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
        var seconds: Double
    }

    /// Runs `loopviz arguments` with stdout and stderr piped (so not a terminal) and waits.
    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Result {
        try runProcess(path, arguments, environment: environment)
    }

    /// Runs any program the same way (a shell line that pipes into loopviz, a probe for python3).
    static func runProcess(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["LANG"] = "C.UTF-8"
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let start = Date()
        try process.run()
        // stderr is read on another thread: a child that fills one pipe while the other is read
        // would otherwise wait forever.
        nonisolated(unsafe) var stderrData = Data()
        let stderrRead = DispatchSemaphore(value: 0)
        Thread {
            stderrData = err.fileHandleForReading.readDataToEndOfFile()
            stderrRead.signal()
        }.start()
        let stdoutData = out.fileHandleForReading.readDataToEndOfFile()
        stderrRead.wait()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: stdoutData, as: UTF8.self),
                      stderr: String(decoding: stderrData, as: UTF8.self), seconds: Date().timeIntervalSince(start))
    }

    static func fixture(_ name: String) throws -> String {
        try String(contentsOf: packageRoot.appendingPathComponent("Tests/Fixtures/cpython/\(name)"), encoding: .utf8)
    }
}
