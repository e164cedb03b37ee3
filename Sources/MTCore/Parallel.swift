import Foundation

/// Splits work over worker threads. Work is cut into contiguous chunks whose boundaries depend only on
/// the problem size and the thread count, so results are deterministic.
///
/// The thread count is context, not a global: `Parallel.threadCount` is a task-local value that the
/// command layer binds once from `--threads` (`Parallel.$threadCount.withValue(n) { ... }`) and tests
/// bind per test, so concurrent callers never see each other's setting. It is read on the calling
/// thread; the worker threads of one parallel loop do not start nested parallel loops.
public enum Parallel {
    /// Worker threads for compute; all cores unless bound by the caller.
    @TaskLocal public static var threadCount = ProcessInfo.processInfo.activeProcessorCount

    /// Calls `body` on disjoint ranges covering 0..<count, in parallel, at most one range per thread.
    /// Ranges are at least `minimumChunk` long so that tiny problems run on one thread.
    public static func forEachChunk(_ count: Int, minimumChunk: Int = 1, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let chunks = max(1, min(threadCount, count / max(1, minimumChunk)))
        if chunks == 1 {
            body(0..<count)
            return
        }
        withoutActuallyEscaping(body) { body in
            let work = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                work.value((chunk * count / chunks)..<((chunk + 1) * count / chunks))
            }
        }
    }

    /// Calls `body(i)` for every i in 0..<count, in parallel chunks.
    public static func forEach(_ count: Int, minimumChunk: Int = 1, _ body: (Int) -> Void) {
        forEachChunk(count, minimumChunk: minimumChunk) { range in
            for index in range { body(index) }
        }
    }

    /// Calls `body(task)` for task in 0..<tasks, handing tasks to threads dynamically (for uneven work).
    /// The caller must make the result independent of which thread ran which task.
    public static func forEachTask(_ tasks: Int, _ body: (Int) -> Void) {
        guard tasks > 0 else { return }
        let threads = threadCount
        if threads == 1 || tasks == 1 {
            for task in 0..<tasks { body(task) }
            return
        }
        let next = NextTask()
        withoutActuallyEscaping(body) { body in
            let work = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: min(threads, tasks)) { _ in
                while let task = next.take(below: tasks) { work.value(task) }
            }
        }
    }
}

/// A value handed to the worker threads of one parallel loop. The loops above give each worker disjoint
/// indices, which is what makes sharing the (non-Sendable) body and the buffers it captures safe; the
/// compiler cannot see that, so the claim is made here, in one place.
public struct UncheckedSendable<Value>: @unchecked Sendable {
    public let value: Value
    public init(_ value: Value) { self.value = value }
}

/// A shared counter handing out task numbers.
private final class NextTask: @unchecked Sendable {
    private var value = 0
    private let lock = NSLock()

    func take(below limit: Int) -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard value < limit else { return nil }
        value += 1
        return value - 1
    }
}
