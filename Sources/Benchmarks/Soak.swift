import Foundation

/// `loopviz bench --soak SECONDS`: an endless program served on a socket and watched through
/// `loopviz attach`, both as processes of their own, with their resident memory sampled every
/// second. Not a test: a long run to show that neither grows without bound (the program keeps a
/// bounded history for viewers; the viewer keeps `--history` events).
public enum Soak {
    public struct Sample: Sendable {
        public var second: Int
        public var programMB: Double
        public var viewerMB: Double
    }

    /// Runs the soak with `executable` (this loopviz) for `seconds`, sampling each second;
    /// `report` gets each sample as it comes. Returns the samples.
    public static func run(executable: String, seconds: Int, viewerHistory: Int, report: (Sample) -> Void) throws -> [Sample] {
        let folder = NSTemporaryDirectory() + "loopviz-soak-\(getpid())"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let socket = folder + "/soak.sock"
        let program = Process()
        program.executableURL = URL(fileURLWithPath: executable)
        program.arguments = ["bench", "--soak-program", socket]
        program.standardOutput = FileHandle.nullDevice
        program.standardError = FileHandle.nullDevice
        try program.run()
        defer { if program.isRunning { program.terminate() } }
        var waited = 0
        while !FileManager.default.fileExists(atPath: socket) && waited < 500 { usleep(10_000); waited += 1 }
        let viewer = Process()
        viewer.executableURL = URL(fileURLWithPath: executable)
        viewer.arguments = ["attach", socket, "--plain", "--history", "\(viewerHistory)"]
        viewer.standardOutput = FileHandle.nullDevice
        let viewerErrors = Pipe()
        viewer.standardError = viewerErrors
        try viewer.run()
        var samples: [Sample] = []
        for second in 1...max(1, seconds) {
            sleep(1)
            let sample = Sample(second: second, programMB: residentMB(program.processIdentifier), viewerMB: residentMB(viewer.processIdentifier))
            samples.append(sample)
            report(sample)
        }
        program.terminate()
        program.waitUntilExit()
        viewer.waitUntilExit()
        let complaint = String(decoding: viewerErrors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        if viewer.terminationStatus != 0 { throw SoakError(description: "the viewer failed: \(complaint)") }
        return samples
    }

    /// VmRSS of `pid` in MB (0 when it is gone).
    static func residentMB(_ pid: Int32) -> Double {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kilobytes = Double(line.split(separator: " ").dropFirst().first ?? "") else { return 0 }
        return kilobytes / 1024
    }
}

/// A soak that could not run as it should, in one line.
public struct SoakError: Error, CustomStringConvertible {
    public var description: String
}
