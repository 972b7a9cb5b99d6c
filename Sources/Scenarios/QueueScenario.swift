import Loop

/// `reference/queue.py`: a fast producer and two slow consumers share a Queue(maxsize=2); the
/// producer waits whenever the queue is full, a consumer whenever it is empty.
public struct QueueScenario: Scenario {
    public static let name = "queue"
    public static let summary = "a fast producer, two slow consumers, a Queue(maxsize=2): back-pressure"

    public var items: Int
    public var maxsize: Int
    /// How long a consumer works on an item, in seconds.
    public var delay: Double

    public init(items: Int = 5, maxsize: Int = 2, delay: Double = 0.3) {
        self.items = items
        self.maxsize = maxsize
        self.delay = delay
    }

    public func main(on loop: EventLoop) async throws {
        let queue = Queue<Int?>(loop: loop, maxsize: maxsize)
        let (items, delay) = (self.items, self.delay)
        let consumerNames = ["A", "B"]
        let producer = loop.spawn("producer") {
            for item in 1...max(1, items) {
                try await queue.put(item)
                loop.print("put \(item)")
            }
            for _ in consumerNames { try await queue.put(nil) }
        }
        let consumers = consumerNames.map { name in
            loop.spawn("consumer") {
                while true {
                    guard let item = try await queue.get() else {
                        loop.print("\(name) stops")
                        return
                    }
                    loop.print("\(name) got \(item)")
                    try await loop.sleep(delay)
                }
            }
        }
        _ = try await loop.gather([producer] + consumers)
    }
}
