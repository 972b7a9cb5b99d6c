import Loop

/// `reference/timeout.py`: `wait_for` gives a slow task 0.5 s; at the deadline the task is
/// cancelled (it runs its clean-up) and main sees the timeout.
public struct TimeoutScenario: Scenario {
    public static let name = "timeout"
    public static let summary = "wait_for gives a slow task 0.5 s, then cancels it: cancellation runs its clean-up"

    public var timeout: Double
    /// How long the slow task would take.
    public var work: Double

    public init(timeout: Double = 0.5, work: Double = 2) {
        self.timeout = timeout
        self.work = work
    }

    public func main(on loop: EventLoop) async throws {
        let work = self.work
        // wait_for(slow(), timeout): the timer is armed, then slow() becomes a task.
        let slow: @Sendable () async throws -> Void = {
            loop.print("slow started")
            do {
                try await loop.sleep(work)
                loop.print("slow finished")
            } catch let error as CancelledError {
                loop.print("slow cancelled")
                throw error
            }
        }
        do {
            try await loop.waitFor(timeout: timeout, name: "slow", slow)
        } catch is TimeoutError {
            loop.print("timed out after \(Self.seconds(timeout)) s")
        }
    }

    /// `0.5` as Python prints it in the reference program's message.
    static func seconds(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : "\(value)"
    }
}
