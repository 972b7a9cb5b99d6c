import Loop
import Scenarios
import Synchronization
import Testing
import Trace
@testable import Visualizer

/// The loop's state as the panel rebuilds it from the trace, held against the loop's real
/// queues (``EventLoop/debugSnapshot()``) before every step of every scenario.
@Suite("Loop state from the trace")
struct LoopQueuesTests {
    /// Before each step: drains what the loop wrote so far, rebuilds the state, takes off the
    /// entry about to run, and compares with the loop's own snapshot.
    final class ComparingGate: StepGate, @unchecked Sendable {
        // `@unchecked Sendable`: the loop thread is the only one that calls it.
        let ring: TraceRing
        weak var loop: EventLoop?
        var queues = LoopQueues()
        var mismatches: [String] = []
        var steps = 0

        init(ring: TraceRing) { self.ring = ring }

        func beforeStep(_ step: StepPreview) {
            guard let loop else { return }
            ring.drain { queues.apply($0) }
            var rebuilt = queues
            rebuilt.take(kind: step.kind.readyKind, subject: step.subject)
            steps += 1
            let real = loop.debugSnapshot()
            if rebuilt.snapshot != real, mismatches.count < 3 {
                mismatches.append("step \(steps) (\(step.kind) \(loop.names.name(step.subject))):\n  trace \(rebuilt.snapshot)\n  loop  \(real)")
            }
        }
    }

    @Test(arguments: [
        CountScenario() as any Scenario, EventScenario(), LockScenario(), SemaphoreScenario(), QueueScenario(),
        TimeoutScenario(), BlockingScenario(), EchoScenario(),
    ])
    func theStateRebuiltFromTheTraceIsTheLoopsOwnAtEveryStep(scenario: any Scenario) throws {
        let ring = TraceRing(capacity: 1 << 16)
        let loop = EventLoop(clock: VirtualClock(), ring: ring)
        let gate = ComparingGate(ring: ring)
        gate.loop = loop
        loop.stepGate = gate
        try scenario.run(on: loop)
        #expect(gate.steps > 5)
        #expect(gate.mismatches.isEmpty, "\(gate.mismatches.joined(separator: "\n"))")
    }

    @Test func theEventScenarioShowsTheWaitersAndTheTimerThatWillSetTheEvent() throws {
        let model = try Runs.model(EventScenario())
        // Step 4 is set_event's timer callback: before it, both coros wait on Event#1.
        let (queues, next) = LoopQueues.before(step: 4, in: model)
        let names = model.names
        #expect(next.map { names.name($0.subject) } == "set_event")
        #expect(queues.ready.isEmpty)
        let event = try #require(queues.waiters.keys.first { names.name($0).hasPrefix("Event#") })
        #expect(queues.waiters[event]?.map(names.name) == ["coro1#1", "coro2#1"])
        #expect(queues.waiters.values.contains { $0.map(names.name) == ["main"] })  // main awaits its children
        // After set_event ran: both coros ready, woken by set_event through Event#1.
        let after = LoopQueues.before(step: 5, in: model)
        #expect(after.next.map { names.name($0.subject) } == "coro1#1")
        #expect(after.queues.ready.map { names.name($0.subject) } == ["coro2#1"])
        #expect(after.queues.ready.first?.cause == .eventSet)
        #expect(after.queues.ready.first.map { names.name($0.waker) } == "set_event")
    }

    @Test func theLockScenarioShowsWhoHoldsTheLockAndWhoWaits() throws {
        let model = try Runs.model(LockScenario())
        let names = model.names
        // Once the three workers have run their first slice: worker#1 holds, two wait.
        let firstSleep = try #require(model.steps.indices.first { index in
            let queues = LoopQueues.before(step: index + 1, in: model).queues
            return queues.waiters.values.contains { $0.count == 2 }
        })
        let (queues, next) = LoopQueues.before(step: firstSleep + 1, in: model)
        let lock = try #require(queues.holders.keys.first)
        #expect(names.name(lock) == "Lock#1")
        #expect(queues.holders[lock]?.map(names.name) == ["worker#1"])
        #expect(queues.waiters[lock]?.map(names.name) == ["worker#2", "worker#3"])
        // Nothing else can run: the loop sleeps until worker#1's timer, which it fires next.
        #expect(queues.ready.isEmpty && queues.timers.isEmpty)
        #expect(next?.kind == .timer && next.map { names.name($0.subject) } == "worker#1")
        // One step earlier, that timer was still pending.
        let earlier = LoopQueues.before(step: firstSleep, in: model).queues
        #expect(earlier.timers.map { names.name($0.subject) } == ["worker#1"])
    }
}

extension LoopQueuesTests {
    @Test func gatherNamesTheTaskItStillAwaitsOnceTheFirstHasFinished() throws {
        let model = try Runs.model(LockScenario())
        let main = try #require(model.lanes.first { $0.name == "main" })
        let awaited = model.segments(of: main).compactMap { segment -> String? in
            if case .awaiting(let child) = segment.state { return model.names.name(child) }
            return nil
        }
        #expect(awaited == ["worker#1", "worker#2", "worker#3"])
    }
}

@Suite("Loop state panel")
struct LoopStatePanelTests {
    @Test func thePanelSaysWhatRunsNextWhyAndWhatWaits() throws {
        let model = try Runs.model(EventScenario())
        // After step 3 both coros wait on the event; the loop sleeps until set_event's timer,
        // which is still pending (not already due at t=0, as a replay past the sleep had it).
        let (title, lines) = LoopStatePanel.lines(model: model, after: 3)
        #expect(title == "the loop after step 3")
        #expect(lines.first == "next: sleep until t=1.000, then: call set_event (its timer is due)")
        #expect(lines.contains("  +1.000s  t=1.000  calls set_event"))
        #expect(lines.contains("  Event#1: coro1#1, coro2#1"))
        #expect(lines.contains("  main awaits coro1#1"))
        // After set_event: both coros are ready, and the panel says who woke them and how.
        let after = LoopStatePanel.lines(model: model, after: 4).lines
        #expect(after.first == "next: run coro1#1 — event set by set_event via Event#1; 1 more after it")
        #expect(after.contains("  run coro2#1 — event set by set_event via Event#1"))
        // Past the end: the run is over.
        #expect(LoopStatePanel.lines(model: model, after: model.steps.count).lines.first == "the run is over")
    }

    @Test func timersShowWhenTheyFireRelativeToTheStep() throws {
        let model = try Runs.model(CountScenario())
        // After two count slices: two sleep timers, 1 s from now, and count#3 about to run.
        let lines = LoopStatePanel.lines(model: model, after: 3).lines
        #expect(lines.first == "next: run count#3 — new task, spawned by main; nothing else ready")
        #expect(lines.contains("  +1.000s  t=1.000  wakes count#1 (sleep)"))
        #expect(lines.contains("  +1.000s  t=1.000  wakes count#2 (sleep)"))
        // Once all three sleep, the loop has nothing to run: it sleeps until the first timer,
        // and the three timers are still pending until then.
        let asleep = LoopStatePanel.lines(model: model, after: 4).lines
        #expect(asleep.first == "next: sleep until t=1.000, then: fire count#1's sleep timer (due); 2 more due then")
        #expect(asleep.contains("  +1.000s  t=1.000  wakes count#3 (sleep)"))
        #expect(!asleep.contains { $0.hasPrefix("ready queue") })
        // On waking the timers are due: they are the ready queue after the first one fired.
        let woken = LoopStatePanel.lines(model: model, after: 5).lines
        #expect(woken.first == "next: fire count#2's sleep timer (due); 2 more after it")
    }

    @Test func thePanelAfterAStepIsTheSameLiveSteppedBackAndInPlainOutput() throws {
        // Live in step mode, the loop stops at its sleep before worker#1's timer (the gate's
        // preview); the same step seen later from the history must read the same.
        let full = try Runs.model(LockScenario())
        let asleep = try #require((1...full.stepCount).first { LoopQueues.after(step: $0, in: full).sleep != nil })
        var live = LaneModel(names: full.names)
        let end = full.step(asleep + 1).recordIndex
        // The records the loop had written when it stopped at the gate: up to and with its sleep.
        let idle = try #require((full.step(asleep).recordIndex..<end).first { full.record(at: $0).kind == .loopIdle })
        for record in full.records(in: full.firstRecordIndex..<(idle + 1)) { live.apply(record) }
        let preview = StepPreview(kind: .timerFire, subject: full.step(asleep + 1).subject, time: full.step(asleep + 1).time)
        let atTheEdge = LoopStatePanel.lines(model: live, after: asleep, pending: StepDescription.describe(preview: preview, names: live.names),
                                             pendingPreview: preview).lines
        let steppedBack = LoopStatePanel.lines(model: full, after: asleep).lines
        #expect(atTheEdge == steppedBack)
        #expect(steppedBack.first == "next: sleep until t=0.500, then: fire worker#1's sleep timer (due)")
        #expect(steppedBack.contains("  +0.500s  t=0.500  wakes worker#1 (sleep)"))
        // --plain --loop-state prints the same lines under that step.
        let plain = LoopStatePanel.everyStep(full)
        let section = plain.components(separatedBy: "\nstep \(asleep): ")[1].components(separatedBy: "\nstep ")[0]
        #expect(Array(section.split(separator: "\n").dropFirst().map { String($0.dropFirst(2)) }) == steppedBack)
    }

    @Test func theLoopStateKeyTogglesThePanelInPlaceOfTheLog() throws {
        let model = try Runs.model(LockScenario())
        var view = Runs.view("lock", axis: .step)
        view.cursor = 5
        let log = ScreenLayout.screen(model: model, view: view, width: 100, height: 24).text
        #expect(log.contains("── output"))
        _ = view.applyViewAction(.toggleLoopState, model: model)
        let panel = ScreenLayout.screen(model: model, view: view, width: 100, height: 24).text
        #expect(panel.contains("the loop after step 5"))
        #expect(panel.contains("Lock#1 held by worker#1; waiting: worker#2, worker#3"))
        #expect(KeyMap.action(for: KeyCode.key(Int32(UInt8(ascii: "w")))!) == .toggleLoopState)
    }
}

@Suite("Wake-up arrows")
struct WakeArrowTests {
    @Test func inStepOrderAConnectorLinksTheWakerToTheWokenLane() throws {
        let model = try Runs.model(EventScenario())
        let grid = ScreenLayout.plain(model: model, view: Runs.view("event", axis: .step), width: 72)
        let rows = grid.text.split(separator: "\n").map { Array(String($0).unicodeScalars) }
        func row(_ name: String) throws -> [Unicode.Scalar] { try #require(rows.first { String(String.UnicodeScalarView($0)).hasPrefix(name + " ") }) }
        // coro2#1 finishing wakes main three lanes up: the connector crosses set_event's lane in
        // that step's column, and does not cover coro1#1's ✓ there.
        let main = try row("main"), setEvent = try row("set_event"), coro1 = try row("coro1#1")
        let column = try #require(main.firstIndex(of: "↲"))
        #expect(setEvent[column] == "│")
        #expect(coro1[column] == "✓")
        // On the time axis there are no connectors.
        let time = ScreenLayout.plain(model: model, view: Runs.view("event"), width: 72).text
        #expect(!time.split(separator: "\n").dropFirst(2).contains { $0.contains("│") })
    }

    @Test func selectingALaneHighlightsWhoWokeItAndWhomItWoke() throws {
        let model = try Runs.model(EventScenario())
        var view = Runs.view("event")
        view.selectedLane = try #require(model.lanes.firstIndex { $0.name == "coro2#1" })
        let grid = ScreenLayout.screen(model: model, view: view, width: 80, height: 20)
        func labelStyle(_ name: String) throws -> CellStyle {
            let row = try #require((0..<grid.height).first { row in
                String(String.UnicodeScalarView((0..<name.count).map { grid[row, $0].glyph })) == name && grid[row, name.count].glyph == " "
            })
            return grid[row, 0].style
        }
        #expect(try labelStyle("set_event") == .wake)  // it woke coro2#1
        #expect(try labelStyle("main") == .marker)  // coro2#1 woke it
        #expect(try labelStyle("coro1#1") == .dim)  // unrelated (and done)
    }
}

extension LoopStatePanelTests {
    @Test func liveDuringAStallThePanelSaysTheLoopIsHeldAndTheLanesShowWhoIsDue() throws {
        // The blocking scenario's records up to the blocker's long slice, not its end: as live.
        let full = try Runs.model(BlockingScenario())
        let slow = try #require(full.slowSteps.first)
        var model = LaneModel(names: full.names)
        for record in full.records[..<(full.steps[slow.step - 1].recordIndex + 1)] { model.apply(record) }
        let now: Int64 = 550_000_000
        let lines = LoopStatePanel.lines(model: model, after: model.steps.count, liveNow: now).lines
        #expect(lines.first == "running: blocker#1 since t=0.150 (400 ms): nothing else can run until it yields")
        #expect(lines.contains("  overdue meanwhile: wakes ticker#1 (sleep) was due at t=0.200"))
        #expect(lines.contains("  overdue 0.350s  t=0.200  wakes ticker#1 (sleep)"))
        var view = Runs.view("blocking")
        view.mode = .live
        view.now = now
        let rows = Runs.laneRows(ScreenLayout.plain(model: model, view: view, width: 80))
        #expect(rows["ticker#1"]?.hasSuffix("▒▒▒") == true)  // due and waiting, drawn while it waits
    }
}
