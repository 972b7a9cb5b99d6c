import Loop

/// `reference/count.py`: three `count` tasks under `gather`; each prints `One`, sleeps 1 s and
/// prints `Two`. The sleeps overlap, so the whole run takes 1 s, not 3.
public struct CountScenario: Scenario {
    public static let name = "count"
    public static let summary = "three tasks sleep side by side under gather: 1 s in all, not 3"

    /// How many `count` tasks run (3 in the reference program).
    public var tasks: Int
    /// How long each sleeps, in seconds (1 in the reference program).
    public var delay: Double

    public init(tasks: Int = 3, delay: Double = 1) {
        self.tasks = tasks
        self.delay = delay
    }

    public func main(on loop: EventLoop) async throws {
        let delay = self.delay
        let counts = (0..<tasks).map { _ in
            loop.spawn("count") {
                loop.print("One")
                try await loop.sleep(delay)
                loop.print("Two")
            }
        }
        _ = try await loop.gather(counts)
    }
}
