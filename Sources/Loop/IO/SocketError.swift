#if canImport(Glibc)
import Glibc
#endif

/// Why a socket operation failed. Every case names its cause in ``description``; none of them
/// stops the loop: they are thrown into the task that asked.
public enum SocketError: Error, Equatable, CustomStringConvertible {
    /// Nobody listens at `address` (ECONNREFUSED).
    case connectionRefused(address: String)
    /// The peer reset the connection (ECONNRESET), or it was lost while the program wrote.
    case connectionReset
    /// The peer went away while the program wrote to it (EPIPE).
    case brokenPipe
    /// `address` is taken by another socket (EADDRINUSE).
    case addressInUse(address: String)
    /// `text` is not an address the loop can use (a host that does not resolve, a bad port).
    case badAddress(String)
    /// A read or write on a stream whose connection is closed.
    case closed
    /// A second task waits to read (or write) the same socket while one already does.
    case alreadyWaiting(operation: String)
    /// Any other failure of system call `call`.
    case system(call: String, errno: Int32)

    public var description: String {
        switch self {
        case .connectionRefused(let address): "connection refused by \(address)"
        case .connectionReset: "connection reset by peer"
        case .brokenPipe: "broken pipe: the peer closed the connection while data was being written"
        case .addressInUse(let address): "address already in use: \(address)"
        case .badAddress(let text): "bad address: \(text)"
        case .closed: "the connection is closed"
        case .alreadyWaiting(let operation): "another task is already waiting to \(operation) this stream"
        case .system(let call, let code): "\(call) failed: \(String(cString: strerror(code))) (errno \(code))"
        }
    }

    /// The error for a failed syscall, naming the common causes.
    static func from(errno code: Int32, call: String, address: SocketAddress? = nil) -> SocketError {
        switch code {
        case ECONNREFUSED: .connectionRefused(address: address?.description ?? "the peer")
        case ECONNRESET: .connectionReset
        case EPIPE: .brokenPipe
        case EADDRINUSE: .addressInUse(address: address?.description ?? "?")
        default: .system(call: call, errno: code)
        }
    }
}

/// `readExactly(n)` (or `readLine()`) met the end of the stream first (asyncio's
/// `IncompleteReadError`): `partial` holds what was read.
public struct IncompleteReadError: Error, Equatable, CustomStringConvertible {
    public var partial: [UInt8]
    /// How many bytes were expected (nil: a separator was).
    public var expected: Int?
    public var description: String {
        "\(partial.count) bytes read on a total of \(expected.map(String.init) ?? "undefined") expected bytes"
    }
}

/// A line longer than the reader's limit (asyncio raises `ValueError` from `readline`, built on
/// `LimitOverrunError`); the buffered line was dropped.
public struct LimitOverrunError: Error, Equatable, CustomStringConvertible {
    public var limit: Int
    public var description: String { "separator is not found, and chunk exceed the limit (\(limit) bytes)" }
}
