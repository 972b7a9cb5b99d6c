import Loop
import Trace

extension LoopQueues {
    /// The loop as it was once a step had run: what the panel shows for "after step N", the same
    /// live, after stepping back, in a replay and in `--plain --loop-state`.
    ///
    /// When nothing was ready after step N the loop went to sleep (a `loopIdle` record); what it
    /// wrote on waking (timers come due, I/O handlers queued) belongs to the other side of that
    /// sleep. The state is therefore cut at the sleep: its timers are still pending and `sleep`
    /// says until when. Without the cut, a step followed by a sleep would show the timer already
    /// due at the step's time and no sleep at all, while the live screen had shown the timer.
    public struct AfterStep: Sendable, Equatable {
        public var queues: LoopQueues
        /// The entry the next step runs, taken off `queues`; nil when the loop sleeps first or the
        /// next step has not happened yet.
        public var next: Entry?
        /// The loop found nothing ready and went to sleep.
        public var sleep: Sleep?
    }

    public enum Sleep: Sendable, Equatable {
        /// Until this deadline (the first timer's), unless I/O or another thread comes first.
        case until(Int64)
        /// No timer: until I/O or another thread makes something ready.
        case untilWoken
    }

    /// The state after step `number` (0: before the first step; a step that left memory counts
    /// as the oldest retained one). O(retained records up to the next step).
    public static func after(step number: Int, in model: LaneModel) -> AfterStep {
        var queues = model.queuesAtFirstRecord
        var applied = model.firstRecordIndex
        return advance(&queues, applied: &applied, after: number, in: model)
    }

    /// The state after every retained step in turn (and before the first, when it is retained):
    /// O(retained records) in all.
    public static func afterEveryStep(in model: LaneModel, _ body: (Int, AfterStep) -> Void) {
        var queues = model.queuesAtFirstRecord
        var applied = model.firstRecordIndex
        for number in model.firstCursor...max(model.firstCursor, model.stepCount) {
            body(number, advance(&queues, applied: &applied, after: number, in: model))
        }
    }

    /// Applies the records up to step `number + 1` to `queues` (which holds the state at global
    /// record `applied`), and returns the state after step `number`: cut at the loop's sleep when
    /// one came between the two steps.
    private static func advance(_ queues: inout LoopQueues, applied: inout Int, after number: Int, in model: LaneModel) -> AfterStep {
        // Only a sleep after this step's own first record counts; earlier ones were earlier steps'.
        let start = model.hasStep(number) ? model.step(number).recordIndex : model.firstRecordIndex
        let end = model.hasStep(number + 1) ? model.step(number + 1).recordIndex : model.eventCount
        var cut: AfterStep?
        while applied < end {
            let record = model.record(at: applied)
            if cut == nil, applied >= start, record.kind == .loopIdle {
                cut = AfterStep(queues: queues, next: nil, sleep: record.value >= 0 ? .until(record.value) : .untilWoken)
            }
            queues.apply(record)
            applied += 1
        }
        if let cut { return cut }
        var state = AfterStep(queues: queues, next: nil, sleep: nil)
        if model.hasStep(number + 1) {
            let step = model.step(number + 1)
            state.next = state.queues.take(kind: step.kind.readyKind, subject: step.subject)
        }
        return state
    }
}
