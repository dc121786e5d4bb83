namespace FunctionApp.Messaging;

/// <summary>What the callback route's enqueues looked like since the previous window was taken.</summary>
/// <param name="Enqueues">Enqueues that finished in the window, succeeded or not.</param>
/// <param name="Failed">Enqueues that threw (the callback was answered with the platform's failure answer).</param>
/// <param name="Slowest">
/// Longest of those that finished, or the age of the oldest one still running if that is longer: an enqueue stuck
/// on a busy account is the first sign of one, long before it finishes; zero when there were none.
/// </param>
public readonly record struct EnqueueLatencyWindow(int Enqueues, int Failed, TimeSpan Slowest);

/// <summary>
/// Shared by the standalone queue adapter, which reports when each callback's enqueue starts and ends, and the drain,
/// which reads a window of those figures before it starts more applies. Both run in one process against one account,
/// so a drain that loads the storage shows up here as slow acknowledgements.
/// </summary>
public sealed class EnqueueLatencyMonitor(TimeProvider time)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<long, long> _startedAt = [];
    private long _nextTicket;
    private int _enqueues;
    private int _failed;
    private TimeSpan _slowest;

    /// <summary>An enqueue starts; pass the ticket to <see cref="Finished"/> when it ends, whatever happened.</summary>
    public long Started()
    {
        var now = time.GetTimestamp();
        lock (_gate)
        {
            var ticket = _nextTicket++;
            _startedAt.Add(ticket, now);
            return ticket;
        }
    }

    public void Finished(long ticket, bool succeeded)
    {
        var now = time.GetTimestamp();
        lock (_gate)
        {
            if (!_startedAt.Remove(ticket, out var startedAt))
            {
                return;
            }

            _enqueues++;
            if (!succeeded)
            {
                _failed++;
            }

            var latency = time.GetElapsedTime(startedAt, now);
            if (latency > _slowest)
            {
                _slowest = latency;
            }
        }
    }

    /// <summary>The figures since the previous call, which starts a new window.</summary>
    public EnqueueLatencyWindow TakeWindow()
    {
        var now = time.GetTimestamp();
        lock (_gate)
        {
            var slowest = _slowest;
            foreach (var startedAt in _startedAt.Values)
            {
                var running = time.GetElapsedTime(startedAt, now);
                if (running > slowest)
                {
                    slowest = running;
                }
            }

            var window = new EnqueueLatencyWindow(_enqueues, _failed, slowest);
            (_enqueues, _failed, _slowest) = (0, 0, TimeSpan.Zero);
            return window;
        }
    }
}

/// <summary>
/// How many batches the drain may apply at once, adapted to acknowledgement (additive increase, multiplicative
/// decrease). A window in which an enqueue took longer than the target halves the limit; one in which an enqueue
/// failed (a callback answered with a failure, perhaps an event the platform never sends again) stops the drain at
/// once. At 0 the drain starts nothing. Any other window, including one without callbacks, raises the limit by one
/// up to the maximum. So the drain backs off within one window of acknowledgement slowing down, and runs at full
/// speed again a few windows after the callbacks stop. Pure logic: the caller decides how long a window is.
/// </summary>
public sealed class DrainConcurrencyLimit
{
    public DrainConcurrencyLimit(int maximum, TimeSpan latencyTarget)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maximum, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(latencyTarget, TimeSpan.Zero);
        Maximum = maximum;
        LatencyTarget = latencyTarget;
        Current = maximum;
    }

    public int Maximum { get; }

    /// <summary>An enqueue slower than this counts as the drain getting in the way of acknowledgement.</summary>
    public TimeSpan LatencyTarget { get; }

    /// <summary>Applies allowed at once now; 0 means the drain starts none until a calm window.</summary>
    public int Current { get; private set; }

    /// <summary>Moves <see cref="Current"/> by one window's figures and returns it.</summary>
    public int Adjust(EnqueueLatencyWindow window)
    {
        Current = window.Failed > 0 ? 0
            : window.Slowest > LatencyTarget ? Current / 2
            : Math.Min(Maximum, Current + 1);
        return Current;
    }
}
