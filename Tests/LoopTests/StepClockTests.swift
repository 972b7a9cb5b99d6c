import Foundation
import Testing
import Trace
@testable import Loop

/// The step clock: a step's end read off the CPU's counter between the passes' real-clock reads.
/// The arithmetic on made-up counter values (no waiting), then one real run.
struct StepClockTests {
    /// Counter values as a 2.5 GHz counter's: 0.4 ns a tick.
    @Test func itKnowsNoRateUntilItsBaselineIsLongEnough() {
        var clock = StepClock(enabled: true)
        let start: UInt64 = 1_000_000
        #expect(clock.anchor(read: 0, previous: 0, ticksBefore: start, ticksAfter: start + 10) == 0)
        #expect(!clock.isCalibrated)
        // 1 ms later: too short a baseline.
        _ = clock.anchor(read: 1_000_000, previous: 0, ticksBefore: start + 2_500_000, ticksAfter: start + 2_500_010)
        #expect(!clock.isCalibrated)
        // 2 ms: 5,000,000 ticks for 2,000,000 ns.
        _ = clock.anchor(read: 2_000_000, previous: 1_000_000, ticksBefore: start + 5_000_000, ticksAfter: start + 5_000_010)
        #expect(clock.isCalibrated)
        #expect(abs(clock.nanosPerTick - 0.4) < 1e-9)
        // 1,000 ns after the last anchor.
        #expect(clock.read(ticks: start + 5_000_005 + 2_500, previous: 2_000_000) == 2_001_000)
    }

    @Test func aPreemptedAnchorIsNotTrusted() {
        var clock = calibrated()
        let rate = clock.nanosPerTick
        // The thread lost the core between the counter reads: a pair far wider than the usual
        // 10 ticks is not used, not for the anchor and not for the rate; the pass still gets
        // the clock's time.
        let loose = StepClock.pairSlackTicks + 11
        #expect(clock.anchor(read: 9_000_000, previous: 2_000_000, ticksBefore: 50_000_000, ticksAfter: 50_000_000 + loose) == 9_000_000)
        #expect(clock.nanosPerTick == rate)
        // Reads still count from the last trusted anchor (2 ms at tick 6,000,005).
        #expect(clock.read(ticks: 6_000_005 + 25_000, previous: 0) == 2_010_000)
    }

    @Test func aLongStepReadsTheClock() {
        let clock = calibrated()
        // 1 ms of loop time is 2,500,000 ticks at 0.4 ns a tick: up to there the counter serves,
        // past it the clock is read (nil), so the rate's error never spans more than 1 ms.
        #expect(clock.read(ticks: 6_000_005 + 2_500_000, previous: 0) == 3_000_000)
        #expect(clock.read(ticks: 6_000_005 + 2_500_001, previous: 0) == nil)
    }

    @Test func timeNeverRunsBackwards() {
        var clock = calibrated()
        // A read before the last step's end (the rate rounded up a little) keeps that end.
        #expect(clock.read(ticks: 6_000_005, previous: 2_000_500) == 2_000_500)
        // A counter behind the anchor (it never should be) gives the anchor's time, not less.
        #expect(clock.read(ticks: 10, previous: 0) == 2_000_000)
        // A pass that starts before the interpolated end of the last step starts at that end.
        #expect(clock.anchor(read: 3_000_000, previous: 3_000_200, ticksBefore: 8_500_000, ticksAfter: 8_500_010) == 3_000_200)
    }

    @Test func itStaysOffWhereItWouldNotBeSound() {
        var clock = StepClock(enabled: false)
        for step in 0..<10 {
            let ticks = UInt64(step) * 10_000_000
            #expect(clock.anchor(read: Int64(step) * 4_000_000, previous: 0, ticksBefore: ticks, ticksAfter: ticks) == Int64(step) * 4_000_000)
        }
        #expect(!clock.isCalibrated && !clock.isEnabled)
        // Virtual time jumps: never a linear function of the counter. Real time is; the live
        // UI's clock is while it flows (its flow epoch says so).
        #expect(!StepClock(clock: VirtualClock()).isEnabled)
        #expect(StepClock(clock: LiveClock()).isEnabled == StepClock.counterIsSound)
        #expect(StepClock(clock: RealClock()).isEnabled == StepClock.counterIsSound)
    }

    @Test func aFreezeOrThawStartsANewBaseline() {
        var clock = calibrated()
        // Frozen (no epoch): the rate is forgotten, and the pass takes the clock's time.
        #expect(clock.anchor(read: 2_500_000, previous: 2_100_000, ticksBefore: 7_000_000, ticksAfter: 7_000_010, epoch: nil) == 2_500_000)
        #expect(!clock.isCalibrated)
        // Flowing again in epoch 2: a new baseline, 2 ms long before the rate is used, at the
        // same 0.4 ns a tick (loop time went on from 2.5 ms while the counter ran on too).
        _ = clock.anchor(read: 2_500_000, previous: 2_500_000, ticksBefore: 90_000_000, ticksAfter: 90_000_010, epoch: 2)
        #expect(!clock.isCalibrated && clock.epoch == 2)
        _ = clock.anchor(read: 4_500_000, previous: 2_500_000, ticksBefore: 95_000_000, ticksAfter: 95_000_010, epoch: 2)
        #expect(clock.isCalibrated && abs(clock.nanosPerTick - 0.4) < 1e-9)
        // Epoch 4 (frozen and thawed between two passes): forgotten again, baseline anew.
        _ = clock.anchor(read: 9_000_000, previous: 4_500_000, ticksBefore: 99_000_000, ticksAfter: 99_000_010, epoch: 4)
        #expect(!clock.isCalibrated && clock.epoch == 4)
    }

    @Test func aLiveClocksFlowEpochChangesAtEveryFreezeAndThaw() {
        let live = LiveClock()
        let flowing = live.flowEpoch
        #expect(flowing != nil)
        live.freeze()
        #expect(live.flowEpoch == nil)
        live.freeze()
        #expect(live.flowEpoch == nil)
        live.thaw()
        #expect(live.flowEpoch != nil && live.flowEpoch != flowing)
        #expect(LiveClock(flowing: false).flowEpoch == nil)
    }

    @Test func aRealRunsRecordsKeepTheirOrderAndStayWithTheClock() throws {
        // Long enough for the rate to be measured and used (a few milliseconds of yields).
        let started = ContinuousClock.now
        let ring = TraceRing(capacity: 1 << 20)
        let loop = EventLoop(clock: RealClock(), ring: ring)
        var records: [TraceRecord] = []
        try loop.run {
            // And at least 100 yields: a loaded machine can take the whole 10 ms from the thread.
            let start = loop.time
            var yields = 0
            while loop.time < start + 0.01 || yields < 100 {
                try await loop.sleep(0)
                yields += 1
            }
        }
        let wall = (ContinuousClock.now - started).components
        ring.drain { records.append($0) }
        // On a machine whose kernel keeps time with the TSC, the later steps were read off it.
        #expect(loop.stepClock.isCalibrated == StepClock.counterIsSound)
        #expect(records.count > 100)
        #expect(zip(records, records.dropFirst()).allSatisfy { $0.time <= $1.time })
        // The last record is stamped within the run's wall time, which bounds it from above.
        let wallNanos = wall.seconds * 1_000_000_000 + wall.attoseconds / 1_000_000_000
        #expect(records.last!.time >= 10_000_000 && records.last!.time <= wallNanos)
    }

    @Test func aLiveClockFrozenMidRunStopsTheStepsTimeAtOnce() throws {
        // The live screen's pause: the clock freezes while the loop runs (here from a task, so
        // that the moment is known). Every later step must read the frozen time, not go on
        // counting ticks.
        let live = LiveClock()
        let ring = TraceRing(capacity: 1 << 20)
        let loop = EventLoop(clock: live, ring: ring)
        final class Moment: @unchecked Sendable { var frozenAt: Int64? }
        let moment = Moment()
        try loop.run {
            // 5 ms of yields from now (the clock started before the ring was made, in a debug build),
            // longer while the step clock has no rate yet: on a loaded machine preempted anchors are
            // not trusted, and the rate's baseline takes longer to build (up to half a second).
            let start = loop.time
            while loop.time < start + 0.005
                || (StepClock.counterIsSound && !loop.stepClock.isCalibrated && loop.time < start + 0.5) {
                try await loop.sleep(0)
            }
            // The first of 500 tasks freezes time in the middle of a pass: the 499 steps after
            // it in that pass are where a step clock that missed the freeze would count on.
            let workers = (0..<500).map { index in
                loop.spawn("worker") {
                    for _ in 0..<2 {
                        if index == 0 && moment.frozenAt == nil {
                            live.freeze()
                            moment.frozenAt = live.now()
                        }
                        try await loop.sleep(0)
                    }
                }
            }
            _ = try await loop.gather(workers)
        }
        let frozenAt = try #require(moment.frozenAt)
        var records: [TraceRecord] = []
        ring.drain { records.append($0) }
        #expect(records.count > 2_000)
        #expect(zip(records, records.dropFirst()).allSatisfy { $0.time <= $1.time })
        // Within a microsecond of the frozen time: the rate's rounding, not 1,000 steps' worth.
        #expect(records.last!.time <= frozenAt + 1_000, "\(records.last!.time - frozenAt) ns past the freeze")
        #expect(!loop.stepClock.isCalibrated)
    }

    @Test func aFreezeAndThawWithinOneStepIsNoticed() throws {
        // Paused and resumed inside one step (a key pressed twice quickly): the epoch moved on by
        // two, the clock flows again, but loop time lost the paused stretch. The step's end must
        // come from the clock, not from ticks counted since the old anchor, which would put it
        // (and the records after it, which never go back) that stretch ahead of the clock. The
        // stretch is under the step clock's 1 ms cap, so only the epoch check can catch it, and
        // the run ends right after it, before the clock could catch up.
        let live = LiveClock()
        let ring = TraceRing(capacity: 1 << 20)
        let loop = EventLoop(clock: live, ring: ring)
        try loop.run {
            // 5 ms of yields from now (the clock started before the ring was made, in a debug build),
            // longer while the step clock has no rate yet: on a loaded machine preempted anchors are
            // not trusted, and the rate's baseline takes longer to build (up to half a second).
            let start = loop.time
            while loop.time < start + 0.005
                || (StepClock.counterIsSound && !loop.stepClock.isCalibrated && loop.time < start + 0.5) {
                try await loop.sleep(0)
            }
            // The counter is in use (where the kernel keeps time with it): what follows tests it.
            #expect(loop.stepClock.isCalibrated == StepClock.counterIsSound)
            live.freeze()
            let until = ContinuousClock.now.advanced(by: .microseconds(800))
            while ContinuousClock.now < until {}
            live.thaw()
        }
        let end = live.now()
        var records: [TraceRecord] = []
        ring.drain { records.append($0) }
        #expect(zip(records, records.dropFirst()).allSatisfy { $0.time <= $1.time })
        #expect(records.last!.time <= end, "\(records.last!.time - end) ns ahead of the clock")
    }

    /// A step clock that has measured 0.4 ns a tick, anchored at 2 ms (tick 6,000,005).
    private func calibrated() -> StepClock {
        var clock = StepClock(enabled: true)
        _ = clock.anchor(read: 0, previous: 0, ticksBefore: 1_000_000, ticksAfter: 1_000_010)
        _ = clock.anchor(read: 2_000_000, previous: 0, ticksBefore: 6_000_000, ticksAfter: 6_000_010)
        return clock
    }
}
