import CLoopSystem
import Trace

/// Waiting for work when nothing is ready: the selector, the clock's jumps on virtual time, and the
/// step gate's preview of the timer it would fire. Loop thread only.
extension EventLoop {
    /// Nothing is ready: let time pass until the next deadline, I/O, or work from another thread.
    ///
    /// On a clock that does not flow (virtual, or live and frozen) time may jump to the next
    /// deadline only when no I/O can make anything ready first: the selector is polled without
    /// waiting; when fds are watched it then waits up to ``ioSettleMilliseconds`` of real time
    /// (a safety margin for I/O from outside the loop);
    /// only when nothing became ready does time jump. With no deadline at all, only I/O
    /// or another thread can help: the selector blocks.
    func waitForWork(until deadline: Int64?) {
        guard let selector else { return }
        if clock.flows {
            let timeout = PollTimeout.compute(hasReadyWork: false, stopping: false, nextDeadline: deadline, now: now, clock: clock)
            _ = pollAndQueue(timeout, whileClockFlows: true)
            return
        }
        if pollAndQueue(.now) { return }
        if pendingResolutions > 0 {
            // A resolver thread will answer (through the inbox): time must not jump before it.
            _ = pollAndQueue(.block)
            return
        }
        if selector.watchedCount > 0 && pollAndQueue(.milliseconds(Self.ioSettleMilliseconds)) { return }
        if let deadline {
            if let stepGate, let next = nextTimerStep(deadline) {
                // Step mode or paused: time jumps only when the user asks for the timer's step.
                stepGate.beforeTimeJump(next)
                if isStopping { return }
            }
            clock.jump(to: deadline)
        } else {
            _ = pollAndQueue(.block)
        }
    }

    /// The step the first live timer will make, as the step gate previews it.
    func nextTimerStep(_ deadline: Int64) -> StepPreview? {
        guard let first = timers.min else { return nil }
        switch first.action {
        case .wake(let box, _): return StepPreview(kind: .timerFire, subject: box.id, time: deadline)
        case .callback(let callback): return StepPreview(kind: .callback, subject: callback.id, time: deadline)
        }
    }

    /// How long a loop on virtual time waits for in-flight I/O before its clock jumps: a margin
    /// for peers outside the loop (another thread or process), whose sends it cannot follow.
    /// Between two of its own sockets, sends, ends and connects have landed before the loop
    /// polls (LoopbackSettling).
    /// A jump with idle sockets watched costs this much real time.
    static let ioSettleMilliseconds: Int32 = 20

    /// Polls the selector once and queues the handlers of the ready fds (reader before writer,
    /// in the kernel's order: asyncio's `_process_events`). A wait that may block is announced
    /// to other threads first, and written to the trace after. Returns whether anything became
    /// ready (I/O, work from another thread, a stop). `whileClockFlows`: a wait for a deadline
    /// in real time, which must not start once the clock was frozen (the freeze's signal only
    /// reaches a loop that announced its wait).
    func pollAndQueue(_ timeout: PollTimeout, whileClockFlows: Bool = false) -> Bool {
        guard let selector else { return false }
        var timeout = timeout
        let announced = timeout != .now
        if announced {
            let mayWait = selector.wakeup.prepareToWait {
                // Sequentially consistent, to pair with the store that announced the wait: a stop()
                // or a post() racing with it is then seen here or signals the wake-up.
                inboxCount.load(ordering: .sequentiallyConsistent) > 0
                    || lifecycle.load(ordering: .sequentiallyConsistent) == LoopState.stopping.rawValue
                    || (whileClockFlows && !clock.flows)
            }
            if !mayWait { timeout = .now }
        }
        let started = announced ? RealClock.monotonicNanoseconds() : 0
        let (events, woken) = selector.poll(timeout)
        if announced {
            selector.wakeup.doneWaiting()
            let end: PollEnd = !events.isEmpty ? .io : (woken ? .wakeup : .timeout)
            now = readClock()
            emit(.loopPolled, subject: .none, value: RealClock.monotonicNanoseconds() - started, detail: end.rawValue)
        }
        let before = ready.count
        for event in events {
            guard let registration = ioRegistrations[event.fd] else { continue }
            if !event.readiness.isDisjoint(with: [.readable, .error]), let reader = registration.reader {
                ready.append(.io(reader, event.readiness))
                emit(.ioQueued, subject: reader.socket, value: event.readiness.rawValue)
            }
            if !event.readiness.isDisjoint(with: [.writable, .error]), let writer = registration.writer {
                ready.append(.io(writer, event.readiness))
                emit(.ioQueued, subject: writer.socket, value: event.readiness.rawValue)
            }
        }
        takeInbox()
        return ready.count > before || woken || isStopping
    }
}
