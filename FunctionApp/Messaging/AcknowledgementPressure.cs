namespace FunctionApp.Messaging;

/// <summary>What the callback route's enqueues looked like since the previous window was taken.</summary>
/// <param name="Enqueues">Enqueues that finished, succeeded or not.</param>
/// <param name="Failed">Enqueues that threw (the callback was answered with the platform's failure answer).</param>
/// <param name="Slowest">Longest of them; zero when there were none.</param>
public readonly record struct EnqueueLatencyWindow(int Enqueues, int Failed, TimeSpan Slowest);

/// <summary>
/// Shared by the standalone queue adapter, which records how long each callback's enqueue took, and the drain, which
/// reads a window of those figures before it starts more applies. Both run in one process against one account, so a
/// drain that loads the storage shows up here as slow acknowledgements.
/// </summary>
public sealed class EnqueueLatencyMonitor
{
    private readonly Lock _gate = new();
    private int _enqueues;
    private int _failed;
    private TimeSpan _slowest;

    public void Record(TimeSpan latency, bool succeeded)
    {
        lock (_gate)
        {
            _enqueues++;
            if (!succeeded)
            {
                _failed++;
            }

            if (latency > _slowest)
            {
                _slowest = latency;
            }
        }
    }

    /// <summary>The figures since the previous call, which starts a new window.</summary>
    public EnqueueLatencyWindow TakeWindow()
    {
        lock (_gate)
        {
            var window = new EnqueueLatencyWindow(_enqueues, _failed, _slowest);
            (_enqueues, _failed, _slowest) = (0, 0, TimeSpan.Zero);
            return window;
        }
    }
}

/// <summary>
/// How many batches the drain may apply at once, adapted to acknowledgement (additive increase, multiplicative
/// decrease): a window in which an enqueue failed or took longer than the target halves the limit, down to 0 (the
/// drain pauses); any other window, including one without callbacks, raises it by one up to the maximum. So the drain
/// backs off within one window of acknowledgement slowing down, and runs at full speed again a few windows after the
/// callbacks stop. Pure logic: the caller decides how long a window is.
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
        var congested = window.Failed > 0 || window.Slowest > LatencyTarget;
        Current = congested ? Current / 2 : Math.Min(Maximum, Current + 1);
        return Current;
    }
}
