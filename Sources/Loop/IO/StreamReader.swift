import Trace

/// The reading end of a connection, with asyncio's `StreamReader` semantics: the transport
/// reads eagerly and feeds this buffer; `read`, `readLine` and `readExactly` take from it and
/// suspend the task only when it holds too little. Use it on the loop thread.
///
/// `@unchecked Sendable`: it is handed to the task that serves a connection, but every method
/// is loop-only (checked in debug builds), so it is never touched from two threads.
public final class StreamReader: @unchecked Sendable {
    unowned let loop: EventLoop
    /// The most the buffer holds before the transport stops reading (2 × `limit`), and the
    /// longest line `readLine` accepts.
    public let limit: Int
    /// The socket in the trace: what a waiting task waits on.
    let socket: EntityID
    private var buffer: [UInt8] = []
    /// Bytes at the front of `buffer` already taken (compacted lazily).
    private var consumed = 0
    private(set) var eof = false
    private(set) var exception: (any Error)?
    /// The task waiting for data (asyncio's `_waiter`).
    private var waiter: (box: TaskBox, generation: UInt32)?
    private var paused = false
    /// Held strongly, as asyncio's reader holds `_transport`: a program that keeps only the
    /// reader must still be able to resume a paused transport. The connection's loss breaks it.
    var transport: Transport?

    /// asyncio's `_DEFAULT_LIMIT`: 64 KiB.
    public static let defaultLimit = 64 * 1024

    init(loop: EventLoop, socket: EntityID, limit: Int = StreamReader.defaultLimit) {
        self.loop = loop
        self.socket = socket
        self.limit = max(1, limit)
    }

    /// Bytes buffered and not read yet. Loop-only, as every read here (checked in debug builds):
    /// the transport feeds the buffer on the loop thread.
    public var bufferedCount: Int {
        loop.assertInLoop()
        return unread
    }
    private var unread: Int { buffer.count - consumed }

    /// Whether the stream has ended and everything was read (asyncio's `at_eof`). Loop-only.
    public var atEOF: Bool {
        loop.assertInLoop()
        return eof && unread == 0
    }

    // MARK: - Fed by the transport

    func feedData(_ data: [UInt8], waker: EntityID) {
        buffer.append(contentsOf: data)
        wakeWaiter(waker: waker)
        if let transport, !paused, unread > 2 * limit {
            transport.pauseReading()
            paused = true
        }
    }

    func feedEOF(waker: EntityID) {
        eof = true
        wakeWaiter(waker: waker)
    }

    func setException(_ error: any Error, waker: EntityID) {
        exception = error
        wakeWaiter(waker: waker)
    }

    private func wakeWaiter(waker: EntityID) {
        guard let waiter else { return }
        self.waiter = nil
        loop.wakeIO(waiter.box, generation: waiter.generation, waker: waker, via: socket)
    }

    // MARK: - Reading

    /// Up to `max` bytes: what is buffered, or, when nothing is, the next bytes to arrive. An
    /// empty result means the end of the stream. `max < 0` reads until the end of the stream.
    /// - Throws: the connection's error (``SocketError``), ``CancelledError``.
    nonisolated(nonsending) public func read(max: Int = -1) async throws -> [UInt8] {
        loop.assertInLoop()
        if let exception { throw exception }
        if max == 0 { return [] }
        if max < 0 {
            var all: [UInt8] = []
            while true {
                let block = try await read(max: limit)
                if block.isEmpty { return all }
                all += block
            }
        }
        if unread == 0 && !eof { try await waitForData("read") }
        let data = take(Swift.min(max, unread))
        maybeResumeTransport()
        return data
    }

    /// The next line, `\n` included; at the end of the stream what is left (maybe without `\n`,
    /// empty when nothing is). asyncio's `readline`.
    /// - Throws: ``LimitOverrunError`` for a line longer than ``limit`` (the line is dropped),
    ///   the connection's error, ``CancelledError``.
    nonisolated(nonsending) public func readLine() async throws -> [UInt8] {
        loop.assertInLoop()
        do {
            return try await readUntil([UInt8(ascii: "\n")])
        } catch let error as IncompleteReadError {
            return error.partial
        } catch let error as LimitOverrunError {
            // Drop the overlong line (or all of the buffer when no end of line is in it).
            if let end = firstIndex(of: [UInt8(ascii: "\n")], from: 0) { _ = take(end + 1) } else { _ = take(unread) }
            maybeResumeTransport()
            throw error
        }
    }

    /// Everything up to and including `separator` (asyncio's `readuntil`).
    /// - Throws: ``IncompleteReadError`` at the end of the stream (with what was buffered),
    ///   ``LimitOverrunError``, the connection's error, ``CancelledError``.
    nonisolated(nonsending) public func readUntil(_ separator: [UInt8]) async throws -> [UInt8] {
        loop.assertInLoop()
        precondition(!separator.isEmpty, "the separator must not be empty")
        var offset = 0
        while true {
            if let exception { throw exception }
            if let found = firstIndex(of: separator, from: offset) {
                if found > limit { throw LimitOverrunError(limit: limit) }
                let chunk = take(found + separator.count)
                maybeResumeTransport()
                return chunk
            }
            offset = Swift.max(0, unread + 1 - separator.count)
            if offset > limit { throw LimitOverrunError(limit: limit) }
            if eof { throw IncompleteReadError(partial: take(unread), expected: nil) }
            try await waitForData("readuntil")
        }
    }

    /// Exactly `count` bytes (asyncio's `readexactly`).
    /// - Throws: ``IncompleteReadError`` when the stream ends first (with what was read), the
    ///   connection's error, ``CancelledError``.
    nonisolated(nonsending) public func readExactly(_ count: Int) async throws -> [UInt8] {
        loop.assertInLoop()
        precondition(count >= 0, "readExactly needs a count of zero or more")
        if let exception { throw exception }
        while unread < count {
            if eof { throw IncompleteReadError(partial: take(unread), expected: count) }
            try await waitForData("readexactly")
            if let exception { throw exception }
        }
        let data = take(count)
        maybeResumeTransport()
        return data
    }

    // MARK: - Internals

    /// Suspends until data, the end of the stream or an error arrives (asyncio's
    /// `_wait_for_data`). A paused transport resumes reading first.
    nonisolated(nonsending) private func waitForData(_ function: String) async throws {
        if waiter != nil { throw SocketError.alreadyWaiting(operation: "read (\(function))") }
        if paused {
            paused = false
            transport?.resumeReading()
        }
        let box = loop.currentTask
        do {
            try await loop.suspendCurrentTask(.io, waitingOn: socket, deadline: Int64(IOOperation.read.rawValue)) { box, generation in
                waiter = (box, generation)
            }
        } catch {
            if waiter?.box === box { waiter = nil }  // cancelled: the data stays for the next read
            throw error
        }
        // Woken by the connection's error: it is the answer (asyncio's waiter gets the exception).
        if let exception { throw exception }
    }

    private func take(_ count: Int) -> [UInt8] {
        let chunk = Array(buffer[consumed..<(consumed + count)])
        consumed += count
        if consumed == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            consumed = 0
        } else if consumed > 4096 && consumed * 2 > buffer.count {
            buffer.removeFirst(consumed)
            consumed = 0
        }
        return chunk
    }

    /// Where `separator` starts in the unread bytes, searching from `offset`.
    private func firstIndex(of separator: [UInt8], from offset: Int) -> Int? {
        let unread = self.unread
        guard unread >= separator.count else { return nil }
        var index = consumed + offset
        let last = buffer.count - separator.count
        while index <= last {
            if buffer[index] == separator[0] && (separator.count == 1 || buffer[index..<(index + separator.count)].elementsEqual(separator)) {
                return index - consumed
            }
            index += 1
        }
        return nil
    }

    private func maybeResumeTransport() {
        if paused && unread <= limit {
            paused = false
            transport?.resumeReading()
        }
    }
}
