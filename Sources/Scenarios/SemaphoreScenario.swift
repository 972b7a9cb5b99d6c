import Loop

/// `reference/semaphore.py`: five downloads, at most two at a time; a Semaphore(2) admits them
/// in arrival order.
public struct SemaphoreScenario: Scenario {
    public static let name = "semaphore"
    public static let summary = "five downloads share a Semaphore(2): at most two run, the rest wait their turn"

    public var downloads: Int
    public var limit: Int
    public var delay: Double

    public init(downloads: Int = 5, limit: Int = 2, delay: Double = 0.3) {
        self.downloads = downloads
        self.limit = limit
        self.delay = delay
    }

    public func main(on loop: EventLoop) async throws {
        let semaphore = Semaphore(loop: loop, value: limit)
        let delay = self.delay
        let tasks = (1...max(1, downloads)).map { index in
            loop.spawn("download") {
                try await semaphore.withPermit {
                    loop.print("download \(index) starts")
                    try await loop.sleep(delay)
                    loop.print("download \(index) done")
                }
            }
        }
        _ = try await loop.gather(tasks)
    }
}
