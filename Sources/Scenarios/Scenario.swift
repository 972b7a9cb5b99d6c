import Loop

/// A program loopviz ships: an asyncio classic rewritten against ``Loop``, printing through the
/// loop so that the trace knows who printed what.
public protocol Scenario: Sendable {
    /// The subcommand name (`count`).
    static var name: String { get }
    /// One line on what the scenario teaches, for `--help` and the README.
    static var summary: String { get }
    /// The root task's body (asyncio's `main()`).
    func main(on loop: EventLoop) async throws
}

extension Scenario {
    /// Runs the scenario to completion on `loop` (asyncio's `asyncio.run(main())`).
    public func run(on loop: EventLoop) throws {
        try loop.run("main") { try await self.main(on: loop) }
    }

    public var name: String { Self.name }
}

/// Python's spelling of a Bool, as the reference programs print it.
func pythonBool(_ value: Bool) -> String { value ? "True" : "False" }
