import Foundation
@testable import Loop
import Testing
import Trace
@testable import Visualizer

/// The step gate the live screen puts in front of the loop: the loop thread blocks in it, the UI
/// thread lets it go.
@Suite("Step gate")
struct StepControllerTests {
    private let step = StepPreview(kind: .taskSlice, subject: .none, time: 0)

    /// Runs `beforeStep` on a thread of its own; the semaphore is signalled when it returns.
    private func stepOnAnotherThread(_ gate: StepController) -> DispatchSemaphore {
        let passed = DispatchSemaphore(value: 0)
        let step = step
        Thread { gate.beforeStep(step); passed.signal() }.start()
        return passed
    }

    @Test func releaseLetsGoALoopWaitingAtTheGate() {
        let gate = StepController(stepping: true)
        let passed = stepOnAnotherThread(gate)
        // It waits: no step was granted.
        #expect(passed.wait(timeout: .now() + 0.2) == .timedOut)
        #expect(gate.pendingStep == step)
        gate.release()
        #expect(passed.wait(timeout: .now() + 2) == .success)
        #expect(gate.pendingStep == nil)
    }

    @Test func aReleasedGateNeverHoldsTheLoopAgain() {
        let gate = StepController(stepping: true)
        gate.release()
        gate.enterStepMode()  // a key pressed while the session ends
        #expect(!gate.isStepping)
        #expect(stepOnAnotherThread(gate).wait(timeout: .now() + 2) == .success)
    }

    @Test func aTimeJumpWaitsLikeAStepAndItsGrantAlsoCoversThatStep() {
        let gate = StepController(stepping: true)
        let timer = StepPreview(kind: .timerFire, subject: .none, time: 1_000_000_000)
        let jumped = DispatchSemaphore(value: 0), fired = DispatchSemaphore(value: 0)
        Thread {
            gate.beforeTimeJump(timer)
            jumped.signal()
            gate.beforeStep(timer)  // the timer's own step: no second key
            fired.signal()
        }.start()
        #expect(jumped.wait(timeout: .now() + 0.2) == .timedOut)  // time stands still
        #expect(gate.pendingStep == timer)
        gate.grantStep()
        #expect(jumped.wait(timeout: .now() + 2) == .success)
        #expect(fired.wait(timeout: .now() + 2) == .success)
    }

    @Test func pausedOnFrozenTimeTheLoopDoesNotJumpToTheNextTimer() throws {
        // The loop itself: a task sleeps 1 s; in step mode the clock stays at 0 until a step.
        let gate = StepController(stepping: true)
        let loop = EventLoop(clock: VirtualClock())
        loop.stepGate = gate
        let times = TimesSeen()
        let thread = Thread {
            try? loop.run { try await loop.sleep(1); times.append(loop.time) }
        }
        thread.start()
        gate.grantStep()  // main's first slice
        var waited = 0
        while gate.pendingStep?.kind != .timerFire && waited < 200 { usleep(10_000); waited += 1 }
        #expect(gate.pendingStep?.time == 1_000_000_000)
        #expect(loop.clock.now() == 0)  // not jumped yet
        gate.runOn()
        waited = 0
        while times.values.isEmpty && waited < 200 { usleep(10_000); waited += 1 }
        #expect(times.values == [1.0])
    }
}

/// `@unchecked Sendable`: guarded by its lock.
final class TimesSeen: @unchecked Sendable {
    private let lock = NSLock()
    private var seen: [Double] = []
    func append(_ time: Double) { lock.withLock { seen.append(time) } }
    var values: [Double] { lock.withLock { seen } }
}
