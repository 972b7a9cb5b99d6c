#if canImport(Glibc)
import Glibc
#endif
import DequeModule
import Foundation
import Loop
import Synchronization
import Trace
import Visualizer

/// Serves a running program's trace to viewers (`loopviz attach PATH`) on a Unix domain socket,
/// from a thread of its own: it drains the program's trace ring, keeps the names and a bounded
/// tail of the history, sends a new viewer both and then the live stream, and takes `pause`,
/// `step` and `run` lines back to drive the program's step gate.
///
/// The program never waits for a viewer: the ring never blocks its loop, and a viewer whose
/// socket does not keep up loses records (counted, and a `gap` record tells it where) instead of
/// slowing anything down. A peer of another uid is refused; a viewer that sends anything but
/// the three commands is disconnected; a viewer that leaves while the program is paused lets it
/// run on.
///
/// `@unchecked Sendable`: after `start()`, only the server's thread touches its state; `finish()`
/// stops that thread and joins it before touching anything.
final class AttachServer: @unchecked Sendable {
    /// One connected viewer.
    private final class Viewer {
        /// -1 once hung up (dropped from the list at the end of the turn).
        var fd: Int32
        var output: [UInt8] = []
        var sent = 0
        var input: [UInt8] = []
        /// Records this viewer lost because its socket did not keep up.
        var lost = 0
        /// Names this viewer has been sent (ids below it): each viewer joined at its own moment.
        var namesSent = 1
        /// It sent commands (pause, step, run): a `--plain` reader never does.
        var commanded = false
        /// Bytes of its catch-up not sent yet: they do not count against its backlog.
        var allowance = 0
        /// A `P` line was held back while it was over its backlog: the current one is owed.
        var owesPending = false
        init(fd: Int32) { self.fd = fd }
    }

    private let path: String
    private let listener: Int32
    /// The socket file this server made: at the end it removes that file, not one another
    /// program may have put there since.
    private let socketInode: ino_t
    private let ring: TraceRing
    private let names: NameTable
    private let metaLine: String
    private let gate: StepController
    private let clock: LiveClock
    /// Real time flows when the program runs on (false: `--clock virtual`, time never flows).
    private let realTime: Bool
    private let historyLimit: Int
    /// What a viewer may have queued before it loses records instead.
    private let viewerBacklog: Int
    /// What tests read from outside the server's thread.
    let counters = Counters()

    /// Figures about the viewers, readable from any thread.
    final class Counters: Sendable {
        /// The most any viewer had queued beyond its catch-up, in bytes, after any turn.
        let peakBacklog = Atomic<Int>(0)
        /// The most one turn queued for one viewer (its new names, a gap, its records), in bytes.
        let largestTurn = Atomic<Int>(0)
        /// Records dropped for slow viewers, all viewers together.
        let droppedForViewers = Atomic<Int>(0)
    }

    private var history = Deque<TraceRecord>()
    private var viewers: [Viewer] = []
    private var lastPending: StepPreview?
    private var acceptPausedUntil = ContinuousClock.now
    /// Viewers served at once; more are turned away.
    static let maximumViewers = 16
    private var lastTime: Int64 = 0
    private let stopRequested = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)
    private var endLine: ((Viewer) -> String)?

    init(path: String, ring: TraceRing, names: NameTable, meta: [String: String], gate: StepController, clock: LiveClock,
         realTime: Bool = true, historyLimit: Int = 200_000, viewerBacklog: Int = 4 << 20) throws(SocketPolicy.Refusal) {
        try SocketPolicy.checkPath(path)
        self.path = path
        listener = try UnixSocket.listen(at: path)
        var status = stat()
        socketInode = lstat(path, &status) == 0 ? status.st_ino : 0
        self.ring = ring
        self.names = names
        let json = meta.sorted { $0.key < $1.key }.map { "\(TraceFile.jsonString($0.key)):\(TraceFile.jsonString($0.value))" }
        metaLine = "M {\(json.joined(separator: ","))}\n"
        self.gate = gate
        self.clock = clock
        self.realTime = realTime
        self.historyLimit = historyLimit
        self.viewerBacklog = viewerBacklog
    }

    func start() {
        let thread = Thread { [self] in serve() }
        thread.name = "loopviz-attach"
        thread.start()
    }

    /// The program ended: the last records and an end line go to every viewer, then the socket
    /// closes and its file is removed. Returns once the server's thread is done.
    func finish(dropped: Int) {
        stopRequested.store(true, ordering: .releasing)
        finished.wait()
        drain()
        for viewer in viewers where viewer.fd >= 0 { append("E \(viewer.sent) \(dropped + viewer.lost)\n", to: viewer) }
        // One second for all of them together, not one each: a stuck viewer must not hold the exit.
        let deadline = ContinuousClock.now + .seconds(1)
        while viewers.contains(where: { $0.fd >= 0 && !$0.output.isEmpty }) && ContinuousClock.now < deadline {
            for viewer in viewers { flush(viewer) }
            usleep(5_000)
        }
        for viewer in viewers where viewer.fd >= 0 { close(viewer.fd) }
        viewers.removeAll()
        close(listener)
        var status = stat()
        if lstat(path, &status) == 0 && status.st_ino == socketInode { _ = unlink(path) }
    }

    // MARK: - The server's thread

    private func serve() {
        defer { finished.signal() }
        while !stopRequested.load(ordering: .acquiring) {
            var fds = [pollfd(fd: listener, events: Int16(POLLIN), revents: 0)]
            fds += viewers.map { pollfd(fd: $0.fd, events: Int16(POLLIN) | ($0.output.isEmpty ? 0 : Int16(POLLOUT)), revents: 0) }
            _ = poll(&fds, nfds_t(fds.count), 20)
            if fds[0].revents & Int16(POLLIN) != 0 { acceptViewers() }
            for (viewer, entry) in zip(viewers, fds.dropFirst()) {
                if entry.revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 { readCommands(viewer) }
            }
            // Where the loop waits is read before the records are drained: a step granted
            // meanwhile can name a new task, and its name must reach viewers before a `P` line does.
            let pending = gate.pendingStep
            drain()
            announcePending(pending)
            for viewer in viewers { flush(viewer) }
            viewers.removeAll { $0.fd < 0 }
        }
    }

    private func acceptViewers() {
        guard ContinuousClock.now >= acceptPausedUntil else { return }
        while true {
            let fd = accept(listener, nil, nil)
            guard fd >= 0 else {
                // Out of descriptors: Linux keeps saying the listener is ready; try again later
                // instead of spinning on it.
                if errno == EMFILE || errno == ENFILE { acceptPausedUntil = ContinuousClock.now + .seconds(1) }
                return
            }
            guard viewers.filter({ $0.fd >= 0 }).count < Self.maximumViewers else {
                close(fd)  // each viewer costs the program memory: a bounded number of them
                continue
            }
            guard SocketPolicy.allows(peerUID: SocketPolicy.peerUID(fd)) else {
                close(fd)  // another user: not a word
                continue
            }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            let viewer = Viewer(fd: fd)
            // What it missed: every name, the history kept, then where the loop waits.
            var text = "\(TraceFile.magic) \(TraceFile.version)\n" + metaLine
            let snapshot = names.snapshot()
            for (index, entry) in snapshot.enumerated() where index > 0 { text += TraceFile.line(forName: index, entry) }
            viewer.namesSent = snapshot.count
            for record in history { text += TraceFile.line(for: record) }
            viewer.sent = history.count
            text += pendingLine(lastPending)
            append(text, to: viewer)
            viewer.allowance = viewer.output.count
            viewers.append(viewer)
        }
    }

    /// `pause`, `step` and `run`, one per line; anything else disconnects the viewer.
    private func readCommands(_ viewer: Viewer) {
        var buffer = [UInt8](repeating: 0, count: 512)
        let count = read(viewer.fd, &buffer, buffer.count)
        guard count > 0 else {
            if count == 0 || (errno != EAGAIN && errno != EINTR) { hangUp(viewer) }
            return
        }
        viewer.input += buffer[0..<count]
        while let end = viewer.input.firstIndex(of: UInt8(ascii: "\n")) {
            let command = String(decoding: viewer.input[..<end], as: UTF8.self)
            viewer.input.removeFirst(end + 1)
            viewer.commanded = true
            switch command {
            case "pause":
                gate.enterStepMode()
                clock.freeze()
            case "step":
                gate.grantStep()
            case "run":
                if realTime { clock.thaw() }
                gate.runOn()
            default:
                hangUp(viewer)
                return
            }
        }
        if viewer.input.count > 256 { hangUp(viewer) }  // no command is that long
    }

    private func hangUp(_ viewer: Viewer) {
        guard viewer.fd >= 0 else { return }
        close(viewer.fd)
        viewer.fd = -1
        // Nobody left who can press a key (readers that never sent one do not count): a paused
        // program runs on.
        if viewers.allSatisfy({ $0.fd < 0 || !$0.commanded }) && gate.isStepping {
            if realTime { clock.thaw() }
            gate.runOn()
        }
    }

    /// Moves what the program wrote into the history and every viewer's queue.
    private func drain() {
        var batch: [TraceRecord] = []
        ring.drain(into: &batch)
        var recordText = ""
        if !batch.isEmpty {
            for record in batch { recordText += TraceFile.line(for: record) }
            lastTime = batch.last?.time ?? lastTime
            history.append(contentsOf: batch)
        }
        if history.count > historyLimit {
            // The text of lines printed in what leaves the history is let go too (each print has a
            // text of its own, which no later record refers to): a long-running program's names
            // keep only an empty slot per printed line.
            let leaving = history.prefix(history.count - historyLimit)
            names.forget(leaving.filter { $0.kind == .output }.map { EntityID(rawValue: UInt32(truncatingIfNeeded: $0.value)) })
            history.removeFirst(history.count - historyLimit)
        }
        for viewer in viewers where viewer.fd >= 0 {
            // Over its backlog, a viewer is sent nothing new, names included: a program that
            // prints or spawns makes names as fast as records, and queueing them would grow a
            // stuck viewer's buffer without bound. Deferring them keeps its picture correct
            // (rather than disconnecting it): the records dropped meanwhile are the only ones that
            // could use those names, and once it is under its backlog again it gets every name it
            // missed, in order, before the gap that counts what it lost and before any record
            // that may refer to them. (A text forgotten meanwhile arrives as an empty name, and
            // only the dropped records printed it.)
            guard viewer.output.count <= viewerBacklog + viewer.allowance else {
                viewer.lost += batch.count
                counters.droppedForViewers.wrappingAdd(batch.count, ordering: .relaxed)
                continue
            }
            let before = viewer.output.count
            var text = ""
            let fresh = names.entries(from: viewer.namesSent)
            for (offset, entry) in fresh.enumerated() { text += TraceFile.line(forName: viewer.namesSent + offset, entry) }
            viewer.namesSent += fresh.count
            if viewer.lost > 0 {
                // The names it missed are a catch-up, as a new viewer's are: they do not count
                // against its backlog (or it would lose the records after them at once).
                viewer.allowance += text.utf8.count
                text += TraceFile.line(for: TraceRecord(time: batch.first?.time ?? lastTime, kind: .gap, subject: .none,
                                                        value: Int64(viewer.lost)))
                viewer.lost = 0
            }
            text += recordText
            viewer.sent += batch.count
            if viewer.owesPending {
                text += pendingLine(lastPending)
                viewer.owesPending = false
            }
            append(text, to: viewer)
            counters.largestTurn.max(viewer.output.count - before)
            counters.peakBacklog.max(viewer.output.count - viewer.allowance)
        }
    }

    private func announcePending(_ pending: StepPreview?) {
        guard pending != lastPending else { return }
        lastPending = pending
        let line = pendingLine(pending)
        for viewer in viewers where viewer.fd >= 0 {
            // Its subject's name may be among those held back: it goes after them (see drain()).
            if viewer.output.count > viewerBacklog + viewer.allowance || viewer.owesPending {
                viewer.owesPending = true
            } else {
                append(line, to: viewer)
            }
        }
    }

    private func pendingLine(_ pending: StepPreview?) -> String {
        guard let pending else { return "P -\n" }
        return "P \(pending.kind.wireName) \(pending.subject.rawValue) \(pending.time)\n"
    }

    private func append(_ text: String, to viewer: Viewer) {
        viewer.output += Array(text.utf8)
    }

    /// Writes what the socket takes now; a viewer whose socket failed is hung up.
    private func flush(_ viewer: Viewer) {
        guard viewer.fd >= 0, !viewer.output.isEmpty else { return }
        let written = viewer.output.withUnsafeBytes { send(viewer.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        if written > 0 {
            viewer.output.removeFirst(written)
            viewer.allowance = max(0, viewer.allowance - written)
        } else if written < 0 && errno != EAGAIN && errno != EINTR {
            hangUp(viewer)
        }
    }
}

private extension Atomic<Int> {
    /// Raises the value to `candidate` if it is larger (one writer: the server's thread).
    func max(_ candidate: Int) {
        if candidate > load(ordering: .relaxed) { store(candidate, ordering: .relaxed) }
    }
}
