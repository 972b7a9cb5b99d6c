import Trace

/// The writing end of a connection, with asyncio's `StreamWriter` semantics. Use it on the
/// loop thread.
///
/// `@unchecked Sendable`: handed to the task that serves a connection; every method is
/// loop-only (checked in debug builds).
public final class StreamWriter: @unchecked Sendable {
    let transport: Transport
    let reader: StreamReader?

    init(transport: Transport, reader: StreamReader?) {
        self.transport = transport
        self.reader = reader
    }

    /// A writer dropped without ``close()`` closes its connection (CPython 3.11's
    /// `StreamWriter.__del__`), so a long-running server does not leak an fd per forgotten
    /// connection. Only on the loop thread of a running loop; the loop's own close does the rest.
    deinit {
        // A closed socket first: the loop closes every socket when it ends, and a writer that
        // outlives its loop must not touch it (the transport holds it unowned).
        guard !transport.closing, !transport.socket.isClosed else { return }
        let loop = transport.loop
        guard loop.isLoopThread, loop.state == .running else { return }
        transport.close()
    }

    private var loop: EventLoop { transport.loop }

    // Reads are loop-only too (checked in debug builds): the loop closes the socket and moves
    // the buffer on its thread.

    /// The address of this end of the connection.
    public var localAddress: SocketAddress? {
        loop.assertInLoop()
        return transport.socket.localAddress
    }
    /// The address of the other end.
    public var peerAddress: SocketAddress? {
        loop.assertInLoop()
        return transport.socket.peerAddress
    }
    /// Bytes written and not yet taken by the kernel.
    public var bufferedCount: Int {
        loop.assertInLoop()
        return transport.sendBufferCount
    }

    /// Writes `bytes`: sent at once when the socket takes them, otherwise buffered (call
    /// ``drain()`` to wait for room). Ignored once the connection is closed or lost.
    public func write(_ bytes: [UInt8]) {
        loop.assertInLoop()
        transport.write(bytes)
    }

    /// Writes `text` as UTF-8.
    public func write(_ text: String) {
        write(Array(text.utf8))
    }

    /// Shuts the sending side once the buffer is sent: the peer reads the end of the stream,
    /// and this end can still read.
    public func writeEOF() {
        loop.assertInLoop()
        transport.writeEOF()
    }

    /// Waits while the write buffer is over its high-water mark (64 KiB), until it is back under
    /// the low-water mark (16 KiB); returns at once otherwise.
    /// - Throws: the connection's error, ``SocketError/connectionReset`` once it is lost,
    ///   ``CancelledError``.
    nonisolated(nonsending) public func drain() async throws {
        loop.assertInLoop()
        if let error = reader?.exception { throw error }
        if transport.closing {
            // Let the connection's loss be processed first, as asyncio does: a program that
            // writes and drains in a loop then sees the error.
            try await loop.sleep(0)
        }
        try await transport.waitUntilDrained()
    }

    /// Closes the connection once the buffer is sent (asyncio's `close`: it does not wait; see
    /// ``waitClosed()``).
    public func close() {
        loop.assertInLoop()
        transport.close()
    }

    /// Whether ``close()`` was called or the connection was lost.
    public var isClosing: Bool {
        loop.assertInLoop()
        return transport.closing
    }

    /// Waits until the connection is closed.
    /// - Throws: the error the connection was lost with, ``CancelledError``.
    nonisolated(nonsending) public func waitClosed() async throws {
        loop.assertInLoop()
        try await transport.waitClosed()
    }
}
