import Trace

/// A connected socket driven by the loop: asyncio's `_SelectorSocketTransport` with the
/// `StreamReaderProtocol` and `FlowControlMixin` on top of it, in one type. It reads whenever
/// the socket is readable and feeds the ``StreamReader``; writes go out at once when they can,
/// the rest waits in a buffer sent as the socket becomes writable; past the high-water mark
/// `drain()` waits until the buffer is back under the low-water mark.
///
/// Ownership as in asyncio: while the loop watches its socket, the registration holds the
/// transport (a program may drop its writer and still be fed); closing or losing the
/// connection unregisters it and so lets it go.
///
/// The order of its steps mirrors CPython's (which callbacks run in which pass), so that a
/// program's schedule on this loop equals its schedule on CPython. Loop thread only.
final class Transport {
    unowned let loop: EventLoop
    let socket: Socket
    let reader: StreamReader
    /// The transport at the other end when both ends live on this loop (loopback), so that a
    /// read can say which task's write (or close) caused it.
    weak var peer: Transport?
    /// Who last wrote to (or closed) this transport's peer: the waker of the next read here.
    var causer: EntityID = .none
    weak var server: Server?

    // Writing (asyncio's _buffer, _eof, _closing, _conn_lost)
    private var sendBuffer: [UInt8] = []
    private(set) var closing = false
    private var eofWritten = false
    private var lossScheduled = false
    private var readingPaused = false

    // Flow control (FlowControlMixin)
    let highWater = 64 * 1024
    let lowWater = 16 * 1024
    private(set) var writingPaused = false
    private var drainWaiters: [(box: TaskBox, generation: UInt32)] = []
    /// Set once `connection_lost` ran; with the error it carried, if any.
    private(set) var connectionLost = false
    private(set) var lostError: (any Error)?
    /// asyncio's `_closed` future: `waitClosed()` waits on it.
    private var closeWaiters: [(box: TaskBox, generation: UInt32)] = []
    private var closedDone = false
    /// The program closed it (rather than the peer or an error).
    private var closedLocally = false
    /// Its key in the loop's table of loopback ends waiting for their partner, if it is there.
    var pairingKey: String?

    /// asyncio's `max_size`: one `recv` per readiness reads at most this much.
    static let maxReadSize = 256 * 1024

    init(loop: EventLoop, socket: Socket, reader: StreamReader, server: Server?) {
        self.loop = loop
        self.socket = socket
        self.reader = reader
        self.server = server
        socket.setNoDelay()
        reader.transport = self
        server?.attach()
    }

    /// The tail of the transport's `__init__`: `connection_made`, then start reading, then
    /// wake whoever waits for the connection — each on the next pass, in that order.
    func start(connectionMade: @escaping () -> Void, ready: @escaping () -> Void) {
        loop.callSoonPlumbing(connectionMade)
        loop.callSoonPlumbing { [self] in
            guard !closing else { return }
            watchForReading()
        }
        loop.callSoonPlumbing(ready)
    }

    var sendBufferCount: Int { sendBuffer.count }

    // MARK: - Reading

    private func readReady() {
        guard !lossScheduled else { return }
        let data: [UInt8]?
        do {
            if loop.receiveBuffer.isEmpty { loop.receiveBuffer = [UInt8](repeating: 0, count: Self.maxReadSize) }
            data = try socket.receive(into: &loop.receiveBuffer)
        } catch {
            loop.emit(.ioRead, subject: socket.entity, detail: IOReadOutcome.error.rawValue)
            forceClose(error)
            return
        }
        guard let data else { return }  // nothing after all (EAGAIN)
        if data.isEmpty {
            loop.emit(.ioRead, subject: socket.entity, other: causer, detail: IOReadOutcome.endOfStream.rawValue)
            // StreamReaderProtocol.eof_received keeps the connection open (the program may still
            // write), but nothing more can be read: stop watching.
            reader.feedEOF(waker: causer)
            loop.removeReader(socket.fd)
            return
        }
        loop.emit(.ioRead, subject: socket.entity, other: causer, value: Int64(data.count), detail: IOReadOutcome.data.rawValue)
        reader.feedData(data, waker: causer)
    }

    func pauseReading() {
        guard !closing, !readingPaused else { return }
        readingPaused = true
        loop.removeReader(socket.fd)
    }

    func resumeReading() {
        guard !closing, readingPaused else { return }
        readingPaused = false
        watchForReading()
    }

    private func watchForReading() {
        do {
            try loop.addReader(socket.fd, socket: socket.entity) { [self] _ in readReady() }
        } catch {
            forceClose(error)
        }
    }

    // MARK: - Writing

    /// Sends `bytes` now if the socket takes them, buffering the rest. Ignored after the
    /// connection was lost (asyncio warns and drops them too) and after ``writeEOF()`` (where
    /// asyncio raises `RuntimeError`; a write here does not throw).
    func write(_ bytes: [UInt8]) {
        guard !bytes.isEmpty, !eofWritten, !lossScheduled else { return }
        peer?.causer = loop.currentActor
        var rest = bytes[...]
        if sendBuffer.isEmpty {
            do {
                let sent = try bytes.withUnsafeBytes { try sendSettled($0) }
                rest = bytes[sent...]
            } catch {
                forceClose(error)
                return
            }
            if rest.isEmpty {
                loop.emit(.ioWritten, subject: socket.entity, other: loop.currentActor, value: Int64(bytes.count), detail: IOWriteOutcome.sent.rawValue)
                return
            }
            do {
                try loop.addWriter(socket.fd, socket: socket.entity) { [self] _ in writeReady() }
            } catch {
                forceClose(error)
                return
            }
        }
        sendBuffer.append(contentsOf: rest)
        maybePauseProtocol()
        let outcome: IOWriteOutcome = writingPaused ? .paused : .buffered
        loop.emit(.ioWritten, subject: socket.entity, other: loop.currentActor, value: Int64(bytes.count), detail: outcome.rawValue)
    }

    private func writeReady() {
        guard !lossScheduled, !sendBuffer.isEmpty else { return }
        let sent: Int
        do {
            sent = try sendBuffer.withUnsafeBytes { try sendSettled($0) }
        } catch {
            loop.removeWriter(socket.fd)
            sendBuffer.removeAll()
            forceClose(error)
            return
        }
        sendBuffer.removeFirst(sent)
        maybeResumeProtocol()
        guard sendBuffer.isEmpty else { return }
        loop.removeWriter(socket.fd)
        if closing {
            connectionLost(nil)
        } else if eofWritten {
            endSettled { socket.shutdownWrite() }
        }
    }

    /// Half-closes: the peer reads the end of the stream once the buffer is sent.
    func writeEOF() {
        guard !closing, !eofWritten else { return }
        eofWritten = true
        peer?.causer = loop.currentActor
        if sendBuffer.isEmpty { endSettled { socket.shutdownWrite() } }
    }

    private func maybePauseProtocol() {
        guard sendBuffer.count > highWater, !writingPaused else { return }
        writingPaused = true
    }

    private func maybeResumeProtocol() {
        guard writingPaused, sendBuffer.count <= lowWater else { return }
        writingPaused = false
        wakeDrainWaiters()
    }

    /// `_drain_helper`: returns at once unless writing is paused; then waits until the buffer
    /// drains below the low-water mark or the connection is lost.
    nonisolated(nonsending) func waitUntilDrained() async throws {
        if connectionLost { throw lostError ?? (closedLocally ? SocketError.closed : SocketError.connectionReset) }
        guard writingPaused else { return }
        try await loop.suspendCurrentTask(.io, waitingOn: socket.entity, deadline: Int64(IOOperation.write.rawValue)) { box, generation in
            drainWaiters.append((box, generation))
        }
        if connectionLost, let lostError { throw lostError }
    }

    private func wakeDrainWaiters() {
        let waiters = drainWaiters
        drainWaiters.removeAll()
        for waiter in waiters {
            loop.wakeIO(waiter.box, generation: waiter.generation, waker: .none, via: socket.entity)
        }
    }

    // MARK: - Closing

    /// Stops reading; once the buffer is sent, the connection is lost (closed) on the next pass.
    func close() {
        guard !closing else { return }
        closing = true
        closedLocally = true
        peer?.causer = loop.currentActor
        loop.removeReader(socket.fd)
        if sendBuffer.isEmpty {
            lossScheduled = true
            loop.removeWriter(socket.fd)
            let closer = loop.currentActor
            loop.callSoonPlumbing { [self] in connectionLost(nil, closer: closer) }
        }
    }

    /// A fatal error: drop the buffer, stop watching, lose the connection on the next pass.
    private func forceClose(_ error: any Error) {
        guard !lossScheduled else { return }
        if !sendBuffer.isEmpty {
            sendBuffer.removeAll()
            loop.removeWriter(socket.fd)
        }
        if !closing {
            closing = true
            loop.removeReader(socket.fd)
        }
        lossScheduled = true
        loop.callSoonPlumbing { [self] in connectionLost(error) }
    }

    /// `_call_connection_lost` with `StreamReaderProtocol.connection_lost`: the reader gets the end
    /// of the stream (or the error), `waitClosed()` and `drain()` waiters wake, the socket closes.
    private func connectionLost(_ error: (any Error)?, closer: EntityID = .none) {
        guard !connectionLost else { return }
        lossScheduled = true
        if let error { reader.setException(error, waker: .none) } else { reader.feedEOF(waker: .none) }
        connectionLost = true
        lostError = error
        closedDone = true
        let waiters = closeWaiters + drainWaiters
        closeWaiters.removeAll()
        drainWaiters.removeAll()
        for waiter in waiters {
            // Its own close let it go: the loop's doing, not a wake-up by another task.
            let waker = waiter.box.id == closer ? EntityID.none : closer
            loop.wakeIO(waiter.box, generation: waiter.generation, waker: waker, via: socket.entity)
        }
        if closer != .none { peer?.causer = closer }
        endSettled { loop.closeSocket(socket, reason: error == nil ? .closed : .error, by: closer) }
        server?.detach()
        server = nil
        // The reader no longer needs us (nothing can be resumed): break the reference cycle.
        reader.transport = nil
        if let pairingKey { loop.unpairedTransports[pairingKey] = nil }
    }

    /// `wait_closed`: until the connection is lost; rethrows the error it was lost with.
    nonisolated(nonsending) func waitClosed() async throws {
        if !closedDone {
            try await loop.suspendCurrentTask(.io, waitingOn: socket.entity, deadline: Int64(IOOperation.close.rawValue)) { box, generation in
                closeWaiters.append((box, generation))
            }
        }
        if let lostError { throw lostError }
    }
}
