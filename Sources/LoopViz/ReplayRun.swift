import Foundation
import Visualizer
import Loop
import Trace

/// `loopviz replay` and `loopviz export`: what can be done with a recording.
public enum Recording {
    public struct ReplayOptions: Sendable {
        public var path: String
        public var speed: Double = 1
        public var plain = false
        public var salvage = false
        public var step = false
        public var width: Int?
        public var slowMilliseconds: Double = 100
        /// Order the lanes as the spawn tree.
        public var tree = false
        /// Most events kept in memory (the file keeps them all).
        public var historyLimit = LaneModel.defaultHistoryLimit

        public init(path: String) { self.path = path }
    }

    /// Replays a recording in the live screen (or as plain text). Exit status.
    public static func replay(_ options: ReplayOptions) throws -> Int32 {
        // Read a chunk at a time through the same ingest path as a live run's and an attached
        // one's (no recording of a recording): the model keeps `--history` events, not the file.
        var source = try FileSource(path: options.path, salvage: options.salvage)
        var model = LaneModel(names: source.reader.names)
        model.slowStepThreshold = Int64(options.slowMilliseconds * 1e6)
        model.historyLimit = options.historyLimit
        var ingest = TraceIngest(model: model, recorder: nil)
        while !source.finished { try ingest.take(from: &source) }
        model = ingest.model
        let meta = source.reader.meta
        let scenario = meta["scenario"] ?? URL(fileURLWithPath: options.path).lastPathComponent
        let clock: ClockKind = meta["clock"]?.hasPrefix("real") == true ? .real(speed: 1) : .virtual
        if !source.reader.complete {
            StandardStream.error.write("loopviz: \(options.path): the recording ends before the run did (\(source.reader.recordCount) records kept)\n")
        }
        let screen = try Launcher.withScreen(unless: options.plain) {
            ReplaySession(model: model, scenario: scenario, clock: clock, speed: options.speed, startPaused: options.step,
                          tree: options.tree).execute()
        }
        if let status = screen { return status }
        let output = model.log.filter { !$0.isDiagnostic }.map { $0.text + "\n" }.joined()
        StandardStream.output.write(output)
        print(PlainRun.picture(model, scenario: scenario, clock: clock, width: options.width ?? PlainRun.terminalWidth(), tree: options.tree))
        return 0
    }

    /// Writes a recording as a Chrome trace.
    public static func exportChrome(from path: String, to output: String, salvage: Bool) throws {
        let contents = try TraceFile.read(path: path, salvage: salvage)
        let model = LaneModel(records: contents.records, names: contents.names)
        try writeChromeTrace(model, process: "loopviz \(contents.meta["scenario"] ?? "replay")", to: output)
    }
}
