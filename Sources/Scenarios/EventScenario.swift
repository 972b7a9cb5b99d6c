import Loop

/// `reference/event.py`: `main` prints the event's state, schedules `set_event` with
/// `call_later(1)` and gathers `coro1` and `coro2`, which wait on the event until the callback
/// sets it and wakes both.
public struct EventScenario: Scenario {
    public static let name = "event"
    public static let summary = "two tasks wait on one Event until a call_later callback sets it"

    /// How many `coroN` tasks wait on the event (2 in the reference program).
    public var waiters: Int
    /// When `set_event` runs, in seconds (1 in the reference program).
    public var delay: Double

    public init(waiters: Int = 2, delay: Double = 1) {
        self.waiters = waiters
        self.delay = delay
    }

    public func main(on loop: EventLoop) async throws {
        let event = Event(loop: loop)
        loop.print("event start state: \(pythonBool(event.isSet))")
        loop.callLater(delay, "set_event") {
            loop.print("setting event in callback")
            event.set()
        }
        let coroutines = (1...max(1, waiters)).map { index in
            loop.spawn("coro\(index)") {
                loop.print("coro\(index) waiting for event")
                try await event.wait()
                loop.print("coro\(index) triggered")
            }
        }
        _ = try await loop.gather(coroutines)
        loop.print("event end state: \(pythonBool(event.isSet))")
    }
}
