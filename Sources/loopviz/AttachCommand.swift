import ArgumentParser
import LoopViz
import Visualizer

struct AttachCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attach",
        abstract: "Watch a running program's loop: one started with --serve SOCKET (or LOOPVIZ_SOCKET).",
        discussion: """
            The live screen of a program that runs elsewhere: its history so far, then every step \
            as it happens. Space pauses it, s steps it, c lets it run on; q detaches (the program \
            runs on; attach again at any time). With --plain: wait until it ends, then print its \
            output and lanes.
            """
    )

    @Argument(help: ArgumentHelp("The program's socket.", valueName: "SOCKET")) var path: String
    @Flag(help: "No screen: read until the program ends, then print its output and lanes.") var plain = false
    @Option(parsing: .unconditional, help: "Width of the --plain picture.") var width: Int?
    @Option(parsing: .unconditional, help: "Keep at most this many events in memory (the oldest leave; default: about 70 MB).")
    var history = LaneModel.defaultHistoryLimit
    @Option(name: .customLong("record"), help: ArgumentHelp("Record what this viewer sees to FILE (replay it with loopviz replay).", valueName: "FILE"))
    var recordPath: String?

    func validate() throws {
        try Check.display(speed: 1, width: width, slowMs: 100)
        guard history >= 1000 else { throw ValidationError("--history must be at least 1000 (got \(history))") }
        try Check.writable(recordPath, "--record")
    }

    func run() throws {
        do {
            let status = try Attach.run(path: path, plain: plain, width: width, historyLimit: history, recordPath: recordPath)
            if status != 0 { throw ExitCode(status) }
        } catch let error as AttachError {
            StandardStream.error.write("loopviz: \(error)\n")
            throw ExitCode(1)
        }
    }
}
