#if canImport(Glibc)
import Glibc
#endif
import CLoopSystem
import Foundation
import Loop
import Trace

/// `loopviz attach SOCKET`: the live screen of a program that runs elsewhere and serves its
/// loop (`LoopViz`'s `--serve` / `LOOPVIZ_SOCKET`). The stream brings the names, the history the
/// program kept and then every record as it happens; `pause`, `step` and `run` go back. Quitting
/// detaches: the program runs on (paused, it is let go), and a later attach sees it again.
public final class AttachSession: ScreenSession {
    private let path: String
    private var source: StreamSource
    private var fd: Int32 { source.fd }
    private var stream: TraceStream { source.stream }
    /// The same ingest path as a live run's: the recording (if any) first, then the model.
    private var ingest: TraceIngest
    private var model: LaneModel { ingest.model }
    private var view: ViewState
    /// Set when the stream was damaged: the run ends with this message and status 1.
    private(set) var failure: String?
    /// The program ended (its end line came) or went away.
    private var over = false

    /// Connects to `path`. Throws a one-line reason (nothing there, not allowed).
    public convenience init(path: String, slowMilliseconds: Double = 100, historyLimit: Int = LaneModel.defaultHistoryLimit, recordPath: String? = nil) throws {
        try self.init(fd: try Self.connect(to: path), source: path, slowMilliseconds: slowMilliseconds, historyLimit: historyLimit,
                      recordPath: recordPath)
    }

    /// Reads the stream on `fd`, a connected socket this session now owns (`loopviz python`'s
    /// child speaks the same stream on a socket pair). `source` names it in messages.
    public init(fd: Int32, source name: String, slowMilliseconds: Double = 100, historyLimit: Int = LaneModel.defaultHistoryLimit,
                recordPath: String? = nil, scenario: String = "attached") throws {
        self.path = name
        let stream = TraceStream(source: name)
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        source = StreamSource(fd: fd, stream: stream)
        let names = stream.names
        var model = LaneModel(names: names)
        model.slowStepThreshold = Int64(slowMilliseconds * 1e6)
        // A program watched for hours: the viewer keeps a bounded history.
        model.historyLimit = historyLimit
        let recorder = try recordPath.map { path in
            do {
                return try TraceFileWriter(path: path, names: names, meta: ["scenario": scenario, "clock": "real"])
            } catch let error as TraceFileError {
                throw AttachError(description: "cannot write \(path): \(error.message)")
            }
        }
        ingest = TraceIngest(model: model, recorder: recorder)
        view = ViewState(scenario: scenario, clock: .real(speed: 1))
        view.glyphs = .default
        view.mode = .live
    }

    deinit { source.close() }

    /// The run as seen so far (after ``execute()``: all of it): for `--schedule` and `--chrome-trace`.
    public var lanes: LaneModel { model }
    /// The stream's metadata line (the program's name, its clock).
    public var metadata: [String: String] { stream.meta }
    /// The stream came to its end line (the program finished its run, not cut off).
    public var streamEnded: Bool { stream.ended }
    /// Said on the finished screen when the stream ended without a single step (a Python
    /// program that never started an asyncio loop).
    public var noStepsNotice: String?
    /// Called with each line the program prints, as it arrives (`--plain`: the output as it
    /// happens), and whether it went to the program's stderr.
    public var onOutput: ((String, Bool) -> Void)?

    /// Runs the screen; nil when no terminal UI could start. A damaged stream is a failure
    /// whose message is in the outcome.
    public func execute() -> SessionOutcome? {
        guard let (ending, _, leftover) = ScreenDriver.run(self) else { return nil }
        return SessionOutcome(ending: ending.outcome(failed: failure != nil),
                              messages: leftover + (failure.map { ["loopviz: \($0)"] } ?? []), hungUp: ending == .hungUp)
    }

    /// Reads the whole stream (until the program ends) and returns the model: `--plain`.
    public func readToEnd() throws -> (LaneModel, String) {
        while !over { _ = take(blocking: true) }
        if let failure { throw AttachError(description: failure) }
        return (model, stream.meta["scenario"] ?? "attached")
    }

    // MARK: - ScreenSession

    var isMoving: Bool { !over && view.mode == .live }
    var acceptsText: Bool { view.filterDraft != nil }

    func update() -> Bool {
        let before = view
        let fresh = take(blocking: false)
        view.scenario = stream.meta["scenario"] ?? view.scenario
        if stream.meta["clock"] == "virtual" { view.clock = .virtual }
        view.now = model.lastTime
        if let pending = stream.pending {
            view.nextPreview = pending
            view.nextStep = StepDescription.describe(preview: pending, names: model.names)
            if view.mode == .live { view.mode = .step }
        } else {
            // The loop no longer waits at its gate: it runs (another viewer sent `run`).
            if view.nextPreview != nil && view.mode == .step { view.mode = .live }
            view.nextPreview = nil
            view.nextStep = nil
        }
        if over {
            if model.stepCount == 0, let noStepsNotice, view.runError == nil { view.runError = noStepsNotice }
            view.mode = .finished
            view.nextStep = nil
            view.nextPreview = nil
        }
        return fresh || before != view
    }

    func frame(width: Int, height: Int, captured: [String]) -> Grid {
        view.capturedLines = captured
        return ScreenLayout.screen(model: model, view: view, width: width, height: height)
    }

    func apply(_ action: UIAction) {
        let steps = model.stepCount  // absolute: the oldest may have left memory (bounded history)
        view.notice = nil
        switch action {
        case .quit, .interrupt, .resize: return
        case .togglePause:
            if view.mode == .live { send("pause"); view.mode = .paused } else if !over { send("run"); view.mode = .live }
        case .enterStepMode:
            if view.mode == .live { send("pause"); view.mode = .step }
        case .runOn:
            view.cursor = nil
            if !over { send("run"); view.mode = .live }
        case .stepForward:
            if let cursor = view.cursor, cursor < steps {
                view.cursor = cursor + 1 == steps ? nil : cursor + 1
            } else if view.mode == .step || view.mode == .paused {
                view.mode = .step
                send("step")
            } else if view.mode == .live {
                send("pause")
                view.mode = .step
            }
        case .stepBack:
            let shown = view.cursor ?? steps
            if shown <= model.firstCursor && model.trimmedSteps > 0 { view.notice = model.oldestStepNotice }
            view.cursor = max(model.firstCursor, shown - 1)
        case .first: view.cursor = model.trimmedSteps > 0 ? model.firstCursor : min(1, steps)
        case .last: view.cursor = nil
        case .jump(let jump):
            guard let step = model.jumpTarget(jump, from: min(view.cursor ?? steps, steps), lane: view.selectedLane) else {
                view.notice = model.noJumpNotice(jump, lane: view.selectedLane)
                return
            }
            view.cursor = step >= steps ? nil : step
        default: _ = view.applyViewAction(action, model: model)
        }
    }

    // MARK: - The socket

    /// Reads what arrived and applies it. Returns whether anything did.
    private func take(blocking: Bool) -> Bool {
        guard fd >= 0 else { return false }
        source.blocking = blocking
        do {
            let batch = try source.take()
            // Printed before the model takes the batch: its bounded history may let old text go.
            if let onOutput {
                for record in batch where record.kind == .output {
                    let text = stream.names.name(EntityID(rawValue: UInt32(truncatingIfNeeded: record.value)))
                    onOutput(text, record.detail == OutputStream.standardError.rawValue)
                }
            }
            let fresh = ingest.take(batch)
            if stream.ended || source.closed {
                if !stream.ended { view.runError = "the program went away (\(path) closed)" }
                end(failure: nil)
                return true
            }
            return fresh
        } catch {
            end(failure: "\(error)")  // a damaged or hostile stream: hang up, say why
            return true
        }
    }

    private func end(failure: String?) {
        self.failure = failure
        over = true
        source.close()
        _ = ingest.finish(ringDropped: stream.dropped, complete: stream.ended)
        if let failure { view.runError = failure }
    }

    private func send(_ command: String) {
        guard fd >= 0 else { return }
        let line = Array((command + "\n").utf8)
        _ = line.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    private static func connect(to path: String) throws -> Int32 {
        var status = stat()
        guard stat(path, &status) == 0 else { throw AttachError(description: "\(path): no such socket (is the program running with --serve?)") }
        guard (status.st_mode & S_IFMT) == S_IFSOCK else { throw AttachError(description: "\(path) is not a socket") }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw AttachError(description: "socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        guard path.utf8.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close(fd)
            throw AttachError(description: "socket path too long: \(path)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: Array(path.utf8))
            raw[path.utf8.count] = 0
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw AttachError(description: "cannot attach to \(path): \(reason)")
        }
        // Only a program of this user's may feed this viewer (the server checks the same way).
        var credentials = loopviz_ucred()
        var length = socklen_t(MemoryLayout<loopviz_ucred>.size)
        guard getsockopt(fd, SOL_SOCKET, loopviz_so_peercred(), &credentials, &length) == 0, credentials.uid == getuid() else {
            close(fd)
            throw AttachError(description: "\(path) is served by another user's program: refused")
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        return fd
    }
}

/// The stream of a served program, as a ``TraceSource``: what the socket has now (or, blocking,
/// at least something), parsed.
struct StreamSource: TraceSource {
    private(set) var fd: Int32
    private(set) var stream: TraceStream
    /// The program's side closed the connection.
    private(set) var closed = false
    /// Wait for something (`--plain` reads to the end) rather than take what is there.
    var blocking = false

    init(fd: Int32, stream: TraceStream) {
        self.fd = fd
        self.stream = stream
    }

    mutating func take() throws -> [TraceRecord] {
        var records: [TraceRecord] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        if blocking { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) }
        defer { if blocking { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) } }
        while fd >= 0 {
            let count = read(fd, &buffer, buffer.count)
            if count > 0 {
                records += try stream.feed(buffer[0..<count])
                if stream.ended || blocking { break }
                continue
            }
            if count == 0 { closed = true; break }
            if errno == EINTR { continue }
            break  // EAGAIN: nothing more now
        }
        return records
    }

    mutating func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }
}

/// Why `loopviz attach` could not go on, in one line.
public struct AttachError: Error, CustomStringConvertible {
    public var description: String
}

