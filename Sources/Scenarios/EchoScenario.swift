import Loop

/// `reference/echo.py`: a TCP echo server on 127.0.0.1 (a free port) and clients that connect,
/// each send a few lines on staggered timers and read the echoes, then leave. Real sockets,
/// real I/O through the loop's selector; nothing outside the machine is contacted.
public struct EchoScenario: Scenario {
    public static let name = "echo"
    public static let summary = "a TCP echo server and three clients over loopback: tasks woken by I/O"

    /// How many clients connect (3 in the reference program: a, b, c).
    public var clients: Int
    /// How many lines each client sends (2 in the reference program).
    public var messages: Int
    /// The first client's pause before each line, in seconds (0.1); client k pauses
    /// `delay × (1, 1.5, 2.5, 3.5, …)[k]`, so the reference's a, b, c wait 0.1, 0.15 and 0.25 s.
    public var delay: Double

    public init(clients: Int = 3, messages: Int = 2, delay: Double = 0.1) {
        self.clients = clients
        self.messages = messages
        self.delay = delay
    }

    /// The name and pause of client `index`.
    static func client(_ index: Int, delay: Double) -> (name: String, delay: Double) {
        let letters = Array("abcdefghijklmnopqrstuvwxyz")
        let name = index < letters.count ? String(letters[index]) : "c\(index)"
        return (name, delay * (index == 0 ? 1 : Double(index) + 0.5))
    }

    public func main(on loop: EventLoop) async throws {
        let server = try await loop.startServer(host: "127.0.0.1", port: 0, name: "handle") { reader, writer in
            while true {
                let line = try await reader.readLine()
                if line.isEmpty { break }
                loop.print("server echoes \(Self.text(line))")
                writer.write(line)
                try await writer.drain()
            }
            loop.print("server: a client left")
            writer.close()
            try await writer.waitClosed()
        }
        let port = server.port
        loop.print("server listening")
        let messages = self.messages
        let tasks = (0..<clients).map { index in
            let (name, pause) = Self.client(index, delay: delay)
            return loop.spawn("client") {
                let (reader, writer) = try await loop.openConnection(host: "127.0.0.1", port: port)
                loop.print("\(name) connected")
                for message in 0..<messages {
                    try await loop.sleep(pause)
                    writer.write("\(name) \(message)\n")
                    try await writer.drain()
                    let echo = try await reader.readLine()
                    loop.print("\(name) got \(Self.text(echo))")
                }
                writer.close()
                try await writer.waitClosed()
            }
        }
        _ = try await loop.gather(tasks)
        server.close()
        try await server.waitClosed()
        loop.print("server closed")
    }

    /// A line as Python's `line.decode().strip()` shows it.
    static func text(_ bytes: [UInt8]) -> String {
        let isSpace: (UInt8) -> Bool = { $0 == 0x20 || (0x09...0x0D).contains($0) }
        guard let first = bytes.firstIndex(where: { !isSpace($0) }), let last = bytes.lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(decoding: bytes[first...last], as: UTF8.self)
    }
}
