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
}
