#if canImport(Glibc)
import Glibc
#endif
import Foundation
import LoopViz
import Trace
import Visualizer

/// `loopviz python SCRIPT.py [ARGS…]`: a real CPython asyncio program on the live screen (or,
/// `--plain`, its output and then its lanes), fed by the instrumentation module over a socket
/// pair in the stream format `loopviz attach` reads, with the same keys and the same pictures.
public enum PythonRun {
    public struct Options: Sendable {
        public var python = "python3"
        public var script: String
        public var arguments: [String] = []
        public var plain = false
        public var lanes = true
        public var step = false
        public var schedulePath: String?
        public var recordPath: String?
        public var chromeTracePath: String?
        public var slowMilliseconds = 100.0
        public var width: Int?
        public var historyLimit = LaneModel.defaultHistoryLimit
        public var tree = false
        public var loopState = false

        public init(script: String) { self.script = script }
    }

    /// Runs the program; returns loopviz's exit status: the program's own (0 when it ended well,
    /// its `sys.exit` code, 1 after an escaped exception), or 128 + n when a signal ended the run.
    public static func run(_ options: Options) throws -> Int32 {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: options.script, isDirectory: &isFolder), !isFolder.boolValue,
              FileManager.default.isReadableFile(atPath: options.script) else {
            throw PythonRunError.noScript(options.script)
        }
        let module = try PythonModule()
        defer { module.remove() }
        var reasonForPlain: String?
        if !options.plain { reasonForPlain = TerminalCheck.whyNotInteractive() }
        let screen = !options.plain && reasonForPlain == nil
        var environment = ProcessInfo.processInfo.environment
        environment["LOOPVIZ_FD"] = String(PythonProcess.childSocketFD)
        if options.step { environment["LOOPVIZ_STEP"] = "1" }
        let child = try PythonProcess(python: options.python, arguments: ["-c", module.bootstrap, options.script] + options.arguments,
                                      environment: environment, ownTerminal: screen)
        // On every way out below: the child does not outlive this run.
        defer { child.end() }
        let name = URL(fileURLWithPath: options.script).lastPathComponent
        let session: AttachSession
        do {
            session = try AttachSession(fd: child.socket, source: "python \(name)", slowMilliseconds: options.slowMilliseconds,
                                        historyLimit: options.historyLimit, recordPath: options.recordPath, scenario: name)
        } catch let error as AttachError {
            throw PythonRunError.cannotPrepare(error.description)
        }
        session.noStepsNotice = "\(name) never started an asyncio event loop: nothing to show"
        if let reasonForPlain { StandardStream.error.write("loopviz: \(reasonForPlain); printing --plain output\n") }

        // A Python that fails before the module runs (too old, a broken install) says why on its
        // stderr and closes the socket at once: say that, without opening a screen for nothing.
        if screen && !waitForFirstBytes(on: child.socket) {
            let status = child.wait()
            StandardStream.error.write(child.leftoverOutput())
            return status == 0 ? 1 : status
        }
        if screen, let outcome = session.execute() {
            let status = outcome.deliver()
            let programStatus = child.end()
            // The program's output stays in the terminal, as `python3 SCRIPT.py` would leave it.
            if !outcome.hungUp {
                for line in session.lanes.log where !line.isDiagnostic {
                    (line.isError ? StandardStream.error : StandardStream.output).write(line.text + "\n")
                }
            }
            finish(session, child: child, options: options, programStatus: programStatus)
            if status != 0 { return status }
            return session.streamEnded ? programStatus : 0
        }
        return try plain(session, child: child, options: options)
    }

    private static func plain(_ session: AttachSession, child: PythonProcess, options: Options) throws -> Int32 {
        session.onOutput = { text, isError in
            (isError ? StandardStream.error : StandardStream.output).write(text + "\n")
        }
        let model: LaneModel
        do {
            (model, _) = try session.readToEnd()
        } catch let error as AttachError {
            child.end()
            StandardStream.error.write(child.leftoverOutput())
            throw PythonRunError.cannotPrepare("the program's trace is damaged: \(error.description)")
        }
        let status = child.wait()
        finish(session, child: child, options: options, programStatus: status)
        guard session.streamEnded || model.stepCount > 0 else { return status == 0 ? 1 : status }
        if options.lanes && model.stepCount > 0 {
            let name = session.metadata["scenario"] ?? "python"
            print(PlainRun.picture(model, scenario: name, clock: .real(speed: 1), width: options.width ?? PlainRun.terminalWidth(),
                                   tree: options.tree))
            if options.loopState { print(LoopStatePanel.everyStep(model)) }
        }
        return status
    }

    /// After the run: what the program wrote past the module, the no-loop note, and the files.
    private static func finish(_ session: AttachSession, child: PythonProcess, options: Options, programStatus: Int32) {
        StandardStream.error.write(child.leftoverOutput())
        let model = session.lanes
        // (A program that failed said why itself: a syntax error, another loop.)
        if let notice = session.noStepsNotice, model.stepCount == 0, session.streamEnded, programStatus == 0 {
            StandardStream.error.write("loopviz: \(notice)\n")
        }
        let name = session.metadata["scenario"] ?? "python"
        do {
            try writeSchedule(model, to: options.schedulePath)
            try writeChromeTrace(model, process: "python \(name)", to: options.chromeTracePath)
        } catch {
            StandardStream.error.write("loopviz: \(error)\n")
        }
    }

    /// Whether the child's stream starts within a few seconds (false: the socket closed first).
    private static func waitForFirstBytes(on socket: Int32) -> Bool {
        var entry = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        let ready = poll(&entry, 1, 5_000)
        guard ready > 0 else { return true }  // slow to start: the screen says so as it waits
        var byte: UInt8 = 0
        return recv(socket, &byte, 1, Int32(MSG_PEEK) | Int32(MSG_DONTWAIT)) > 0
    }
}
