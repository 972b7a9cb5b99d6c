import Loop

/// `reference/blocking.py`: a blocking call inside a coroutine freezes the whole loop; the
/// tickers' timers fire late.
public struct BlockingScenario: Scenario {
    public static let name = "blocking"
    public static let summary = "a blocking call (time.sleep) in one task freezes the loop: every timer fires late"

    /// How long the blocker holds the loop thread, in seconds.
    public var block: Double
    public var ticks: Int

    public init(block: Double = 0.5, ticks: Int = 4) {
        self.block = block
        self.ticks = ticks
    }

    public func main(on loop: EventLoop) async throws {
        let (block, ticks) = (self.block, self.ticks)
        let tickers = ["A", "B"].map { name in
            loop.spawn("ticker") {
                for index in 0..<max(1, ticks) {
                    loop.print("\(name) tick \(index)")
                    try await loop.sleep(0.1)
                }
            }
        }
        let blocker = loop.spawn("blocker") {
            try await loop.sleep(0.15)
            loop.print("blocker blocks the loop for \(TimeoutScenario.seconds(block)) s")
            loop.blockingCall(block)  // synchronous: nothing else can run meanwhile
            loop.print("blocker done")
        }
        _ = try await loop.gather(tickers + [blocker])
    }
}
