import Foundation
import Trace
import Visualizer

/// `loopviz attach SOCKET [--plain]`.
public enum Attach {
    /// Shows the program behind `path` (the live screen, or with `plain` its output and lanes
    /// once it ends). Exit status: 0, 1 (cannot attach, damaged stream), 128 + n after signal n.
    public static func run(path: String, plain: Bool, width: Int?, historyLimit: Int = LaneModel.defaultHistoryLimit,
                           recordPath: String? = nil) throws -> Int32 {
        let session = try AttachSession(path: path, historyLimit: historyLimit, recordPath: recordPath)
        if let status = try Launcher.withScreen(unless: plain, { session.execute() }) { return status }
        let (model, scenario) = try session.readToEnd()
        StandardStream.output.write(model.log.filter { !$0.isDiagnostic }.map { $0.text + "\n" }.joined())
        print(PlainRun.picture(model, scenario: scenario, clock: .real(speed: 1), width: width ?? PlainRun.terminalWidth()))
        return 0
    }
}
