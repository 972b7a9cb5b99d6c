import Loop

/// `reference/lock.py`: three workers contend for one Lock, each holding it across a sleep;
/// the critical sections run one after another, in the order the workers asked.
public struct LockScenario: Scenario {
    public static let name = "lock"
    public static let summary = "three workers contend for one Lock: critical sections run one at a time, FIFO"

    public var workers: Int
    /// How long each worker holds the lock, in seconds.
    public var hold: Double

    public init(workers: Int = 3, hold: Double = 0.5) {
        self.workers = workers
        self.hold = hold
    }

    public func main(on loop: EventLoop) async throws {
        let lock = Lock(loop: loop)
        let hold = self.hold
        let tasks = (1...max(1, workers)).map { index in
            loop.spawn("worker") {
                loop.print("worker \(index) waiting")
                try await lock.withLock {
                    loop.print("worker \(index) acquired")
                    try await loop.sleep(hold)
                    loop.print("worker \(index) releasing")
                }
            }
        }
        _ = try await loop.gather(tasks)
    }
}
