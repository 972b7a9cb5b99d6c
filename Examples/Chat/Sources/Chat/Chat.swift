import Loop
import LoopViz

/// A chat room over loopback TCP: a server relays each line a member sends to everyone else;
/// three members join, talk on their own timers, and leave. Run it and watch who wakes whom:
/// a line from alice wakes her session on the server, which writes to bob's and carol's
/// sockets, which wakes their listeners.
@main
struct Chat {
    static func main() {
        LoopViz.run("chat") { loop in
            let room = Room()
            let server = try await loop.startServer(host: "127.0.0.1", port: 0, name: "session") { reader, writer in
                let name = text(try await reader.readLine())
                room.say("* \(name) joined", to: room.members.keys)
                room.members[name] = writer
                while true {
                    let line = try await reader.readLine()
                    if line.isEmpty { break }  // the member hung up
                    room.say("\(name): \(text(line))", to: room.members.keys.filter { $0 != name })
                }
                room.members[name] = nil
                room.say("* \(name) left", to: room.members.keys)
                writer.close()
            }
            loop.print("room open")
            // Who joins when, says what (a line every 0.25 s), and leaves when.
            let script: [(name: String, start: Double, lines: [String], leave: Double)] = [
                ("alice", 0.1, ["hi all", "anyone up for lunch?"], 1.6),
                ("bob", 0.2, ["hello alice", "lunch, yes"], 1.4),
                ("carol", 0.3, ["count me in"], 1.2),
            ]
            let members = script.map { member in
                loop.spawn(member.name) {
                    try await loop.sleep(member.start)
                    let (reader, writer) = try await loop.openConnection(host: "127.0.0.1", port: server.port)
                    writer.write("\(member.name)\n")
                    // What the others say arrives on its own: a listener prints it.
                    let listener = loop.spawn("\(member.name)-inbox") {
                        while true {
                            let line = try await reader.readLine()
                            if line.isEmpty { return }
                            loop.print("\(member.name) sees \(text(line))")
                        }
                    }
                    for line in member.lines {
                        try await loop.sleep(0.25)
                        writer.write("\(line)\n")
                        try await writer.drain()
                    }
                    try await loop.sleep(member.leave - loop.time)  // stay until everyone has talked
                    writer.close()
                    try await writer.waitClosed()
                    try await listener.value
                }
            }
            _ = try await loop.gather(members)
            server.close()
            loop.print("room closed")
        }
    }

    /// A line without its end of line.
    static func text(_ bytes: [UInt8]) -> String {
        String(decoding: bytes, as: UTF8.self).split(separator: "\n").first.map(String.init) ?? ""
    }
}

/// Who is in the room, and how to reach them. Used by tasks of one loop only, on its thread:
/// `@unchecked Sendable` for the task closures that capture it.
final class Room: @unchecked Sendable {
    var members: [String: StreamWriter] = [:]

    func say<Names: Sequence>(_ line: String, to names: Names) where Names.Element == String {
        for name in names.sorted() { members[name]?.write("\(line)\n") }
    }
}
