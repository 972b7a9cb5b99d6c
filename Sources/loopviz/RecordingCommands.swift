import ArgumentParser
import LoopViz
import Foundation
import Trace
import Visualizer

struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Show a run recorded with --record again, in the live screen: play, pause, step both ways."
    )

    @Argument(help: "A file written by --record.") var file: String
    @Option(parsing: .unconditional, help: "Playback speed: 0.25 plays 4× slower than it ran.") var speed = 1.0
    @Flag(help: "No terminal UI: print the output, then the lanes as text.") var plain = false
    @Flag(help: "Start paused at the first step.") var step = false
    @Flag(help: "If the file is damaged or cut, show what comes before the damage instead of failing.") var salvage = false
    @Option(parsing: .unconditional, help: "Flag steps that held the loop at least this many milliseconds.") var slowMs = 100.0
    @Option(parsing: .unconditional, help: "Width of the --plain picture.") var width: Int?
    @Flag(help: "Order the lanes as the spawn tree: each task under the task that spawned it, indented (T toggles it on screen).")
    var tree = false
    @Option(parsing: .unconditional, help: ArgumentHelp("Keep at most N events in memory; older ones leave the screen (default: \(LaneModel.defaultHistoryLimit), about 70 MB).", valueName: "N"))
    var history = LaneModel.defaultHistoryLimit

    func validate() throws {
        try Check.display(speed: speed, width: width, slowMs: slowMs)
        try Check.history(history)
    }

    func run() throws {
        var options = Recording.ReplayOptions(path: file)
        options.speed = speed
        options.plain = plain
        options.step = step
        options.salvage = salvage
        options.slowMilliseconds = slowMs
        options.width = width
        options.tree = tree
        options.historyLimit = history
        let status = try Recording.replay(options)
        if status != 0 { throw ExitCode(status) }
    }
}

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Convert a recording for other tools: --chrome writes the Chrome Trace Event Format (Perfetto, chrome://tracing)."
    )

    @Argument(help: "A file written by --record.") var file: String
    @Option(help: ArgumentHelp("Write the Chrome trace to OUT.json.", valueName: "OUT.json")) var chrome: String
    @Flag(help: "If the file is damaged or cut, export what comes before the damage.") var salvage = false

    func run() throws {
        try Recording.exportChrome(from: file, to: chrome, salvage: salvage)
    }
}
